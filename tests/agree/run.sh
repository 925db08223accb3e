#!/usr/bin/env bash
# Agree layer: pinhole's two nftables forms say the same thing, without root.
# For every golden policy (tests/golden/policies.sh: examples/*.pin, tests/golden/cases/*.pin
# and one policy per library app) in each mode:
#   - the nft text (`pinhole compile`) goes through `nft --debug=netlink -c -f` inside
#     `unshare -rn` (a user and network namespace of its own: nft linearizes the text into
#     libnftnl objects, prints them and lets that namespace's kernel check the batch);
#   - build/agree/nl_print prints the objects `pinhole apply` builds (nl_from_ir) with
#     libnftnl's printers, the way nft prints its own (see the comment in nl_print.c);
#   - both dumps must be equal record by record: every chain, ct helper object, set (with its
#     elements) and rule with its expressions and comment.
# nft does not print the table, chain names, chain policies and object names (it adds them to
# the messages after printing); they are compared with the declarations in the nft text.
# Prints "agree: N passed, N failed" (N = policies x modes) and, for a mismatch, the first
# record that differs. Without nft or a working `unshare -rn`: exit 77 (a failure under CI=true).
set -u
cd "$(dirname "$0")/../.."
. tests/golden/policies.sh
root=$PWD
bin=$root/build/pinhole-asan
[ -x "$bin" ] || bin=$root/build/pinhole
printer=$root/build/agree/nl_print
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

cannot() {
	if [ "${CI:-}" = "true" ]; then
		echo "agree: cannot run: $1 (CI=true, so this is a failure)"
		echo "agree: 0 passed, 1 failed"
		exit 1
	fi
	echo "agree: SKIP: $1"
	exit 77
}
command -v nft >/dev/null || cannot "nftables (nft) not installed"
unshare -rn true 2>/dev/null || cannot "unshare -rn (user and network namespace) does not work here"
[ -x "$printer" ] || { echo "agree: $printer is missing (make agree builds it)"; echo "agree: 0 passed, 1 failed"; exit 1; }
[ -x "$bin" ] || { echo "agree: build/pinhole-asan is missing (make asan)"; echo "agree: 0 passed, 1 failed"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# What nft leaves out of its dump, from the text nft read: "# table FAMILY NAME flags 0" for
# the table declaration with contents (pinhole's text sets no table flags), "# chain NAME
# policy P" for each chain and "# object NAME" for each ct helper, in the order nl_print
# prints them (table, chains, objects, each in declaration order).
text_trailer() {
	awk '/^table [a-z0-9]+ [^ ]+ \{$/ { print "# table " $2 " " $3 " flags 0" }
	     /^\tchain [^ ]+ \{$/ { chains[++nc] = $2; policy[nc] = "none" }
	     /^\t\ttype .* policy [a-z]+;$/ && nc { p = $NF; sub(/;$/, "", p); policy[nc] = p }
	     /^\tct helper [^ ]+ \{$/ { objs[++no] = $3 }
	     END { for (i = 1; i <= nc; i++) print "# chain " chains[i] " policy " policy[i]
		   for (i = 1; i <= no; i++) print "# object " objs[i] }' "$1"
}

# One record a line (a record: a line that does not start with white space and the lines
# after it that do), newlines as \x1f.
records() {
	awk 'BEGIN { r = "" } /^[^ \t]/ && r != "" { print r; r = "" } { r = r (r == "" ? "" : "\x1f") $0 } END { if (r != "") print r }' "$1"
}

# first_difference NFT-DUMP NL-DUMP: the first record that differs, both ways, and their diff.
first_difference() {
	records "$1" >"$tmp/rec.nft"
	records "$2" >"$tmp/rec.nl"
	local k
	k=$(awk 'NR == FNR { a[FNR] = $0; na = FNR; next } { b[FNR] = $0; nb = FNR }
		 END { n = na > nb ? na : nb; for (i = 1; i <= n; i++) if (a[i] != b[i]) { print i; exit } }' \
		"$tmp/rec.nft" "$tmp/rec.nl")
	[ -n "$k" ] || k=1
	sed -n "${k}p" "$tmp/rec.nft" | tr '\037' '\n' >"$tmp/one.nft"
	sed -n "${k}p" "$tmp/rec.nl" | tr '\037' '\n' >"$tmp/one.nl"
	echo "  first difference at record $k of $(wc -l <"$tmp/rec.nft") (nft) / $(wc -l <"$tmp/rec.nl") (netlink):"
	diff -U 1000 --label "nft --debug=netlink (text)" --label "nl_from_ir (pinhole apply)" \
		"$tmp/one.nft" "$tmp/one.nl" | head -60 | sed 's/^/  /'
}

# agree_case POLICY MODE DIR: compile POLICY in DIR both ways and compare.
agree_case() {
	local pol=$1 mode=$2 dir=$3 what="$1 --$2"
	if ! (cd "$dir" && "$bin" compile --"$mode" -o "$tmp/text.nft" "$pol") 2>"$tmp/err"; then
		echo "agree: FAIL $what: pinhole compile fails:"; cat "$tmp/err"; fail=$((fail + 1)); return
	fi
	if ! unshare -rn nft --debug=netlink -c -f "$tmp/text.nft" >"$tmp/nft.out" 2>"$tmp/err"; then
		echo "agree: FAIL $what: nft -c rejects the text:"; cat "$tmp/err"; fail=$((fail + 1)); return
	fi
	text_trailer "$tmp/text.nft" >>"$tmp/nft.out"
	if ! (cd "$dir" && "$printer" -L "$root/stdlib-apps" --"$mode" "$pol") >"$tmp/nl.out" 2>"$tmp/err"; then
		echo "agree: FAIL $what: nl_print fails:"; cat "$tmp/err"; fail=$((fail + 1)); return
	fi
	if ! cmp -s "$tmp/nft.out" "$tmp/nl.out"; then
		echo "agree: FAIL $what: the netlink objects differ from what nft makes of the text"
		first_difference "$tmp/nft.out" "$tmp/nl.out"
		fail=$((fail + 1)); return
	fi
	pass=$((pass + 1))
}

for pol in examples/*.pin tests/golden/cases/*.pin; do
	[ -e "$pol" ] || continue
	for mode in $(golden_modes_of "$pol"); do agree_case "$pol" "$mode" .; done
done
mkdir -p "$tmp/apps"
for app in $(golden_apps); do
	golden_app_policy "$app" >"$tmp/apps/$app.pin"
	for mode in $golden_modes; do agree_case "$app.pin" "$mode" "$tmp/apps"; done
done
echo "agree: $pass passed, $fail failed"
[ $fail -eq 0 ]
