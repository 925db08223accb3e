#!/usr/bin/python3
"""Result reporting for tests/kernel/test_*.py, in the format tests/kernel/run.sh counts.

Every assertion prints one line: "PASS name", "FAIL name: detail" or "SKIP name: reason".
A test file exits 0 (all passed), 1 (some failed) or 77 (skipped as a whole).
"""
import concurrent.futures
import os
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsnet  # noqa: E402

SKIP = 77


class Suite:
    def __init__(self, name):
        self.name = name
        self.passed = self.failed = self.skipped = 0
        self.t0 = time.monotonic()
        self._lock = threading.Lock()

    def _emit(self, line):
        with self._lock:
            print(line, flush=True)

    def check(self, name, ok, detail=""):
        """Record one assertion; return ok."""
        with self._lock:
            if ok:
                self.passed += 1
            else:
                self.failed += 1
        self._emit(f"PASS {name}" if ok else f"FAIL {name}: {detail}")
        return ok

    def expect(self, name, got, want):
        return self.check(name, got == want, f"got {got!r}, want {want!r}")

    def skip(self, name, reason):
        with self._lock:
            self.skipped += 1
        self._emit(f"SKIP {name}: {reason}")

    def error(self, name, exc):
        """A harness error counts as a failure of `name`."""
        tb = "".join(traceback.format_exception(exc)).rstrip().replace("\n", "\n    ")
        return self.check(name, False, f"harness error: {tb}")

    def finish(self):
        dt = time.monotonic() - self.t0
        self._emit(f"# {self.name}: {self.passed} passed, {self.failed} failed, "
                   f"{self.skipped} skipped in {dt:.1f}s")
        sys.exit(1 if self.failed else 0)


def preflight_or_skip(name):
    """Exit 77 with a reason when namespaces cannot be used here."""
    reason = nsnet.preflight()
    if reason:
        print(f"SKIP {name}: {reason}", flush=True)
        sys.exit(SKIP)


class Case:
    """One ruleset on one fresh topology, with probes run concurrently.

    probes: [(name, fn(topology) -> value, expected value)]."""

    def __init__(self, name, topology, ruleset, probes, setup=None):
        self.name, self.topology, self.ruleset, self.probes = name, topology, ruleset, probes
        self.setup = setup

    def run(self, workers=48):
        """Return [(probe name, got, want, error)] in probe order."""
        make = {"host": nsnet.host_topology, "gateway": nsnet.gateway_topology}[self.topology]
        with make() as topo:
            try:
                nsnet.load_nft(topo.firewall, self.ruleset)
                nsnet.install_probe(topo.firewall)
                if self.setup:
                    self.setup(topo)
            except Exception as e:
                return [(f"{self.name}: load ruleset", None, None, e)]
            with concurrent.futures.ThreadPoolExecutor(workers) as ex:
                futs = [ex.submit(fn, topo) for _, fn, _ in self.probes]
            out = []
            for (pname, _, want), f in zip(self.probes, futs):
                e = f.exception()
                out.append((f"{self.name}: {pname}", None if e else f.result(), want, e))
            return out


def run_cases(suite, cases, parallel=4):
    """Run cases (several at once: probes mostly wait on timeouts) and report every probe."""
    with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
        futs = [ex.submit(c.run) for c in cases]
        for c, f in zip(cases, futs):
            try:
                results = f.result()
            except Exception as e:
                suite.error(f"{c.name}: case", e)
                continue
            for name, got, want, err in results:
                if err is not None:
                    suite.error(name, err)
                else:
                    suite.expect(name, got, want)


def run_differentials(suite, policies, n_packets, seed, workers=4):
    """Differential runs (kernel verdict vs `pinhole explain`) for (name, path, topology)
    triples, in parallel; one assertion each, with the mismatches as its detail."""
    import concurrent.futures
    import differential
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        futs = [ex.submit(differential.differential, path, kind, n_packets, seed)
                for _, path, kind in policies]
        for (name, _, _), f in zip(policies, futs):
            label = f"{name}: differential ({n_packets} packets, seed {seed})"
            try:
                res = f.result()
            except Exception as e:  # noqa: BLE001 - reported as a failure with its message
                suite.error(label, e)
                continue
            suite.check(label, res.ok, res.summary(limit=20))
            print(f"# {res.summary(limit=0)}", flush=True)
