#!/usr/bin/python3
"""Differential test: what the kernel does with a compiled policy vs what pinhole's IR says.

differential(policy, topology, n_packets, seed) compiles the policy with `pinhole compile`,
loads it into the firewall namespace of a fresh topology, sends random packets for real (TCP
SYN, UDP, ICMP echo request; IPv4 and IPv6; each a distinct connection so conntrack sees it as
NEW), reads the kernel's verdict for each (accepted = reached nsnet's probe table behind
pinhole's chains; rejected = not accepted and a TCP reset or ICMP unreachable for it came back
to the sender; dropped = neither) and compares with `pinhole explain --brief POLICY -`.

Packets are sent in the order explain judges them, because a scoped channel's verdict depends
on what came before: a control flow's packet records its peer in a dynamic set. When the
compiled ruleset has such sets, some packets come in pairs built from its rules: a control
packet (the rules that `update` a set) and then a channel packet (the rules that look the set
up) with the same peer, or the channel packet alone, or from another address of that peer.

The binary comes from $PINHOLE, default build/pinhole under the repository root.
"""
import dataclasses
import os
import random
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsnet  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
WELL_KNOWN = ([20, 21, 22, 23, 24, 25, 53, 80, 111, 137, 138, 139, 443, 445, 1863, 2049]
              + list(range(6881, 6890)))
WARMUP_ID = 0xFFFF  # ICMP id of the neighbour warm-up echoes; never used by generated packets


def pinhole_binary():
    """Path of the pinhole binary: $PINHOLE, else build/pinhole in the repository."""
    return os.environ.get("PINHOLE") or os.path.join(REPO, "build", "pinhole")


@dataclasses.dataclass
class Packet:
    direction: str      # in / out / fwd, as the firewall sees it
    proto: str          # tcp / udp / icmp (ICMPv6 on IPv6)
    family: int         # 4 / 6
    src: str
    sport: int          # ICMP: 0
    dst: str
    dport: int          # ICMP: echo identifier
    sender: str         # namespace that sends it
    iif: str = None
    oif: str = None
    hook: str = None

    def explain_line(self):
        """The packet in `pinhole explain` syntax."""
        if self.proto == "icmp":
            s = f"icmp {self.src} -> {self.dst} {self.direction}"
        else:
            def ep(a, p):
                return f"[{a}]:{p}" if self.family == 6 else f"{a}:{p}"
            s = f"{self.proto} {ep(self.src, self.sport)} -> {ep(self.dst, self.dport)} " \
                f"{self.direction}"
        if self.iif:
            s += f" iif {self.iif}"
        if self.oif:
            s += f" oif {self.oif}"
        if self.proto == "tcp":
            s += " syn"
        elif self.proto == "icmp":
            s += " echo-request"
        return s + " new"

    def scapy(self):
        from scapy.layers.inet import ICMP, IP, TCP, UDP
        from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
        l3 = IPv6(src=self.src, dst=self.dst) if self.family == 6 else IP(src=self.src,
                                                                            dst=self.dst)
        if self.proto == "tcp":
            return l3 / TCP(sport=self.sport, dport=self.dport, flags="S", seq=12345)
        if self.proto == "udp":
            return l3 / UDP(sport=self.sport, dport=self.dport) / b"pinhole-diff"
        if self.family == 6:
            return l3 / ICMPv6EchoRequest(id=self.dport, seq=1) / b"pinhole-diff"
        return l3 / ICMP(type=8, id=self.dport, seq=1) / b"pinhole-diff"

    def seen_key(self):
        proto = "icmpv6" if (self.proto == "icmp" and self.family == 6) else self.proto
        return nsnet.Seen(self.hook, proto, nsnet._norm(self.src), self.sport,
                          nsnet._norm(self.dst), self.dport)


@dataclasses.dataclass
class DiffResult:
    policy: str
    topology: str
    packets: list
    kernel: list        # accept / drop / reject per packet
    oracle: list        # explain's line per packet
    send_errors: list   # None or errno name per packet (EPERM: own output chain dropped it)

    @property
    def mismatches(self):
        return [(p, k, o) for p, k, o in zip(self.packets, self.kernel, self.oracle)
                if o.split()[0] != k]

    @property
    def ok(self):
        return not self.mismatches

    def summary(self, limit=10):
        from collections import Counter
        c = Counter(self.kernel)
        lines = [f"{self.policy} ({self.topology}): {len(self.packets)} packets, kernel "
                 + ", ".join(f"{v} {c[v]}" for v in ("accept", "drop", "reject"))
                 + f"; {len(self.mismatches)} mismatches"]
        for p, k, o in self.mismatches[:limit]:
            lines.append(f"  {p.explain_line()}: kernel {k}, pinhole explain says {o!r}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- generation

def _endpoints(topo):
    """[(direction, sender ns, src addrs by family, dst addrs by family, iif, oif, hook)]"""
    def fam(lst):
        return {4: [a for a in lst if ":" not in a], 6: [a for a in lst if ":" in a]}
    if topo.kind == "host":
        fw = fam(topo.addrs[topo.fw])
        peer = fam(topo.addrs[topo.peer])
        return [("in", topo.peer, peer, fw, "eth0", None, "input"),
                ("out", topo.fw, fw, peer, None, "eth0", "output")]
    lan = fam(topo.addrs[topo.lan])
    wan = fam(topo.addrs[topo.wan])
    return [("fwd", topo.lan, lan, wan, "lan0", "wan0", "forward"),
            ("fwd", topo.wan, wan, lan, "wan0", "lan0", "forward")]


@dataclasses.dataclass
class Shape:
    """What one scoped rule of a compiled ruleset matches: enough to build a packet for it."""
    chain: str          # input / output / forward
    family: int
    proto: str          # tcp / udp
    sport: list         # [(lo, hi)], [] = any
    dport: list
    iif: str            # gateway: the interface it comes in on, or None
    oif: str
    peer_is_src: bool   # the address the set holds is the packet's source


_RANGE = r"(\d+(?:-\d+)?|\{ [\d, -]+ \})"


def _ranges(text):
    out = []
    for part in text.strip("{} ").split(","):
        lo, _, hi = part.strip().partition("-")
        out.append((int(lo), int(hi or lo)))
    return out


def scoped_shapes(ruleset):
    """{set name: {"update": [Shape], "lookup": [Shape]}} from compiled nft text: the rules
    that record a peer (new packets only: the refreshers of established connections are left
    out) and the rules that admit it."""
    shapes, chain = {}, None
    for line in ruleset.splitlines():
        m = re.match(r"\s*chain (\w+) \{", line)
        if m:
            chain = m.group(1)
            continue
        body = line.split(' comment "')[0]
        if "@ph_" not in body or "ct state" in body:
            continue
        upd = re.search(r"update @(\w+) \{ (ip6?) (saddr|daddr) \}", body)
        look = re.search(r"(ip6?) (saddr|daddr) @(ph_\w+)", body)
        proto = re.search(r"\b(tcp|udp) (?:sport|dport)|meta l4proto (tcp|udp)", body)
        if not (upd or look) or not proto:
            continue
        name, fam, end = (upd.group(1), upd.group(2), upd.group(3)) if upd else \
            (look.group(3), look.group(1), look.group(2))
        ports = {}
        for kw in ("sport", "dport"):
            pm = re.search(rf"\b(?:tcp|udp) {kw} {_RANGE}", body)
            ports[kw] = _ranges(pm.group(1)) if pm else []
        iif = re.search(r'iifname "([^"*]+)"', body)
        oif = re.search(r'oifname "([^"*]+)"', body)
        shapes.setdefault(name, {"update": [], "lookup": []})["update" if upd else "lookup"].append(
            Shape(chain, 6 if fam == "ip6" else 4, proto.group(1) or proto.group(2),
                  ports["sport"], ports["dport"], iif and iif.group(1), oif and oif.group(1),
                  end == "saddr"))
    return {k: v for k, v in shapes.items() if v["update"] and v["lookup"]}


def _fits(shape, end):
    """Does an endpoint of _endpoints() carry packets of this shape?"""
    direction, _, _, _, iif, oif, hook = end
    return hook == shape.chain and (not shape.iif or shape.iif == iif) and \
        (not shape.oif or shape.oif == oif)


def _shaped(rng, topo, shape, peer, used):
    """A packet of `shape` with `peer` at the end the set holds, or None."""
    ends = [e for e in _endpoints(topo) if _fits(shape, e)]
    if not ends:
        return None
    direction, sender, srcs, dsts, iif, oif, hook = rng.choice(ends)
    if shape.peer_is_src:
        if peer not in srcs[shape.family]:
            return None
        src, dst = peer, rng.choice(dsts[shape.family])
    else:
        if peer not in dsts[shape.family]:
            return None
        src, dst = rng.choice(srcs[shape.family]), peer
    for _ in range(20):
        def pick(ranges):
            lo, hi = rng.choice(ranges) if ranges else (1024, 65535)
            return rng.randint(lo, hi)
        sport, dport = pick(shape.sport), pick(shape.dport)
        key = (shape.proto, frozenset(((src, sport), (dst, dport))))
        if key not in used and (src, sport) != (dst, dport):
            used.add(key)
            return Packet(direction, shape.proto, shape.family, src, sport, dst, dport, sender,
                          iif, oif, hook)
    return None


def _peers(topo, shape):
    """Addresses that can be at the peer's end of packets of this shape."""
    out = []
    for e in _endpoints(topo):
        if _fits(shape, e):
            out += (e[2] if shape.peer_is_src else e[3])[shape.family]
    return sorted(set(out))


def _scoped_packets(rng, topo, shapes, used):
    """A control packet and then a channel packet for the same peer; sometimes the channel
    packet alone, or for another address of that peer, or nothing fits."""
    name = rng.choice(sorted(shapes))
    upd = rng.choice(shapes[name]["update"])
    look = rng.choice(shapes[name]["lookup"])
    peers = [a for a in _peers(topo, upd) if a in _peers(topo, look)]
    if not peers:
        return []
    peer = rng.choice(peers)
    out = []
    r = rng.random()
    if r < 0.8:
        out.append(_shaped(rng, topo, upd, peer, used))
    other = [a for a in peers if a != peer]
    if r >= 0.9 and other:
        peer = rng.choice(other)
    out.append(_shaped(rng, topo, look, peer, used))
    return [p for p in out if p is not None]


def generate(topo, n, seed, ruleset=None):
    """n random packets for topo, each with a 5-tuple used by no other packet either way;
    with the compiled `ruleset` (nft text), some of them control/channel pairs of its scoped
    channels."""
    rng = random.Random(seed)
    ends = _endpoints(topo)
    shapes = scoped_shapes(ruleset) if ruleset else {}
    used = set()
    icmp_ids = iter(rng.sample(range(1, WARMUP_ID), n))
    out = []
    while len(out) < n:
        if shapes and rng.random() < 0.15:
            out += _scoped_packets(rng, topo, shapes, used)[:n - len(out)]
            continue
        direction, sender, srcs, dsts, iif, oif, hook = rng.choice(ends)
        family = rng.choice((4, 6))
        src, dst = rng.choice(srcs[family]), rng.choice(dsts[family])
        r = rng.random()
        proto = "tcp" if r < 0.5 else "udp" if r < 0.85 else "icmp"
        if proto == "icmp":
            sport, dport = 0, next(icmp_ids)
        else:
            dport = rng.choice(WELL_KNOWN) if rng.random() < 0.65 else rng.randint(1, 65535)
            sport = rng.choice(WELL_KNOWN) if rng.random() < 0.25 else rng.randint(1024, 65535)
            key = (proto, frozenset(((src, sport), (dst, dport))))
            if key in used or (src, sport) == (dst, dport):
                continue
            used.add(key)
        out.append(Packet(direction, proto, family, src, sport, dst, dport, sender, iif, oif,
                          hook))
    return out


# --------------------------------------------------------------------------- pinhole side

def compile_policy(policy, pinhole=None):
    """Run `pinhole compile POLICY`; return the ruleset text (raise RuntimeError otherwise)."""
    r = subprocess.run([pinhole or pinhole_binary(), "compile", policy], capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"pinhole compile {policy}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def explain(policy, packets, pinhole=None):
    """Feed packets to `pinhole explain --brief POLICY -`; return one verdict line per packet."""
    lines = [p.explain_line() for p in packets]
    r = subprocess.run([pinhole or pinhole_binary(), "explain", "--brief", policy, "-"],
                       input="\n".join(lines) + "\n", capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"pinhole explain: exit {r.returncode}: {r.stderr.strip()}")
    got = [ln.strip() for ln in r.stdout.splitlines() if ln.strip()]
    if len(got) != len(lines):
        raise RuntimeError(f"pinhole explain: {len(lines)} packets in, {len(got)} lines out")
    return got


# --------------------------------------------------------------------------- kernel side

ETH_P_ALL = 0x0003


def _parse_ip(b):
    """(proto number, src, dst, l4 bytes) of an IPv4/IPv6 packet, or None."""
    if len(b) < 20:
        return None
    if b[0] >> 4 == 4:
        ihl = (b[0] & 0x0F) * 4
        return b[9], socket.inet_ntop(socket.AF_INET, b[12:16]), \
            socket.inet_ntop(socket.AF_INET, b[16:20]), b[ihl:]
    if b[0] >> 4 == 6 and len(b) >= 40:
        return b[6], socket.inet_ntop(socket.AF_INET6, b[8:24]), \
            socket.inet_ntop(socket.AF_INET6, b[24:40]), b[40:]
    return None


def _l4_key(proto, src, dst, l4):
    """Seen-like key of an (inner) packet: (proto, src, sport, dst, dport)."""
    if proto in (6, 17) and len(l4) >= 4:
        sport, dport = struct.unpack("!HH", l4[:4])
        return ("tcp" if proto == 6 else "udp", src, sport, dst, dport)
    if proto in (1, 58) and len(l4) >= 6:
        return ("icmp", src, 0, dst, struct.unpack("!H", l4[4:6])[0])
    return None


def _rejections(frames):
    """Keys of packets that were answered with a TCP reset or an ICMP(v6) unreachable."""
    keys = set()
    for f in frames:
        if len(f) < 14 or struct.unpack("!H", f[12:14])[0] not in (0x0800, 0x86DD):
            continue
        ip = _parse_ip(f[14:])
        if not ip:
            continue
        proto, src, dst, l4 = ip
        if proto == 6 and len(l4) >= 14 and l4[13] & 0x04:         # RST: answers dst->src
            sport, dport = struct.unpack("!HH", l4[:4])
            keys.add(("tcp", dst, dport, src, sport))
        elif (proto == 1 and l4[:1] == b"\x03") or (proto == 58 and l4[:1] == b"\x01"):
            inner = _parse_ip(l4[8:])
            if inner:
                k = _l4_key(*inner)
                if k:
                    keys.add(k)
    return keys


class _Sniffer:
    """AF_PACKET capture of every frame in one namespace while packets are sent."""

    def __init__(self, ns):
        self.sock = nsnet.socket_in(ns, socket.AF_PACKET, socket.SOCK_RAW,
                                    socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
        self.sock.setblocking(False)

    def drain(self):
        frames = []
        while True:
            try:
                frames.append(self.sock.recv(65535))
            except BlockingIOError:
                break
        self.sock.close()
        return frames


def kernel_verdicts(topo, packets, settle=0.3):
    """Send packets for real; return (verdicts, send errors) from the firewall's view."""
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
    fw = topo.firewall
    # Resolve neighbours first so a burst is not queued (and partly dropped) behind ARP/ND.
    warm = {}
    for p in packets:
        warm.setdefault(p.sender, set()).add((p.family, p.src, p.dst))
    for ns, pairs in warm.items():
        nsnet.send_raw(ns, [IPv6(src=s, dst=d) / ICMPv6EchoRequest(id=WARMUP_ID) if f == 6
                            else IP(src=s, dst=d) / ICMP(id=WARMUP_ID) for f, s, d in pairs])
    time.sleep(0.2)
    senders = sorted({p.sender for p in packets})
    sniffers = {ns: _Sniffer(ns) for ns in senders}
    errors = [None] * len(packets)
    socks = {}
    try:
        # In list order: explain judges them in that order, and a scoped channel's verdict
        # depends on the control packets before it.
        for i, p in enumerate(packets):
            key = (p.sender, p.family)
            if key not in socks:
                socks[key] = nsnet.socket_in(p.sender, socket.AF_INET6 if p.family == 6
                                             else socket.AF_INET, socket.SOCK_RAW,
                                             socket.IPPROTO_RAW)
            prev = packets[i - 1].sender if i else p.sender
            if prev != p.sender and prev != fw:
                time.sleep(0.002)  # the other namespace's packet reaches the firewall first
            try:
                socks[key].sendto(bytes(p.scapy()), (p.dst, 0))
            except OSError as e:
                errors[i] = nsnet._outcome(e)
            if i % 50 == 49:
                time.sleep(0.005)
        time.sleep(settle)
        seen = nsnet.read_probe(fw)
    finally:
        for s in socks.values():
            s.close()
        frames = [f for s in sniffers.values() for f in s.drain()]
    rejected = _rejections(frames)
    verdicts = []
    for p in packets:
        k = p.seen_key()
        if k in seen:
            verdicts.append("accept")
        elif (p.proto, nsnet._norm(p.src), p.sport, nsnet._norm(p.dst), p.dport) in rejected:
            verdicts.append("reject")
        else:
            verdicts.append("drop")
    return verdicts, errors


def _quiet_icmp_ratelimit(ns):
    """Rejects answer with ICMP errors, which the kernel rate-limits per destination (of 40
    rejected datagrams to one peer, 6 got an answer): a burst of rejected packets would look
    dropped. Lift the limit in the firewall namespace only."""
    nsnet.ns_run(ns, ["sysctl", "-qw", "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0"])
    nsnet.ns_run(ns, ["sysctl", "-qw", "net.ipv4.icmp_msgs_per_sec=1000000",
                      "net.ipv4.icmp_msgs_burst=1000000"], check=False)


def differential(policy_path, topology="host", n_packets=200, seed=1, *, pinhole=None):
    """Compile policy_path, load it in a fresh `topology` ("host" or "gateway", or a live
    nsnet.Topology whose firewall has no ruleset yet), send n_packets random packets and
    compare the kernel's verdicts with `pinhole explain --brief`. Returns a DiffResult."""
    ruleset = compile_policy(policy_path, pinhole)
    own = isinstance(topology, str)
    topo = ({"host": nsnet.host_topology, "gateway": nsnet.gateway_topology}[topology]()
            if own else topology)
    try:
        _quiet_icmp_ratelimit(topo.firewall)
        nsnet.load_nft(topo.firewall, ruleset)
        nsnet.install_probe(topo.firewall)
        packets = generate(topo, n_packets, seed, ruleset)
        oracle = explain(policy_path, packets, pinhole)
        kernel, errors = kernel_verdicts(topo, packets)
    finally:
        if own:
            topo.close()
    return DiffResult(policy_path, topo.kind, packets, kernel, oracle, errors)


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("policy")
    ap.add_argument("--topology", default="host", choices=("host", "gateway"))
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    res = differential(a.policy, a.topology, a.n, a.seed)
    print(res.summary(limit=50))
    sys.exit(0 if res.ok else 1)
