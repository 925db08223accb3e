#!/usr/bin/python3
"""pinholed's benchmark (issue 10): latency from a control message to its set element, the
rate of control messages it keeps up with, and its memory. Root; network namespaces
phd<pid>-fw and phd<pid>-srv only, deleted on exit. Goals: p99 <= 0.2 ms, RSS <= 4 MiB,
10,000 messages/s without loss.

  tests/perf/bench_pinholed.py [--peers N] [--rate R] [--seconds S]

The firewall namespace runs `allow nfs client;` in helper mode and pinholed; one process (this
one) holds a socket in each namespace (setns(2) before creating it), sends each GETPORT call
from the client and its reply from one of N server addresses, and reads nftables'
notifications in the firewall namespace.

- Latency: one message at a time, each opening a new pinhole (N peers x 64 pinholes: the
  per-peer cap, 16 per control connection). Measured from the reply's sendto(2) to the
  NEWSETELEM notification of its element, so it includes the veth hop and the kernel's
  notification on top of pinholed's own NFLOG-to-batch path: an upper bound.
- Rate: R call/reply pairs a second for S seconds, each reply refreshing a live pinhole (so
  no cap refuses it); every reply pinholed acts on is one `opened` line on its stderr, so
  lost = sent - lines. pinholed also says when the kernel dropped NFLOG messages.
- Memory: VmRSS and VmHWM of pinholed after the rate run (/proc/PID/status).
"""
import argparse
import ctypes
import os
import socket
import struct
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PINHOLE = os.path.join(ROOT, "build", "pinhole")
PINHOLED = os.path.join(ROOT, "build", "pinholed")
PID = os.getpid()
FW, SRV = f"phd{PID}-fw", f"phd{PID}-srv"
CLONE_NEWNET = 0x40000000
NFNLGRP_NFTABLES = 7
NFT_MSG_NEWSETELEM = 12
libc = ctypes.CDLL(None, use_errno=True)


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60, **kw)


def enter(ns):
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {ns}")
    finally:
        os.close(fd)


def setup(peers):
    for ns in (FW, SRV):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", FW, "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", SRV)
    sh("ip", "-n", FW, "link", "set", "v0", "up")
    sh("ip", "-n", SRV, "link", "set", "v1", "up")
    sh("ip", "-n", FW, "addr", "add", "10.9.0.1/16", "dev", "v0")
    for i in range(peers):
        sh("ip", "-n", SRV, "addr", "add", f"10.9.{1 + i // 200}.{1 + i % 200}/16", "dev", "v1")


def peer_addr(i):
    return f"10.9.{1 + i // 200}.{1 + i % 200}"


def call(xid):
    return struct.pack(">IIIIII", xid, 0, 2, 100000, 2, 3) + bytes(16) + struct.pack(">IIII", 100005, 3, 17, 0)


def reply(xid, port):
    return struct.pack(">IIIIIII", xid, 1, 0, 0, 0, 0, port)


def percentile(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", type=int, default=16)
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_pinholed: needs root")
    pol = f"/tmp/phd-bench-{PID}.pin"
    log = f"/tmp/phd-bench-{PID}.log"
    with open(pol, "w") as f:
        f.write("allow nfs client;\n")
    d = None
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        setup(a.peers)
        sh("ip", "netns", "exec", FW, "nft", "-f", "-", input=sh(PINHOLE, "compile", pol).stdout)
        errf = open(log, "w")
        d = subprocess.Popen(["ip", "netns", "exec", FW, PINHOLED, "--policy", pol], stderr=errf)
        time.sleep(1)
        enter(FW)
        mon = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
        mon.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        mon.bind((0, 0))
        mon.setsockopt(270, 1, NFNLGRP_NFTABLES)  # SOL_NETLINK, NETLINK_ADD_MEMBERSHIP
        conns = 4  # 4 control connections x 16 pinholes = the per-peer cap of 64
        # one client socket per client port serves every peer (the 4-tuple differs)
        cports = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(conns)]
        for k, s in enumerate(cports):
            s.bind(("10.9.0.1", 700 + k))
            s.setblocking(False)
        enter(SRV)
        servers = []
        for i in range(a.peers):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((peer_addr(i), 111))
            s.setblocking(False)
            servers.append(s)
        libc.setns(home, CLONE_NEWNET)

        def drain_servers():
            for s in servers:
                try:
                    while s.recv(2000):
                        pass
                except BlockingIOError:
                    pass

        # --- latency: one new pinhole at a time
        lat, missed, xid = [], 0, 1
        mon.settimeout(0.5)
        for i in range(a.peers):
            peer = socket.inet_aton(peer_addr(i))
            for k in range(conns):
                for j in range(16):
                    port = 20000 + k * 16 + j
                    cports[k].sendto(call(xid), (peer_addr(i), 111))
                    time.sleep(0.0005)  # the call reaches pinholed first
                    key = peer + socket.inet_aton("10.9.0.1") + b"\x11\0\0\0" + struct.pack(">H", port)
                    t0 = time.monotonic()
                    servers[i].sendto(reply(xid, port), ("10.9.0.1", 700 + k))
                    xid += 1
                    while True:
                        try:
                            m = mon.recv(65536)
                        except socket.timeout:
                            missed += 1
                            break
                        t1 = time.monotonic()
                        typ = struct.unpack_from("=H", m, 4)[0] & 0xff
                        if typ == NFT_MSG_NEWSETELEM and key in m:
                            lat.append((t1 - t0) * 1000)
                            break
            drain_servers()
        opened0 = open(log).read().count("pinholed: opened ")
        # --- rate: refreshes of live pinholes, paced in 1 ms slices
        total = int(a.rate * a.seconds)
        per_ms = max(1, a.rate // 1000)
        sent, t_start = 0, time.monotonic()
        mon.setblocking(False)
        while sent < total:
            slot = t_start + sent / a.rate
            now = time.monotonic()
            if now < slot:
                time.sleep(slot - now)
            for _ in range(min(per_ms, total - sent)):
                i, k, j = sent % a.peers, (sent // a.peers) % conns, (sent // (a.peers * conns)) % 16
                cports[k].sendto(call(xid), (peer_addr(i), 111))
                servers[i].sendto(reply(xid, 20000 + k * 16 + j), ("10.9.0.1", 700 + k))
                xid += 1
                sent += 1
            if sent % 2000 < per_ms:
                drain_servers()
                try:
                    while mon.recv(1 << 20):
                        pass
                except (BlockingIOError, OSError):
                    pass
        t_send = time.monotonic() - t_start
        time.sleep(1.5)
        text = open(log).read()
        handled = text.count("pinholed: opened ") - opened0
        status = open(f"/proc/{d.pid}/status").read()
        rss = {l.split(":")[0]: l.split(":")[1].strip() for l in status.splitlines()
               if l.startswith(("VmRSS", "VmHWM"))}
        print("pinholed benchmark")
        print(f"latency: {len(lat)} new pinholes, {missed} without a notification in 0.5 s; "
              f"p50 {percentile(lat, 50):.3f} ms, p99 {percentile(lat, 99):.3f} ms, "
              f"max {max(lat):.3f} ms (goal p99 <= 0.2 ms)")
        print(f"rate:    {sent} replies in {t_send:.2f} s ({sent / t_send:.0f}/s offered), "
              f"{handled} acted on, {sent - handled} lost (goal 10,000/s without loss)")
        print(f"         pinholed reported dropped NFLOG messages: "
              f"{'yes' if 'dropped messages' in text else 'no'}")
        print(f"memory:  VmRSS {rss.get('VmRSS')}, VmHWM {rss.get('VmHWM')} (goal <= 4 MiB)")
    finally:
        if d:
            d.terminate()
            try:
                d.wait(timeout=10)
            except subprocess.TimeoutExpired:
                d.kill()
        for ns in (FW, SRV):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for f in (pol, log):
            if os.path.exists(f):
                os.unlink(f)


if __name__ == "__main__":
    main()
