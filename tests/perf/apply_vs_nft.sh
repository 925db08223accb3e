#!/usr/bin/env bash
# Measures loading a generated policy of about 10,000 rules into a throwaway network namespace:
# `pinhole apply` (netlink, one batch) against `pinhole compile | nft -f -`, and `nft -f` of the
# already compiled file alone. Needs root and hyperfine; not part of `make check`.
#   tests/perf/apply_vs_nft.sh [RULES] [hyperfine options...]
set -euo pipefail
cd "$(dirname "$0")/../.."
rules=${1:-10000}
shift || true
bin=build/pinhole
[ -x "$bin" ] || { echo "build first: make" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine not installed" >&2; exit 1; }
ns="ph-bench-$$"
tmp=$(mktemp -d)
trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT
ip netns add "$ns"

# Half TCP services from /24s, half UDP clients to single hosts: one rule per line.
python3 - "$rules" >"$tmp/big.pin" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    port = 1024 + i % 60000
    if i % 2:
        print(f"allow tcp/{port} server from 10.{i // 256 % 256}.{i % 256}.0/24;")
    else:
        print(f"allow udp/{port} client to 198.51.{i // 256 % 256}.{i % 256};")
PY
"$bin" compile -o "$tmp/big.nft" "$tmp/big.pin"
"$bin" apply --netns "$ns" "$tmp/big.pin"
echo "rules in the kernel: $(ip netns exec "$ns" nft -a list table inet pinhole | grep -c 'handle [0-9]*$' || true)"
hyperfine --warmup 2 "$@" \
	-n "pinhole apply" "$bin apply --netns $ns $tmp/big.pin" \
	-n "pinhole compile | nft -f -" "$bin compile $tmp/big.pin | ip netns exec $ns nft -f -" \
	-n "nft -f (precompiled)" "ip netns exec $ns nft -f $tmp/big.nft" \
	-n "pinhole compile (no load)" "$bin compile -o $tmp/out.nft $tmp/big.pin"
"$bin" status --netns "$ns" "$tmp/big.pin"
