#!/usr/bin/python3
"""Kernel tests of the standard library: every app, as client and as server, with real traffic.

For each app of stdlib-apps/ and each role, `allow APP ROLE` is compiled with build/pinhole,
loaded into the firewall namespace of a fresh host topology (fw 10.0.0.5 / fd00:a::5 and
192.0.2.5 / 2001:db8:b::5, peer .7), and probed. The probes come from the app's flows as
`pinhole apps APP` prints them: for every flow the host takes part in, in the direction the
flow runs, on IPv4 and IPv6, at the ends of each port range; then the same ports in the other
direction, a neighbouring port (source and destination), and, under `from`/`to`
10.0.0.0/24, fd00:a::/64, a peer outside that restriction. What each probe should meet is
decided here, from the flows alone (class Model), not by the compiler: a broadcast flow is
IPv4 only, a helper's child (`related`) is no new connection, a `reject` flow is answered with
a reset by the side that receives it, a channel negotiated `on` control flows is open only to
peers that used one of them. The probes such a channel decides run twice, each time on a fresh
topology: before any control traffic (all dropped) and after a real exchange on a control flow
with every peer address (as the static ports say).

Dedicated cases exercise what plain probes cannot: subnet-directed broadcasts (SMB 137-138,
to=from), DHCP's broadcast request from 0.0.0.0 and broadcast answer, FTP active and passive
through the ftp helper, IRC DCC through the irc helper (with `negotiated static;`: a DCC SEND
offer over a fake IRC server,
then the peer connecting to the offered port), large fragmented NFS replies without
connection tracking, and stateless policies.
"""
import dataclasses
import ipaddress
import itertools
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktest  # noqa: E402
import nsnet as N  # noqa: E402
from ktest import Case  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PINHOLE = os.environ.get("PINHOLE") or os.path.join(REPO, "build", "pinhole")

FW = {4: "10.0.0.5", 6: "fd00:a::5"}
PEER = {4: "10.0.0.7", 6: "fd00:a::7"}
FW_OUT = {4: "192.0.2.5", 6: "2001:db8:b::5"}      # the same hosts, outside the restriction
PEER_OUT = {4: "192.0.2.7", 6: "2001:db8:b::7"}
INSIDE = [ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("fd00:a::/64")]
INSIDE_TEXT = "10.0.0.0/24, fd00:a::/64"

PASS_TIMEOUT = 1.5   # an expected pass returns as soon as the echo is back
BLOCK_TIMEOUT = 0.5  # an expected drop waits this long

SUITE = ktest.Suite("test_stdlib_apps")
SENDER_ONLY_HELPERS = ("netbios-ns", "snmp")   # nf_conntrack_broadcast


# --------------------------------------------------------------------------- the library

def pinhole(*args, stdin=None):
    r = subprocess.run([PINHOLE, *args], input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"pinhole {' '.join(args)}: exit {r.returncode}\n{r.stderr}")
    return r.stdout


def compile_policy(text):
    with tempfile.NamedTemporaryFile("w", suffix=".pin", delete=False) as f:
        f.write(text)
        path = f.name
    try:
        return pinhole("compile", path)
    finally:
        os.unlink(path)


@dataclasses.dataclass
class Flow:
    name: str
    init: str
    resp: str
    both: bool
    protos: list
    sport: list = None    # [(lo, hi)], None = any
    dport: list = None
    same: bool = False
    related: str = None
    broadcast: bool = False
    reject: bool = False
    on: list = None       # control flows of a scoped negotiated channel
    relayed: bool = False  # offers relayed by a server: pinholed's (closed with negotiated static)
    options: str = ""


KEYWORDS = {"sport", "dport", "type", "helper", "related", "negotiated", "broadcast",
            "fragments", "reject", "on", "timeout", "relayed"}
FLOW_LINE = re.compile(r"^    (\S+)\s+(client|server|any) (->|<->) (client|server|any) (.*)$")
# Protocols without ports: a probe is an echo (ICMP echo request, an ESP packet answered by one).
PORTLESS = {"icmp", "esp"}


def parse_ranges(toks, i):
    out = []
    while i < len(toks) and (toks[i] == "," or re.fullmatch(r"\d+(-\d+)?", toks[i])):
        if toks[i] != ",":
            lo, _, hi = toks[i].partition("-")
            out.append((int(lo), int(hi or lo)))
        i += 1
    return out, i


def parse_flow(name, init, arrow, resp, rest):
    toks = rest.replace(",", " , ").split()
    f = Flow(name, init, resp, arrow == "<->", [], options=rest)
    i = 0
    while i < len(toks) and toks[i] not in KEYWORDS:
        if toks[i] != ",":
            f.protos.append(toks[i])
        i += 1
    while i < len(toks):
        kw = toks[i]
        i += 1
        if kw == "sport":
            f.sport, i = parse_ranges(toks, i)
        elif kw == "dport":
            if toks[i] == "same":
                f.same, i = True, i + 1
            else:
                f.dport, i = parse_ranges(toks, i)
        elif kw in ("helper", "related"):
            if kw == "related":
                f.related = toks[i].strip('"')
            i += 1
        elif kw == "type":
            while i < len(toks) and (toks[i] == "," or toks[i] not in KEYWORDS):
                i += 1
        elif kw == "negotiated":
            if i < len(toks) and toks[i] not in KEYWORDS:
                i += 1
        elif kw == "on":
            f.on = []
            while i < len(toks) and (toks[i] == "," or toks[i] not in KEYWORDS):
                if toks[i] != ",":
                    f.on.append(toks[i])
                i += 1
        elif kw == "timeout":
            i += 1
        elif kw == "broadcast":
            f.broadcast = True
        elif kw == "reject":
            f.reject = True
        elif kw == "relayed":
            f.relayed = True
    return f


def app_names():
    return [line.split()[0] for line in pinhole("apps").splitlines() if line.strip()]


def app_flows(app):
    flows, in_flows = [], False
    for line in pinhole("apps", app).splitlines():
        if line.startswith("  flows:"):
            in_flows = True
            continue
        m = FLOW_LINE.match(line) if in_flows else None
        if m:
            flows.append(parse_flow(*m.groups()))
    if not flows:
        raise RuntimeError(f"pinhole apps {app}: no flows found")
    return flows


# --------------------------------------------------------------------------- the oracle

def role_at(end, role):
    return end == role or end == "any"


def in_range(port, ranges):
    return ranges is None or any(lo <= port <= hi for lo, hi in ranges)


class Model:
    """What `allow APP ROLE [restriction]` lets start, read from the app's flows only."""

    def __init__(self, flows, role, restricted=False, stateless=False, primed=False):
        self.flows, self.role, self.restricted = flows, role, restricted
        self.stateless = stateless
        self.primed = primed  # the peer used the control flows of the scoped channels

    def decide(self, direction, proto, fam, peer, sport, dport):
        """accept / reject / drop for a new connection (or ICMP echo request) the host sends
        (direction "out") or receives ("in") to or from `peer`."""
        if self.restricted and not any(ipaddress.ip_address(peer) in n for n in INSIDE):
            return "drop"
        verdict = self._initiates(direction, proto, fam, sport, dport)
        # Without connection tracking a UDP answer is a datagram on the mirrored port pair,
        # whoever sends it first (TCP answers need ACK or RST, a SYN never passes as one).
        if verdict == "drop" and self.stateless and proto == "udp":
            back = "in" if direction == "out" else "out"
            if self._initiates(back, proto, fam, dport, sport) == "accept":
                return "accept"
        return verdict

    def _initiates(self, direction, proto, fam, sport, dport):
        verdict = "drop"
        for f in self.flows:
            # The answer to a broadcast query is related only on the querier (netbios-ns and
            # snmp expect at the sender only): the answering host sends it as a new packet.
            answers_broadcast = f.related in SENDER_ONLY_HELPERS and direction == "out"
            if (f.related and not answers_broadcast) or proto not in f.protos or \
                    (f.broadcast and fam != 4):
                continue
            # a relayed channel has no static fallback: with `negotiated static;` it is
            # closed (irc's kernel helper expects only what an offer names: irc_cases)
            if f.relayed:
                continue
            if f.on and not self.primed:
                continue
            ends = [(f.init, f.resp)] + ([(f.resp, f.init)] if f.both else [])
            for a, b in ends:
                if not role_at(a if direction == "out" else b, self.role):
                    continue
                if proto not in PORTLESS:
                    if not in_range(sport, f.sport):
                        continue
                    if f.same and sport != dport:
                        continue
                    if not f.same and not in_range(dport, f.dport):
                        continue
                if not f.reject:
                    return "accept"
                if direction == "in":
                    verdict = "reject"   # only if no flow accepts it
        return verdict


# --------------------------------------------------------------------------- probes

@dataclasses.dataclass(frozen=True)
class Probe:
    direction: str   # out: the firewall host sends; in: the peer sends to it
    proto: str
    fam: int
    sport: int
    dport: int
    outside: bool = False

    def ends(self, topo):
        fw = (FW_OUT if self.outside else FW)[self.fam]
        peer = (PEER_OUT if self.outside else PEER)[self.fam]
        if self.direction == "out":
            return topo.fw, fw, topo.peer, peer
        return topo.peer, peer, topo.fw, fw

    def peer_addr(self):
        return (PEER_OUT if self.outside else PEER)[self.fam]

    def label(self):
        where = " outside" if self.outside else ""
        if self.proto in PORTLESS:
            return f"{self.proto}/v{self.fam} {self.direction}{where} echo"
        return f"{self.proto}/v{self.fam} {self.direction}{where} {self.sport}->{self.dport}"


def outcome_class(res):
    """ok / refused / blocked: what a probe met, whatever the errno."""
    if res in ("ok", True):
        return "ok"
    if res == "ECONNREFUSED":
        return "refused"
    if res in ("timeout", "EPERM", False):
        return "blocked"
    return res  # anything else (garbled, EADDRINUSE ...) is a harness surprise: it fails


WANT = {"accept": "ok", "reject": "refused", "drop": "blocked"}


def run_probe(p, want, topo):
    src_ns, src, dst_ns, dst = p.ends(topo)
    timeout = BLOCK_TIMEOUT if want == "blocked" else PASS_TIMEOUT
    if p.proto == "tcp":
        res = N.tcp_outcome(src_ns, src, p.sport, dst, p.dport, server_ns=dst_ns, timeout=timeout)
    elif p.proto == "udp":
        res = N.udp_outcome(src_ns, src, p.sport, dst, p.dport, server_ns=dst_ns, timeout=timeout)
    elif p.proto == "esp":
        res = N.esp_outcome(src_ns, src, dst, server_ns=dst_ns, timeout=timeout)
    else:
        res = N.icmp_echo(src_ns, src, dst, timeout=timeout)
    return outcome_class(res)


_eph_counter = itertools.count(42000)
_EPHEMERAL = set()


def _eph():
    """A source port of our own choosing where the flow leaves it open (unique per probe)."""
    p = next(_eph_counter)
    _EPHEMERAL.add(p)
    return p


def port_pairs(f):
    """(sport, dport) pairs at the ends of the flow's ranges; an unspecified source port is a
    fresh ephemeral one per pair."""
    if all(p in PORTLESS for p in f.protos):
        return [(0, 0)]
    if f.same:
        ends = sorted({f.sport[0][0], f.sport[-1][1]})
        return [(p, p) for p in ends]
    dports = sorted({x for lo, hi in (f.dport or [(40123, 40123)]) for x in (lo, hi)})
    sports = [f.sport[0][0], f.sport[-1][1]] if f.sport else [None]
    pairs = [(sports[0], d) for d in dports]
    if sports[-1] != sports[0] or len(dports) > 1:
        pairs.append((sports[-1], dports[-1]))
    out = []
    for s, d in pairs:
        out.append((_eph() if s is None else s, d))
    return list(dict.fromkeys(out))


def neighbours(f, sport, dport):
    """Ports next to the flow's ranges: dport just outside each range, sport just outside."""
    out = []
    if f.same:
        out.append((sport, sport + 1 if sport < 65535 else sport - 1))
    elif f.dport:
        for lo, hi in f.dport:
            if lo <= dport <= hi:
                out += [(sport, hi + 1), (sport, lo - 1)]
    if f.sport:
        for lo, hi in f.sport:
            if lo <= sport <= hi:
                out += [(hi + 1, dport if not f.same else hi + 1),
                        (lo - 1, dport if not f.same else lo - 1)]
    return [(s, d) for s, d in out if 1 <= s <= 65535 and 1 <= d <= 65535]


def flow_probes(flows, role, model):
    """[(Probe, why)] for every flow the host takes part in."""
    out = {}

    def add(p, why):
        out.setdefault(p, why)

    for f in flows:
        ends = [(f.init, f.resp)] + ([(f.resp, f.init)] if f.both else [])
        dirs = []
        for a, b in ends:
            if role_at(a, role):
                dirs.append("out")
            if role_at(b, role):
                dirs.append("in")
        for d in dict.fromkeys(dirs):
            other = "in" if d == "out" else "out"
            for proto in f.protos:
                pairs = [(0, 0)] if proto in PORTLESS else port_pairs(f)
                for fam in (4, 6):
                    for s, dp in pairs:
                        why = f"flow {f.name}"
                        if f.related:
                            why += f" (no {f.related} expectation)"
                        if f.relayed:
                            why += " (relayed: no offer, no pinholed)"
                        add(Probe(d, proto, fam, s, dp), why)
                        add(Probe(other, proto, fam, s, dp), f"flow {f.name}, other direction")
                        if proto in PORTLESS:
                            continue
                        # the first neighbour each way that the app does not allow anyway
                        for ns_, nd in neighbours(f, s, dp):
                            p = Probe(d, proto, fam, ns_, nd)
                            if model.decide(d, proto, fam, PEER[fam], ns_, nd) == "drop":
                                add(p, f"flow {f.name}, neighbouring port")
    return out


def split_conflicts(items):
    """Groups of probes that can share one topology: a client socket bound to a fixed port
    cannot share an address and port with an echo server there (TCP: the bind fails; UDP: the
    peer's datagrams reach the connected client socket instead of the server)."""
    groups = []
    for p, why in items:
        src_role = "fw" if p.direction == "out" else "peer"
        dst_role = "peer" if p.direction == "out" else "fw"
        where = (p.proto, p.fam, p.outside)
        fixed = p.proto not in PORTLESS and p.sport not in _EPHEMERAL
        bind = (src_role, where, p.sport) if fixed else None
        listen = (dst_role, where, p.dport) if p.proto not in PORTLESS else None
        for g in groups:
            if bind not in g["listen"] and listen not in g["bind"]:
                break
        else:
            g = {"bind": set(), "listen": set(), "items": []}
            groups.append(g)
        if bind:
            g["bind"].add(bind)
        if listen:
            g["listen"].add(listen)
        g["items"].append((p, why))
    return [g["items"] for g in groups]


def probe_cases(title, ruleset, items, model):
    """Cases (one per conflict-free group) checking each probe against the model."""
    cases = []
    for n, group in enumerate(split_conflicts(items)):
        probes = []
        for p, why in group:
            want = WANT[model.decide(p.direction, p.proto, p.fam, p.peer_addr(), p.sport, p.dport)]
            says = {"ok": "passes", "refused": "is rejected", "blocked": "is dropped"}[want]
            probes.append((f"{p.label()} {says} [{why}]",
                           lambda t, p=p, w=want: run_probe(p, w, t), want))
        cases.append(Case(f"{title}{' #%d' % (n + 1) if n else ''}", "host", ruleset, probes))
    return cases


def control_exchange(flows, role, ctl_name, fam, outside):
    """A real exchange on the control flow `ctl_name` between the host (playing `role`) and
    the peer, as the flow runs (returns nothing: a restriction may drop it)."""
    c = next(f for f in flows if f.name == ctl_name)
    direction = "out" if role_at(c.init, role) else "in"
    proto = "tcp" if "tcp" in c.protos else "udp"
    sport = c.sport[0][0] if c.sport else _eph()
    p = Probe(direction, proto, fam, sport, c.dport[0][0] if c.dport else 40123, outside)

    def run(topo):
        src_ns, src, dst_ns, dst = p.ends(topo)
        fn = N.tcp_outcome if proto == "tcp" else N.udp_outcome
        fn(src_ns, src, p.sport, dst, p.dport, server_ns=dst_ns, timeout=BLOCK_TIMEOUT)
    return run


def primer(flows, role):
    """Setup for a topology: every scoped channel's first control flow used with every peer
    address (inside and outside a restriction, both families). A control flow that is itself
    scoped (nfs's statd-portmap, on portmap) is used after the flows that open it."""
    scoped = {f.name for f in flows if f.on}
    chans = sorted((f for f in flows if f.on), key=lambda f: f.on[0] in scoped)
    steps = [control_exchange(flows, role, f.on[0], fam, outside)
             for f in chans for fam in (4, 6) for outside in (False, True)]

    def setup(topo):
        for step in steps:
            step(topo)
    return setup


def scoped_cases(title, ruleset, items, model, flows, role):
    """Probes a scoped channel decides: on a topology where no peer used a control flow, and
    on one where every peer did."""
    cases = []
    for primed in (False, True):
        m = Model(model.flows, model.role, model.restricted, model.stateless, primed)
        label = f"{title}, {'after' if primed else 'before'} control traffic"
        for c in probe_cases(label, ruleset, items, m):
            if primed:
                c.setup = primer(flows, role)
            cases.append(c)
    return cases


def split_scoped(items, model):
    """(probes whose verdict does not depend on control traffic, probes whose verdict does)"""
    primed = Model(model.flows, model.role, model.restricted, model.stateless, True)
    plain, scoped = [], []
    for p, why in items:
        args = (p.direction, p.proto, p.fam, p.peer_addr(), p.sport, p.dport)
        (scoped if model.decide(*args) != primed.decide(*args) else plain).append((p, why))
    return plain, scoped


def app_role_cases(app, role, flows, stateless=False):
    """The unrestricted policy with every flow probe, and the restricted one with the probes
    that pass, from inside and from outside the restriction."""
    # The library's flows as written: negotiated channels as their static fallback
    # (`negotiated static;`); test_pinholed.py tests pinholed's exact pinholes.
    mode = "negotiated static;\n" + ("established only;\n" if stateless else "")
    title = f"{'stateless ' if stateless else ''}allow {app} {role}"
    model = Model(flows, role, stateless=stateless)
    pmodel = Model(flows, role, stateless=stateless, primed=True)
    items = flow_probes(flows, role, model)
    ruleset = compile_policy(f"{mode}allow {app} {role};\n")
    plain, scoped = split_scoped(list(items.items()), model)
    cases = probe_cases(title, ruleset, plain, model)
    cases += scoped_cases(title, ruleset, scoped, model, flows, role)
    kw = "to" if role == "client" else "from"
    rmodel = Model(flows, role, restricted=True, stateless=stateless)
    ritems = []
    for p, why in items.items():
        if pmodel.decide(p.direction, p.proto, p.fam, PEER[p.fam], p.sport, p.dport) == "drop":
            continue
        ritems.append((p, why))
        ritems.append((dataclasses.replace(p, outside=True), why))
    rtitle = f"{title} {kw} {INSIDE_TEXT}"
    rruleset = compile_policy(f"{mode}allow {app} {role} {kw} {INSIDE_TEXT};\n")
    plain, scoped = split_scoped(ritems, rmodel)
    cases += probe_cases(rtitle, rruleset, plain, rmodel)
    cases += scoped_cases(rtitle, rruleset, scoped, rmodel, flows, role)
    return cases


def says(name, want):
    """A probe's name with what it should meet, e.g. "... passes"."""
    if isinstance(want, tuple):
        return name + (" both pass" if all(want) else " (partly blocked)")
    return name + (" passes" if want is True else " is dropped" if want is False else f" -> {want}")


# --------------------------------------------------------------------------- broadcasts

def _recv(sock, msg, timeout):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            data, _ = sock.recvfrom(4096)
        except socket.timeout:
            return False
        if data == msg:
            return True


def _bcast_socket(ns, bind, dev=True):
    s = N.socket_in(ns, socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    if dev:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
    s.bind(bind)
    return s


_msg = itertools.count(1)


def broadcast(sender_ns, src, sport, to, dport, receiver_ns, timeout):
    """One UDP datagram src:sport -> to:dport (a broadcast address); True if a socket bound to
    the wildcard address on dport in receiver_ns got it."""
    msg = b"bcast %d %d" % (os.getpid(), next(_msg))
    r = _bcast_socket(receiver_ns, ("0.0.0.0", dport))
    s = _bcast_socket(sender_ns, (src, sport))
    try:
        try:
            s.sendto(msg, (to, dport))
        except OSError:
            return False   # the sender's own output chain refused it (EPERM)
        return _recv(r, msg, timeout)
    finally:
        s.close()
        r.close()


def smb_broadcast_cases():
    """NetBIOS browsing: subnet-directed broadcasts to=from on 137 and 138, in and out."""
    cases = []
    for role in ("client", "server"):
        for restricted in (False, True):
            extra = f" {'to' if role == 'client' else 'from'} {INSIDE_TEXT}" if restricted else ""
            rules = compile_policy(f"allow smb {role}{extra};\n")
            P = []

            def add(name, fn, want):
                P.append((says(name, want), fn, want))
            for port in (137, 138):
                add(f"broadcast out 10.0.0.5:{port} -> 10.0.0.255:{port}",
                    lambda t, p=port: broadcast(t.fw, FW[4], p, "10.0.0.255", p, t.peer, PASS_TIMEOUT),
                    True)
                add(f"broadcast in 10.0.0.7:{port} -> 10.0.0.255:{port}",
                    lambda t, p=port: broadcast(t.peer, PEER[4], p, "10.0.0.255", p, t.fw, PASS_TIMEOUT),
                    True)
                add(f"broadcast in 192.0.2.7:{port} -> 192.0.2.255:{port}",
                    lambda t, p=port, r=restricted: broadcast(
                        t.peer, PEER_OUT[4], p, "192.0.2.255", p, t.fw,
                        BLOCK_TIMEOUT if r else PASS_TIMEOUT),
                    not restricted)
            # to != from, and the neighbouring port, are dropped both ways
            add("broadcast in 137 -> 10.0.0.255:138 (not to=from)",
                lambda t: broadcast(t.peer, PEER[4], 137, "10.0.0.255", 138, t.fw, BLOCK_TIMEOUT), False)
            add("broadcast out 138 -> 10.0.0.255:137 (not to=from)",
                lambda t: broadcast(t.fw, FW[4], 138, "10.0.0.255", 137, t.peer, BLOCK_TIMEOUT), False)
            add("broadcast in 139 -> 10.0.0.255:139 (neighbouring port)",
                lambda t: broadcast(t.peer, PEER[4], 139, "10.0.0.255", 139, t.fw, BLOCK_TIMEOUT), False)
            add("broadcast in 136 -> 10.0.0.255:136 (neighbouring port)",
                lambda t: broadcast(t.peer, PEER[4], 136, "10.0.0.255", 136, t.fw, BLOCK_TIMEOUT), False)
            cases.append(Case(f"smb {role}{extra} broadcasts", "host", rules, P))
    return cases


def raw_udp(ns, src, sport, dst, dport, payload):
    """A UDP datagram built by hand (source 0.0.0.0 is possible), sent on eth0 from ns."""
    from scapy.layers.inet import IP, UDP
    # checksum 0 = none (RFC 768): scapy's checksum over a 0.0.0.0 source came out wrong
    pkt = bytes(IP(src=src, dst=dst, ttl=64) / UDP(sport=sport, dport=dport, chksum=0) / payload)
    s = N.socket_in(ns, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
        s.sendto(pkt, (dst, 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


def dhcp_exchange(client_ns, server_ns, sport, dport, reply_sport, reply_dport, timeout):
    """A DHCPv4-like exchange: the client broadcasts from 0.0.0.0:sport to
    255.255.255.255:dport; the server, listening on the wildcard address, answers with a
    broadcast from reply_sport to reply_dport. Returns (request arrived, answer arrived)."""
    req = b"discover %d %d" % (os.getpid(), next(_msg))
    ans = b"offer %d %d" % (os.getpid(), next(_msg))
    srv = _bcast_socket(server_ns, ("0.0.0.0", dport))
    cli = _bcast_socket(client_ns, ("0.0.0.0", reply_dport))
    try:
        if not raw_udp(client_ns, "0.0.0.0", sport, "255.255.255.255", dport, req):
            return (False, False)
        got_req = _recv(srv, req, timeout)
        out = _bcast_socket(server_ns, ("0.0.0.0", reply_sport))
        try:
            out.sendto(ans, ("255.255.255.255", reply_dport))
        except OSError:
            return (got_req, False)
        finally:
            out.close()
        return (got_req, _recv(cli, ans, timeout))
    finally:
        srv.close()
        cli.close()


def dhcp_cases():
    cases = []
    for role in ("client", "server"):
        rules = compile_policy(f"allow dhcp {role};\n")
        fw_is_client = role == "client"

        def ex(t, sp, dp, rsp, rdp, timeout, fwc=fw_is_client):
            c, s = (t.fw, t.peer) if fwc else (t.peer, t.fw)
            return dhcp_exchange(c, s, sp, dp, rsp, rdp, timeout)
        P = [
            ("broadcast request 0.0.0.0:68 -> 255.255.255.255:67, broadcast answer 67 -> 68",
             lambda t, ex=ex: ex(t, 68, 67, 67, 68, PASS_TIMEOUT), (True, True)),
            # the neighbouring server port: the request goes nowhere (nor can the answer)
            ("broadcast request 68 -> 255.255.255.255:69",
             lambda t, ex=ex: ex(t, 68, 69, 67, 68, BLOCK_TIMEOUT)[0], False),
            # an answer to a port other than 68 is dropped
            ("broadcast answer 67 -> 255.255.255.255:69",
             lambda t, ex=ex: ex(t, 68, 67, 67, 69, BLOCK_TIMEOUT)[1], False),
        ]
        cases.append(Case(f"dhcp {role} broadcasts", "host", rules,
                          [(says(n, w), fn, w) for n, fn, w in P]))
    return cases


# --------------------------------------------------------------------------- helpers

def ftp_cases():
    cases = []
    for role in ("client", "server"):
        rules = compile_policy(f"allow ftp {role};\n")
        P = []
        for fam in (4, 6):
            for passive in (True, False):
                mode = "passive" if passive else "active"
                if role == "client":
                    fn = (lambda t, f=fam, pa=passive:
                          N.ftp_transfer(t.fw, t.peer, PEER[f], pa, timeout=3.0))
                else:
                    fn = (lambda t, f=fam, pa=passive:
                          N.ftp_transfer(t.peer, t.fw, FW[f], pa, timeout=3.0))
                P.append((says(f"{mode} transfer v{fam}", True), fn, True))
        cases.append(Case(f"ftp {role}", "host", rules, P))
    # Without the helper's expectation the same data connections are dropped: the data flows
    # are `related`, not open ports (the generic probes check the static ports; this checks
    # that a transfer really needs the helper: a policy of the control port alone fails).
    rules = compile_policy("allow tcp/21 client;\n")
    P = [(says(f"{'passive' if pa else 'active'} transfer v4 without the ftp app", False),
          lambda t, pa=pa: N.ftp_transfer(t.fw, t.peer, PEER[4], pa, timeout=2.0), False)
         for pa in (True, False)]
    cases.append(Case("tcp/21 client (no helper)", "host", rules, P))
    return cases


def _ip_int(addr):
    return int(ipaddress.IPv4Address(addr))


class FakeIrcServer:
    """Accepts IRC clients on addr:6667 in ns and reads what they say (nothing is answered:
    the irc helper looks only at what the client sends)."""

    def __init__(self, ns, addr):
        self.sock = N.socket_in(ns, socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, 6667))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.lines = []
        self.cond = threading.Condition()
        self.stop = threading.Event()
        self.conns = []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(c)
            threading.Thread(target=self._read, args=(c,), daemon=True).start()

    def _read(self, c):
        c.settimeout(0.2)
        buf = b""
        while not self.stop.is_set():
            try:
                chunk = c.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                with self.cond:
                    self.lines.append(line)
                    self.cond.notify_all()

    def wait_for(self, needle, timeout=2.0):
        with self.cond:
            return self.cond.wait_for(lambda: any(needle in x for x in self.lines), timeout)

    def close(self):
        self.stop.set()
        for c in self.conns + [self.sock]:
            try:
                c.close()
            except OSError:
                pass


def dcc_send(topo, offered_ip, offered_port, connect_port, timeout):
    """The firewall host, an IRC client of the peer's fake server, offers a file by DCC SEND
    (address offered_ip, port offered_port) and listens on connect_port; the peer then
    connects to that port. True = the connection got through and carried data."""
    server = FakeIrcServer(topo.peer, PEER[4])
    lst = N.socket_in(topo.fw, socket.AF_INET, socket.SOCK_STREAM)
    cli = N.socket_in(topo.fw, socket.AF_INET, socket.SOCK_STREAM)
    peer = N.socket_in(topo.peer, socket.AF_INET, socket.SOCK_STREAM)
    try:
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind((FW[4], connect_port))
        lst.listen(1)
        cli.settimeout(2)
        cli.connect((PEER[4], 6667))
        token = b"f%d.bin" % next(_msg)
        # one segment, as a client sends it: the helper reads the CTCP in the client's data
        cli.sendall(b"PRIVMSG bob :\x01DCC SEND %s %d %d 4096\x01\r\n"
                    % (token, _ip_int(offered_ip), offered_port))
        if not server.wait_for(token):
            return "offer not received"
        peer.settimeout(timeout)
        try:
            peer.connect((FW[4], connect_port))
            peer.sendall(b"dcc data\n")
        except OSError:
            return False
        lst.settimeout(timeout)
        c, _ = lst.accept()
        c.settimeout(timeout)
        try:
            return c.recv(64) == b"dcc data\n"
        finally:
            c.close()
    except socket.timeout:
        return False
    finally:
        for s in (lst, cli, peer):
            s.close()
        server.close()


def irc_cases():
    """One topology per offer: each runs its own fake IRC server on the peer's port 6667.
    `negotiated static;`: irc's fallback without pinholed, the kernel's irc helper (IPv4 only:
    DCC offers carry an IPv4 address); tests/kernel/test_pinholed_relayed.py has pinholed's
    DCC, both sides and both families. Without it, `allow irc client;` opens nothing here."""
    irc = compile_policy("negotiated static;\nallow irc client;\n")
    nopd = compile_policy("allow irc client;\n")
    plain = compile_policy("allow tcp/6667 client;\n")
    offers = [
        (irc, "irc client", "DCC SEND offer of 10.0.0.5:5000, the peer connects to it",
         lambda t: dcc_send(t, FW[4], 5000, 5000, PASS_TIMEOUT), True),
        # the default, pinholed's channel: without pinholed running, closed
        (nopd, "irc client (pinholed not running)", "DCC SEND offer of 10.0.0.5:5000, the peer connects to it",
         lambda t: dcc_send(t, FW[4], 5000, 5000, BLOCK_TIMEOUT), False),
        # what was not offered stays closed
        (irc, "irc client", "DCC SEND offer of port 5100, the peer connects to 5101",
         lambda t: dcc_send(t, FW[4], 5100, 5101, BLOCK_TIMEOUT), False),
        # an offer naming another address than the sender's opens nothing (the helper checks)
        (irc, "irc client", "DCC SEND offer naming 10.0.0.9:5200, the peer connects to 10.0.0.5:5200",
         lambda t: dcc_send(t, "10.0.0.9", 5200, 5200, BLOCK_TIMEOUT), False),
        # the control port alone, without the helper: the same offer opens nothing
        (plain, "tcp/6667 client (no helper)", "DCC SEND offer of 10.0.0.5:5000, the peer connects to it",
         lambda t: dcc_send(t, FW[4], 5000, 5000, BLOCK_TIMEOUT), False),
    ]
    return [Case(f"{title} DCC", "host", rules, [(says(name, want), fn, want)])
            for rules, title, name, fn, want in offers]


# --------------------------------------------------------------------------- fragments

def big_reply(client_ns, src, sport, dst, dport, server_ns, size, timeout):
    """A small UDP request answered with one `size`-byte datagram (fragmented on the wire).
    True = the whole answer arrived."""
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    srv = N.socket_in(server_ns, fam, socket.SOCK_DGRAM)
    cli = N.socket_in(client_ns, fam, socket.SOCK_DGRAM)
    try:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((dst, dport))
        srv.settimeout(timeout)
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        cli.bind((src, sport))
        cli.sendto(b"read", (dst, dport))
        _, peer = srv.recvfrom(64)
        payload = os.urandom(size)
        srv.sendto(payload, peer)
        return _recv(cli, payload, timeout)
    except OSError:
        return False
    finally:
        srv.close()
        cli.close()


def fragment_cases():
    cases = []
    for policy, v6_ok in (("established only;\nallow nfs client;\n", True),
                          ("established only;\nallow udp/2049 client;\n", False)):
        rules = compile_policy(policy)
        P = []
        for fam in (4, 6):
            # IPv4 fragments addressed to the host are reassembled before the input hook;
            # IPv6 ones are not: only the nfs flow's `fragments` admits them.
            want = True if fam == 4 else v6_ok
            P.append((says(f"4000-byte reply from 2049 to {1001 + fam}, v{fam}", want),
                      lambda t, f=fam, w=want: big_reply(
                          t.fw, FW[f], 1001 + f, PEER[f], 2049, t.peer, 4000,
                          PASS_TIMEOUT if w else BLOCK_TIMEOUT), want))
        name = policy.replace("\n", " ").strip()
        cases.append(Case(name, "host", rules, P))
    return cases


# --------------------------------------------------------------------------- main

STATELESS_APPS = [("smb", "server"), ("nfs", "client"), ("ping", "server"), ("dns", "client"),
                  ("ssh", "server"), ("esp", "client")]


def main():
    ktest.preflight_or_skip("test_stdlib_apps")
    if not os.access(PINHOLE, os.X_OK):
        print(f"SKIP test_stdlib_apps: {PINHOLE} not built (make)", flush=True)
        sys.exit(ktest.SKIP)
    only = set(sys.argv[1:])
    cases = []
    flows = {}
    for app in app_names():
        if only and app not in only:
            continue
        flows[app] = app_flows(app)
        for role in ("client", "server"):
            cases += app_role_cases(app, role, flows[app])
    for app, role in STATELESS_APPS:
        if not only or app in only:
            cases += app_role_cases(app, role, flows.get(app) or app_flows(app), stateless=True)
    if not only or "smb" in only:
        cases += smb_broadcast_cases()
    if not only or "dhcp" in only:
        cases += dhcp_cases()
    if not only or "ftp" in only:
        cases += ftp_cases()
    if not only or "irc" in only:
        cases += irc_cases()
    if not only or "nfs" in only:
        cases += fragment_cases()
    ktest.run_cases(SUITE, cases, parallel=int(os.environ.get("STDLIB_PARALLEL", "6")))
    SUITE.finish()


if __name__ == "__main__":
    main()
