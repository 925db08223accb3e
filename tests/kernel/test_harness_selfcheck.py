#!/usr/bin/python3
"""Self-check of the kernel harness on hand-written rulesets (the compiler is not needed).

Every probe runs under three rulesets: accept-all (it must pass), drop-all (it must fail) and
a realistic policy (mixed), so each assertion is shown to be able to fail. The differential
machinery is exercised through a stand-in `pinhole` written to a temporary directory for the
duration of this file only; the real suite (test_compiler.py) uses the real binary.
"""
import os
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as D  # noqa: E402
import ktest  # noqa: E402
import nsnet as N  # noqa: E402
from ktest import Case  # noqa: E402

ACCEPT_ALL = """
table inet pinhole {}
delete table inet pinhole
table inet pinhole {
	chain input { type filter hook input priority 0; policy accept; }
	chain forward { type filter hook forward priority 0; policy accept; }
	chain output { type filter hook output priority 0; policy accept; }
}
"""
DROP_ALL = ACCEPT_ALL.replace("policy accept", "policy drop")

# What a host policy could compile to: ssh in from 10.0.0.0/24 and fd00:a::/64 only, ftp in
# and out with the ftp helper, http and dns out, echo in, ident (113/tcp) and tftp (69/udp)
# rejected. REJECT_SUPPORT lets the resets/unreachables of `reject` leave: they traverse the
# output hook as `ct state related` of the rejected connection (see KERNEL_FACTS below).
REJECT_SUPPORT = """
		ct state related tcp flags rst accept
		ct state related icmp type destination-unreachable accept
		ct state related icmpv6 type destination-unreachable accept"""
POLICY = """
table inet pinhole {}
delete table inet pinhole
table inet pinhole {
	ct helper ftp-standard { type "ftp" protocol tcp; }
	chain prerouting {
		type filter hook prerouting priority 0; policy accept;
		tcp dport 21 ct state new ct helper set "ftp-standard"
	}
	chain input {
		type filter hook input priority 0; policy drop;
		iif lo accept
		ct state established accept
		ct state related ct helper "ftp" accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		ct state invalid drop
		ip saddr 10.0.0.0/24 tcp dport 22 ct state new accept
		ip6 saddr fd00:a::/64 tcp dport 22 ct state new accept
		tcp dport 21 ct state new accept
		icmp type echo-request accept
		icmpv6 type echo-request accept
		tcp dport 113 reject with tcp reset
		udp dport 69 reject
	}
	chain output {
		type filter hook output priority 0; policy drop;
		oif lo accept
		ct state established accept
		ct state related ct helper "ftp" accept@REJECT_SUPPORT@
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		tcp dport 21 ct state new ct helper set "ftp-standard"
		tcp dport { 21, 80 } ct state new accept
		udp dport 53 ct state new accept
	}
}
"""
STRICT = POLICY.replace("@REJECT_SUPPORT@", "")
POLICY = POLICY.replace("@REJECT_SUPPORT@", REJECT_SUPPORT)
NOHELPER = POLICY.replace('tcp dport 21 ct state new ct helper set "ftp-standard"\n', "")
assert NOHELPER.count("ct helper set") == 0 and POLICY.count("ct helper set") == 2

GATEWAY = """
table inet pinhole {}
delete table inet pinhole
table inet pinhole {
	chain input {
		type filter hook input priority 0; policy drop;
		iif lo accept
		ct state established accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
	}
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established accept
		ct state invalid drop
		iifname "lan0" oifname "wan0" tcp dport { 80, 443 } accept
		iifname "lan0" oifname "wan0" udp dport 53 accept
		iifname "lan0" oifname "wan0" icmp type echo-request accept
		iifname "lan0" oifname "wan0" icmpv6 type echo-request accept
		iifname "wan0" oifname "lan0" ip6 daddr fd00:1::2 tcp dport 22 accept
		iifname "wan0" tcp dport 113 reject with tcp reset
	}
}
"""


def host_probes():
    """(name, fn(topo), {ruleset: expected}) for the host topology."""
    T, F = True, False
    P = []

    def add(name, fn, accept_all, drop_all, policy, nohelper=None):
        P.append((name, fn, {"accept-all": accept_all, "drop-all": drop_all, "policy": policy,
                             "nohelper": nohelper}))
    # inbound ssh: the allowed prefix, outside it, a neighbouring port, both families
    add("ssh in v4 from 10.0.0.7", lambda t: N.tcp_connect(t.peer, "10.0.0.7", 0, "10.0.0.5", 22),
        T, F, T)
    add("ssh in v4 from 10.0.0.7 sport 40022",
        lambda t: N.tcp_connect(t.peer, "10.0.0.7", 40022, "10.0.0.5", 22), T, F, T)
    add("ssh in v4 from 10.0.0.7 to 192.0.2.5",
        lambda t: N.tcp_connect(t.peer, "10.0.0.7", 0, "192.0.2.5", 22), T, F, T)
    add("ssh in v4 from 192.0.2.7",
        lambda t: N.tcp_connect(t.peer, "192.0.2.7", 0, "192.0.2.5", 22), T, F, F)
    add("tcp/23 in v4 from 10.0.0.7 (outcome)",
        lambda t: N.tcp_outcome(t.peer, "10.0.0.7", 0, "10.0.0.5", 23), "ok", "timeout", "timeout")
    add("ssh in v6 from fd00:a::7",
        lambda t: N.tcp_connect(t.peer, "fd00:a::7", 0, "fd00:a::5", 22), T, F, T)
    add("ssh in v6 from 2001:db8:b::7",
        lambda t: N.tcp_connect(t.peer, "2001:db8:b::7", 0, "2001:db8:b::5", 22), T, F, F)
    add("tcp/2222 in v6 from fd00:a::7",
        lambda t: N.tcp_connect(t.peer, "fd00:a::7", 0, "fd00:a::5", 2222), T, F, F)
    add("ftp control port in v4", lambda t: N.tcp_connect(t.peer, "192.0.2.7", 0, "192.0.2.5", 21),
        T, F, T, T)
    # outbound
    add("http out v4", lambda t: N.tcp_connect(t.fw, "10.0.0.5", 0, "10.0.0.7", 80), T, F, T)
    add("http out v6", lambda t: N.tcp_connect(t.fw, "2001:db8:b::5", 0, "2001:db8:b::7", 80),
        T, F, T)
    add("tcp/8080 out v4", lambda t: N.tcp_connect(t.fw, "10.0.0.5", 0, "10.0.0.7", 8080), T, F, F)
    add("dns out v4", lambda t: N.udp_exchange(t.fw, "10.0.0.5", 0, "10.0.0.7", 53), T, F, T)
    add("dns out v6", lambda t: N.udp_exchange(t.fw, "fd00:a::5", 0, "fd00:a::7", 53), T, F, T)
    add("dns out v4 sport 5353",
        lambda t: N.udp_exchange(t.fw, "192.0.2.5", 5353, "192.0.2.7", 53), T, F, T)
    add("dns in v4", lambda t: N.udp_exchange(t.peer, "10.0.0.7", 0, "10.0.0.5", 53), T, F, F)
    add("udp/5300 out v4 (outcome)",
        lambda t: N.udp_outcome(t.fw, "10.0.0.5", 0, "10.0.0.7", 5300), "ok", "EPERM", "EPERM")
    # ICMP echo
    add("echo in v4", lambda t: N.icmp_echo(t.peer, "192.0.2.7", "192.0.2.5"), T, F, T)
    add("echo in v6", lambda t: N.icmp_echo(t.peer, "2001:db8:b::7", "2001:db8:b::5"), T, F, T)
    add("echo out v4", lambda t: N.icmp_echo(t.fw, "10.0.0.5", "10.0.0.7"), T, F, F)
    add("echo out v6", lambda t: N.icmp_echo(t.fw, "fd00:a::5", "fd00:a::7"), T, F, F)
    # reject answers at once; drop times out
    add("ident in v4 rejected (outcome)",
        lambda t: N.tcp_outcome(t.peer, "10.0.0.7", 0, "10.0.0.5", 113), "ok", "timeout",
        "ECONNREFUSED")
    add("ident in v6 rejected (outcome)",
        lambda t: N.tcp_outcome(t.peer, "fd00:a::7", 0, "fd00:a::5", 113), "ok", "timeout",
        "ECONNREFUSED")
    add("tftp in v4 rejected (outcome)",
        lambda t: N.udp_outcome(t.peer, "10.0.0.7", 0, "10.0.0.5", 69), "ok", "timeout",
        "ECONNREFUSED")
    add("tftp in v6 rejected (outcome)",
        lambda t: N.udp_outcome(t.peer, "fd00:a::7", 0, "fd00:a::5", 69), "ok", "timeout",
        "ECONNREFUSED")
    # FTP both ways, both modes, both families: needs the helper under the policy
    for fam, fw_a, peer_a in (("v4", "10.0.0.5", "10.0.0.7"), ("v6", "fd00:a::5", "fd00:a::7")):
        for passive in (True, False):
            mode = "passive" if passive else "active"
            add(f"ftp {mode} {fam}: peer client, fw server",
                lambda t, a=fw_a, p=passive: N.ftp_transfer(t.peer, t.fw, a, p), T, F, T, F)
            add(f"ftp {mode} {fam}: fw client, peer server",
                lambda t, a=peer_a, p=passive: N.ftp_transfer(t.fw, t.peer, a, p), T, F, T, F)
    # single crafted segments observed by the probe table
    add("crafted SYN in to closed tcp/23",
        lambda t: N.crafted_tcp(t.peer, "10.0.0.7", 31001, "10.0.0.5", 23, "S"), T, F, F)
    add("crafted SYN in to tcp/22 from 10.0.0.7",
        lambda t: N.crafted_tcp(t.peer, "10.0.0.7", 31002, "10.0.0.5", 22, "S"), T, F, T)
    add("crafted SYN in to tcp/22 from 192.0.2.7",
        lambda t: N.crafted_tcp(t.peer, "192.0.2.7", 31003, "10.0.0.5", 22, "S"), T, F, F)
    add("crafted SYN in v6 to tcp/22 from fd00:a::7",
        lambda t: N.crafted_tcp(t.peer, "fd00:a::7", 31004, "fd00:a::5", 22, "syn"), T, F, T)
    add("crafted RST in to tcp/22 (ct invalid)",
        lambda t: N.crafted_tcp(t.peer, "10.0.0.7", 31005, "10.0.0.5", 22, "R"), T, F, F)
    add("crafted SYN out to tcp/80",
        lambda t: N.crafted_tcp(t.fw, "10.0.0.5", 31006, "10.0.0.7", 80, "S"), T, F, T)
    add("crafted SYN out to tcp/8080",
        lambda t: N.crafted_tcp(t.fw, "10.0.0.5", 31007, "10.0.0.7", 8080, "S"), T, F, F)
    return P


# Observed kernel behaviour the compiler must live with; each probe is also run where the
# opposite holds, so these assertions can fail too.
def kernel_fact_cases():
    facts = []
    # 1. reject's reset/unreachable passes the output hook as ct state related (no helper):
    #    an output chain that accepts related only with `ct helper "ftp"` eats it, and the
    #    client waits for its timeout instead of failing at once.
    for name, rs, want in (("strict output chain", STRICT, "timeout"),
                           ("output accepts related rst/unreachable", POLICY, "ECONNREFUSED")):
        facts.append(Case(f"fact: reject vs {name}", "host", rs, [
            ("ident v4 outcome",
             lambda t: N.tcp_outcome(t.peer, "10.0.0.7", 0, "10.0.0.5", 113), want),
            ("ident v6 outcome",
             lambda t: N.tcp_outcome(t.peer, "fd00:a::7", 0, "fd00:a::5", 113), want),
            ("tftp v4 outcome",
             lambda t: N.udp_outcome(t.peer, "10.0.0.7", 0, "10.0.0.5", 69), want)]))
    #    The same for a reject in forward: the answer leaves through the gateway's own output.
    gw_out = ("\n\tchain output {\n\t\ttype filter hook output priority 0; policy drop;\n"
              "\t\tct state established accept\n"
              "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept@R@\n\t}\n}\n")
    gw_strict = GATEWAY.rstrip().rstrip("}") + gw_out.replace("@R@", "")
    gw_related = GATEWAY.rstrip().rstrip("}") + gw_out.replace("@R@", REJECT_SUPPORT)
    for name, rs, want in (("gateway output chain, strict", gw_strict, "timeout"),
                           ("gateway output chain accepting related rst", gw_related,
                            "ECONNREFUSED")):
        facts.append(Case(f"fact: forward reject vs {name}", "gateway", rs, [
            ("ident wan->lan v4 outcome",
             lambda t: N.tcp_outcome(t.wan, "203.0.113.2", 0, "10.1.0.2", 113), want),
            ("ident wan->lan v6 outcome",
             lambda t: N.tcp_outcome(t.wan, "2001:db8:2::2", 0, "fd00:1::2", 113), want),
            ("http lan->wan (control)",
             lambda t: N.tcp_connect(t.lan, "10.1.0.2", 0, "203.0.113.2", 80), True)]))
    # 2. with nf_conntrack_tcp_loose=1 (the default) a bare ACK or data segment with no
    #    connection behind it is picked up as `ct state new`, so `tcp dport 22 ct state new
    #    accept` admits it; a FIN, SYN-ACK or RST out of the blue is `invalid`. Only a SYN
    #    check (`tcp flags & (syn | ack) == syn`) keeps mid-stream segments out.
    synonly = POLICY.replace("ip saddr 10.0.0.0/24 tcp dport 22 ct state new accept",
                             "ip saddr 10.0.0.0/24 tcp dport 22 tcp flags & (syn | ack) == syn "
                             "ct state new accept")
    assert synonly != POLICY
    segs = (("ACK", "A"), ("PSH-ACK", "PA"), ("FIN", "F"), ("SYN-ACK", "SA"), ("RST", "R"),
            ("SYN (control)", "S"))
    T, F = True, False
    for name, rs, wants in (("accept-all", ACCEPT_ALL, (T, T, T, T, T, T)),
                            ("ct state new", POLICY, (T, T, F, F, F, T)),
                            ("ct state new + syn only", synonly, (F, F, F, F, F, T))):
        facts.append(Case(f"fact: mid-stream segments vs {name}", "host", rs, [
            (f"crafted {seg} to tcp/22",
             lambda t, i=i, fl=fl: N.crafted_tcp(t.peer, "10.0.0.7", 32001 + i, "10.0.0.5", 22,
                                                 fl), want)
            for i, ((seg, fl), want) in enumerate(zip(segs, wants))]))
    return facts


def gateway_probes():
    T, F = True, False
    P = []

    def add(name, fn, accept_all, drop_all, policy):
        P.append((name, fn, {"accept-all": accept_all, "drop-all": drop_all, "policy": policy}))
    add("http lan->wan v4", lambda t: N.tcp_connect(t.lan, "10.1.0.2", 0, "203.0.113.2", 80),
        T, F, T)
    add("https lan->wan v6",
        lambda t: N.tcp_connect(t.lan, "fd00:1::2", 0, "2001:db8:2::2", 443), T, F, T)
    add("ssh lan->wan v4", lambda t: N.tcp_connect(t.lan, "10.1.0.2", 0, "203.0.113.2", 22),
        T, F, F)
    add("http wan->lan v4", lambda t: N.tcp_connect(t.wan, "203.0.113.2", 0, "10.1.0.2", 80),
        T, F, F)
    add("ssh wan->lan v6", lambda t: N.tcp_connect(t.wan, "2001:db8:2::2", 0, "fd00:1::2", 22),
        T, F, T)
    add("ssh wan->lan v4", lambda t: N.tcp_connect(t.wan, "203.0.113.2", 0, "10.1.0.2", 22),
        T, F, F)
    add("dns lan->wan v4", lambda t: N.udp_exchange(t.lan, "10.1.0.2", 0, "203.0.113.2", 53),
        T, F, T)
    add("dns lan->wan v6", lambda t: N.udp_exchange(t.lan, "fd00:1::2", 0, "2001:db8:2::2", 53),
        T, F, T)
    add("dns wan->lan v4", lambda t: N.udp_exchange(t.wan, "203.0.113.2", 0, "10.1.0.2", 53),
        T, F, F)
    add("echo lan->wan v4", lambda t: N.icmp_echo(t.lan, "10.1.0.2", "203.0.113.2"), T, F, T)
    add("echo lan->wan v6", lambda t: N.icmp_echo(t.lan, "fd00:1::2", "2001:db8:2::2"), T, F, T)
    add("echo wan->lan v4", lambda t: N.icmp_echo(t.wan, "203.0.113.2", "10.1.0.2"), T, F, F)
    add("ident wan->lan rejected (outcome)",
        lambda t: N.tcp_outcome(t.wan, "203.0.113.2", 0, "10.1.0.2", 113), "ok", "timeout",
        "ECONNREFUSED")
    add("crafted SYN fwd lan->wan tcp/443",
        lambda t: N.crafted_tcp(t.lan, "10.1.0.2", 33001, "203.0.113.2", 443, "S"), T, F, T)
    add("crafted SYN fwd wan->lan tcp/443",
        lambda t: N.crafted_tcp(t.wan, "203.0.113.2", 33002, "10.1.0.2", 443, "S"), T, F, F)
    add("crafted SYN fwd v6 wan->lan tcp/22",
        lambda t: N.crafted_tcp(t.wan, "2001:db8:2::2", 33003, "fd00:1::2", 22, "S"), T, F, T)
    return P


def probe_cases():
    cases = []
    host = host_probes()
    for rs_name, rs in (("accept-all", ACCEPT_ALL), ("drop-all", DROP_ALL), ("policy", POLICY),
                        ("nohelper", NOHELPER)):
        probes = [(n, fn, want[rs_name]) for n, fn, want in host if want[rs_name] is not None]
        cases.append(Case(f"host/{rs_name}", "host", rs, probes))
    gw = gateway_probes()
    for rs_name, rs in (("accept-all", ACCEPT_ALL), ("drop-all", DROP_ALL), ("policy", GATEWAY)):
        cases.append(Case(f"gateway/{rs_name}", "gateway", rs,
                          [(n, fn, want[rs_name]) for n, fn, want in gw]))
    return cases + kernel_fact_cases()


# --------------------------------------------------------------------------- differential

# A stand-in for `pinhole compile` / `pinhole explain --brief`, only for this self-check: the
# "policy" file names one of two hand-written rulesets, and the oracle restates it in Python.
STUB = r'''#!/usr/bin/python3
import ipaddress, os, sys
HOST = @HOST@
GATEWAY = @GATEWAY@

def verdict(kind, words):
    proto, src, _, dst, direction = words[:5]
    rest = words[5:]
    def split(ep):
        if proto == "icmp":
            return ipaddress.ip_address(ep.strip("[]")), None
        a, p = ep.rsplit(":", 1)
        return ipaddress.ip_address(a.strip("[]")), int(p)
    (sa, sp), (da, dp) = split(src), split(dst)
    iif = rest[rest.index("iif") + 1] if "iif" in rest else None
    lie = os.environ.get("STUB_LIE") == "1"
    if proto == "tcp" and dp == 23 and lie:
        return "accept stub:lie"
    if kind == "host":
        if direction == "in":
            if proto == "tcp" and dp == 22 and (sa in ipaddress.ip_network("10.0.0.0/8") if
                                                  sa.version == 4 else
                                                  sa in ipaddress.ip_network("fd00::/8")):
                return "accept stub:1"
            if proto == "tcp" and dp == 2049 and sa.version == 4 and \
                    sa in ipaddress.ip_network("10.0.0.0/8"):
                return "accept stub:2"
            if proto == "tcp" and dp in (80, 443): return "accept stub:3"
            if proto == "udp" and dp == 53: return "accept stub:4"
            if proto == "icmp": return "accept stub:5"
            if proto == "tcp" and dp in (23, 25, 113): return "reject stub:6"
            if proto == "udp" and dp in (137, 138, 139): return "reject stub:7"
        else:
            if proto == "tcp" and dp in (21, 25, 80, 443): return "accept stub:8"
            if proto == "udp" and (dp == 53 or 6881 <= dp <= 6889): return "accept stub:9"
            if proto == "icmp" and sa.version == 4: return "accept stub:10"
            if proto == "tcp" and dp == 445: return "reject stub:11"
            if proto == "udp" and dp == 111: return "reject stub:12"
        return "drop default"
    if iif == "lan0":
        if proto == "tcp" and dp in (80, 443): return "accept stub:20"
        if proto == "udp" and dp == 53: return "accept stub:21"
        if proto == "icmp": return "accept stub:22"
    else:
        if proto == "tcp" and dp == 22 and da == ipaddress.ip_address("fd00:1::2"):
            return "accept stub:23"
        if proto == "tcp" and (20 <= dp <= 25 or dp == 113): return "reject stub:24"
        if proto == "udp" and 137 <= dp <= 139: return "reject stub:25"
    return "drop default"

def main():
    kind = open(sys.argv[-2 if sys.argv[1] == "explain" else 2]).read().strip()
    if kind not in ("host", "gateway"):
        print("stub: unknown policy", file=sys.stderr)
        return 2
    if sys.argv[1] == "compile":
        sys.stdout.write(HOST if kind == "host" else GATEWAY)
        return 0
    for line in sys.stdin:
        if line.strip():
            print(verdict(kind, line.split()))
    return 0
sys.exit(main())
'''

STUB_HOST = """
table inet pinhole {}
delete table inet pinhole
table inet pinhole {
	chain input {
		type filter hook input priority 0; policy drop;
		iif lo accept
		ct state established accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		ct state invalid drop
		ip saddr 10.0.0.0/8 tcp dport 22 accept
		ip6 saddr fd00::/8 tcp dport 22 accept
		ip saddr 10.0.0.0/8 tcp dport 2049 accept
		tcp dport { 80, 443 } accept
		udp dport 53 accept
		icmp type echo-request accept
		icmpv6 type echo-request accept
		tcp dport { 23, 25, 113 } reject with tcp reset
		udp dport { 137, 138, 139 } reject
	}
	chain output {
		type filter hook output priority 0; policy drop;
		oif lo accept
		ct state established accept
		ct state related tcp flags rst accept
		ct state related icmp type destination-unreachable accept
		ct state related icmpv6 type destination-unreachable accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		tcp dport { 21, 25, 80, 443 } accept
		udp dport { 53, 6881-6889 } accept
		icmp type echo-request accept
		tcp dport 445 reject with tcp reset
		udp dport 111 reject
	}
}
"""
STUB_GATEWAY = GATEWAY.replace(
    'iifname "wan0" tcp dport 113 reject with tcp reset',
    'iifname "wan0" tcp dport { 20-25, 113 } reject with tcp reset\n'
    '\t\tiifname "wan0" udp dport 137-139 reject')
assert STUB_GATEWAY != GATEWAY


def differential_checks(suite):
    tmp = tempfile.mkdtemp(prefix="ph-stub-")
    try:
        stub = os.path.join(tmp, "pinhole")
        with open(stub, "w") as f:
            f.write(STUB.replace("@HOST@", repr(STUB_HOST)).replace("@GATEWAY@",
                                                                   repr(STUB_GATEWAY)))
        os.chmod(stub, stat.S_IRWXU)
        pol = {}
        for kind in ("host", "gateway", "bad"):
            pol[kind] = os.path.join(tmp, f"{kind}.pin")
            with open(pol[kind], "w") as f:
                f.write(kind + "\n")

        def diff_case(name, kind, n, seed, env_lie=False, want_ok=True):
            os.environ.pop("STUB_LIE", None)
            if env_lie:
                os.environ["STUB_LIE"] = "1"
            try:
                res = D.differential(pol[kind], kind, n, seed, pinhole=stub)
            except Exception as e:
                return suite.error(name, e)
            finally:
                os.environ.pop("STUB_LIE", None)
            kinds = set(res.kernel)
            if want_ok:
                suite.check(f"{name}: no mismatches", res.ok, res.summary())
                suite.check(f"{name}: kernel verdicts include accept, drop and reject",
                            kinds == {"accept", "drop", "reject"}, res.summary())
            else:
                mm = res.mismatches
                suite.check(f"{name}: mismatches found", len(mm) > 0, res.summary())
                suite.check(f"{name}: mismatches are exactly the lied-about tcp/23 packets",
                            all(p.proto == "tcp" and p.dport == 23 and o.startswith("accept")
                                for p, k, o in mm) and
                            len(mm) == sum(1 for p, k in zip(res.packets, res.kernel)
                                           if p.proto == "tcp" and p.dport == 23
                                           and k != "accept"),
                            res.summary(limit=50))
            print(f"# {res.summary(limit=0)}", flush=True)

        diff_case("differential host (stand-in oracle)", "host", 240, 7)
        diff_case("differential gateway (stand-in oracle)", "gateway", 160, 11)
        diff_case("differential host with a lying oracle", "host", 240, 7, env_lie=True,
                  want_ok=False)
        try:
            D.differential(pol["bad"], "host", 10, 1, pinhole=stub)
            suite.check("differential: compile failure raises", False, "no exception")
        except RuntimeError as e:
            suite.check("differential: compile failure raises", "exit 2" in str(e), str(e))
        # the explain lines the real compiler will receive
        t = N.host_topology()
        try:
            pk = D.generate(t, 400, 3)
        finally:
            t.close()
        lines = [p.explain_line() for p in pk]
        suite.check("differential: packets are unique connections",
                    len({(p.proto, frozenset(((p.src, p.sport), (p.dst, p.dport))))
                         for p in pk}) == len(pk), "duplicate 5-tuple")
        suite.check("differential: explain syntax",
                    any(ln.startswith("tcp 192.0.2.7:") and ln.endswith(" in iif eth0 syn new")
                        for ln in lines) and
                    any(ln.startswith("udp [") and "]:" in ln and " out oif eth0" in ln
                        for ln in lines) and
                    any(ln.startswith("icmp ") and ln.endswith("echo-request new")
                        for ln in lines), "\n".join(lines[:5]))
        wk = set(D.WELL_KNOWN)
        suite.check("differential: ports biased to well-known ones",
                    0.4 < sum(p.dport in wk for p in pk if p.proto != "icmp") /
                    sum(p.proto != "icmp" for p in pk) < 0.9, "")
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ktest.preflight_or_skip("harness self-check")
    suite = ktest.Suite("harness self-check")
    ktest.run_cases(suite, probe_cases(), parallel=int(os.environ.get("PH_PARALLEL", "6")))
    differential_checks(suite)
    suite.finish()


if __name__ == "__main__":
    main()
