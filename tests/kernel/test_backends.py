#!/usr/bin/python3
"""Kernel tests of every backend and mode (needs the compiler: $PINHOLE or build/pinhole).

Forms: nft stateful, nft stateless, iptables stateful, iptables stateless; an "iptables" form
loads both the iptables and the ip6tables file (legacy by default, PH_IPT_VARIANT=nft for
iptables-nft) with the load commands written in their headers. For every example policy and
form, on a fresh namespace topology:
  - real traffic (TCP connections, UDP exchanges, ICMP echo, both families, both directions,
    inside and outside the restricted prefixes, big UDP replies that fragment) passes or is
    blocked exactly as `pinhole explain --brief` says for each packet of the exchange;
  - real FTP transfers (passive and active) where the policy allows FTP;
  - crafted TCP (stateless mode): an inbound SYN, or a SYN+ACK or bare ACK from a port no rule
    names, is dropped, while ACK-carrying return traffic of an allowed service passes;
  - differential: random packets (in stateless mode with random TCP flags) through the kernel,
    each verdict equal to the IR's.
"""
import concurrent.futures
import os
import random
import re
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

N_PACKETS = int(os.environ.get("PH_BACKENDS_DIFF_N", "1000"))
SEED = int(os.environ.get("PH_DIFF_SEED", "1"))
VARIANT = os.environ.get("PH_IPT_VARIANT", "legacy")
FORMS = [("nft", "stateful"), ("nft", "stateless"), ("iptables", "stateful"),
         ("iptables", "stateless")]
EXAMPLES = {"workstation.pin": "host", "fileserver.pin": "host", "gateway.pin": "gateway"}


# --------------------------------------------------------------------------- compile and load

def pinhole(*args, stdin=None):
    r = subprocess.run([D.pinhole_binary()] + list(args), input=stdin, capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"pinhole {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def compile_form(policy, backend, mode):
    """{target: text} for one form: nft, or iptables + ip6tables."""
    targets = ["nft"] if backend == "nft" else ["iptables", "ip6tables"]
    return {t: pinhole("compile", f"--{mode}", "-t", t, policy) for t in targets}


def load_commands(text, tool, path):
    """The load commands of a generated iptables file's header, for this variant."""
    lines, inside = [], False
    for ln in text.splitlines():
        if ln.startswith("# Load as root"):
            inside = True
            continue
        if ln.startswith("# --noflush"):
            break
        if inside and ln.startswith("#   "):
            lines.append(ln[4:])
    script = "\n".join(lines)
    if f"{tool}-restore -w --noflush FILE" not in script:
        raise RuntimeError(f"no load commands in the {tool} file header")
    script = script.replace(f"{tool}-restore ", f"{tool}-{VARIANT}-restore ")
    script = script.replace(f"{tool} -w ", f"{tool}-{VARIANT} -w ").replace(f"{tool} -V ", f"{tool}-{VARIANT} -V ")
    return script.replace("FILE", path)


def load_form(ns, files):
    """Load a compiled form into namespace ns the way its header (or nft -f) says."""
    if "nft" in files:
        N.load_nft(ns, files["nft"])
        return
    with tempfile.TemporaryDirectory(prefix="ph-ipt-") as d:
        env = dict(os.environ, XTABLES_LOCKFILE=os.path.join(d, "xtables.lock"))
        for tool in ("iptables", "ip6tables"):
            path = os.path.join(d, tool + ".rules")
            with open(path, "w") as f:
                f.write(files[tool])
            r = subprocess.run([N.IP, "netns", "exec", ns, "bash", "-e", "-c",
                                load_commands(files[tool], tool, path)],
                               capture_output=True, text=True, timeout=60, env=env)
            if r.returncode != 0:
                raise N.NsError(f"{tool}-{VARIANT} load in {ns} failed: {r.stderr.strip()}")


# --------------------------------------------------------------------------- the oracle

def explain(policy, mode, lines):
    """One verdict word (accept/drop/reject) per packet line, from the IR (None for None)."""
    asked = [ln for ln in lines if ln is not None]
    out = pinhole("explain", "--brief", f"--{mode}", policy, "-", stdin="\n".join(asked) + "\n")
    got = [ln.split()[0] for ln in out.splitlines() if ln.strip()]
    if len(got) != len(asked):
        raise RuntimeError(f"explain: {len(asked)} packets in, {len(got)} verdicts out")
    it = iter(got)
    return [None if ln is None else next(it) for ln in lines]


def ep(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


class Leg:
    """Where one packet of an exchange meets the firewall: direction and interfaces."""

    def __init__(self, direction, iif=None, oif=None):
        self.direction, self.iif, self.oif = direction, iif, oif

    def words(self):
        s = self.direction
        if self.iif:
            s += f" iif {self.iif}"
        if self.oif:
            s += f" oif {self.oif}"
        return s


def legs(topo, client_ns, server_ns):
    """(forward leg, return leg) of a client->server exchange in this topology."""
    if topo.kind == "host":
        if client_ns == topo.firewall:
            return Leg("out", oif="eth0"), Leg("in", iif="eth0")
        return Leg("in", iif="eth0"), Leg("out", oif="eth0")
    side = {topo.lan: "lan0", topo.wan: "wan0"}
    if client_ns == topo.firewall:
        return Leg("out", oif=side[server_ns]), Leg("in", iif=side[server_ns])
    if server_ns == topo.firewall:
        return Leg("in", iif=side[client_ns]), Leg("out", oif=side[client_ns])
    return (Leg("fwd", side[client_ns], side[server_ns]),
            Leg("fwd", side[server_ns], side[client_ns]))


def answer_leg(leg):
    """Where the answer to a rejected packet meets the firewall: a reset or ICMP error is sent
    by the firewall itself, through its output hook, back out of the interface the packet came
    in by (also for forwarded packets). None: the firewall rejected its own packet, and the
    answer stays on loopback."""
    if leg.direction == "out":
        return None
    return Leg("out", oif=leg.iif)


def answer_line(proto, leg, src, sport, dst, dport):
    """The explain line of the answer to a rejected packet src:sport -> dst:dport (conntrack
    sees it as related to the rejected packet)."""
    a = answer_leg(leg)
    if a is None:
        return None
    if proto == "tcp":
        return f"tcp {ep(dst, dport)} -> {ep(src, sport)} {a.words()} rst ack related"
    return f"icmp {dst} -> {src} {a.words()} destination-unreachable related"


# --------------------------------------------------------------------------- probes

class Probe:
    """One real exchange. packets(): the packets it needs, as explain lines; want(verdicts):
    the outcome the IR predicts; run(topo): the outcome the kernel gives."""
    name = "?"


def outcome_class(res):
    """ok, ECONNREFUSED (an answer came: reset or port unreachable) or blocked."""
    return res if res in ("ok", "ECONNREFUSED") else "blocked"


class TcpProbe(Probe):
    def __init__(self, client, csrc, sport, sdst, dport):
        self.client, self.src, self.sport, self.dst, self.dport = client, csrc, sport, sdst, dport
        self.name = f"tcp {ep(csrc, sport) if sport < 41000 else csrc} -> {ep(sdst, dport)}"

    def packets(self, topo, stateless):
        cns = getattr(topo, self.client)
        fwd, back = legs(topo, cns, topo.owner(self.dst))
        c, s = ep(self.src, self.sport), ep(self.dst, self.dport)
        # connect, echo, both ways: the state each packet has in conntrack (stateful mode);
        # last, the reset that would answer a rejected SYN
        return [f"tcp {c} -> {s} {fwd.words()} syn new",
                f"tcp {s} -> {c} {back.words()} syn ack established",
                f"tcp {c} -> {s} {fwd.words()} psh ack established",
                f"tcp {s} -> {c} {back.words()} psh ack established",
                answer_line("tcp", fwd, self.src, self.sport, self.dst, self.dport)]

    def want(self, v):
        if v[0] == "reject":
            return "ECONNREFUSED" if v[4] in (None, "accept") else "blocked"
        return "ok" if all(x == "accept" for x in v[:4]) else "blocked"

    def run(self, topo):
        return outcome_class(N.tcp_outcome(getattr(topo, self.client), self.src, self.sport,
                                           self.dst, self.dport))


class UdpProbe(Probe):
    def __init__(self, client, csrc, sport, sdst, dport, reply_size=0):
        self.client, self.src, self.sport, self.dst, self.dport = client, csrc, sport, sdst, dport
        self.reply_size = reply_size
        big = f" ({reply_size}-byte replies)" if reply_size else ""
        self.name = f"udp {ep(csrc, sport) if sport < 41000 else csrc} -> {ep(sdst, dport)}{big}"

    def packets(self, topo, stateless):
        cns = getattr(topo, self.client)
        fwd, back = legs(topo, cns, topo.owner(self.dst))
        c, s = ep(self.src, self.sport), ep(self.dst, self.dport)
        out = [f"udp {c} -> {s} {fwd.words()} new", f"udp {s} -> {c} {back.words()} established",
               answer_line("udp", fwd, self.src, self.sport, self.dst, self.dport)]
        # A big reply fragments. With conntrack the kernel reassembles before filtering; without
        # it only IPv4 addressed to the host is reassembled first (KERNEL-NOTES), so the other
        # non-first fragments meet the rules as they are.
        if self.reply_size and stateless and (":" in self.dst or back.direction == "fwd"):
            out.append(f"udp {s} -> {c} {back.words()} fragment")
        return out

    def want(self, v):
        if v[0] == "reject":
            return "ECONNREFUSED" if v[2] in (None, "accept") else "blocked"
        return "ok" if all(x == "accept" for x in v[:2] + v[3:]) else "blocked"

    def run(self, topo):
        cns = getattr(topo, self.client)
        if self.reply_size:
            return outcome_class(big_udp(cns, topo.owner(self.dst), self.src, self.sport,
                                         self.dst, self.dport, self.reply_size))
        return outcome_class(N.udp_outcome(cns, self.src, self.sport, self.dst, self.dport))


class IcmpProbe(Probe):
    def __init__(self, client, csrc, sdst):
        self.client, self.src, self.dst = client, csrc, sdst
        self.name = f"ping {csrc} -> {sdst}"

    def packets(self, topo, stateless):
        fwd, back = legs(topo, getattr(topo, self.client), topo.owner(self.dst))
        return [f"icmp {self.src} -> {self.dst} {fwd.words()} echo-request new",
                f"icmp {self.dst} -> {self.src} {back.words()} echo-reply established"]

    def want(self, v):
        return "ok" if all(x == "accept" for x in v) else "blocked"

    def run(self, topo):
        return "ok" if N.icmp_echo(getattr(topo, self.client), self.src, self.dst) else "blocked"


# Big UDP replies: a server that answers each datagram with `size` bytes (nsnet's echo server
# reads at most 2048 bytes, and answers with the request's size).
_big_servers = {}
_big_lock = threading.Lock()


def _big_server(ns, addr, port, size):
    key = (ns, addr, port)
    with _big_lock:
        if key in _big_servers:
            return
        s = N.socket_in(ns, socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.settimeout(0.2)
        _big_servers[key] = s

    def loop():
        while key in _big_servers:
            try:
                data, peer = s.recvfrom(2048)
                s.sendto(data[:32].ljust(size, b"x"), peer)
            except socket.timeout:
                continue
            except OSError:
                return
    threading.Thread(target=loop, daemon=True).start()


def _close_big_servers(namespaces):
    with _big_lock:
        for key in [k for k in _big_servers if k[0] in namespaces]:
            _big_servers.pop(key).close()


def big_udp(client_ns, server_ns, src, sport, dst, dport, size, timeout=1.0):
    _big_server(server_ns, dst, dport, size)
    s = N.socket_in(client_ns, socket.AF_INET6 if ":" in dst else socket.AF_INET,
                    socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src, sport))
        s.connect((dst, dport))
        msg = b"big %d %d" % (os.getpid(), random.getrandbits(32))
        s.send(msg)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            data = s.recv(65535)
            if data.startswith(msg) and len(data) == size:
                return "ok"
        return "timeout"
    except OSError as e:
        return N._outcome(e)
    finally:
        s.close()


def _matches(shape, line):
    """Could this explain line be a packet of a scoped rule's shape (protocol and ports)?"""
    m = re.match(r"(tcp|udp) \[?([^\s\]]+?)\]?:(\d+) -> \[?([^\s\]]+?)\]?:(\d+) ", line or "")
    if not m or m.group(1) != shape.proto:
        return False
    def fits(port, ranges):
        return not ranges or any(lo <= port <= hi for lo, hi in ranges)
    return fits(int(m.group(3)), shape.sport) and fits(int(m.group(5)), shape.dport)


def scoped_waves(probes, lines_of, shapes):
    """Probes whose packets a scoped channel's rules may judge depend on the control packets
    before them: they run after every other probe (whose control packets record their peers),
    together, or one at a time if one of them could record a peer itself."""
    def hits(p, kind):
        return any(_matches(sh, ln) for sets in shapes.values() for sh in sets[kind]
                   for ln in lines_of[p])
    late = [i for i, p in enumerate(probes) if hits(i, "lookup")]
    if any(hits(i, "update") for i in late):
        return late, [[i] for i in late]
    return late, [late] if late else []


def waves(probes):
    """Groups of probes to run one after the other, each group at once. A probe that binds a
    fixed client port must not share that address and port with another running probe, and
    must run before any server listens there (servers stay up, and a TCP listener would refuse
    the client's bind): fixed-port probes first, apart from those they collide with; then all
    the others together (their client ports are unique, and they share servers). The first
    group holds the big-reply probes."""
    big = [i for i, p in enumerate(probes) if getattr(p, "reply_size", 0)]
    fixed = [i for i, p in enumerate(probes) if getattr(p, "sport", 99999) < 41000 and i not in big]
    rest = [i for i, p in enumerate(probes) if getattr(p, "sport", 99999) >= 41000 and i not in big]
    out = []  # [(indices, endpoints in use)]
    for i in fixed:
        p = probes[i]
        mine = {(p.src, p.sport), (p.dst, p.dport)}
        for idx, used in out:
            if not mine & used:
                break
        else:
            idx, used = [], set()
            out.append((idx, used))
        idx.append(i)
        used.update(mine)
    # Big-reply servers bind the same service ports as the echo servers: they run first, alone,
    # and are closed before any echo server starts (see run_form).
    return [big] + [w[0] for w in out] + ([rest] if rest else [])


# --------------------------------------------------------------------------- what to try

HOST_PAIRS = [("10.0.0.5", "10.0.0.7"), ("192.0.2.5", "192.0.2.7"), ("fd00:a::5", "fd00:a::7"),
              ("2001:db8:b::5", "2001:db8:b::7")]
# (proto, client port or None for "one of its own", server port); the examples' services, a
# few ports nothing names, and the shapes stateless mode mirrors (same port, fixed ports).
SERVICES = [("tcp", None, 22), ("tcp", None, 80), ("tcp", None, 443), ("tcp", None, 53),
            ("tcp", None, 113), ("tcp", None, 139), ("tcp", None, 445), ("tcp", None, 1863),
            ("tcp", None, 6891), ("tcp", None, 8080), ("tcp", 139, 40139), ("tcp", 20, 40020),
            ("tcp", 40021, 40022), ("udp", None, 53), ("udp", None, 123), ("udp", None, 443),
            ("udp", 1010, 111), ("udp", 1010, 700), ("udp", 1010, 2049), ("udp", 137, 137),
            ("udp", 138, 138), ("udp", None, 5000), ("icmp", None, None)]


def service_probes(pairs):
    """Probes for every (client role, client addr, server addr) in pairs and every service."""
    out, k = [], 0
    for client, caddr, saddr in pairs:
        for proto, sport, dport in SERVICES:
            k += 1
            cport = sport if sport is not None else 41000 + k
            if proto == "tcp":
                out.append(TcpProbe(client, caddr, cport, saddr, dport))
            elif proto == "udp":
                out.append(UdpProbe(client, caddr, cport, saddr, dport))
            else:
                out.append(IcmpProbe(client, caddr, saddr))
    return out


def probes_for(example):
    if EXAMPLES[example] == "host":
        pairs = [(c, a, b) for fw, peer in HOST_PAIRS
                 for c, a, b in (("fw", fw, peer), ("peer", peer, fw))]
        extra = [UdpProbe("fw", "fd00:a::5", 1011, "fd00:a::7", 2049, 4000),
                 UdpProbe("fw", "10.0.0.5", 1012, "10.0.0.7", 2049, 4000),
                 UdpProbe("fw", "2001:db8:b::5", 41990, "2001:db8:b::7", 53, 4000),
                 UdpProbe("peer", "fd00:a::7", 1013, "fd00:a::5", 2049, 4000)]
    else:
        lan, wan = ("10.1.0.2", "fd00:1::2"), ("203.0.113.2", "2001:db8:2::2")
        gw_lan, gw_wan = ("10.1.0.1", "fd00:1::1"), ("203.0.113.1", "2001:db8:2::1")
        pairs = []
        for f in (0, 1):
            pairs += [("lan", lan[f], wan[f]), ("wan", wan[f], lan[f]), ("lan", lan[f], gw_lan[f]),
                      ("wan", wan[f], gw_wan[f]), ("gw", gw_wan[f], wan[f])]
        extra = [UdpProbe("lan", "10.1.0.2", 41991, "203.0.113.2", 53, 4000),
                 UdpProbe("lan", "fd00:1::2", 41992, "2001:db8:2::2", 53, 4000)]
    return service_probes(pairs) + extra


def ftp_probes(example):
    """(name, fn, want) real FTP transfers, expected to work in every form."""
    def ftp(client, server, addr, passive):
        return lambda t: N.ftp_transfer(getattr(t, client), getattr(t, server), addr, passive)
    if example == "workstation.pin":
        return [(f"ftp {m} {a}", ftp("fw", "peer", a, m == "passive"), True)
                for a in ("10.0.0.7", "fd00:a::7") for m in ("passive", "active")]
    if example == "gateway.pin":
        return [(f"ftp {m} lan->{a}", ftp("lan", "wan", a, m == "passive"), True)
                for a in ("203.0.113.2", "2001:db8:2::2") for m in ("passive", "active")]
    return []


# The IR's meaning, stated by hand for a few exchanges, so that the oracle-driven probes cannot
# all agree with a wrong oracle: example -> [(probe name, stateful outcome, stateless outcome)]
# (None: not stated for that mode).
OK, BLOCKED, REFUSED = "ok", "blocked", "ECONNREFUSED"
BIG = " (4000-byte replies)"
MEANING = {
    "workstation.pin": [
        ("tcp 10.0.0.7 -> 10.0.0.5:22", OK, OK),
        ("tcp 192.0.2.7 -> 192.0.2.5:22", BLOCKED, BLOCKED),
        ("tcp 10.0.0.5 -> 10.0.0.7:80", OK, OK),
        ("tcp 10.0.0.7 -> 10.0.0.5:80", BLOCKED, BLOCKED),
        # stateless: a connection in from port 20 to a high port is the ftp fallback's hole
        ("tcp 10.0.0.7:20 -> 10.0.0.5:40020", BLOCKED, OK),
        ("udp 10.0.0.5:1010 -> 10.0.0.7:2049", OK, OK),
        ("udp [fd00:a::5]:1011 -> [fd00:a::7]:2049" + BIG, OK, OK),   # nfs: `fragments`
        ("udp 2001:db8:b::5 -> [2001:db8:b::7]:53" + BIG, OK, BLOCKED),
    ],
    "fileserver.pin": [
        ("tcp 10.0.0.7 -> 10.0.0.5:80", None, REFUSED),
        ("udp 10.0.0.7:137 -> 10.0.0.5:137", OK, OK),
        ("udp 192.0.2.7:137 -> 192.0.2.5:137", BLOCKED, BLOCKED),
    ],
    "gateway.pin": [
        ("tcp 10.1.0.2 -> 203.0.113.2:80", OK, OK),
        ("tcp 203.0.113.2 -> 10.1.0.2:80", BLOCKED, BLOCKED),
        ("tcp 203.0.113.2 -> 10.1.0.2:113", None, REFUSED),
        ("udp 10.1.0.2 -> 203.0.113.2:53" + BIG, OK, BLOCKED),
    ],
}


# --------------------------------------------------------------------------- crafted TCP

def crafted_cases(example):
    """[(name, src role, (src, sport), (dst, dport), flags, seen stateful, seen stateless)]:
    whether the segment gets past pinhole to the probe table at the firewall's hook."""
    if example == "workstation.pin":   # http client; ssh server from office
        out, web4, web6 = "192.0.2.7", "192.0.2.5", "2001:db8:b::5"
        return [
            ("inbound SYN from an allowed service port", "peer", (out, 80), (web4, 40100), "S",
             False, False),
            ("SYN+ACK back from http", "peer", (out, 80), (web4, 40101), "SA", False, True),
            ("bare ACK back from http", "peer", ("2001:db8:b::7", 80), (web6, 40102), "A",
             False, True),
            ("RST back from http", "peer", (out, 80), (web4, 40103), "R", False, True),
            # (not both above 1023: the ftp data-passive fallback admits ACKs between those)
            ("SYN+ACK from a port no rule names", "peer", (out, 8080), (web4, 900), "SA",
             False, False),
            ("bare ACK between ports no rule names", "peer", ("2001:db8:b::7", 12345),
             (web6, 999), "A", False, False),
            ("bare ACK between high ports: the ftp fallback's hole", "peer", (out, 12345),
             (web4, 12346), "A", False, True),
            ("FIN without ACK from http", "peer", (out, 80), (web4, 40105), "F", False, False),
            ("inbound SYN to ssh from the office", "peer", ("10.0.0.7", 40106), ("10.0.0.5", 22),
             "S", True, True),
            ("inbound SYN to ssh from outside", "peer", (out, 40107), (web4, 22), "S",
             False, False),
        ]
    if example == "gateway.pin":       # lan clients of wan servers
        wan4, wan6, lan4, lan6 = "203.0.113.2", "2001:db8:2::2", "10.1.0.2", "fd00:1::2"
        return [
            ("inbound SYN wan->lan from http", "wan", (wan4, 80), (lan4, 40200), "S",
             False, False),
            ("SYN+ACK wan->lan from http", "wan", (wan4, 80), (lan4, 40201), "SA", False, True),
            ("bare ACK wan->lan from https v6", "wan", (wan6, 443), (lan6, 40202), "A",
             False, True),
            ("SYN+ACK wan->lan from a port no rule names", "wan", (wan4, 8080), (lan4, 900),
             "SA", False, False),
            ("bare ACK wan->lan between ports no rule names", "wan", (wan6, 12345), (lan6, 999),
             "A", False, False),
        ]
    return []


# --------------------------------------------------------------------------- differential

FLAGS = ["S", "SA", "A", "PA", "R", "RA", "F", "FA"]
FLAG_WORDS = {"S": "syn", "A": "ack", "R": "rst", "F": "fin", "P": "psh"}


class FlagPacket(D.Packet):
    """A differential packet with TCP flags of its own (stateless mode: the ACK test)."""
    flags = "S"

    def explain_line(self):
        line = super().explain_line()
        if self.proto == "tcp" and self.flags != "S":
            words = " ".join(FLAG_WORDS[c] for c in self.flags)
            line = line.replace(" syn new", f" {words} new")
        return line

    def scapy(self):
        p = super().scapy()
        if self.proto == "tcp":
            p["TCP"].flags = self.flags
        return p


def differential(policy, kind, backend, mode, n, seed):
    files = compile_form(policy, backend, mode)
    make = {"host": N.host_topology, "gateway": N.gateway_topology}[kind]
    with make() as topo:
        D._quiet_icmp_ratelimit(topo.firewall)
        load_form(topo.firewall, files)
        N.install_probe(topo.firewall)
        packets = D.generate(topo, n, seed, pinhole("compile", f"--{mode}", "-t", "nft", policy))
        rng = random.Random(seed)
        if mode == "stateless":
            for i, p in enumerate(packets):
                fp = FlagPacket(**p.__dict__)
                fp.flags = rng.choice(FLAGS) if p.proto == "tcp" else "S"
                packets[i] = fp
        oracle = explain(policy, mode, [p.explain_line() for p in packets])
        kernel, errors = D.kernel_verdicts(topo, packets)
    # A reset is never answered (RFC 9293): rejecting one sends nothing, so it looks dropped.
    for i, p in enumerate(packets):
        if oracle[i] == "reject" and "R" in getattr(p, "flags", "S"):
            oracle[i] = "drop"
    return D.DiffResult(f"{policy} [{backend} {mode}]", kind, packets, kernel, oracle, errors)


# --------------------------------------------------------------------------- running

def run_form(suite, example, kind, backend, mode):
    policy = os.path.join(D.REPO, "examples", example)
    label = f"{example} [{backend}{'-' + VARIANT if backend != 'nft' else ''} {mode}]"
    stateless = mode == "stateless"
    try:
        files = compile_form(policy, backend, mode)
    except Exception as e:
        suite.error(f"{label}: compiles", e)
        return
    make = {"host": N.host_topology, "gateway": N.gateway_topology}[kind]
    with make() as topo:
        try:
            load_form(topo.firewall, files)
            load_form(topo.firewall, files)  # and over itself
            N.install_probe(topo.firewall)
        except Exception as e:
            suite.error(f"{label}: loads", e)
            return
        suite.check(f"{label}: loads, and reloads over itself", True)
        probes = probes_for(example)
        lines_of = [p.packets(topo, stateless) for p in probes]
        shapes = D.scoped_shapes(pinhole("compile", f"--{mode}", "-t", "nft", policy))
        late, late_waves = scoped_waves(probes, lines_of, shapes)
        plan = [[i for i in w if i not in late] for w in waves(probes)] + late_waves
        # explain judges the packets in the order the waves send them
        lines, spans = [], [None] * len(probes)
        for w in plan:
            for i in w:
                spans[i] = (len(lines), len(lines_of[i]))
                lines += lines_of[i]
        verdicts = explain(policy, mode, lines)
        wants = [p.want(verdicts[a:a + n]) for p, (a, n) in zip(probes, spans)]
        names = [p.name for p in probes]
        for pname, stateful_want, stateless_want in MEANING.get(example, []):
            want = stateless_want if stateless else stateful_want
            if want is not None:
                suite.expect(f"{label}: IR meaning: {pname}", wants[names.index(pname)], want)
        futs = [None] * len(probes)
        with concurrent.futures.ThreadPoolExecutor(48) as pool:
            for wave in plan:
                for i in wave:
                    futs[i] = pool.submit(probes[i].run, topo)
                concurrent.futures.wait([futs[i] for i in wave])
                _close_big_servers(set(topo.ns.values()))
            ftp = [(name, pool.submit(fn, topo), want) for name, fn, want in ftp_probes(example)]
        for p, want, f in zip(probes, wants, futs):
            try:
                suite.expect(f"{label}: {p.name}", f.result(), want)
            except Exception as e:
                suite.error(f"{label}: {p.name}", e)
        for name, f, want in ftp:
            try:
                suite.expect(f"{label}: {name}", f.result(), want)
            except Exception as e:
                suite.error(f"{label}: {name}", e)
        for (cname, role, (src, sport), (dst, dport), flags, stateful_seen,
             stateless_seen) in crafted_cases(example):
            want = stateless_seen if stateless else stateful_seen
            try:
                got = N.crafted_tcp(getattr(topo, role), src, sport, dst, dport, flags)
                suite.expect(f"{label}: crafted {cname} ({flags} {ep(src, sport)} -> "
                             f"{ep(dst, dport)}) {'passes' if want else 'is dropped'}",
                             got, want)
            except Exception as e:
                suite.error(f"{label}: crafted {cname}", e)
        _close_big_servers(set(topo.ns.values()))


def ipv4_file_alone(suite):
    """The warning for -t iptables on a dual-stack policy is true: with the iptables file
    alone, IPv4 is filtered and IPv6 is not."""
    policy = os.path.join(D.REPO, "examples", "workstation.pin")
    files = compile_form(policy, "iptables", "stateful")
    with tempfile.TemporaryDirectory(prefix="ph-ipt-") as d, N.host_topology() as topo:
        path = os.path.join(d, "iptables.rules")
        with open(path, "w") as f:
            f.write(files["iptables"])
        env = dict(os.environ, XTABLES_LOCKFILE=os.path.join(d, "xtables.lock"))
        subprocess.run([N.IP, "netns", "exec", topo.firewall, "bash", "-e", "-c",
                        load_commands(files["iptables"], "iptables", path)],
                       check=True, capture_output=True, timeout=60, env=env)
        label = f"workstation.pin [iptables-{VARIANT} file alone]"
        suite.expect(f"{label}: telnet in over IPv4 is dropped",
                     N.tcp_connect(topo.peer, "192.0.2.7", 0, "192.0.2.5", 23), False)
        suite.expect(f"{label}: telnet in over IPv6 is not filtered",
                     N.tcp_connect(topo.peer, "2001:db8:b::7", 0, "2001:db8:b::5", 23), True)


def main():
    ktest.preflight_or_skip("backends")
    binary = D.pinhole_binary()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"SKIP backends: no pinhole binary at {binary} (build it, or set PINHOLE)",
              flush=True)
        sys.exit(ktest.SKIP)
    for tool in ("iptables", "ip6tables"):
        if subprocess.run(["sh", "-c", f"command -v {tool}-{VARIANT}-restore"],
                          capture_output=True).returncode:
            print(f"SKIP backends: {tool}-{VARIANT}-restore not installed", flush=True)
            sys.exit(ktest.SKIP)
    suite = ktest.Suite("backends")
    try:
        ipv4_file_alone(suite)
    except Exception as e:
        suite.error("iptables file alone", e)
    jobs = [(ex, kind, b, m) for ex, kind in EXAMPLES.items() for b, m in FORMS]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for f in [pool.submit(run_form, suite, *j) for j in jobs]:
            f.result()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futs = [(j, pool.submit(differential, os.path.join(D.REPO, "examples", j[0]), j[1], j[2],
                                j[3], N_PACKETS, SEED)) for j in jobs]
        for (ex, kind, b, m), f in futs:
            label = (f"{ex} [{b}{'-' + VARIANT if b != 'nft' else ''} {m}]: differential "
                     f"({N_PACKETS} packets, seed {SEED})")
            try:
                res = f.result()
            except Exception as e:
                suite.error(label, e)
                continue
            suite.check(label, res.ok, res.summary(limit=20))
            print(f"# {res.summary(limit=0)}", flush=True)
    suite.finish()


if __name__ == "__main__":
    main()
