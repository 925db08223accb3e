#!/usr/bin/python3
"""Differential test with address translation: what the kernel does with a gateway policy that
masquerades, snats and port-forwards vs what `pinhole explain` predicts.

natdiff(seed, n_packets, backend) draws a random gateway policy (generate_policy: allows,
masquerade or snat per family, tcp/udp port forwards to inside hosts of both families, some
with hairpin) and random packets (lan -> wan, wan -> the gateway's own addresses, wan -> an
inside host directly, lan -> the gateway's public address), loads the compiled ruleset into
the gw namespace of a lan - gw - wan topology (nft, or the iptables + ip6tables files), sends
every packet for real and sniffs the lan and wan namespaces. Each packet carries a unique tag
(TCP sequence number, UDP payload), so what arrives can be matched to what was sent whatever
translation rewrote its addresses and ports. The kernel's answer for a packet is "drop" (it
arrived nowhere) or "accept" with the 5-tuple it arrived with and the namespace it arrived in;
pinhole's answer comes from `pinhole explain`: the verdict, the dnat "filtered as" tuple, and
the snat "leaves as" tuple (masquerade: the gateway's address on the interface it leaves by).

Packets that explain routes to the gateway itself (input without a forward) are left out: they
arrive nowhere a sniffer can see. For a packet that explain DNATs, it is asked again with the
interface the new destination is routed by (`oif`), as the kernel knows it after routing.
"""
import dataclasses
import os
import random
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as D  # noqa: E402
import nsnet as N  # noqa: E402

GW = {"lan0": {4: "10.1.0.1", 6: "fd00:1::1"}, "wan0": {4: "203.0.113.1", 6: "2001:db8:2::1"}}
LAN_HOSTS = {4: ["10.1.0.2", "10.1.0.3", "10.1.0.4"], 6: ["fd00:1::2", "fd00:1::3", "fd00:1::4"]}
WAN_HOSTS = {4: ["203.0.113.2"], 6: ["2001:db8:2::2"]}
SNAT_ADDR = {4: "203.0.113.9", 6: "2001:db8:2::9"}  # fixed public source: wan routes it back
PORTS = [22, 53, 80, 443, 8080, 8443, 2222, 5353]


def _route(addr):
    """The gateway interface an address is routed by."""
    return "lan0" if addr.startswith(("10.1.0.", "fd00:1:")) else "wan0"


def _owner(addr):
    return "lan" if _route(addr) == "lan0" else "wan"


# --------------------------------------------------------------------------- policies

def generate_policy(rng):
    """(policy text, [allows and forwards as (proto, port, family)]) of a random translating
    gateway."""
    lines = ["zone lan { interface lan0; address 10.1.0.0/24, fd00:1::/64; }",
             "zone wan { interface wan0; }"]
    allows = []
    for _ in range(rng.randint(1, 3)):
        allows.append((rng.choice(("tcp", "udp")), rng.choice(PORTS), None))
        lines.append(f"allow {allows[-1][0]}/{allows[-1][1]} from lan to wan;")
    if rng.random() < 0.3:
        lines.append(f"deny tcp/{rng.choice(PORTS)} from 10.1.0.4 to wan;")
    r = rng.random()
    if r < 0.45:
        fam = rng.choice(("", "", " family ipv4, ipv6", " family ipv6"))
        src = rng.choice(("", " from lan", " from 10.1.0.2"))
        lines.append(f"masquerade{src} to wan{fam};")
    elif r < 0.8:
        fam = rng.choice((4, 6))
        lines.append(f"snat from lan to wan as {SNAT_ADDR[fam]};")
    forwards, used = [], set()
    for _ in range(rng.randint(0, 3)):
        proto, port, fam = rng.choice(("tcp", "udp")), rng.choice(PORTS), rng.choice((4, 6))
        if (proto, port, fam) in used:
            continue
        used.add((proto, port, fam))
        host = rng.choice(LAN_HOSTS[fam][1:])
        s = f"forward {proto}/{port} from wan to {host}"
        if rng.random() < 0.5:
            s += f" port {rng.choice(PORTS)}"
        if rng.random() < 0.5:
            s += " hairpin lan"
        lines.append(s + ";")
        forwards.append((proto, port, fam))
    return "\n".join(lines) + "\n", allows, forwards


# --------------------------------------------------------------------------- packets

@dataclasses.dataclass
class NatPacket:
    tag: int
    proto: str          # tcp / udp
    family: int
    src: str
    sport: int
    dst: str
    dport: int
    sender: str         # lan / wan
    direction: str      # in / fwd, as the gateway sees it before translation
    iif: str
    oif: str = None     # forwarded: the interface it leaves by

    def explain_line(self, oif=None):
        def ep(a, p):
            return f"[{a}]:{p}" if self.family == 6 else f"{a}:{p}"
        s = f"{self.proto} {ep(self.src, self.sport)} -> {ep(self.dst, self.dport)} " \
            f"{self.direction} iif {self.iif}"
        oif = oif or self.oif
        if oif:
            s += f" oif {oif}"
        return s + (" syn new" if self.proto == "tcp" else " new")

    def scapy(self):
        from scapy.layers.inet import IP, TCP, UDP
        from scapy.layers.inet6 import IPv6
        l3 = IPv6(src=self.src, dst=self.dst) if self.family == 6 else IP(src=self.src,
                                                                            dst=self.dst)
        if self.proto == "tcp":
            return l3 / TCP(sport=self.sport, dport=self.dport, flags="S", seq=self.tag)
        return l3 / UDP(sport=self.sport, dport=self.dport) / _udp_payload(self.tag)


def _udp_payload(tag):
    return b"phnat" + struct.pack("!I", tag)


def generate_packets(rng, allows, forwards, n):
    """n packets with distinct 5-tuples, most aimed at the policy's allowed or forwarded
    ports."""
    out, used = [], set()
    while len(out) < n:
        fam = rng.choice((4, 6))
        kind = rng.choice(("out", "out", "fwdport", "fwdport", "direct", "hairpin", "hairpin"))
        if kind in ("fwdport", "hairpin") and forwards and rng.random() < 0.8:
            proto, dport, _ = rng.choice(forwards)
        elif kind == "out" and rng.random() < 0.7:
            proto, dport, _ = rng.choice(allows)
        else:
            proto, dport = rng.choice(("tcp", "udp")), rng.choice(PORTS + [rng.randint(1, 65535)])
        sport = rng.randint(20000, 60000)
        lan_src = rng.choice(LAN_HOSTS[fam][:1] + LAN_HOSTS[fam][2:])  # .3 is a forward target
        if kind == "out":
            p = (lan_src, WAN_HOSTS[fam][0], "lan", "fwd", "lan0", "wan0")
        elif kind == "fwdport":
            p = (WAN_HOSTS[fam][0], GW["wan0"][fam], "wan", "in", "wan0", None)
        elif kind == "direct":
            p = (WAN_HOSTS[fam][0], rng.choice(LAN_HOSTS[fam]), "wan", "fwd", "wan0", "lan0")
        else:
            p = (lan_src, GW["wan0"][fam], "lan", "in", "lan0", None)
        src, dst, sender, direction, iif, oif = p
        key = (proto, src, sport, dst, dport)
        if key in used:
            continue
        used.add(key)
        out.append(NatPacket(len(out) + 1000, proto, fam, src, sport, dst, dport, sender,
                             direction, iif, oif))
    return out


# --------------------------------------------------------------------------- pinhole side

_TUPLE = re.compile(r"(tcp|udp) \[?([0-9a-f.:]+?)\]?:(\d+) -> \[?([0-9a-f.:]+?)\]?:(\d+) ")


def _explain_full(policy, lines):
    r = subprocess.run([D.pinhole_binary(), "explain", policy, "-"], input="\n".join(lines) + "\n",
                       capture_output=True, text=True, timeout=120)
    if r.returncode not in (0, 1):
        raise RuntimeError(f"pinhole explain: exit {r.returncode}: {r.stderr.strip()}")
    blocks = [b for b in r.stdout.split("\npacket:") if b.strip()]
    if len(blocks) != len(lines):
        raise RuntimeError(f"pinhole explain: {len(lines)} packets in, {len(blocks)} answers")
    return blocks


def _parse(block, pkt):
    """pinhole's prediction from one explain answer: ("drop"|"reject", None, None),
    ("local", None, None) or ("accept", (proto, src, sport, dst, dport), receiving ns),
    and the statements that rewrote it."""
    verdict = re.search(r"^verdict: (\w+)", block, re.M).group(1)
    dnat = re.search(r"^dnat: +(\S+:\d+):", block, re.M)
    snat = re.search(r"^snat: +(\S+:\d+):", block, re.M)
    rules = {"dnat": dnat and dnat.group(1), "snat": snat and snat.group(1)}
    if verdict != "accept":
        return verdict, None, rules
    src, sport, dst, dport = pkt.src, pkt.sport, pkt.dst, pkt.dport
    if dnat:
        m = _TUPLE.search(block[block.index("filtered as:"):])
        src, sport, dst, dport = m.group(2), int(m.group(3)), m.group(4), int(m.group(5))
    elif pkt.direction == "in":
        return "local", None, rules
    if snat:
        tail = block[snat.start():]
        if "leaves as:" in tail.split("nft:")[0]:
            m = _TUPLE.search(tail[tail.index("leaves as:"):])
            src, sport = m.group(2), int(m.group(3))
        else:  # masquerade: the gateway's address on the interface it leaves by
            src = GW[_route(dst)][pkt.family]
    return "accept", (pkt.proto, N._norm(src), sport, N._norm(dst), dport), rules, _owner(dst)


def predict(policy, packets):
    """One prediction per packet: (verdict, tuple or None, rules, receiving ns or None)."""
    first = _explain_full(policy, [p.explain_line() for p in packets])
    again = [i for i, b in enumerate(first) if re.search(r"^dnat:", b, re.M)]
    out = [_parse(b, p) for b, p in zip(first, packets)]
    if again:
        oifs = []
        for i in again:
            m = _TUPLE.search(first[i][first[i].index("filtered as:"):])
            oifs.append(_route(m.group(4)))
        second = _explain_full(policy, [packets[i].explain_line(o) for i, o in zip(again, oifs)])
        for i, b in zip(again, second):
            out[i] = _parse(b, packets[i])
    return [o if len(o) == 4 else o + (None,) for o in out]


# --------------------------------------------------------------------------- kernel side

PACKET_OUTGOING = 4


def _tag_of(proto, l4):
    if proto == 6 and len(l4) >= 8:
        return struct.unpack("!I", l4[4:8])[0]
    if proto == 17 and len(l4) >= 17 and l4[8:13] == b"phnat":
        return struct.unpack("!I", l4[13:17])[0]
    return None


def _arrivals(frames, ns):
    """{tag: (tuple, ns)} of the tagged packets that came in to namespace ns."""
    got = {}
    for f, pkttype in frames:
        if pkttype == PACKET_OUTGOING or len(f) < 14:
            continue
        if struct.unpack("!H", f[12:14])[0] not in (0x0800, 0x86DD):
            continue
        ip = D._parse_ip(f[14:])
        if not ip or ip[0] not in (6, 17):
            continue
        proto, src, dst, l4 = ip
        tag = _tag_of(proto, l4)
        if tag is None or len(l4) < 4:
            continue
        sport, dport = struct.unpack("!HH", l4[:4])
        got[tag] = (("tcp" if proto == 6 else "udp", N._norm(src), sport, N._norm(dst), dport), ns)
    return got


class _Sniffer(D._Sniffer):
    def drain(self):
        frames = []
        while True:
            try:
                data, addr = self.sock.recvfrom(65535)
                frames.append((data, addr[2]))
            except BlockingIOError:
                break
        self.sock.close()
        return frames


def kernel_answers(topo, packets):
    """Send the packets for real from their namespaces; {tag: (tuple, ns)} of what arrived."""
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
    for ns, fam_pairs in (("lan", [(4, "10.1.0.2", "10.1.0.1"), (6, "fd00:1::2", "fd00:1::1")]),
                          ("wan", [(4, "203.0.113.2", "203.0.113.1"),
                                   (6, "2001:db8:2::2", "2001:db8:2::1")])):
        N.send_raw(getattr(topo, ns), [IPv6(src=s, dst=d) / ICMPv6EchoRequest(id=D.WARMUP_ID)
                                       if f == 6 else IP(src=s, dst=d) / ICMP(id=D.WARMUP_ID)
                                       for f, s, d in fam_pairs])
    time.sleep(0.3)
    sniffers = {ns: _Sniffer(getattr(topo, ns)) for ns in ("lan", "wan")}
    socks = {}
    try:
        for i, p in enumerate(packets):
            key = (p.sender, p.family)
            if key not in socks:
                socks[key] = N.socket_in(getattr(topo, p.sender), socket.AF_INET6 if p.family == 6
                                         else socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
            socks[key].sendto(bytes(p.scapy()), (p.dst, 0))
            if i % 20 == 19:
                time.sleep(0.01)
        time.sleep(0.4)
    finally:
        for s in socks.values():
            s.close()
    got = {}
    for ns, s in sniffers.items():
        got.update(_arrivals(s.drain(), ns))
    return got


def _setup_hosts(topo):
    """The inside hosts .3/.4 (forward targets) on lan's interface; wan answers for the fixed
    snat addresses, so their rewritten packets are delivered like the masqueraded ones."""
    for a in ("10.1.0.3/24", "10.1.0.4/24"):
        N.ns_run(topo.lan, [N.IP, "addr", "add", a, "dev", "eth0"])
    for a in ("fd00:1::3/64", "fd00:1::4/64"):
        N.ns_run(topo.lan, [N.IP, "addr", "add", a, "dev", "eth0", "nodad"])
    N.ns_run(topo.wan, [N.IP, "route", "add", "203.0.113.9/32", "via", "203.0.113.1"])
    N.ns_run(topo.wan, [N.IP, "-6", "route", "add", "2001:db8:2::9/128", "via", "2001:db8:2::1"])
    for ns in (topo.lan, topo.wan):  # see every arrival, whatever its source address
        N.ns_run(ns, ["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0",
                      "net.ipv4.conf.eth0.rp_filter=0"])


@dataclasses.dataclass
class NatResult:
    seed: int
    backend: str
    policy: str
    mismatches: list    # (packet, kernel answer, pinhole answer)
    counts: dict

    @property
    def ok(self):
        return not self.mismatches

    def summary(self, limit=8):
        lines = [f"seed {self.seed} ({self.backend}): " +
                 ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) +
                 f"; {len(self.mismatches)} mismatches"]
        if self.mismatches:
            lines.append("  policy:\n    " + self.policy.rstrip().replace("\n", "\n    "))
        for p, k, o in self.mismatches[:limit]:
            lines.append(f"  {p.explain_line()}:\n    kernel:  {k}\n    pinhole: {o}")
        return "\n".join(lines)


def load_backend(topo, backend, policy_path, tmp):
    """Compile for the backend and load the result into the gateway namespace."""
    if backend == "nft":
        N.load_nft(topo.gw, D.compile_policy(policy_path))
        return
    files = []
    for tool in ("iptables", "ip6tables"):
        out = os.path.join(tmp, "p." + tool)
        r = subprocess.run([D.pinhole_binary(), "compile", "-t", tool, "-o", out, policy_path],
                           capture_output=True, text=True, timeout=60)
        if r.returncode:
            raise RuntimeError(f"compile -t {tool}: {r.stderr.strip()}")
        files.append((tool, out))
    for tool, path in files:
        with open(path) as f:
            script = "\n".join(ln[4:] for ln in f if ln.startswith("#   "))
        script = script.replace(f"{tool}-restore ", f"{tool}-nft-restore ")
        script = script.replace(f"{tool} -w ", f"{tool}-nft -w ").replace(" FILE", f" {path}")
        N.ns_run(topo.gw, ["bash", "-euc", script])


def natdiff(seed, n_packets=60, backend="nft"):
    """One random translating policy and n_packets packets through the kernel and explain."""
    rng = random.Random(seed)
    policy, allows, forwards = generate_policy(rng)
    packets = generate_packets(rng, allows, forwards, n_packets)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"nat{seed}.pin")
        with open(path, "w") as f:
            f.write(policy)
        pred = predict(path, packets)
        with N.gateway_topology() as topo:
            _setup_hosts(topo)
            load_backend(topo, backend, path, tmp)
            got = kernel_answers(topo, packets)
    mismatches, counts = [], {}
    for p, (verdict, tup, rules, ns) in zip(packets, pred):
        if verdict == "local":
            counts["local (not compared)"] = counts.get("local (not compared)", 0) + 1
            continue
        kernel = got.get(p.tag)
        k = ("accept",) + kernel if kernel else ("drop",)
        want = ("accept", tup, ns) if verdict == "accept" else ("drop",)
        label = verdict
        if verdict == "accept" and (rules["dnat"] or rules["snat"]):
            label = "+".join(k for k in ("dnat", "snat") if rules[k])
            if rules["dnat"] and p.sender == ns:
                label += " (hairpin)"
        counts[label] = counts.get(label, 0) + 1
        if k != want:
            mismatches.append((p, k, (verdict, tup, ns, rules)))
    return NatResult(seed, backend, policy, mismatches, counts)


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-n", type=int, default=60)
    ap.add_argument("--backend", default="nft", choices=("nft", "iptables"))
    a = ap.parse_args()
    res = natdiff(a.seed, a.n, a.backend)
    print(res.summary(limit=50))
    sys.exit(0 if res.ok else 1)
