#!/usr/bin/python3
"""Real software through pinhole firewalls on both ends (issue 11).

Each case builds a fresh host topology (fw 10.0.0.5 and peer 10.0.0.7 on eth0), starts the
server inside the fw namespace, loads a compiled pinhole ruleset into both namespaces (the
server's role in fw, the client's in peer) and runs the real client in the peer namespace:

- Samba: nmbd answering `nmblookup -U` (unicast) and `nmblookup -B` (broadcast) name queries,
  smbd serving `smbclient -L` and a share listing; and a listener on the client's port 8080
  that the server tries to reach from source port 445 (the seed's "callback" to high ports).
- dnsmasq as a DHCP server for an addressed zone: a DISCOVER from 0.0.0.0 to
  255.255.255.255 (with the broadcast flag) must get its OFFER back.
- tftpd-hpa and tftp-hpa: a file fetched through the tftp helper on both ends.
- vsftpd and curl: a file fetched in passive and active mode (PASV/EPSV, PORT/EPRT), over
  IPv4 and IPv6, through the ftp helper (stateful) or the fallback ports (stateless).
- dnsmasq as a DNS server and dig asking it over UDP and TCP, IPv4 and IPv6.
- nfs-ganesha with rpcbind, and libnfs's nfs-cp copying a file over NFSv3 (TCP: portmapper,
  mountd, nfs) and NFSv4.
- chronyd serving time and `chronyd -Q` (measure only) asking it, over IPv4 and IPv6.
- ngircd and two IRC clients (Python sockets: NICK, USER, JOIN, PRIVMSG) exchanging a
  message through it, over IPv4 and IPv6; port 6668, where ngircd also listens, stays closed.
- nfs-ganesha with mountd on port 30048, which no static fallback opens, and nfs-cp over
  NFSv3 with runtime/pinholed running in both firewalled namespaces (helper mode): blocked
  without pinholed, copied with it, mountd unreachable from a third peer while the client's
  pinhole is open, blocked again once pinholed exited and closed its pinholes.

Every case also runs the policy a user had before (the seed's smb flows, the dhcp app
without `unaddressed`, a plain udp/69 port), where the same software fails, and shows that
something the policy does not allow stays blocked. Services run only inside the test's
namespaces. Missing software: SKIP, or FAIL under CI=true (tests/install-deps.sh installs it).
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktest  # noqa: E402
import nsnet as N  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PINHOLE = os.environ.get("PINHOLE") or os.path.join(REPO, "build", "pinhole")
CI = os.environ.get("CI") == "true"
SUITE = ktest.Suite("test_real_apps")
FW, PEER = "10.0.0.5", "10.0.0.7"

# The smb app as the seed guide alone described it (before issue 11): browsing 137<->137 and
# 138<->138, sessions, call-backs to 139/445 and from 139/445 to high ports.
SMB_SEED = """app smbseed "SMB as the seed had it" {
    source "seed 000, SMB/samba";
    flow browse: any <-> any udp sport 137-138 dport same broadcast source "seed";
    flow session: client -> server tcp dport 139, 445 source "seed";
    flow callback: server -> client tcp dport 139, 445 source "seed";
    flow callback-high: server -> client tcp sport 139, 445 dport 1024-65535 source "seed";
}
"""
# dhcp before `unaddressed`.
DHCP_OLD = """app dhcpold "dhcp before unaddressed" {
    source "RFC 2131";
    flow request: client -> server udp sport 68 dport 67 broadcast source "RFC 2131";
    flow reply: server -> client udp sport 67 dport 68 broadcast source "RFC 2131";
}
"""


def compile_policy(text):
    with tempfile.NamedTemporaryFile("w", suffix=".pin", delete=False) as f:
        f.write(text)
    try:
        r = subprocess.run([PINHOLE, "compile", f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    if r.returncode != 0:
        raise RuntimeError(f"pinhole compile failed:\n{text}\n{r.stderr}")
    return r.stdout


def missing(*tools):
    return [t for t in tools if not shutil.which(t)]


def skip_or_fail(name, tools):
    reason = "not installed: " + ", ".join(tools) + " (tests/install-deps.sh installs them)"
    if CI:
        SUITE.check(name, False, reason)
    else:
        SUITE.skip(name, reason)


class Procs:
    """Servers started in the test's namespaces, stopped (with their children) at the end."""

    def __init__(self, topo):
        self.topo, self.procs = topo, []

    def start(self, ns, argv, log):
        # a session of its own: smbd signals its whole process group when it stops
        p = subprocess.Popen([N.IP, "netns", "exec", ns] + argv, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(p)
        return p

    def close(self):
        for ns in self.topo.ns.values():
            r = subprocess.run([N.IP, "netns", "pids", ns], capture_output=True, text=True)
            for pid in r.stdout.split():
                try:
                    with open(f"/proc/{pid}/status") as f:
                        tgid = next(int(l.split()[1]) for l in f if l.startswith("Tgid:"))
                except (OSError, StopIteration, ValueError):
                    continue
                if tgid == os.getpid():
                    continue   # this test's own threads joined the namespace
                try:
                    os.kill(int(pid), 15)
                except (ProcessLookupError, ValueError):
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()


def run(ns, argv, timeout=10):
    try:
        return N.ns_run(ns, argv, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 124, "", "timeout")


def both_ends(topo, server_policy, client_policy):
    N.load_nft(topo.fw, compile_policy(server_policy))
    N.load_nft(topo.peer, compile_policy(client_policy))


def unload(topo):
    for ns in (topo.fw, topo.peer):
        run(ns, ["nft", "delete", "table", "inet", "pinhole"])


# --------------------------------------------------------------------------- Samba

SMB_CONF = """[global]
  netbios name = {name}
  workgroup = PHTEST
  interfaces = eth0
  bind interfaces only = yes
  lock directory = {d}/lock
  state directory = {d}/state
  cache directory = {d}/cache
  private dir = {d}/private
  pid directory = {d}/pid
  ncalrpc dir = {d}/ncalrpc
  log file = {d}/log.%m
  disable netbios = no
  server role = standalone server
  map to guest = bad user
  smb ports = {ports}
[pub]
  path = {d}/share
  guest ok = yes
  read only = yes
"""


def smb_conf(base, name, ports="445"):
    d = os.path.join(base, name)
    for sub in ("lock", "state", "cache", "private", "pid", "ncalrpc", "share"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    with open(os.path.join(d, "share", "hello.txt"), "w") as f:
        f.write("hello from smbd\n")
    conf = os.path.join(d, "smb.conf")
    with open(conf, "w") as f:
        f.write(SMB_CONF.format(name=name.upper(), d=d, ports=ports))
    return conf


def nmblookup(topo, conf, how, addr):
    r = run(topo.peer, ["nmblookup", "-s", conf, how, addr, "PHSRV"], timeout=15)
    return f"{FW} PHSRV<00>" in r.stdout


def smbclient_ls(topo, conf):
    r = run(topo.peer, ["smbclient", "-s", conf, "-N", "//" + FW + "/pub", "-c", "ls"], timeout=15)
    return "hello.txt" in r.stdout


def callback_high(topo, port):
    """The server opens TCP from its port 139 (smbd listens on 445 only here) to a listener on
    the client's port `port` (8080 and up, one per case: no conntrack entry of an earlier case
    applies): the seed's "call-back" to high ports. True when the connection was established."""
    return N.tcp_outcome(topo.fw, FW, 139, PEER, port, server_ns=topo.peer, timeout=1.0) == "ok"


def samba_cases(base):
    name = "samba"
    lack = missing("nmbd", "smbd", "nmblookup", "smbclient")
    if lack:
        return skip_or_fail(name, lack)
    with N.host_topology() as topo:
        procs = Procs(topo)
        try:
            # iproute2 gives an address no broadcast address unless told (`brd +`); the
            # netbios-ns helper expects answers only to a query sent to the interface's
            # broadcast address, as on any configured network.
            for ns, addr in ((topo.fw, FW), (topo.peer, PEER)):
                N.ns_run(ns, [N.IP, "addr", "del", f"{addr}/24", "dev", "eth0"])
                N.ns_run(ns, [N.IP, "addr", "add", f"{addr}/24", "brd", "+", "dev", "eth0"])
            srv = smb_conf(base, "phsrv")
            cli = smb_conf(base, "phcli")
            log = open(os.path.join(base, "samba.log"), "w")
            procs.start(topo.fw, ["nmbd", "-F", "--no-process-group", "-s", srv, "-d1"], log)
            procs.start(topo.fw, ["smbd", "-F", "--no-process-group", "-s", srv, "-d1"], log)
            # nmbd answers broadcast queries once it registered its name (a few seconds)
            deadline = time.monotonic() + 30
            while not nmblookup(topo, cli, "-B", "10.0.0.255"):
                if time.monotonic() > deadline:
                    SUITE.check(f"{name}: nmbd answers without a firewall", False, "no answer in 30 s")
                    return
                time.sleep(1)
            SUITE.check(f"{name}: nmbd answers without a firewall", True)
            tests = [
                ("the seed's smb flows (before issue 11)", SMB_SEED + "allow smbseed server;\n",
                 SMB_SEED + "allow smbseed client;\n",
                 {"unicast": False, "broadcast": False, "share": True, "callback": True}),
                ("allow smb server / allow smb client", "allow smb server;\n", "allow smb client;\n",
                 {"unicast": True, "broadcast": True, "share": True, "callback": False}),
                ("established only; smb", "established only;\nallow smb server;\n",
                 "established only;\nallow smb client;\n",
                 {"unicast": True, "broadcast": True, "share": True, "callback": False}),
                # something not allowed stays blocked: clients of another subnet only
                ("smb server from 192.0.2.0/24", "allow smb server from 192.0.2.0/24;\n",
                 "allow smb client;\n",
                 {"unicast": False, "broadcast": False, "share": False, "callback": False}),
            ]
            for i, (title, spol, cpol, want) in enumerate(tests):
                unload(topo)
                both_ends(topo, spol, cpol)
                got = {"unicast": nmblookup(topo, cli, "-U", FW),
                       "broadcast": nmblookup(topo, cli, "-B", "10.0.0.255"),
                       "share": smbclient_ls(topo, cli),
                       "callback": callback_high(topo, 8080 + i)}
                words = {"unicast": "nmblookup -U 10.0.0.5 PHSRV", "broadcast": "nmblookup -B 10.0.0.255 PHSRV",
                         "share": "smbclient //10.0.0.5/pub ls",
                         "callback": f"new TCP 10.0.0.5:139 -> 10.0.0.7:{8080 + i}"}
                for k in ("unicast", "broadcast", "share", "callback"):
                    verb = "passes" if want[k] else "is blocked"
                    SUITE.expect(f"{name}: {title}: {words[k]} {verb}", got[k], want[k])
        finally:
            procs.close()


# --------------------------------------------------------------------------- dnsmasq DHCP

def dhcp_discover(topo, timeout=4.0):
    """A DHCPDISCOVER from 0.0.0.0:68 to 255.255.255.255:67 with the broadcast flag, sent and
    received on packet sockets in the peer namespace (as DHCP clients do before they have an
    address); True when an OFFER came back."""
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    def body():
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
        s.bind(("eth0", 0))
        mac = s.getsockname()[4]
        xid = int.from_bytes(os.urandom(4), "big")
        pkt = (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") /
               UDP(sport=68, dport=67) /
               BOOTP(chaddr=mac + b"\0" * 10, xid=xid, flags=0x8000) /
               DHCP(options=[("message-type", "discover"), "end"]))
        s.settimeout(0.2)
        end = time.monotonic() + timeout
        resend = 0.0
        try:
            while time.monotonic() < end:
                if time.monotonic() >= resend:   # clients retransmit; so do we, every second
                    s.send(bytes(pkt))
                    resend = time.monotonic() + 1.0
                try:
                    data = s.recv(4096)
                except socket.timeout:
                    continue
                e = Ether(data)
                if e.haslayer(BOOTP) and e[BOOTP].op == 2 and e[BOOTP].xid == xid:
                    opts = dict(o for o in e[DHCP].options if isinstance(o, tuple))
                    if opts.get("message-type") == 2:
                        return True
            return False
        finally:
            s.close()
    return N.in_ns(topo.peer, body)


def dnsmasq_cases(base):
    name = "dnsmasq dhcp"
    lack = missing("dnsmasq")
    if lack:
        return skip_or_fail(name, lack)
    zone = "zone lan { interface eth0; address 10.0.0.0/24, fd00:a::/64; }\n"
    other = "zone lan { interface eth9; address 10.0.0.0/24, fd00:a::/64; }\n"
    tests = [
        ("dhcp without unaddressed (before issue 11)", zone + DHCP_OLD + "allow dhcpold server from lan;\n", False),
        ("allow dhcp server from lan", zone + "allow dhcp server from lan;\n", True),
        ("established only; allow dhcp server from lan", "established only;\n" + zone +
         "allow dhcp server from lan;\n", True),
        # not allowed: the zone is another interface
        ("allow dhcp server from a zone on eth9", other + "allow dhcp server from lan;\nallow ssh server;\n", False),
    ]
    with N.host_topology() as topo:
        procs = Procs(topo)
        try:
            log = open(os.path.join(base, "dnsmasq.log"), "w")
            conf = os.path.join(base, "dnsmasq.conf")
            open(conf, "w").close()   # nothing but the options below
            procs.start(topo.fw, ["dnsmasq", "--no-daemon", f"--conf-file={conf}", "--port=0",
                                  "--interface=eth0", "--bind-interfaces", "--dhcp-authoritative",
                                  "--dhcp-range=10.0.0.100,10.0.0.150,1h",
                                  f"--dhcp-leasefile={base}/leases", f"--pid-file={base}/dnsmasq.pid",
                                  "--no-ping", "--log-dhcp"], log)
            logpath = os.path.join(base, "dnsmasq.log")
            deadline = time.monotonic() + 10
            while "DHCP, IP range" not in open(logpath).read() and time.monotonic() < deadline:
                time.sleep(0.2)
            for title, pol, want in tests:
                unload(topo)
                both_ends(topo, pol, "allow dhcp client;\n")
                got = dhcp_discover(topo)
                verb = "gets its OFFER" if want else "gets no OFFER"
                if not SUITE.expect(f"{name}: {title}: DISCOVER 0.0.0.0 -> 255.255.255.255 {verb}", got, want):
                    print("    dnsmasq: " + open(logpath).read().replace("\n", "\n    dnsmasq: "), flush=True)
        finally:
            procs.close()


# --------------------------------------------------------------------------- TFTP

def tftp_cases(base):
    name = "tftp"
    lack = missing("in.tftpd", "tftp")
    if lack:
        return skip_or_fail(name, lack)
    root = os.path.join(base, "tftproot")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "boot.txt"), "w") as f:
        f.write("hello from tftpd\n")
    tests = [
        ("a plain udp/69 port (before issue 11)", "allow udp/69 server;\n", "allow udp/69 client;\n", False),
        ("allow tftp server / allow tftp client", "allow tftp server;\n", "allow tftp client;\n", True),
        # not allowed: the client's firewall does not know tftp
        ("allow tftp server / the client allows ssh only", "allow tftp server;\n", "allow ssh client;\n", False),
    ]
    with N.host_topology() as topo:
        procs = Procs(topo)
        try:
            log = open(os.path.join(base, "tftpd.log"), "w")
            procs.start(topo.fw, ["in.tftpd", "-L", "-s", root, "-a", f"{FW}:69"], log)
            time.sleep(0.5)
            for i, (title, spol, cpol, want) in enumerate(tests):
                unload(topo)
                both_ends(topo, spol, cpol)
                out = os.path.join(base, f"got{i}.txt")
                run(topo.peer, ["tftp", "-m", "binary", FW, "-c", "get", "boot.txt", out], timeout=8)
                got = os.path.exists(out) and open(out).read() == "hello from tftpd\n"
                verb = "arrives" if want else "does not arrive"
                SUITE.expect(f"{name}: {title}: tftp get boot.txt {verb}", got, want)
        finally:
            procs.close()


# --------------------------------------------------------------------------- vsftpd + curl

VSFTPD_CONF = """listen=NO
listen_ipv6=YES
anonymous_enable=YES
local_enable=NO
anon_root={d}/root
no_anon_password=YES
secure_chroot_dir={d}/empty
pasv_enable=YES
pasv_min_port=40000
pasv_max_port=40100
connect_from_port_20=YES
background=NO
seccomp_sandbox=NO
xferlog_enable=NO
"""
# (title, curl options, address in the URL): passive and active, each in its IPv4-only
# command (PASV, PORT) and its RFC 2428 form (EPSV, EPRT), which IPv6 needs.
FTP_MODES = [
    ("passive EPSV", [], FW),
    ("passive PASV", ["--disable-epsv"], FW),
    ("active EPRT", ["-P", "-"], FW),
    ("active PORT", ["-P", "-", "--disable-eprt"], FW),
    ("IPv6 passive EPSV", [], "[fd00:a::5]"),
    ("IPv6 active EPRT", ["-P", "-"], "[fd00:a::5]"),
]


def ftp_get(topo, opts, host):
    r = run(topo.peer, ["curl", "-s", "--connect-timeout", "3", "--max-time", "4"] + opts +
            [f"ftp://{host}/hello.txt"], timeout=10)
    return r.stdout == "hello from vsftpd\n"


def vsftpd_cases(base):
    name = "vsftpd"
    lack = missing("vsftpd", "curl")
    if lack:
        return skip_or_fail(name, lack)
    d = os.path.join(base, "ftp")
    for sub in ("root", "empty"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    with open(os.path.join(d, "root", "hello.txt"), "w") as f:
        f.write("hello from vsftpd\n")
    for sub in ("", "root", "empty"):
        os.chmod(os.path.join(d, sub), 0o755)
    conf = os.path.join(d, "vsftpd.conf")
    with open(conf, "w") as f:
        f.write(VSFTPD_CONF.format(d=d))
    every = [m[0] for m in FTP_MODES]
    some = ["passive EPSV", "active PORT", "IPv6 passive EPSV"]
    tests = [
        # the control port alone: the data connections have nothing to pass them
        ("a plain tcp/21 port", "allow tcp/21 server;\n", "allow tcp/21 client;\n", some, False),
        ("allow ftp server / allow ftp client", "allow ftp server;\n", "allow ftp client;\n", every, True),
        ("established only; ftp", "established only;\nallow ftp server;\n",
         "established only;\nallow ftp client;\n", every, True),
        # not allowed: clients of another subnet only
        ("ftp server from 192.0.2.0/24", "allow ftp server from 192.0.2.0/24;\n",
         "allow ftp client;\n", some, False),
    ]
    with N.host_topology() as topo:
        procs = Procs(topo)
        try:
            log = open(os.path.join(base, "vsftpd.log"), "w")
            procs.start(topo.fw, ["vsftpd", conf], log)
            deadline = time.monotonic() + 10
            while not ftp_get(topo, [], FW):
                if time.monotonic() > deadline:
                    SUITE.check(f"{name}: serves without a firewall", False, "no transfer in 10 s")
                    return
                time.sleep(0.3)
            SUITE.check(f"{name}: serves without a firewall", True)
            for title, spol, cpol, modes, want in tests:
                unload(topo)
                both_ends(topo, spol, cpol)
                for mode, opts, host in FTP_MODES:
                    if mode not in modes:
                        continue
                    verb = "arrives" if want else "does not arrive"
                    SUITE.expect(f"{name}: {title}: curl {mode} get {verb}", ftp_get(topo, opts, host), want)
        finally:
            procs.close()


# --------------------------------------------------------------------------- chrony

CHRONY_SERVER = """allow all
local stratum 8
cmdport 0
pidfile {d}/server.pid
driftfile {d}/drift
"""
# -Q: measure the offset and exit, never touching the clock (the namespaces share it).
CHRONY_CLIENT = """server {addr} iburst
cmdport 0
pidfile {d}/client.pid
"""


def chrony_sync(topo, d, addr):
    conf = os.path.join(d, "client.conf")
    with open(conf, "w") as f:
        f.write(CHRONY_CLIENT.format(d=d, addr=addr))
    r = run(topo.peer, ["chronyd", "-Q", "-u", "root", "-t", "8", "-f", conf], timeout=15)
    return "System clock wrong by" in r.stdout + r.stderr


def chrony_cases(base):
    name = "chrony"
    lack = missing("chronyd")
    if lack:
        return skip_or_fail(name, lack)
    d = os.path.join(base, "chrony")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "server.conf")
    with open(conf, "w") as f:
        f.write(CHRONY_SERVER.format(d=d))
    tests = [
        ("allow ntp server / allow ntp client", "allow ntp server;\n", "allow ntp client;\n", True),
        ("established only; ntp", "established only;\nallow ntp server;\n",
         "established only;\nallow ntp client;\n", True),
        # not allowed: the client's firewall knows no ntp
        ("allow ntp server / the client allows ssh only", "allow ntp server;\n", "allow ssh client;\n", False),
    ]
    with N.host_topology() as topo:
        procs = Procs(topo)
        try:
            log = open(os.path.join(base, "chronyd.log"), "w")
            # -x: serve time without controlling the clock
            procs.start(topo.fw, ["chronyd", "-x", "-d", "-u", "root", "-f", conf], log)
            time.sleep(0.5)
            for title, spol, cpol, want in tests:
                unload(topo)
                both_ends(topo, spol, cpol)
                for fam, addr in (("IPv4", FW), ("IPv6", "fd00:a::5")):
                    verb = "synchronises" if want else "gets no answer"
                    SUITE.expect(f"{name}: {title}: chronyd -Q over {fam} {verb}", chrony_sync(topo, d, addr), want)
        finally:
            procs.close()


# --------------------------------------------------------------------------- dnsmasq DNS + dig

def dig(topo, server, tcp):
    argv = ["dig", f"@{server}", "host.example.test", "A", "+short", "+tries=1", "+time=2"]
    if tcp:
        argv.append("+tcp")
    return run(topo.peer, argv, timeout=8).stdout.strip() == "10.9.9.9"


def dns_cases(base):
    name = "dnsmasq dns"
    lack = missing("dnsmasq", "dig")
    if lack:
        return skip_or_fail(name, lack)
    tests = [
        ("allow dns server / allow dns client", "allow dns server;\n", "allow dns client;\n", True),
        ("established only; dns", "established only;\nallow dns server;\n",
         "established only;\nallow dns client;\n", True),
        # not allowed: the client's firewall knows no dns
        ("allow dns server / the client allows ssh only", "allow dns server;\n", "allow ssh client;\n", False),
    ]
    with N.host_topology() as topo:
        procs = Procs(topo)
        try:
            log = open(os.path.join(base, "dnsmasq-dns.log"), "w")
            conf = os.path.join(base, "dnsmasq-dns.conf")
            open(conf, "w").close()
            procs.start(topo.fw, ["dnsmasq", "--no-daemon", f"--conf-file={conf}", "--port=53",
                                  "--no-resolv", "--no-hosts", "--bind-interfaces",
                                  "--listen-address=10.0.0.5", "--listen-address=fd00:a::5",
                                  "--address=/host.example.test/10.9.9.9",
                                  f"--pid-file={base}/dnsmasq-dns.pid"], log)
            deadline = time.monotonic() + 10
            while not dig(topo, FW, False):
                if time.monotonic() > deadline:
                    SUITE.check(f"{name}: answers without a firewall", False, "no answer in 10 s")
                    return
                time.sleep(0.3)
            SUITE.check(f"{name}: answers without a firewall", True)
            for title, spol, cpol, want in tests:
                unload(topo)
                both_ends(topo, spol, cpol)
                for server in (FW, "fd00:a::5"):
                    for tcp in (False, True):
                        how = f"dig @{server}" + (" +tcp" if tcp else "")
                        verb = "gets its answer" if want else "gets no answer"
                        SUITE.expect(f"{name}: {title}: {how} {verb}", dig(topo, server, tcp), want)
        finally:
            procs.close()


# --------------------------------------------------------------------------- nfs-ganesha + libnfs

GANESHA_CONF = """NFS_CORE_PARAM {{
    Bind_addr = 10.0.0.5;
    Protocols = 3, 4;
    MNT_Port = 20048;
    NLM_Port = 32768;
    Rquota_Port = 875;
}}
NFSv4 {{ Graceless = true; RecoveryBackend = fs; RecoveryRoot = {d}/recovery; }}
EXPORT {{
    Export_Id = 1;
    Path = {d}/export;
    Pseudo = /export;
    Access_Type = RO;
    Squash = No_Root_Squash;
    Protocols = 3, 4;
    Transports = TCP, UDP;
    SecType = sys;
    FSAL {{ Name = VFS; }}
}}
"""
# rpcbind's socket and lock live in /run: a private /run (a mount namespace of the server's
# own) keeps this rpcbind away from the machine's and from other tests' rpcbinds. ganesha
# registers its programs through that socket, so both run in it.
GANESHA_START = """mount -t tmpfs tmpfs /run && mkdir -p /run/rpcbind && rpcbind -f -w &
sleep 0.5
exec ganesha.nfsd -F -L {d}/ganesha.log -f {d}/ganesha.conf -p {d}/ganesha.pid -N NIV_EVENT
"""


def nfs_cp(topo, d, url, i):
    """nfs-cp as a normal user: it then sends from ports above 1023. As root libnfs binds a
    reserved port anywhere in 512-1023 (measured here), below the Linux client's 665-1023
    about a quarter of the time, which would make the outcome of the nfs app's cases random."""
    out = os.path.join(d, "out", f"got{i}.txt")
    run(topo.peer, ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "nfs-cp", url, out],
        timeout=8)
    return os.path.exists(out) and open(out).read() == "hello over nfs\n"


def nfs_cases(base):
    name = "nfs-ganesha"
    lack = missing("ganesha.nfsd", "rpcbind", "rpcinfo", "nfs-cp")
    if lack:
        return skip_or_fail(name, lack)
    d = os.path.join(base, "nfs")
    for sub in ("export", "recovery", "out"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    os.chmod(os.path.join(d, "out"), 0o777)   # where nfs-cp, run as nobody, writes
    with open(os.path.join(d, "export", "hello.txt"), "w") as f:
        f.write("hello over nfs\n")
    with open(os.path.join(d, "ganesha.conf"), "w") as f:
        f.write(GANESHA_CONF.format(d=d))
    # nfs-cp as a normal user sends from ports above 1023: the exports are insecure (ganesha's
    # default), which is what the app nfs-insecure is for.
    urls = [("NFSv3 over TCP (portmapper, mountd on 20048, nfs)", f"nfs://{FW}{d}/export/hello.txt"),
            ("NFSv4 over TCP", f"nfs://{FW}/export/hello.txt?version=4")]
    # mountd's port reaches the firewalls only through pinholed's reading of the portmapper
    # exchange, or (here) the scoped static fallback, which names mountd's default 20048.
    static = "negotiated static;\n"
    tests = [
        ("negotiated static; allow nfs-insecure server / client", static + "allow nfs-insecure server;\n",
         static + "allow nfs-insecure client;\n", [True, True]),
        ("established only; negotiated static; nfs-insecure", "established only;\n" + static +
         "allow nfs-insecure server;\n", "established only;\n" + static + "allow nfs-insecure client;\n",
         [True, True]),
        # the reserved-port apps refuse unprivileged source ports, as `secure` exports do
        ("nfs4 server / client (reserved client ports)", "allow nfs4 server;\n", "allow nfs4 client;\n",
         [False, False]),
        ("allow nfs server / client (reserved client ports)", "allow nfs server;\n", "allow nfs client;\n",
         [False, False]),
        ("nfs-insecure server from 192.0.2.0/24", "allow nfs-insecure server from 192.0.2.0/24;\n",
         "allow nfs-insecure client;\n", [False, False]),
    ]
    with N.host_topology() as topo:
        procs = Procs(topo)
        try:
            log = open(os.path.join(base, "ganesha.out"), "w")
            procs.start(topo.fw, ["unshare", "-m", "--propagation", "private", "sh", "-c",
                                  GANESHA_START.format(d=d)], log)
            deadline = time.monotonic() + 30
            while "mountd" not in run(topo.peer, ["rpcinfo", "-p", FW], timeout=5).stdout:
                if time.monotonic() > deadline:
                    SUITE.check(f"{name}: registers mountd with rpcbind", False, "not in 30 s")
                    return
                time.sleep(0.5)
            n = 0
            for url_title, url in urls:   # the server is up and serving
                SUITE.check(f"{name}: nfs-cp {url_title} without a firewall", nfs_cp(topo, d, url, n))
                n += 1
            for title, spol, cpol, wants in tests:
                unload(topo)
                both_ends(topo, spol, cpol)
                for (url_title, url), want in zip(urls, wants):
                    verb = "copies the file" if want else "is blocked"
                    SUITE.expect(f"{name}: {title}: nfs-cp {url_title} {verb}", nfs_cp(topo, d, url, n), want)
                    n += 1
        finally:
            procs.close()


# --------------------------------------------------------------------------- ngircd

NGIRCD_CONF = """[Global]
    Name = irc.pinhole.test
    Info = pinhole test server
    Listen = 10.0.0.5,fd00:a::5
    Ports = 6667, 6668
    MotdPhrase = pinhole test
    PidFile = {d}/run/ngircd.pid
    ServerUID = nobody
    ServerGID = nogroup
[Limits]
    MaxConnectionsIP = 0
    PingTimeout = 120
[Options]
    DNS = no
    Ident = no
    PAM = no
    OperCanUseMode = no
"""


class IrcClient:
    """One IRC client (RFC 2812 registration) on a TCP socket in a namespace; every read is
    bounded by `timeout`."""

    def __init__(self, ns, addr, port, nick, timeout=2.0):
        self.s = N.socket_in(ns, socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.buf, self.nick = b"", nick
        try:
            self.s.connect((addr, port))
        except OSError:
            self.s.close()
            raise
        self.send(f"NICK {nick}", f"USER {nick} 0 * :pinhole test {nick}")

    def send(self, *lines):
        self.s.sendall("".join(l + "\r\n" for l in lines).encode())

    def wait_for(self, word, timeout=5.0):
        """Read lines until one holds `word` (answering PINGs); the line, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\r\n" in self.buf:
                line, self.buf = self.buf.split(b"\r\n", 1)
                text = line.decode(errors="replace")
                if text.startswith("PING "):
                    self.send("PONG " + text[5:])
                if word in text:
                    return text
            try:
                chunk = self.s.recv(4096)
            except OSError:
                return None
            if not chunk:
                return None
            self.buf += chunk
        return None

    def close(self):
        try:
            self.send("QUIT :bye")
        except OSError:
            pass
        self.s.close()


def irc_exchange(topo, addr, port):
    """Two clients register, join #pinhole, and the first one's PRIVMSG reaches the second
    through the server. True when it arrived."""
    clients = []
    try:
        for nick in ("alice", "bob"):
            c = IrcClient(topo.peer, addr, port, nick)
            clients.append(c)
            if not c.wait_for(f" 001 {nick} "):   # RPL_WELCOME
                return False
            c.send("JOIN #pinhole")
            if not c.wait_for(" 366 "):           # RPL_ENDOFNAMES: joined
                return False
        clients[0].send("PRIVMSG #pinhole :hello through pinhole")
        line = clients[1].wait_for("PRIVMSG #pinhole")
        return bool(line) and line.startswith(":alice") and line.endswith(":hello through pinhole")
    except OSError:
        return False
    finally:
        for c in clients:
            c.close()


def irc_cases(base):
    name = "ngircd"
    lack = missing("ngircd")
    if lack:
        return skip_or_fail(name, lack)
    d = os.path.join(base, "irc")
    os.makedirs(os.path.join(d, "run"), exist_ok=True)
    os.chmod(os.path.join(d, "run"), 0o777)   # ngircd writes its pid file as nobody
    conf = os.path.join(d, "ngircd.conf")
    with open(conf, "w") as f:
        f.write(NGIRCD_CONF.format(d=d))
    fams = [("IPv4", FW), ("IPv6", "fd00:a::5")]
    tests = [
        ("allow irc server / allow irc client", "allow irc server;\n", "allow irc client;\n", {6667: True, 6668: False}),
        ("established only; irc", "established only;\nallow irc server;\n",
         "established only;\nallow irc client;\n", {6667: True, 6668: False}),
        # not allowed: the clients' firewall knows no irc
        ("allow irc server / the client allows ssh only", "allow irc server;\n", "allow ssh client;\n", {6667: False}),
        ("established only; irc server / the client allows ssh only", "established only;\nallow irc server;\n",
         "established only;\nallow ssh client;\n", {6667: False}),
    ]
    with N.host_topology() as topo:
        procs = Procs(topo)
        try:
            log = open(os.path.join(d, "ngircd.log"), "w")
            procs.start(topo.fw, ["ngircd", "-n", "-f", conf], log)
            deadline = time.monotonic() + 10
            while not irc_exchange(topo, FW, 6667):
                if time.monotonic() > deadline:
                    SUITE.check(f"{name}: relays a message without a firewall", False, "not in 10 s")
                    return
                time.sleep(0.3)
            for fam, addr in fams:
                for port in (6667, 6668):
                    SUITE.check(f"{name}: without a firewall: {fam} PRIVMSG between two clients via port {port}",
                                irc_exchange(topo, addr, port))
            for title, spol, cpol, want in tests:
                unload(topo)
                both_ends(topo, spol, cpol)
                for fam, addr in fams:
                    for port, ok in want.items():
                        verb = "arrives" if ok else "is blocked"
                        SUITE.expect(f"{name}: {title}: {fam} PRIVMSG between two clients via {addr} port {port} {verb}",
                                     irc_exchange(topo, addr, port), ok)
        finally:
            procs.close()


# --------------------------------------------------------------------------- NFSv3 through pinholed

PINHOLED = os.environ.get("PINHOLED") or os.path.join(REPO, "build", "pinholed")
# mountd and nlockmgr on ports that no static fallback names (mountd's is 513-1023 and 20048,
# nlockmgr's 32768): only pinholed's reading of the portmapper exchange opens them. `::`
# makes ganesha listen on IPv4 and IPv6 (its Bind_addr 0.0.0.0 registers IPv6 but serves
# only IPv4).
GANESHA_RPC_CONF = GANESHA_CONF.replace("Bind_addr = 10.0.0.5;", "Bind_addr = ::;") \
    .replace("MNT_Port = 20048;", "MNT_Port = 30048;").replace("NLM_Port = 32768;", "NLM_Port = 32800;")
MOUNTD = 30048
# The third peer: its own namespace behind the server's second interface.
OTHER = {"v4": ("10.0.1.8", "10.0.1.5/24", "10.0.1.8/24", "10.0.0.0/24", "10.0.1.5"),
         "v6": ("fd00:b::8", "fd00:b::5/64", "fd00:b::8/64", "fd00:a::/64", "fd00:b::5")}


def third_peer(topo):
    """A namespace `oth` wired to the server's eth1 (10.0.1.8, fd00:b::8), routed to the
    server's eth0 addresses. Returns its name; the caller deletes it."""
    ns = f"ph-realapps-{os.getpid()}-oth"
    subprocess.run([N.IP, "netns", "add", ns], capture_output=True)
    N.ns_run(ns, ["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"])
    N.ns_run(topo.fw, [N.IP, "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", ns])
    for fam in ("v4", "v6"):
        _, fwaddr, addr, route, via = OTHER[fam]
        nodad = ["nodad"] if fam == "v6" else []
        N.ns_run(topo.fw, [N.IP, "addr", "add", fwaddr, "dev", "eth1"] + nodad)
        N.ns_run(ns, [N.IP, "addr", "add", addr, "dev", "eth0"] + nodad)
    for cmd in (["link", "set", "lo", "up"], ["link", "set", "eth0", "up"]):
        N.ns_run(ns, [N.IP] + cmd)
    N.ns_run(topo.fw, [N.IP, "link", "set", "eth1", "up"])
    for fam in ("v4", "v6"):
        N.ns_run(ns, [N.IP, "route", "add", OTHER[fam][3], "via", OTHER[fam][4]])
    return ns


def connects(ns, dst, port, timeout=1.5):
    """A TCP connection from ns to dst:port (a real server's) is established."""
    s = N.socket_in(ns, socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((dst, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Pinholed:
    """pinholed started in each firewalled namespace with that namespace's policy."""

    def __init__(self, base, procs, spec):
        self.procs, self.runs = procs, []
        for ns, path in spec:
            log = os.path.join(base, f"pinholed-{ns}.log")
            p = procs.start(ns, [PINHOLED, "--policy", path], open(log, "w"))
            self.runs.append((p, log))

    def ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all("reading" in open(log).read() for _, log in self.runs):
                return True
            if any(p.poll() is not None for p, _ in self.runs):
                return False
            time.sleep(0.1)
        return False

    def stop(self):
        """SIGTERM; True when each pinholed exited saying it closed its pinholes."""
        ok = True
        for p, log in self.runs:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                ok = False
            ok = ok and "pinholes closed" in open(log).read()
        return ok

    def logs(self):
        return "".join(open(log).read() for _, log in self.runs)


def set_elements(ns, name):
    r = run(ns, ["nft", "list", "set", "inet", "pinhole", name])
    body = r.stdout.split("elements = {", 1)
    return [e.strip() for e in body[1].split("}")[0].split(",")] if len(body) == 2 else []


def pinholed_cases(base):
    name = "nfs-ganesha + pinholed"
    lack = missing("ganesha.nfsd", "rpcbind", "rpcinfo", "nfs-cp")
    if not os.access(PINHOLED, os.X_OK):
        lack.append(PINHOLED)
    if lack:
        return skip_or_fail(name, lack)
    d = os.path.join(base, "nfsrpc")
    for sub in ("export", "recovery", "out"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    os.chmod(os.path.join(d, "out"), 0o777)
    with open(os.path.join(d, "export", "hello.txt"), "w") as f:
        f.write("hello over nfs\n")
    with open(os.path.join(d, "ganesha.conf"), "w") as f:
        f.write(GANESHA_RPC_CONF.format(d=d))
    fams = [("IPv4", FW, "v4"), ("IPv6", "fd00:a::5", "v6")]

    def url(addr):   # libnfs 4.0 takes an IPv6 address without brackets
        return f"nfs://{addr}{d}/export/hello.txt"
    modes = [("helper mode (default)", ""), ("established only", "established only;\n")]
    with N.host_topology() as topo:
        procs = Procs(topo)
        oth = None
        try:
            oth = third_peer(topo)
            # One global address per family on the server's eth0 for the rounds below: over IPv6
            # libnfs asks rpcbind (GETADDR), whose answer names one of the interface's addresses,
            # with two 2001:db8:b::5 rather than the fd00:a::5 asked. The last round adds it back.
            for a in ("192.0.2.5/24", "2001:db8:b::5/64"):
                N.ns_run(topo.fw, [N.IP, "addr", "del", a, "dev", "eth0"])
            log = open(os.path.join(base, "ganesha-rpc.out"), "w")
            procs.start(topo.fw, ["unshare", "-m", "--propagation", "private", "sh", "-c",
                                  GANESHA_START.format(d=d)], log)
            deadline = time.monotonic() + 30
            while f"{MOUNTD}  mountd" not in run(topo.peer, ["rpcinfo", "-p", FW], timeout=5).stdout:
                if time.monotonic() > deadline:
                    SUITE.check(f"{name}: registers mountd on port {MOUNTD}", False, "not in 30 s")
                    return
                time.sleep(0.5)
            n = 0
            for fam, addr, _ in fams:
                SUITE.check(f"{name}: nfs-cp NFSv3 over {fam} without a firewall", nfs_cp(topo, d, url(addr), n))
                n += 1
            # the scoped static fallback names mountd's usual ports, not this one
            unload(topo)
            both_ends(topo, "negotiated static;\nallow nfs-insecure server;\n",
                      "negotiated static;\nallow nfs-insecure client;\n")
            for fam, addr, _ in fams:
                SUITE.expect(f"{name}: negotiated static: nfs-cp NFSv3 over {fam} (mountd on {MOUNTD}) is blocked",
                             nfs_cp(topo, d, url(addr), n), False)
                n += 1
            for title, head in modes:
                spol, cpol = head + "allow nfs-insecure server;\n", head + "allow nfs-insecure client;\n"
                paths = []
                for ns, pol in ((topo.fw, spol), (topo.peer, cpol)):
                    path = os.path.join(base, f"{ns}.pin")
                    with open(path, "w") as f:
                        f.write(pol)
                    paths.append((ns, path))
                unload(topo)
                both_ends(topo, spol, cpol)
                for fam, addr, _ in fams:
                    SUITE.expect(f"{name}: {title}, no pinholed: nfs-cp NFSv3 over {fam} is blocked",
                                 nfs_cp(topo, d, url(addr), n), False)
                    n += 1
                ph = Pinholed(base, procs, paths)
                if not SUITE.check(f"{name}: {title}: pinholed starts on both ends", ph.ready(), ph.logs()):
                    ph.stop()
                    continue
                for fam, addr, v in fams:
                    SUITE.check(f"{name}: {title}, pinholed on both ends: nfs-cp NFSv3 over {fam} copies the file",
                                     nfs_cp(topo, d, url(addr), n), ph.logs())
                    n += 1
                    els = set_elements(topo.fw, f"ph_nfs_insecure_mountd_{v}")
                    peer = PEER if v == "v4" else "fd00:a::7"
                    SUITE.check(f"{name}: {title}: the server's pinhole is {peer} . {addr} . tcp . {MOUNTD}",
                                any(e.startswith(f"{peer} . {addr} . tcp . {MOUNTD}") for e in els), repr(els))
                    # while that pinhole is open: the client reaches mountd, a third peer does not
                    SUITE.expect(f"{name}: {title}: {fam} TCP client -> {addr}:{MOUNTD} passes (the pinhole)",
                                 connects(topo.peer, addr, MOUNTD), True)
                    SUITE.expect(f"{name}: {title}: {fam} TCP third peer {OTHER[v][0]} -> {addr}:{MOUNTD} is blocked",
                                 connects(oth, addr, MOUNTD), False)
                    # ... though it reaches the server: nfs's fixed port is open to every client
                    SUITE.expect(f"{name}: {title}: {fam} TCP third peer {OTHER[v][0]} -> {addr}:2049 passes",
                                 connects(oth, addr, 2049), True)
                SUITE.check(f"{name}: {title}: pinholed stops and says it closed its pinholes", ph.stop(), ph.logs())
                for fam, addr, v in fams:
                    SUITE.expect(f"{name}: {title}: after pinholed exits the {v} mountd sets are empty",
                                 set_elements(topo.fw, f"ph_nfs_insecure_mountd_{v}") +
                                 set_elements(topo.peer, f"ph_nfs_insecure_mountd_{v}"), [])
                    SUITE.expect(f"{name}: {title}, pinholed stopped: nfs-cp NFSv3 over {fam} is blocked again",
                                 nfs_cp(topo, d, url(addr), n), False)
                    n += 1
                udp = [l for l in ph.logs().splitlines() if "opened" in l and " udp " in l]
                print(f"    pinholed opened {len(udp)} UDP pinhole(s) (libnfs asks the portmapper over TCP)", flush=True)
            # A second global IPv6 address on the server's eth0: rpcbind's GETADDR reply, asked at
            # fd00:a::5, names 2001:db8:b::5 (runtime/README.md, "Another address of the sender").
            # The server's pinholed opens it (one of its own) and the address asked; the client's
            # only when its statement names the server's addresses, and libnfs then connects to
            # the address it asked.
            N.ns_run(topo.fw, [N.IP, "addr", "add", "2001:db8:b::5/64", "dev", "eth0", "nodad"])
            asked, other, peer6 = "fd00:a::5", "2001:db8:b::5", "fd00:a::7"
            for title, cpol, want in (
                    ("a client statement without server addresses", "allow nfs-insecure client;\n", False),
                    ("a client statement naming both server addresses",
                     "allow nfs-insecure client to fd00:a::/64, 2001:db8:b::/64;\n", True)):
                paths = []
                for ns, pol in ((topo.fw, "allow nfs-insecure server;\n"), (topo.peer, cpol)):
                    path = os.path.join(base, f"{ns}.pin")
                    with open(path, "w") as f:
                        f.write(pol)
                    paths.append((ns, path))
                unload(topo)
                both_ends(topo, "allow nfs-insecure server;\n", cpol)
                ph = Pinholed(base, procs, paths)
                if not SUITE.check(f"{name}: two server addresses, {title}: pinholed starts on both ends",
                                   ph.ready(), ph.logs()):
                    ph.stop()
                    continue
                ok = nfs_cp(topo, d, url(asked), n)
                n += 1
                SUITE.expect(f"{name}: two server addresses, {title}: nfs-cp NFSv3 over IPv6 "
                             f"{'copies the file' if want else 'is blocked'}", ok, want)
                srv = set_elements(topo.fw, "ph_nfs_insecure_mountd_v6")
                for a in (other, asked):
                    SUITE.check(f"{name}: two server addresses, {title}: the server's pinhole "
                                f"{peer6} . {a} . tcp . {MOUNTD}",
                                any(e.startswith(f"{peer6} . {a} . tcp . {MOUNTD}") for e in srv), repr(srv) + ph.logs())
                cli = set_elements(topo.peer, "ph_nfs_insecure_mountd_v6")
                if want:
                    for a in (other, asked):
                        SUITE.check(f"{name}: two server addresses, {title}: the client's pinhole "
                                    f"{a} . {peer6} . tcp . {MOUNTD}",
                                    any(e.startswith(f"{a} . {peer6} . tcp . {MOUNTD}") for e in cli), repr(cli))
                    SUITE.expect(f"{name}: two server addresses, {title}: IPv6 TCP third peer -> {other}:{MOUNTD} "
                                 "is blocked", connects(oth, other, MOUNTD), False)
                else:
                    SUITE.expect(f"{name}: two server addresses, {title}: the client opens nothing", cli, [])
                    SUITE.check(f"{name}: two server addresses, {title}: the client's pinholed says why",
                                "names no peer addresses" in ph.logs(), ph.logs())
                ph.stop()
        finally:
            procs.close()
            if oth:
                subprocess.run([N.IP, "netns", "del", oth], capture_output=True)


def rtsp_cases(base):
    """GStreamer's RTSP server and client, media through pinholed: tests/kernel/real_rtsp.py."""
    import real_rtsp
    real_rtsp.cases(base, sys.modules[__name__])


def realplayer_cases(base):
    """The same RTSP software behind the app realplayer (flow data-rtsp): tests/kernel/real_rtsp.py."""
    import real_rtsp
    real_rtsp.cases(base, sys.modules[__name__], "realplayer")


def main():
    ktest.preflight_or_skip("test_real_apps")
    if not os.access(PINHOLE, os.X_OK):
        print(f"SKIP test_real_apps: {PINHOLE} not built (make)", flush=True)
        sys.exit(ktest.SKIP)
    only = set(sys.argv[1:])   # samba, dnsmasq, dns, tftp, vsftpd, chrony, nfs, pinholed, irc, rtsp, realplayer
    with tempfile.TemporaryDirectory(prefix="ph-real-") as base:
        os.chmod(base, 0o755)
        for fn in (samba_cases, dnsmasq_cases, dns_cases, tftp_cases, vsftpd_cases, chrony_cases, nfs_cases,
                   pinholed_cases, irc_cases, rtsp_cases, realplayer_cases):
            if only and fn.__name__.split("_")[0] not in only:
                continue
            try:
                fn(base)
            except Exception as e:
                SUITE.error(fn.__name__, e)
    SUITE.finish()


if __name__ == "__main__":
    main()
