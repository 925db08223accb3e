#!/usr/bin/python3
"""nsnet: throwaway network namespaces, ruleset loading and traffic probes for pinhole's
kernel tests.

Safety: everything happens in namespaces this module creates (named "ph-<pid>-<n>-<role>";
under run.sh "ph-run<its pid>-<pid>-<n>-<role>") and deletes again (Topology.close, atexit,
SIGTERM/SIGHUP). Every `nft`, `ip` and `sysctl`
runs under `ip netns exec NS`; sockets are opened from a short-lived thread that joined the
namespace with setns(2) (a socket keeps the namespace it was created in), so no probe ever
touches the machine's own namespace. Run with /usr/bin/python3 (Debian's, which has scapy and
pyftpdlib).

Probes return True (the traffic got through) or False (blocked) and never raise for a blocked
flow; they do raise for harness errors (unknown address, nft failure).
"""
import atexit
import collections
import ctypes
import errno
import ipaddress
import itertools
import json
import logging
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

__all__ = [
    "NsError", "preflight", "ns_run", "in_ns", "socket_in", "Topology", "host_topology",
    "gateway_topology", "owner_of", "topology_of", "load_nft", "install_probe", "read_probe",
    "Seen", "probe_seen", "tcp_connect", "tcp_outcome", "udp_exchange", "udp_outcome", "icmp_echo", "ftp_transfer",
    "crafted_tcp", "send_raw", "hook_for", "HOST", "GATEWAY",
]

log = logging.getLogger("nsnet")
if os.environ.get("NSNET_DEBUG"):
    logging.basicConfig(level=logging.DEBUG, format="%(threadName)s %(name)s: %(message)s")

NETNS_DIR = "/var/run/netns"
CLONE_NEWNET = 0x40000000
IP = "/usr/sbin/ip" if os.path.exists("/usr/sbin/ip") else "ip"

_libc = ctypes.CDLL(None, use_errno=True)
_lock = threading.RLock()
_seq = itertools.count(1)


class NsError(RuntimeError):
    """A harness operation (ip, nft, sysctl, setns) failed; carries the tool's stderr."""


# --------------------------------------------------------------------------- namespaces

def preflight():
    """Return None when namespaces can be used here, else a one-line reason to skip."""
    if os.geteuid() != 0:
        return "not root (network namespaces need CAP_SYS_ADMIN)"
    name = f"ph-{os.getpid()}-preflight"
    r = subprocess.run([IP, "netns", "add", name], capture_output=True, text=True)
    if r.returncode != 0:
        return "ip netns add failed: " + r.stderr.strip()
    subprocess.run([IP, "netns", "del", name], capture_output=True)
    for tool in ("nft",):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            return f"{tool} not installed"
    import importlib.util
    for mod in ("scapy", "pyftpdlib"):
        if importlib.util.find_spec(mod) is None:
            return f"python module {mod} missing; run with /usr/bin/python3"
    return None


def ns_run(ns, argv, input=None, check=True, timeout=20):
    """Run argv under `ip netns exec ns`; return CompletedProcess (text); raise NsError on failure."""
    cmd = [IP, "netns", "exec", ns] + list(argv)
    r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise NsError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def _setns(ns):
    fd = os.open(os.path.join(NETNS_DIR, ns), os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise NsError(f"setns({ns}): {os.strerror(e)}")
    finally:
        os.close(fd)


def in_ns(ns, fn, *args, **kwargs):
    """Call fn(*args, **kwargs) in a fresh thread that joined namespace ns; return its result.

    Sockets fn creates stay in ns for their whole life, whatever thread uses them later."""
    out = {}

    def body():
        try:
            _setns(ns)
            out["v"] = fn(*args, **kwargs)
        except BaseException as e:  # re-raised in the caller
            out["e"] = e

    t = threading.Thread(target=body, name=f"ns:{ns}", daemon=True)
    t.start()
    t.join()
    if "e" in out:
        raise out["e"]
    return out.get("v")


def socket_in(ns, family, type_, proto=0):
    """Create a socket inside namespace ns."""
    return in_ns(ns, socket.socket, family, type_, proto)


def _family(addr):
    return socket.AF_INET6 if ipaddress.ip_address(addr).version == 6 else socket.AF_INET


def _norm(addr):
    return ipaddress.ip_address(addr).compressed


# --------------------------------------------------------------------------- topologies

HOST = {
    "fw": ["10.0.0.5/24", "192.0.2.5/24", "fd00:a::5/64", "2001:db8:b::5/64"],
    "peer": ["10.0.0.7/24", "192.0.2.7/24", "fd00:a::7/64", "2001:db8:b::7/64"],
}
GATEWAY = {
    "lan": ["10.1.0.2/24", "fd00:1::2/64"],
    "gw.lan0": ["10.1.0.1/24", "fd00:1::1/64"],
    "gw.wan0": ["203.0.113.1/24", "2001:db8:2::1/64"],
    "wan": ["203.0.113.2/24", "2001:db8:2::2/64"],
}

_topologies = {}   # ns name -> Topology
_ns_counter = itertools.count(1)


class Topology:
    """A set of namespaces wired together; `firewall` is the namespace under test.

    Attributes: kind ("host" or "gateway"), ns (role -> namespace name), firewall, and the
    role names as attributes (fw/peer or lan/gw/wan). Use as a context manager or call close().
    """

    def __init__(self, kind, roles):
        self.kind = kind
        n = next(_ns_counter)
        prefix = os.environ.get("PH_NS_PREFIX", "ph-")  # run.sh: ph-run<its pid>-
        self.ns = {r: f"{prefix}{os.getpid()}-{n}-{r}" for r in roles}
        for r, name in self.ns.items():
            setattr(self, r, name)
        self.firewall = self.ns["fw" if kind == "host" else "gw"]
        self.addrs = {name: [] for name in self.ns.values()}
        self._closed = False

    def _create(self, setup):
        try:
            for name in self.ns.values():
                r = subprocess.run([IP, "netns", "add", name], capture_output=True, text=True)
                if r.returncode:
                    raise NsError(f"ip netns add {name}: {r.stderr.strip()}")
                with _lock:
                    _topologies[name] = self
                # no DAD anywhere (link-local addresses included), so addresses work at once
                ns_run(name, ["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
                              "net.ipv6.conf.default.accept_dad=0"])
            setup()
        except BaseException:
            self.close()
            raise
        return self

    def _ip_batch(self, ns, lines):
        ns_run(ns, [IP, "-batch", "-"], input="\n".join(lines) + "\n")

    def _addr(self, ns, dev, cidrs):
        lines = []
        for c in cidrs:
            if ":" in c:
                lines.append(f"addr add {c} dev {dev} nodad")
            else:
                lines.append(f"addr add {c} dev {dev}")
            self.addrs[ns].append(_norm(c.split("/")[0]))
        return lines

    def owner(self, addr):
        """Namespace of this topology that owns addr."""
        a = _norm(addr)
        for ns, lst in self.addrs.items():
            if a in lst:
                return ns
        raise KeyError(f"{addr} belongs to no namespace of this topology")

    def close(self):
        """Stop servers and delete every namespace (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for name in self.ns.values():
            _close_servers(name)
        for name in self.ns.values():
            subprocess.run([IP, "netns", "del", name], capture_output=True)
            with _lock:
                _topologies.pop(name, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def host_topology():
    """Create namespaces fw and peer joined by one veth pair (eth0 on both sides)."""
    t = Topology("host", ["fw", "peer"])

    def setup():
        fw, peer = t.fw, t.peer
        t._ip_batch(fw, [f"link add eth0 type veth peer name eth0 netns {peer}",
                         "link set lo up", "link set eth0 up"])
        t._ip_batch(peer, ["link set lo up", "link set eth0 up"])
        # links first, then addresses with nodad (KERNEL-NOTES: nodad before up is flaky)
        t._ip_batch(fw, t._addr(fw, "eth0", HOST["fw"]))
        t._ip_batch(peer, t._addr(peer, "eth0", HOST["peer"]))
    return t._create(setup)


def gateway_topology():
    """Create lan -- gw -- wan (gw interfaces lan0/wan0, forwarding on in gw only)."""
    t = Topology("gateway", ["lan", "gw", "wan"])

    def setup():
        lan, gw, wan = t.lan, t.gw, t.wan
        ns_run(gw, ["sysctl", "-qw", "net.ipv4.ip_forward=1",
                    "net.ipv6.conf.all.forwarding=1"])
        t._ip_batch(gw, [f"link add lan0 type veth peer name eth0 netns {lan}",
                         f"link add wan0 type veth peer name eth0 netns {wan}",
                         "link set lo up", "link set lan0 up", "link set wan0 up"])
        for h in (lan, wan):
            t._ip_batch(h, ["link set lo up", "link set eth0 up"])
        t._ip_batch(gw, t._addr(gw, "lan0", GATEWAY["gw.lan0"]) +
                    t._addr(gw, "wan0", GATEWAY["gw.wan0"]))
        t._ip_batch(lan, t._addr(lan, "eth0", GATEWAY["lan"]) +
                    ["route add default via 10.1.0.1", "route add default via fd00:1::1"])
        t._ip_batch(wan, t._addr(wan, "eth0", GATEWAY["wan"]) +
                    ["route add default via 203.0.113.1",
                     "route add default via 2001:db8:2::1"])
    return t._create(setup)


def owner_of(addr, near):
    """Namespace owning addr in the topology that namespace `near` belongs to (several
    topologies with the same addresses may be alive at once)."""
    return topology_of(near).owner(addr)


def topology_of(ns):
    """The live Topology a namespace belongs to."""
    return _topologies[ns]


def _close_all():
    for t in list({id(t): t for t in _topologies.values()}.values()):
        t.close()


atexit.register(_close_all)


def _on_signal(signum, frame):
    raise SystemExit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGHUP):
    if signal.getsignal(_sig) in (signal.SIG_DFL, None):
        signal.signal(_sig, _on_signal)


# --------------------------------------------------------------------------- nftables

def load_nft(ns, text):
    """Load ruleset text into ns with `nft -f -`; raise NsError with nft's stderr on failure."""
    r = ns_run(ns, ["nft", "-f", "-"], input=text, check=False)
    if r.returncode != 0:
        raise NsError(f"nft -f in {ns} failed (exit {r.returncode}):\n{r.stderr.strip()}")


HOOKS = ("input", "forward", "output")


def _probe_ruleset():
    sets, chains = [], []
    for h in HOOKS:
        sets += [
            f"set {h}_l4_4 {{ typeof ip saddr . ip daddr . meta l4proto . th sport . th dport; "
            f"flags dynamic; size 65535; }}",
            f"set {h}_l4_6 {{ typeof ip6 saddr . ip6 daddr . meta l4proto . th sport . th dport; "
            f"flags dynamic; size 65535; }}",
            f"set {h}_icmp4 {{ typeof ip saddr . ip daddr . icmp id; flags dynamic; size 65535; }}",
            f"set {h}_icmp6 {{ typeof ip6 saddr . ip6 daddr . icmpv6 id; flags dynamic; "
            f"size 65535; }}",
        ]
        chains.append(
            f"chain {h} {{ type filter hook {h} priority 100; policy accept;\n"
            f"  meta l4proto {{ tcp, udp }} update @{h}_l4_4 "
            f"{{ ip saddr . ip daddr . meta l4proto . th sport . th dport }}\n"
            f"  meta l4proto {{ tcp, udp }} update @{h}_l4_6 "
            f"{{ ip6 saddr . ip6 daddr . meta l4proto . th sport . th dport }}\n"
            f"  icmp type echo-request update @{h}_icmp4 {{ ip saddr . ip daddr . icmp id }}\n"
            f"  icmpv6 type echo-request update @{h}_icmp6 "
            f"{{ ip6 saddr . ip6 daddr . icmpv6 id }}\n}}")
    body = "\n".join(sets + chains)
    return ("table inet probe {}\ndelete table inet probe\n"
            f"table inet probe {{\n{body}\n}}\n")


def install_probe(ns):
    """(Re)create `table inet probe` in ns: base chains on input/forward/output at priority 100
    that record every TCP/UDP packet and ICMP echo request reaching them into dynamic sets.
    Load it after the ruleset under test (a ruleset may flush everything)."""
    load_nft(ns, _probe_ruleset())


# hook: input/forward/output; proto: tcp/udp/icmp/icmpv6; for ICMP sport = 0, dport = echo id
Seen = collections.namedtuple("Seen", "hook proto src sport dst dport")


def read_probe(ns):
    """Everything the probe table in ns recorded, as a set of Seen tuples."""
    r = ns_run(ns, ["nft", "-j", "list", "table", "inet", "probe"])
    out = set()
    for item in json.loads(r.stdout)["nftables"]:
        s = item.get("set")
        if not s:
            continue
        hook, kind = s["name"].split("_", 1)
        for e in s.get("elem", []):
            if isinstance(e, dict) and "elem" in e:
                e = e["elem"]["val"]
            v = e["concat"]
            if kind.startswith("l4"):
                out.add(Seen(hook, str(v[2]), _norm(v[0]), int(v[3]), _norm(v[1]), int(v[4])))
            else:
                proto = "icmp" if kind == "icmp4" else "icmpv6"
                out.add(Seen(hook, proto, _norm(v[0]), 0, _norm(v[1]), int(v[2])))
    return out


def probe_seen(ns, hook, proto, src, sport, dst, dport):
    """True if the probe table in ns recorded this packet at hook (ICMP: sport 0, dport = id)."""
    return Seen(hook, proto, _norm(src), sport, _norm(dst), dport) in read_probe(ns)


# --------------------------------------------------------------------------- servers

class _NsServers:
    """Echo and FTP servers living in one namespace, shared by concurrent probes."""

    def __init__(self, ns):
        self.ns = ns
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sockets = []
        self.threads = []
        self.tcp, self.udp, self.ftp = {}, {}, {}
        self.procs, self.dirs = [], []

    def _thread(self, target, *args):
        t = threading.Thread(target=target, args=args, daemon=True, name=f"srv:{self.ns}")
        t.start()
        self.threads.append(t)

    def tcp_echo(self, addr, port):
        key = (_norm(addr), port)
        with self.lock:
            if key in self.tcp:
                return
            if key[0] in self.ftp and port == 21:
                raise NsError(f"{addr}:21 is taken by the FTP server")
            s = socket_in(self.ns, _family(addr), socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, port))
            s.listen(128)
            s.settimeout(0.1)
            self.sockets.append(s)
            self.tcp[key] = s
            self._thread(self._tcp_loop, s)

    def _tcp_loop(self, s):
        while not self.stop.is_set():
            try:
                c, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._tcp_serve, args=(c,), daemon=True).start()

    @staticmethod
    def _tcp_serve(c):
        try:
            c.settimeout(2)
            data = b""
            while not data.endswith(b"\n") and len(data) < 512:
                chunk = c.recv(512)
                if not chunk:
                    break
                data += chunk
            c.sendall(b"echo " + data)
        except OSError:
            pass
        finally:
            c.close()

    def udp_echo(self, addr, port):
        key = (_norm(addr), port)
        with self.lock:
            if key in self.udp:
                return
            s = socket_in(self.ns, _family(addr), socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, port))
            s.settimeout(0.1)
            self.sockets.append(s)
            self.udp[key] = s
            self._thread(self._udp_loop, s)

    def _udp_loop(self, s):
        while not self.stop.is_set():
            try:
                data, peer = s.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                s.sendto(b"echo " + data, peer)
            except OSError:
                pass

    def ftp_server(self, addr):
        """Start (once) an anonymous read-only FTP server on addr:21; return the file's bytes.

        It runs as its own process (ftpd.py under `ip netns exec`), which keeps pyftpdlib's
        event loop and its file descriptors away from the probe threads of this process."""
        key = _norm(addr)
        with self.lock:
            if key in self.ftp:
                return self.ftp[key]
            if (key, 21) in self.tcp:
                raise NsError(f"{addr}:21 is taken by a TCP echo server")
            content = os.urandom(48 * 1024)
            d = tempfile.mkdtemp(prefix="ph-ftp-")
            self.dirs.append(d)
            with open(os.path.join(d, "probe.bin"), "wb") as f:
                f.write(content)
            argv = [IP, "netns", "exec", self.ns, "/usr/bin/python3", _FTPD, addr, d]
            if os.environ.get("NSNET_DEBUG"):
                argv.append("debug")
            debug = bool(os.environ.get("NSNET_DEBUG"))
            # stdin stays open: ftpd exits when it sees EOF, i.e. when this process is gone.
            # stderr must not be inherited, or a killed test's pipe to run.sh never closes.
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.PIPE,
                                    stderr=None if debug else subprocess.DEVNULL,
                                    text=True, start_new_session=True)
            self.procs.append(proc)
            line = _readline_timeout(proc.stdout, 10)
            if line.strip() != "ready":
                raise NsError(f"FTP server on {addr} in {self.ns} did not start "
                              f"(exit {proc.poll()})")
            self.ftp[key] = content
            return content

    def close(self):
        self.stop.set()
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass
        for p in self.procs:  # only the servers this object started, by pid
            p.terminate()
        for p in self.procs:
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            for f in (p.stdin, p.stdout):
                try:
                    f.close()
                except OSError:
                    pass
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        for t in self.threads:
            t.join(2)


_servers = {}
_FTPD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ftpd.py")


def _readline_timeout(f, timeout):
    """One line from a pipe, or "" after timeout seconds."""
    import select
    r, _, _ = select.select([f], [], [], timeout)
    return f.readline() if r else ""


def _srv(ns):
    with _lock:
        if ns not in _servers:
            _servers[ns] = _NsServers(ns)
        return _servers[ns]


def _close_servers(ns):
    with _lock:
        s = _servers.pop(ns, None)
    if s:
        s.close()


# --------------------------------------------------------------------------- probes

def _outcome(e):
    if isinstance(e, socket.timeout):
        return "timeout"
    return errno.errorcode.get(e.errno, str(e)) if e.errno else str(e)


def tcp_outcome(client_ns, src, sport, dst, dport, *, server_ns=None, timeout=1.0):
    """Like tcp_connect but says how it ended: "ok", "timeout" (silently dropped), or the errno
    name of a fast failure ("ECONNREFUSED" = TCP reset or ICMP port unreachable came back,
    "EHOSTUNREACH", "EPERM" ...), or "garbled" if the echo was wrong."""
    _srv(server_ns or owner_of(dst, client_ns)).tcp_echo(dst, dport)
    s = socket_in(client_ns, _family(dst), socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src, sport))
        s.settimeout(timeout)
        s.connect((dst, dport))
        msg = b"ping %d %d\n" % (os.getpid(), next(_seq))
        s.sendall(msg)
        data = b""
        deadline = time.monotonic() + timeout
        while not data.endswith(b"\n") and time.monotonic() < deadline:
            chunk = s.recv(512)
            if not chunk:
                break
            data += chunk
        res = "ok" if data == b"echo " + msg else "garbled"
    except OSError as e:
        res = _outcome(e)
    finally:
        s.close()
    log.debug("tcp %s:%s -> %s:%s: %s", src, sport, dst, dport, res)
    return res


def tcp_connect(client_ns, src, sport, dst, dport, *, server_ns=None, timeout=1.0):
    """TCP from src:sport (0 = ephemeral) in client_ns to an echo server on dst:dport (started
    in server_ns, default: the namespace owning dst in client_ns's topology). True = connect + exchange both ways."""
    return tcp_outcome(client_ns, src, sport, dst, dport, server_ns=server_ns,
                       timeout=timeout) == "ok"


def udp_outcome(client_ns, src, sport, dst, dport, *, server_ns=None, timeout=1.0):
    """Like udp_exchange but says how it ended: "ok", "timeout", or an errno name
    ("ECONNREFUSED" = ICMP port unreachable came back, "EPERM" = own output chain dropped it)."""
    _srv(server_ns or owner_of(dst, client_ns)).udp_echo(dst, dport)
    s = socket_in(client_ns, _family(dst), socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src, sport))
        s.connect((dst, dport))  # connected: only dst:dport's datagrams, ICMP errors reported
        msg = b"dgram %d %d" % (os.getpid(), next(_seq))
        s.send(msg)
        deadline = time.monotonic() + timeout
        res = "timeout"
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            if s.recv(2048) == b"echo " + msg:
                res = "ok"
                break
    except OSError as e:
        res = _outcome(e)
    finally:
        s.close()
    log.debug("udp %s:%s -> %s:%s: %s", src, sport, dst, dport, res)
    return res


def udp_exchange(client_ns, src, sport, dst, dport, *, server_ns=None, timeout=1.0):
    """One datagram src:sport -> dst:dport, echoed by a server in the namespace owning dst.
    True = the echo came back (so the return path is open too)."""
    return udp_outcome(client_ns, src, sport, dst, dport, server_ns=server_ns,
                       timeout=timeout) == "ok"


def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def icmp_echo(src_ns, src, dst, *, timeout=1.0):
    """One ICMP/ICMPv6 echo request src -> dst from src_ns (like `ping -c1 -W1 -I src dst`,
    done with a raw socket since iputils is not a dependency). True = the matching reply came."""
    v6 = _family(dst) == socket.AF_INET6
    ident = (os.getpid() * 7 + next(_seq)) & 0xFFFF
    payload = b"pinhole-probe-%d" % ident
    if v6:
        s = socket_in(src_ns, socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        pkt = struct.pack("!BBHHH", 128, 0, 0, ident, 1) + payload  # kernel fills checksum
    else:
        s = socket_in(src_ns, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
        pkt = struct.pack("!BBHHH", 8, 0, _csum(hdr + payload), ident, 1) + payload
    try:
        s.bind((src, 0))
        s.sendto(pkt, (dst, 0))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            s.settimeout(left)
            data, peer = s.recvfrom(4096)
            if not v6:
                data = data[(data[0] & 0x0F) * 4:]
            if len(data) < 8 or _norm(peer[0]) != _norm(dst):
                continue
            t, _, _, i, q = struct.unpack("!BBHHH", data[:8])
            if t == (129 if v6 else 0) and i == ident and q == 1:
                return True
    except OSError as e:
        log.debug("icmp %s -> %s: %s", src, dst, e)
        return False
    finally:
        s.close()


def esp_outcome(client_ns, src, dst, *, server_ns=None, timeout=1.0):
    """One ESP packet (IP protocol 50: SPI, sequence number, payload) src -> dst, answered by
    one dst -> src from a raw socket in the namespace owning dst, as the peer's own SA would
    send it. No keys are involved: without an SA the kernel drops the packet after raw sockets
    got their copy. "ok" when the answer came back, "timeout", or an errno name."""
    fam = _family(dst)
    v6 = fam == socket.AF_INET6
    tag = b"pinhole-esp-%d-%d" % (os.getpid(), next(_seq))
    head = struct.pack("!II", 0x50480001, 1)  # SPI, sequence number
    srv = socket_in(server_ns or owner_of(dst, client_ns), fam, socket.SOCK_RAW, 50)
    cli = socket_in(client_ns, fam, socket.SOCK_RAW, 50)
    deadline = time.monotonic() + timeout

    def receive(s, want, frm):
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            s.settimeout(left)
            data, peer = s.recvfrom(4096)
            if not v6:
                data = data[(data[0] & 0x0F) * 4:]   # IPv4 raw sockets see the IP header
            if data[8:] == want and _norm(peer[0]) == _norm(frm):
                return True

    def answer():
        try:
            if receive(srv, tag, src):
                srv.sendto(head + b"echo " + tag, (src, 0))
        except OSError as e:
            log.debug("esp answer %s -> %s: %s", dst, src, e)

    t = threading.Thread(target=answer, daemon=True)
    try:
        srv.bind((dst, 0))
        cli.bind((src, 0))
        t.start()
        cli.sendto(head + tag, (dst, 0))
        res = "ok" if receive(cli, b"echo " + tag, dst) else "timeout"
    except OSError as e:
        res = _outcome(e)
    finally:
        if t.is_alive() or t.ident:
            t.join()
        cli.close()
        srv.close()
    log.debug("esp %s -> %s: %s", src, dst, res)
    return res


def ftp_transfer(client_ns, server_ns, server_addr, passive, *, timeout=3.0, client_addr=None):
    """RETR a file from an anonymous pyftpdlib server on server_addr:21 in server_ns with
    ftplib in client_ns (passive or active mode; active data connections come from port 20).
    True = the file arrived intact."""
    import ftplib
    content = _srv(server_ns).ftp_server(server_addr)

    def client():
        ftp = ftplib.FTP(timeout=timeout)
        try:
            ftp.connect(server_addr, 21, timeout=timeout,
                        source_address=(client_addr, 0) if client_addr else None)
            ftp.login()
            ftp.set_pasv(passive)
            buf = bytearray()
            ftp.retrbinary("RETR probe.bin", buf.extend)
            return bytes(buf)
        finally:
            try:
                ftp.close()
            except OSError:
                pass
    try:
        got = in_ns(client_ns, client)
    except (OSError, EOFError, ftplib.Error) as e:
        log.debug("ftp %s %s: %r", server_addr, "passive" if passive else "active", e)
        return False
    return got == content


_FLAG_WORDS = {"fin": "F", "syn": "S", "rst": "R", "psh": "P", "ack": "A", "urg": "U"}


def _flags(flags):
    if isinstance(flags, str) and " " not in flags and flags.lower() not in _FLAG_WORDS:
        return flags.upper()            # scapy letters, e.g. "S", "SA", "R"
    words = flags.split() if isinstance(flags, str) else list(flags)
    return "".join(_FLAG_WORDS[w.lower()] for w in words)


def hook_for(src_ns, dst):
    """(firewall namespace, hook) at which a packet from src_ns to dst meets the firewall."""
    t = topology_of(src_ns)
    if src_ns == t.firewall:
        return t.firewall, "output"
    if t.owner(dst) == t.firewall:
        return t.firewall, "input"
    return t.firewall, "forward"


def send_raw(src_ns, packets):
    """Send scapy IP/IPv6 packets as they are from raw sockets in src_ns (errors surface, unlike
    scapy's send()). Returns a list with None or the OSError for each packet."""
    socks = {}
    errs = []
    try:
        for p in packets:
            fam = socket.AF_INET6 if p.version == 6 else socket.AF_INET
            if fam not in socks:
                socks[fam] = socket_in(src_ns, fam, socket.SOCK_RAW, socket.IPPROTO_RAW)
            try:
                socks[fam].sendto(bytes(p), (p.dst, 0))
                errs.append(None)
            except OSError as e:
                errs.append(e)
    finally:
        for s in socks.values():
            s.close()
    return errs


def crafted_tcp(src_ns, src, sport, dst, dport, flags, *, wait=0.3):
    """Send one TCP segment with the given flags ("S", "SA", "R" or words "syn ack") from
    src_ns and report whether it reached the probe table at the firewall's hook (input,
    output or forward, derived from the topology). install_probe() must have run."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6
    l3 = IPv6(src=src, dst=dst) if _family(dst) == socket.AF_INET6 else IP(src=src, dst=dst)
    pkt = l3 / TCP(sport=sport, dport=dport, flags=_flags(flags), seq=1000 + next(_seq))
    err = send_raw(src_ns, [pkt])[0]
    fw, hook = hook_for(src_ns, dst)
    want = Seen(hook, "tcp", _norm(src), sport, _norm(dst), dport)
    deadline = time.monotonic() + wait
    while True:
        if want in read_probe(fw):
            return True
        if time.monotonic() >= deadline:
            log.debug("crafted %s not seen (send error: %s)", want, err)
            return False
        time.sleep(0.05)
