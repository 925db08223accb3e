#!/usr/bin/python3
"""bench.py: `make bench` (tests/perf/bench.sh runs it as root after setting up build/bench).

Every measurement interleaves its contenders: round r runs contender r, r+1, ... (rotated),
so a burst of load from other work on the machine hits all of them alike. Reported: the
median wall time per contender, and ratios as the median of the per-round ratios (same round,
same conditions). Peak RSS comes from wait4(2)'s rusage of each run.

Safety: every kernel-touching command runs in a network namespace this script creates
(named $BENCH_NS_PREFIX-...) and deletes again (finally, atexit, SIGTERM/SIGINT/SIGHUP);
commands join it with setns(2) in the child before exec, never the machine's own namespace.
Every loop has a fixed number of rounds and every command a timeout.

  bench.py [--quick] [--readme README.md]   (environment: BENCH_DIR, BENCH_NS_PREFIX, BENCH_BIN)
"""
import atexit
import ctypes
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
GEN = os.path.join(HERE, "gen.py")
OUT = os.path.abspath(os.environ.get("BENCH_DIR", os.path.join(TOP, "build", "bench")))
ROOT = os.path.join(OUT, "root")  # ferm and Shorewall, unpacked from their .debs
WORK = os.path.join(OUT, "work")
PIN = os.path.abspath(os.environ.get("BENCH_BIN", os.path.join(TOP, "build", "pinhole")))
PREFIX = os.environ.get("BENCH_NS_PREFIX", f"phb{os.getpid()}")
CMD_TIMEOUT = 180  # seconds, any single command
CLONE_NEWNET = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)
created_ns = []
daemons = []


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- namespaces

def sh(*argv, ns=None, check=True, capture=False, inp=None, timeout=CMD_TIMEOUT):
    argv = list(argv)
    if ns:
        argv = ["ip", "netns", "exec", ns] + argv
    r = subprocess.run(argv, input=inp, text=True, timeout=timeout,
                       stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()[:800]}")
    return r.stdout if capture else r.returncode


def ns_add(role):
    name = f"{PREFIX}-{role}"
    sh("ip", "netns", "add", name)
    created_ns.append(name)
    sh("ip", "link", "set", "lo", "up", ns=name)
    return name


def ns_del(name):
    if name in created_ns:
        subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)
        created_ns.remove(name)


def cleanup():
    for p in daemons:
        if p.poll() is None:
            p.kill()
            p.wait()
    daemons.clear()
    for name in list(created_ns):
        ns_del(name)


def on_signal(sig, _frame):
    cleanup()
    sys.exit(128 + sig)


atexit.register(cleanup)
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, on_signal)


def joiner(ns):
    """preexec_fn: the child joins namespace ns before exec (it is single-threaded then)."""
    if ns is None:
        return None
    path = f"/run/netns/{ns}"

    def join():
        fd = os.open(path, os.O_RDONLY)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            os._exit(126)
        os.close(fd)
    return join


# ---------------------------------------------------------------- timing

class Contender:
    def __init__(self, name, argv, ns=None, ok=(0,), stdout=None, env=None):
        self.name, self.argv, self.ns, self.ok = name, argv, ns, ok
        self.stdout, self.env = stdout, env
        self.wall, self.rss, self.cpu = [], [], []
        self.failed = None
        self.max_rounds = None  # fewer rounds than the others (a slow contender at a big size)


def run_rusage(c):
    """One run: (wall s, cpu s, peak RSS KB) or raises. The command runs under
    /usr/bin/time, whose report gives the peak RSS: wait4(2)'s ru_maxrss of a child this
    script forked would never be below this Python process's own RSS (Linux carries the
    forked copy's high-water mark across exec), while time's is about 2 MB. The wall and CPU
    times are this script's (wait4), time's own fork and exec included, alike for all."""
    out = open(c.stdout, "wb") if c.stdout else open(os.devnull, "wb")
    errf = open(os.path.join(WORK, "last.stderr"), "w+b")
    rssf = os.path.join(WORK, "last.rss")
    env = dict(os.environ, **(c.env or {}))
    argv = ["/usr/bin/time", "-q", "-f", "%M", "-o", rssf] + c.argv
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=out, stderr=errf, env=env, preexec_fn=joiner(c.ns),
                             start_new_session=True)
        deadline = t0 + CMD_TIMEOUT
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(p.pid, signal.SIGKILL)  # time and the command
                os.wait4(p.pid, 0)
                p.returncode = -9
                raise RuntimeError(f"timed out after {CMD_TIMEOUT} s")
            time.sleep(0.0005)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode not in c.ok:
            errf.seek(0)
            raise RuntimeError(f"exit {p.returncode}: {errf.read().decode(errors='replace').strip()[:600]}")
        with open(rssf) as f:
            rss = int(f.read().split()[-1])
        return wall, ru.ru_utime + ru.ru_stime, rss
    finally:
        out.close()
        errf.close()


def interleave(title, contenders, rounds, warmup=0, setup=None):
    """Runs every contender once per round, in rotated order; drops a contender (noting
    why) after a failure or a run over CMD_TIMEOUT. setup(contender) runs before each run,
    untimed."""
    log(f"{title}: {len(contenders)} contenders x {rounds} rounds")
    k = len(contenders)
    for r in range(-warmup, rounds):
        order = contenders[r % k:] + contenders[:r % k]
        for c in order:
            if c.failed or (r >= 0 and c.max_rounds is not None and r >= c.max_rounds):
                continue
            if setup:
                setup(c)
            try:
                wall, cpu, rss = run_rusage(c)
            except RuntimeError as e:
                c.failed = str(e)
                log(f"  {c.name}: FAILED: {e}")
                continue
            if r >= 0:
                c.wall.append(wall)
                c.cpu.append(cpu)
                c.rss.append(rss)
    for c in contenders:
        if c.wall:
            log(f"  {c.name}: median {statistics.median(c.wall) * 1000:.1f} ms"
                f" over {len(c.wall)}, peak RSS {max(c.rss) / 1024:.1f} MB")
    return contenders


def med(xs):
    return statistics.median(xs) if xs else None


def ratio(a, b):
    """Median of the per-round ratios a/b (rounds both completed)."""
    n = min(len(a.wall), len(b.wall))
    if n == 0:
        return None
    return statistics.median(a.wall[i] / b.wall[i] for i in range(n))


def result(c):
    return {"name": c.name, "wall": c.wall, "cpu": c.cpu, "rss_kb": c.rss, "failed": c.failed,
            "median_ms": med(c.wall) * 1000 if c.wall else None,
            "cpu_ms": med(c.cpu) * 1000 if c.cpu else None,
            "rss_kb_max": max(c.rss) if c.rss else None}


# ---------------------------------------------------------------- inputs

def gen_pin(kind, n, stateless=False):
    path = os.path.join(WORK, f"{kind}-{n}{'-sl' if stateless else ''}.pin")
    if not os.path.exists(path):
        text = subprocess.run([sys.executable, GEN, "pin", kind, str(n)], check=True,
                              capture_output=True, text=True).stdout
        if stateless:
            text = "established only;\n" + text
        with open(path, "w") as f:
            f.write(text)
    return path


def gen_text(what, n, ext):
    path = os.path.join(WORK, f"{what}-{n}.{ext}")
    if not os.path.exists(path):
        args = [what] if n is None else [what, str(n)]
        with open(path, "w") as f:
            subprocess.run([sys.executable, GEN] + args, check=True, stdout=f)
    return path


def compiled(policy, target="nft"):
    out = policy[:-4] + (".nft" if target == "nft" else f".{target}")
    if not os.path.exists(out):
        sh(PIN, "compile", "-t", target, "-o", out, policy)
    return out


def count_rules_nft(path):
    """Rules in an nft file: the lines of chain bodies, less their type/policy lines."""
    n, inchain = 0, False
    with open(path) as f:
        for line in f:
            s = line.strip()
            if s.startswith("chain "):
                inchain = True
            elif s == "}":
                inchain = False
            elif inchain and s and not s.startswith(("type ", "#", "policy ")):
                n += 1
    return n


def count_lines(path, prefix):
    with open(path, errors="replace") as f:
        return sum(1 for line in f if line.startswith(prefix))


# ---------------------------------------------------------------- the measurements

def ferm_cmd(conf):
    return ["perl", "-I", os.path.join(ROOT, "usr/share/perl5"),
            os.path.join(ROOT, "usr/sbin/ferm"), "--noexec", "--lines", conf]


def shorewall_cmd(d, out):
    return [os.path.join(ROOT, "sbin/shorewall-bench"), "-q", "compile", d, out]


def shorewall_dir(n, optimize):
    d = os.path.join(WORK, f"shorewall-{n}{'-opt' if optimize else ''}")
    if not os.path.isdir(d):
        sh(sys.executable, GEN, "shorewall", str(n), d)
        # Shorewall's own default shorewall.conf, as the package installs it (OPTIMIZE=All);
        # OPTIMIZE=0 for the main contender: pinhole does not merge rules either.
        with open(os.path.join(ROOT, "etc/shorewall/shorewall.conf")) as f:
            conf = f.read()
        if not optimize:
            conf = re.sub(r"^OPTIMIZE=.*$", "OPTIMIZE=0", conf, flags=re.M)
        with open(os.path.join(d, "shorewall.conf"), "w") as f:
            f.write(conf)
    return d


def bench_compile(sizes, rounds, res):
    """pinhole compile (nft and iptables text), ferm, Shorewall: the same entries, and
    pinhole check; peak RSS for the memory goal."""
    ns = ns_add("compile")
    res["compile"] = []
    prev = {}
    for n in sizes:
        pol = gen_pin("entries", n)
        fconf = gen_text("ferm", n, "conf")
        swdir = shorewall_dir(n, optimize=False)
        outs = {k: os.path.join(WORK, f"out-{n}.{k}") for k in ("nft", "ipt", "ferm", "sw", "swopt")}
        cs = [Contender("pinhole compile", [PIN, "compile", "-o", outs["nft"], pol], ns),
              Contender("pinhole compile -t iptables", [PIN, "compile", "-t", "iptables", "-o", outs["ipt"], pol], ns),
              Contender("pinhole check", [PIN, "check", pol], ns, ok=(0, 1)),
              Contender("ferm --noexec --lines", ferm_cmd(fconf), ns, stdout=outs["ferm"]),
              Contender("shorewall compile (OPTIMIZE=0)", shorewall_cmd(swdir, outs["sw"]), ns)]
        if n <= 1000:  # Debian's default config optimizes: 44 s at 10,000 here, too slow to repeat
            cs.append(Contender("shorewall compile (OPTIMIZE=All, default)",
                                shorewall_cmd(shorewall_dir(n, optimize=True), outs["swopt"]), ns))
        r = max(1, rounds if n <= 10000 else (rounds + 1) // 2)
        # A contender that would run for minutes at this size is left out, with the reason.
        for c in cs:
            if c.name in prev:
                m, pn = prev[c.name]
                est = m * n / pn
                if est > 100:
                    c.failed = f"skipped: {pn:,} entries took {m:.1f} s, {n:,} would take >= {est:.0f} s a run"
                elif est > 8:
                    c.max_rounds = 1  # one run of a contender this slow is precise enough
        interleave(f"compile {n}", cs, r, warmup=1 if n <= 10000 else 0)
        for c in cs:
            if c.wall:
                prev[c.name] = (med(c.wall), n)
        rules = {"pinhole compile": count_rules_nft(outs["nft"]) if os.path.exists(outs["nft"]) else None,
                 "pinhole compile -t iptables": count_lines(outs["ipt"], "-A ") if os.path.exists(outs["ipt"]) else None,
                 "ferm --noexec --lines": count_lines(outs["ferm"], "-A ") if os.path.exists(outs["ferm"]) else None,
                 "shorewall compile (OPTIMIZE=0)": count_lines(outs["sw"], "-A ") if os.path.exists(outs["sw"]) else None,
                 "shorewall compile (OPTIMIZE=All, default)": count_lines(outs["swopt"], "-A ") if os.path.exists(outs["swopt"]) else None}
        res["compile"].append({"n": n, "runs": r, "contenders": [dict(result(c), rules=rules.get(c.name)) for c in cs],
                               "ferm_vs_pinhole": ratio(cs[3], cs[0]),
                               "shorewall_vs_pinhole": ratio(cs[4], cs[0])})
    ns_del(ns)


def bench_quadratic(cases, rounds, res):
    """The quadratic steps of the issue: N sources to one port, one statement with N apps or
    N port literals."""
    res["quadratic"] = []
    for kind, n, with_check in cases:
        pol = gen_pin(kind, n)
        cs = [Contender("compile", [PIN, "compile", "-o", os.devnull, pol])]
        if with_check:
            cs.append(Contender("check", [PIN, "check", pol], ok=(0, 1)))
        interleave(f"{kind} {n}", cs, rounds)
        res["quadratic"].append({"kind": kind, "n": n, "contenders": [result(c) for c in cs]})


def bench_analysis(n, rounds, res):
    """Issue 13's goal: `pinhole check` of N statements with the exact analysis (BDDs,
    compiler/analysis/exact.c) <= 0.5 s at N = 10,000. compile (which skips the analysis)
    alongside, so the analysis's own share is the per-round difference."""
    pol = gen_pin("entries", n)
    cs = [Contender("compile", [PIN, "compile", "-o", os.devnull, pol]),
          Contender("check", [PIN, "check", pol], ok=(0, 1))]
    interleave(f"analysis {n}", cs, rounds, warmup=1)
    diff = statistics.median(b - a for a, b in zip(cs[0].wall, cs[1].wall)) if cs[0].wall and cs[1].wall else None
    res["analysis"] = {"n": n, "contenders": [result(c) for c in cs],
                       "analysis_ms": diff * 1000 if diff is not None else None}


def bench_explain(n, npk, rounds, res):
    """Issue 13's goal: `explain --brief` <= 1 ms per packet, here on `pin entries N` with
    packets that mostly fall to the default drop (each walks every rule). One packet and npk
    packets from standard input per round: the per-packet time is the per-round difference
    over npk - 1, so reading and compiling the policy cancel out."""
    pol = gen_pin("entries", n)
    pk = os.path.join(WORK, f"packets-{npk}.txt")
    one = os.path.join(WORK, "packets-1.txt")
    if not os.path.exists(pk):
        rnd = __import__("random").Random(1)
        lines = [f"tcp 10.{rnd.randrange(40)}.{rnd.randrange(250)}.9:40000 -> 198.18.0.1:{rnd.randrange(1000, 12000)} in syn\n"
                 for _ in range(npk)]
        with open(pk, "w") as f:
            f.writelines(lines)
        with open(one, "w") as f:
            f.write(lines[0])
    cs = [Contender(f"explain --brief, {k} packet{'s' if k > 1 else ''}",
                    ["/bin/sh", "-c", f'exec "$0" explain --brief "$1" - < "$2"', PIN, pol, f], ok=(0, 1))
          for k, f in ((1, one), (npk, pk))]
    interleave(f"explain {n}", cs, rounds, warmup=1)
    per = (statistics.median((b - a) / (npk - 1) for a, b in zip(cs[0].wall, cs[1].wall))
           if cs[0].wall and cs[1].wall else None)
    res["explain"] = {"n": n, "packets": npk, "contenders": [result(c) for c in cs],
                      "per_packet_ms": per * 1000 if per is not None else None}


def bench_apply(sizes, rounds, res):
    """pinhole apply (netlink) vs nft -f of pinhole's own text, and nft -f of one concatenated
    set with the same entries (what set rendering aims at), in a throwaway namespace."""
    ns = ns_add("apply")
    res["apply"] = []
    for n in sizes:
        pol = gen_pin("entries", n)
        text = compiled(pol)
        ref = gen_text("nftset", n, "nft")
        cs = [Contender("pinhole apply", [PIN, "apply", "--netns", ns, pol]),
              Contender("nft -f (pinhole's text)", ["nft", "-f", text], ns),
              Contender("nft -f (one concatenated set)", ["nft", "-f", ref], ns)]
        sh(PIN, "apply", "--netns", ns, pol)  # first load outside the timing: each run replaces
        sh("nft", "-f", ref, ns=ns)
        kernel_rules = sh("nft", "-a", "list", "table", "inet", "pinhole", ns=ns, capture=True).count("# handle")
        # a load is short and the machine noisy (a fresh huge page can take the host's time):
        # twice the rounds of the other jobs
        r = max(1, 2 * rounds + 1 if n <= 10000 else rounds)
        interleave(f"apply {n}", cs, r, warmup=1 if n <= 10000 else 0)
        res["apply"].append({"n": n, "kernel_rules": kernel_rules,
                             "contenders": [result(c) for c in cs],
                             "apply_vs_nft": ratio(cs[0], cs[1])})
        sh("nft", "flush", "ruleset", ns=ns)
    ns_del(ns)


def header_load_script(ipt, variant, path):
    """The load commands of the -t iptables header, for this variant (as tests/golden/ipt_load.sh)."""
    lines, on = [], False
    with open(ipt) as f:
        for line in f:
            if line.startswith("# Load as root"):
                on = True
                continue
            if on:
                if not line.startswith("#   "):
                    break
                lines.append(line[4:])
    text = "".join(lines)
    text = re.sub(r"\biptables-restore ", f"iptables-{variant}-restore ", text)
    text = re.sub(r"\biptables -([wV]) ", f"iptables-{variant} -\\1 ", text)
    text = re.sub(r" FILE\b", ' "$1"', text)
    if f"iptables-{variant}-restore -w --noflush" not in text:
        raise RuntimeError(f"{ipt}: no load commands in the header")
    with open(path, "w") as f:
        f.write("set -e\n" + text)
    return path


def bench_walk(zones, res):
    """Rules a packet walks through the forward chain of `gen.py pin zones N` (N zones to one
    wan, 16 rules each): the interface dispatch's verdict map against a walk over all
    (tests/perf/walk.py; counts, not time)."""
    sys.path.insert(0, os.path.dirname(GEN))
    import walk  # noqa: E402
    res["walk"] = []
    for n in zones:
        with open(compiled(gen_pin("zones", n))) as f:
            cs = walk.chains(f.read())
        res["walk"].append({"zones": n, "rules": walk.total(cs, "forward"),
                            "longest_walk": walk.walk(cs, "forward"),
                            "chains": len(cs)})


def bench_iptables(sizes, rounds, res):
    """iptables-restore of the -t iptables file's rules alone (without its jump lines) vs the
    header's whole load (with the jumps), both variants, on a namespace that already holds the
    ruleset (a reload, as after editing the policy)."""
    res["iptables"] = []
    env = {"XTABLES_LOCKFILE": os.path.join(WORK, "xtables.lock")}
    for variant in ("nft", "legacy"):
        ns = ns_add(f"ipt{variant}")
        for n in sizes:
            ipt = compiled(gen_pin("entries", n), "iptables")
            script = header_load_script(ipt, variant, os.path.join(WORK, f"load-{variant}.sh"))
            rules = ipt + ".rules"  # the file without its jump lines: the restore of the rules alone
            with open(ipt) as f, open(rules, "w") as out:
                out.writelines(ln for ln in f if not ln.startswith(("-D ", "-I ")))
            sh("bash", script, ipt, ns=ns)  # the first load: chains and jumps exist from now on
            cs = [Contender(f"iptables-{variant}-restore", [f"iptables-{variant}-restore", "-w", "--noflush", rules], ns, env=env),
                  Contender("header's load commands", ["bash", script, ipt], ns, env=env)]
            r = max(1, rounds if n <= 10000 else (rounds + 1) // 2)
            interleave(f"iptables-{variant} {n}", cs, r)
            res["iptables"].append({"variant": variant, "n": n, "rules": count_lines(ipt, "-A "),
                                    "contenders": [result(c) for c in cs],
                                    "jumps_share": ratio(cs[1], cs[0])})
        ns_del(ns)


# The least a filter does (one rule per chain): what a ruleset costs on this machine at all.
FLOOR = "one rule per chain (stateless floor)"


def iperf_topology():
    """client ns -- veth -- server ns (the host firewall: the ruleset is loaded here)."""
    c, s = ns_add("cli"), ns_add("srv")
    sh("ip", "-n", c, "link", "add", "vc", "type", "veth", "peer", "name", "vs", "netns", s)
    for ns, dev, addr in ((c, "vc", "198.18.0.2/24"), (s, "vs", "198.18.0.1/24")):
        sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", ns=ns)
    return c, s


def iperf_once(c, seconds):
    out = sh("iperf3", "-c", "198.18.0.1", "-p", "5201", "-t", str(seconds), "-O", "1", "-J",
             ns=c, capture=True, check=False, timeout=seconds + 30)
    try:
        j = json.loads(out)
        return j["end"]["sum_received"]["bits_per_second"] / 1e9
    except (ValueError, KeyError):
        return None


def bench_iperf(sizes, rounds, seconds, res):
    """MTU-sized TCP (veth MTU 1500, offloads off) through the last entry of the ruleset."""
    c, s = iperf_topology()
    srv = subprocess.Popen(["iperf3", "-s", "-p", "5201"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, preexec_fn=joiner(s))
    daemons.append(srv)
    time.sleep(0.5)
    configs = [("no ruleset", None), ("conntrack only", gen_text("ctonly", None, "nft")),
               (FLOOR, gen_text("floor", None, "nft"))]
    for n in sizes:
        configs.append((f"stateful, {n} entries", compiled(gen_pin("entries", n))))
    for n in sizes:
        configs.append((f"stateless, {n} entries", compiled(gen_pin("entries", n, stateless=True))))
    # every packet walks: 63 other zones' rules, or (interface dispatch) one map lookup
    configs.append(("stateless, 64 zones", compiled(gen_pin("hostzones", 64, stateless=True))))
    rules = {}
    for name, path in configs:
        if path:
            sh("nft", "flush", "ruleset", ns=s)
            sh("nft", "-f", path, ns=s)
            rules[name] = len([x for x in sh("nft", "-a", "list", "ruleset", ns=s, capture=True).splitlines()
                               if "# handle" in x and "chain " not in x and "table " not in x])
    gbps = {name: [] for name, _ in configs}
    log(f"iperf3: {len(configs)} rulesets x {rounds} rounds x {seconds + 1} s")
    k = len(configs)
    for r in range(rounds):
        for name, path in configs[r % k:] + configs[:r % k]:
            sh("nft", "flush", "ruleset", ns=s)
            if path:
                sh("nft", "-f", path, ns=s)
            sh("conntrack", "-F", ns=s, check=False) if have("conntrack") else None
            v = iperf_once(c, seconds)
            gbps[name].append(v)
            log(f"  {name}: {v if v is None else round(v, 3)} Gbit/s")
    sh("nft", "flush", "ruleset", ns=s)
    srv.kill()
    srv.wait()
    daemons.remove(srv)
    ns_del(c)
    ns_del(s)

    def rel(a, b):
        xs = [x / y for x, y in zip(gbps[a], gbps[b]) if x is not None and y]
        return statistics.median(xs) if xs else None
    rows = []
    for name, _ in configs:
        ok = [x for x in gbps[name] if x is not None]
        base = "conntrack only" if name.startswith("stateful") else "no ruleset"
        rows.append({"name": name, "gbps": gbps[name], "median_gbps": med(ok),
                     "rules": rules.get(name), "vs_none": rel(name, "no ruleset"),
                     "vs_base": rel(name, base) if name.startswith("state") else None,
                     "base": base,
                     "vs_floor": rel(name, FLOOR) if name.startswith("stateless") else None})
    res["iperf"] = {"seconds": seconds, "rounds": rounds, "rows": rows}


def have(cmd):
    return any(os.access(os.path.join(d, cmd), os.X_OK) for d in os.environ.get("PATH", "").split(":"))


# ---------------------------------------------------------------- report

def first_line(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:  # absent when bench.py runs parts without ferm and Shorewall (BENCH_ONLY=apply,...)
        with open(os.path.join(ROOT, "usr/share/shorewall/version")) as f:
            swv = f.read().strip()
    except OSError:
        swv = "?"
    return {"date": datetime.date.today().isoformat(), "nproc": os.cpu_count(), "cpu": cpu,
            "kernel": platform.release(), "pinhole": first_line([PIN, "--version"]),
            "commit": first_line(["git", "-C", TOP, "log", "-1", "--format=%h %cs"]),
            "nft": first_line(["nft", "--version"]), "iptables": first_line(["iptables", "-V"]),
            "ferm": first_line(["perl", "-I", os.path.join(ROOT, "usr/share/perl5"),
                                os.path.join(ROOT, "usr/sbin/ferm"), "--version"]),
            "shorewall": f"Shorewall {swv}", "iperf3": first_line(["iperf3", "--version"]),
            "perl": first_line(["perl", "-e", "print \"perl $^V\""])}


def ms(x):
    if x is None:
        return "–"
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def rx(x):
    return "–" if x is None else f"{x:.2f}x"


def report(res, elapsed):
    m = res["machine"]
    L = [f"Measured {m['date']} by `make bench{' QUICK=1' if res['quick'] else ''}` ({elapsed / 60:.1f} min) on "
         f"{m['nproc']} × {m['cpu']}, Linux {m['kernel']}; {m['pinhole']} ({m['commit']}), {m['nft']}, "
         f"{m['iptables']}, {m['ferm']}, {m['shorewall']} ({m['perl']}), {m['iperf3']}. "
         "Wall-clock medians of interleaved runs; ratios are medians of per-round ratios. "
         "The machine is shared: expect noise.", ""]
    if res.get("compile"):
        L += ["**Compile** (`allow tcp/P server from A;` per line; rules = rules in the output; "
              "KB/entry = peak RSS / entries; runs = timed runs)", "",
              "| entries | contender | runs | median ms | CPU ms | peak RSS | KB/entry | rules | vs pinhole compile |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in res.get("compile", []):
        base = row["contenders"][0]
        for c in row["contenders"]:
            rel = None
            if c["wall"] and base["wall"]:
                rel = statistics.median(a / b for a, b in zip(c["wall"], base["wall"]))
            kb = f"{c['rss_kb_max'] / row['n']:.2f}" if c["rss_kb_max"] and c["name"].startswith("pinhole") else ""
            fail = f" (failed: {c['failed'][:60]}…)" if c["failed"] else ""
            L.append(f"| {row['n']:,} | {c['name']}{fail} | {len(c['wall'])} | {ms(c['median_ms'])} | {ms(c['cpu_ms'])} | "
                     f"{(c['rss_kb_max'] or 0) / 1024:.1f} MB | {kb} | {c['rules'] if c.get('rules') is not None else ''} | {rx(rel)} |")
    L.append("")
    if res.get("quadratic"):
        L += ["**Quadratic cases of issue 9** (ms)", "",
              "| policy | N | compile | check | compile peak RSS |", "|---|---:|---:|---:|---:|"]
        names = {"sources": "`allow tcp/22 server from A_i;` × N", "applist": "`allow ssh, ssh, … server;` (N apps)",
                 "portlist": "`allow tcp/P1, …, tcp/PN server;`", "entries": "entries"}
        for q in res["quadratic"]:
            cs = {c["name"]: c for c in q["contenders"]}
            L.append(f"| {names[q['kind']]} | {q['n']:,} | {ms(cs['compile']['median_ms'])} | "
                     f"{ms(cs['check']['median_ms']) if 'check' in cs else '–'} | "
                     f"{(cs['compile']['rss_kb_max'] or 0) / 1024:.1f} MB |")
        L.append("")
    if res.get("analysis"):
        a = res["analysis"]
        cs = {c["name"]: c for c in a["contenders"]}
        L += ["**Exact analysis** (`pinhole check`, issue 13's goal: <= 500 ms at 10,000 statements; ms)", "",
              "| statements | compile (no analysis) | check (with the analysis) | the analysis (difference) | goal |",
              "|---:|---:|---:|---:|---:|",
              f"| {a['n']:,} | {ms(cs['compile']['median_ms'])} | {ms(cs['check']['median_ms'])} | "
              f"{ms(a['analysis_ms'])} | 500 |", ""]
    if res.get("explain"):
        e = res["explain"]
        c = e["contenders"]
        per = f"{e['per_packet_ms']:.3f}" if e["per_packet_ms"] is not None else "–"
        L += ["**explain --brief** (issue 13's goal: <= 1 ms per packet; packets read from standard input)", "",
              "| policy entries | 1 packet | packets | all packets | per packet (difference) | goal |",
              "|---:|---:|---:|---:|---:|---:|",
              f"| {e['n']:,} | {ms(c[0]['median_ms'])} | {e['packets']:,} | {ms(c[1]['median_ms'])} | {per} ms | 1 ms |", ""]
    if res.get("apply"):
        L += ["**Load into the kernel** (throwaway namespace, replacing the loaded table; ms)", "",
              "| entries | kernel rules | pinhole apply | nft -f pinhole's text | apply / nft | nft -f one concatenated set |",
              "|---:|---:|---:|---:|---:|---:|"]
        for a in res["apply"]:
            c = a["contenders"]
            L.append(f"| {a['n']:,} | {a['kernel_rules']:,} | {ms(c[0]['median_ms'])} | {ms(c[1]['median_ms'])} | "
                     f"{rx(a['apply_vs_nft'])} | {ms(c[2]['median_ms'])} |")
        L.append("")
    if res.get("iptables"):
        L += ["**iptables load of `-t iptables`** (a reload: the chains and jumps exist; ms)", "",
              "| variant | entries | rules | restore of the rules alone | header's commands (rules + jumps) | ratio |",
              "|---|---:|---:|---:|---:|---:|"]
        for i in res["iptables"]:
            c = i["contenders"]
            L.append(f"| iptables-{i['variant']} | {i['n']:,} | {i['rules']:,} | {ms(c[0]['median_ms'])} | "
                     f"{ms(c[1]['median_ms'])} | {rx(i['jumps_share'])} |")
        L.append("")
    if res.get("iperf"):
        ip = res["iperf"]
        L += [f"**iperf3 through the last entry** (TCP, veth MTU 1500, TSO/GSO/GRO off; {ip['rounds']} × {ip['seconds']} s, medians)", "",
              "| ruleset | rules in kernel | Gbit/s | vs no ruleset | vs baseline | vs one rule per chain |",
              "|---|---:|---:|---:|---:|---:|"]
        for r in ip["rows"]:
            g = "failed" if r["median_gbps"] is None else f"{r['median_gbps']:.3f}"
            vb = f"{rx(r['vs_base'])} of {r['base']}" if r["vs_base"] is not None else ""
            vf = rx(r["vs_floor"]) if r.get("vs_floor") is not None else ""
            L.append(f"| {r['name']} | {r['rules'] if r['rules'] is not None else 0:,} | {g} | {rx(r['vs_none'])} | {vb} | {vf} |")
        L.append("")
    if res.get("walk"):
        L += ["**Rules walked** (`gen.py pin zones N`: N zones each `allow http, https, dns, ssh` to wan; "
              "forward chain, counted by tests/perf/walk.py)", "",
              "| zones | rules (all chains) | chains | longest walk |", "|---:|---:|---:|---:|"]
        for w in res["walk"]:
            L.append(f"| {w['zones']} | {w['rules']:,} | {w['chains']} | {w['longest_walk']} |")
        L.append("")
    return "\n".join(L)


def sections(table):
    """The table's text before its first section, and its sections by bold title."""
    parts = re.split(r"^(?=\*\*[^*\n]+\*\*)", table, flags=re.M)
    return parts[0], {re.match(r"\*\*([^*\n]+)\*\*", x).group(1): x for x in parts[1:]}


def merge_partial(old, table, note):
    """The README's table with the sections of a partial run (BENCH_ONLY) replaced, each
    title saying how and when it was measured; the other sections stay as they were."""
    _, new = sections(table)
    head, have = sections(old)
    for title, text in new.items():
        first, rest = text.split("\n", 1)
        have[title] = f"{first} {note}\n{rest}"
    return (head + "".join(have[t].rstrip("\n") + "\n\n" for t in have)).rstrip("\n") + "\n"


def write_readme(path, table, partial=None):
    with open(path) as f:
        text = f.read()
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    if begin not in text or end not in text:
        raise RuntimeError(f"{path}: no {begin} ... {end} markers")
    head, rest = text.split(begin, 1)
    old, tail = rest.split(end, 1)
    if partial:
        table = merge_partial(old.strip("\n") + "\n", table, partial)
    with open(path + ".tmp", "w") as f:
        f.write(head + begin + "\n" + table + "\n" + end + tail)
    os.replace(path + ".tmp", path)


# ---------------------------------------------------------------- main

def main():
    quick = "--quick" in sys.argv
    readme = None
    if "--readme" in sys.argv:
        readme = sys.argv[sys.argv.index("--readme") + 1]
    only = os.environ.get("BENCH_ONLY", "compile,quadratic,analysis,explain,apply,iptables,iperf,walk").split(",")
    os.makedirs(WORK, exist_ok=True)
    t0 = time.time()
    res = {"quick": quick, "machine": machine()}
    if quick:
        sizes, rounds = [1000, 10000], 2
        quad = [("sources", 1000, True), ("applist", 1000, False), ("portlist", 1000, False)]
        isizes, iround, isec = [10, 1000], 1, 1
    else:
        sizes, rounds = [1000, 10000, 50000], 5
        quad = [("sources", 1000, True), ("sources", 10000, True), ("applist", 1000, False),
                ("applist", 4000, False), ("applist", 10000, False), ("portlist", 1000, False),
                ("portlist", 8000, False)]
        isizes, iround, isec = [10, 10000], 9, 2
    try:
        if "compile" in only:
            bench_compile(sizes, rounds, res)
        if "quadratic" in only:
            bench_quadratic(quad, 3 if not quick else 1, res)
        if "analysis" in only:
            bench_analysis(10000, 3 if not quick else 1, res)
        if "explain" in only:
            bench_explain(10000 if not quick else 1000, 2000, 3 if not quick else 1, res)
        if "apply" in only:
            bench_apply([n for n in sizes if n >= 10000] or sizes, rounds, res)
        if "iptables" in only:
            bench_iptables([n for n in sizes if n >= 10000] or sizes, rounds, res)
        if "iperf" in only:
            bench_iperf(isizes, iround, isec, res)
        if "walk" in only:
            bench_walk([8, 64] if quick else [8, 64, 80], res)
    finally:
        cleanup()
        elapsed = time.time() - t0
        with open(os.path.join(OUT, "results.json"), "w") as f:
            json.dump(res, f, indent=1)
        table = report(res, elapsed)
        with open(os.path.join(OUT, "results.md"), "w") as f:
            f.write(table + "\n")
        print(table)
        log(f"done in {elapsed:.0f} s; {OUT}/results.md, results.json")
        if readme:
            partial = None
            if "BENCH_ONLY" in os.environ:
                m = res["machine"]
                partial = (f"This table: `BENCH_ONLY={','.join(only)} tests/perf/bench.sh`, {m['date']}, "
                           f"pinhole {m['commit'].split()[0]}, {elapsed / 60:.1f} min, the rest as above.")
            write_readme(readme, table, partial)
            log(f"table{' sections' if partial else ''} written into {readme}")


if __name__ == "__main__":
    main()
