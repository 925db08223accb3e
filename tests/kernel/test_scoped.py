#!/usr/bin/python3
"""Kernel tests of scoped negotiated channels (`negotiated NAME on FLOW ... [timeout D]`).

One host topology per form (nft -f, `pinhole apply` over netlink, iptables + ip6tables in the
legacy and the nft variant), both families, steps in order on the same topology:
  - realplayer client (its RTSP data, flow data-rtsp, on their `negotiated static;` fallback,
    7000 and 6970): UDP to the client's port 7000 from a server that never used a request
    flow is dropped; after a real TCP connection to the server's port 554 it passes (a new
    datagram, not part of an earlier exchange); from another address of the same machine, or
    to a port next to it, it is still dropped;
  - nfs client: UDP to mountd's ports (513-1023) at a server the client never asked the
    portmapper is dropped; after a real exchange with its portmapper (UDP to 111) it passes;
    another address is still dropped;
  - a channel of the policy's own with `timeout 2s`: admitted after a control connection,
    dropped again 2.5 s after its last control packet, admitted while a long control
    connection keeps sending (every packet of it refreshes the peer, established ones too).
The firewall host is fw (10.0.0.5, 192.0.2.5, fd00:a::5, 2001:db8:b::5), the other machine
peer (.7 / ::7).
"""
import concurrent.futures
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as D  # noqa: E402
import ktest  # noqa: E402
import nsnet as N  # noqa: E402

FW = {4: "10.0.0.5", 6: "fd00:a::5"}
PEER = {4: "10.0.0.7", 6: "fd00:a::7"}
PEER_OTHER = {4: "192.0.2.7", 6: "2001:db8:b::7"}  # the same machine, another address
FW_OTHER = {4: "192.0.2.5", 6: "2001:db8:b::5"}
PASS_T, BLOCK_T = 1.5, 0.5
TIMEOUT = 2  # seconds: the test app's channel

POLICY = f"""
app stream "test stream: control TCP 5554, data UDP 5700 for {TIMEOUT}s after it" {{
    source "tests/kernel/test_scoped.py";
    flow control: client -> server tcp dport 5554;
    flow data: server -> client udp dport 5700 negotiated stream on control timeout {TIMEOUT}s;
}}
negotiated static;  # nfs mountd as the scoped fallback (test_pinholed.py tests the helper)
allow realplayer client;
allow nfs client;
allow stream client;
"""
FORMS = ["nft", "apply", "iptables-legacy", "iptables-nft"]
_ports = itertools.count(43000)


def pinhole(*args):
    r = subprocess.run([D.pinhole_binary(), *args], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"pinhole {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def header_load(path, tool, variant):
    """The load commands of the iptables file's header, for this variant and file."""
    with open(path) as f:
        head = f.read().split("\n# --noflush", 1)[0].split("# Load as root", 1)[1]
    script = "\n".join(ln[4:] for ln in head.splitlines() if ln.startswith("#   "))
    script = script.replace(f"{tool}-restore ", f"{tool}-{variant}-restore ")
    script = script.replace(f"{tool} -w ", f"{tool}-{variant} -w ").replace(f"{tool} -V ", f"{tool}-{variant} -V ")
    return script.replace("FILE", path)


def load(form, ns, path):
    """Load the policy at path into ns in one of the forms."""
    if form == "nft":
        N.load_nft(ns, pinhole("compile", path))
    elif form == "apply":
        pinhole("apply", "--netns", ns, path)
    else:
        variant = form.split("-")[1]
        with tempfile.TemporaryDirectory(prefix="ph-ipt-") as d:
            env = dict(os.environ, XTABLES_LOCKFILE=os.path.join(d, "xtables.lock"))
            for tool in ("iptables", "ip6tables"):
                f = os.path.join(d, tool)
                with open(f, "w") as out:
                    out.write(pinhole("compile", "-t", tool, path))
                subprocess.run([N.IP, "netns", "exec", ns, "bash", "-e", "-c",
                                header_load(f, tool, variant)], check=True, capture_output=True,
                               env=env)


def udp(t, frm, src, dst, dport, sport=None, want_pass=True):
    """A fresh UDP exchange (a new source port each time: never part of an earlier one)."""
    src_ns, dst_ns = (t.fw, t.peer) if frm == "fw" else (t.peer, t.fw)
    return N.udp_outcome(src_ns, src, sport or next(_ports), dst, dport, server_ns=dst_ns,
                         timeout=PASS_T if want_pass else BLOCK_T) == "ok"


def tcp(t, src, dst, dport):
    """A real TCP connection from fw (the client) to the peer's server, with an exchange."""
    return N.tcp_outcome(t.fw, src, 0, dst, dport, server_ns=t.peer, timeout=PASS_T) == "ok"


def long_control(t, fam, seconds, dport):
    """A TCP connection fw -> peer:dport (nsnet's echo server, which answers a line) kept
    sending a byte every 0.4 s for `seconds`, longer than the channel's timeout, then the end
    of the line. True if the echo came back."""
    N._srv(t.peer).tcp_echo(PEER[fam], dport)
    cli = N.socket_in(t.fw, socket.AF_INET6 if fam == 6 else socket.AF_INET, socket.SOCK_STREAM)
    try:
        cli.settimeout(PASS_T)
        cli.connect((PEER[fam], dport))
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            cli.sendall(b"x")
            time.sleep(0.4)
        cli.sendall(b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = cli.recv(512)
            if not chunk:
                break
            data += chunk
        return data.startswith(b"echo x")
    except OSError:
        return False
    finally:
        cli.close()


def steps(fam):
    """[(name, fn(topology) -> bool, want)], to run in order."""
    v = f"v{fam}"
    s = []

    def add(name, fn, want):
        s.append((f"{v}: {name}", fn, want))

    # realplayer client: data from the server to the client's UDP 7000
    add("realplayer data from a server never asked is dropped",
        lambda t: udp(t, "peer", PEER[fam], FW[fam], 7000, want_pass=False), False)
    add("realplayer request: TCP connection to the server's 554",
        lambda t: tcp(t, FW[fam], PEER[fam], 554), True)
    add("realplayer data from that server passes",
        lambda t: udp(t, "peer", PEER[fam], FW[fam], 7000), True)
    add("realplayer data (RealOne, 6970) from that server passes",
        lambda t: udp(t, "peer", PEER[fam], FW[fam], 6970), True)
    add("realplayer data from another address of that machine is dropped",
        lambda t: udp(t, "peer", PEER_OTHER[fam], FW_OTHER[fam], 7000, want_pass=False), False)
    add("UDP 7001 from that server is dropped (not the channel's port)",
        lambda t: udp(t, "peer", PEER[fam], FW[fam], 7001, want_pass=False), False)
    # nfs client: mountd at the server, after the portmapper
    add("nfs mountd request to a server never asked is dropped",
        lambda t: udp(t, "fw", FW[fam], PEER[fam], 700, sport=1010, want_pass=False), False)
    add("nfs portmapper request: UDP to the server's 111",
        lambda t: udp(t, "fw", FW[fam], PEER[fam], 111, sport=1011), True)
    add("nfs mountd request to that server passes",
        lambda t: udp(t, "fw", FW[fam], PEER[fam], 700, sport=1012), True)
    add("nfs mountd request to another address of that machine is dropped",
        lambda t: udp(t, "fw", FW_OTHER[fam], PEER_OTHER[fam], 700, sport=1013, want_pass=False),
        False)
    # the test app: a 2 s timeout
    add("stream data before any control connection is dropped",
        lambda t: udp(t, "peer", PEER[fam], FW[fam], 5700, want_pass=False), False)
    add("stream control connection", lambda t: tcp(t, FW[fam], PEER[fam], 5554), True)
    add("stream data right after it passes",
        lambda t: udp(t, "peer", PEER[fam], FW[fam], 5700), True)
    add(f"stream data {TIMEOUT + 0.5}s after the last control packet is dropped",
        lambda t: (time.sleep(TIMEOUT + 0.5),
                   udp(t, "peer", PEER[fam], FW[fam], 5700, want_pass=False))[1], False)
    add(f"a control connection kept sending for {TIMEOUT + 1}s",
        lambda t: long_control(t, fam, TIMEOUT + 1, 5554), True)
    add("stream data after it passes (established control packets refreshed the peer)",
        lambda t: udp(t, "peer", PEER[fam], FW[fam], 5700), True)
    return s


def run_form(form, path):
    """[(name, got, want, error)] for one form, both families on one topology each."""
    out = []
    for fam in (4, 6):
        with N.host_topology() as t:
            try:
                load(form, t.fw, path)
            except Exception as e:
                out.append((f"[{form}] v{fam}: loads", None, None, e))
                continue
            for name, fn, want in steps(fam):
                try:
                    out.append((f"[{form}] {name}", fn(t), want, None))
                except Exception as e:
                    out.append((f"[{form}] {name}", None, want, e))
    return out


def main():
    ktest.preflight_or_skip("test_scoped")
    binary = D.pinhole_binary()
    if not os.access(binary, os.X_OK):
        print(f"SKIP test_scoped: no pinhole binary at {binary} (make)", flush=True)
        sys.exit(ktest.SKIP)
    suite = ktest.Suite("test_scoped")
    forms = [f for f in FORMS if not f.startswith("iptables") or subprocess.run(
        ["sh", "-c", f"command -v iptables-{f.split('-')[1]}-restore"],
        capture_output=True).returncode == 0]
    for f in set(FORMS) - set(forms):
        suite.skip(f"[{f}]", "not installed")
    with tempfile.NamedTemporaryFile("w", suffix=".pin", delete=False) as p:
        p.write(POLICY)
    try:
        with concurrent.futures.ThreadPoolExecutor(len(forms)) as ex:
            futs = [ex.submit(run_form, f, p.name) for f in forms]
            for f in futs:
                for name, got, want, err in f.result():
                    if err is not None:
                        suite.error(name, err)
                    else:
                        suite.expect(name, got, want)
    finally:
        os.unlink(p.name)
    suite.finish()


if __name__ == "__main__":
    main()
