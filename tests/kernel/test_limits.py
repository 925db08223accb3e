#!/usr/bin/python3
"""Rate limits and log limits with real packets (fw - peer namespaces, nsnet.host_topology).

A bounded burst (BURST_N packets, each a new connection: its own source port) is sent from the
peer as fast as it goes; the probe table behind pinhole's chain (priority 100, nsnet's probe)
counts what pinhole accepted. A token bucket of rate R and burst B admits between B and
B + R * elapsed (+1 for a token refilled mid-burst): without the limit all BURST_N would pass,
so the test cannot pass on a ruleset that does not limit. Checked: a rule limit on UDP and on
TCP SYNs, the budget coming back after a pause, a second family's budget of its own, `per
source` (two sources, a budget each) against a plain limit (two sources, one budget), a
limited reject (resets within the budget, the rest dropped, not allowed by a later allow),
`log unmatched` with a limit (log lines read from its NFLOG group stay within the budget),
in stateless mode a SYN-only budget (segments with ACK all pass), and on a gateway
(nsnet.gateway_topology) `allow any ... limit`: TCP and UDP out of lan share one budget, and
IPv6 has its own.
Both the nft ruleset and the iptables + ip6tables files (iptables-nft) are run.
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as D  # noqa: E402
import ktest  # noqa: E402
import nsnet as N  # noqa: E402
from test_nat import load_iptables  # noqa: E402

RATE, BURST, LOG_RATE, LOG_BURST, GROUP = 10, 5, 2, 3, 5
POLICY = f"""\
allow udp/5001 server limit {RATE}/second burst {BURST};
allow udp/5002 server limit {RATE}/second burst {BURST} per source;
allow tcp/5003 server limit {RATE}/second burst {BURST};
allow tcp/5004 server;
reject tcp/5005 server limit {RATE}/second burst {BURST};
allow tcp/5005 server;
log unmatched group {GROUP} limit {LOG_RATE}/second burst {LOG_BURST};
"""
# Without conntrack the limit is on the opening SYN alone: later segments (ACK set) pass.
POLICY_STATELESS = f"""\
established only;
allow tcp/5003 server limit {RATE}/second burst {BURST};
"""
# A gateway's `allow any` with a limit: one rule per family, so every protocol shares the budget.
POLICY_GATEWAY = f"""\
zone lan {{ interface lan0; address 10.1.0.0/24, fd00:1::/64; }}
zone wan {{ interface wan0; default reject; }}
allow any from lan to wan limit {RATE}/second burst {BURST};
"""
BURST_N = 40
FW4, FW6, PEER4, PEER4B, PEER6 = "10.0.0.5", "fd00:a::5", "10.0.0.7", "192.0.2.7", "fd00:a::7"
_sport = iter(range(20000, 60000))


def burst(t, packets):
    """Send the packets (scapy) from the peer at once; seconds it took."""
    t0 = time.monotonic()
    errs = N.send_raw(t.peer, packets)
    dt = time.monotonic() - t0
    if any(errs):
        raise N.NsError(f"send failed: {[e for e in errs if e][:3]}")
    return dt


def make(proto, src, dst, dport, n, flags="S"):
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6
    out = []
    for _ in range(n):
        l3 = IPv6(src=src, dst=dst) if ":" in dst else IP(src=src, dst=dst)
        l4 = TCP(sport=next(_sport), dport=dport, flags=flags) if proto == "tcp" else \
            UDP(sport=next(_sport), dport=dport) / b"x"
        out.append(l3 / l4)
    return out


def accepted(t, proto, src, dport, sports):
    """How many of these source ports from src to dport pinhole let through."""
    time.sleep(0.2)
    seen = N.read_probe(t.fw)
    return sum(1 for s in seen if s.hook == "input" and s.proto == proto and s.src == N._norm(src)
               and s.dport == dport and s.sport in sports)


def within(n, dt, rate, burst_):
    return burst_ <= n <= burst_ + int(rate * dt) + 1


def one_budget(suite, label, t, proto, src, dst, dport):
    pk = make(proto, src, dst, dport, BURST_N)
    dt = burst(t, pk)
    n = accepted(t, proto, src, dport, {p.payload.sport for p in pk})
    return suite.check(f"{label}: {BURST_N} {proto} to {dport} from {src}: {n} accepted in {dt:.3f}s "
                       f"(limit {RATE}/s burst {BURST})", within(n, dt, RATE, BURST),
                       f"{n} accepted, want {BURST}..{BURST + int(RATE * dt) + 1}")


class NflogReader:
    """An nfnetlink_log listener bound to one NFLOG group in a namespace: counts the packets
    logged with a given prefix."""
    NFNL_SUBSYS_ULOG, MSG_PACKET, MSG_CONFIG = 4, 0, 1
    CFG_CMD, CFG_MODE, CFG_QTHRESH, ATTR_PREFIX = 1, 2, 5, 10

    def __init__(self, ns, group):
        self.s = N.socket_in(ns, socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
        self.s.bind((0, 0))
        self.group, self.seq = group, 0
        self._config(struct.pack("BBBB", 1, 0, 0, 0), self.CFG_CMD)            # BIND
        self._config(struct.pack(">IBx", 0, 1), self.CFG_MODE)                # copy meta
        self._config(struct.pack(">I", 1), self.CFG_QTHRESH)                    # at once

    @staticmethod
    def _attr(kind, data):
        a = struct.pack("HH", 4 + len(data), kind) + data
        return a + b"\0" * (-len(a) % 4)

    def _config(self, data, kind):
        self.seq += 1
        body = struct.pack("BBH", socket.AF_UNSPEC, 0, socket.htons(self.group)) + \
            self._attr(kind, data[:1] if kind == self.CFG_CMD else data)
        hdr = struct.pack("IHHII", 16 + len(body), (self.NFNL_SUBSYS_ULOG << 8) | self.MSG_CONFIG,
                          0x1 | 0x4, self.seq, 0)  # NLM_F_REQUEST | NLM_F_ACK
        self.s.send(hdr + body)
        self.s.settimeout(1.0)
        msg = self.s.recv(65536)
        _, typ = struct.unpack_from("IH", msg)
        err = struct.unpack_from("i", msg, 16)[0] if typ == 2 else 0  # NLMSG_ERROR
        if err:
            raise N.NsError(f"nflog config {kind}: errno {-err}")

    def count(self, prefix, quiet=0.5):
        """Logged packets with this prefix until `quiet` seconds pass without one."""
        n = 0
        self.s.settimeout(quiet)
        while True:
            try:
                buf = self.s.recv(1 << 16)
            except socket.timeout:
                return n
            off = 0
            while off + 16 <= len(buf):
                ln, typ = struct.unpack_from("IH", buf, off)
                if ln < 16:
                    break
                if typ == (self.NFNL_SUBSYS_ULOG << 8) | self.MSG_PACKET:
                    a = off + 20
                    while a + 4 <= off + ln:
                        alen, akind = struct.unpack_from("HH", buf, a)
                        if alen < 4:
                            break
                        if akind & 0x7fff == self.ATTR_PREFIX and \
                                buf[a + 4:a + alen].rstrip(b"\0").decode(errors="replace") == prefix:
                            n += 1
                        a += (alen + 3) & ~3
                off += (ln + 3) & ~3

    def close(self):
        self.s.close()


def run(suite, label, load):
    with N.host_topology() as t:
        load(t)
        N.install_probe(t.fw)
        # a rule limit, UDP: the burst passes, then the rate; the rest falls to the default drop
        one_budget(suite, label, t, "udp", PEER4, FW4, 5001)
        # TCP: the SYN of each new connection spends the budget
        one_budget(suite, label, t, "tcp", PEER4, FW4, 5003)
        # unlimited rule for comparison: every SYN passes (the harness counts what it should)
        pk = make("tcp", PEER4, FW4, 5004, BURST_N)
        burst(t, pk)
        n = accepted(t, "tcp", PEER4, 5004, {p.payload.sport for p in pk})
        suite.check(f"{label}: unlimited rule: all {BURST_N} SYNs accepted", n == BURST_N, f"{n}")
        # a limited reject: resets within the budget, the rest dropped, never allowed by the
        # allow after it (the peer's own probe table counts the resets that come back)
        N.install_probe(t.peer)
        pk = make("tcp", PEER4, FW4, 5005, BURST_N)
        dt = burst(t, pk)
        sports = {p.payload.sport for p in pk}
        time.sleep(0.2)
        resets = sum(1 for x in N.read_probe(t.peer) if x.hook == "input" and x.proto == "tcp"
                     and x.src == FW4 and x.sport == 5005 and x.dport in sports)
        suite.check(f"{label}: limited reject: {resets} resets for {BURST_N} SYNs in {dt:.3f}s",
                    within(resets, dt, RATE, BURST), f"{resets} resets")
        n = accepted(t, "tcp", PEER4, 5005, sports)
        suite.check(f"{label}: limited reject: nothing over its budget reaches the allow",
                    n == 0, f"{n} accepted")
        # after a pause the budget is back (a rate, not a one-time allowance)
        time.sleep(1.0)
        one_budget(suite, label, t, "udp", PEER4, FW4, 5001)
        # IPv6 has a budget of its own
        one_budget(suite, label, t, "udp", PEER6, FW6, 5001)
        time.sleep(1.0)
        # per source: two sources, interleaved, a budget each; a plain limit: one for both
        for dport, per_source in ((5002, True), (5001, False)):
            a, b = make("udp", PEER4, FW4, dport, BURST_N), make("udp", PEER4B, FW4, dport, BURST_N)
            mixed = [p for pair in zip(a, b) for p in pair]
            dt = burst(t, mixed)
            na = accepted(t, "udp", PEER4, dport, {p.payload.sport for p in a})
            nb = accepted(t, "udp", PEER4B, dport, {p.payload.sport for p in b})
            if per_source:
                ok = within(na, dt, RATE, BURST) and within(nb, dt, RATE, BURST)
                what = "per source: each source its own budget"
            else:
                ok = within(na + nb, dt, RATE, BURST)
                what = "plain limit: both sources share one budget"
            suite.check(f"{label}: {what} ({na} + {nb} accepted in {dt:.3f}s)", ok,
                        f"{na} from {PEER4}, {nb} from {PEER4B}")
            time.sleep(1.0)
        # log unmatched: a limit on the log lines, not on the drop. The bursts above fell
        # through to it too: wait until its budget has refilled (burst / rate seconds).
        reader = NflogReader(t.fw, GROUP)
        reader.count("pinhole drop input ", quiet=0.2)  # what is still on its way
        time.sleep(LOG_BURST / LOG_RATE + 0.5)
        try:
            pk = make("udp", PEER4, FW4, 5999, BURST_N)
            dt = burst(t, pk)
            n = reader.count("pinhole drop input ")
        finally:
            reader.close()
        suite.check(f"{label}: log unmatched: {n} of {BURST_N} dropped packets logged in {dt:.3f}s "
                    f"(limit {LOG_RATE}/s burst {LOG_BURST})", within(n, dt, LOG_RATE, LOG_BURST),
                    f"{n} logged")
        n = accepted(t, "udp", PEER4, 5999, {p.payload.sport for p in pk})
        suite.check(f"{label}: log unmatched: the unlogged packets are dropped all the same", n == 0, f"{n}")


def run_stateless(suite, label, load):
    with N.host_topology() as t:
        load(t)
        N.install_probe(t.fw)
        one_budget(suite, f"{label} stateless", t, "tcp", PEER4, FW4, 5003)
        pk = make("tcp", PEER4, FW4, 5003, BURST_N, flags="A")
        burst(t, pk)
        n = accepted(t, "tcp", PEER4, 5003, {p.payload.sport for p in pk})
        suite.check(f"{label} stateless: segments with ACK are not limited ({n} of {BURST_N})",
                    n == BURST_N, f"{n}")


def run_gateway(suite, label, load):
    with N.gateway_topology() as t:
        load(t)
        N.install_probe(t.firewall)
        for lan, wan in (("10.1.0.2", "203.0.113.2"), ("fd00:1::2", "2001:db8:2::2")):
            udp = make("udp", lan, wan, 6001, BURST_N // 2)
            tcp = make("tcp", lan, wan, 6002, BURST_N // 2)
            mixed = [p for pair in zip(udp, tcp) for p in pair]
            t0 = time.monotonic()
            errs = N.send_raw(t.lan, mixed)
            dt = time.monotonic() - t0
            if any(errs):
                raise N.NsError(f"send failed: {[e for e in errs if e][:3]}")
            time.sleep(0.2)
            seen = N.read_probe(t.firewall)
            sports = {p.payload.sport for p in mixed}
            n = {proto: sum(1 for x in seen if x.hook == "forward" and x.proto == proto and
                            x.src == N._norm(lan) and x.sport in sports) for proto in ("udp", "tcp")}
            # the IPv6 burst right after the IPv4 one: within its budget only if it has its own
            suite.check(f"{label} gateway: allow any: udp + tcp from {lan} share one budget "
                        f"({n['udp']} + {n['tcp']} forwarded of {BURST_N} in {dt:.3f}s, "
                        f"limit {RATE}/s burst {BURST})",
                        within(n["udp"] + n["tcp"], dt, RATE, BURST), f"{n}")


def main():
    ktest.preflight_or_skip("rate limits")
    binary = D.pinhole_binary()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"SKIP rate limits: no pinhole binary at {binary}", flush=True)
        sys.exit(ktest.SKIP)
    suite = ktest.Suite("rate limits")
    with tempfile.TemporaryDirectory() as tmp:
        pol = os.path.join(tmp, "limits.pin")
        with open(pol, "w") as f:
            f.write(POLICY)
        pol_sl = os.path.join(tmp, "limits-stateless.pin")
        with open(pol_sl, "w") as f:
            f.write(POLICY_STATELESS)
        pol_gw = os.path.join(tmp, "limits-gateway.pin")
        with open(pol_gw, "w") as f:
            f.write(POLICY_GATEWAY)
        for policy, runner in ((pol, run), (pol_sl, run_stateless), (pol_gw, run_gateway)):
            out = {}
            for target in ("nft", "iptables", "ip6tables"):
                out[target] = policy + "." + target
                r = subprocess.run([binary, "compile", "-t", target, "-o", out[target], policy],
                                   capture_output=True, text=True, timeout=60)
                if not suite.check(f"compile -t {target} {os.path.basename(policy)}",
                                   r.returncode == 0, r.stderr):
                    suite.finish()
            with open(out["nft"]) as f:
                text = f.read()
            try:
                runner(suite, "nft", lambda t: N.load_nft(t.firewall, text))
            except Exception as e:  # noqa: BLE001
                suite.error("nft", e)
            if subprocess.run(["sh", "-c", "command -v iptables-nft-restore"],
                              capture_output=True).returncode:
                suite.skip("iptables", "iptables-nft-restore not installed")
                continue
            try:
                runner(suite, "iptables", lambda t: load_iptables(
                    t.firewall, [("iptables", out["iptables"]), ("ip6tables", out["ip6tables"])]))
            except Exception as e:  # noqa: BLE001
                suite.error("iptables", e)
    suite.finish()


if __name__ == "__main__":
    main()
