#!/usr/bin/python3
"""Address translation with real traffic (lan - gw - wan namespaces, nsnet.gateway_topology):
masquerade out (the wan side sees the gateway's address; IPv6 stays untranslated), a port
forward in on both families (the inside server sees the real client), the inside host not
reachable directly, and a hairpin (a lan host by the public address, masqueraded back).
Every case runs twice: the nft ruleset (`pinhole compile`) and the iptables + ip6tables files
(`-t iptables`, `-t ip6tables`) loaded as their header says, with iptables-nft.
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as D  # noqa: E402
import ktest  # noqa: E402
import nsnet as N  # noqa: E402

POLICY = """\
zone lan { interface lan0; address 10.1.0.0/24, fd00:1::/64; }
zone wan { interface wan0; }
allow tcp/80 from lan to wan;
masquerade from lan to wan;
forward tcp/8443 from wan to 10.1.0.3 port 443 hairpin lan;
forward tcp/8443 from wan to fd00:1::3 port 443;
"""


class PeerServer:
    """TCP server in a namespace that answers each connection with the address it came from."""

    def __init__(self, ns, addr, port):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.s = N.socket_in(ns, fam, socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind((addr, port))
        self.s.listen(16)
        self.s.settimeout(0.2)
        self.stop = False
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        while not self.stop:
            try:
                c, peer = self.s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                c.sendall(peer[0].encode() + b"\n")
            except OSError:
                pass
            c.close()

    def close(self):
        self.stop = True
        self.t.join(2)
        self.s.close()


def seen_by_server(client_ns, src, dst, dport, timeout=1.5):
    """Connect from src (in client_ns) to dst:dport; the address the server saw, or None
    (blocked)."""
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = N.socket_in(client_ns, fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect((dst, dport))
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(128)
            if not chunk:
                break
            data += chunk
        return data.decode().strip() or None
    except OSError:
        return None
    finally:
        s.close()


def load_iptables(ns, files):
    """Each file's header load commands (iptables-nft), run inside ns."""
    for tool, path in files:
        with open(path) as f:
            lines = [ln[4:] for ln in f if ln.startswith("#   ")]
        script = "\n".join(lines).replace(f"{tool}-restore ", f"{tool}-nft-restore ")
        script = script.replace(f"{tool} -w ", f"{tool}-nft -w ").replace(" FILE", f" {path}")
        N.ns_run(ns, ["bash", "-euc", script])


def run(suite, label, load):
    with N.gateway_topology() as t:
        N.ns_run(t.lan, [N.IP, "addr", "add", "10.1.0.3/24", "dev", "eth0"])
        N.ns_run(t.lan, [N.IP, "addr", "add", "fd00:1::3/64", "dev", "eth0", "nodad"])
        load(t)
        servers = [PeerServer(t.wan, "203.0.113.2", 80), PeerServer(t.wan, "2001:db8:2::2", 80),
                   PeerServer(t.lan, "10.1.0.3", 443), PeerServer(t.lan, "fd00:1::3", 443)]
        try:
            suite.expect(f"{label}: masquerade: wan sees the gateway's address",
                         seen_by_server(t.lan, "10.1.0.2", "203.0.113.2", 80), "203.0.113.1")
            suite.expect(f"{label}: IPv6 out stays untranslated",
                         seen_by_server(t.lan, "fd00:1::2", "2001:db8:2::2", 80), "fd00:1::2")
            suite.expect(f"{label}: port forward v4: the inside server sees the client",
                         seen_by_server(t.wan, "203.0.113.2", "203.0.113.1", 8443), "203.0.113.2")
            suite.expect(f"{label}: port forward v6: the inside server sees the client",
                         seen_by_server(t.wan, "2001:db8:2::2", "2001:db8:2::1", 8443), "2001:db8:2::2")
            suite.expect(f"{label}: the inside host is not reachable directly (v4)",
                         seen_by_server(t.wan, "203.0.113.2", "10.1.0.3", 443), None)
            suite.expect(f"{label}: the inside host is not reachable directly (v6)",
                         seen_by_server(t.wan, "2001:db8:2::2", "fd00:1::3", 443), None)
            suite.expect(f"{label}: an unforwarded port of the gateway stays closed",
                         seen_by_server(t.wan, "203.0.113.2", "203.0.113.1", 443), None)
            suite.expect(f"{label}: hairpin: a lan host by the public address, via the gateway",
                         seen_by_server(t.lan, "10.1.0.2", "203.0.113.1", 8443), "10.1.0.1")
        finally:
            for s in servers:
                s.close()


def main():
    ktest.preflight_or_skip("address translation")
    binary = D.pinhole_binary()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"SKIP address translation: no pinhole binary at {binary}", flush=True)
        sys.exit(ktest.SKIP)
    suite = ktest.Suite("address translation")
    with tempfile.TemporaryDirectory() as tmp:
        pol = os.path.join(tmp, "nat.pin")
        with open(pol, "w") as f:
            f.write(POLICY)
        out = {}
        for target in ("nft", "iptables", "ip6tables"):
            r = subprocess.run([binary, "compile", "-t", target, "-o",
                                os.path.join(tmp, "nat." + target), pol],
                               capture_output=True, text=True, timeout=60)
            if not suite.check(f"compile -t {target}", r.returncode == 0, r.stderr):
                suite.finish()
            out[target] = os.path.join(tmp, "nat." + target)
        with open(out["nft"]) as f:
            text = f.read()
        run(suite, "nft", lambda t: N.load_nft(t.gw, text))
        if subprocess.run(["sh", "-c", "command -v iptables-nft-restore"],
                          capture_output=True).returncode:
            suite.skip("iptables", "iptables-nft-restore not installed")
        else:
            run(suite, "iptables", lambda t: load_iptables(
                t.gw, [("iptables", out["iptables"]), ("ip6tables", out["ip6tables"])]))
    suite.finish()


if __name__ == "__main__":
    main()
