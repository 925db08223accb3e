#!/usr/bin/env bash
# Runs each cmocka unit-test binary (built with ASan+UBSan) from the repository root and
# prints one closing summary line.
set -u
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
pass=0 fail=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	n_ok=$(grep -c '^\[       OK \]' <<<"$out")
	n_bad=$(grep -c '^\[  FAILED  \]' <<<"$out")
	pass=$((pass + n_ok))
	if [ $rc -ne 0 ]; then
		[ "$n_bad" -eq 0 ] && n_bad=1
		echo "$out"
		echo "unit: $t FAILED (exit $rc)"
	fi
	fail=$((fail + n_bad))
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
