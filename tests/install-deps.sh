#!/usr/bin/env bash
# Installs the Debian packages pinhole's build and tests need; does nothing when all are present.
set -euo pipefail
pkgs=(gcc make flex bison pkg-config libnftnl-dev libmnl-dev libbdd-dev libcmocka-dev scdoc groff-base
      nftables iptables iproute2 procps python3 python3-scapy python3-pyftpdlib
      python3-jsonschema samba smbclient dnsmasq-base tftpd-hpa tftp-hpa vsftpd curl chrony
      bind9-dnsutils nfs-ganesha nfs-ganesha-vfs rpcbind libnfs-utils ngircd
      gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good python3-gi
      clang libclang-rt-dev conntrack systemd util-linux)
# systemd: only its systemd-analyze, which verifies the units (tests/cli/ops.sh); util-linux:
# setpriv, which runs pinholed with the unit's capabilities (tests/kernel/test_pinholed_caps.py).
# GStreamer (gst-rtsp-server through python3-gi, rtspsrc and the rtp elements from plugins-good,
# audiotestsrc from plugins-base): the RTSP server and client of test_real_apps.py's rtsp subset.
# The servers among them (samba's nmbd and smbd, tftpd-hpa, vsftpd, chronyd,
# nfs-ganesha, rpcbind, ngircd) are for tests/kernel/test_real_apps.py,
# which starts them itself inside network namespaces: they must not start on this machine.
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "pinhole: missing packages: ${missing[*]}" >&2
	echo "pinhole: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "pinhole: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# No service may start while installing (invoke-rc.d and deb-systemd-invoke ask policy-rc.d);
# an existing policy-rc.d (containers have one) is left as it is.
guard=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	guard=1
fi
rc=0
apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
[ $guard -eq 1 ] && rm -f /usr/sbin/policy-rc.d
# and they stay off at the next boot
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
	systemctl disable --now -q smbd nmbd samba-ad-dc tftpd-hpa vsftpd chrony nfs-ganesha rpcbind rpcbind.socket ngircd 2>/dev/null || true
fi
exit $rc
