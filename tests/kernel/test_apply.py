#!/usr/bin/python3
"""Kernel tests of `pinhole apply` and `pinhole status` (netlink, no nft at run time).

  - apply of every example, kernel test policy and golden case gives the same ruleset as `pinhole compile | nft -f`
    (identical `nft list table`, identical bytecode, `pinhole status` matching in both) and the
    same kernel verdicts on the same random packets; the test policies' known traffic passes
    or not as it should after an apply (FTP through the helpers included);
  - so does apply of a generated policy of 10,000 entries (`make bench`'s), first and again over
    itself: the same `nft list ruleset` and bytecode, every element with its comment;
  - the same for every library app (both roles, gateway; stateful and stateless), each
    loaded over the previous table;
  - a batch the kernel rejects (a helper type/protocol pair it lacks, or a fault injected with
    PINHOLE_TEST_REJECT_LINE into the test build, build/pinhole-faults) changes nothing, and the
    error names the policy line; the shipping binary ignores that variable;
  - --confirm: no confirmation (timeout, end of input, SIGTERM, "no") restores the previous
    table (or its absence), "yes" or SIGUSR1 keeps the new one;
  - the lockout guard, with SSH_CONNECTION set to a session between the test namespaces,
    refuses a policy that cuts it and accepts one that keeps it; a real TCP session shows the
    guard's judgement is the kernel's;
  - --dry-run and status change nothing;
  - other tables in the namespace are untouched by every operation.
Needs the compiler ($PINHOLE or build/pinhole); skipped without it (exit 77). The injected
fault needs the test build ($PINHOLE_FAULTS or build/pinhole-faults); skipped without it.
"""
import concurrent.futures
import glob
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as D  # noqa: E402
import ktest  # noqa: E402
import nsnet as N  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = D.REPO
BIN = D.pinhole_binary()
# The fault injector is compiled only into this test build (make build/pinhole-faults).
FAULTS = os.environ.get("PINHOLE_FAULTS") or os.path.join(REPO, "build", "pinhole-faults")
N_PACKETS = int(os.environ.get("PH_DIFF_N", "300"))
SEED = int(os.environ.get("PH_DIFF_SEED", "1"))
MAKE = {"host": N.host_topology, "gateway": N.gateway_topology}

# Tables of other software that every operation must leave alone. The conntrack use also makes
# the kernel track connections from the start (the lockout session test relies on it).
OTHERS = """
table ip other {
    set blocked { type ipv4_addr; elements = { 198.51.100.1 } }
    chain c {
        type filter hook input priority 50; policy accept;
        ip saddr @blocked counter drop
        ct state established counter accept
    }
}
table inet keep {
    chain k {
        tcp dport 9 accept comment "not pinhole's"
    }
}
"""


def pinhole(*args, input=None, timeout=120, env=None, binary=None):
    e = dict(os.environ)
    e.pop("SSH_CONNECTION", None)  # the test's own session must not trip the guard
    e.pop("PINHOLE_TEST_REJECT_LINE", None)
    e.update(env or {})
    return subprocess.run([binary or BIN, *args], input=input, capture_output=True, text=True,
                          timeout=timeout, env=e)


def listing(ns, table="inet pinhole"):
    """`nft list table` text without counter values, or None when the table does not exist.
    The elements of dynamic sets are left out: the packet path fills them (a per-source
    limit's meter learns each namespace's own link-local addresses), as status ignores them."""
    r = N.ns_run(ns, ["nft", "--stateless", "list", "table", *table.split()], check=False)
    if r.returncode:
        return None
    out, in_set, dynamic, skipping = [], [], False, False
    for line in r.stdout.splitlines(keepends=True):
        st = line.strip()
        if st.startswith("set ") and st.endswith("{"):
            in_set, dynamic = [line], False
            continue
        if in_set:
            if "flags dynamic" in st:
                dynamic = True
            if skipping or (dynamic and st.startswith("elements = {")):
                skipping = not st.endswith("}") or st == "elements = {"
                if st.startswith("elements = {") and st.endswith("}"):
                    skipping = False
                continue
            in_set.append(line)
            if st == "}":
                out += in_set
                in_set = []
            continue
        out.append(line)
    return "".join(out)


def dynamic_sets(ns):
    """Names of the table's sets the packet path fills (flags dynamic)."""
    r = N.ns_run(ns, ["nft", "list", "table", "inet", "pinhole"])  # (-j leaves out "dynamic")
    return set(re.findall(r"^\tset (\S+) \{\n(?:\t\t[^\n]*\n)*?\t\tflags dynamic", r.stdout, re.M))


def bytecode(ns):
    """The table's rules and set elements as the kernel holds them (nft --debug=netlink),
    with the kernel's anonymous set numbers and rule handles taken out, elements sorted
    (hash sets list in any order)."""
    dyn = dynamic_sets(ns)
    r = N.ns_run(ns, ["nft", "--debug=netlink", "list", "table", "inet", "pinhole"])
    text = r.stdout.split("\ntable inet pinhole {")[0]
    text = re.sub(r"__set\d+", "__setN", text)
    text = re.sub(r"^(inet pinhole \S+) \d+( \d+)?$", r"\1", text, flags=re.M)
    blocks, cur = [], []
    for line in text.splitlines():
        if not line.startswith(("\t", " ")) and cur:
            blocks.append(cur)
            cur = []
        cur.append(line)
    if cur:
        blocks.append(cur)
    # a dynamic set's elements are what the packet path learnt (see listing)
    blocks = [b[:1] + [ln for ln in b[1:] if "element" not in ln]
              if b[0].startswith("inet pinhole @") and b[0].split("@", 1)[1] in dyn else b
              for b in blocks]
    return "\n".join("\n".join(b[:1] + (sorted(b[1:]) if "element" in "".join(b[1:2]) else b[1:]))
                     for b in blocks)


def others(ns):
    return (listing(ns, "ip other"), listing(ns, "inet keep"))


def with_others(topo):
    N.load_nft(topo.firewall, OTHERS)
    return others(topo.firewall)


def policy_topology(path):
    """The topology a policy is written for: its "# kernel-topology:" line, else gateway when
    it names the gateway topology's interfaces."""
    with open(path) as f:
        text = f.read()
    for line in text.splitlines():
        if line.startswith("# kernel-topology:"):
            return line.split(":", 1)[1].strip()
    return "gateway" if re.search(r"interface\s+lan0", text) else "host"


def write_policy(tmp, name, text):
    p = os.path.join(tmp, name)
    with open(p, "w") as f:
        f.write(text)
    return p


# --------------------------------------------------------------------------- apply == nft -f

def equivalence(suite, name, path, kind):
    with MAKE[kind]() as a, MAKE[kind]() as b:
        keep_a, keep_b = with_others(a), with_others(b)
        N.load_nft(a.firewall, D.compile_policy(path))
        r = pinhole("apply", "--netns", b.firewall, path)
        if not suite.expect(f"{name}: apply exits 0", r.returncode, 0):
            print(r.stderr, flush=True)
            return
        suite.check(f"{name}: apply reports what it loaded", "applied " in r.stdout, r.stdout)
        la, lb = listing(a.firewall), listing(b.firewall)
        suite.check(f"{name}: nft list table is identical to compile | nft -f", la == lb,
                    f"\n--- nft -f\n{la}\n--- apply\n{lb}")
        ba, bb = bytecode(a.firewall), bytecode(b.firewall)
        suite.check(f"{name}: kernel bytecode and set elements identical", ba == bb,
                    first_difference(ba, bb))
        for label, t in (("nft -f", a), ("apply", b)):
            s = pinhole("status", "--netns", t.firewall, path)
            suite.check(f"{name}: status matches after {label}", s.returncode == 0 and
                        "matches" in s.stdout, s.stdout + s.stderr)
        suite.expect(f"{name}: other tables untouched by apply", others(b.firewall), keep_b)
        suite.expect(f"{name}: other tables untouched by nft -f", others(a.firewall), keep_a)
        # the same random packets through both
        verdicts = []
        for t in (a, b):
            D._quiet_icmp_ratelimit(t.firewall)
            N.install_probe(t.firewall)
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            futs = [ex.submit(lambda t: D.kernel_verdicts(t, D.generate(t, N_PACKETS, SEED))[0], t)
                    for t in (a, b)]
            verdicts = [f.result() for f in futs]
        pk = D.generate(a, N_PACKETS, SEED)
        bad = [f"{p.explain_line()}: nft -f {x}, apply {y}"
               for p, x, y in zip(pk, verdicts[0], verdicts[1]) if x != y]
        counts = {v: verdicts[1].count(v) for v in ("accept", "drop", "reject")}
        suite.check(f"{name}: same verdicts on {N_PACKETS} random packets ({counts})", not bad,
                    "\n  ".join(bad[:20]))


def large(suite, tmp, n=10000):
    """A policy of n entries (tests/perf/gen.py, as `make bench` loads it): after `pinhole
    apply`, and again after a second apply over the loaded table (a reload), the kernel holds
    what `pinhole compile | nft -f` gives, rule for rule and element for element."""
    path = os.path.join(tmp, f"entries-{n}.pin")
    with open(path, "w") as f:
        subprocess.run([sys.executable, os.path.join(REPO, "tests", "perf", "gen.py"), "pin", "entries",
                        str(n)], stdout=f, check=True)
    with N.host_topology() as a, N.host_topology() as b:
        N.load_nft(a.firewall, D.compile_policy(path))
        ruleset_a = N.ns_run(a.firewall, ["nft", "--stateless", "list", "ruleset"]).stdout
        ba = bytecode(a.firewall)
        for load in ("first", "reload"):
            r = pinhole("apply", "--netns", b.firewall, path)
            if not suite.expect(f"{n:,} entries, {load} apply exits 0", r.returncode, 0):
                print(r.stderr, flush=True)
                return
            ruleset_b = N.ns_run(b.firewall, ["nft", "--stateless", "list", "ruleset"]).stdout
            suite.check(f"{n:,} entries, {load} apply: nft list ruleset is identical to compile | nft -f",
                        ruleset_a == ruleset_b, first_difference(ruleset_a, ruleset_b))
            bb = bytecode(b.firewall)
            suite.check(f"{n:,} entries, {load} apply: kernel bytecode and set elements identical",
                        ba == bb, first_difference(ba, bb))
            suite.check(f"{n:,} entries, {load} apply: every element keeps its comment",
                        ruleset_b.count(' comment "') >= n, f"{ruleset_b.count(' comment ')} comments")
        s = pinhole("status", "--netns", b.firewall, path)
        suite.check(f"{n:,} entries: status matches after apply", s.returncode == 0 and "matches" in s.stdout,
                    s.stdout + s.stderr)
        if n == 10000 and os.path.basename(BIN) == "pinhole":  # the plain build, not a sanitizer's
            rss = peak_rss([BIN, "apply", "-q", "--netns", b.firewall, path])
            suite.check(f"{n:,} entries: apply peaks at most {APPLY_RSS_KB:,} KB of RSS", 0 < rss <= APPLY_RSS_KB,
                        f"{rss:,} KB")


# apply gives up each rule statement once expanded and the front before the netlink objects are
# built (live_compile), as compile does: 12.9-14.7 MB at 10,000 entries, 20.8-22.4 MB before. A
# bound on memory, not on time; the heap grows in huge pages (heap_hint.c), so it moves by 2 MB.
APPLY_RSS_KB = 17000


def peak_rss(argv):
    """The command's peak RSS in KB (-1 if it failed): tests/peak_rss.py, as tests/cli does."""
    r = subprocess.run([sys.executable, "-S", "-I", os.path.join(REPO, "tests", "peak_rss.py"), *argv],
                       capture_output=True, text=True)
    return int(r.stdout) if r.stdout.strip() else -1


def first_difference(a, b):
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}:\n  nft -f: {x}\n  apply:  {y}"
    return f"lengths {len(la)} vs {len(lb)}"


def traffic(suite, name, path, kind, probes):
    """The known traffic of a test policy (test_compiler.TRAFFIC, whose expectations that file
    checks) gets the same outcome after `pinhole apply` as after `compile | nft -f`."""
    with MAKE[kind]() as a, MAKE[kind]() as b:
        N.load_nft(a.firewall, D.compile_policy(path))
        r = pinhole("apply", "--netns", b.firewall, path)
        if not suite.expect(f"{name} traffic: apply exits 0", r.returncode, 0):
            print(r.stderr, flush=True)
            return
        for t in (a, b):
            N.install_probe(t.firewall)
        with concurrent.futures.ThreadPoolExecutor(32) as ex:
            futs = [(pn, ex.submit(fn, a), ex.submit(fn, b)) for pn, fn, _ in probes]
        for pn, fa, fb in futs:
            try:
                want = fa.result()
                suite.expect(f"{name} traffic: {pn}: as with nft -f ({want})", fb.result(), want)
            except Exception as e:
                suite.error(f"{name} traffic: {pn}", e)


def library_apps(suite, tmp):
    """Every library app in both host roles and on a gateway (the golden per-app policy),
    stateful and stateless, loaded one after the other over the previous table both ways:
    the same listing and bytecode, and status agrees."""
    apps = []
    for f in sorted(glob.glob(os.path.join(REPO, "stdlib-apps", "*.pin"))):
        with open(f) as fh:
            apps += re.findall(r"^app ([A-Za-z_][A-Za-z0-9_.-]*)", fh.read(), flags=re.M)
    with N.host_topology() as a, N.host_topology() as b:
        keep = with_others(b)
        for app in apps:
            path = write_policy(tmp, f"app-{app}.pin",
                                "zone lan { interface lan0; address 10.1.0.0/24, fd00:1::/64; }\n"
                                "zone wan { interface \"wan*\"; }\n"
                                f"allow {app} client;\n"
                                f"allow {app} server from 192.0.2.0/24, 2001:db8::/64;\n"
                                f"allow {app} from lan to wan;\n")
            for mode in ("--stateful", "--stateless"):
                name = f"library app {app} {mode[2:]}"
                r = subprocess.run([BIN, mode, "compile", path], capture_output=True, text=True)
                N.load_nft(a.firewall, r.stdout)
                r = pinhole(mode, "apply", "--netns", b.firewall, path)
                st = pinhole(mode, "status", "--netns", b.firewall, path)
                la, lb = listing(a.firewall), listing(b.firewall)
                ba, bb = bytecode(a.firewall), bytecode(b.firewall)
                suite.check(f"{name}: apply = nft -f (listing, bytecode, status)",
                            r.returncode == 0 and la == lb and ba == bb and st.returncode == 0,
                            f"apply {r.returncode} {r.stderr[-300:]}; status {st.returncode} "
                            f"{st.stdout[-300:]}; listing same {la == lb}; "
                            f"bytecode: {first_difference(ba, bb) if ba != bb else 'same'}")
        suite.expect("library apps: other tables untouched", others(b.firewall), keep)


# --------------------------------------------------------------------------- rejection

def rejection(suite, tmp):
    bad = write_policy(tmp, "badhelper.pin",
                       "allow ssh server;\n"
                       "app ftpu \"FTP over UDP, which no kernel helper speaks\" {\n"
                       "    flow c: client -> server udp dport 21 helper \"ftp\";\n"
                       "}\n"
                       "allow ftpu client;\n")
    good = os.path.join(REPO, "examples", "workstation.pin")
    with N.host_topology() as t:
        fw = t.firewall
        keep = with_others(t)
        # nothing loaded before: a rejected apply leaves nothing behind
        r = pinhole("apply", "--netns", fw, bad)
        suite.expect("rejected on a fresh host: exit 1", r.returncode, 1)
        suite.check("rejected on a fresh host: the error names the policy line",
                    f"{bad}:5:1: error: the kernel rejected" in r.stderr, r.stderr)
        suite.check("rejected on a fresh host: names the helper object",
                    "conntrack helper object 'ph_ftp_udp'" in r.stderr, r.stderr)
        suite.expect("rejected on a fresh host: no pinhole table", listing(fw), None)
        suite.expect("rejected on a fresh host: other tables untouched", others(fw), keep)

        suite.expect("previous ruleset: workstation applies", pinhole("apply", "--netns", fw,
                                                                      good).returncode, 0)
        before = listing(fw)
        r = pinhole("apply", "--netns", fw, bad)
        suite.expect("kernel lacks the helper: exit 1", r.returncode, 1)
        suite.check("kernel lacks the helper: says nothing changed",
                    "nothing was changed" in r.stderr, r.stderr)
        suite.expect("kernel lacks the helper: previous table in place", listing(fw), before)
        suite.expect("kernel lacks the helper: other tables untouched", others(fw), keep)
        st = pinhole("status", "--netns", fw, good)
        suite.expect("kernel lacks the helper: status still matches the previous policy",
                     st.returncode, 0)

        # a fault injected into one rule of a policy that is otherwise fine (test build only)
        fs = os.path.join(REPO, "examples", "fileserver.pin")
        fault = {"PINHOLE_TEST_REJECT_LINE": "6"}
        if not (os.path.isfile(FAULTS) and os.access(FAULTS, os.X_OK)):
            suite.skip("injected fault", f"no test build at {FAULTS} (make build/pinhole-faults, "
                                         f"or set PINHOLE_FAULTS)")
        else:
            r = pinhole("apply", "--netns", fw, fs, env=fault, binary=FAULTS)
            suite.expect("injected fault: exit 1", r.returncode, 1)
            suite.check("injected fault: error at the policy line of the rejected rule",
                        f"{fs}:6:1: error: the kernel rejected a rule in chain input for "
                        f"'allow ssh, ping server from office'" in r.stderr, r.stderr)
            suite.expect("injected fault: previous table in place", listing(fw), before)
            r = pinhole("apply", "--dry-run", "--netns", fw, fs, env=fault, binary=FAULTS)
            suite.check("injected fault, dry run: reported against the line too",
                        r.returncode == 1 and f"{fs}:6:1: error" in r.stderr, r.stderr)
            suite.expect("injected fault: other tables untouched", others(fw), keep)
        # the same policy without the fault goes in; the shipping binary has no injector at all
        plain = pinhole("apply", "--netns", fw, fs)
        suite.expect("without the fault the policy applies", plain.returncode, 0)
        r = pinhole("apply", "--netns", fw, fs, env=fault)
        suite.check("the shipping binary ignores PINHOLE_TEST_REJECT_LINE",
                    r.returncode == 0 and r.stderr == plain.stderr, r.stderr)


# --------------------------------------------------------------------------- --confirm

def start_confirm(fw, policy, secs, stdin=subprocess.PIPE):
    """Start `apply --confirm`; return (process, stderr so far) once the new ruleset is in."""
    env = dict(os.environ)
    env.pop("SSH_CONNECTION", None)
    p = subprocess.Popen([BIN, "apply", "--netns", fw, "--confirm", str(secs), policy],
                         stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    err = ""
    deadline = time.monotonic() + 30
    while "new ruleset active" not in err and time.monotonic() < deadline:
        line = p.stderr.readline()
        if not line:
            break
        err += line
    return p, err


def finish(p, timeout=30):
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def confirm(suite):
    ws = os.path.join(REPO, "examples", "workstation.pin")
    fs = os.path.join(REPO, "examples", "fileserver.pin")
    with N.host_topology() as t:
        fw = t.firewall
        keep = with_others(t)
        suite.expect("confirm: previous policy applies", pinhole("apply", "--netns", fw, ws).returncode, 0)
        before = listing(fw)

        # nobody answers: stdin open but silent
        t0 = time.monotonic()
        p, err = start_confirm(fw, fs, 3)
        suite.check("confirm: the new ruleset is active during the window",
                    pinhole("status", "--netns", fw, fs).returncode == 0, err)
        rc, out, err2 = finish(p)
        took = time.monotonic() - t0
        suite.expect("confirm, no answer: exit 1", rc, 1)
        suite.check("confirm, no answer: waited the full window", took >= 2.8, f"{took:.1f}s")
        suite.check("confirm, no answer: says it restored", "restored the previous" in err2, err2)
        suite.expect("confirm, no answer: previous table restored exactly", listing(fw), before)
        suite.expect("confirm, no answer: status matches the previous policy",
                     pinhole("status", "--netns", fw, ws).returncode, 0)

        # end of input (a lost terminal) is not an answer either: the timer still rolls back
        p, _ = start_confirm(fw, fs, 2, stdin=subprocess.DEVNULL)
        rc, _, _ = finish(p)
        suite.expect("confirm, end of input: rolled back (exit 1)", rc, 1)
        suite.expect("confirm, end of input: previous table restored", listing(fw), before)

        # "no" and SIGTERM roll back at once
        for how in ("no", "SIGTERM"):
            t0 = time.monotonic()
            p, _ = start_confirm(fw, fs, 60)
            if how == "no":
                p.stdin.write("no\n")
                p.stdin.flush()
            else:
                p.send_signal(signal.SIGTERM)
            rc, _, _ = finish(p)
            suite.expect(f"confirm, {how}: exit 1", rc, 1)
            suite.check(f"confirm, {how}: at once", time.monotonic() - t0 < 20,
                        f"{time.monotonic() - t0:.1f}s")
            suite.expect(f"confirm, {how}: previous table restored", listing(fw), before)

        # "yes" on stdin, or SIGUSR1 (e.g. from a new login), keeps the new ruleset
        for how in ("yes", "SIGUSR1"):
            suite.expect(f"confirm, {how}: reset to the previous policy",
                         pinhole("apply", "--netns", fw, ws).returncode, 0)
            p, _ = start_confirm(fw, fs, 60)
            if how == "yes":
                p.stdin.write("yes\n")
                p.stdin.flush()
            else:
                p.send_signal(signal.SIGUSR1)
            rc, out, _ = finish(p)
            suite.expect(f"confirm, {how}: exit 0", rc, 0)
            suite.check(f"confirm, {how}: kept", pinhole("status", "--netns", fw, fs).returncode == 0,
                        out)

        # restoring "no table at all"
        N.ns_run(fw, ["nft", "delete", "table", "inet", "pinhole"])
        p, _ = start_confirm(fw, fs, 1)
        rc, _, err = finish(p)
        suite.expect("confirm on a fresh host: rolled back", rc, 1)
        suite.expect("confirm on a fresh host: no pinhole table afterwards", listing(fw), None)
        suite.expect("confirm: other tables untouched throughout", others(fw), keep)

        # traffic after a rollback is the previous policy's: ssh from the office works,
        # and the table restored from the kernel's own dump behaves like the policy
        suite.expect("confirm: previous policy again", pinhole("apply", "--netns", fw, ws).returncode, 0)
        p, _ = start_confirm(fw, os.path.join(HERE, "policies", "ftp-client.pin"), 1)
        finish(p)
        N.install_probe(fw)
        suite.check("after rollback: ssh in from the office (workstation allows it)",
                    N.tcp_connect(t.peer, "10.0.0.7", 0, "10.0.0.5", 22), "blocked")
        suite.check("after rollback: ftp out works through the restored helper",
                    N.ftp_transfer(fw, t.peer, "10.0.0.7", True), "failed")


# --------------------------------------------------------------------------- lockout guard

class Session:
    """A TCP connection from peer to fw:22 that stays open, with an echo server behind it."""

    def __init__(self, t):
        self.srv = N.socket_in(t.fw, socket.AF_INET, socket.SOCK_STREAM)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("10.0.0.5", 22))
        self.srv.listen(8)
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()
        self.peer = t.peer
        self.cli = N.socket_in(t.peer, socket.AF_INET, socket.SOCK_STREAM)
        self.cli.bind(("10.0.0.7", 40022))
        self.cli.settimeout(2)
        self.cli.connect(("10.0.0.5", 22))
        self.env = {"SSH_CONNECTION": "10.0.0.7 40022 10.0.0.5 22"}

    def _serve(self):
        self.srv.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    def _echo(self, c):
        c.settimeout(0.5)
        while not self.stop.is_set():
            try:
                d = c.recv(100)
            except socket.timeout:
                continue
            except OSError:
                break
            if not d:
                break
            try:
                c.sendall(d)
            except OSError:
                break
        c.close()

    def new_login(self):
        """A second connection from the peer (new source port) to the same server."""
        c = N.socket_in(self.peer, socket.AF_INET, socket.SOCK_STREAM)
        try:
            c.settimeout(0.7)
            c.connect(("10.0.0.5", 22))
            c.sendall(b"hello\n")
            return c.recv(100) == b"hello\n"
        except OSError:
            return False
        finally:
            c.close()

    def alive(self):
        try:
            self.cli.settimeout(1.5)
            self.cli.sendall(b"still there?\n")
            return self.cli.recv(100) == b"still there?\n"
        except OSError:
            return False

    def close(self):
        self.stop.set()
        for s in (self.cli, self.srv):
            try:
                s.close()
            except OSError:
                pass


def lockout(suite, tmp):
    keeps = write_policy(tmp, "keeps.pin", "allow ssh server from 10.0.0.0/8;\nallow http client;\n")
    cuts = write_policy(tmp, "cuts.pin", "allow ssh server from 192.0.2.0/24;\nallow http client;\n")
    zone = write_policy(tmp, "zone.pin", "zone office { interface eth0; address 10.0.0.0/8; }\n"
                                         "allow ssh server from office;\n")
    wrong_if = write_policy(tmp, "wrongif.pin", "zone office { interface eth9; address 10.0.0.0/8; }\n"
                                                "allow ssh server from office;\n")
    with N.host_topology() as t:
        fw = t.firewall
        keep = with_others(t)
        s = Session(t)
        try:
            suite.check("lockout: the session works before", s.alive(), "no echo")
            r = pinhole("apply", "--netns", fw, cuts, env=s.env)
            suite.expect("lockout: a policy that cuts the session is refused (exit 1)", r.returncode, 1)
            suite.check("lockout: the refusal says why", "would cut the SSH session" in r.stderr
                        and "a new login (SYN in)" in r.stderr and "--allow-lockout" in r.stderr,
                        r.stderr)
            suite.expect("lockout: refused means nothing loaded", listing(fw), None)
            r = pinhole("apply", "--dry-run", "--netns", fw, cuts, env=s.env)
            suite.expect("lockout: a dry run reports the refusal too (exit 1)", r.returncode, 1)

            r = pinhole("apply", "--netns", fw, keeps, env=s.env)
            suite.expect("lockout: a policy that keeps the session applies", r.returncode, 0)
            suite.check("lockout: ... and the kernel agrees: the session still works", s.alive(),
                        "no echo")
            suite.check("lockout: ... and a new login works", s.new_login(), "blocked")

            # interface-bound rules: the guard finds the session's interface by route lookup
            r = pinhole("apply", "--netns", fw, zone, env=s.env)
            suite.expect("lockout: zone on the session's interface (eth0) applies", r.returncode, 0)
            suite.check("lockout: ... session alive", s.alive(), "no echo")
            r = pinhole("apply", "--netns", fw, wrong_if, env=s.env)
            suite.expect("lockout: zone on another interface is refused", r.returncode, 1)
            suite.check("lockout: ... names the interface", "interface eth0" in r.stderr, r.stderr)

            r = pinhole("apply", "--netns", fw, "--allow-lockout", cuts, env=s.env)
            suite.expect("lockout: --allow-lockout applies anyway", r.returncode, 0)
            suite.check("lockout: ... with a warning", "warning:" in r.stderr, r.stderr)
            suite.check("lockout: ... and, as the guard said, a new login is now dropped",
                        not s.new_login(), "connected")
            r = pinhole("apply", "--netns", fw, keeps,
                        env={"SSH_CONNECTION": "not a session"})
            suite.expect("lockout: an unreadable SSH_CONNECTION refuses (exit 1)", r.returncode, 1)
            suite.expect("lockout: other tables untouched", others(fw), keep)
        finally:
            s.close()


# --------------------------------------------------------------------------- dry run, errors

def dry_run_and_errors(suite):
    ws = os.path.join(REPO, "examples", "workstation.pin")
    fs = os.path.join(REPO, "examples", "fileserver.pin")
    with N.host_topology() as t:
        fw = t.firewall
        keep = with_others(t)
        r = pinhole("apply", "--dry-run", "--netns", fw, ws)
        suite.expect("dry run on a fresh host: exit 0", r.returncode, 0)
        suite.check("dry run on a fresh host: says the table is not loaded",
                    "not loaded" in r.stdout, r.stdout)
        suite.expect("dry run on a fresh host: nothing loaded", listing(fw), None)
        pinhole("apply", "--netns", fw, ws)
        before = listing(fw)
        r = pinhole("apply", "--dry-run", "--netns", fw, fs)
        suite.check("dry run: the kernel accepts, changes listed",
                    r.returncode == 0 and "not committed" in r.stdout and
                    "rule missing from the kernel" in r.stdout, r.stdout + r.stderr)
        suite.expect("dry run: nothing changed", listing(fw), before)
        r = pinhole("apply", "--dry-run", "--netns", fw, ws)
        suite.check("dry run of the running policy: no changes", "no changes" in r.stdout, r.stdout)
        r = pinhole("status", "--netns", fw, fs)
        suite.check("status of another policy: exit 1 with differences",
                    r.returncode == 1 and "differs" in r.stdout, r.stdout)
        suite.expect("status: nothing changed", listing(fw), before)
        N.ns_run(fw, ["nft", "add", "rule", "inet", "pinhole", "input", "tcp", "dport", "9999", "accept"])
        r = pinhole("status", "--netns", fw, ws)
        suite.check("status: a rule added by hand is found",
                    r.returncode == 1 and "chain input: rule in the kernel but not in the policy" in r.stdout,
                    r.stdout)
        r = pinhole("apply", "--netns", "ph-no-such-namespace", ws)
        suite.expect("apply into a missing namespace: exit 2", r.returncode, 2)
        suite.expect("status of a missing namespace: exit 2",
                     pinhole("status", "--netns", "ph-no-such-namespace", ws).returncode, 2)
        suite.expect("dry run and status: other tables untouched", others(fw), keep)


def main():
    ktest.preflight_or_skip("apply")
    if not (os.path.isfile(BIN) and os.access(BIN, os.X_OK)):
        print(f"SKIP apply: no pinhole binary at {BIN} (build it, or set PINHOLE)", flush=True)
        sys.exit(ktest.SKIP)
    suite = ktest.Suite("apply")
    import test_compiler  # the known traffic of the test policies
    policies = sorted(glob.glob(os.path.join(REPO, "examples", "*.pin"))) + \
        sorted(glob.glob(os.path.join(HERE, "policies", "*.pin"))) + \
        sorted(glob.glob(os.path.join(REPO, "tests", "golden", "cases", "*.pin")))
    jobs = []
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(4) as ex:
        for path in policies:
            name = os.path.relpath(path, REPO)
            jobs.append((f"{name}: equivalence", ex.submit(equivalence, suite, name, path,
                                                           policy_topology(path))))
            probes = test_compiler.TRAFFIC.get(os.path.basename(path)) if "/policies/" in path else None
            if probes:
                jobs.append((f"{name}: traffic", ex.submit(traffic, suite, name, path,
                                                           policy_topology(path), probes)))
        jobs.append(("library apps", ex.submit(library_apps, suite, tmp)))
        jobs.append(("large policy", ex.submit(large, suite, tmp)))
        jobs.append(("rejection", ex.submit(rejection, suite, tmp)))
        jobs.append(("confirm", ex.submit(confirm, suite)))
        jobs.append(("lockout", ex.submit(lockout, suite, tmp)))
        jobs.append(("dry run and errors", ex.submit(dry_run_and_errors, suite)))
        for label, f in jobs:
            try:
                f.result()
            except Exception as e:
                suite.error(label, e)
    suite.finish()


if __name__ == "__main__":
    main()
