#!/usr/bin/env python3
"""`apply --confirm` when the apply process dies: the previous table is saved on disk and a
detached watchdog restores it after the window unless `pinhole confirm` (from another shell)
came first. The apply process is started in a process group of its own and the whole group is
SIGKILLed during the window, as a dropped SSH session would. Runs in a throwaway namespace with
a state directory of its own; never touches the machine's ruleset."""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as D  # noqa: E402
import ktest  # noqa: E402
import nsnet as N  # noqa: E402

REPO = D.REPO
BIN = D.pinhole_binary()
WS = os.path.join(REPO, "examples", "workstation.pin")
FS = os.path.join(REPO, "examples", "fileserver.pin")


def env_with(state):
    e = dict(os.environ)
    e.pop("SSH_CONNECTION", None)
    e["PINHOLE_STATE_DIR"] = state
    return e


def pinhole(state, *args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60, env=env_with(state))


def listing(ns):
    r = N.ns_run(ns, ["nft", "--stateless", "list", "table", "inet", "pinhole"], check=False)
    return r.stdout if r.returncode == 0 else None


def start_and_kill(suite, fw, state, secs, label):
    """apply --confirm SECS FS in a new process group; SIGKILL the group once the new ruleset is
    in. Returns the time of the kill."""
    p = subprocess.Popen([BIN, "apply", "--netns", fw, "--confirm", str(secs), FS],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env_with(state), start_new_session=True)
    err = ""
    deadline = time.monotonic() + 30
    while "new ruleset active" not in err and time.monotonic() < deadline:
        line = p.stderr.readline()
        if not line:
            break
        err += line
    suite.check(f"{label}: the new ruleset is active during the window",
                pinhole(state, "status", "--netns", fw, FS).returncode == 0, err)
    os.killpg(p.pid, signal.SIGKILL)
    t = time.monotonic()
    p.communicate(timeout=30)  # returns at once: the watchdog holds none of our pipes
    suite.check(f"{label}: apply is dead and its pipes closed at once", time.monotonic() - t < 5,
                f"{time.monotonic() - t:.1f}s")
    suite.expect(f"{label}: apply died of SIGKILL", p.returncode, -signal.SIGKILL)
    return t


def wait_for(pred, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


def main():
    ktest.preflight_or_skip("rollback")
    if not (os.path.isfile(BIN) and os.access(BIN, os.X_OK)):
        print(f"SKIP rollback: no pinhole binary at {BIN}", flush=True)
        sys.exit(ktest.SKIP)
    suite = ktest.Suite("rollback")
    with tempfile.TemporaryDirectory() as state, N.host_topology() as t:
        fw = t.firewall
        suite.expect("previous policy applies", pinhole(state, "apply", "--netns", fw, WS).returncode, 0)
        before = listing(fw)
        key = f"netns-{fw}"

        # SIGKILL during the window, nobody confirms: the watchdog restores the old table
        killed = start_and_kill(suite, fw, state, 3, "killed")
        suite.check("killed: the previous table is saved on disk",
                    os.path.exists(os.path.join(state, key + ".rollback")), os.listdir(state))
        suite.check("killed: the new ruleset is still active right after the kill",
                    pinhole(state, "status", "--netns", fw, FS).returncode == 0)
        ok = wait_for(lambda: listing(fw) == before, 12)
        took = time.monotonic() - killed
        suite.check("killed: the previous table is back after the window", ok, listing(fw))
        suite.check("killed: not before the window closed", took >= 1.5, f"{took:.1f}s after the kill")
        suite.expect("killed: status matches the previous policy",
                     pinhole(state, "status", "--netns", fw, WS).returncode, 0)
        log = open(os.path.join(state, key + ".log")).read()
        suite.check("killed: the watchdog logged the rollback", "restored the previous ruleset" in log, log)
        suite.check("killed: no saved table or pending note left",
                    not [f for f in os.listdir(state) if not f.endswith(".log")], os.listdir(state))
        suite.expect("killed: nothing left to confirm (exit 1)",
                     pinhole(state, "confirm", "--netns", fw).returncode, 1)

        # SIGKILL during the window, then `pinhole confirm` from another shell: it stays
        start_and_kill(suite, fw, state, 3, "confirmed")
        r = pinhole(state, "confirm", "--netns", fw)
        suite.expect("confirmed: pinhole confirm exits 0", r.returncode, 0)
        suite.check("confirmed: says so", "confirmed" in r.stdout, r.stdout + r.stderr)
        time.sleep(5)  # past the window and the watchdog's grace
        suite.expect("confirmed: the new ruleset stays after the window",
                     pinhole(state, "status", "--netns", fw, FS).returncode, 0)
        log = open(os.path.join(state, key + ".log")).read()
        suite.check("confirmed: the watchdog stopped", "stopped" in log.splitlines()[-1], log)
        suite.expect("confirmed: a second confirm finds nothing (exit 1)",
                     pinhole(state, "confirm", "--netns", fw).returncode, 1)

        # A live apply told by `pinhole confirm` (from another shell) exits 0 and keeps it
        suite.expect("live: previous policy again", pinhole(state, "apply", "--netns", fw, WS).returncode, 0)
        p = subprocess.Popen([BIN, "apply", "--netns", fw, "--confirm", "60", FS],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env_with(state))
        ok = wait_for(lambda: os.path.exists(os.path.join(state, key + ".pending")), 20)
        # a second apply --confirm in the same namespace waits its turn
        r2 = pinhole(state, "apply", "--netns", fw, "--confirm", "5", WS)
        suite.expect("live: a second apply --confirm is refused while one is pending (exit 1)",
                     r2.returncode, 1)
        suite.check("live: and says why", "still waiting" in r2.stderr, r2.stderr)
        time.sleep(0.5)
        r = pinhole(state, "confirm", "--netns", fw)
        out, err = p.communicate(timeout=20)
        suite.expect("live: confirm from another shell exits 0", r.returncode, 0)
        suite.expect("live: the waiting apply exits 0", p.returncode, 0)
        suite.check("live: and reports confirmed", "(confirmed)" in out, out + err)
        suite.expect("live: the new ruleset stays",
                     pinhole(state, "status", "--netns", fw, FS).returncode, 0)
    suite.finish()


if __name__ == "__main__":
    main()
