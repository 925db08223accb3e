#!/usr/bin/python3
"""Docker next to pinhole's nft ruleset (`zone ... { forward owned; }`), with real traffic.

Namespaces: "host" (bridge docker0 172.17.0.1/16 + fd00:d0c::1/64, wan0 to the wan), "ctr" (a
container: veth into docker0) and "wan". In host, Docker-style iptables-nft rules (what dockerd
writes for the default bridge with one container publishing 8080->80), then pinhole's ruleset
by `pinhole apply --netns`. With `forward owned;` on the containers' zone: the container reaches
the wan (masqueraded by Docker's nat table), the wan reaches the published port, Docker's own
FORWARD drop still decides the container's unpublished ports, and the host stays closed (the
container reaches the host only where the policy allows). Without the option (same policy
otherwise) pinhole's forward drop is final for Docker's packets too: the container traffic is
dropped, which is what the option is for. Both families (Docker does ip6tables when IPv6 is on),
and both backends: the nft ruleset, and the iptables + ip6tables files loaded by their header
commands after Docker's rules (pinhole's jumps first in FORWARD, its RETURN hands the packets
back to Docker's rules).
"""
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as D  # noqa: E402
import ktest  # noqa: E402
import nsnet as N  # noqa: E402

POLICY = """\
zone wan { interface wan0; }
zone containers { interface docker0, "br-*";%s }
allow dns server from containers;
"""
OWNED = " forward owned;"

# What dockerd (libnetwork's bridge driver, moby/moby libnetwork/drivers/bridge/
# setup_ip_tables_linux.go and libnetwork/iptables; described in
# https://docs.docker.com/engine/network/packet-filtering-firewalls/) writes for docker0 and
# one container 172.17.0.2 started with `-p 8080:80`, as `iptables-save` shows it. ip6tables
# gets the same with the IPv6 subnet (Docker >= 27 masquerades it like IPv4).
DOCKER_RULES = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER -d {ctr}/{full} ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d {loop} -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s {subnet} ! -o docker0 -j MASQUERADE
-A POSTROUTING -s {ctr}/{full} -d {ctr}/{full} -p tcp -m tcp --dport 80 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination {dnat}
COMMIT
"""
FAMILIES = {
    "v4": dict(tool="iptables-nft-restore", ctr="172.17.0.2", full=32, loop="127.0.0.0/8",
               subnet="172.17.0.0/16", dnat="172.17.0.2:80", host_br="172.17.0.1",
               host_wan="203.0.113.1", wan="203.0.113.2"),
    "v6": dict(tool="ip6tables-nft-restore", ctr="fd00:d0c::2", full=128, loop="::1/128",
               subnet="fd00:d0c::/64", dnat="[fd00:d0c::2]:80", host_br="fd00:d0c::1",
               host_wan="2001:db8:2::1", wan="2001:db8:2::2"),
}


def docker_topology():
    """host (docker0 bridge + wan0), ctr (eth0 enslaved to docker0 by its veth), wan."""
    t = N.Topology("gateway", ["ctr", "gw", "wan"])

    def setup():
        host, ctr, wan = t.gw, t.ctr, t.wan
        N.ns_run(host, ["sysctl", "-qw", "net.ipv4.ip_forward=1",
                        "net.ipv6.conf.all.forwarding=1"])
        t._ip_batch(host, ["link add docker0 type bridge",
                           f"link add veth0 type veth peer name eth0 netns {ctr}",
                           f"link add wan0 type veth peer name eth0 netns {wan}",
                           "link set veth0 master docker0", "link set lo up",
                           "link set docker0 up", "link set veth0 up", "link set wan0 up"])
        for h in (ctr, wan):
            t._ip_batch(h, ["link set lo up", "link set eth0 up"])
        t._ip_batch(host, t._addr(host, "docker0", ["172.17.0.1/16", "fd00:d0c::1/64"]) +
                    t._addr(host, "wan0", ["203.0.113.1/24", "2001:db8:2::1/64"]))
        t._ip_batch(ctr, t._addr(ctr, "eth0", ["172.17.0.2/16", "fd00:d0c::2/64"]) +
                    ["route add default via 172.17.0.1", "route add default via fd00:d0c::1"])
        # the wan has no route to the containers' private subnets (only to the host): what
        # reaches a container from there goes through the published port
        t._ip_batch(wan, t._addr(wan, "eth0", ["203.0.113.2/24", "2001:db8:2::2/64"]))
    return t._create(setup)


def load_docker(host):
    for fam in FAMILIES.values():
        rules = DOCKER_RULES
        for k, v in fam.items():
            rules = rules.replace("{" + k + "}", str(v))
        N.ns_run(host, [fam["tool"]], input=rules)


def load_iptables(ns, files):
    """Each pinhole iptables file's header load commands (iptables-nft), run inside ns: they
    insert pinhole's jumps at the top of Docker's INPUT/FORWARD/OUTPUT (as after Docker)."""
    for tool, path in files:
        with open(path) as f:
            lines = [ln[4:] for ln in f if ln.startswith("#   ")]
        script = "\n".join(lines).replace(f"{tool}-restore ", f"{tool}-nft-restore ")
        script = script.replace(f"{tool} -w ", f"{tool}-nft -w ").replace(" FILE", f" {path}")
        r = N.ns_run(ns, ["bash", "-euc", script], check=False)
        if r.returncode:
            return f"{tool}: exit {r.returncode}: {r.stderr}"
    return None


def run(suite, binary, pol, owned, target):
    label = ("forward owned" if owned else "without forward owned") + f" ({target})"
    with docker_topology() as t:
        load_docker(t.gw)
        if target == "nft":
            r = subprocess.run([binary, "apply", "--netns", t.gw, pol], capture_output=True,
                               text=True, timeout=60)
            err = r.stderr if r.returncode else None
        else:
            files = []
            for tool in ("iptables", "ip6tables"):
                out = pol + "." + tool
                r = subprocess.run([binary, "compile", "-t", tool, "-o", out, pol],
                                   capture_output=True, text=True, timeout=60)
                if r.returncode:
                    break
                files.append((tool, out))
            err = r.stderr if r.returncode else load_iptables(t.gw, files)
        if not suite.check(f"{label}: pinhole's ruleset loads next to Docker's", err is None, err):
            return
        for fv, f in FAMILIES.items():
            # without the option pinhole's forward drop decides Docker's packets too
            want = "ok" if owned else "timeout"
            suite.expect(f"{label} {fv}: container -> wan tcp",
                         N.tcp_outcome(t.ctr, f["ctr"], 0, f["wan"], 80), want)
            suite.expect(f"{label} {fv}: container -> wan udp",
                         N.udp_outcome(t.ctr, f["ctr"], 0, f["wan"], 5353), want)
            suite.expect(f"{label} {fv}: wan -> host:8080 reaches the container's port 80",
                         _published(t, f), want)
            # whatever the option, the host stays closed and the policy decides its input
            suite.expect(f"{label} {fv}: wan -> host's closed tcp/22 dropped",
                         N.tcp_outcome(t.wan, f["wan"], 0, f["host_wan"], 22), "timeout")
            suite.expect(f"{label} {fv}: wan -> host's closed udp/53 dropped",
                         N.udp_outcome(t.wan, f["wan"], 0, f["host_wan"], 53), "timeout")
            suite.expect(f"{label} {fv}: container -> host dns (allowed by the policy)",
                         N.udp_outcome(t.ctr, f["ctr"], 0, f["host_br"], 53), "ok")
            suite.expect(f"{label} {fv}: container -> host tcp/22 dropped (not in the policy)",
                         N.tcp_outcome(t.ctr, f["ctr"], 0, f["host_br"], 22), "timeout")
        if owned:
            # Docker's own FORWARD drop still decides: pinhole passing the packet is not an
            # accept. The wan routes the container subnet via the host for this one check.
            N.ns_run(t.wan, [N.IP, "route", "add", "172.17.0.0/16", "via", "203.0.113.1"])
            suite.expect(f"{label} v4: wan -> container's unpublished tcp/81 dropped by Docker",
                         N.tcp_outcome(t.wan, "203.0.113.2", 0, "172.17.0.2", 81), "timeout")


def _published(t, f, timeout=1.0):
    """wan -> host:8080, DNATed by Docker to the container's port 80 (an echo server there):
    "ok" when the echo came back, else how it failed."""
    N._srv(t.ctr).tcp_echo(f["ctr"], 80)
    s = N.socket_in(t.wan, socket.AF_INET6 if ":" in f["wan"] else socket.AF_INET,
                    socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.bind((f["wan"], 0))
        s.connect((f["host_wan"], 8080))
        msg = b"ping published\n"
        s.sendall(msg)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(512)
            if not chunk:
                break
            data += chunk
        return "ok" if data == b"echo " + msg else "garbled"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return str(e)
    finally:
        s.close()


def main():
    ktest.preflight_or_skip("docker coexistence")
    binary = D.pinhole_binary()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"SKIP docker coexistence: no pinhole binary at {binary}", flush=True)
        sys.exit(ktest.SKIP)
    for tool in ("iptables-nft-restore", "ip6tables-nft-restore"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            print(f"SKIP docker coexistence: {tool} not installed", flush=True)
            sys.exit(ktest.SKIP)
    suite = ktest.Suite("docker coexistence")
    with tempfile.TemporaryDirectory() as tmp:
        for owned in (True, False):
            pol = os.path.join(tmp, "docker.pin" if owned else "docker-plain.pin")
            with open(pol, "w") as fh:
                fh.write(POLICY % (OWNED if owned else ""))
            for target in ("nft", "iptables"):
                run(suite, binary, pol, owned, target)
    suite.finish()


if __name__ == "__main__":
    main()
