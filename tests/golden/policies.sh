# The policies the golden and agree layers compile, in one place (sourced from the source
# tree's root; tests/golden/run.sh and tests/agree/run.sh).
#
#   golden_modes              the modes every policy is compiled in: stateful stateless
#   golden_apps               every app of stdlib-apps/, one a line
#   golden_app_policy APP     the policy for one library app: both host roles and a gateway
#                             rule, IPv4 and IPv6 peers (compile it as APP.pin, in its own
#                             directory, so that its comments are the same on every run)
# The hand-written policies are examples/*.pin and tests/golden/cases/*.pin.

golden_modes="stateful stateless"

# The modes one policy file is compiled in: golden_modes, or what a "# golden-modes: MODE..."
# line of the file says (address translation needs conntrack: such a policy is stateful only).
golden_modes_of() {
	local m
	m=$(sed -n 's/^# golden-modes: *//p' "$1" | head -1)
	echo "${m:-$golden_modes}"
}

golden_apps() {
	local file
	for file in stdlib-apps/*.pin; do
		sed -n 's/^app \([A-Za-z_][A-Za-z0-9_.-]*\).*/\1/p' "$file"
	done
}

golden_app_policy() {
	cat <<EOF
# Golden policy for the library app $1.
zone lan { interface lan0; address 10.1.0.0/24, fd00:1::/64; }
zone wan { interface "wan*"; }
allow $1 client;
allow $1 server from 192.0.2.0/24, 2001:db8::/64;
allow $1 from lan to wan;
EOF
}
