# Operating pinhole: man pages, bash completion, `make install`, and the boot script of
# pinhole.service (its fallback to the last good ruleset, for real in a network namespace).
# Sourced by tests/cli/run.sh: uses its $bin, $tmp, expect, pass and fail.

ok() { pass=$((pass + 1)); }
bad() { echo "cli: FAIL $*"; fail=$((fail + 1)); }

# --- man pages: render without a warning; pinhole(8) keeps up with --help ----------------
for page in build/man/pinhole.8 build/man/pinhole.pin.5 build/man/pinholed.8; do
	if [ ! -s "$page" ]; then bad "man: $page was not rendered (make man)"; continue; fi
	if groff -man -ww -z "$page" >"$tmp/groff" 2>&1 && [ ! -s "$tmp/groff" ]; then ok; else
		bad "man: groff -man -ww -z $page warns:"; sed 's/^/    /' "$tmp/groff" | head; fi
done
# The page as text, one line per paragraph (no hyphenation, no line breaks inside words).
groff -man -Tascii -P-cbou -rLL=2000n build/man/pinhole.8 2>/dev/null > "$tmp/man8.txt"
"$bin" --help > "$tmp/help"
help_cmds=$(sed -n '/^commands:/,/^$/p' "$tmp/help" | sed -nE 's/^  ([a-z]+)( .*)?$/\1/p')
if [ "$(echo "$help_cmds" | wc -w)" -ge 6 ]; then ok; else
	bad "man: found only '$help_cmds' as commands in pinhole --help"; fi
for c in $help_cmds; do
	# each command has its own subsection under COMMANDS, headed by its name
	if sed -n '/^COMMANDS/,/^EXIT STATUS/p' "$tmp/man8.txt" | grep -Eq "^   $c( |$)"; then ok; else
		bad "man: pinhole(8) has no subsection for the command '$c' that --help lists"; fi
done
for o in $(grep -oE '(^|[ [])--?[a-zA-Z][-a-zA-Z]*' "$tmp/help" | tr -d ' [' | sort -u); do
	if grep -qF -- "$o" "$tmp/man8.txt"; then ok; else
		bad "man: pinhole(8) does not mention the option '$o' that --help lists"; fi
done

# pinholed(8) keeps up with pinholed --help: every option it lists is in the page.
groff -man -Tascii -P-cbou -rLL=2000n build/man/pinholed.8 2>/dev/null > "$tmp/pinholed8.txt"
expect pinholed-help 0 '^usage: pinholed --policy POLICY' build/pinholed --help
expect pinholed-version 0 "^pinholed $(cat VERSION)\$" build/pinholed --version
expect pinholed-unknown-option 2 "unknown option '--nope'" build/pinholed --nope
expect pinholed-no-policy 2 'usage: pinholed' build/pinholed
# A policy error stops it before any netlink socket: exit 2 with the compiler's message.
expect pinholed-no-channel 2 'has no negotiated channel pinholed reads' build/pinholed --policy "$tmp/clean.pin"
expect pinholed-bad-policy 2 'bad.pin:1:17: error' build/pinholed --policy "$tmp/bad.pin"
opts=$(build/pinholed --help | grep -oE '(^|[ [,|])--?[a-zA-Z][-a-zA-Z]*' | tr -d ' [,|' | sort -u)
[ "$(echo "$opts" | wc -w)" -ge 7 ] && ok || bad "pinholed --help lists only '$(echo $opts)'"
for o in $opts; do
	if grep -qF -- "$o" "$tmp/pinholed8.txt"; then ok; else
		bad "man: pinholed(8) does not mention the option '$o' that pinholed --help lists"; fi
done
for s in SECURITY 'EXIT STATUS' SIGNALS FILES 'SEE ALSO'; do
	grep -q "^$s" "$tmp/pinholed8.txt" && ok || bad "man: pinholed(8) has no $s section"; done
# The unit's capability set is the one the page names (the kernel test runs pinholed with it).
grep -qx 'CapabilityBoundingSet=CAP_NET_ADMIN' dist/pinholed.service.in &&
	grep -qx 'AmbientCapabilities=CAP_NET_ADMIN' dist/pinholed.service.in && ok ||
	bad "pinholed.service.in: CAP_NET_ADMIN is not its only capability"

# --- bash completion ----------------------------------------------------------------------
mkdir -p "$tmp/complib"
printf 'app mygame "My game" { flow play: client -> server udp dport 27015; }\n' > "$tmp/complib/mygame.pin"
# complete WORDS...: the candidates for the last word, sorted, on one line.
complete_words() {
	bash -c '. dist/pinhole.bash-completion
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
		_pinhole; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' complete "$@"
}
expect_completion() { # NAME WANT WORDS...
	local name=$1 want=$2 got
	shift 2
	got=$(complete_words "$@")
	if [ "${got% }" = "$want" ]; then ok; else bad "completion $name: got '${got% }', want '$want'"; fi
}
expect_completion subcommand-prefix 'check compile confirm' "$bin" c
# An empty word: every command --help lists (and the global options).
got=$(complete_words "$bin" '' | tr ' ' '\n' | grep -v '^-' | grep . | sort)
[ "$got" = "$(echo "$help_cmds" | sort)" ] && ok ||
	bad "completion all-subcommands: got '$(echo $got)', want '$(echo $help_cmds)'"
expect_completion apply-option '--dry-run' "$bin" apply --d
expect_completion status-option '--netns' "$bin" status --n
expect_completion compile-target 'ip6tables iptables' "$bin" compile -t ip
expect_completion app-name 'ssh' "$bin" apps ss
expect_completion app-from-L 'mygame' "$bin" -L "$tmp/complib" apps myg
got=$(PINHOLE_LIB="$tmp/complib" complete_words "$bin" apps myg)
if [ "${got% }" = mygame ]; then ok; else bad "completion app-from-PINHOLE_LIB: got '$got'"; fi
# pinholed's: its options, the --help ones.
got=$(bash -c '. dist/pinholed.bash-completion; COMP_WORDS=(pinholed -); COMP_CWORD=1; _pinholed
	printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "')
[ "${got% }" = "$(echo $opts | tr ' ' '\n' | grep '^-' | sort | tr '\n' ' ' | sed 's/ $//')" ] && ok ||
	bad "completion pinholed options: got '${got% }', want '$(echo $opts)'"
got=$(cd "$tmp" && bash -c '. "$1"; COMP_WORDS=(pinholed --policy cle); COMP_CWORD=2; _pinholed
	echo "${COMPREPLY[*]}"' complete "$OLDPWD/dist/pinholed.bash-completion")
[ "$got" = clean.pin ] && ok || bad "completion pinholed --policy cle: got '$got', want 'clean.pin'"

# --- make install / uninstall ---------------------------------------------------------------
inst=$tmp/inst
make --no-print-directory install DESTDIR="$inst" PREFIX=/usr >"$tmp/install.log" 2>&1 ||
	{ bad "make install failed:"; tail "$tmp/install.log"; }
want_files="/usr/bin/pinhole
/usr/sbin/pinholed
/usr/lib/systemd/system/pinhole.service
/usr/lib/systemd/system/pinholed.service
/usr/libexec/pinhole/pinhole-boot
/usr/share/bash-completion/completions/pinhole
/usr/share/bash-completion/completions/pinholed
/usr/share/man/man5/pinhole.pin.5
/usr/share/man/man8/pinhole.8
/usr/share/man/man8/pinholed.8"
for f in stdlib-apps/*.pin; do want_files="$want_files
/usr/share/pinhole/apps/${f#stdlib-apps/}"; done
got_files=$(cd "$inst" && find . -type f | sed 's/^\.//' | sort)
if [ "$got_files" = "$(echo "$want_files" | sort)" ]; then ok; else
	bad "make install: files differ from the expected list:"
	diff <(echo "$want_files" | sort) <(echo "$got_files") | sed 's/^/    /'; fi
[ -x "$inst/usr/bin/pinhole" ] && [ -x "$inst/usr/sbin/pinholed" ] && [ -x "$inst/usr/libexec/pinhole/pinhole-boot" ] && ok ||
	bad "make install: bin/pinhole, sbin/pinholed or libexec/pinhole/pinhole-boot is not executable"
# The installed script and unit name the installed paths.
grep -qx 'pinhole=${PINHOLE_BIN:-/usr/bin/pinhole}' "$inst/usr/libexec/pinhole/pinhole-boot" && ok ||
	bad "make install: pinhole-boot does not run /usr/bin/pinhole"
grep -qx 'ExecStart=/usr/libexec/pinhole/pinhole-boot start' "$inst/usr/lib/systemd/system/pinhole.service" && ok ||
	bad "make install: pinhole.service does not run /usr/libexec/pinhole/pinhole-boot"
grep -qx 'ExecStart=/usr/sbin/pinholed --policy ${PINHOLE_POLICY} $PINHOLED_OPTS' "$inst/usr/lib/systemd/system/pinholed.service" && ok ||
	bad "make install: pinholed.service does not run /usr/sbin/pinholed"
expect installed-pinholed-version 0 '^pinholed ' "$inst/usr/sbin/pinholed" --version
expect installed-pinholed-help 0 '^usage: pinholed' "$inst/usr/sbin/pinholed" --help
# The installed pinholed finds the installed library (sbin/../share/pinhole/apps): nfs resolves;
# a policy of ssh only has no helper channel (exit 2, before any netlink socket).
expect installed-pinholed-library 2 'has no negotiated channel' env -u PINHOLE_LIB "$inst/usr/sbin/pinholed" --policy "$tmp/clean.pin"
# The installed binary finds the installed library: relative to itself, bin/../share/pinhole/apps.
expect installed-usr-apps 0 '^ssh +Secure shell' env -u PINHOLE_LIB "$inst/usr/bin/pinhole" apps
expect installed-usr-app 0 "defined: $inst/usr/bin/../share/pinhole/apps/ssh.pin" \
	env -u PINHOLE_LIB "$inst/usr/bin/pinhole" apps ssh
if [ "$(env -u PINHOLE_LIB "$inst/usr/bin/pinhole" apps | wc -l)" -eq "$(ls stdlib-apps/*.pin | wc -l)" ]; then
	ok; else bad "installed pinhole apps does not list one app per installed library file"; fi
# The installed completion completes app names through the installed binary.
got=$(bash -c '. "$1"; COMP_WORDS=("$2" apps ft); COMP_CWORD=2; _pinhole; echo "${COMPREPLY[*]}"' \
	complete "$inst/usr/share/bash-completion/completions/pinhole" "$inst/usr/bin/pinhole")
[ "$got" = ftp ] && ok || bad "installed completion: 'apps ft' gave '$got', want 'ftp'"
# The unit, as systemd reads it (ExecStart= must exist in the installed tree, man pages too).
if command -v systemd-analyze >/dev/null; then
	# pinholed.service has the default dependencies (sysinit.target, basic.target,
	# shutdown.target): the verify tree gets the machine's copies of those three.
	vroot=$tmp/vroot
	rm -rf "$vroot" && cp -a "$inst" "$vroot"
	for t in sysinit.target basic.target shutdown.target; do
		cp /lib/systemd/system/$t "$vroot/usr/lib/systemd/system/" || bad "no /lib/systemd/system/$t"; done
	for unit in pinhole.service pinholed.service; do
		if MANPATH="$vroot/usr/share/man" systemd-analyze verify --root="$vroot" "$unit" \
			>"$tmp/verify" 2>&1 && [ ! -s "$tmp/verify" ]; then ok; else
			bad "systemd-analyze verify $unit:"; sed 's/^/    /' "$tmp/verify"; fi
	done
elif [ "${CI:-}" = true ]; then
	bad "systemd-analyze verify: no systemd-analyze (package systemd; tests/install-deps.sh installs it)"
else
	echo "cli: SKIP systemd-analyze verify pinhole.service pinholed.service: no systemd-analyze here"
fi
make --no-print-directory uninstall DESTDIR="$inst" PREFIX=/usr >/dev/null 2>&1
left=$(cd "$inst" && find . -type f)
[ -z "$left" ] && ok || bad "make uninstall left files: $left"
make --no-print-directory install DESTDIR="$inst" PREFIX=/usr >/dev/null 2>&1 # for the boot test

# --- pinhole.service's boot script, for real in a network namespace -------------------------
# Its own namespace, a temp dir for /etc/pinhole and /var/lib/pinhole; the machine's own
# ruleset is checked to be untouched.
boot_test() {
	local ns="ph-ops$$" etc=$tmp/etc state=$tmp/state host_before
	local boot="$inst/usr/libexec/pinhole/pinhole-boot"
	ip netns add "$ns" || { bad "boot: ip netns add $ns failed"; return; }
	trap 'ip netns del "'"$ns"'" 2>/dev/null; rm -rf "$tmp"' EXIT
	host_before=$(nft list ruleset 2>&1 | md5sum)
	mkdir -p "$etc"
	run_boot() { # ACTION [ENV=VALUE...]: the script as the unit runs it, inside $ns
		local action=$1
		shift
		ip netns exec "$ns" env -u PINHOLE_LIB -u SSH_CONNECTION PINHOLE_POLICY="$etc/policy.pin" \
			PINHOLE_STATE_DIR="$state" PINHOLE_BIN="$inst/usr/bin/pinhole" "$@" "$boot" "$action"
	}
	table() { ip netns exec "$ns" nft list table inet pinhole 2>&1; }
	has_rule() { table | grep -q "$1"; }

	printf 'allow ssh server;\n' > "$etc/policy.pin"
	expect boot-good 0 'applied .*policy.pin' run_boot start
	has_rule 'tcp dport 22 accept' && ok || bad "boot: the good policy is not loaded: $(table | head -3)"
	grep -q 'tcp dport 22 accept' "$state/last-good.nft" 2>/dev/null && ok ||
		bad "boot: no last-good.nft saved after a good apply"

	# A reboot (empty table) with a policy that no longer compiles: the last good ruleset
	# comes back, the compiler says why, the exit status says it was not the policy.
	ip netns exec "$ns" nft delete table inet pinhole
	printf 'allow ssh server\n' > "$etc/policy.pin"
	expect boot-broken 1 'policy.pin:1:17: error' run_boot start
	grep -q 'loaded the last good ruleset' "$tmp/out" && ok || bad "boot: no word of the fallback: $(cat "$tmp/out")"
	has_rule 'tcp dport 22 accept' && ok || bad "boot: broken policy: last good ruleset not loaded: $(table | head -3)"

	# A policy that compiles but the kernel refuses (the test build's fault injection on
	# line 1): again the last good ruleset, and last-good.nft is not replaced by the refused one.
	ip netns exec "$ns" nft delete table inet pinhole
	printf 'allow http server;\n' > "$etc/policy.pin"
	expect boot-refused 1 'was not applied' run_boot start PINHOLE_TEST_REJECT_LINE=1 \
		PINHOLE_BIN="$PWD/build/pinhole-faults"
	has_rule 'tcp dport 22 accept' && ! has_rule 'tcp dport 80' && ok ||
		bad "boot: refused policy: want the last good (ssh) ruleset, have: $(table | grep dport)"
	! grep -q 'dport 80' "$state/last-good.nft" && ok || bad "boot: a refused policy became last-good.nft"
	[ ! -e "$state/candidate.nft" ] && ok || bad "boot: candidate.nft left behind"

	# The next good policy replaces both the table and last-good.nft.
	expect boot-good-again 0 'applied' run_boot start
	has_rule 'tcp dport 80 accept' && ! has_rule 'tcp dport 22' && ok || bad "boot: new policy not loaded: $(table | grep dport)"
	grep -q 'tcp dport 80 accept' "$state/last-good.nft" && ok || bad "boot: last-good.nft not updated"

	# No last good ruleset at all: exit 2, the table is left as it was.
	printf 'allow nosuchapp server;\n' > "$etc/policy.pin"
	expect boot-no-fallback 2 'no last good ruleset' run_boot start PINHOLE_STATE_DIR="$tmp/empty-state"
	has_rule 'tcp dport 80 accept' && ok || bad "boot: without a fallback the running table changed"

	# stop unloads pinhole's table only; a second stop has nothing to do.
	ip netns exec "$ns" nft add table inet other
	expect boot-stop 0 'unloaded table inet pinhole' run_boot stop
	! ip netns exec "$ns" nft list table inet pinhole >/dev/null 2>&1 && ok || bad "boot: stop left the table"
	ip netns exec "$ns" nft list table inet other >/dev/null 2>&1 && ok || bad "boot: stop removed another table"
	expect boot-stop-again 0 '' run_boot stop
	expect boot-usage 2 'usage: pinhole-boot' "$boot"

	[ "$(nft list ruleset 2>&1 | md5sum)" = "$host_before" ] && ok || bad "boot: the machine's own ruleset changed"
	ip netns del "$ns"
	trap 'rm -rf "$tmp"' EXIT
}
if [ "$(id -u)" -eq 0 ] && command -v nft >/dev/null && ip netns list >/dev/null 2>&1; then
	boot_test
elif [ "${CI:-}" = true ]; then
	bad "boot: the pinhole-boot namespace test cannot run here (needs root, nft, ip netns)"
else
	echo "cli: SKIP pinhole-boot namespace test: needs root, nft and ip netns"
fi
