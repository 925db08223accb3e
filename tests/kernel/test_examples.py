#!/usr/bin/python3
"""Kernel tests of every policy in examples/: compiled, loaded into namespaces, and probed
with real traffic on IPv4 and IPv6 (what the policy allows passes, neighbours and outsiders
are dropped, rejects answer at once), then a differential run of random packets against
`pinhole explain --brief`. An example without an entry in TRAFFIC fails: every example is
exercised.
"""
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as D  # noqa: E402
import ktest  # noqa: E402
import nsnet as N  # noqa: E402
from ktest import Case  # noqa: E402
from test_compiler import compile_and_load, policy_topology  # noqa: E402

N_PACKETS = int(os.environ.get("PH_EXAMPLES_DIFF_N", "1000"))
SEED = int(os.environ.get("PH_DIFF_SEED", "7"))
T, F = True, False


def tcp(src_role, src, dst, dport, sport=0):
    return lambda t: N.tcp_connect(getattr(t, src_role), src, sport, dst, dport)


def tcp_outcome(src_role, src, dst, dport):
    return lambda t: N.tcp_outcome(getattr(t, src_role), src, 0, dst, dport)


def udp(src_role, src, dst, dport, sport=0):
    return lambda t: N.udp_exchange(getattr(t, src_role), src, sport, dst, dport)


def ping(src_role, src, dst):
    return lambda t: N.icmp_echo(getattr(t, src_role), src, dst)


def ftp(client_role, server_role, server_addr, passive, client_addr=None):
    return lambda t: N.ftp_transfer(getattr(t, client_role), getattr(t, server_role),
                                    server_addr, passive, client_addr=client_addr)


# Host topology: fw 10.0.0.5 192.0.2.5 fd00:a::5 2001:db8:b::5, peer .7 / ::7; the office
# define of the examples is 10.0.0.0/8 + fd00:a::/64, so 192.0.2.7 / 2001:db8:b::7 are outsiders.
OFFICE = [("v4", "10.0.0.5", "10.0.0.7"), ("v6", "fd00:a::5", "fd00:a::7")]
OUTSIDE = [("v4", "192.0.2.5", "192.0.2.7"), ("v6", "2001:db8:b::5", "2001:db8:b::7")]
BOTH = OFFICE + OUTSIDE

TRAFFIC = {
    "workstation.pin": (
        [(f"{app} out {f} to {peer}", tcp("fw", me, peer, port), T)
         for app, port in (("http", 80), ("https", 443), ("ssh", 22), ("msn hub", 1863))
         for f, me, peer in BOTH]
        + [(f"{app} out {f}", udp("fw", me, peer, port), T)
           for app, port in (("dns", 53), ("ntp", 123)) for f, me, peer in BOTH]
        + [(f"ping out {f}", ping("fw", me, peer), T) for f, me, peer in BOTH]
        + [(f"ftp {m} {f}: workstation is the client", ftp("fw", "peer", peer, m == "passive"), T)
           for f, _, peer in OFFICE for m in ("passive", "active")]
        + [(f"nfs out {f} to the office from port 1010", udp("fw", me, peer, 2049, 1010), T)
           for f, me, peer in OFFICE]
        + [(f"nfs out {f} outside the office", udp("fw", me, peer, 2049, 1010), F)
           for f, me, peer in OUTSIDE]
        + [(f"nfs out {f} from an unprivileged port", udp("fw", me, peer, 2049, 40000), F)
           for f, me, peer in OFFICE]
        # relayed by the switchboard: pinholed opens it after an invitation; not running here
        + [(f"msn file transfer in {f} (no invitation, no pinholed)", tcp("peer", peer, me, 6891), F)
           for f, me, peer in BOTH]
        + [(f"ssh in {f} from the office", tcp("peer", peer, me, 22), T) for f, me, peer in OFFICE]
        + [(f"ssh in {f} from outside", tcp("peer", peer, me, 22), F) for f, me, peer in OUTSIDE]
        + [(f"ping in {f} from the office", ping("peer", peer, me), T) for f, me, peer in OFFICE]
        + [(f"ping in {f} from outside", ping("peer", peer, me), F) for f, me, peer in OUTSIDE]
        + [(f"{what} in {f} (client only)", tcp("peer", peer, me, port), F)
           for what, port in (("http", 80), ("neighbour port 21", 21), ("telnet", 23))
           for f, me, peer in BOTH]
        + [(f"dns in {f} (client only)", udp("peer", peer, me, 53), F) for f, me, peer in BOTH]
        + [(f"smtp out {f} (not allowed)", tcp("fw", me, peer, 25), F) for f, me, peer in BOTH]
    ),
    # Stateless (established only): returns pass on the ACK bit and mirrored ports.
    "fileserver.pin": (
        [(f"nfs in {f} from the office, port 1010", udp("peer", peer, me, 2049, 1010), T)
         for f, me, peer in OFFICE]
        + [(f"nfs in {f} from outside", udp("peer", peer, me, 2049, 1010), F)
           for f, me, peer in OUTSIDE]
        + [(f"portmapper in {f}", udp("peer", peer, me, 111, 1011), T) for f, me, peer in OFFICE]
        + [(f"smb {port} in {f} from the office", tcp("peer", peer, me, port), T)
           for port in (139, 445) for f, me, peer in OFFICE]
        + [(f"smb 445 in {f} from outside", tcp("peer", peer, me, 445), F) for f, me, peer in OUTSIDE]
        + [(f"smb callback out {f} to the office", tcp("fw", me, peer, 445), T)
           for f, me, peer in OFFICE]
        + [(f"smb callback out {f} outside the office", tcp("fw", me, peer, 445), F)
           for f, me, peer in OUTSIDE]
        + [("smb browse in v4, to=from 137", udp("peer", "10.0.0.7", "10.0.0.5", 137, 137), T),
           ("smb browse in v4, 137 to 138 (not to=from)",
            udp("peer", "10.0.0.7", "10.0.0.5", 138, 137), F)]
        + [(f"ssh in {f} from the office", tcp("peer", peer, me, 22), T) for f, me, peer in OFFICE]
        + [(f"ssh in {f} from outside", tcp("peer", peer, me, 22), F) for f, me, peer in OUTSIDE]
        + [(f"ping in {f} from the office", ping("peer", peer, me), T) for f, me, peer in OFFICE]
        + [(f"{app} out {f}", tcp("fw", me, peer, port), T)
           for app, port in (("http", 80), ("https", 443)) for f, me, peer in BOTH]
        + [(f"{app} out {f}", udp("fw", me, peer, port), T)
           for app, port in (("dns", 53), ("ntp", 123)) for f, me, peer in BOTH]
        + [(f"web probe in {f} from the office rejected at once", tcp_outcome("peer", peer, me, 80),
            "ECONNREFUSED") for f, me, peer in OFFICE]
        + [(f"web probe in {f} from outside dropped", tcp_outcome("peer", peer, me, 80), "timeout")
           for f, me, peer in OUTSIDE]
        + [(f"ssh out {f} (not allowed)", tcp("fw", me, peer, 22), F) for f, me, peer in BOTH]
    ),
    # Gateway topology: lan 10.1.0.2 fd00:1::2 -- gw (lan0 10.1.0.1 fd00:1::1, wan0
    # 203.0.113.1 2001:db8:2::1) -- wan 203.0.113.2 2001:db8:2::2.
    "gateway.pin": (
        [(f"{app} lan->wan {f}", tcp("lan", src, dst, port), T)
         for app, port in (("http", 80), ("https", 443), ("ssh", 22), ("dns/tcp", 53))
         for f, src, dst in (("v4", "10.1.0.2", "203.0.113.2"), ("v6", "fd00:1::2", "2001:db8:2::2"))]
        + [(f"{app} lan->wan {f}", udp("lan", src, dst, port), T)
           for app, port in (("dns", 53), ("ntp", 123))
           for f, src, dst in (("v4", "10.1.0.2", "203.0.113.2"), ("v6", "fd00:1::2", "2001:db8:2::2"))]
        + [("ping lan->wan v4", ping("lan", "10.1.0.2", "203.0.113.2"), T),
           ("ping lan->wan v6", ping("lan", "fd00:1::2", "2001:db8:2::2"), T),
           ("ping wan->lan v4", ping("wan", "203.0.113.2", "10.1.0.2"), F)]
        + [(f"ftp {m} {f}: lan client, wan server", ftp("lan", "wan", dst, m == "passive"), T)
           for m in ("passive", "active") for f, dst in (("v4", "203.0.113.2"), ("v6", "2001:db8:2::2"))]
        + [(f"{app} wan->lan {f}", tcp("wan", src, dst, port), F)
           for app, port in (("http", 80), ("ssh", 22))
           for f, src, dst in (("v4", "203.0.113.2", "10.1.0.2"), ("v6", "2001:db8:2::2", "fd00:1::2"))]
        + [("smtp lan->wan (not allowed)", tcp("lan", "10.1.0.2", "203.0.113.2", 25), F),
           ("ident wan->lan rejected at once v4", tcp_outcome("wan", "203.0.113.2", "10.1.0.2", 113),
            "ECONNREFUSED"),
           ("ident wan->lan rejected at once v6",
            tcp_outcome("wan", "2001:db8:2::2", "fd00:1::2", 113), "ECONNREFUSED"),
           ("ssh lan->gateway v4", tcp("lan", "10.1.0.2", "10.1.0.1", 22), T),
           ("ssh lan->gateway v6", tcp("lan", "fd00:1::2", "fd00:1::1", 22), T),
           ("ssh wan->gateway", tcp("wan", "203.0.113.2", "203.0.113.1", 22), F),
           ("gateway's own dns out", udp("gw", "203.0.113.1", "203.0.113.2", 53), T),
           ("gateway's own http out (not allowed)", tcp("gw", "203.0.113.1", "203.0.113.2", 80), F)]
    ),
}


def main():
    ktest.preflight_or_skip("examples")
    binary = D.pinhole_binary()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"SKIP examples: no pinhole binary at {binary}", flush=True)
        sys.exit(ktest.SKIP)
    suite = ktest.Suite("examples")
    cases, diffs = [], []
    for path in sorted(glob.glob(os.path.join(D.REPO, "examples", "*.pin"))):
        name = os.path.basename(path)
        kind = policy_topology(path)
        if not suite.check(f"{name}: has traffic expectations", name in TRAFFIC):
            continue
        rs = compile_and_load(suite, name, path, kind)
        if rs is None:
            continue
        cases.append(Case(name, kind, rs, TRAFFIC[name]))
        diffs.append((name, path, kind))
    ktest.run_cases(suite, cases)
    ktest.run_differentials(suite, diffs, N_PACKETS, SEED)
    suite.finish()


if __name__ == "__main__":
    main()
