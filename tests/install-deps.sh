#!/usr/bin/env bash
# Installs the Debian packages pinhole's build and tests need; does nothing when all are present.
set -euo pipefail
pkgs=(gcc make flex bison pkg-config libnftnl-dev libmnl-dev libcmocka-dev scdoc groff-base
      nftables iptables iproute2 procps python3 python3-scapy python3-pyftpdlib
      clang libclang-rt-dev)
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
apt-get install -y -qq --no-install-recommends "${missing[@]}"
