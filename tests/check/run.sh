#!/usr/bin/env bash
# pinhole check for CI (docs/check.md): output formats (SARIF validated against the official
# 2.1.0 schema, JSON against docs/check-v1.schema.json), --fail-on, -W options, inline
# suppressions, --baseline, -I. Runs the sanitizer build.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
bin=${PINHOLE:-$root/build/pinhole-asan}
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "check: FAIL $*"; fail=$((fail + 1)); }

# expect NAME STATUS REGEX COMMAND...: exit status, and REGEX (if any) in stdout+stderr.
expect() {
	local name=$1 want=$2 re=$3
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	cat "$tmp/out" "$tmp/err" >"$tmp/both"
	if [ "$rc" -ne "$want" ]; then
		bad "$name: exit $rc, expected $want"; sed 's/^/    /' "$tmp/both" | head -20; return
	fi
	if [ -n "$re" ] && ! grep -Eq -- "$re" "$tmp/both"; then
		bad "$name: output lacks /$re/"; sed 's/^/    /' "$tmp/both" | head -20; return
	fi
	ok
}
# not_in NAME REGEX: the last command's output must not match.
not_in() {
	if grep -Eq -- "$2" "$tmp/both"; then bad "$1: output has /$2/"; sed 's/^/    /' "$tmp/both" | head -20; else ok; fi
}

have_jsonschema=0
python3 -c 'import jsonschema' 2>/dev/null && have_jsonschema=1
if [ $have_jsonschema -eq 0 ] && [ "${CI:-}" = "true" ]; then
	echo "check: python3-jsonschema is missing (tests/install-deps.sh)"; exit 1
fi
# validate NAME SCHEMA FILE: FILE is valid against SCHEMA (Draft 4 for SARIF, 2020-12 for ours).
validate() {
	[ $have_jsonschema -eq 1 ] || { echo "check: skip $1 (no python3-jsonschema)"; return; }
	if python3 - "$2" "$3" >"$tmp/verr" 2>&1 <<'EOF'; then ok; else bad "$1: not valid against $2"; sed 's/^/    /' "$tmp/verr" | head -20; fi
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
errors = sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.path))
for e in errors[:10]:
    print(list(e.path), e.message)
sys.exit(1 if errors else 0)
EOF
}
sarif=tests/check/sarif-schema-2.1.0.json
ours=docs/check-v1.schema.json

cd "$tmp"
printf 'allow ssh client;\n' >clean.pin
printf 'define unused = 10.0.0.0/8;\nallow ssh client;\nallow ssh client;\n' >warn.pin
printf 'define d = 10.0.0.0/8;\nallow ssh client\nallow http client;\n' >syntax.pin
printf 'allow ssh server from 10.0.0.0/8, "odd path";\n' >err.pin

# Text: as before, with the ID after the message.
expect text-clean 0 '' "$bin" check clean.pin
expect text-warn 1 "warn.pin:1:8: warning: define 'unused' is never used \[PH104\]" "$bin" check warn.pin
expect text-redundant 1 'warn.pin:3:1: warning: this statement adds nothing.*\[PH105\]' "$bin" check warn.pin
# A limit that a later unlimited allow undoes (what exceeds the budget goes on to it).
printf 'allow ssh server limit 10/minute;\nallow ssh server;\n' >limit.pin
expect text-limit-undone 1 "limit.pin:1:1: warning: this statement's limit has no effect.*line 2.*\\[PH105\\]" "$bin" check limit.pin
# (http, not ssh: ssh open to every source is a PH114 finding of its own)
printf 'allow http server limit 10/minute per source;\nallow http server from 10.0.0.0/8;\n' >limit2.pin
expect text-limit-kept 0 '' "$bin" check limit2.pin
expect text-error 2 'syntax.pin:3:1: error: .*\[PH001\]' "$bin" check syntax.pin
# No follow-on warnings after an error: the define is not "never used", the policy does
# not "allow nothing".
not_in no-follow-on 'never used|allows nothing'
expect compile-no-follow-on 2 'error' "$bin" compile syntax.pin
not_in compile-no-follow-on 'never used|allows nothing'

# --fail-on (Ansible: validate: pinhole check --fail-on=error %s).
expect fail-on-warning 1 'PH104' "$bin" check --fail-on=warning warn.pin
expect fail-on-error 0 'PH104' "$bin" check --fail-on=error warn.pin
expect fail-on-error-space 0 '' "$bin" check --fail-on error warn.pin
expect fail-on-error-errors 2 'PH001' "$bin" check --fail-on=error syntax.pin
expect fail-on-bad 2 "takes error or warning" "$bin" check --fail-on=info warn.pin

# -W options: by ID or name.
expect wno-id 1 'PH105' "$bin" check -Wno-PH104 warn.pin
not_in wno-id-gone 'PH104'
expect wno-both 0 '' "$bin" check -Wno-unused-define -Wno-redundant-statement warn.pin
expect w-back-on 1 'PH104' "$bin" check -Wno-PH104 -W PH104 warn.pin
expect werror-name 1 "warn.pin:1:8: error: define 'unused' is never used \[PH104\]" \
	"$bin" check --fail-on=error -Werror=unused-define warn.pin
expect werror-all 1 'error: this statement adds nothing' "$bin" check --fail-on=error -Werror warn.pin
expect w-unknown 2 "no warning 'nope'" "$bin" check -Wno-nope warn.pin
expect w-error-id 2 'is an error, not a warning' "$bin" check -Wno-PH001 warn.pin

# Inline suppressions: a reason is required; unused ones are findings.
cat >sup.pin <<'EOF'
# pinhole: ignore PH104 because the audit wants it kept
define unused = 10.0.0.0/8;
allow ssh client;
allow ssh client; # pinhole: ignore redundant-statement because kept for the audit
EOF
expect suppress 0 '' "$bin" check sup.pin
expect suppress-json 0 '"reason": "kept for the audit"' "$bin" check --format=json sup.pin
cat >sup2.pin <<'EOF'
# pinhole: ignore PH104
define unused = 10.0.0.0/8;
allow ssh client; # pinhole: ignore PH105 because nothing here is redundant
allow http client; # pinhole: ignore PH999 because no such thing
# pinhole: skip PH104 because a typo
allow dns client; # "# pinhole: ignore PH105" inside a string is no suppression because it is not a comment
EOF
expect suppress-no-reason 1 'sup2.pin:1:1: warning: a suppression needs a reason.*\[PH109\]' "$bin" check sup2.pin
expect suppress-no-reason-keeps 1 "define 'unused' is never used \[PH104\]" "$bin" check sup2.pin
expect suppress-unused 1 'sup2.pin:3:19: warning: this suppression matches no finding on line 3 \[PH110\]' "$bin" check sup2.pin
expect suppress-unknown-id 1 'sup2.pin:4:20: warning: unknown finding ID' "$bin" check sup2.pin
expect suppress-directive 1 'sup2.pin:5:1: warning: unknown directive' "$bin" check sup2.pin
expect suppress-wno 1 'PH104' "$bin" check -Wno-bad-suppression -Wno-unused-suppression sup2.pin
not_in suppress-wno-gone 'PH109|PH110'

# JSON and SARIF: valid against their schemas, for clean, warning and error policies, and
# several policies in one run.
for f in clean warn syntax err sup sup2; do
	"$bin" check --format=json $f.pin >$f.json 2>$f.stderr
	rc=$?
	validate json-$f "$root/$ours" $f.json
	[ -s $f.stderr ] && bad "json-$f wrote on stderr: $(head -3 $f.stderr)"
	grep -q "\"exitStatus\": $rc\$" $f.json && ok || bad "json-$f: exitStatus is not $rc"
	"$bin" check --format=sarif $f.pin >$f.sarif 2>/dev/null
	validate sarif-$f "$root/$sarif" $f.sarif
done
"$bin" check --format=json clean.pin warn.pin syntax.pin >all.json 2>/dev/null
[ $? -eq 2 ] && ok || bad "json-all: exit status is not 2"
validate json-all "$root/$ours" all.json
"$bin" check --format=sarif ./clean.pin warn.pin syntax.pin sup.pin >all.sarif 2>/dev/null
validate sarif-all "$root/$sarif" all.sarif
if [ $have_jsonschema -eq 1 ]; then
	python3 - all.sarif all.json >"$tmp/verr" 2>&1 <<'EOF' && ok || { bad "sarif/json content"; sed 's/^/    /' "$tmp/verr"; }
import json, sys
s = json.load(open(sys.argv[1]))
run = s["runs"][0]
rules = run["tool"]["driver"]["rules"]
ids = [r["id"] for r in rules]
assert len(ids) == len(set(ids)), "rule IDs repeat"
res = run["results"]
assert res, "no results"
for r in res:
    assert rules[r["ruleIndex"]]["id"] == r["ruleId"], r
    assert r["partialFingerprints"]["pinhole/v1"], r
levels = {r["ruleId"]: r["level"] for r in res}
assert levels["PH001"] == "error" and levels["PH104"] == "warning", levels
sup = [r for r in res if r.get("suppressions")]
assert sup and sup[0]["suppressions"][0]["justification"], "suppressed result missing"
uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in res if "locations" in r}
assert "warn.pin" in uris, uris
j = json.load(open(sys.argv[2]))
fps = [f["fingerprint"] for f in j["findings"]]
assert len(fps) == len(set(fps)), "fingerprints repeat"
assert [p["file"] for p in j["policies"]] == ["clean.pin", "warn.pin", "syntax.pin"]
EOF
fi

# GitHub annotations.
expect github 1 "^::warning file=warn.pin,line=1,col=8,endLine=1,endColumn=13,title=PH104 unused-define::define 'unused' is never used$" \
	"$bin" check --format=github warn.pin
expect github-error 2 '^::error file=syntax.pin,line=3,col=1,.*title=PH001 syntax::' "$bin" check --format=github syntax.pin
printf 'allow ssh client;\nallow ssh client;\n' >'odd,name%.pin'
expect github-escape 1 '^::warning file=odd%2Cname%25.pin,line=2,' "$bin" check --format=github 'odd,name%.pin'

# --baseline: what the baseline holds is not reported; a new finding is; moving lines keeps
# the fingerprint; the SARIF output works as a baseline too.
"$bin" check --format=json warn.pin >base.json 2>/dev/null
"$bin" check --format=sarif warn.pin >base.sarif 2>/dev/null
expect baseline-json 0 '' "$bin" check --baseline base.json warn.pin
expect baseline-sarif 0 '' "$bin" check --baseline=base.sarif warn.pin
expect baseline-count 0 '"baselined": 2' "$bin" check --format=json --baseline base.json warn.pin
printf '\n\n# moved down\ndefine unused = 10.0.0.0/8;\nallow ssh client;\nallow ssh client;\ndefine new = 10.0.0.0/8;\n' >moved.pin
cp moved.pin warn.pin
expect baseline-moved 1 "define 'new' is never used" "$bin" check --baseline base.json warn.pin
not_in baseline-moved-old "'unused'|adds nothing"
expect baseline-missing 2 "cannot read baseline 'none.json'" "$bin" check --baseline none.json warn.pin
printf 'not json\n' >junk.json
expect baseline-junk 2 "is not the JSON or SARIF output" "$bin" check --baseline junk.json warn.pin

# -I: an include not next to the including file (Ansible validates a copy in /tmp).
mkdir -p etc/pinhole inc2 copy
printf 'allow ssh client;\n' >etc/pinhole/common.pin
printf 'allow http client;\n' >inc2/web.pin
printf 'include "common.pin";\ninclude "web.pin";\n' >etc/pinhole/main.pin
cp etc/pinhole/main.pin copy/main.pin
expect include-next-to 2 "cannot read 'inc2/web.pin'|cannot read 'etc/pinhole/web.pin'" "$bin" check etc/pinhole/main.pin
expect include-missing 2 "copy/main.pin:1:9: error: cannot read 'copy/common.pin'" "$bin" check copy/main.pin
expect include-I 0 '' "$bin" check -I etc/pinhole -I inc2 copy/main.pin
expect include-Ijoined 0 '' "$bin" check -Ietc/pinhole -Iinc2 copy/main.pin
printf 'allow dns client;\n' >copy/common.pin
expect include-next-first 0 '' "$bin" check --format=json -I etc/pinhole -I inc2 copy/main.pin
grep -q 'copy/common.pin\|"findings": \[\]' "$tmp/out" && ok || bad "include-next-first: output"

# Family narrowing: 0.0.0.0/0 alone makes a rule IPv4-only.
printf 'allow http server from 0.0.0.0/0;\n' >narrow4.pin
printf 'define all6 = ::/0;\nallow ssh server from all6;\n' >narrow6.pin
printf 'allow http server from 0.0.0.0/0, ::/0;\nallow ssh server from 10.0.0.0/8, fd00::/8;\n' >both.pin
expect narrow-v4 1 'narrow4.pin:1:24: warning: 0\.0\.0\.0/0 is every IPv4 address, and only those: this rule matches no IPv6 traffic.*\[PH111\]' "$bin" check narrow4.pin
expect narrow-v6 1 'narrow6.pin:2:23: warning: ::/0 is every IPv6 address.*add 0\.0\.0\.0/0 \[PH111\]' "$bin" check narrow6.pin
expect narrow-both 0 '' "$bin" check both.pin
expect narrow-off 0 '' "$bin" check -Wno-family-narrowing narrow4.pin

# Address translation lint: a forward a deny empties (PH116), an allow towards masqueraded
# hosts that no forward leads to (PH117); a forward to one of them, or IPv6 (not
# masqueraded), is no finding.
printf '%s\n' 'zone lan { interface lan0; address 10.1.0.0/24, fd00:1::/64; }' 'zone wan { interface wan0; }' \
	'masquerade from lan to wan;' 'allow http from wan to 10.1.0.5;' 'allow http from wan to fd00:1::5;' \
	'forward tcp/8443 from wan to 10.1.0.3 port 443;' 'deny tcp/443 from wan to 10.1.0.0/24;' >natlint.pin
printf '%s\n' 'zone lan { interface lan0; address 10.1.0.0/24, fd00:1::/64; }' 'zone wan { interface wan0; }' \
	'masquerade from lan to wan;' 'allow https from wan to lan;' 'forward tcp/8443 from wan to 10.1.0.3 port 443;' >natok.pin
expect nat-allow-no-forward 1 "natlint.pin:4:21: warning: 10\.1\.0\.5 is masqueraded behind zone 'wan'.*\[PH117\]" "$bin" check natlint.pin
not_in nat-allow-v6 'natlint.pin:5:'
expect nat-forward-denied 1 'natlint.pin:6:1: warning: the connections this forward rewrites are all dropped by line 7: it forwards nothing \(e\.g\. tcp 0\.0\.0\.0:0 -> 0\.0\.0\.0:8443 in new iif wan0, rewritten to tcp 0\.0\.0\.0:0 -> 10\.1\.0\.3:443 fwd new iif wan0 dnat\) \[PH116\]' "$bin" check natlint.pin
expect nat-lint-ok 0 '' "$bin" check natok.pin
not_in nat-lint-ok-quiet 'PH11[2367]'
expect nat-lint-off 0 '' "$bin" check -Wno-forward-denied -Wno-allow-without-forward natlint.pin

# Bridges left to their owner (PH119): a gateway rule about a 'forward owned' zone, or about a
# zone that shares one of its interfaces, decides none of that forwarded traffic; a host rule
# from the zone (input stays pinhole's) is no finding.
printf '%s\n' 'zone wan { interface wan0; }' 'zone lan { interface "br-*"; }' \
	'zone containers { interface docker0, "br-*"; forward owned; }' 'allow dns server from containers;' \
	'allow https from containers to wan;' 'deny ssh from wan to containers;' 'allow http from lan to wan;' >owned.pin
printf '%s\n' 'zone wan { interface wan0; }' 'zone containers { interface docker0; forward owned; }' \
	'allow dns server from containers;' 'allow https from wan to wan;' >ownedok.pin
expect owned-allow 1 "owned.pin:5:13: warning: zone 'containers' leaves its forwarded traffic to the interfaces' owner \('forward owned', line 3\): this statement decides none of it.*\[PH119\]" "$bin" check owned.pin
grep -Eq "owned.pin:6:19: warning: zone 'containers' leaves.*\[PH119\]" "$tmp/both" && ok || bad "owned-deny: no PH119 for line 6"
grep -Eq "owned.pin:7:12: warning: zone 'lan' has interface br-\*, which zone 'containers' leaves to its owner.*\[PH119\]" "$tmp/both" && ok || bad "owned-overlap: no PH119 for line 7"
not_in owned-host-rule 'owned.pin:4:'
expect owned-ok 0 '' "$bin" check ownedok.pin
expect owned-off 0 '' "$bin" check -Wno-owned-forward owned.pin
# Exact: two denies that each drop half of the rewritten connections empty the forward too
# (one PH116 naming both, no PH112); with a hole left between them it forwards something.
printf '%s\n' 'zone lan { interface lan0; address 10.1.0.0/24; }' 'zone wan { interface wan0; }' \
	'forward tcp/8443 from wan to 10.1.0.3 port 443;' 'deny tcp/443 from 0.0.0.0/1 to 10.1.0.0/24;' \
	'deny tcp/443 from 128.0.0.0/1 to 10.1.0.0/24;' >natpair.pin
sed 's|128.0.0.0/1|128.0.0.0/2|' natpair.pin >nathole.pin
expect nat-forward-denied-pair 1 'natpair.pin:3:1: warning: the connections this forward rewrites are all dropped by lines 4 and 5: it forwards nothing \(e\.g\. ' "$bin" check natpair.pin
not_in nat-forward-denied-pair-once 'PH112'
expect nat-forward-denied-off 0 '' "$bin" check natpair.pin -Wno-forward-denied
expect nat-forward-hole-open 0 '' "$bin" check nathole.pin
# The same on the rewritten connections only: a forward from one network before it takes
# those sources, and the deny that drops the rest leaves the second forward nothing it admits.
printf '%s\n' 'zone lan { interface lan0; address 10.1.0.0/24; }' 'zone wan { interface wan0; }' \
	'forward tcp/8443 from 198.51.100.0/24 to 10.1.0.4 port 443;' \
	'forward tcp/8443 from wan to 10.1.0.3 port 443;' 'deny tcp/443 from wan to 10.1.0.3;' >natpart.pin
expect nat-forward-denied-rest 1 'natpart.pin:4:1: warning: the connections this forward rewrites are all dropped by line 5: it forwards nothing \(e\.g\. tcp 0\.0\.0\.0:0 -> 0\.0\.0\.0:8443 in new iif wan0, rewritten to tcp 0\.0\.0\.0:0 -> 10\.1\.0\.3:443 fwd new iif wan0 dnat\) \[PH116\]' "$bin" check natpart.pin
not_in nat-forward-denied-rest-first 'natpart.pin:3:'

# Port forwards against each other (the first DNAT rule that matches is final): a forward
# whose connections an earlier one rewrites all, elsewhere (PH112, with the connection as it
# arrives and rewritten, and where this forward would send it) or to the same place (PH105).
# A forward behind an allow of the same inside host is needed all the same (its rewrite is).
printf '%s\n' 'zone lan { interface lan0; address 10.1.0.0/24; }' 'zone wan { interface wan0; }' \
	'allow https from wan to 10.1.0.3;' 'forward tcp/8443 from wan to 10.1.0.3 port 443;' \
	'forward tcp/8443 from partner to 10.1.0.4 port 443;' \
	'forward tcp/8443 from wan to 10.1.0.3 port 443;' 'forward tcp/8000-8999 from wan to 10.1.0.5;' \
	'zone partner { interface wan0; address 198.51.100.0/24; }' >natshadow.pin
expect nat-forward-shadowed 1 'natshadow.pin:5:1: warning: this forward is shadowed: it rewrites no connection, as line 4 rewrites every connection it matches first \(e\.g\. tcp 198\.51\.100\.0:0 -> 0\.0\.0\.0:8443 in new iif wan0, rewritten to tcp 198\.51\.100\.0:0 -> 10\.1\.0\.3:443 fwd new iif wan0 dnat by line 4; this forward would send it to 10\.1\.0\.4:443\) \[PH112\]' "$bin" check natshadow.pin
grep -Eq 'natshadow.pin:6:1: warning: this forward adds nothing: line 4 already rewrites every connection it matches, to the same address and port \[PH105\]' "$tmp/both" && ok || bad "nat-forward-covered: no PH105 for line 6"
not_in nat-forward-behind-allow 'natshadow.pin:4:'
not_in nat-forward-partly-shadowed 'natshadow.pin:7:'
expect nat-forward-witness 0 'dnat: +natshadow.pin:4:' "$bin" explain natshadow.pin 'tcp 198.51.100.0:0 -> 0.0.0.0:8443 in new iif wan0'
expect nat-forward-shadow-off 0 '' "$bin" check -Wno-shadowed-statement -Wno-redundant-statement natshadow.pin

# Source translation that translates nothing (PH105): a masquerade of a zone the filter lets
# nothing out of, and an snat whose connections a masquerade before it translates (first
# match); the masquerade of lan, which an allow lets out, is no finding.
printf '%s\n' 'zone lan { interface lan0; address 10.1.0.0/24, fd00:1::/64; }' \
	'zone dmz { interface dmz0; address 10.2.0.0/24; }' 'zone wan { interface wan0; }' \
	'allow https from lan to wan;' 'masquerade from lan to wan;' 'masquerade from dmz to wan;' \
	'snat from 10.1.0.0/25 to wan as 198.51.100.7;' >natsrc.pin
expect nat-masquerade-nothing 1 "natsrc.pin:6:1: warning: this masquerade adds nothing: the filter lets out no new connection it matches \(none from its sources leaves by zone 'wan'\) \[PH105\]" "$bin" check natsrc.pin
grep -Eq 'natsrc.pin:7:1: warning: this snat adds nothing: line 5 translates every connection it matches first \(e\.g\. tcp 10\.1\.0\.0:0 -> 0\.0\.0\.0:443 fwd new iif lan0 oif wan0\) \[PH105\]' "$tmp/both" && ok || bad "nat-snat-behind-masquerade: no PH105 for line 7"
not_in nat-masquerade-used 'natsrc.pin:5:'
expect nat-snat-witness 0 'snat: +natsrc.pin:5:' "$bin" explain natsrc.pin 'tcp 10.1.0.0:0 -> 0.0.0.0:443 fwd new iif lan0 oif wan0'

# An administration port of an inside host forwarded to public sources (PH114 on the
# forward, the connection as it arrives and as the filter admits it, which explain confirms);
# a forward from a private network, or of another port, is no finding.
printf '%s\n' 'zone lan { interface lan0; address 192.168.1.0/24; }' 'zone wan { interface wan0; }' \
	'forward tcp/2222 from wan to 192.168.1.10 port 22;' 'forward tcp/3390 from 10.0.0.0/8 to 192.168.1.11 port 3389;' \
	'forward tcp/8443 from wan to 192.168.1.12 port 443;' >natadmin.pin
expect nat-forward-admin 1 "natadmin.pin:3:1: warning: this forward opens ssh \(tcp/22\) of 192\.168\.1\.10 to public addresses, e\.g\. tcp 1\.0\.0\.0:0 -> 0\.0\.0\.0:2222 in new iif wan0, rewritten to tcp 1\.0\.0\.0:0 -> 192\.168\.1\.10:22 fwd new iif wan0 dnat: restrict its sources with 'from ADDRS' \(a management network, a VPN\) \[PH114\]" "$bin" check natadmin.pin
not_in nat-forward-admin-private 'natadmin.pin:[45]:'
expect nat-forward-admin-explain 0 'verdict: accept' "$bin" explain natadmin.pin 'tcp 1.0.0.0:0 -> 0.0.0.0:2222 in new iif wan0'
grep -Eq 'filtered as: tcp 1\.0\.0\.0:0 -> 192\.168\.1\.10:22 fwd' "$tmp/both" && ok || bad "nat-forward-admin-explain: not rewritten to 192.168.1.10:22"
# an allow before the forward admits its connections: still the forward's finding, naming it
printf '%s\n' 'zone lan { interface lan0; address 192.168.1.0/24; }' 'zone wan { interface wan0; }' \
	'allow ssh from 10.0.0.0/8 to 192.168.1.10;' 'allow tcp/22 from wan to 192.168.1.10;' \
	'forward tcp/2222 from wan to 192.168.1.10 port 22;' >natadmin2.pin
expect nat-forward-admin-by-allow 1 'natadmin2.pin:5:1: warning: this forward opens ssh \(tcp/22\) of 192\.168\.1\.10 .*, which line 4 accepts: .*\[PH114\]' "$bin" check natadmin2.pin
grep -Eq 'natadmin2.pin:4:1: warning: ssh \(tcp/22\) is open to public addresses, e\.g\. tcp 1\.0\.0\.0:0 -> 192\.168\.1\.10:22 fwd new iif wan0: .*\[PH114\]' "$tmp/both" && ok || bad "nat-forward-admin-direct: no PH114 for line 4"
expect nat-forward-admin-off 0 '' "$bin" check -Wno-broad-admin-access natadmin.pin

# Restrictions that hit this host's broadcasts: a list of hosts only.
printf 'allow smb server from 10.0.0.7, 10.0.0.8;\n' >smbhosts.pin
printf 'allow smb server from 10.0.0.0/24;\n' >smbnet.pin
# (smb over IPv4 only is PH113's: not what these test)
expect broadcast-note 0 "smbhosts.pin:1:18: note: smb flow 'browse' carries broadcasts: this restriction also limits this host's broadcasts.*\\[PH202\\]" "$bin" check -Wno-PH113 smbhosts.pin
expect broadcast-subnet 0 '' "$bin" check -Wno-family-parity smbnet.pin
not_in broadcast-subnet-quiet 'PH202'
expect broadcast-sarif 0 '"ruleId": "PH202", "ruleIndex": [0-9]+, "level": "note"' "$bin" check -Wno-PH113 --format=sarif smbhosts.pin

# Helper channels: a note that pinholed must run, naming them once per statement; none with
# 'negotiated static;'; -Wno-needs-pinholed turns it off.
printf 'allow ssh client;\nallow nfs client;\n' >helper.pin
printf 'allow nfs client;\nnegotiated static;\n' >static.pin
expect helper-note 0 "helper.pin:2:1: note: helper channels nfs flow mountd \\(rpc\\), nfs flow nlockmgr \\(rpc\\), nfs flow statd \\(rpc\\) open only while pinholed runs with this policy.*\\[PH203\\]" "$bin" check helper.pin
expect helper-note-static 0 '' "$bin" check static.pin
not_in helper-note-static-quiet 'PH203'
expect helper-note-off 0 '' "$bin" check -Wno-needs-pinholed helper.pin
# A target without pinholed (iptables, ip6tables): a warning instead of the note, at the same
# statement; none with 'negotiated static;', nor for nft; an unknown target is a usage error.
expect target-helper 1 "helper.pin:2:1: warning: iptables cannot give helper channels nfs flow mountd \\(rpc\\), nfs flow nlockmgr \\(rpc\\), nfs flow statd \\(rpc\\): pinholed opens them in nft sets only.*\\[PH118\\]" "$bin" check -t iptables helper.pin
not_in target-helper-no-note 'PH203'
expect target-helper-v6 1 "helper.pin:2:1: warning: ip6tables cannot give helper channels.*\\[PH118\\]" "$bin" check --target=ip6tables helper.pin
expect target-helper-static 0 '' "$bin" check -t iptables static.pin
expect target-helper-nft 0 'PH203' "$bin" check --target nft helper.pin
not_in target-helper-nft-quiet 'PH118'
expect target-helper-off 0 '' "$bin" check -t iptables -Wno-target-lacks-helper helper.pin
expect target-unknown 2 "unknown target 'pf'" "$bin" check -t pf helper.pin
not_in helper-note-off-quiet 'PH203'
expect helper-note-json 0 '"id": "PH203"' "$bin" check --format=json helper.pin

# Odd bytes in a file name still make valid JSON and SARIF; a missing policy has no location.
printf 'allow ssh client;\nallow ssh client;\n' >"$(printf 'odd\377\001name.pin')"
"$bin" check --format=json "$(printf 'odd\377\001name.pin')" >odd.json 2>/dev/null
validate json-odd-name "$root/$ours" odd.json
"$bin" check --format=sarif "$(printf 'odd\377\001name.pin')" >odd.sarif 2>/dev/null
validate sarif-odd-name "$root/$sarif" odd.sarif
expect json-missing 2 '"location": null' "$bin" check --format=json none.pin
cp out missing.json
validate json-missing "$root/$ours" missing.json
"$bin" check --format=sarif none.pin >missing.sarif 2>/dev/null
validate sarif-missing "$root/$sarif" missing.sarif

# Bash completion offers check's and explain's new options.
comp() { bash -c '. "$0"; COMP_WORDS=("${@}"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _pinhole; printf "%s " "${COMPREPLY[@]}"' "$root/dist/pinhole.bash-completion" "$@"; }
[ "$(comp pinhole check --fo)" = "--format=text --format=json --format=sarif --format=github " ] && ok || bad "completion: check --fo gives '$(comp pinhole check --fo)'"
[ "$(comp pinhole explain --w)" = "--why-not " ] && ok || bad "completion: explain --w gives '$(comp pinhole explain --w)'"

# The exact analysis (docs/check.md): union-aware shadowing with the blocking lines and a
# witness, later statements that make one unneeded, one-family apps, public admin ports.
printf 'deny ssh server from 10.0.0.0/9;\ndeny ssh server from 10.128.0.0/9;\ndeny ssh server from fd00::/8;\nallow ssh server from 10.0.0.0/8, fd00::/8;\n' >shadow.pin
expect shadowed 1 'shadow.pin:4:1: warning: this statement is shadowed: .*lines 1, 2 and 3 decide.*e\.g\. tcp \S+ -> \S+:22 in new: drop by line [123]\) \[PH112\]' "$bin" check shadow.pin
printf 'deny ssh server from 10.0.0.0/9;\nallow ssh server from 10.0.0.0/8, fd00::/8;\n' >partial.pin
expect shadowed-partly 0 '' "$bin" check partial.pin
printf 'allow ssh server from 10.1.0.0/16, fd00::/8;\nallow ssh server from 10.0.0.0/8, fd00::/8;\n' >later.pin
expect unneeded-by-later 1 'later.pin:1:1: warning: this statement adds nothing: without it line 2 would decide .*\[PH105\]' "$bin" check later.pin
not_in unneeded-only-first 'later.pin:2:'
printf 'allow ssh server from 10.0.0.0/8;\nallow http server from 10.0.0.0/8, fd00::/8;\n' >parity.pin
expect family-parity 1 "parity.pin:1:1: warning: 'ssh' is allowed over IPv4 only.*\[PH113\]" "$bin" check parity.pin
not_in family-parity-http "'http' is allowed"
printf 'allow ssh server;\n' >adminpub.pin
expect admin-public 1 'adminpub.pin:1:1: warning: ssh \(tcp/22\) is open to public addresses, e\.g\. tcp [0-9.]+:[0-9]+ -> .*\[PH114\]' "$bin" check adminpub.pin
printf 'allow ssh server from 192.168.0.0/16, fd00::/8;\n' >adminlan.pin
expect admin-lan 0 '' "$bin" check adminlan.pin
expect compile-no-analysis 0 '' "$bin" compile adminpub.pin
not_in compile-quiet 'PH114'

printf 'allow ssh server from 10.0.0.0/25, fd00::/8;\nallow http server;\n' >mgmt.pin
expect mgmt-lockout 1 'warning: the management network 10\.0\.0\.0/24 cannot always reach ssh \(tcp/22\) on this host: e\.g\. tcp 10\.0\.0\.(12[89]|1[3-9][0-9]|2[0-5][0-9]):[0-9]+ -> \S+:22 in new.* dropped by the default policy \[PH115\]' "$bin" check --mgmt 10.0.0.0/24 mgmt.pin
expect mgmt-ok 0 '' "$bin" check --mgmt 10.0.0.0/26,fd00:1::/64 mgmt.pin
printf 'deny ssh server from fd00:1::5;\nallow ssh server from 10.0.0.0/25, fd00::/8;\n' >mgmt6.pin
expect mgmt-v6 1 'management network fd00:1::/64 .*\[fd00:1::5\].* dropped by line 1 \[PH115\]' "$bin" check --mgmt fd00:1::/64 mgmt6.pin
expect mgmt-bad 2 '--mgmt 10\.0\.0\.0/33' "$bin" check --mgmt 10.0.0.0/33 mgmt.pin

# The same declared in the policy (`management from ADDRS;`): found at the address in the
# statement, IPv4 and IPv6, by a define too; --mgmt adds to it, a network given both ways is
# tested once; a suppression comment on the statement's line works as for any finding.
printf 'management from 10.0.0.0/24, fd00:1::/64;\nallow ssh server from 10.0.0.0/25, fd00::/8;\nallow http server;\n' >mgmtst.pin
expect mgmt-stmt 1 'mgmtst\.pin:1:17: warning: the management network 10\.0\.0\.0/24 cannot always reach ssh \(tcp/22\) on this host: e\.g\. tcp 10\.0\.0\.(12[89]|1[3-9][0-9]|2[0-5][0-9]):[0-9]+ -> \S+:22 in new.* dropped by the default policy \[PH115\]' "$bin" check mgmtst.pin
not_in mgmt-stmt-v6-ok 'fd00:1::/64 cannot'
[ "$(grep -c 'PH115' "$tmp/both")" -eq 1 ] && ok || bad "mgmt-stmt: $(grep -c PH115 "$tmp/both") PH115 findings, not 1"
printf 'deny ssh server from fd00:1::5;\ndefine admins = 10.0.0.0/26, fd00:1::/64;\nmanagement from admins;\nallow ssh server from 10.0.0.0/25, fd00::/8;\n' >mgmtdef.pin
expect mgmt-stmt-define 1 'mgmtdef\.pin:3:17: warning: the management network fd00:1::/64 .*\[fd00:1::5\].* dropped by line 1 \[PH115\]' "$bin" check mgmtdef.pin
not_in mgmt-stmt-define-used 'PH10[0-9].*admins'
expect mgmt-both 1 'pinhole: warning: the management network 192\.0\.2\.0/24 cannot' "$bin" check --mgmt 192.0.2.0/24,fd00:1::/64 mgmtdef.pin
[ "$(grep -c 'fd00:1::/64 cannot' "$tmp/both")" -eq 1 ] && ok || bad "mgmt-both: fd00:1::/64 tested $(grep -c 'fd00:1::/64 cannot' "$tmp/both") times, not once"
grep -q 'mgmtdef\.pin:3:17: warning: the management network fd00:1::/64' "$tmp/both" && ok || bad "mgmt-both: the declared network lost its place"
printf 'deny ssh server from fd00:1::5;\ndefine admins = 10.0.0.0/26, fd00:1::/64;\nmanagement from admins; # pinhole: ignore PH115 because fd00:1::5 is retired\nallow ssh server from 10.0.0.0/25, fd00::/8;\n' >mgmtign.pin
expect mgmt-stmt-ignored 0 '' "$bin" check mgmtign.pin
expect mgmt-stmt-json 1 '"line": 3' "$bin" check --format=json mgmtdef.pin
printf 'management from 10.0.0.0/8;\n' >mgmtnone.pin
expect mgmt-stmt-no-rules 1 'mgmtnone\.pin:1:17: warning: the management network 10\.0\.0\.0/8 cannot .*default policy \[PH115\]' "$bin" check mgmtnone.pin
# A port forward of tcp/22 takes the management network's ssh to another host as surely as a
# drop (PH115, the forward named, explain agreeing that the witness is rewritten); a forward
# from another port, or from sources outside the network, leaves it alone.
printf '%s\n' 'zone lan { interface lan0; address 10.1.0.0/24; }' 'zone wan { interface wan0; }' \
	'management from 198.51.100.0/24;' 'allow ssh server;' 'forward tcp/22 from wan to 10.1.0.3;' >mgmtfw.pin
expect mgmt-forward 1 'mgmtfw\.pin:3:17: warning: the management network 198\.51\.100\.0/24 cannot always reach ssh \(tcp/22\) on this host: e\.g\. tcp 198\.51\.100\.[0-9]+:[0-9]+ -> \S+:22 in new iif wan0 is forwarded to another host by line 5 \[PH115\]' "$bin" check mgmtfw.pin
w=$(grep -o 'e\.g\. tcp 198[^ ]* -> [^ ]* in new iif wan0' "$tmp/both" | head -1 | sed 's/^e\.g\. //')
expect mgmt-forward-explain 0 'dnat: +mgmtfw\.pin:5: forward tcp/22' "$bin" explain mgmtfw.pin "${w:-none}"
sed 's|^forward tcp/22 from wan to 10.1.0.3;|forward tcp/2222 from wan to 10.1.0.3 port 22;|' mgmtfw.pin >mgmtfw2.pin
sed 's|^forward tcp/22 from wan to|forward tcp/22 from 203.0.113.0/24 to|' mgmtfw.pin >mgmtfw3.pin
for f in mgmtfw2 mgmtfw3; do
	expect "$f-runs" 1 'PH114' "$bin" check $f.pin
	not_in "$f-no-lockout" 'PH115'
done
# It compiles to nothing: the ruleset is the one without it (no rule opened, none widened).
printf 'allow ssh server from 10.0.0.0/25, fd00::/8;\nallow http server;\n' >mgmtno.pin
if "$bin" compile -o mgmtst.nft mgmtst.pin && "$bin" compile -o mgmtno.nft mgmtno.pin &&
	diff <(grep -v '^#' mgmtst.nft | sed 's/mgmtst\.pin:[0-9]*/P/g; s/line [0-9]*/line N/g') \
	     <(grep -v '^#' mgmtno.nft | sed 's/mgmtno\.pin:[0-9]*/P/g; s/line [0-9]*/line N/g') >/dev/null; then
	ok
else
	bad "mgmt-compile: a management statement changed the compiled ruleset"
fi

# Usage.
expect help 0 '--fail-on=LEVEL' "$bin" check --help
expect format-bad 2 "unknown format 'xml'" "$bin" check --format=xml warn.pin
expect no-policy 2 'which policies' "$bin" check --format=json

# Every option `pinhole check --help` lists is in pinhole(8) and docs/check.md.
"$bin" check --help >help.txt
groff -man -Tascii -P-cbou -rLL=2000n "$root/build/man/pinhole.8" 2>/dev/null >man8.txt
for o in $(grep -oE '(^|[ ,])--?[a-zA-Z][-a-zA-Z]*' help.txt | tr -d ' ,' | sort -u); do
	grep -qF -- "$o" man8.txt && ok || bad "pinhole(8) does not mention check's option '$o'"
	case $o in -h|--help|-L|--stateless|--stateful) continue ;; esac
	grep -qF -- "$o" "$root/docs/check.md" && ok || bad "docs/check.md does not mention '$o'"
done
# Every ID is in docs/check.md's table, and the table has no ID pinhole does not know.
"$bin" check --format=sarif clean.pin | grep -oE '"id": "PH[0-9]+"' | grep -oE 'PH[0-9]+' | sort >ids.bin
grep -oE '^\| PH[0-9]+ ' "$root/docs/check.md" | grep -oE 'PH[0-9]+' | sort >ids.doc
diff ids.bin ids.doc >/dev/null && ok || bad "docs/check.md's IDs differ from pinhole's: $(diff ids.bin ids.doc | tr '\n' ' ')"

# The exact analysis stays linear: 1,000 statements each written twice (1,000 PH105 findings)
# take a few BDD tests of one rule against another per statement (`check -v` counts them), not
# one per statement before it (about 2,000,000 before the overlap index, compiler/analysis/overlap.c).
awk 'BEGIN { for (r = 0; r < 2; r++) for (i = 0; i < 1000; i++)
	printf "allow tcp/%d server from 10.%d.%d.0/24;\n", 1000 + i, int(i / 250), i % 250 }' >big.pin
"$bin" check -v big.pin >big.out 2>big.err
pairs=$(sed -n 's/.*exact analysis: \([0-9]*\) rule pairs tested.*/\1/p' big.err)
[ -n "$pairs" ] && [ "$pairs" -le 8000 ] && ok || bad "check of 2,000 statements: ${pairs:-no} rule pairs tested (over 8,000: quadratic again?)"
# and BuDDy's work stays linear too (compiler/analysis/pks_rule.c, exact.c): each rule's BDD
# is built once, bottom up, and what it decides comes from its few overlap candidates, not
# from a union over the whole policy: 84,370 nodes at the time of writing (246,663 before)
nodes=$(sed -n 's/.*exact analysis: .* \([0-9]*\) BDD nodes made, \([0-9]*\) garbage.*/\1 \2/p' big.err)
set -- $nodes
[ -n "$nodes" ] && [ "$1" -le 200000 ] && [ "$2" -eq 0 ] && ok ||
	bad "check of 2,000 statements: ${1:-no} BDD nodes made (over 200,000?), ${2:-no} garbage collections (not 0?)"
[ "$(grep -c 'PH105' big.err)" -eq 1000 ] && ok || bad "check of 2,000 statements: $(grep -c PH105 big.err) PH105 findings, not 1,000"
[ "$(grep -oE '"fingerprint": "[^"]*"' <("$bin" check --format=json big.pin) | sort -u | wc -l)" -eq 1000 ] && ok ||
	bad "check of 2,000 statements: the 1,000 fingerprints are not distinct"
# 15,000 statements: the node table is sized for the rules from the start (pktspace.c), so
# BuDDy makes about 76 nodes a rule and never collects garbage or rehashes the table (a
# table grown on demand did twice here, 3 times at 50,000 rules: the superlinear step)
awk 'BEGIN { for (i = 0; i < 15000; i++)
	printf "allow tcp/%d server from 10.%d.%d.0/24;\n", 10000 + i, int(i / 256), i % 256 }' >big15k.pin
"$bin" check -v --fail-on=error big15k.pin >big15k.out 2>big15k.err
nodes=$(sed -n 's/.*exact analysis: .* \([0-9]*\) BDD nodes made, \([0-9]*\) garbage.*/\1 \2/p' big15k.err)
set -- $nodes
[ -n "$nodes" ] && [ "$1" -le 1500000 ] && [ "$2" -eq 0 ] && ok ||
	bad "check of 15,000 statements: ${1:-no} BDD nodes made (over 100 a statement?), ${2:-no} garbage collections (not 0: the table grows again?)"

# 1,000 zones of one interface each: a rule's interface is its atom, found by name
# (compiler/analysis/pks_atoms.c), not by testing each of the 1,000 atoms against it (that
# was 2,000,000 tests, quadratic); only the wildcard zone's rule scans the atoms
awk 'BEGIN { for (i = 0; i < 1000; i++) printf "zone z%d { interface eth%d; address 10.%d.%d.0/24; }\n", i, i, int(i / 250), i % 250
	print "zone dial { interface \"ppp*\"; address 172.16.0.0/16; }"
	for (i = 0; i < 1000; i++) printf "allow tcp/5201 server from z%d;\n", i
	print "allow tcp/5201 server from dial;" }' >zones.pin
"$bin" check -v zones.pin >zones.out 2>zones.err
names=$(sed -n 's/.*exact analysis: .*, \([0-9]*\) interface name tests.*/\1/p' zones.err)
[ -n "$names" ] && [ "$names" -le 4000 ] && ok ||
	bad "check of 1,000 zones: ${names:-no} interface name tests (over 4,000: a scan of every atom per rule again?)"
[ "$(grep -c 'PH1' zones.err)" -eq 0 ] && ok || bad "check of 1,000 zones: findings: $(grep PH1 zones.err | head -3)"

echo "check: $pass passed, $fail failed"
[ $fail -eq 0 ]
