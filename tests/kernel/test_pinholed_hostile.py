#!/usr/bin/env python3
"""pinholed against hostile peers, end to end (the topology of test_pinholed.py: the client
firewalled with `allow nfs client;` in helper mode, a portmapper answering from a script that
sends exactly the replies each case needs). Each refusal is paired with an offer that does
open, so a case cannot pass because nothing works:

- an rpcbind GETADDR reply naming a third party's address opens nothing (the server's own
  address in the same reply form opens);
- a reply forged by another host, with the xid of a call that is waiting, opens nothing;
- ports outside the flow's range (22, 1, 512 below mountd's 513-1023, 70000) open nothing
  (600, in the range, opens);
- after the control connection's conntrack entry is destroyed its pinhole is closed and a
  late reply on the same ports opens nothing;
- a flood of replies naming distinct ports opens at most 16 pinholes per control connection
  and 64 towards one peer (pd_table.h; the global cap of 4096 needs 64 peers and is checked
  by tests/unit/test_pinholed.c).
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import ktest  # noqa: E402
import test_pinholed as base  # noqa: E402

FW, SRV, OTHER, PID = base.FW, base.SRV, base.OTHER, base.PID
TRIGGER = f"/tmp/phd-late-{PID}"

# One reply per request, in order: "p:PORT" (GETPORT), "u:UADDR" (GETADDR), "x" (no reply),
# "late:PORT:PORT2" (reply PORT, then when TRIGGER exists, the same xid again with PORT2).
SERVER = r'''
import os, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 111)); s.settimeout(30)
head = lambda xid: xid + struct.pack(">IIIII", 1, 0, 0, 0, 0)
def xdr(t): b = t.encode(); return struct.pack(">I", len(b)) + b + bytes(-len(b) % 4)
for act in sys.argv[2:]:
    data, a = s.recvfrom(2000)
    kind, _, arg = act.partition(":")
    if kind == "p":
        s.sendto(head(data[:4]) + struct.pack(">I", int(arg)), a)
    elif kind == "u":
        s.sendto(head(data[:4]) + xdr(arg), a)
    elif kind == "late":
        p1, p2 = arg.split(":")
        s.sendto(head(data[:4]) + struct.pack(">I", int(p1)), a)
        for _ in range(200):
            if os.path.exists(sys.argv[1]): break
            time.sleep(0.05)
        s.sendto(head(data[:4]) + struct.pack(">I", int(p2)), a)
'''

# Sends ONC RPC calls to the portmapper from a reserved port: GETPORT (v2) or GETADDR (v3).
CLIENT = r'''
import socket, struct, sys
sport, n, xid, server, vers, wait = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", sport)); s.settimeout(wait)
for i in range(n):
    call = struct.pack(">IIIIII", xid + i, 0, 2, 100000, vers, 3) + bytes(16)
    if vers == 2:
        call += struct.pack(">IIII", 100005, 3, 17, 0)
    else:
        call += struct.pack(">III", 100005, 3, 3) + b"udp\0" + bytes(8)
    s.sendto(call, (server, 111))
    try: s.recvfrom(2000)
    except OSError: pass
'''


def call(sport, n=1, xid=0x100, vers=2, wait=2.0):
    base.nsx(FW, sys.executable, "-c", CLIENT, str(sport), str(n), str(xid), "10.9.0.2", str(vers),
             str(wait))
    time.sleep(0.3)


def all_elements():
    return base.elements("ph_nfs_mountd_v4") + base.elements("ph_nfs_nlockmgr_v4")


def port_of(element):
    """'10.9.0.2 . 10.9.0.1 . udp . 600 expires 9m59s': 600."""
    return int(element.split()[6])


def has_port(port):
    return any(port_of(e) == port for e in all_elements())


def main():
    ktest.preflight_or_skip("pinholed-hostile")
    suite = ktest.Suite("pinholed-hostile")
    for tool, path in (("pinholed", base.PINHOLED), ("conntrack", "/usr/sbin/conntrack")):
        if not os.access(path, os.X_OK):
            suite.check(f"{tool} exists", False, "run make / tests/install-deps.sh")
            suite.finish()
    pol = f"/tmp/pinholed-hostile-{PID}.pin"
    with open(pol, "w") as f:
        f.write("allow nfs client;\n")
    d = srv = None
    flood1 = [f"p:{40000 + i}" for i in range(40)]
    flood2 = [f"p:{41000 + 100 * c + i}" for c in range(5) for i in range(16)]
    acts = (["u:10.9.1.2.78.81", "u:10.9.0.2.78.82", "x", "p:22", "p:1", "p:512", "p:70000",
             "p:600", "late:45000:45001"] + flood1 + flood2)
    try:
        base.setup()
        base.nsx(FW, "nft", "-f", "-", input=base.sh(base.PINHOLE, "compile", pol).stdout)
        d = subprocess.Popen(["ip", "netns", "exec", FW, base.PINHOLED, "--policy", pol],
                             stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        srv = subprocess.Popen(["ip", "netns", "exec", SRV, sys.executable, "-c", SERVER, TRIGGER]
                               + acts)
        time.sleep(0.3)

        call(700, xid=0x1000, vers=3)
        suite.check("a GETADDR reply naming a third party's address opens nothing",
                    not has_port(20049), repr(all_elements()))
        call(701, xid=0x1100, vers=3)
        suite.check("a GETADDR reply naming the server's own address opens (control)",
                    has_port(20050), repr(all_elements()))

        # The server keeps quiet ("x"); another host answers the waiting call, repeatedly.
        forger = subprocess.Popen(["ip", "netns", "exec", OTHER, sys.executable, "-c",
                                   "import socket,struct,time\n"
                                   "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('0.0.0.0',111))\n"
                                   "for i in range(15):\n"
                                   " s.sendto(struct.pack('>IIIIIII',0x1200,1,0,0,0,0,20051),('10.9.1.1',702))\n"
                                   " time.sleep(0.1)\n"])
        call(702, xid=0x1200, wait=1.8)
        forger.wait(timeout=10)
        suite.check("a reply forged by another host for a waiting call opens nothing",
                    not has_port(20051), repr(all_elements()))

        for i, port in enumerate((22, 1, 512, 70000)):
            call(703 + i, xid=0x1300 + 0x10 * i)
            suite.check(f"a reply naming port {port} (outside mountd's range) opens nothing",
                        not has_port(port), repr(all_elements()))
        call(707, xid=0x1400)
        suite.check("a reply naming port 600 (in mountd's 513-1023) opens (control)", has_port(600),
                    repr(all_elements()))

        # The control connection ends: its pinhole closes; a late reply opens nothing.
        late = subprocess.Popen(["ip", "netns", "exec", FW, sys.executable, "-c", CLIENT, "708", "1",
                                 str(0x1500), "10.9.0.2", "2", "6"])
        time.sleep(1)
        suite.check("the reply before the control connection ends opens", has_port(45000),
                    repr(all_elements()))
        r = base.nsx(FW, "conntrack", "-D", "-p", "udp", "--sport", "708", "--dport", "111",
                     check=False)
        suite.check("conntrack deletes the control connection", r.returncode == 0, r.stderr)
        time.sleep(0.5)
        suite.check("when its control connection ends, the pinhole is closed", not has_port(45000),
                    repr(all_elements()))
        open(TRIGGER, "w").close()
        time.sleep(0.5)
        late.wait(timeout=10)
        suite.check("a reply after the control connection ended opens nothing",
                    not has_port(45001), repr(all_elements()))

        before = len(all_elements())
        call(720, n=40, xid=0x2000)
        n1 = sum(40000 <= port_of(e) < 40040
                 for e in all_elements())
        suite.check("40 replies naming distinct ports on one connection open 16 (the per-connection cap)",
                    n1 == 16, f"{n1} of {len(all_elements())}, {before} before")
        for c in range(5):
            call(721 + c, n=16, xid=0x3000 + 0x100 * c)
        total = sum(e.startswith("10.9.0.2 . ") for e in all_elements())
        suite.check("80 more on 5 connections stop at 64 towards the peer (the per-peer cap)",
                    total == 64, f"{total} pinholes")
        srv.wait(timeout=30)
        srv = None
        d.terminate()
        err = d.communicate(timeout=10)[1]
        d = None
        for text in ("the address in the message is not the sender's",
                     "a port below 1024 the flow does not name",
                     "this control connection opened its most pinholes",
                     "this peer has its most pinholes open"):
            suite.check(f"pinholed logs the refusal: {text}", text in err, err[-1500:])
    except Exception as e:  # noqa: BLE001
        suite.error("pinholed-hostile", e)
    finally:
        base.teardown(d, srv)
        for f in (pol, TRIGGER):
            if os.path.exists(f):
                os.unlink(f)
    suite.finish()


if __name__ == "__main__":
    main()
