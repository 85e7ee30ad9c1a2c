#!/bin/sh
# make deps: install the Debian packages omni needs to build, run the
# demo and run its tests.  A no-op when everything is there.
set -e
PKGS="build-essential clang pkg-config libevent-dev libsodium-dev libmnl-dev
libcbor-dev libyaml-dev libseccomp-dev libbsd-dev wireguard-go wireguard-tools
iproute2 iputils-ping nftables mandoc jq perl procps curl strace coturn
qemu-system-x86 busybox-static cpio kmod prometheus systemd util-linux
socat conntrack iperf3 nebula"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends $missing >/dev/null
