#!/usr/bin/env python3
"""`pinhole status` on pinholed, in the namespaces of test_pinholed.py: before pinholed starts
it says pinholed is not attached to NFLOG group 7100; while it runs, that it is (the group's
netlink port, process pinholed) and lists the pinhole a real GETPORT exchange opened, with the
time it has left and what opened it; an IPv6 element (added with nft) is listed in nft's
notation; after pinholed exits, not attached and no live pinholes. The table matches the
policy throughout (exit 0): pinholes are runtime state, not differences. A policy without
helper channels prints no pinholed lines.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import ktest  # noqa: E402
import test_pinholed as tp  # noqa: E402  (namespaces phd-*-PID, GETPORT client, set reader)


def status(pol):
    r = subprocess.run([tp.PINHOLE, "status", "--netns", tp.FW, pol], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def main():
    ktest.preflight_or_skip("pinholed-status")
    suite = ktest.Suite("pinholed-status")
    tmp = tempfile.mkdtemp(prefix=f"pinholed-status-{tp.PID}-")
    pol, plain = os.path.join(tmp, "nfs.pin"), os.path.join(tmp, "ssh.pin")
    with open(pol, "w") as f:
        f.write("allow nfs client;\n")
    with open(plain, "w") as f:
        f.write("allow ssh client;\n")
    d = None
    try:
        tp.setup()
        tp.nsx(tp.FW, "nft", "-f", "-", input=tp.sh(tp.PINHOLE, "compile", pol).stdout)
        rc, out = status(pol)
        suite.check("before pinholed: the table matches (exit 0)", rc == 0, out)
        suite.check("before pinholed: not attached to NFLOG group 7100",
                    "pinholed: not attached to NFLOG group 7100" in out, out)
        # 6 sets: mountd's, nlockmgr's and statd's, each v4 and v6
        suite.check("before pinholed: no live pinholes", "live pinholes: 0 in 6 sets" in out, out)
        d = subprocess.Popen(["ip", "netns", "exec", tp.FW, tp.PINHOLED, "--policy", pol],
                             stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        srv = subprocess.Popen(["ip", "netns", "exec", tp.SRV, sys.executable, "-c", tp.SERVER, "20048"])
        time.sleep(0.3)
        tp.getport(tp.FW, "10.9.0.2", 700)
        time.sleep(0.3)
        srv.wait(timeout=20)
        tp.nsx(tp.FW, "nft", "add", "element", "inet", "pinhole", "ph_nfs_nlockmgr_v6",
               "{ 2001:db8::2 . 2001:db8::1 . tcp . 40000 timeout 90s }")
        rc, out = status(pol)
        suite.check("with pinholed: the table still matches (exit 0)", rc == 0, out)
        m = re.search(r"pinholed: attached to NFLOG group 7100 \(netlink port (\d+), process pinholed\)", out)
        suite.check("with pinholed: attached, its port and process named", m is not None, out)
        nflog = tp.nsx(tp.FW, "cat", "/proc/net/netfilter/nfnetlink_log").stdout
        suite.check("the port is the one the kernel lists for group 7100",
                    m is not None and any(l.split()[:2] == ["7100", m.group(1)] for l in nflog.splitlines()), nflog)
        # (a GETPORT reply opens the port in every rpc set of the listening side: mountd's and
        # nlockmgr's; runtime/README.md) -- the count line counts the listed elements.
        listed = re.findall(r"^  ph_\S+ .* expires in ", out, re.M)
        suite.check("with pinholed: the count is the number of listed pinholes",
                    f"live pinholes: {len(listed)} in 6 sets" in out and len(listed) >= 2, out)
        m = re.search(r"^  ph_nfs_mountd_v4 10\.9\.0\.2 \. 10\.9\.0\.1 \. udp \. 20048 expires in (\S+) "
                      r"\(pinholed opened it from an? rpc message on nfs flow portmap or portmap-tcp\)$", out, re.M)
        suite.check("the GETPORT pinhole is listed with its time left and origin", m is not None, out)
        suite.check("its time left is under the set's 10m", m is not None and re.fullmatch(r"9m\d+s|10m", m.group(1)),
                    m and m.group(1))
        suite.check("an IPv6 pinhole is listed in nft's notation",
                    re.search(r"^  ph_nfs_nlockmgr_v6 2001:db8::2 \. 2001:db8::1 \. tcp \. 40000 expires in "
                              r"(1m30s|1m2\ds|1m[01]\ds|[0-9]+s) ", out, re.M) is not None, out)
        rc, out = status_quiet(pol)
        suite.check("-q prints nothing (exit 0)", rc == 0 and out == "", repr(out))
        d.terminate()
        d.wait(timeout=10)
        d = None
        rc, out = status(pol)
        suite.check("after pinholed exits: not attached again", "pinholed: not attached" in out, out)
        suite.check("after pinholed exits: its pinhole is gone, the one it did not open stays",
                    "live pinholes: 1 in 6 sets" in out and "ph_nfs_mountd_v4" not in out.split("live pinholes")[1], out)
        tp.nsx(tp.FW, "nft", "-f", "-", input=tp.sh(tp.PINHOLE, "compile", plain).stdout)
        rc, out = status(plain)
        suite.check("a policy without helper channels: no pinholed lines", rc == 0 and "pinholed:" not in out and "live pinholes" not in out, out)
    except Exception as e:  # noqa: BLE001
        suite.error("pinholed-status", e)
    finally:
        tp.teardown(d)
        for p in (pol, plain):
            os.unlink(p)
        os.rmdir(tmp)
    suite.finish()


def status_quiet(pol):
    r = subprocess.run([tp.PINHOLE, "status", "-q", "--netns", tp.FW, pol], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


if __name__ == "__main__":
    main()
