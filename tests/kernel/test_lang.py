#!/usr/bin/python3
"""The language's gateway and multi-homed host words with real traffic, IPv4 and IPv6:
`allow any from lan to wan` (every protocol and port out, nothing back in), `except` (an
excepted lan host gets nothing), a zone's `default reject` (a reset or port unreachable at
once, on input and forward, where other zones stay silent), and `on ADDRS` (a server that
answers on one of this host's addresses only, also in stateless mode, where its mirrored
return rules carry that source address). Each case runs with the nft ruleset and with the
iptables + ip6tables files (iptables-nft), in namespaces named ph-lang<pid>-... that the
test creates and deletes.
"""
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("PH_NS_PREFIX", f"ph-lang{os.getpid()}-")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as D  # noqa: E402
import ktest  # noqa: E402
import nsnet as N  # noqa: E402
from test_nat import load_iptables  # noqa: E402

GATEWAY = """\
zone lan { interface lan0; address 10.1.0.0/24, fd00:1::/64; }
zone wan { interface wan0; default reject; }
allow any from lan except 10.1.0.66, fd00:1::66 to wan;
allow http server on 10.1.0.1, fd00:1::1 from lan;
"""

HOST = """\
established only;
allow tcp/8080 server on 192.0.2.5, 2001:db8:b::5 from any except 192.0.2.99, 2001:db8:b::99;
"""

REFUSED = "ECONNREFUSED"  # a TCP reset or an ICMP port unreachable came back


def gateway_cases(suite, label, load):
    with N.gateway_topology() as t:
        N.ns_run(t.lan, [N.IP, "addr", "add", "10.1.0.66/24", "dev", "eth0"])
        N.ns_run(t.lan, [N.IP, "addr", "add", "fd00:1::66/64", "dev", "eth0", "nodad"])
        load(t)
        for fam, lan, excepted, wan, gw_wan, gw_lan in (
                ("v4", "10.1.0.2", "10.1.0.66", "203.0.113.2", "203.0.113.1", "10.1.0.1"),
                ("v6", "fd00:1::2", "fd00:1::66", "2001:db8:2::2", "2001:db8:2::1", "fd00:1::1")):
            p = f"{label} {fam}"
            # allow any: every protocol and port from lan to wan, answers included
            suite.expect(f"{p}: any: lan -> wan tcp/5001",
                         N.tcp_outcome(t.lan, lan, 0, wan, 5001), "ok")
            suite.expect(f"{p}: any: lan -> wan udp/5002",
                         N.udp_outcome(t.lan, lan, 0, wan, 5002), "ok")
            suite.check(f"{p}: any: lan -> wan icmp echo", N.icmp_echo(t.lan, lan, wan))
            # except: the excepted lan host is not let out (lan has no default: silence)
            suite.expect(f"{p}: except: excepted lan host -> wan tcp dropped",
                         N.tcp_outcome(t.lan, excepted, 0, wan, 5001, server_ns=t.wan), "timeout")
            suite.expect(f"{p}: except: excepted lan host -> wan udp dropped",
                         N.udp_outcome(t.lan, excepted, 0, wan, 5002, server_ns=t.wan), "timeout")
            # any is one way; wan's default reject answers what wan starts at once
            suite.expect(f"{p}: default reject: wan -> lan tcp forwarded, reset",
                         N.tcp_outcome(t.wan, wan, 0, lan, 5003), REFUSED)
            suite.expect(f"{p}: default reject: wan -> lan udp forwarded, unreachable",
                         N.udp_outcome(t.wan, wan, 0, lan, 5004), REFUSED)
            suite.expect(f"{p}: default reject: wan -> gw tcp/22, reset",
                         N.tcp_outcome(t.wan, wan, 0, gw_wan, 22), REFUSED)
            suite.expect(f"{p}: default reject: wan -> gw udp/53, unreachable",
                         N.udp_outcome(t.wan, wan, 0, gw_wan, 53), REFUSED)
            suite.expect(f"{p}: default reject: wan -> gw http on the lan address, reset",
                         N.tcp_outcome(t.wan, wan, 0, gw_lan, 80), REFUSED)
            # lan has no default reject: the chain's silent drop
            suite.expect(f"{p}: lan's default stays drop: lan -> gw tcp/22",
                         N.tcp_outcome(t.lan, lan, 0, gw_lan, 22), "timeout")
            # on: the gateway's http answers on its lan address only
            suite.expect(f"{p}: on: lan -> gw http on the lan address",
                         N.tcp_outcome(t.lan, lan, 0, gw_lan, 80), "ok")
            suite.expect(f"{p}: on: lan -> gw http on the wan address dropped",
                         N.tcp_outcome(t.lan, lan, 0, gw_wan, 80), "timeout")


def host_cases(suite, label, load):
    with N.host_topology() as t:
        N.ns_run(t.peer, [N.IP, "addr", "add", "192.0.2.99/24", "dev", "eth0"])
        N.ns_run(t.peer, [N.IP, "addr", "add", "2001:db8:b::99/64", "dev", "eth0", "nodad"])
        load(t)
        for fam, peer, excepted, on, other in (
                ("v4", "192.0.2.7", "192.0.2.99", "192.0.2.5", "10.0.0.5"),
                ("v6", "2001:db8:b::7", "2001:db8:b::99", "2001:db8:b::5", "fd00:a::5")):
            p = f"{label} {fam}"
            suite.expect(f"{p}: stateless on: tcp/8080 on the bound address",
                         N.tcp_outcome(t.peer, peer, 0, on, 8080), "ok")
            suite.expect(f"{p}: stateless on: tcp/8080 on another address of the host dropped",
                         N.tcp_outcome(t.peer, peer, 0, other, 8080), "timeout")
            suite.expect(f"{p}: stateless except: the excepted peer dropped",
                         N.tcp_outcome(t.peer, excepted, 0, on, 8080, server_ns=t.fw), "timeout")
            suite.expect(f"{p}: stateless: another port stays closed",
                         N.tcp_outcome(t.peer, peer, 0, on, 8081), "timeout")


def compile_all(suite, binary, tmp, name, text):
    pol = os.path.join(tmp, name + ".pin")
    with open(pol, "w") as f:
        f.write(text)
    out = {}
    for target in ("nft", "iptables", "ip6tables"):
        path = os.path.join(tmp, f"{name}.{target}")
        r = subprocess.run([binary, "compile", "-t", target, "-o", path, pol],
                           capture_output=True, text=True, timeout=60)
        if not suite.check(f"{name}: compile -t {target}", r.returncode == 0, r.stderr):
            suite.finish()
        out[target] = path
    return out


def main():
    ktest.preflight_or_skip("language")
    binary = D.pinhole_binary()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"SKIP language: no pinhole binary at {binary}", flush=True)
        sys.exit(ktest.SKIP)
    suite = ktest.Suite("language")
    have_ipt = subprocess.run(["sh", "-c", "command -v iptables-nft-restore"],
                              capture_output=True).returncode == 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, text, cases, ns in (("gateway", GATEWAY, gateway_cases, "gw"),
                                      ("host", HOST, host_cases, "fw")):
            out = compile_all(suite, binary, tmp, name, text)
            with open(out["nft"]) as f:
                nft = f.read()
            cases(suite, f"{name} nft", lambda t, ns=ns: N.load_nft(getattr(t, ns), nft))
            if not have_ipt:
                suite.skip(f"{name} iptables", "iptables-nft-restore not installed")
                continue
            cases(suite, f"{name} iptables", lambda t, ns=ns, out=out: load_iptables(
                getattr(t, ns), [("iptables", out["iptables"]), ("ip6tables", out["ip6tables"])]))
    suite.finish()


if __name__ == "__main__":
    main()
