#!/usr/bin/env bash
# Golden tests, run with the sanitizer build:
#   examples/*.pin and tests/golden/cases/*.pin -> expected .nft (and `nft -c` accepts it,
#     checked inside an unshared network namespace);
#   tests/golden/bad/*.pin -> expected diagnostics (.err), exit status 2, no output file.
# --update rewrites the expected files from the current compiler.
set -u
cd "$(dirname "$0")/../.."
update=0
[ "${1:-}" = "--update" ] && update=1
bin=build/pinhole-asan
[ -x "$bin" ] || bin=build/pinhole
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 nftc=0
can_nft=0
if command -v nft >/dev/null && unshare -rn true 2>/dev/null; then
	can_nft=1
elif [ "${CI:-}" = "true" ]; then
	echo "golden: cannot run 'nft -c' in a network namespace (need nft and unshare)"; exit 1
fi

check_case() { # policy expected
	local pol=$1 exp=$2 out="$tmp/out.nft"
	if ! "$bin" compile -o "$out" "$pol" 2>"$tmp/err"; then
		echo "golden: FAIL $pol does not compile:"; cat "$tmp/err"; fail=$((fail + 1)); return
	fi
	if [ $update -eq 1 ]; then cp "$out" "$exp"; fi
	if ! diff -u "$exp" "$out" >"$tmp/diff"; then
		echo "golden: FAIL $pol differs from $exp:"; head -40 "$tmp/diff"; fail=$((fail + 1)); return
	fi
	if [ $can_nft -eq 1 ]; then
		if ! unshare -rn nft -c -f "$out" 2>"$tmp/nfterr"; then
			echo "golden: FAIL nft -c rejects $exp:"; cat "$tmp/nfterr"; fail=$((fail + 1)); return
		fi
		nftc=$((nftc + 1))
	fi
	pass=$((pass + 1))
}

for pol in examples/*.pin; do
	check_case "$pol" "tests/golden/examples/$(basename "${pol%.pin}").nft"
done
for pol in tests/golden/cases/*.pin; do
	[ -e "$pol" ] || continue
	check_case "$pol" "${pol%.pin}.nft"
done

for pol in tests/golden/bad/*.pin; do
	[ -e "$pol" ] || continue
	exp=${pol%.pin}.err
	rm -f "$tmp/never.nft"
	"$bin" compile -o "$tmp/never.nft" "$pol" >"$tmp/stdout" 2>"$tmp/err"
	rc=$?
	if [ $update -eq 1 ]; then cp "$tmp/err" "$exp"; fi
	if [ $rc -ne 2 ]; then
		echo "golden: FAIL $pol: exit $rc, expected 2"; cat "$tmp/err"; fail=$((fail + 1)); continue
	fi
	if [ -e "$tmp/never.nft" ] || [ -s "$tmp/stdout" ]; then
		echo "golden: FAIL $pol: output written despite errors"; fail=$((fail + 1)); continue
	fi
	if ! grep -qE '^[^ ]+:[0-9]+:[0-9]+: error: ' "$tmp/err" || ! grep -q '\^' "$tmp/err"; then
		echo "golden: FAIL $pol: no FILE:LINE:COL error with a caret"; cat "$tmp/err"; fail=$((fail + 1)); continue
	fi
	if ! diff -u "$exp" "$tmp/err" >"$tmp/diff"; then
		echo "golden: FAIL $pol diagnostics differ from $exp:"; head -40 "$tmp/diff"; fail=$((fail + 1)); continue
	fi
	pass=$((pass + 1))
done
echo "golden: $pass passed, $fail failed ($nftc rulesets accepted by nft -c)"
[ $fail -eq 0 ]
