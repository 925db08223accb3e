#!/usr/bin/env bash
# Kernel test layer (`make kernel`, `make check`): runs every tests/kernel/test_*.py with
# /usr/bin/python3 in throwaway network namespaces and prints "N passed, N failed" last.
#
# Exit: 0 all passed; 1 a failure; 77 cannot run here (not root, no network namespaces, tools
# missing). With CI=true a skip is a failure (exit 1).
#
# Test files print one line per assertion, "PASS name", "FAIL name: detail" or
# "SKIP name: reason", and exit 0, 1, or 77 (skipped as a whole). A file that exits non-zero
# without a FAIL line (crash, timeout) counts as one failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo" || exit 1
PY=/usr/bin/python3 # Debian's: it has python3-scapy and python3-pyftpdlib (pyenv's does not)
TEST_TIMEOUT=${KERNEL_TEST_TIMEOUT:-600}

# Namespaces made by this run are named ph-run<PID>-<pid>-<n>-<role> (see nsnet.py), so
# whatever a killed test leaves behind can be found and removed precisely.
export PH_NS_PREFIX="ph-run$$-"
# apply --confirm keeps its saved tables here, not in the machine's /var/lib/pinhole.
PINHOLE_STATE_DIR=$(mktemp -d /tmp/pinhole-state.XXXXXX)
export PINHOLE_STATE_DIR

cleanup() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${PH_NS_PREFIX}"); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null # servers our tests started inside our namespace
		done
		ip netns del "$ns" 2>/dev/null
	done
}
trap 'cleanup; rm -rf "$PINHOLE_STATE_DIR"' EXIT
trap 'cleanup; exit 130' INT TERM

skip() {
	if [ "${CI:-}" = "true" ]; then
		echo "kernel tests: cannot run: $1 (CI=true, so this is a failure)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "kernel tests: SKIP: $1"
	exit 77
}

[ "$(id -u)" -eq 0 ] || skip "not root (network namespaces need CAP_SYS_ADMIN)"
command -v ip >/dev/null || skip "iproute2 (ip) not installed"
command -v nft >/dev/null || skip "nftables (nft) not installed"
[ -x "$PY" ] || skip "$PY not found"
"$PY" -c 'import scapy, pyftpdlib' 2>/dev/null ||
	skip "$PY lacks scapy or pyftpdlib (apt-get install python3-scapy python3-pyftpdlib)"
probe_ns="${PH_NS_PREFIX}preflight"
err=$(ip netns add "$probe_ns" 2>&1) || skip "ip netns add failed: $err"
ip netns del "$probe_ns"

passed=0 failed=0 skipped=0
out=$(mktemp)
for t in "$here"/test_*.py; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .py)
	echo "== $name"
	timeout -k 10 "$TEST_TIMEOUT" "$PY" "$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	cleanup
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	s=$(grep -c '^SKIP ' "$out")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -eq 77 ]; then
		if [ "${CI:-}" = "true" ]; then
			echo "FAIL $name: skipped, and CI=true"
			failed=$((failed + 1))
		else
			skipped=$((skipped + (s > 0 ? s : 1)))
		fi
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		[ "$rc" -eq 124 ] && why="timed out after ${TEST_TIMEOUT}s" || why="exit status $rc"
		echo "FAIL $name: $why without reporting a failure"
		failed=$((failed + 1))
	else
		skipped=$((skipped + s))
	fi
done
rm -f "$out"

[ "$skipped" -gt 0 ] && echo "kernel tests: $skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
