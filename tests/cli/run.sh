#!/usr/bin/env bash
# Command-line behaviour: exit codes, check/explain/apps output, the library search path,
# and an installed copy finding its installed library. Runs the sanitizer build.
set -u
cd "$(dirname "$0")/../.."
bin=${PINHOLE:-build/pinhole-asan}
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# expect NAME EXIT_STATUS REGEX COMMAND...: status must match, and REGEX (if any) must occur
# in stdout+stderr.
expect() {
	local name=$1 want=$2 re=$3
	shift 3
	"$@" >"$tmp/out" 2>&1
	local rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "cli: FAIL $name: exit $rc, expected $want"; sed 's/^/    /' "$tmp/out" | head -20
		fail=$((fail + 1)); return
	fi
	if [ -n "$re" ] && ! grep -Eq -- "$re" "$tmp/out"; then
		echo "cli: FAIL $name: output lacks /$re/"; sed 's/^/    /' "$tmp/out" | head -20
		fail=$((fail + 1)); return
	fi
	pass=$((pass + 1))
}

printf 'allow ssh client;\n' > "$tmp/clean.pin"
printf 'define unused = 10.0.0.0/8;\nallow ssh client;\n' > "$tmp/warn.pin"
printf 'allow ssh client\n' > "$tmp/bad.pin"
printf 'allow ssh server from 10.0.0.0/8;\nallow http client;\n' > "$tmp/ex.pin"
printf 'allow ftp client;\n' > "$tmp/ftp.pin"

expect version 0 '^pinhole [0-9]+\.[0-9]+\.[0-9]+$' "$bin" --version
expect help 0 'explain \[--brief\] POLICY PACKET' "$bin" --help
expect no-args 2 'usage: pinhole' "$bin"
expect unknown-command 2 "unknown command 'frobnicate'" "$bin" frobnicate
expect unknown-option 2 "unknown option '--nope'" "$bin" compile --nope "$tmp/clean.pin"
expect unknown-target 2 "unknown target 'pf'" "$bin" compile -t pf "$tmp/clean.pin"
expect missing-file 2 "cannot read '$tmp/none.pin'" "$bin" compile "$tmp/none.pin"
expect check-clean 0 '' "$bin" check "$tmp/clean.pin"
expect check-findings 1 "warning: define 'unused' is never used" "$bin" check "$tmp/warn.pin"
expect check-errors 2 'bad.pin:1:17: error' "$bin" check "$tmp/clean.pin" "$tmp/bad.pin" "$tmp/warn.pin"
expect compile-stdout 0 'table inet pinhole \{' "$bin" compile "$tmp/clean.pin"

# -o: written on success, never written (nor left behind) on failure.
expect compile-o 0 '' "$bin" compile -o "$tmp/ok.nft" "$tmp/clean.pin"
if grep -q 'tcp dport 22 accept' "$tmp/ok.nft" 2>/dev/null; then pass=$((pass + 1)); else
	echo "cli: FAIL compile -o wrote no ruleset"; fail=$((fail + 1)); fi
echo stale > "$tmp/keep.nft"
expect compile-o-error 2 'error' "$bin" compile -o "$tmp/keep.nft" "$tmp/bad.pin"
if [ "$(cat "$tmp/keep.nft")" = stale ] && [ -z "$(ls "$tmp" | grep '\.tmp\.')" ]; then pass=$((pass + 1)); else
	echo "cli: FAIL a failed compile touched the output file"; fail=$((fail + 1)); fi

# diff OLD NEW: newly allowed and newly denied traffic, exactly, with witnesses the
# evaluator confirms (the other policy's verdict on the witness).
printf 'allow ssh server from 10.0.0.0/8;\nallow http server;\n' > "$tmp/old.pin"
printf 'allow ssh server from 10.0.0.0/9;\nallow http server;\nallow https server from 192.168.0.0/16;\n' > "$tmp/new.pin"
printf 'allow http server;\nallow ssh server from 10.0.0.0/9, 10.128.0.0/9;\n' > "$tmp/same.pin"
expect diff-added 1 'new.pin:3: allow https server from 192\.168\.0\.0/16' "$bin" diff "$tmp/old.pin" "$tmp/new.pin"
expect diff-removed 1 'e\.g\.: tcp 10\.(12[89]|1[3-9][0-9]|2[0-5][0-9])\.[0-9.]+:[0-9]+ -> [0-9.]+:22 in new' "$bin" diff "$tmp/old.pin" "$tmp/new.pin"
# every witness is confirmed: the other policy does not accept it
if grep -q 'the other policy: accept' "$tmp/out"; then
	echo "cli: FAIL diff-witness-confirmed: a witness the other policy accepts"; fail=$((fail + 1))
elif ! grep -q 'the other policy: drop' "$tmp/out"; then
	echo "cli: FAIL diff-witness-confirmed: no verdict of the other policy"; fail=$((fail + 1))
else pass=$((pass + 1)); fi
expect diff-same 0 'no difference' "$bin" diff "$tmp/old.pin" "$tmp/same.pin"
expect diff-usage 2 'two policies' "$bin" diff "$tmp/old.pin"
expect diff-bad 2 'cannot read' "$bin" diff "$tmp/old.pin" "$tmp/none.pin"
# diff and explain --to with a port forward: the gateway's own port becomes reachable (the
# witness as it arrives, to this host's port), and the forward that rewrote it is named.
printf 'zone lan { interface lan0; address 10.1.0.0/24; }\nzone wan { interface wan0; }\nallow tcp/80 from lan to wan;\nmasquerade from lan to wan;\n' > "$tmp/gw-old.pin"
cp "$tmp/gw-old.pin" "$tmp/gw-new.pin"
printf 'forward tcp/8443 from wan to 10.1.0.3 port 443;\n' >> "$tmp/gw-new.pin"
expect diff-forward 1 'e\.g\.: tcp [0-9.]+:[0-9]+ -> [0-9.]+:8443 in new iif wan0' "$bin" diff "$tmp/gw-old.pin" "$tmp/gw-new.pin"
expect diff-forward-named 1 'rewritten by: .*gw-new\.pin:5: forward tcp/8443' "$bin" diff "$tmp/gw-old.pin" "$tmp/gw-new.pin"
expect explain-to-forward 0 'gw-new\.pin:5: forward tcp/8443 from wan to 10\.1\.0\.3 port 443' "$bin" explain --to tcp/8443 "$tmp/gw-new.pin"
expect explain-to-unforwarded 1 'no source' "$bin" explain --to tcp/8443 "$tmp/gw-old.pin"
# explain --to: the sources that can connect, per deciding line, exactly, with a witness.
printf 'deny ssh server from 10.1.0.0/16;\nallow ssh server from 10.0.0.0/8, fd00::/8;\nallow http server;\n' > "$tmp/to.pin"
expect explain-to 0 'sources: 10\.0\.0\.0/16, 10\.2\.0\.0/15, 10\.4\.0\.0/14' "$bin" explain --to tcp/22 "$tmp/to.pin"
expect explain-to-v6 0 'sources: fd00::/8' "$bin" explain --to tcp/22 "$tmp/to.pin"
expect explain-to-witness 0 'e\.g\.: tcp 10\.[0-9.]+:[0-9]+ -> [0-9.]+:22 in new' "$bin" explain --to=tcp/22 "$tmp/to.pin"
expect explain-to-http 0 'to.pin:3: allow http server' "$bin" explain --to tcp/80 "$tmp/to.pin"
expect explain-to-closed 1 'in \(to this host\):' "$bin" explain --to tcp/23 "$tmp/to.pin"
expect explain-to-bad 2 '--to takes PROTO/PORT' "$bin" explain --to tcp/x "$tmp/to.pin"
expect explain-to-packet 2 '--to takes a policy file and no packet' "$bin" explain --to tcp/22 "$tmp/to.pin" 'tcp 10.0.0.7:40000 -> 10.0.0.5:22 in'
# explain: verdict line, the deciding FILE:LINE and flow, or `default`.
expect explain-accept 0 '^verdict: accept' "$bin" explain "$tmp/ex.pin" 'tcp 10.0.0.7:40000 -> 10.0.0.5:22 in'
expect explain-line 0 "^rule: +$tmp/ex.pin:1: allow ssh server from 10.0.0.0/8;" "$bin" explain "$tmp/ex.pin" 'tcp 10.0.0.7:40000 -> 10.0.0.5:22 in'
expect explain-flow 0 '^flow: +ssh flow session' "$bin" explain "$tmp/ex.pin" 'tcp 10.0.0.7:40000 -> 10.0.0.5:22 in'
expect explain-default 1 '^rule: +default' "$bin" explain "$tmp/ex.pin" 'tcp 192.0.2.7:40000 -> 10.0.0.5:22 in'
expect explain-words 1 '^verdict: drop' "$bin" explain "$tmp/ex.pin" tcp 192.0.2.7:40000 '->' 10.0.0.5:22 in
expect explain-bad-packet 2 'direction must be in, out or fwd' "$bin" explain "$tmp/ex.pin" 'tcp 1.2.3.4:1 -> 1.2.3.5:2 up'
printf 'tcp 10.0.0.7:1 -> 10.0.0.5:22 in\n# comment\n\ntcp 10.0.0.5:1 -> 192.0.2.9:80 out\ntcp 192.0.2.7:1 -> 10.0.0.5:22 in\n' > "$tmp/pkts"
"$bin" explain --brief "$tmp/ex.pin" - < "$tmp/pkts" > "$tmp/brief" 2>&1
if [ "$(cat "$tmp/brief")" = "$(printf 'accept %s:1\naccept %s:2\ndrop default' "$tmp/ex.pin" "$tmp/ex.pin")" ]; then
	pass=$((pass + 1)); else echo "cli: FAIL explain --brief batch:"; cat "$tmp/brief"; fail=$((fail + 1)); fi

# explain and scoped channels: a single packet meets empty sets (and says what it waits for);
# a batch carries the sets from line to line, as the kernel does.
# realplayer's RTSP data are pinholed's (the SETUP reply's client_port); with 'negotiated
# static;' they fall back to the guide's ports, scoped to the servers of flow rtsp
printf 'allow realplayer client;\n' > "$tmp/rp.pin"
expect explain-rtsp-data 1 '^pinholed: would be accepted once pinholed opens it \(.*rp\.pin:1, a helper channel: realplayer flow data-rtsp, set ph_realplayer_data_rtsp_v4\)' \
	"$bin" explain "$tmp/rp.pin" 'udp 192.0.2.7:5000 -> 10.0.0.5:7000 in'
# ... or by the scoped static fallback of PNA and RTSP over HTTP, whose set is filled apart
expect explain-rtsp-data-or 1 '^scoped: +or would be accepted after 192\.0\.2\.7 used flow pna or rtsp-http of realplayer within 10m \(.*rp\.pin:1, realplayer flow data; set ph_realplayer_servers_v4\)' \
	"$bin" explain "$tmp/rp.pin" 'udp 192.0.2.7:5000 -> 10.0.0.5:7000 in'
printf 'negotiated static;\nallow realplayer client;\n' > "$tmp/rp-static.pin"
expect explain-scoped 1 '^scoped: +would be accepted after 192\.0\.2\.7 used flow rtsp of realplayer within 10m' \
	"$bin" explain "$tmp/rp-static.pin" 'udp 192.0.2.7:5000 -> 10.0.0.5:7000 in'
# a helper channel's data packet: pinholed opens it at run time, after the control message,
# for the flow's timeout; every channel that could take the port is named (mountd, nlockmgr)
printf 'allow nfs client;\n' > "$tmp/nfs.pin"
expect explain-helper 1 '^pinholed: would be accepted once pinholed opens it \(.*nfs\.pin:1, a helper channel: nfs flow mountd, set ph_nfs_mountd_v4, ONC RPC program 100005; or nfs flow nlockmgr, set ph_nfs_nlockmgr_v4, ONC RPC program 100021\)' \
	"$bin" explain "$tmp/nfs.pin" 'udp 10.0.0.1:800 -> 10.0.0.2:20048 out'
expect explain-helper-how 1 '^ +its port is negotiated on flow portmap or portmap-tcp: pinholed opens it at run time, after a control message there \(rpc\) names this port for that channel, for server 10\.0\.0\.2 only, this protocol and port only, for 10m or until the control connection ends; without pinholed running it stays closed' \
	"$bin" explain "$tmp/nfs.pin" 'udp 10.0.0.1:800 -> 10.0.0.2:20048 out'
expect explain-helper-v6 1 'nfs flow mountd, set ph_nfs_mountd_v6, ONC RPC program 100005\)$' \
	"$bin" explain "$tmp/nfs.pin" 'tcp [2001:db8::1]:800 -> [2001:db8::2]:700 out syn'
expect explain-helper-low 1 '^pinholed: never opens port 22 here: below 1024, and no helper channel names it' \
	"$bin" explain "$tmp/nfs.pin" 'udp 10.0.0.1:800 -> 10.0.0.2:22 out'
printf 'allow nfs client;\nnegotiated static;\n' > "$tmp/nfs-static.pin"
"$bin" explain "$tmp/nfs-static.pin" 'udp 10.0.0.1:800 -> 10.0.0.2:20048 out' > "$tmp/out" 2>&1
if grep -q '^pinholed:' "$tmp/out" || ! grep -q '^scoped: ' "$tmp/out"; then
	echo "cli: FAIL explain-static: a static fallback is no helper channel:"; cat "$tmp/out"; fail=$((fail + 1))
else pass=$((pass + 1)); fi
expect explain-records 0 '^records: server 192\.0\.2\.7 in set ph_realplayer_servers_v4 for 10m' \
	"$bin" explain "$tmp/rp.pin" 'tcp 10.0.0.5:40000 -> 192.0.2.7:7070 out syn'
printf 'udp 192.0.2.7:5000 -> 10.0.0.5:7000 in\ntcp 10.0.0.5:40000 -> 192.0.2.7:7070 out syn\nudp 192.0.2.7:5000 -> 10.0.0.5:7000 in\nudp 192.0.2.8:5000 -> 10.0.0.5:7000 in\n' > "$tmp/rp.pkts"
"$bin" explain --brief "$tmp/rp.pin" - < "$tmp/rp.pkts" > "$tmp/brief" 2>&1
if [ "$(cat "$tmp/brief")" = "$(printf 'drop default\naccept %s:1\naccept %s:1\ndrop default' "$tmp/rp.pin" "$tmp/rp.pin")" ]; then
	pass=$((pass + 1)); else echo "cli: FAIL explain --brief batch with a scoped channel:"; cat "$tmp/brief"; fail=$((fail + 1)); fi

# apps and the library search path
expect apps-list 0 '^ssh +Secure shell' "$bin" apps
expect apps-show 0 'control +client -> server tcp dport 21 helper "ftp"' "$bin" apps ftp
expect apps-scoped 0 'scoped: open only to peers that used flow pna or rtsp-http with this host' "$bin" apps realplayer
expect apps-rtsp-data 0 'to the peer that negotiated it only, for 10m \(sets ph_realplayer_data_rtsp_v4, _v6\)' "$bin" apps realplayer
mkdir -p "$tmp/p2plib"
printf 'app p2p "test" {\n    flow data: client -> client tcp dport 7100 negotiated;\n}\n' > "$tmp/p2plib/p2p.pin"
expect apps-not-scoped 0 'not scoped: it runs between clients' "$bin" -L "$tmp/p2plib" apps p2p
# Relayed channels (IRC DCC, MSNFTP): the receiver's and the sender's sets, and the fallback.
expect apps-relayed-msn 0 'relayed: the server of flow hub passes the offers between clients' "$bin" apps msn
expect apps-relayed-listen 0 'sets ph_msn_file_listen_v4, _v6' "$bin" apps msn
expect apps-relayed-irc-fallback 0 "the kernel's irc helper on the control flow instead" "$bin" apps irc
printf 'allow irc, msn client;\n' > "$tmp/relayed.pin"
expect explain-relayed-out 1 'names this port and this address \(an offer the server relays\), for client 192\.0\.2\.7 only' \
	"$bin" explain "$tmp/relayed.pin" 'tcp 10.0.0.5:40000 -> 192.0.2.7:5000 out syn'
expect explain-relayed-in 1 "after this host's own offer there \(irc\) names this port, to any peer" \
	"$bin" explain "$tmp/relayed.pin" 'tcp 192.0.2.7:40000 -> 10.0.0.5:5000 in syn'
printf 'allow msn client;\n' > "$tmp/relayed-msn.pin"
expect explain-relayed-ports 1 'never opens port 6892 here: outside the ports of the relayed channel' \
	"$bin" explain "$tmp/relayed-msn.pin" 'tcp 192.0.2.7:40000 -> 10.0.0.5:6892 in syn'
expect apps-unknown 2 "did you mean 'ftp'" "$bin" apps ftpp
# Helper channels (negotiated PARSER on FLOW): what pinholed reads and opens, and the set it
# fills, named as the compiled ruleset names it; the static fallback only with negotiated static.
expect apps-helper-rpc 0 'helper channel: pinholed reads the portmapper GETPORT and rpcbind GETADDR replies' "$bin" apps nfs
mkdir -p "$tmp/helperlib"
printf 'app tv "test" {\n    flow ctl: client -> server tcp dport 554;\n    flow media-data: server -> client udp dport 6970-6999 negotiated rtsp on ctl timeout 30s;\n}\n' \
	> "$tmp/helperlib/tv.pin"
printf 'allow tv client;\n' > "$tmp/tv.pin"
expect apps-helper-rtsp 0 'helper channel: pinholed reads the RTSP SETUP requests and replies' "$bin" -L "$tmp/helperlib" apps tv
expect apps-helper-on 0 'on flow ctl \(copies sent to NFLOG group 7100\)' "$bin" -L "$tmp/helperlib" apps tv
set_named=$("$bin" -L "$tmp/helperlib" apps tv | grep -oE 'sets ph_[a-z_]+_v4' | sed 's/^sets //')
if [ -n "$set_named" ] && "$bin" -L "$tmp/helperlib" compile "$tmp/tv.pin" | grep -q "set $set_named {" &&
	"$bin" -L "$tmp/helperlib" apps tv | grep -q "for 30s (sets $set_named, _v6)"; then pass=$((pass + 1)); else
	echo "cli: FAIL apps names the helper set '$set_named', which the compiled ruleset lacks"; fail=$((fail + 1)); fi
expect apps-helper-fallback 0 "With 'negotiated static;' .* the ports above are" "$bin" -L "$tmp/helperlib" apps tv
mkdir -p "$tmp/lib"
printf 'app mygame "My game" { flow play: client -> server udp dport 27015; }\n' > "$tmp/lib/mygame.pin"
printf 'allow mygame client;\n' > "$tmp/game.pin"
expect lib-missing 2 "unknown app 'mygame'" "$bin" compile "$tmp/game.pin"
expect lib-flag 0 'udp dport 27015 accept' "$bin" -L "$tmp/lib" compile "$tmp/game.pin"
expect lib-env 0 'udp dport 27015 accept' env PINHOLE_LIB="$tmp/lib" "$bin" compile "$tmp/game.pin"
printf 'allow ssh client;\n' > "$tmp/lib/broken.pin"
expect lib-only-apps 2 "broken.pin:1:1: error: an app library file holds only 'app' definitions" \
	"$bin" -L "$tmp/lib" apps
# User definitions override the library: the policy's apps, then -L directories in order,
# each with a note naming both places; two apps of one name in one directory exit 2.
mkdir -p "$tmp/lib2" "$tmp/lib3"
printf 'app nfs "My NFS" { source "test"; flow v4: client -> server tcp dport 2049 source "test"; }\n' > "$tmp/lib2/nfs.pin"
printf 'allow nfs client;\n' > "$tmp/nfs.pin"
expect lib-override 0 "note: app 'nfs' \\($tmp/lib2/nfs.pin:1\\) overrides the library's app 'nfs' \\(.*stdlib-apps/nfs.pin" \
	"$bin" -L "$tmp/lib2" compile "$tmp/nfs.pin"
expect lib-override-rules 0 'tcp dport 2049 accept comment "[^"]*nfs flow v4' "$bin" -L "$tmp/lib2" compile "$tmp/nfs.pin"
if "$bin" -L "$tmp/lib2" compile "$tmp/nfs.pin" 2>/dev/null | grep -q 'dport 111'; then
	echo "cli: FAIL lib-override: the library's nfs still renders"; fail=$((fail + 1)); else pass=$((pass + 1)); fi
printf 'app nfs "Older" { source "test"; flow v3: client -> server udp dport 2049 source "test"; }\n' > "$tmp/lib3/nfs.pin"
expect lib-override-order 0 "note: app 'nfs' \\($tmp/lib2/nfs.pin:1\\) overrides the later -L directory's app 'nfs' \\($tmp/lib3/nfs.pin:1\\)" \
	"$bin" -L "$tmp/lib2" -L "$tmp/lib3" compile "$tmp/nfs.pin"
printf 'app nfs "Mine" { source "test"; flow p: client -> server tcp dport 9 source "test"; }\nallow nfs client;\n' > "$tmp/ownnfs.pin"
expect policy-override 0 "ownnfs.pin:1:5: note: app 'nfs' \\($tmp/ownnfs.pin:1\\) overrides the library's app 'nfs'" \
	"$bin" compile "$tmp/ownnfs.pin"
cp "$tmp/lib2/nfs.pin" "$tmp/lib2/nfs-copy.pin"
expect lib-duplicate 2 "lib2/nfs.pin:1:5: error: app name 'nfs' is already used by app 'nfs'" \
	"$bin" -L "$tmp/lib2" apps
expect lib-duplicate-compile 2 "already used" "$bin" -L "$tmp/lib2" compile "$tmp/nfs.pin"
rm "$tmp/lib2/nfs-copy.pin"

# iptables targets: one family per file, warnings for what the file leaves out, and rules
# iptables could not store exactly refused at their policy line, with nothing written.
printf 'allow ssh server from fd00::/8;\n' > "$tmp/v6.pin"
expect ipt-stdout 0 '^-A PINHOLE-INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 ' "$bin" compile -t iptables "$tmp/ex.pin"
expect ipt-dual-stack 0 'warning: .*IPv6 traffic stays unfiltered unless the ip6tables file' "$bin" compile -t iptables "$tmp/ex.pin"
expect ip6t-v6 0 '^-A PINHOLE-INPUT -s fd00::/8 -p tcp -m tcp --dport 22 ' "$bin" compile -t ip6tables "$tmp/v6.pin"
expect ipt-no-v4 0 'warning: .*has no IPv4 rules: the iptables file holds only the built-in rules' "$bin" compile -t iptables "$tmp/v6.pin"
expect ipt-stateless 0 "ftp client in stateless mode admits TCP from port 20 of any server" "$bin" compile --stateless -t iptables "$tmp/ftp.pin"
printf 'zone lan { interface "a-very-long-ifname"; }\nzone wan { interface wan0; }\nallow ssh from lan to wan;\n' > "$tmp/ifname.pin"
echo stale > "$tmp/keep.ipt"
expect ipt-ifname 2 "ifname.pin:1:22: error: interface name 'a-very-long-ifname' is longer than 15 characters" \
	"$bin" compile -t iptables -o "$tmp/keep.ipt" "$tmp/ifname.pin"
if [ "$(cat "$tmp/keep.ipt")" = stale ] && [ -z "$(ls "$tmp" | grep '\.tmp\.')" ]; then pass=$((pass + 1)); else
	echo "cli: FAIL a refused compile touched the output file"; fail=$((fail + 1)); fi

# `forward owned` is the zone's only forward option: a misspelling is an error with a caret,
# exit 2, and the output file stays as it was (nothing half-open, nothing half-left to Docker).
printf 'zone c { interface docker0; forward owend; }\nallow dns server from c;\n' > "$tmp/owned.pin"
echo stale > "$tmp/keep.nft"
expect owned-typo 2 "owned.pin:1:37: error: a zone's forward option is 'forward owned;'.*not 'forward owend'" \
	"$bin" compile -o "$tmp/keep.nft" "$tmp/owned.pin"
grep -q '^ *\^~~~~$' "$tmp/out" && [ "$(cat "$tmp/keep.nft")" = stale ] && pass=$((pass + 1)) ||
	{ echo "cli: FAIL owned-typo: no caret line, or the output file was touched"; fail=$((fail + 1)); }
printf 'zone c { interface docker0; forward owned; }\nallow dns server from c;\n' > "$tmp/owned-ok.pin"
expect owned-explain 0 'owner: +left to the interface.s owner' "$bin" explain "$tmp/owned-ok.pin" \
	'udp 172.17.0.2:40000 -> 192.0.2.1:53 fwd iif docker0 oif eth0'
expect owned-explain-input 1 'verdict: drop' "$bin" explain "$tmp/owned-ok.pin" \
	'tcp 172.17.0.2:40000 -> 172.17.0.1:22 in iif docker0 syn'

# An installed copy, away from the source tree, finds its installed library.
make --no-print-directory install PREFIX=/opt/ph DESTDIR="$tmp/root" >/dev/null 2>&1
cp "$tmp/clean.pin" "$tmp/root/clean.pin"
expect installed 0 'tcp dport 22 accept' "$tmp/root/opt/ph/bin/pinhole" compile "$tmp/root/clean.pin"
expect installed-apps 0 "defined: $tmp/root/opt/ph/bin/../share/pinhole/apps/ssh.pin" "$tmp/root/opt/ph/bin/pinhole" apps ssh

# The test-only fault injector (PINHOLE_TEST_REJECT_LINE, compiler/cli/fault_inject.h) is in
# the kernel tests' build only, never in a shipping binary; the test build shows the check sees it.
injector_count() { strings "$1" 2>/dev/null | grep -c PINHOLE_TEST; }
for b in build/pinhole "$bin" "$tmp/root/opt/ph/bin/pinhole"; do
	if [ -x "$b" ] && [ "$(injector_count "$b")" = 0 ]; then pass=$((pass + 1)); else
		echo "cli: FAIL $b carries the test-only fault injector (or is missing)"; fail=$((fail + 1)); fi
done
if [ -x build/pinhole-faults ] && [ "$(injector_count build/pinhole-faults)" -gt 0 ]; then pass=$((pass + 1)); else
	echo "cli: FAIL build/pinhole-faults is missing or has no fault injector (make build/pinhole-faults)"
	fail=$((fail + 1)); fi

# A large policy compiles and lints quickly (the lint once grew with the cube of its size).
python3 -c "
for i in range(10000):
    print(f'allow tcp/{1024 + i} server from 10.{i // 256 % 256}.{i % 256}.0/24;' if i % 2 else
          f'allow udp/{1024 + i} client to 198.51.{i // 256 % 256}.{i % 256};')
" > "$tmp/big.pin"
# (--fail-on=error: the analysis runs in full; its one-family findings are not what this tests)
expect big-policy-in-time 0 '' timeout 60 "$bin" check --fail-on=error "$tmp/big.pin"
# -o onto a FIFO or a device writes into it and leaves it what it was (it once renamed a file
# over it: `-o /dev/null` replaced the machine's /dev/null).
mkfifo "$tmp/fifo"
cat "$tmp/fifo" > "$tmp/from-fifo" &
cat_pid=$!
expect compile-to-fifo 0 '' timeout 20 "$bin" compile -o "$tmp/fifo" "$tmp/big.pin"
wait "$cat_pid"
if [ -p "$tmp/fifo" ] && grep -q '^table inet pinhole {' "$tmp/from-fifo"; then pass=$((pass + 1)); else
	echo "cli: FAIL compile -o FIFO: the FIFO was replaced or got no ruleset"; fail=$((fail + 1)); fi
if [ "$(id -u)" = 0 ] && mknod "$tmp/null" c 1 3 2>/dev/null; then
	expect compile-to-device 0 '' "$bin" compile -o "$tmp/null" "$tmp/big.pin"
	if [ -c "$tmp/null" ]; then pass=$((pass + 1)); else
		echo "cli: FAIL compile -o DEVICE replaced the device with a file"; fail=$((fail + 1)); fi
fi
# The shapes that were quadratic once, 10,000 items each (a guard against a hang, not a
# benchmark: `make bench` measures): sources to one port, one statement listing an app or
# a port literal 10,000 times, the stateless return rules of 10,000 entries, and one line
# repeated 10,000 times (the lint once met the later repeats first).
python3 -c "
for i in range(10000):
    print(f'allow tcp/22 server from 10.{i // 256 % 256}.{i % 256}.0/24;')" > "$tmp/sources.pin"
python3 -c "print('allow ' + ', '.join(['ssh'] * 10000) + ' server;')" > "$tmp/apps.pin"
python3 -c "print('allow ' + ', '.join(f'tcp/{1000 + i}' for i in range(10000)) + ' server;')" > "$tmp/ports.pin"
{ echo 'established only;'; cat "$tmp/big.pin"; } > "$tmp/stateless.pin"
python3 -c "print('allow tcp/22 server from 10.0.0.1;\\n' * 10000, end='')" > "$tmp/repeats.pin"
expect 10000-repeats-in-time 1 'adds nothing' timeout 60 "$bin" check "$tmp/repeats.pin"
for shape in sources apps ports stateless; do
	expect "10000-$shape-in-time" 0 '' timeout 60 "$bin" check --fail-on=error "$tmp/$shape.pin"
done
# ... and they load as a handful of set lookups, not 10,000 rules.
rules=$("$bin" compile "$tmp/sources.pin" | grep -c ' accept comment "' || true)
[ "$rules" -lt 30 ] && pass=$((pass + 1)) || { echo "cli: FAIL 10,000 sources to one port: $rules rules"; fail=$((fail + 1)); }
rules=$("$bin" compile "$tmp/stateless.pin" | grep -c ' accept comment "' || true)
[ "$rules" -lt 40 ] && pass=$((pass + 1)) || { echo "cli: FAIL 10,000 stateless entries: $rules rules"; fail=$((fail + 1)); }
# Compile's memory (issue 9's goal is 1 KB an entry; `make bench` measures it), with the plain
# build: 50,000 entries peak under 64 MB of RSS (88 MB when every stage was held to the end),
# 10,000 at most 10,000 KB, the goal (9.4 MB since the branch mem, 10.9 before it). Bounds on
# memory, not on time. wait4's figure is at least the child's own peak, and at least what the
# child had before exec: the interpreter's (posix_spawn, no site modules: about 8 MB).
peak_rss() {
	python3 -S -I tests/peak_rss.py "$@"
}
for n in 50000:65536 10000:10000; do
	entries=${n%:*} most=${n#*:}
	python3 tests/perf/gen.py pin entries "$entries" > "$tmp/e$entries.pin"
	rss=$(peak_rss build/pinhole compile -o "$tmp/e$entries.nft" "$tmp/e$entries.pin")
	if [ "$rss" -gt 0 ] && [ "$rss" -le "$most" ]; then pass=$((pass + 1)); else
		echo "cli: FAIL $entries entries: peak RSS $rss KB (at most $most), or compile failed"; fail=$((fail + 1)); fi
done

# explain's exit status, iptables lines and --why-not (tests/cli/explain.sh).
. tests/cli/explain.sh

# --- CLI conventions -------------------------------------------------------------------------
# --help / -h on every subcommand: usage on stdout, exit 0.
for c in compile check explain apps apply status confirm; do
	expect "help-$c" 0 "^usage: pinhole $c" "$bin" "$c" --help
	expect "help-short-$c" 0 "^usage: pinhole $c" "$bin" "$c" -h
done
expect usage-error-names-command 2 "Try 'pinhole compile --help'" "$bin" compile --nope "$tmp/clean.pin"
# - is standard input (policy) and standard output (-o -).
expect stdin-compile 0 'tcp dport 22 accept' sh -c "\"$bin\" compile - < \"$tmp/clean.pin\""
expect stdin-check-error 2 '^<stdin>:1:17: error' sh -c "\"$bin\" check - < \"$tmp/bad.pin\""
expect stdin-explain 0 '^verdict: accept' sh -c "\"$bin\" explain - 'tcp 10.0.0.7:40000 -> 10.0.0.5:22 in' < \"$tmp/ex.pin\""
expect stdin-twice 2 'cannot both come from standard input' "$bin" explain - - < /dev/null
expect stdout-dash 0 'table inet pinhole \{' sh -c "cd \"$tmp\" && \"$PWD/$bin\" compile -o - clean.pin"
if [ ! -e "$tmp/-" ]; then pass=$((pass + 1)); else echo "cli: FAIL -o - wrote a file named '-'"; fail=$((fail + 1)); fi
# --opt=value, and short options with their value joined.
expect target-equals 0 '^\*filter' "$bin" compile --target=iptables "$tmp/clean.pin"
expect target-joined 0 '^\*filter' "$bin" compile -tip6tables "$tmp/clean.pin"
expect target-long 0 '^\*filter' "$bin" compile --target iptables "$tmp/clean.pin"
rm -f "$tmp/joined.nft" "$tmp/eq.nft"
expect output-joined 0 '' "$bin" compile -o"$tmp/joined.nft" "$tmp/clean.pin"
expect output-equals 0 '' "$bin" compile --output="$tmp/eq.nft" "$tmp/clean.pin"
if grep -q 'tcp dport 22 accept' "$tmp/joined.nft" 2>/dev/null && grep -q 'tcp dport 22 accept' "$tmp/eq.nft" 2>/dev/null; then
	pass=$((pass + 1)); else echo "cli: FAIL -oFILE / --output=FILE wrote no ruleset"; fail=$((fail + 1)); fi
mkdir -p "$tmp/eqlib"
printf 'app eqgame "A game" { flow play: client -> server udp dport 27016; }\n' > "$tmp/eqlib/eqgame.pin"
expect library-equals 0 '^eqgame' "$bin" apps --library="$tmp/eqlib" eqgame
expect confirm-equals 2 "--confirm wants a number of seconds \(1-86400\), not 'soon'" "$bin" apply --confirm=soon "$tmp/clean.pin"
expect dry-run-confirm-equals 2 'nothing to --confirm' "$bin" apply --dry-run --confirm=5 "$tmp/clean.pin"
[ "$(id -u)" = 0 ] && expect netns-equals 2 "no such namespace|namespace 'ph-cli-none'|ph-cli-none" "$bin" status --netns=ph-cli-none "$tmp/clean.pin"
expect missing-value 2 '--netns needs an argument' "$bin" status "$tmp/clean.pin" --netns
# -q: errors only; -v: what was compiled.
"$bin" -q check "$tmp/warn.pin" >"$tmp/q.out" 2>&1; rc=$?
if [ $rc -eq 1 ] && [ ! -s "$tmp/q.out" ]; then pass=$((pass + 1)); else
	echo "cli: FAIL check -q on warnings: exit $rc, output:"; cat "$tmp/q.out"; fail=$((fail + 1)); fi
expect quiet-keeps-errors 2 'bad.pin:1:17: error' "$bin" check -q "$tmp/bad.pin"
expect quiet-compile 0 '' "$bin" compile --quiet -o "$tmp/q.nft" "$tmp/warn.pin"
"$bin" compile -q -o "$tmp/q.nft" "$tmp/warn.pin" 2>"$tmp/q.err"
if [ ! -s "$tmp/q.err" ]; then pass=$((pass + 1)); else echo "cli: FAIL compile -q printed:"; cat "$tmp/q.err"; fail=$((fail + 1)); fi
expect verbose-compile 0 'clean.pin: compiled, [0-9]+ rules; [0-9]+ files read' "$bin" -v compile -o "$tmp/v.nft" "$tmp/clean.pin"
expect verbose-long 0 'compiled, [0-9]+ rules' "$bin" check --verbose "$tmp/clean.pin"
expect confirm-nothing 1 'nothing to confirm' env PINHOLE_STATE_DIR="$tmp/state" "$bin" confirm --netns=ph-cli-none
expect confirm-bad-netns 2 "not a network namespace name" "$bin" confirm --netns ../x

# --- bounded input ---------------------------------------------------------------------------
# Devices, FIFOs and directories are refused at once (reading /dev/zero never ended), as a
# policy and as an include; so are files over 16 MiB.
printf 'include "/dev/zero";\nallow ssh client;\n' > "$tmp/zero.pin"
expect include-dev-zero 2 'zero.pin:1:9: error: cannot read .?/dev/zero.?: a character device, not a regular file' timeout 20 "$bin" compile "$tmp/zero.pin"
mkfifo "$tmp/fifo"
printf 'include "fifo";\nallow ssh client;\n' > "$tmp/fifo.pin"
expect include-fifo 2 'fifo.pin:1:9: error: cannot read .*: a FIFO, not a regular file' timeout 20 "$bin" compile "$tmp/fifo.pin"
expect policy-fifo 2 'a FIFO, not a regular file' timeout 20 "$bin" compile "$tmp/fifo"
expect policy-dev-zero 2 "cannot read '/dev/zero': a character device" timeout 20 "$bin" check /dev/zero
expect policy-directory 2 "cannot read '$tmp': a directory" timeout 20 "$bin" compile "$tmp"
truncate -s 17M "$tmp/huge.pin"
expect policy-too-large 2 'larger than 16 MiB' timeout 20 "$bin" compile "$tmp/huge.pin"
printf 'include "huge.pin";\n' > "$tmp/inc-huge.pin"
expect include-too-large 2 'inc-huge.pin:1:9: error: .*larger than 16 MiB' timeout 20 "$bin" compile "$tmp/inc-huge.pin"
expect stdin-dev-zero 2 'standard input: larger than 16 MiB' timeout 20 sh -c "\"$bin\" compile - < /dev/zero"
# Five includes of 15 MiB each pass the limit for one file, not the one for all together.
python3 -c "import sys; sys.stdout.write('# ' + 'x' * (15 << 20) + '\n')" > "$tmp/f15.pin"
printf 'include "f15.pin";\n' > "$tmp/i1.pin"
for k in 2 3 4 5; do cp "$tmp/f15.pin" "$tmp/f15-$k.pin"; printf 'include "f15-%s.pin";\n' "$k" >> "$tmp/i1.pin"; done
printf 'allow ssh client;\n' >> "$tmp/i1.pin"
expect includes-too-large 2 'i1.pin:5:9: error: .*exceed 64 MiB together' timeout 20 "$bin" compile -o "$tmp/never.nft" "$tmp/i1.pin"
rm -f "$tmp"/f15*.pin "$tmp/huge.pin"
# A 10 MB line: an address list of 800 000 addresses compiles (linear scanner, parser, list
# normalization and caret printing), and so does an error at its end. The timeout only
# guards against a hang.
python3 -c "
import sys
a = ', '.join('10.%d.%d.%d' % (i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(800000))
sys.stdout.write('define big = ' + a + '; allow ssh server from big;\n')
" > "$tmp/line.pin"
expect ten-mb-line 0 '' timeout 20 build/pinhole compile -o "$tmp/line.nft" "$tmp/line.pin"
sed 's/; allow ssh/ oops; allow ssh/' "$tmp/line.pin" > "$tmp/line-bad.pin"
expect ten-mb-line-error 2 'line-bad.pin:1:[0-9]+: error' timeout 20 "$bin" check "$tmp/line-bad.pin"
rm -f "$tmp"/line*.pin "$tmp/line.nft"

# pinhole import (tests/cli/import.sh).
. tests/cli/import.sh

# Man pages, completion, make install and the boot script (tests/cli/ops.sh).
. tests/cli/ops.sh

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
