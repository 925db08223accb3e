#!/usr/bin/env bash
# `make bench`: pinhole against ferm and Shorewall, loading, memory and the data path at
# 10,000 entries (issue 9). Needs root; not part of `make check`. Method: tests/perf/README.md.
#   tests/perf/bench.sh [--quick] [--no-readme] [--deps]   (QUICK=1 in the environment = --quick)
# Installs what it needs from Debian when missing: iperf3, ethtool, time, perl, bc (--deps, or
# `make bench-deps`, does only that). The results table goes into README.md between the
# bench markers (not with --quick or --no-readme) and into build/bench/results.md. ferm and Shorewall are never installed: their .debs are
# downloaded (apt-get download) and unpacked with dpkg -x into build/bench/root.
# Everything that touches the kernel runs in network namespaces named phb<pid>-..., deleted
# on exit (bench.py's handlers, and the trap here for whatever they miss).
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
out=${BENCH_DIR:-$top/build/bench}
quick=
readme=--readme
for a in "$@"; do
	case "$a" in
	--quick) quick=--quick ;;
	--no-readme) readme= ;;
	--deps) ;;
	*) echo "usage: $0 [--quick] [--no-readme] [--deps]" >&2; exit 2 ;;
	esac
done
[ "${QUICK:-0}" = 1 ] && quick=--quick
[ -n "$quick" ] && readme= # a smoke run's numbers stay in build/bench
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces, apt-get)" >&2; exit 1; }

# --- tools from Debian, installed only when missing
need=()
command -v iperf3 >/dev/null || need+=(iperf3)
command -v ethtool >/dev/null || need+=(ethtool)
[ -x /usr/bin/time ] || need+=(time)
command -v perl >/dev/null || need+=(perl)
command -v nft >/dev/null || need+=(nftables)
command -v iptables-legacy-restore >/dev/null || need+=(iptables)
command -v bc >/dev/null || need+=(bc) # Shorewall's CLI uses it
if [ ${#need[@]} -gt 0 ]; then
	echo "bench: installing ${need[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2
fi
case " $* " in *" --deps "*) exit 0 ;; esac

# --- ferm and Shorewall in a private root, never installed (only the compile part runs them)
root=$out/root
case ",${BENCH_ONLY:-compile}," in *,compile,*) want_root=1 ;; *) want_root= ;; esac
if [ -n "$want_root" ] && { [ ! -x "$root/sbin/shorewall-bench" ] || [ ! -x "$root/usr/sbin/ferm" ]; }; then
	rm -rf "$root" "$out/debs"
	mkdir -p "$out/debs" "$root"
	(cd "$out/debs" && apt-get download ferm shorewall shorewall-core 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
	for d in "$out"/debs/*.deb; do dpkg -x "$d" "$root"; done
	[ -x "$root/usr/sbin/ferm" ] && [ -x "$root/sbin/shorewall" ] || {
		echo "bench: could not download/unpack ferm and shorewall" >&2; exit 1; }
	# Shorewall reads its paths from shorewallrc; point them at the private root, and the
	# places that source /usr/share/shorewall/shorewallrc by its absolute name at our copy.
	rc=$root/usr/share/shorewall/shorewallrc
	sed -i -e "s|^PREFIX=/usr|PREFIX=$root/usr|" -e "s|^CONFDIR=/etc|CONFDIR=$root/etc|" \
		-e "s|^SBINDIR=/sbin|SBINDIR=$root/sbin|" -e "s|^VARLIB=/var/lib|VARLIB=$root/var/lib|" "$rc"
	grep -rlI '/usr/share/shorewall/shorewallrc' "$root" | while read -r f; do
		sed -i "s|\\([^/a-zA-Z]\\)/usr/share/shorewall/shorewallrc|\\1$rc|g" "$f"
	done
	sed "s|^\\. /usr/share/shorewall/shorewallrc|. $rc|" "$root/sbin/shorewall" >"$root/sbin/shorewall-bench"
	chmod +x "$root/sbin/shorewall-bench"
fi

[ -x build/pinhole ] || { echo "bench: build first: make" >&2; exit 1; }
export BENCH_DIR=$out BENCH_NS_PREFIX="phb$$"
mkdir -p "$out"
rm -rf "$out/work" # inputs are regenerated: a new pinhole may compile them differently
cleanup() {
	ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^$BENCH_NS_PREFIX-" | while read -r ns; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$ns" || true
	done || true # no namespace left: grep finds nothing, and set -e would end the trap with 1
}
trap 'rc=$?; cleanup; exit $rc' EXIT
/usr/bin/python3 tests/perf/bench.py $quick ${readme:+$readme README.md}
