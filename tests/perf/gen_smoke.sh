#!/usr/bin/env bash
# Smoke test of the benchmark's generator (tests/perf/gen.py), not of any timing: every policy
# kind compiles, has the entries it says, and the last entry is the one the iperf3 traffic
# matches; pinhole's output holds one set element per entry; the ferm, Shorewall and nft
# reference inputs hold one rule per entry. Under a second.
set -u
cd "$(dirname "$0")/../.."
bin=build/pinhole
gen="/usr/bin/python3 tests/perf/gen.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "perf-gen: FAIL: $*"; }
n=7
for kind in entries sources applist portlist; do
	$gen pin $kind $n >"$tmp/$kind.pin" || { bad "gen.py pin $kind"; continue; }
	"$bin" compile -o "$tmp/$kind.nft" "$tmp/$kind.pin" 2>"$tmp/err" && ok || bad "$kind does not compile: $(head -3 "$tmp/err")"
done
[ "$(grep -c '^allow ' "$tmp/entries.pin")" = $n ] && ok || bad "entries: not $n allow lines"
[ "$(tail -1 "$tmp/entries.pin")" = "allow tcp/5201 server from 198.18.0.2;" ] && ok || bad "entries: last line is not the traffic's"
# pinhole merges the entries into set lookups, one per prefix length (the /24 entries into
# one masked lookup; the traffic's /32 entry, alone of its length, stays a plain rule): one
# element (with its comment) or one rule an entry.
elems=$(grep -c '^[[:space:]]*[0-9.]*\(/[0-9]*\)\? \. [0-9]* comment "' "$tmp/entries.nft")
rules=$(grep -c '^[[:space:]]*ip saddr [0-9.]* tcp dport [0-9]* accept comment "' "$tmp/entries.nft")
[ "$elems" -ge $((n - 1)) ] && [ $((elems + rules)) = $n ] && ok ||
	bad "entries: not $n entries as saddr . dport set elements or rules in the nft output ($elems elements, $rules rules)"
grep -q '198.18.0.2 \. 5201 comment "\|ip saddr 198.18.0.2 tcp dport 5201 accept comment "' "$tmp/entries.nft" && ok ||
	bad "entries: no element or rule for the traffic"
[ "$(grep -c '^[[:space:]]*[0-9.]*\(/[0-9]*\)\? comment ".*tcp/22' "$tmp/sources.nft")" = $n ] && ok ||
	bad "sources: not $n source elements for tcp/22"
[ "$(grep -o 'tcp/' "$tmp/portlist.pin" | wc -l)" = $n ] && ok || bad "portlist: not $n ports"
[ "$(grep -o 'ssh' "$tmp/applist.pin" | wc -l)" = $n ] && ok || bad "applist: not $n apps"
[ "$($gen ferm $n | grep -c ' saddr .* dport .* ACCEPT;')" = $n ] && ok || bad "ferm: not $n entries"
$gen shorewall $n "$tmp/sw" && [ "$(grep -c '^ACCEPT' "$tmp/sw/rules")" = $n ] && ok || bad "shorewall: not $n rules"
[ "$($gen nftset $n | grep -c ' \. [0-9]')" = $n ] && ok || bad "nftset: not $n elements"
echo "perf-gen: $pass passed, $fail failed"
[ "$fail" = 0 ]
