# explain in depth (sourced by tests/cli/run.sh): the exit status says the verdict of one
# packet, the iptables rule is shown beside the nft one, --why-not names the first failing
# match of each rule of a line; rule provenance does not depend on how the path was typed.
printf 'define lan = 10.0.0.0/8, fd00::/8;\nallow ssh server from lan;\nallow http, https client;\nallow ftp server;\ndeny tcp/23 server;\n' > "$tmp/why.pin"
w=$tmp/why.pin
expect explain-status-accept 0 '^verdict: accept' "$bin" explain "$w" 'tcp 10.0.0.7:40000 -> 10.0.0.5:22 in'
expect explain-status-drop 1 '^verdict: drop' "$bin" explain "$w" 'tcp 192.0.2.7:40000 -> 10.0.0.5:22 in'
expect explain-status-brief 1 '^drop default$' "$bin" explain --brief "$w" 'tcp 192.0.2.7:40000 -> 10.0.0.5:22 in'
expect explain-status-deny 1 "^drop $w:5\$" "$bin" explain --brief "$w" 'tcp 192.0.2.7:40000 -> 10.0.0.5:23 in'
expect explain-status-bad 2 'direction must be' "$bin" explain "$w" 'tcp 1.2.3.4:1 -> 1.2.3.5:2 up'
printf 'tcp 192.0.2.7:40000 -> 10.0.0.5:22 in\n' > "$tmp/why.pkts"
expect explain-status-batch 0 '^drop default$' sh -c "'$bin' explain --brief '$w' - < '$tmp/why.pkts'"
expect explain-iptables 0 '^iptables: -A PINHOLE-INPUT -s 10\.0\.0\.0/8 -p tcp -m tcp --dport 22 ' \
	"$bin" explain "$w" 'tcp 10.0.0.7:40000 -> 10.0.0.5:22 in'
expect explain-ip6tables 0 '^ip6tables: -A PINHOLE-INPUT -s fd00::/8 -p tcp -m tcp --dport 22 ' \
	"$bin" explain "$w" 'tcp [fd00::7]:40000 -> [fd00::5]:22 in'
expect why-not-addr 1 '^  ssh flow session \(input, IPv4\): source address 192\.0\.2\.7 is not in lan \(10\.0\.0\.0/8\)$' \
	"$bin" explain --why-not 2 "$w" 'tcp 192.0.2.7:40000 -> 10.0.0.5:22 in'
expect why-not-family 1 '^  and 1 rule of this line is for IPv6 only$' \
	"$bin" explain --why-not 2 "$w" 'tcp 192.0.2.7:40000 -> 10.0.0.5:22 in'
expect why-not-proto 1 'protocol udp is not tcp' "$bin" explain --why-not=2 "$w" 'udp [fd00::7]:40000 -> [fd00::5]:22 in'
expect why-not-port 1 'ftp flow control \(input, IPv4 and IPv6\): destination port 20 is not 21$' \
	"$bin" explain --why-not 4 "$w" 'tcp 192.0.2.7:40000 -> 10.0.0.5:20 in'
expect why-not-ct 1 'ftp flow data-passive .*: conntrack state new is not related$' \
	"$bin" explain --why-not 4 "$w" 'tcp 192.0.2.7:40000 -> 10.0.0.5:20 in'
expect why-not-hook 1 'rules of this line are for other chains than input' \
	"$bin" explain --why-not 4 "$w" 'tcp 192.0.2.7:40000 -> 10.0.0.5:20 in'
expect why-not-matches 0 'http flow web \(output, IPv4 and IPv6\): matches; this rule decided \(accept\)' \
	"$bin" explain --brief --why-not "$w:3" "$w" 'tcp 10.0.0.5:40000 -> 192.0.2.7:80 out syn'
expect why-not-first-fails 0 'https flow web .*: destination port 80 is not 443' \
	"$bin" explain --brief --why-not "$w:3" "$w" 'tcp 10.0.0.5:40000 -> 192.0.2.7:80 out syn'
expect why-not-earlier 1 'tcp/23 flow .*: matches; this rule decided \(drop\)' \
	"$bin" explain --why-not 5 "$w" 'tcp 192.0.2.7:40000 -> 10.0.0.5:23 in'
expect why-not-no-rules 2 "why.pin:1:1: error: --why-not 1: this line makes no rules" \
	"$bin" explain --why-not 1 "$w" 'tcp 192.0.2.7:40000 -> 10.0.0.5:20 in'
if grep -q '^packet:' "$tmp/out"; then echo "cli: FAIL why-not-no-rules printed a verdict"; fail=$((fail + 1)); else pass=$((pass + 1)); fi
# the nft line is the rule as loaded: a merged rule with the element that stands for the
# packet's rule; behind an interface dispatch, its chain and the map that jumps there. Each is
# found verbatim in the compiled ruleset (what `nft list ruleset` shows).
python3 tests/perf/gen.py pin entries 12 > "$tmp/merged.pin"
"$bin" compile -o "$tmp/merged.nft" "$tmp/merged.pin" 2>/dev/null
expect explain-nft-merged 0 '^nft:     ip saddr & 255\.255\.255\.0 \. tcp dport \{ \.\.\. 11 elements \} accept comment ".*\+10"  \(chain input\)$' \
	"$bin" explain "$tmp/merged.pin" 'tcp 10.0.3.9:40000 -> 10.0.0.5:10003 in syn'
expect explain-nft-element 0 '^         element: 10\.0\.3\.0 \. 10003 comment ".*merged\.pin:5 tcp/10003 flow tcp/10003 \[merged\.pin:5\]"$' \
	"$bin" explain "$tmp/merged.pin" 'tcp 10.0.3.9:40000 -> 10.0.0.5:10003 in syn'
elem=$(sed -n 's/^         element: //p' "$tmp/out")
if [ -n "$elem" ] && grep -qF -- "$elem" "$tmp/merged.nft"; then pass=$((pass + 1)); else
	echo "cli: FAIL explain-nft-element: '$elem' is not in the compiled ruleset"; fail=$((fail + 1)); fi
d=tests/kernel/policies/dispatch-gateway.pin
"$bin" compile -o "$tmp/dispatch.nft" "$d" 2>/dev/null
p6='tcp [fd00:1::2]:40000 -> [2001:db8:2::2]:443 fwd iif lan0 oif wan0 syn'
expect explain-nft-dispatch 0 '^nft:     ip6 saddr @lan_v6 tcp dport @ph_forward_[0-9]+ accept comment ".*dispatch-gateway\.pin:11 tcp/80 .* \+3"  \(chain forward_lan0_wan0_v6\)$' \
	"$bin" explain "$d" "$p6"
expect explain-nft-set-element 0 '^         element: 443 comment ".*dispatch-gateway\.pin:11 tcp/443 .*"  \(in set ph_forward_[0-9]+\)$' \
	"$bin" explain "$d" "$p6"
expect explain-nft-via 0 '^         jumped to from: meta nfproto \. iifname \. oifname vmap \{ ipv6 \. "lan0" \. "wan0" comment ".*" : jump forward_lan0_wan0_v6, \.\.\. 3 more \} comment ".*"  \(chain forward\)$' \
	"$bin" explain "$d" "$p6"
rule=$(sed -n 's/^nft:     \(.*\)  (chain forward_lan0_wan0_v6)$/\1/p' "$tmp/out")
elem=$(sed -n 's/^         element: \(.*\)  (in set .*)$/\1/p' "$tmp/out")
if [ -n "$rule" ] && grep -qF -- "$rule" "$tmp/dispatch.nft" && grep -qF -- "$elem" "$tmp/dispatch.nft" &&
	grep -q '^	chain forward_lan0_wan0_v6 {$' "$tmp/dispatch.nft"; then pass=$((pass + 1)); else
	echo "cli: FAIL explain-nft-dispatch: '$rule' / '$elem' not in the compiled ruleset"; fail=$((fail + 1)); fi
expect why-not-bad-line 2 "takes a policy line" "$bin" explain --why-not x "$w" 'tcp 192.0.2.7:40000 -> 10.0.0.5:20 in'
expect why-not-bad-file 2 "no such file in the policy" "$bin" explain --why-not nope.pin:2 "$w" 'tcp 192.0.2.7:40000 -> 10.0.0.5:20 in'
expect why-not-batch 0 'source address 192\.0\.2\.7 is not in lan' sh -c "'$bin' explain --brief --why-not 2 '$w' - < '$tmp/why.pkts'"

case $bin in /*) abin=$bin ;; *) abin=$PWD/$bin ;; esac
# Provenance: ./why.pin, why.pin and .//why.pin make the same rules (comments included); only
# the header line, which names the file as given, differs.
for form in nft iptables ip6tables; do
	a=$(cd "$tmp" && "$abin" compile -t $form ./why.pin 2>/dev/null | tail -n +2)
	b=$(cd "$tmp" && "$abin" compile -t $form why.pin 2>/dev/null | tail -n +2)
	c=$(cd "$tmp" && "$abin" compile -t $form .//why.pin 2>/dev/null | tail -n +2)
	if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ]; then pass=$((pass + 1)); else
		echo "cli: FAIL provenance: -t $form differs between ./why.pin, why.pin and .//why.pin"
		diff <(echo "$a") <(echo "$b") | head -5; fail=$((fail + 1)); fi
done
expect provenance-comment 0 'comment "why.pin:2 ssh flow session' sh -c "cd '$tmp' && '$abin' compile ./why.pin"
expect provenance-explain 0 '^rule: +why.pin:2: allow ssh server from lan;' \
	sh -c "cd '$tmp' && '$abin' explain ./why.pin 'tcp 10.0.0.7:40000 -> 10.0.0.5:22 in'"

# ESP: a packet without ports, accepted by the esp app's flow, dropped where no rule has it.
printf 'allow ipsec server from 10.0.0.0/8;\n' > "$tmp/esp.pin"
expect explain-esp-accept 0 '^flow: +esp flow esp: client <-> server esp' \
	"$bin" explain "$tmp/esp.pin" 'esp 10.0.0.7 -> 10.0.0.5 in'
expect explain-esp-iptables 0 '^iptables: -A PINHOLE-INPUT -s 10\.0\.0\.0/8 -p esp ' \
	"$bin" explain "$tmp/esp.pin" 'esp 10.0.0.7 -> 10.0.0.5 in'
expect explain-esp-drop 1 '^drop default$' "$bin" explain --brief "$tmp/esp.pin" 'esp 192.0.2.7 -> 10.0.0.5 in'
expect explain-esp-no-ports 2 'ICMP and ESP have no ports' "$bin" explain "$tmp/esp.pin" 'esp 10.0.0.7:4 -> 10.0.0.5 in'

# The gateway words: `any`, `except` and a zone's `default reject` (named by its line).
printf 'zone lan { interface lan0; address 10.1.0.0/24; }\nzone wan { interface wan0; default reject; }\nallow any from lan except 10.1.0.66 to wan;\n' > "$tmp/lang.pin"
l=$tmp/lang.pin
expect explain-any 0 '^flow:    any flow any: client -> server every protocol' \
	"$bin" explain "$l" 'udp 10.1.0.2:5000 -> 192.0.2.9:9 fwd iif lan0 oif wan0 new'
expect explain-except 1 '^drop default$' "$bin" explain --brief "$l" 'udp 10.1.0.66:5000 -> 192.0.2.9:9 fwd iif lan0 oif wan0 new'
expect explain-except-why 1 'source address 10\.1\.0\.66 is not in 10\.1\.0\.0/26, 10\.1\.0\.64/31, 10\.1\.0\.67,' \
	"$bin" explain --why-not 3 "$l" 'udp 10.1.0.66:5000 -> 192.0.2.9:9 fwd iif lan0 oif wan0 new'
expect explain-zone-default 1 "^reject $l:2\$" "$bin" explain --brief "$l" 'tcp 192.0.2.9:5000 -> 10.1.0.2:22 fwd iif wan0 oif lan0 syn new'
expect explain-zone-default-tcp 1 'reject with tcp reset' "$bin" explain "$l" 'tcp 192.0.2.9:5000 -> 10.1.0.1:22 in iif wan0 syn new'
