# pinhole import: usage, errors with their place, notes, output that compiles, and every
# import checked against the database it came from (tests/cli/import_check.py): the fixtures
# in tests/import/ always, the whole of Debian's firewalld, ufw and FireHOL databases when
# their packages can be downloaded. Sourced by tests/cli/run.sh: uses its $bin, $tmp, expect,
# pass and fail.

imp_ok() { pass=$((pass + 1)); }
imp_bad() { echo "cli: FAIL import: $*"; fail=$((fail + 1)); }

expect import-help 0 '^usage: pinhole import FORMAT' "$bin" import --help
expect import-no-args 2 'which format and files' "$bin" import
expect import-no-files 2 'which format and files' "$bin" import ufw
expect import-unknown-format 2 "unknown format 'pf' \(available: firehol, ufw, firewalld\)" "$bin" import pf x
expect import-unknown-option 2 "unknown option '--nope'" "$bin" import ufw --nope x
expect import-missing-file 2 "cannot read '$tmp/none'" "$bin" import ufw "$tmp/none"
expect import-device 2 "cannot read '/dev/zero': a character device" timeout 20 "$bin" import firehol /dev/zero
expect import-not-text 2 'not a text file' sh -c "printf '[a]\\0\\n' > '$tmp/nul'; '$bin' import ufw '$tmp/nul'"

# Errors: FILE:LINE:COL, the line, a caret; exit 2, and -o left alone.
printf '<service>\n  <port protocol="tcp" port="8x"/>\n</service>\n' > "$tmp/bad.xml"
echo stale > "$tmp/keep.pin"
expect import-xml-port 2 'bad.xml:2:30: error: .8x. is not a port' "$bin" import firewalld -o "$tmp/keep.pin" "$tmp/bad.xml"
if [ "$(cat "$tmp/keep.pin")" = stale ] && [ -z "$(ls "$tmp" | grep '\.tmp\.')" ]; then imp_ok; else
	imp_bad "a failed import touched the output file"; fi
"$bin" import firewalld "$tmp/bad.xml" 2>&1 | grep -qx '                             \^~' && imp_ok ||
	imp_bad "no caret under the bad port"
printf '<service>\n  <port protocol="tcp" port="80">\n</service>\n' > "$tmp/unclosed.xml"
expect import-xml-nesting 2 'unclosed.xml:3:3: error: expected </port> to close <port> of line 2' "$bin" import firewalld "$tmp/unclosed.xml"
printf '<!DOCTYPE x [<!ENTITY a "b">]>\n<service/>\n' > "$tmp/dtd.xml"
expect import-xml-dtd 2 'dtd.xml:1:1: error: a DTD' "$bin" import firewalld "$tmp/dtd.xml"
printf '<service>\n  <rule family="ipv4"/>\n</service>\n' > "$tmp/rule.xml"
expect import-xml-outside 2 'rule.xml:2:4: error: <rule> is outside what pinhole import reads' "$bin" import firewalld "$tmp/rule.xml"
printf '[Web]\ntitle=Web\ndescription=web\nports=80,443\n' > "$tmp/web.ufw"
expect import-ufw-list 2 'web.ufw:4:7: error: .80,443.: ufw needs a protocol' "$bin" import ufw "$tmp/web.ufw"
printf '[Web]\ntitle=Web\nports=80/tcp\n' > "$tmp/nodesc.ufw"
expect import-ufw-field 2 "nodesc.ufw:1:2: error: profile 'Web' has no description" "$bin" import ufw "$tmp/nodesc.ufw"
printf 'server_x_ports="tcp/80"\necho hello\n' > "$tmp/shell.conf"
expect import-firehol-shell 2 "shell.conf:2:1: error: 'echo' is shell code" "$bin" import firehol "$tmp/shell.conf"
printf 'server_x_ports="tcp/80 tcp/99999"\nclient_x_ports="default"\n' > "$tmp/range.conf"
expect import-firehol-port 2 'range.conf:1:24: error: .tcp/99999. is not a port' "$bin" import firehol "$tmp/range.conf"

# Notes: what is not carried over, at its place; the import still succeeds.
cat > "$tmp/svc.conf" <<'EOF'
#FHVER: 1:213
server_web_ports="tcp/80 tcp/8000:8080"   # a comment
client_web_ports="default"
server_vpn_ports="udp/1194 51/any"
client_vpn_ports='any'
helper_vpn="mms"
rules_complex() {
	echo "{ not a brace }"
}
server_log_ports="udp/514"
client_log_ports="default"
EOF
expect import-firehol-complex 0 "svc.conf:7:1: note: complex service 'complex' is a bash function" "$bin" import firehol -o "$tmp/svc.pin" "$tmp/svc.conf"
expect import-firehol-proto 0 "svc.conf:4:28: note: protocol of '51/any' cannot be written" "$bin" import firehol "$tmp/svc.conf"
expect import-firehol-helper 0 "svc.conf:6:13: note: helper 'mms': the mainline kernel has no mms helper" "$bin" import firehol "$tmp/svc.conf"
expect import-firehol-keyword 0 "note: 'log' is a keyword of the policy language; the app is named 'log-app'" "$bin" import firehol "$tmp/svc.conf"
grep -q 'flow tcp-80: client -> server tcp sport 1024-65535 dport 80, 8000-8080' "$tmp/svc.pin" && imp_ok ||
	imp_bad "firehol: the web service's flow is not as written in the file"
printf 'include "svc.pin";\nallow web, vpn, log-app server;\nallow web client;\n' > "$tmp/use.pin"
expect import-compiles 0 '' "$bin" check "$tmp/use.pin"
expect import-quiet 0 '' sh -c "'$bin' import -q firehol '$tmp/svc.conf' 2>&1 >/dev/null | grep -c note: | grep -qx 0"

# firewalld bundles: <include> becomes `uses`; a cycle is broken with a note.
printf '<service><short>A</short><port protocol="tcp" port="1"/><include service="b"/></service>\n' > "$tmp/a.xml"
printf '<service><short>B</short><port protocol="udp" port="2"/><include service="a"/></service>\n' > "$tmp/b.xml"
expect import-cycle 0 "b.xml:1:58: note: 'b' using 'a' would close a cycle of includes; left out" "$bin" import firewalld -o "$tmp/ab.pin" "$tmp/a.xml" "$tmp/b.xml"
grep -q '^    uses b;' "$tmp/ab.pin" && ! grep -q '^    uses a;' "$tmp/ab.pin" && imp_ok || imp_bad "firewalld: a uses b, and b not a"
printf 'include "ab.pin";\nallow a server;\n' > "$tmp/ab-use.pin"
expect import-bundle-compiles 0 '' "$bin" check "$tmp/ab-use.pin"
expect import-bundle-port 0 '^accept' "$bin" explain --brief "$tmp/ab-use.pin" 'udp 192.0.2.7:40000 -> 10.0.0.5:2 in'
expect import-library-name 0 "note: app 'ssh' is also the library's app 'ssh'" sh -c "printf '[SSH]\\ntitle=s\\ndescription=d\\nports=22/tcp\\n' > '$tmp/ssh.ufw'; '$bin' import ufw '$tmp/ssh.ufw'"

# Every fixture, checked against the file it came from.
for fmt in firewalld ufw firehol; do
	if python3 tests/cli/import_check.py "$bin" "$fmt" tests/import/"$fmt"/* > "$tmp/check.out" 2>&1; then imp_ok; else
		imp_bad "fixtures of $fmt:"; sed 's/^/    /' "$tmp/check.out" | head -25; fi
done

# The whole databases of Debian's packages, downloaded (never installed) into build/import-debs.
debs=build/import-debs
if [ ! -d "$debs/x/usr/lib/firewalld/services" ]; then
	rm -rf "$debs" && mkdir -p "$debs"
	# apt-get download needs the package lists: root refreshes them once if they are missing.
	get() { (cd "$debs" && timeout 120 apt-get download firewalld ufw firehol firehol-common >/dev/null 2>&1); }
	if get || { [ "$(id -u)" = 0 ] && timeout 300 apt-get update -qq >/dev/null 2>&1 && get; }; then
		for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$debs/x"; done
	fi
fi
if [ -d "$debs/x/usr/lib/firewalld/services" ]; then
	for set in "firewalld $debs/x/usr/lib/firewalld/services/*.xml" "ufw $debs/x/etc/ufw/applications.d/*" \
		"firehol $debs/x/usr/lib/firehol/services.common" "firehol $debs/x/usr/lib/firehol/services.firehol"; do
		# shellcheck disable=SC2086
		if python3 tests/cli/import_check.py build/pinhole $set > "$tmp/check.out" 2>&1; then imp_ok
			echo "cli: $(tail -1 "$tmp/check.out")"; else
			imp_bad "Debian database ${set%% *}:"; sed 's/^/    /' "$tmp/check.out" | head -25; fi
	done
elif [ "${CI:-}" = true ]; then
	imp_bad "cannot download firewalld, ufw and firehol with apt-get download (offline?): under CI=true that is a failure"
else
	echo "cli: SKIP import of Debian's whole databases: apt-get download firewalld ufw firehol failed (offline?)"
fi
