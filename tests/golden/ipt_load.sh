#!/usr/bin/env bash
# Loads a generated iptables-restore file for real, in a throwaway network namespace
# (unshare -rn: works as root and as a plain user), exactly as its header tells users to:
#   ipt_load.sh FILE iptables|ip6tables legacy|nft
# Checks that
#   - the legacy restore's --test accepts its rules (the nft variant's --test accepted a jump
#     to a missing chain, so it proves little), and the whole file over a loaded namespace;
#   - the header's load commands work on a fresh namespace (the second way: the file's -D of
#     a missing jump fails it), again over the first load (one restore), and after a jump was
#     deleted by hand; leave another program's rules alone; and leave each jump to pinhole's
#     chains exactly once, first in its built-in chain (a rule inserted later goes below);
#   - what the kernel stored, read back with *-save, is rule for rule what the file says
#     (iptables silently stores --dport 70000 as 4464: a range error shows up here).
set -u
file=$1 tool=$2 variant=$3
[ -r "$file" ] || { echo "ipt_load: cannot read $file"; exit 2; }
case "$tool" in iptables|ip6tables) ;; *) echo "ipt_load: bad tool $tool"; exit 2 ;; esac
case "$variant" in legacy|nft) ;; *) echo "ipt_load: bad variant $variant"; exit 2 ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XTABLES_LOCKFILE="$tmp/xtables.lock" # /run/xtables.lock is root's

# The load commands of the header, for this variant.
sed -n '/^# Load as root/,/^# --noflush/p' "$file" | sed -n 's/^#   //p' |
	sed -e "s#$tool-restore #$tool-$variant-restore #g" -e "s# $tool -\\([wV]\\) # $tool-$variant -\\1 #g" \
	    -e "s#^\\( *\\)$tool -w #\\1$tool-$variant -w #" -e "s# FILE\\( \\|\$\\)# \"\$1\"\\1#g" >"$tmp/load.sh"
if ! grep -q -- "$tool-$variant-restore -w --noflush" "$tmp/load.sh"; then
	echo "ipt_load: $file: no load commands found in the header"; cat "$tmp/load.sh"; exit 1
fi

# The rules the file puts in each table's chains, in order: "TABLE RULE".
awk '/^\*/ { t = substr($0, 2) } /^-A / { print t " " $0 }' "$file" >"$tmp/want"

cat >"$tmp/ns.sh" <<EOF
set -e
grep -v '^-[DI] ' "$file" | $tool-legacy-restore --test
x=$tool-$variant
\$x -w -N OTHER-APP
\$x -w -A OTHER-APP -s 192.0.2.1/32 -j ACCEPT 2>/dev/null || \$x -w -A OTHER-APP -s 2001:db8::1/128 -j ACCEPT
\$x -w -A INPUT -j OTHER-APP
\$x -w -A FORWARD -m comment --comment "other software" -j ACCEPT
bash "$tmp/load.sh" "$file"
bash "$tmp/load.sh" "$file"
\$x -w -D FORWARD -j PINHOLE-FORWARD
\$x -w -I INPUT 1 -m comment --comment "inserted later" -j OTHER-APP
bash "$tmp/load.sh" "$file"
bash "$tmp/load.sh" "$file"
if [ $variant = legacy ]; then # the reload's one restore, alone: it keeps the jumps as they are
	$tool-legacy-restore --test --noflush "$file"
	$tool-legacy-restore -w --noflush "$file"
fi
{ \$x-save -t raw; \$x-save -t filter; \$x-save -t nat; } >"$tmp/saved"
EOF
if ! unshare -rn bash "$tmp/ns.sh" >"$tmp/out" 2>&1; then
	echo "ipt_load: $file ($tool-$variant) does not load:"; cat "$tmp/out"; exit 1
fi
awk '/^\*/ { t = substr($0, 2) } /^-A PINHOLE-/ { print t " " $0 }' "$tmp/saved" >"$tmp/got.all"
# *-save lists chains alphabetically: compare chain by chain, order inside a chain kept.
bychain() { awk '{ print $1 " " $3 "\t" NR "\t" $0 }' "$1" | sort -t"$(printf '\t')" -k1,1 -k2,2n | cut -f3; }
if ! diff -u <(bychain "$tmp/want") <(bychain "$tmp/got.all") >"$tmp/diff"; then
	echo "ipt_load: $file ($tool-$variant): the kernel stored other rules than the file says:"
	head -20 "$tmp/diff"; exit 1
fi
jumps='"filter INPUT" "filter FORWARD" "filter OUTPUT" "raw PREROUTING" "raw OUTPUT"'
# the nat table only when the policy translates addresses
grep -qx '\*nat' "$file" && jumps="$jumps \"nat PREROUTING\" \"nat POSTROUTING\""
eval "set -- $jumps"
for jump in "$@"; do
	set -- $jump
	n=$(awk -v t="$1" -v c="$2" '/^\*/ { tb = substr($0, 2) } tb == t && $0 == "-A " c " -j PINHOLE-" c { n++ } END { print n + 0 }' "$tmp/saved")
	if [ "$n" -ne 1 ]; then
		echo "ipt_load: $file ($tool-$variant): $n jumps from $1 $2 to PINHOLE-$2 after four loads, expected 1"
		exit 1
	fi
	first=$(awk -v t="$1" -v c="$2" '/^\*/ { tb = substr($0, 2) } tb == t && $1 == "-A" && $2 == c { print; exit }' "$tmp/saved")
	if [ "$first" != "-A $2 -j PINHOLE-$2" ]; then
		echo "ipt_load: $file ($tool-$variant): the first rule of $1 $2 is '$first', not pinhole's jump"
		exit 1
	fi
done
if ! grep -q -- '-A INPUT -j OTHER-APP' "$tmp/saved" || ! grep -q -- '-A OTHER-APP -s' "$tmp/saved" ||
	! grep -q -- '--comment "other software" -j ACCEPT' "$tmp/saved" ||
	! grep -q -- '--comment "inserted later" -j OTHER-APP' "$tmp/saved"; then
	echo "ipt_load: $file ($tool-$variant): loading removed another program's rules"; exit 1
fi
exit 0
