#!/usr/bin/env bash
# Runs every fuzz target (build/fuzz/fuzz_*, from tests/fuzz/fuzz_*.c): first over its checked-in
# corpus (tests/fuzz/corpus for fuzz_policy, tests/fuzz/corpus_NAME for fuzz_NAME: crash
# regressions live there), then fuzzing for a while from a working corpus in build/fuzz-corpus/.
#   tests/fuzz/run.sh [SECONDS]          SECONDS (default 60) split over the targets
#   tests/fuzz/run.sh --each SECONDS     SECONDS for each target
# Prints "fuzz: N passed, N failed" (one per target and phase); a crash, leak, UB report or
# timeout leaves its input in build/fuzz-artifacts/ and fails the target.
set -u
cd "$(dirname "$0")/../.."
each=0
[ "${1:-}" = "--each" ] && { each=1; shift; }
seconds=${1:-60}
bins=(build/fuzz/fuzz_*)
if [ ! -x "${bins[0]}" ]; then
	echo "fuzz: no targets built (make fuzz-build; needs clang and libclang-rt-dev)"
	echo "fuzz: 0 passed, 1 failed"; exit 1
fi
per=$seconds
[ $each -eq 0 ] && per=$(( seconds / ${#bins[@]} ))
[ "$per" -lt 1 ] && per=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
mkdir -p build/fuzz-artifacts build/fuzz-logs
pass=0 fail=0
for bin in "${bins[@]}"; do
	name=${bin##*/fuzz_}
	seeds=tests/fuzz/corpus_$name
	[ "$name" = policy ] && seeds=tests/fuzz/corpus
	work=build/fuzz-corpus/$name
	mkdir -p "$work" "$seeds"
	log=build/fuzz-logs/$name.log
	# The checked-in inputs, once each: every past crash stays fixed.
	if "$bin" -runs=0 -timeout=20 -rss_limit_mb=4096 -artifact_prefix=build/fuzz-artifacts/"$name"- "$seeds" >"$log.corpus" 2>&1; then
		pass=$((pass + 1))
	else
		echo "fuzz: FAIL $name on its corpus $seeds:"; grep -E 'ERROR|runtime error|SUMMARY|Test unit' "$log.corpus" | head -10
		fail=$((fail + 1))
	fi
	if "$bin" -max_total_time="$per" -timeout=20 -rss_limit_mb=4096 -max_len=4096 \
		-artifact_prefix=build/fuzz-artifacts/"$name"- -print_final_stats=1 "$work" "$seeds" >"$log" 2>&1; then
		pass=$((pass + 1))
		runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
		rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$')
		echo "fuzz: $name: ${runs:-?} runs in ${per}s (${rate:-?}/s), no crash"
	else
		echo "fuzz: FAIL $name:"; grep -E 'ERROR|runtime error|SUMMARY|Test unit' "$log" | head -10
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
