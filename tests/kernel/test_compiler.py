#!/usr/bin/python3
"""Kernel tests of compiled policies (needs the compiler: $PINHOLE or build/pinhole).

For tests/kernel/policies/*.pin (topology named by a "# kernel-topology: host|gateway" line):
  - `pinhole compile` succeeds and the ruleset loads into a namespace, also over itself;
  - real traffic where the policy's meaning is known (TRAFFIC below): ssh/nfs restricted by
    prefix, deny beating allow, reject answering at once, FTP through the conntrack helper;
  - differential: random packets through the kernel vs `pinhole explain --brief`.
Contract checks: a bad policy makes `pinhole compile` exit 2. examples/*.pin must compile and
load. Without the binary the whole file is skipped (exit 77; run.sh fails it under CI=true).
"""
import glob
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as D  # noqa: E402
import ktest  # noqa: E402
import nsnet as N  # noqa: E402
from ktest import Case  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
N_PACKETS = int(os.environ.get("PH_DIFF_N", "300"))
SEED = int(os.environ.get("PH_DIFF_SEED", "1"))


def tcp(src_role, src, dst, dport, sport=0):
    return lambda t: N.tcp_connect(getattr(t, src_role), src, sport, dst, dport)


def tcp_outcome(src_role, src, dst, dport):
    return lambda t: N.tcp_outcome(getattr(t, src_role), src, 0, dst, dport)


def udp(src_role, src, dst, dport):
    return lambda t: N.udp_exchange(getattr(t, src_role), src, 0, dst, dport)


def ftp(client_role, server_role, server_addr, passive, client_addr=None):
    return lambda t: N.ftp_transfer(getattr(t, client_role), getattr(t, server_role),
                                    server_addr, passive, client_addr=client_addr)


T, F = True, False
TRAFFIC = {
    "host.pin": [
        ("ssh in v4 from the office", tcp("peer", "10.0.0.7", "10.0.0.5", 22), T),
        ("ssh in v4 from outside", tcp("peer", "192.0.2.7", "192.0.2.5", 22), F),
        ("ssh in v6 from the office", tcp("peer", "fd00:a::7", "fd00:a::5", 22), T),
        ("ssh in v6 from outside", tcp("peer", "2001:db8:b::7", "2001:db8:b::5", 22), F),
        ("http in v6", tcp("peer", "2001:db8:b::7", "2001:db8:b::5", 80), T),
        ("https in v4", tcp("peer", "192.0.2.7", "192.0.2.5", 443), T),
        ("nfs in from 10.0.0.7", tcp("peer", "10.0.0.7", "10.0.0.5", 2049), T),
        ("nfs in from 192.0.2.7", tcp("peer", "192.0.2.7", "192.0.2.5", 2049), F),
        ("nfs in v6 (rule is v4 only)", tcp("peer", "fd00:a::7", "fd00:a::5", 2049), F),
        ("tcp/8080 in from 192.0.2.7 (deny wins)", tcp("peer", "192.0.2.7", "192.0.2.5", 8080),
         F),
        ("tcp/8080 in from 10.0.0.7", tcp("peer", "10.0.0.7", "10.0.0.5", 8080), T),
        ("ident in rejected at once v4", tcp_outcome("peer", "10.0.0.7", "10.0.0.5", 113),
         "ECONNREFUSED"),
        ("ident in rejected at once v6", tcp_outcome("peer", "fd00:a::7", "fd00:a::5", 113),
         "ECONNREFUSED"),
        ("tftp in rejected at once",
         lambda t: N.udp_outcome(t.peer, "10.0.0.7", 0, "10.0.0.5", 69), "ECONNREFUSED"),
        ("telnet in dropped silently", tcp_outcome("peer", "10.0.0.7", "10.0.0.5", 23),
         "timeout"),
        ("dns out v4", udp("fw", "10.0.0.5", "10.0.0.7", 53), T),
        ("dns out v6", udp("fw", "2001:db8:b::5", "2001:db8:b::7", 53), T),
        ("dns in (client only)", udp("peer", "10.0.0.7", "10.0.0.5", 53), F),
        ("smtp out to 192.0.2.7", tcp("fw", "192.0.2.5", "192.0.2.7", 25), T),
        ("smtp out to 10.0.0.7", tcp("fw", "10.0.0.5", "10.0.0.7", 25), F),
        ("smtp out v6 (rule is v4 only)", tcp("fw", "fd00:a::5", "fd00:a::7", 25), F),
        ("bittorrent out udp/6885", udp("fw", "10.0.0.5", "10.0.0.7", 6885), T),
        ("http out (server only)", tcp("fw", "10.0.0.5", "10.0.0.7", 80), F),
    ],
    "ftp-client.pin": [
        (f"ftp {m} {fam}: fw client", ftp("fw", "peer", a, m == "passive"), T)
        for fam, a in (("v4", "10.0.0.7"), ("v6", "fd00:a::7")) for m in ("passive", "active")
    ] + [
        ("ftp passive v4: peer client (not a server)", ftp("peer", "fw", "10.0.0.5", True), F),
    ],
    "ftp-server.pin": [
        (f"ftp {m} {fam}: office client", ftp("peer", "fw", a, m == "passive"), T)
        for fam, a in (("v4", "10.0.0.5"), ("v6", "fd00:a::5")) for m in ("passive", "active")
    ] + [
        ("ftp passive v4: client outside the office",
         ftp("peer", "fw", "10.0.0.5", True, client_addr="192.0.2.7"), F),
        ("ftp passive v6: client outside the office",
         ftp("peer", "fw", "fd00:a::5", True, client_addr="2001:db8:b::7"), F),
        ("ftp passive v4: fw client (not a client)", ftp("fw", "peer", "10.0.0.7", True), F),
    ],
    "gateway.pin": [
        ("http lan->wan v4", tcp("lan", "10.1.0.2", "203.0.113.2", 80), T),
        ("https lan->wan v6", tcp("lan", "fd00:1::2", "2001:db8:2::2", 443), T),
        ("dns lan->wan v4", udp("lan", "10.1.0.2", "203.0.113.2", 53), T),
        ("dns lan->wan v6", udp("lan", "fd00:1::2", "2001:db8:2::2", 53), T),
        ("ssh lan->wan", tcp("lan", "10.1.0.2", "203.0.113.2", 22), F),
        ("http wan->lan", tcp("wan", "203.0.113.2", "10.1.0.2", 80), F),
        ("ssh wan->lan v4", tcp("wan", "203.0.113.2", "10.1.0.2", 22), T),
        ("ssh wan->lan v6", tcp("wan", "2001:db8:2::2", "fd00:1::2", 22), T),
        ("ident wan->lan rejected at once",
         tcp_outcome("wan", "203.0.113.2", "10.1.0.2", 113), "ECONNREFUSED"),
        ("telnet wan->lan dropped silently",
         tcp_outcome("wan", "203.0.113.2", "10.1.0.2", 23), "timeout"),
    ],
    # the forward and input chains jump through verdict maps (DISPATCHED below)
    "dispatch-gateway.pin": [
        ("http lan->wan v4", tcp("lan", "10.1.0.2", "203.0.113.2", 80), T),
        ("http lan->wan v6", tcp("lan", "fd00:1::2", "2001:db8:2::2", 80), T),
        ("dns lan->wan v6", udp("lan", "fd00:1::2", "2001:db8:2::2", 53), T),
        ("tcp/8050 lan->wan (range)", tcp("lan", "10.1.0.2", "203.0.113.2", 8050), T),
        ("tcp/8080 lan->wan v4 (deny wins)",
         tcp_outcome("lan", "10.1.0.2", "203.0.113.2", 8080), "timeout"),
        ("tcp/8080 lan->wan v6 (deny wins)",
         tcp_outcome("lan", "fd00:1::2", "2001:db8:2::2", 8080), "timeout"),
        ("ident lan->wan rejected at once v6",
         tcp_outcome("lan", "fd00:1::2", "2001:db8:2::2", 113), "ECONNREFUSED"),
        ("http wan->lan (other pair's rule)", tcp("wan", "203.0.113.2", "10.1.0.2", 80), F),
        ("ssh wan->lan v4 (logged)", tcp("wan", "203.0.113.2", "10.1.0.2", 22), T),
        ("ssh wan->lan v6 (logged)", tcp("wan", "2001:db8:2::2", "fd00:1::2", 22), T),
        ("udp/5000 wan->lan v4", udp("wan", "203.0.113.2", "10.1.0.2", 5000), T),
        ("udp/5000 lan->wan (other pair's rule)", udp("lan", "10.1.0.2", "203.0.113.2", 5000),
         F),
        ("tcp/2222 wan->lan v6 (limited)", tcp("wan", "2001:db8:2::2", "fd00:1::2", 2222), T),
        ("telnet wan->lan dropped", tcp_outcome("wan", "203.0.113.2", "10.1.0.2", 23),
         "timeout"),
        ("ssh lan->gw v4", tcp("lan", "10.1.0.2", "10.1.0.1", 22), T),
        ("ssh lan->gw v6", tcp("lan", "fd00:1::2", "fd00:1::1", 22), T),
        ("ssh wan->gw (lan's rule)", tcp("wan", "203.0.113.2", "203.0.113.1", 22), F),
        ("tcp/2223 wan->gw v6", tcp("wan", "2001:db8:2::2", "2001:db8:2::1", 2223), T),
        ("tcp/2224 wan->gw rejected at once",
         tcp_outcome("wan", "203.0.113.2", "203.0.113.1", 2224), "ECONNREFUSED"),
        ("tcp/2225 lan->gw dropped", tcp_outcome("lan", "10.1.0.2", "10.1.0.1", 2225),
         "timeout"),
        ("ftp passive v4 lan->wan", ftp("lan", "wan", "203.0.113.2", True), T),
        ("ftp active v6 lan->wan", ftp("lan", "wan", "2001:db8:2::2", False), T),
    ],
}

# Policies whose rulesets must dispatch through verdict maps (nft_dispatch.c): the map rule
# and its chains, as `nft list ruleset` shows them after loading.
DISPATCHED = {
    "dispatch-gateway.pin": ["meta nfproto . iifname . oifname vmap", "\tiifname vmap",
                             "chain forward_lan0_wan0_v4", "chain forward_lan0_wan0_v6",
                             "chain forward_wan0_lan0_v4", "chain forward_wan0_lan0_v6",
                             "chain input_lan0", "chain input_wan0"],
    "gateway.pin": ["meta nfproto . iifname . oifname vmap", "chain forward_lan0_wan0_v6"],
}


def policy_topology(path):
    with open(path) as f:
        for line in f:
            if line.startswith("# kernel-topology:"):
                return line.split(":", 1)[1].strip()
    return "host"


def compile_and_load(suite, name, path, kind):
    """Compile, load, reload over itself. Returns the ruleset or None."""
    try:
        rs = D.compile_policy(path)
    except Exception as e:
        suite.check(f"{name}: compiles", False, str(e))
        return None
    if not suite.check(f"{name}: compiles to table inet pinhole", "table inet pinhole" in rs,
                       rs[:300]):
        return None
    make = {"host": N.host_topology, "gateway": N.gateway_topology}[kind]
    with make() as t:
        try:
            N.load_nft(t.firewall, rs)
            suite.check(f"{name}: loads into the kernel", True)
        except N.NsError as e:
            suite.check(f"{name}: loads into the kernel", False, str(e))
            return None
        try:
            N.load_nft(t.firewall, rs)
            suite.check(f"{name}: reloads over itself", True)
        except N.NsError as e:
            suite.check(f"{name}: reloads over itself", False, str(e))
        if name in DISPATCHED:
            listed = N.ns_run(t.firewall, ["nft", "list", "table", "inet", "pinhole"]).stdout
            for want in DISPATCHED[name]:
                suite.check(f"{name}: the kernel holds {want!r}", want in listed, listed[:300])
    return rs


def main():
    ktest.preflight_or_skip("compiled policies")
    binary = D.pinhole_binary()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"SKIP compiled policies: no pinhole binary at {binary} (build it, or set "
              f"PINHOLE)", flush=True)
        sys.exit(ktest.SKIP)
    suite = ktest.Suite("compiled policies")

    with tempfile.NamedTemporaryFile("w", suffix=".pin") as bad:
        bad.write("allow ;\nthis is not a policy\n")
        bad.flush()
        r = subprocess.run([binary, "compile", bad.name], capture_output=True, text=True,
                           timeout=60)
        suite.expect("contract: compile of a bad policy exits 2", r.returncode, 2)

    repo = D.REPO
    for path in sorted(glob.glob(os.path.join(repo, "examples", "*.pin"))):
        compile_and_load(suite, "examples/" + os.path.basename(path), path,
                         policy_topology(path))

    cases, diffs = [], []
    for path in sorted(glob.glob(os.path.join(HERE, "policies", "*.pin"))):
        name = os.path.basename(path)
        kind = policy_topology(path)
        rs = compile_and_load(suite, name, path, kind)
        if rs is None:
            continue
        if name in TRAFFIC:
            cases.append(Case(name, kind, rs, TRAFFIC[name]))
        diffs.append((name, path, kind))

    ktest.run_cases(suite, cases)

    ktest.run_differentials(suite, diffs, N_PACKETS, SEED)
    suite.finish()


if __name__ == "__main__":
    main()
