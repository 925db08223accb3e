#!/usr/bin/env python3
"""Relayed channels through pinholed (flow option `relayed`), end to end with a real IRC server.

Five namespaces on one bridge: the server (ngircd, firewalled `allow irc server;`), and three
clients each behind its own pinhole firewall (`allow irc client;`) with pinholed running:
alice offers a file, bob receives it, carol is a third party on the same server. The clients
are Python sockets speaking RFC 2812 (NICK, USER) and CTCP `DCC SEND` in a PRIVMSG, as irssi
writes it (a decimal IPv4 address, or a textual IPv6 one); the file then goes over a direct
TCP connection from bob to alice. Over IPv4 and IPv6:

- without pinholed the receiver's connection to the offered port is dropped (on IPv4 the
  kernel's irc helper still expects it on alice's side: the receiver's output drops it);
- with pinholed, bob's set holds alice . bob . tcp . PORT, alice's listen set alice . tcp .
  PORT, and the transfer passes; bob to another port of alice's, and carol (who got no offer)
  to the offered port, are dropped; after the channel's timeout (an app with `timeout 3s`)
  bob's connection is dropped, while the same offer used at once passes;
- hostile offers relayed to bob, naming 127.0.0.1, bob's own address, the server's, a
  multicast address, port 22, and a flood of 20 ports: no pinhole beyond the per-connection
  cap (16), none to a refused address or port.

MSN: no MSN Messenger software ships in Debian, so a scripted switchboard (MSNP `MSG`
relayed between two connections on port 1863, as a switchboard server does) carries an
MSNFTP invitation (hypothetic.org's format: Invitation-Command ACCEPT, IP-Address, Port,
AuthCookie) from alice to bob, then bob connects to port 6891 directly; the same checks.
"""
import ipaddress
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import ktest  # noqa: E402
import nsnet as N  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PINHOLE = os.path.join(ROOT, "build", "pinhole")
PINHOLED = os.environ.get("PINHOLED", os.path.join(ROOT, "build", "pinholed"))
PID = os.getpid()
HOSTS = ("srv", "a", "b", "c")
NS = {k: f"dcc-{k}-{PID}" for k in ("sw",) + HOSTS}
A4 = {"srv": "10.77.0.5", "a": "10.77.0.1", "b": "10.77.0.2", "c": "10.77.0.3"}
A6 = {"srv": "fd77::5", "a": "fd77::1", "b": "fd77::2", "c": "fd77::3"}
TMP = f"/tmp/dcc-relayed-{PID}"
SUITE = ktest.Suite("pinholed relayed")

NGIRCD_CONF = """[Global]
    Name = irc.pinhole.test
    Info = pinhole test server
    Listen = 10.77.0.5,fd77::5
    Ports = 6667
    MotdPhrase = pinhole test
    PidFile = {d}/ngircd.pid
    ServerUID = nobody
    ServerGID = nogroup
[Limits]
    MaxConnectionsIP = 0
    PingTimeout = 120
[Options]
    DNS = no
    Ident = no
    PAM = no
"""

# The library's irc and msn with a 3 s channel timeout, for the "after the timeout" checks.
SHORT = """app irc "IRC, DCC with a short timeout (test)" {
    flow control: client -> server tcp dport 6667;
    flow dcc: client -> client tcp dport 1024-65535 negotiated irc on control relayed timeout 3s;
}
app msn "MSN, file transfer with a short timeout (test)" {
    flow hub: client -> server tcp dport 1863;
    flow file: client -> client tcp dport 6891 negotiated msn on hub relayed timeout 3s;
}
"""


def sh(*args, check=True, **kw):
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=60, **kw)


def setup():
    for ns in NS.values():
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", NS["sw"], "link", "add", "br0", "type", "bridge")
    sh("ip", "-n", NS["sw"], "link", "set", "br0", "up")
    for h in HOSTS:
        sh("ip", "-n", NS[h], "link", "add", "eth0", "type", "veth", "peer", "name", f"p-{h}", "netns", NS["sw"])
        sh("ip", "-n", NS["sw"], "link", "set", f"p-{h}", "master", "br0", "up")
        sh("ip", "-n", NS[h], "addr", "add", A4[h] + "/24", "dev", "eth0")
        sh("ip", "-n", NS[h], "addr", "add", A6[h] + "/64", "dev", "eth0", "nodad")
        sh("ip", "-n", NS[h], "link", "set", "eth0", "up")


def teardown():
    for ns in NS.values():
        sh("ip", "netns", "del", ns, check=False)


def apply(host, text):
    path = os.path.join(TMP, f"{host}.pin")
    with open(path, "w") as f:
        f.write(text)
    r = sh(PINHOLE, "apply", "--netns", NS[host], "-q", path, check=False)
    if r.returncode:
        raise RuntimeError(f"pinhole apply {host}: {r.stderr}")
    return path


def apply_file(host, path):
    r = sh(PINHOLE, "apply", "--netns", NS[host], "-q", path, check=False)
    if r.returncode:
        raise RuntimeError(f"pinhole apply {host} {path}: {r.stderr}")
    return path


class Daemons:
    """pinholed on each client host; stderr kept in a file per host."""

    def __init__(self):
        self.p = {}

    def start(self, host, policy):
        log = open(os.path.join(TMP, f"pinholed-{host}.log"), "a")
        self.p[host] = subprocess.Popen(["ip", "netns", "exec", NS[host], PINHOLED, "--policy", policy],
                                        stderr=log, stdout=log)

    def stop(self):
        for p in self.p.values():
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.p = {}

    def log(self, host):
        with open(os.path.join(TMP, f"pinholed-{host}.log")) as f:
            return f.read()


def elements(host, set_name):
    out = sh("ip", "netns", "exec", NS[host], "nft", "list", "set", "inet", "pinhole", set_name,
             check=False).stdout
    return [e.strip().split(" expires")[0] for e in out.split("elements = {", 1)[1].split("}")[0].split(",")] \
        if "elements = {" in out else []


def fam_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


class Irc:
    """An IRC client (RFC 2812 registration) in a namespace; every read bounded."""

    def __init__(self, host, server, nick):
        self.s = N.socket_in(NS[host], fam_of(server), socket.SOCK_STREAM)
        self.s.settimeout(2.0)
        self.buf, self.nick = b"", nick
        self.s.connect((server, 6667))
        self.send(f"NICK {nick}", f"USER {nick} 0 * :pinhole test {nick}")
        if not self.wait_for(f" 001 {nick} "):
            raise RuntimeError(f"{nick}: no welcome from the server")

    def send(self, *lines):
        self.s.sendall("".join(l + "\r\n" for l in lines).encode())

    def wait_for(self, word, timeout=6.0):
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
                continue
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


def dcc_addr(addr):
    """The address as a DCC offer writes it: IPv4 as a decimal number, IPv6 as text."""
    ip = ipaddress.ip_address(addr)
    return str(int(ip)) if ip.version == 4 else addr


def offered(line):
    """(address, port) from a relayed `DCC SEND file addr port size` line, as a client reads it."""
    words = line.split("\x01")[1].split()
    addr, port = words[3], int(words[4])
    return (str(ipaddress.IPv4Address(int(addr))) if addr.isdigit() else addr), port


class Listener:
    """alice's side of a transfer: listens on (addr, port) in her namespace, sends `data` to the
    first connection within `wait` seconds."""

    def __init__(self, host, addr, port, data=b"", wait=3.0):
        self.s = N.socket_in(NS[host], fam_of(addr), socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind((addr, port))
        self.s.listen(4)
        self.s.settimeout(wait)
        self.data = data
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        try:
            c, _ = self.s.accept()
            with c:
                c.sendall(self.data)
        except OSError:
            pass

    def close(self):
        self.t.join(timeout=5)
        self.s.close()


def fetch(host, addr, port, data=b"", wait=1.5):
    """Does a connection from `host` to addr:port reach a listener that sends `data`?
    Listens in alice's namespace (the offerer's) unless nobody listens (then just connects)."""
    c = N.socket_in(NS[host], fam_of(addr), socket.SOCK_STREAM)
    c.settimeout(wait)
    try:
        c.connect((addr, port))
        got = b""
        while len(got) < len(data):
            chunk = c.recv(4096)
            if not chunk:
                break
            got += chunk
        return got == data
    except OSError:
        return False
    finally:
        c.close()


def transfer(host, addr, port, data):
    lst = Listener("a", addr, port, data)
    try:
        return fetch(host, addr, port, data)
    finally:
        lst.close()


def irc_round(fam, d, pols, short_pols):
    """All IRC checks for one family (pinholed not yet running when called)."""
    A, B, C, S = (A4 if fam == "IPv4" else A6)["a"], (A4 if fam == "IPv4" else A6)["b"], \
        (A4 if fam == "IPv4" else A6)["c"], (A4 if fam == "IPv4" else A6)["srv"]
    v = "v4" if fam == "IPv4" else "v6"
    data = b"a file sent by DCC through pinhole\n" * 20
    port = 40100 if fam == "IPv4" else 40200

    def session():
        return Irc("a", S, f"alice{v}"), Irc("b", S, f"bob{v}"), Irc("c", S, f"carol{v}")

    def offer(alice, bob, p, addr=None):
        alice.send(f"PRIVMSG bob{v} :\x01DCC SEND notes.txt {dcc_addr(addr or A)} {p} {len(data)}\x01")
        return bob.wait_for("DCC SEND")

    # 1. without pinholed
    al, bo, ca = session()
    try:
        line = offer(al, bo, port)
        SUITE.check(f"{fam}: ngircd relays alice's DCC SEND to bob", bool(line), repr(line))
        SUITE.check(f"{fam}: without pinholed bob's connection to the offered port is dropped",
                    not transfer("b", A, port, data))
    finally:
        for x in (al, bo, ca):
            x.close()
    # 2. with pinholed on every client
    for h in ("a", "b", "c"):
        d.start(h, apply_file(h, pols[h]))
    time.sleep(1)
    al, bo, ca = session()
    try:
        line = offer(al, bo, port)
        addr, p = offered(line) if line else (None, None)
        SUITE.check(f"{fam}: bob reads alice's address and port off the relayed offer", (addr, p) == (A, port),
                    repr(line))
        time.sleep(0.3)
        els = elements("b", f"ph_irc_dcc_{v}")
        SUITE.check(f"{fam}: bob's pinholed opens alice . bob . tcp . {port} (outbound)",
                    f"{A} . {B} . tcp . {port}" in els, repr(els))
        els = elements("a", f"ph_irc_dcc_listen_{v}")
        SUITE.check(f"{fam}: alice's pinholed opens alice . tcp . {port} (any peer)",
                    f"{A} . tcp . {port}" in els, repr(els))
        st = sh("ip", "netns", "exec", NS["a"], PINHOLE, "status", pols["a"], check=False).stdout
        SUITE.check(f"{fam}: pinhole status on alice lists the peerless pinhole",
                    f"ph_irc_dcc_listen_{v} {A} . tcp . {port}, any peer expires in" in st, st[-600:])
        st = sh("ip", "netns", "exec", NS["b"], PINHOLE, "status", pols["b"], check=False).stdout
        SUITE.check(f"{fam}: pinhole status on bob lists the outbound pinhole",
                    f"ph_irc_dcc_{v} {A} . {B} . tcp . {port} expires in" in st, st[-600:])
        SUITE.check(f"{fam}: the DCC transfer from alice to bob passes", transfer("b", A, port, data))
        offer(al, bo, port + 2)
        time.sleep(0.3)
        SUITE.check(f"{fam}: bob to another port of alice's is dropped", not transfer("b", A, port + 3, data))
        SUITE.check(f"{fam}: carol (no offer) to the offered port is dropped", not transfer("c", A, port + 2, data))
        SUITE.check(f"{fam}: and bob to it passes", transfer("b", A, port + 2, data))
    finally:
        for x in (al, bo, ca):
            x.close()
    # 3. hostile offers relayed to bob (a fresh connection: its own caps)
    al, bo, ca = session()
    try:
        bad = ["127.0.0.1" if v == "v4" else "::1", B, S, "224.0.0.1" if v == "v4" else "ff02::1"]
        for b_addr in bad:
            offer(al, bo, 41000, b_addr)
        offer(al, bo, 22)
        for i in range(20):
            al.send(f"PRIVMSG bob{v} :\x01DCC SEND f{i} {dcc_addr(A)} {42000 + i} 1\x01")
        got = 0
        while bo.wait_for("DCC SEND f", timeout=12) is not None:
            got += 1
            if got == 20:
                break
        time.sleep(0.5)
        els = elements("b", f"ph_irc_dcc_{v}")
        SUITE.check(f"{fam}: bob got the 20 flood offers through ngircd", got == 20, f"{got}")
        SUITE.check(f"{fam}: relayed offers naming loopback, bob, the server or multicast open nothing",
                    not any(e.startswith(x + " ") for e in els for x in bad), repr(els))
        SUITE.check(f"{fam}: a relayed offer of port 22 opens nothing", not any(e.endswith(" . 22") for e in els),
                    repr(els))
        flood = sum(" . tcp . 42" in e for e in els)
        SUITE.check(f"{fam}: a flood of 20 offers on one connection opens 16 (the per-connection cap)",
                    flood == 16, f"{flood}: {els!r}")
    finally:
        for x in (al, bo, ca):
            x.close()
    d.stop()
    # 4. after the timeout (the same app with timeout 3s)
    for h in ("a", "b"):
        d.start(h, apply_file(h, short_pols[h]))
    time.sleep(1)
    al, bo, ca = session()
    try:
        offer(al, bo, port + 4)
        time.sleep(0.3)
        SUITE.check(f"{fam}: with timeout 3s, the offer used at once passes", transfer("b", A, port + 4, data))
        offer(al, bo, port + 5)
        time.sleep(4)
        SUITE.check(f"{fam}: after the 3 s timeout bob's connection is dropped", not transfer("b", A, port + 5, data))
        SUITE.check(f"{fam}: and the pinhole is gone from bob's set",
                    not any(e.endswith(f". {port + 5}") for e in elements("b", f"ph_irc_dcc_{v}")))
    finally:
        for x in (al, bo, ca):
            x.close()
    d.stop()


# --------------------------------------------------------------------------- MSN

SWITCHBOARD = r'''
import socket, sys, threading
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 1863)); s.listen(4); s.settimeout(30)
conns = []
def relay(src, dst, who):
    buf = b""
    while True:
        try: chunk = src.recv(4096)
        except OSError: return
        if not chunk: return
        buf += chunk
        while b"\r\n" in buf:
            line, rest = buf.split(b"\r\n", 1)
            w = line.split()
            if w[:1] == [b"MSG"] and len(rest) >= int(w[-1]):
                n = int(w[-1]); body, buf = rest[:n], rest[n:]
                src.sendall(b"ACK " + w[1] + b"\r\n")
                dst.sendall(b"MSG " + who + b" " + who + b" " + str(n).encode() + b"\r\n" + body)
            elif w[:1] == [b"MSG"]:
                break
            else:
                buf = rest
for _ in range(2):
    c, _ = s.accept(); conns.append(c)
t = threading.Thread(target=relay, args=(conns[0], conns[1], b"alice@pinhole.test"), daemon=True); t.start()
relay(conns[1], conns[0], b"bob@pinhole.test")
'''


def msn_invitation(addr, port):
    body = ("MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\n"
            "Invitation-Command: ACCEPT\r\nInvitation-Cookie: 33267\r\n"
            f"IP-Address: {addr}\r\nPort: {port}\r\nAuthCookie: 93301\r\n"
            "Launch-Application: FALSE\r\nRequest-Data: IP-Address:\r\n\r\n").encode()
    return b"MSG 5 N " + str(len(body)).encode() + b"\r\n" + body


def msn_session(A, S, expect_port, addr=None):
    """A scripted switchboard on S, alice and bob connected to it, alice's invitation naming
    addr (default her own A) and expect_port relayed to bob: (switchboard, alice's socket,
    bob's, whether bob got the invitation)."""
    sb = subprocess.Popen(["ip", "netns", "exec", NS["srv"], sys.executable, "-c", SWITCHBOARD, S])
    time.sleep(0.5)
    a = N.socket_in(NS["a"], fam_of(S), socket.SOCK_STREAM)
    b = N.socket_in(NS["b"], fam_of(S), socket.SOCK_STREAM)
    for x in (a, b):
        x.settimeout(3)
    a.connect((S, 1863))
    time.sleep(0.2)
    b.connect((S, 1863))
    time.sleep(0.2)
    a.sendall(msn_invitation(addr or A, expect_port))
    got = b""
    try:
        while b"AuthCookie" not in got:
            chunk = b.recv(4096)
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    return sb, a, b, b"IP-Address: " + (addr or A).encode() in got


def msn_end(sb, a, b):
    a.close()
    b.close()
    sb.kill()
    sb.wait()


def msn_round(fam, d, pols, short_pols):
    A, B, S = (A4 if fam == "IPv4" else A6)["a"], (A4 if fam == "IPv4" else A6)["b"], \
        (A4 if fam == "IPv4" else A6)["srv"]
    v = "v4" if fam == "IPv4" else "v6"
    data = b"an MSNFTP file\n" * 30

    def session(expect_port, addr=None):
        return msn_session(A, S, expect_port, addr)

    end = msn_end

    sb, a, b, ok = session(6891)
    try:
        SUITE.check(f"MSN {fam}: the switchboard relays alice's invitation to bob", ok)
        SUITE.check(f"MSN {fam}: without pinholed bob's connection to 6891 is dropped",
                    not transfer("b", A, 6891, data))
    finally:
        end(sb, a, b)
    for h in ("a", "b", "c"):
        d.start(h, apply_file(h, pols[h]))
    time.sleep(1)
    sb, a, b, ok = session(6891)
    try:
        time.sleep(0.3)
        els = elements("b", f"ph_msn_file_{v}")
        SUITE.check(f"MSN {fam}: bob's pinholed opens alice . bob . tcp . 6891", f"{A} . {B} . tcp . 6891" in els,
                    repr(els))
        SUITE.check(f"MSN {fam}: alice's pinholed opens alice . tcp . 6891",
                    f"{A} . tcp . 6891" in elements("a", f"ph_msn_file_listen_{v}"))
        SUITE.check(f"MSN {fam}: the direct file transfer passes", transfer("b", A, 6891, data))
        SUITE.check(f"MSN {fam}: bob to another port of alice's is dropped", not transfer("b", A, 6892, data))
        SUITE.check(f"MSN {fam}: carol to the invited port is dropped", not transfer("c", A, 6891, data))
    finally:
        end(sb, a, b)
    # hostile: an invitation for a port outside the flow's (6892) and one naming loopback
    sb, a, b, ok = session(6892)
    try:
        time.sleep(0.3)
        SUITE.check(f"MSN {fam}: an invitation for port 6892 (not the flow's 6891) opens nothing",
                    not any(e.endswith(". 6892") for e in elements("b", f"ph_msn_file_{v}")))
    finally:
        end(sb, a, b)
    lo = "127.0.0.1" if v == "v4" else "::1"
    sb, a, b, ok = session(6891, lo)
    try:
        time.sleep(0.3)
        SUITE.check(f"MSN {fam}: an invitation naming {lo} opens nothing",
                    ok and not any(e.startswith(lo + " ") for e in elements("b", f"ph_msn_file_{v}")))
    finally:
        end(sb, a, b)
    d.stop()
    for h in ("a", "b"):
        d.start(h, apply_file(h, short_pols[h]))
    time.sleep(1)
    sb, a, b, ok = session(6891)
    try:
        time.sleep(4)
        SUITE.check(f"MSN {fam}: after the 3 s timeout bob's connection is dropped",
                    not transfer("b", A, 6891, data))
    finally:
        end(sb, a, b)
    d.stop()


# --------------------------------------------------------------------------- reload

def reload_round(fam, d, pols):
    """`pinhole apply` while relayed pinholes live: an IRC DCC and an MSNFTP pinhole on both
    ends (bob's outbound, alice's peerless listen), their control connections still open.
    The same policy again: both come back and the DCC transfer passes. A policy without msn
    (written to the file pinholed reads, as an operator edits it): the DCC pinholes come back,
    the MSN ones are gone with their sets, and the MSN transfer is dropped."""
    A, B, S = (A4 if fam == "IPv4" else A6)["a"], (A4 if fam == "IPv4" else A6)["b"], \
        (A4 if fam == "IPv4" else A6)["srv"]
    v = "v4" if fam == "IPv4" else "v6"
    data = b"a file across a reload\n" * 20
    port = 40300 if v == "v4" else 40400
    full = {h: open(pols[h]).read() for h in ("a", "b")}
    for h in ("a", "b"):
        d.start(h, apply_file(h, pols[h]))
    time.sleep(1)
    al, bo = Irc("a", S, f"ralice{v}"), Irc("b", S, f"rbob{v}")
    sb = ma = mb = None
    try:
        al.send(f"PRIVMSG rbob{v} :\x01DCC SEND r.txt {dcc_addr(A)} {port} {len(data)}\x01")
        bo.wait_for("DCC SEND")
        sb, ma, mb, ok = msn_session(A, S, 6891)
        time.sleep(0.3)
        dcc, dcc_l = f"{A} . {B} . tcp . {port}", f"{A} . tcp . {port}"
        msn, msn_l = f"{A} . {B} . tcp . 6891", f"{A} . tcp . 6891"

        def has(host, set_name, key):  # a re-added element lists its own timeout after the key
            return any(e == key or e.startswith(key + " ") for e in elements(host, set_name))

        def live():
            return (has("b", f"ph_irc_dcc_{v}", dcc), has("a", f"ph_irc_dcc_listen_{v}", dcc_l),
                    has("b", f"ph_msn_file_{v}", msn), has("a", f"ph_msn_file_listen_{v}", msn_l))
        SUITE.expect(f"reload {fam}: before: the DCC and MSNFTP pinholes on bob and alice", live(),
                     (True, True, True, True))
        for h in ("a", "b"):
            apply_file(h, pols[h])
        time.sleep(0.5)
        SUITE.expect(f"reload {fam}: after `pinhole apply` of the same policy all four are back", live(),
                     (True, True, True, True))
        SUITE.check(f"reload {fam}: and the DCC transfer passes", transfer("b", A, port, data))
        SUITE.check(f"reload {fam}: and the MSN transfer passes", transfer("b", A, 6891, data))
        for h in ("a", "b"):
            with open(pols[h], "w") as f:
                f.write("allow irc client;\n")
            apply_file(h, pols[h])
        time.sleep(0.5)
        SUITE.expect(f"reload {fam}: after `pinhole apply` of a policy without msn the DCC pinholes are back, "
                     "the MSN ones gone", live(), (True, True, False, False))
        SUITE.check(f"reload {fam}: the DCC transfer still passes", transfer("b", A, port, data))
        SUITE.check(f"reload {fam}: the MSN transfer is dropped", not transfer("b", A, 6891, data))
        SUITE.check(f"reload {fam}: carol (no offer) to the DCC port is still dropped",
                    not transfer("c", A, port, data))
        for h, log in (("b", f"dropped ph_msn_file_{v} {msn}"), ("a", f"dropped ph_msn_file_listen_{v} {msn_l}")):
            SUITE.check(f"reload {fam}: {h}'s pinholed logs the MSN pinhole dropped on reload", log in d.log(h),
                        d.log(h)[-1500:])
    finally:
        for h in ("a", "b"):
            with open(pols[h], "w") as f:
                f.write(full[h])
        al.close()
        bo.close()
        if sb:
            msn_end(sb, ma, mb)
        d.stop()


def main():
    ktest.preflight_or_skip("pinholed relayed")
    for tool in ("ngircd",):
        if not any(os.access(os.path.join(p, tool), os.X_OK) for p in os.environ.get("PATH", "").split(":") + ["/usr/sbin"]):
            print(f"SKIP pinholed relayed: {tool} is not installed (tests/install-deps.sh)")
            sys.exit(ktest.SKIP)
    os.makedirs(TMP, exist_ok=True)
    os.chmod(TMP, 0o777)  # ngircd writes its pid file as nobody
    d = Daemons()
    ircd = None
    try:
        setup()
        apply("srv", "allow irc server;\nallow msn server;\n")
        pols = {h: apply(h, "allow irc client;\nallow msn client;\n") for h in ("a", "b", "c")}
        short = {h: os.path.join(TMP, f"{h}-short.pin") for h in ("a", "b")}
        for h, path in short.items():
            with open(path, "w") as f:
                f.write(SHORT + "allow irc client;\nallow msn client;\n")
        conf = os.path.join(TMP, "ngircd.conf")
        with open(conf, "w") as f:
            f.write(NGIRCD_CONF.format(d=TMP))
        ircd = subprocess.Popen(["ip", "netns", "exec", NS["srv"], "ngircd", "-n", "-f", conf],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        for fam in ("IPv4", "IPv6"):
            # each round starts from the library policy (the short one is applied with its daemons)
            for h in ("a", "b"):
                apply_file(h, pols[h])
            irc_round(fam, d, pols, short)
            for h in ("a", "b"):
                apply_file(h, pols[h])
            msn_round(fam, d, pols, short)
            for h in ("a", "b"):
                apply_file(h, pols[h])
            reload_round(fam, d, pols)
        log = d.log("b")
        SUITE.check("bob's pinholed logs each relayed pinhole opened and refused, with the statement",
                    "opened ph_irc_dcc_v4" in log and "refused ph_irc_dcc_v4" in log and
                    "(irc flow dcc)" in log, log[-1500:])
        SUITE.check("alice's pinholed logs the peerless pinhole as 'any peer'",
                    "any peer" in d.log("a"), d.log("a")[-800:])
    except Exception as e:  # noqa: BLE001
        SUITE.error("pinholed relayed", e)
    finally:
        d.stop()
        if ircd:
            ircd.kill()
            ircd.wait()
        teardown()
    SUITE.finish()


if __name__ == "__main__":
    main()
