#!/usr/bin/env bash
# Every test layer in order; each prints "LAYER: N passed, N failed" (the kernel layer its own
# summary). A layer that fails still lets the others run; the closing line adds them up.
set -u
cd "$(dirname "$0")/.."
total_pass=0 total_fail=0 rc=0
run_layer() { # name command...
	local name=$1 out status line p f
	shift
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	status=${PIPESTATUS[0]}
	line=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
	p=${line%% passed*}
	f=${line#*passed, }
	f=${f%% failed*}
	rm -f "$out"
	if [ -z "$p" ]; then
		echo "$name: no summary line (exit $status)"
		p=0 f=1
	fi
	[ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	[ "$status" -ne 0 ] && rc=1
}
run_layer unit tests/run-unit.sh "$@"
run_layer golden tests/golden/run.sh
run_layer agree tests/agree/run.sh
run_layer cli tests/cli/run.sh
run_layer check tests/check/run.sh
run_layer perf-gen tests/perf/gen_smoke.sh
run_layer fuzz tests/fuzz/run.sh "${FUZZ_SECONDS:-60}"
run_layer kernel tests/kernel/run.sh
echo
echo "all layers: $total_pass passed, $total_fail failed"
exit $rc
