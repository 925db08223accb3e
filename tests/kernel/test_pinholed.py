#!/usr/bin/env python3
"""pinholed with the portmapper (UDP), both ends real namespaces, the client firewalled by
pinhole (`allow nfs client;`, helper mode): a GETPORT call from a reserved port and the
portmapper's reply (real ONC RPC bytes) make pinholed open mountd's port at that server, to
this client, for UDP only; the same port at another server, another port, and everything after
pinholed stops (it closes its pinholes on exit) stay closed. Hostile replies: a GETPORT reply
naming port 22 opens nothing; a flood of replies opens at most the per-connection cap.
`program`: nlockmgr's reply (100021) opens nlockmgr's set, never mountd's. statd: the
server's GETPORT for status (100024) to the client's own portmapper (statd-portmap, a control
flow from server to client) and the client's reply open the named port (not the static 32765)
to that server only; a reply for another program opens nothing. `pinhole apply`:
of the same policy, the pinhole is back with its remaining time and still passes; of a
renumbered policy (pinholed reads its policy again), new replies open the renumbered set; of a
policy without the flow, the pinhole is dropped (logged) and not re-added later.

PINHOLED=WRAPPER runs a wrapper in pinholed's place (a script that execs valgrind on
build/pinholed: no errors and no leaks, through every reload and hostile case).

Not covered here yet (see the branch report): rpcbind and a real mountd, IRC/RTSP/MSN, TCP
control connections (tests/kernel/test_pinholed_hostile.py: forged and late offers, caps).
"""
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import ktest  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PINHOLE = os.path.join(ROOT, "build", "pinhole")
PINHOLED = os.environ.get("PINHOLED", os.path.join(ROOT, "build", "pinholed"))  # a wrapper (valgrind) may stand in
PID = os.getpid()
FW, SRV, OTHER = f"phd-fw-{PID}", f"phd-srv-{PID}", f"phd-oth-{PID}"

SERVER = r'''
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 111)); s.settimeout(20)
ports = [int(p) for p in sys.argv[1:]]
for port in ports:
    data, a = s.recvfrom(2000)
    s.sendto(data[:4] + struct.pack(">IIIIII", 1, 0, 0, 0, 0, port), a)
'''


def sh(*args, check=True, **kw):
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=60, **kw)


def nsx(ns, *args, **kw):
    return sh("ip", "netns", "exec", ns, *args, **kw)


def getport(ns, server, sport, n=1, xid=0x1234, prog=100005):
    code = ("import socket,struct,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('0.0.0.0',%d));s.settimeout(2)\n"
            "for i in range(%d):\n"
            " m=struct.pack('>IIIIII',%d+i,0,2,100000,2,3)+bytes(16)+struct.pack('>IIII',%d,3,17,0)\n"
            " s.sendto(m,('%s',111))\n"
            " try: s.recvfrom(2000)\n"
            " except OSError: pass\n") % (sport, n, xid, prog, server)
    nsx(ns, sys.executable, "-c", code)


def elements(set_name="ph_nfs_mountd_v4"):
    out = nsx(FW, "nft", "list", "set", "inet", "pinhole", set_name).stdout
    return [l.strip() for l in out.split("elements = {", 1)[1].split("}")[0].split(",")] \
        if "elements = {" in out else []


def udp_passes(dst, dport, sport=800):
    """Does a UDP datagram from the client's port `sport` reach dst:dport (the firewall's output)?"""
    srv = subprocess.Popen(["ip", "netns", "exec", SRV if dst == "10.9.0.2" else OTHER, sys.executable, "-c",
                            "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
                            f"s.bind(('0.0.0.0',{dport}));s.settimeout(1.5);"
                            "\ntry: print('got' if s.recvfrom(100) else '')\nexcept OSError: pass"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    nsx(FW, sys.executable, "-c", "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
        f"s.bind(('0.0.0.0',{sport}));s.sendto(b'x',('{dst}',{dport}))", check=False)
    out, _ = srv.communicate(timeout=10)
    return "got" in out


def udp_in_passes(src_ns, dst, dport, sport=800):
    """Does a UDP datagram from src_ns reach the firewalled client (dst:dport, its input)?"""
    rcv = subprocess.Popen(["ip", "netns", "exec", FW, sys.executable, "-c",
                            "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
                            f"s.bind(('0.0.0.0',{dport}));s.settimeout(1.5);"
                            "\ntry: print('got' if s.recvfrom(100) else '')\nexcept OSError: pass"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    nsx(src_ns, sys.executable, "-c", "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
        f"s.bind(('0.0.0.0',{sport}));s.sendto(b'x',('{dst}',{dport}))", check=False)
    out, _ = rcv.communicate(timeout=10)
    return "got" in out


def setup():
    for ns in (FW, SRV, OTHER):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", FW, "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", SRV)
    sh("ip", "-n", FW, "link", "add", "w0", "type", "veth", "peer", "name", "w1", "netns", OTHER)
    for ns, dev, addr in ((FW, "v0", "10.9.0.1/24"), (SRV, "v1", "10.9.0.2/24"),
                          (FW, "w0", "10.9.1.1/24"), (OTHER, "w1", "10.9.1.2/24")):
        sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)


def teardown(*procs):
    """Kills what the test started (None entries skipped) and deletes setup()'s namespaces."""
    for p in procs:
        if p:
            p.kill()
            p.wait()
    for ns in (FW, SRV, OTHER):
        sh("ip", "netns", "del", ns, check=False)


def main():
    ktest.preflight_or_skip("pinholed")
    suite = ktest.Suite("pinholed")
    if not os.access(PINHOLED, os.X_OK):
        suite.check("build/pinholed exists", False, "run make")
        suite.finish()
    pol = f"/tmp/pinholed-test-{PID}.pin"
    with open(pol, "w") as f:
        f.write("allow nfs client;\n")
    pol_nfs4 = f"/tmp/pinholed-test-{PID}-nfs4.pin"
    with open(pol_nfs4, "w") as f:
        f.write("allow nfs4 client;\n")
    d = None
    try:
        setup()
        text = sh(PINHOLE, "compile", pol).stdout
        nsx(FW, "nft", "-f", "-", input=text)
        suite.check("mountd is closed before any GETPORT", not udp_passes("10.9.0.2", 20048))
        d = subprocess.Popen(["ip", "netns", "exec", FW, PINHOLED, "--policy", pol],
                             stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        srv = subprocess.Popen(["ip", "netns", "exec", SRV, sys.executable, "-c", SERVER,
                                "20048", "30001", "22"] + ["30000"] * 20 + ["30002"])
        time.sleep(0.3)
        getport(FW, "10.9.0.2", 700)
        time.sleep(0.3)
        els = elements()
        suite.check("GETPORT reply opens one pinhole: server . client . udp . 20048",
                    any(e.startswith("10.9.0.2 . 10.9.0.1 . udp . 20048") for e in els), repr(els))
        suite.check("mountd's port at that server passes", udp_passes("10.9.0.2", 20048))
        suite.check("another port at that server is dropped", not udp_passes("10.9.0.2", 20049))
        # `pinhole apply` replaces the table (its sets come back empty): pinholed re-adds it.
        r = sh(PINHOLE, "apply", "--netns", FW, "-q", pol, check=False)
        suite.check("pinhole apply of the same policy succeeds", r.returncode == 0, r.stderr)
        time.sleep(0.5)
        els = elements()
        suite.check("after apply the pinhole is back in its set",
                    any(e.startswith("10.9.0.2 . 10.9.0.1 . udp . 20048") for e in els), repr(els))
        suite.check("after apply the pinhole still passes", udp_passes("10.9.0.2", 20048))
        suite.check("after apply another port is still dropped", not udp_passes("10.9.0.2", 20049))
        suite.check("the same port at another server is dropped", not udp_passes("10.9.1.2", 20048))
        # nlockmgr's GETPORT reply (program 100021) opens nlockmgr's set, never mountd's.
        getport(FW, "10.9.0.2", 703, xid=0x1800, prog=100021)
        time.sleep(0.3)
        suite.check("a GETPORT reply for nlockmgr (100021) opens nlockmgr's set",
                    any(e.startswith("10.9.0.2 . 10.9.0.1 . udp . 30001")
                        for e in elements("ph_nfs_nlockmgr_v4")), repr(elements("ph_nfs_nlockmgr_v4")))
        suite.check("and does not open mountd's set", not any(". 30001" in e for e in elements()),
                    repr(elements()))
        # statd (NSM): after a reboot the server's sm-notify asks the CLIENT's portmapper for
        # program 100024 (statd-portmap, open to servers this client used: the GETPORT above)
        # and notifies the port it names. The client's own reply opens that port, to that
        # server only; 40001 is not statd's static 32765, so only pinholed can open it.
        suite.check("statd's port is closed before the server asked", not udp_in_passes(SRV, "10.9.0.1", 40001))
        pm = subprocess.Popen(["ip", "netns", "exec", FW, sys.executable, "-c", SERVER, "40001", "40002"])
        time.sleep(0.3)
        getport(SRV, "10.9.0.1", 800, xid=0x1900, prog=100024)
        time.sleep(0.3)
        els = elements("ph_nfs_statd_v4")
        suite.check("the client's GETPORT reply for status (100024) opens server . client . udp . 40001",
                    any(e.startswith("10.9.0.2 . 10.9.0.1 . udp . 40001") for e in els), repr(els))
        suite.check("the server's SM_NOTIFY to that port passes", udp_in_passes(SRV, "10.9.0.1", 40001))
        suite.check("a third peer's datagram to that port is dropped", not udp_in_passes(OTHER, "10.9.1.1", 40001))
        suite.check("the static port 32765 stays closed", not udp_in_passes(SRV, "10.9.0.1", 32765))
        # a reply for another program (mountd, 100005) opens nothing in statd's set, nor
        # mountd's (the client is not mountd's listener)
        getport(SRV, "10.9.0.1", 801, xid=0x1a00, prog=100005)
        time.sleep(0.3)
        suite.check("a client's reply for another program opens nothing in statd's set",
                    not any(". 40002" in e for e in elements("ph_nfs_statd_v4")), repr(elements("ph_nfs_statd_v4")))
        suite.check("nor in mountd's", not any(". 40002" in e for e in elements()), repr(elements()))
        suite.check("and that port stays closed", not udp_in_passes(SRV, "10.9.0.1", 40002))
        pm.wait(timeout=20)
        getport(FW, "10.9.0.2", 701, xid=0x2000)
        time.sleep(0.3)
        suite.check("a reply naming port 22 opens nothing",
                    not any(". 22 " in e + " " for e in elements()), repr(elements()))
        getport(FW, "10.9.0.2", 702, n=20, xid=0x3000)
        time.sleep(0.5)
        n30000 = sum(". 30000" in e for e in elements())
        suite.check("20 replies naming one port open one pinhole (refreshed, not repeated)",
                    n30000 == 1, f"{n30000} pinholes")
        # A new policy numbers the copy rules differently (another nfs statement first: ours
        # is ph2 now, its set ph_nfs_mountd_2_v4): pinholed reads its policy again on apply.
        with open(pol, "w") as f:
            f.write("allow nfs client to 10.9.5.0/24;\nallow nfs client;\n")
        r = sh(PINHOLE, "apply", "--netns", FW, "-q", pol, check=False)
        suite.check("pinhole apply of a renumbered policy succeeds", r.returncode == 0, r.stderr)
        time.sleep(0.5)
        getport(FW, "10.9.0.2", 704, xid=0x4000)
        time.sleep(0.3)
        els = elements("ph_nfs_mountd_2_v4")
        suite.check("after it, a GETPORT reply opens the renumbered statement's set",
                    any(e.startswith("10.9.0.2 . 10.9.0.1 . udp . 30002") for e in els), repr(els))
        suite.check("and that pinhole passes", udp_passes("10.9.0.2", 30002))
        srv.wait(timeout=20)
        # A policy without the flow: its set is gone, pinholed drops the pinholes (logged);
        # applying the nfs policy again brings back an empty set, not the dropped pinholes.
        r = sh(PINHOLE, "apply", "--netns", FW, "-q", pol_nfs4, check=False)
        suite.check("pinhole apply of a policy without mountd succeeds", r.returncode == 0, r.stderr)
        time.sleep(0.5)
        r = sh(PINHOLE, "apply", "--netns", FW, "-q", pol, check=False)
        time.sleep(0.5)
        suite.check("a pinhole whose set the new policy lacks is not re-added", elements() == [],
                    repr(elements()))
        suite.check("nor does it pass", not udp_passes("10.9.0.2", 20048))
        d.terminate()
        err = d.communicate(timeout=10)[1]
        suite.check("pinholed logs each opened and refused pinhole",
                    "opened ph_nfs_mountd_v4" in err and "refused" in err, err[-2000:])
        suite.check("pinholed logs statd's pinhole with its statement and flow",
                    "opened ph_nfs_statd_v4 10.9.0.2 . 10.9.0.1 . udp . 40001" in err and
                    "(nfs flow statd)" in err, err[-2000:])
        suite.check("pinholed logs the pinholes re-added and dropped on reload",
                    "dropped ph_nfs_mountd_v4 10.9.0.2 . 10.9.0.1 . udp . 20048" in err and
                    "re-added" in err and "read " + pol + " again" in err, err[-2000:])
        suite.check("on exit pinholed closes its pinholes", elements() == [], repr(elements()))
        suite.check("after exit mountd's port is closed again", not udp_passes("10.9.0.2", 20048))
        d = None
    except Exception as e:  # noqa: BLE001
        suite.error("pinholed", e)
    finally:
        teardown(d)
        os.unlink(pol)
        os.unlink(pol_nfs4)
    suite.finish()


if __name__ == "__main__":
    main()
