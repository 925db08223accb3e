#!/usr/bin/env bash
# Golden tests, run with the sanitizer build:
#   examples/*.pin and tests/golden/cases/*.pin -> expected .nft (and `nft -c` accepts it,
#     checked inside an unshared network namespace);
#   the same policies, and one policy per library app (stdlib-apps/, every role and a gateway
#     rule), in each mode and target: NAME.{stateful,stateless}.{nft,ipt,ip6t}; every .ipt and
#     .ip6t is loaded for real in a namespace (ipt_load.sh: legacy --test, the header's load
#     commands, read back rule for rule);
#   tests/golden/bad/*.pin -> expected diagnostics (.err), exit status 2, no output file.
# --update rewrites the expected files from the current compiler.
set -u
cd "$(dirname "$0")/../.."
. tests/golden/policies.sh
update=0
[ "${1:-}" = "--update" ] && update=1
bin=$PWD/build/pinhole-asan
[ -x "$bin" ] || bin=$PWD/build/pinhole
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 nftc=0 iptl=0
can_nft=0 can_ipt=0
if command -v nft >/dev/null && unshare -rn true 2>/dev/null; then
	can_nft=1
elif [ "${CI:-}" = "true" ]; then
	echo "golden: cannot run 'nft -c' in a network namespace (need nft and unshare)"; exit 1
fi
if command -v iptables-legacy-restore >/dev/null && command -v ip6tables-legacy-restore >/dev/null &&
	command -v iptables-nft-restore >/dev/null && unshare -rn true 2>/dev/null; then
	can_ipt=1
elif [ "${CI:-}" = "true" ]; then
	echo "golden: cannot load iptables files in a network namespace (need iptables and unshare)"; exit 1
fi

# check_case POLICY EXPECTED [TARGET [MODE-OPTION [DIR]]]: compile (in DIR when given, so that
# generated policies are named the same on every run), compare, and validate.
check_case() {
	local pol=$1 exp=$2 target=${3:-nft} mode=${4:-} dir=${5:-.}
	local out="$tmp/out.$target"
	if ! (cd "$dir" && "$bin" compile $mode -t "$target" -o "$out" "$pol") 2>"$tmp/err"; then
		echo "golden: FAIL $pol $mode -t $target does not compile:"; cat "$tmp/err"; fail=$((fail + 1)); return
	fi
	if [ $update -eq 1 ]; then cp "$out" "$exp"; fi
	if [ ! -e "$exp" ]; then
		echo "golden: FAIL $exp is missing (tests/golden/run.sh --update writes it)"; fail=$((fail + 1)); return
	fi
	if ! diff -u "$exp" "$out" >"$tmp/diff"; then
		echo "golden: FAIL $pol differs from $exp:"; head -40 "$tmp/diff"; fail=$((fail + 1)); return
	fi
	if [ "$target" = nft ] && [ $can_nft -eq 1 ]; then
		if ! unshare -rn nft -c -f "$out" 2>"$tmp/nfterr"; then
			echo "golden: FAIL nft -c rejects $exp:"; cat "$tmp/nfterr"; fail=$((fail + 1)); return
		fi
		nftc=$((nftc + 1))
	fi
	if [ "$target" != nft ] && [ $can_ipt -eq 1 ]; then
		local variant
		for variant in legacy nft; do
			if ! tests/golden/ipt_load.sh "$out" "$target" $variant; then
				echo "golden: FAIL $exp does not load ($target-$variant)"; fail=$((fail + 1)); return
			fi
		done
		iptl=$((iptl + 1))
	fi
	pass=$((pass + 1))
}

# Every mode and target: NAME.{stateful,stateless}.{nft,ipt,ip6t}.
check_forms() { # policy expected-prefix [dir]
	local mode target ext modes=$golden_modes
	[ -e "${3:-.}/$1" ] && modes=$(golden_modes_of "${3:-.}/$1")
	for mode in $modes; do
		for target in nft iptables ip6tables; do
			case $target in nft) ext=nft ;; iptables) ext=ipt ;; ip6tables) ext=ip6t ;; esac
			check_case "$1" "$2.$mode.$ext" $target --$mode "${3:-.}"
		done
	done
}

for pol in examples/*.pin; do
	check_case "$pol" "tests/golden/examples/$(basename "${pol%.pin}").nft"
	check_forms "$pol" "tests/golden/examples/$(basename "${pol%.pin}")"
done
for pol in tests/golden/cases/*.pin; do
	[ -e "$pol" ] || continue
	check_case "$pol" "${pol%.pin}.nft"
	check_forms "$pol" "${pol%.pin}"
done

# One policy per library app: both host roles and a gateway rule, IPv4 and IPv6 peers.
mkdir -p "$tmp/apps" tests/golden/apps
for app in $(golden_apps); do
	golden_app_policy "$app" >"$tmp/apps/$app.pin"
	check_forms "$app.pin" "$PWD/tests/golden/apps/$app" "$tmp/apps"
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
echo "golden: $pass passed, $fail failed ($nftc rulesets accepted by nft -c, $iptl iptables files loaded)"
[ $fail -eq 0 ]
