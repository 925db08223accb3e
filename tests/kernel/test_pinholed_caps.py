#!/usr/bin/env python3
"""pinholed with exactly the privileges pinholed.service gives it: the capability lines of
dist/pinholed.service.in (CapabilityBoundingSet=, AmbientCapabilities=) turned into a setpriv
command line, as an unprivileged user (nobody) with no_new_privs, like DynamicUser=yes. It must
still bind NFLOG group 7100 and open a pinhole for a real GETPORT exchange (the namespaces and
helpers of test_pinholed.py); the process must hold that capability and nothing else.
Controls: the same user without CAP_NET_ADMIN cannot start (exit 1), so the test would notice a
unit that grants too little; a second pinholed cannot take the group the first holds (exit 1).
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

UNIT = os.path.join(tp.ROOT, "dist", "pinholed.service.in")


def unit_caps():
    """The capability names (net_admin, ...) of the unit's bounding and ambient sets."""
    text = open(UNIT).read()
    caps = {}
    for key in ("CapabilityBoundingSet", "AmbientCapabilities"):
        m = re.search(rf"^{key}=(.*)$", text, re.M)
        caps[key] = [c.lower().removeprefix("cap_") for c in m.group(1).split()] if m else []
    return caps


def setpriv(bounding, ambient):
    """setpriv as user nobody with these capability sets (lists of names), no_new_privs."""
    def spec(names):
        return ",".join(["-all"] + [f"+{n}" for n in names])
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--no-new-privs",
            f"--bounding-set={spec(bounding)}", f"--inh-caps={spec(ambient)}",
            f"--ambient-caps={spec(ambient)}"]


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def cap_mask(names):
    bits = {"net_admin": 12}
    m = 0
    for n in names:
        m |= 1 << bits[n]
    return m


def main():
    ktest.preflight_or_skip("pinholed-caps")
    suite = ktest.Suite("pinholed-caps")
    if subprocess.run(["which", "setpriv"], capture_output=True).returncode:
        suite.skip("pinholed under the unit's capabilities", "no setpriv (util-linux)")
        suite.finish()
    caps = unit_caps()
    suite.check("the unit grants CAP_NET_ADMIN only (bounding and ambient sets)",
                caps == {"CapabilityBoundingSet": ["net_admin"], "AmbientCapabilities": ["net_admin"]},
                repr(caps))
    # nobody must read the policy: a directory of its own, world-readable.
    tmp = tempfile.mkdtemp(prefix=f"pinholed-caps-{tp.PID}-")
    os.chmod(tmp, 0o755)
    pol = os.path.join(tmp, "policy.pin")
    with open(pol, "w") as f:
        f.write("allow nfs client;\n")
    os.chmod(pol, 0o644)
    d = None
    try:
        tp.setup()
        tp.nsx(tp.FW, "nft", "-f", "-", input=tp.sh(tp.PINHOLE, "compile", pol).stdout)
        # Control: without CAP_NET_ADMIN the same user cannot bind the group.
        r = subprocess.run(["ip", "netns", "exec", tp.FW] + setpriv([], []) + [tp.PINHOLED, "--policy", pol],
                           capture_output=True, text=True, timeout=30)
        suite.check("without CAP_NET_ADMIN pinholed cannot start (exit 1)",
                    r.returncode == 1 and "CAP_NET_ADMIN" in r.stderr, f"exit {r.returncode}: {r.stderr[-500:]}")
        cmd = ["ip", "netns", "exec", tp.FW] + setpriv(caps["CapabilityBoundingSet"], caps["AmbientCapabilities"])
        d = subprocess.Popen(cmd + [tp.PINHOLED, "--policy", pol], stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        suite.check("pinholed runs under the unit's capabilities", d.poll() is None,
                    d.poll() is None or d.communicate()[1][-1000:])
        st = proc_status(d.pid)  # ip netns exec and setpriv exec: this pid is pinholed's
        want = cap_mask(caps["CapabilityBoundingSet"])
        suite.check("it runs as nobody", st["Uid"].split()[0] == "65534", st["Uid"])
        suite.check("its effective, permitted and bounding sets are CAP_NET_ADMIN only",
                    all(int(st[k], 16) == want for k in ("CapEff", "CapPrm", "CapBnd")),
                    {k: st[k] for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb")})
        suite.check("no_new_privs is set", st.get("NoNewPrivs") == "1", st.get("NoNewPrivs"))
        nflog = tp.nsx(tp.FW, "cat", "/proc/net/netfilter/nfnetlink_log").stdout
        suite.check("NFLOG group 7100 is bound", any(l.split()[:1] == ["7100"] for l in nflog.splitlines()), nflog)
        r = subprocess.run(["ip", "netns", "exec", tp.FW, tp.PINHOLED, "--policy", pol],
                           capture_output=True, text=True, timeout=30)
        suite.check("a second pinholed cannot take group 7100 (exit 1)",
                    r.returncode == 1 and "another process holds it" in r.stderr, f"exit {r.returncode}: {r.stderr[-500:]}")
        srv = subprocess.Popen(["ip", "netns", "exec", tp.SRV, sys.executable, "-c", tp.SERVER, "20048"])
        time.sleep(0.3)
        tp.getport(tp.FW, "10.9.0.2", 700)
        time.sleep(0.3)
        els = tp.elements()
        suite.check("a GETPORT reply opens the pinhole server . client . udp . 20048",
                    any(e.startswith("10.9.0.2 . 10.9.0.1 . udp . 20048") for e in els), repr(els))
        suite.check("mountd's port at that server passes", tp.udp_passes("10.9.0.2", 20048))
        suite.check("another port at that server is dropped", not tp.udp_passes("10.9.0.2", 20049))
        srv.wait(timeout=20)
        d.terminate()
        rc = d.wait(timeout=10)
        err = d.stderr.read()
        suite.check("SIGTERM: exit 0", rc == 0, f"exit {rc}: {err[-1000:]}")
        suite.check("on exit it deletes its pinholes (CAP_NET_ADMIN suffices for that too)",
                    tp.elements() == [], repr(tp.elements()))
        d = None
    except Exception as e:  # noqa: BLE001
        suite.error("pinholed-caps", e)
    finally:
        tp.teardown(d)
        os.unlink(pol)
        os.rmdir(tmp)
    suite.finish()


if __name__ == "__main__":
    main()
