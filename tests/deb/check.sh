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
for f in /usr/bin/pinhole /usr/libexec/pinhole/pinhole-boot /lib/systemd/system/pinhole.service \
	/usr/share/man/man8/pinhole.8.gz /usr/share/man/man5/pinhole.pin.5.gz \
	/usr/share/bash-completion/completions/pinhole /usr/share/pinhole/apps/ssh.pin \
	/etc/default/pinhole /usr/share/doc/pinhole/copyright /usr/share/doc/pinhole/operating.md.gz; do
	check "package holds $f" grep -qx "$f" "$tmp/list"
done
check "apps: one file per stdlib app" test "$(grep -c '^/usr/share/pinhole/apps/.*\.pin$' "$tmp/list")" -eq "$(ls stdlib-apps/*.pin | wc -l)"
check "depends on nftables (the fallback loads with nft -f)" sh -c "dpkg-deb -f '$deb' Depends | grep -q nftables"
dpkg-deb -x "$deb" "$tmp/root"
check "unpacked binary lists the packaged library" sh -c \
	"env -u PINHOLE_LIB '$tmp/root/usr/bin/pinhole' apps ssh | grep -q 'defined: $tmp/root/usr/bin/../share/pinhole/apps/ssh.pin'"
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify" sh -c "MANPATH='$tmp/root/usr/share/man' systemd-analyze verify --root='$tmp/root' pinhole.service 2>&1 | tee /dev/stderr | grep -q . && exit 1 || exit 0"
fi
echo "deb: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
