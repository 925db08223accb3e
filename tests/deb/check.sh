#!/usr/bin/env bash
# `make deb`'s check of the package it built: the files it must hold, and the packaged binary
# finding the packaged library once unpacked. Not part of `make check` (needs debhelper).
set -u
cd "$(dirname "$0")/../.."
deb=$(ls build/deb/pinhole_*_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "deb: no build/deb/pinhole_*.deb (make deb)"; echo "deb: 0 passed, 1 failed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { # NAME COMMAND...
	local name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then pass=$((pass + 1)); else
		echo "deb: FAIL $name"; sed 's/^/    /' "$tmp/out" | head; fail=$((fail + 1)); fi
}
dpkg -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$tmp/list"
for f in /usr/bin/pinhole /usr/sbin/pinholed /usr/libexec/pinhole/pinhole-boot \
	/lib/systemd/system/pinhole.service /lib/systemd/system/pinholed.service \
	/usr/share/man/man8/pinhole.8.gz /usr/share/man/man8/pinholed.8.gz /usr/share/man/man5/pinhole.pin.5.gz \
	/usr/share/bash-completion/completions/pinhole /usr/share/bash-completion/completions/pinholed \
	/usr/share/pinhole/apps/ssh.pin \
	/etc/default/pinhole /usr/share/doc/pinhole/copyright /usr/share/doc/pinhole/operating.md.gz; do
	check "package holds $f" grep -qx "$f" "$tmp/list"
done
check "apps: one file per stdlib app" test "$(grep -c '^/usr/share/pinhole/apps/.*\.pin$' "$tmp/list")" -eq "$(ls stdlib-apps/*.pin | wc -l)"
check "depends on nftables (the fallback loads with nft -f)" sh -c "dpkg-deb -f '$deb' Depends | grep -q nftables"
dpkg-deb -x "$deb" "$tmp/root"
check "unpacked binary lists the packaged library" sh -c \
	"env -u PINHOLE_LIB '$tmp/root/usr/bin/pinhole' apps ssh | grep -q 'defined: $tmp/root/usr/bin/../share/pinhole/apps/ssh.pin'"
check "unpacked pinholed --version" sh -c "'$tmp/root/usr/sbin/pinholed' --version | grep -qx 'pinholed $(cat VERSION)'"
check "unpacked pinholed --help" sh -c "'$tmp/root/usr/sbin/pinholed' --help | grep -q '^usage: pinholed'"
check "pinholed.service runs the packaged pinholed" grep -q '^ExecStart=/usr/sbin/pinholed ' "$tmp/root/lib/systemd/system/pinholed.service"
if command -v systemd-analyze >/dev/null; then
	# pinholed.service has the default dependencies: the machine's copies of those targets.
	for t in sysinit.target basic.target shutdown.target; do cp /lib/systemd/system/$t "$tmp/root/lib/systemd/system/"; done
	for unit in pinhole.service pinholed.service; do
		check "systemd-analyze verify $unit" sh -c "MANPATH='$tmp/root/usr/share/man' systemd-analyze verify --root='$tmp/root' $unit 2>&1 | tee /dev/stderr | grep -q . && exit 1 || exit 0"
	done
elif [ "${CI:-}" = true ]; then
	check "systemd-analyze verify (package systemd)" false
fi
echo "deb: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
