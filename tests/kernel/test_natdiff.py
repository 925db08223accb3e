#!/usr/bin/python3
"""Differential test with address translation (issue 12): random gateway policies with
masquerade, snat and port forwards (IPv4 and IPv6, some with hairpin) and random packets sent
for real through lan - gw - wan; the verdict and the rewritten addresses and ports each packet
arrives with must be what `pinhole explain` predicts (natdiff.py). nft on every seed, the
iptables + ip6tables files (iptables-nft) on some.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as D  # noqa: E402
import ktest  # noqa: E402
import natdiff  # noqa: E402

NFT_SEEDS = range(1, 13)
IPT_SEEDS = range(1, 5)
PACKETS = 60


def main():
    ktest.preflight_or_skip("nat differential")
    binary = D.pinhole_binary()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"SKIP nat differential: no pinhole binary at {binary}", flush=True)
        sys.exit(ktest.SKIP)
    suite = ktest.Suite("nat differential")
    have_ipt = not subprocess.run(["sh", "-c", "command -v iptables-nft-restore"],
                                  capture_output=True).returncode
    runs = [(s, "nft") for s in NFT_SEEDS] + [(s, "iptables") for s in IPT_SEEDS]
    for seed, backend in runs:
        name = f"nat differential seed {seed} ({backend})"
        if backend == "iptables" and not have_ipt:
            suite.skip(name, "iptables-nft-restore not installed")
            continue
        try:
            res = natdiff.natdiff(seed, PACKETS, backend)
        except Exception as e:  # noqa: BLE001 - a harness error is a failure of this case
            suite.error(name, e)
            continue
        print("# " + res.summary(limit=0).splitlines()[0], flush=True)
        suite.check(name, res.ok, res.summary())
    suite.finish()


if __name__ == "__main__":
    main()
