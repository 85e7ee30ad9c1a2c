#!/bin/sh
# The kernel WireGuard backend, proven inside a virtual machine: the
# development and CI kernel has no WireGuard module, so this boots
# Debian's cloud kernel (its image package fetched with apt-get
# download into regress/vm/cache/ and unpacked with dpkg -x, never
# installed) under qemu-system-x86_64, in software emulation unless
# told to use KVM, with an initramfs built here (regress/vm/
# mkinitramfs.sh).  Inside, regress/vm/init.sh runs a nucleus and
# edges with backend: kernel in network namespaces and the 2,000-peer
# and error tests of regress/vm/wgbulk; its results come back as
# marker lines on the serial console, turned into TAP here.
#
# It never skips: a missing tool or package is a failure that says
# what to install (make deps does).  TAP: the plan comes last.
#
# Environment: OMNI_VM_ACCEL (tcg, the default, or kvm),
# OMNI_VM_TIMEOUT (seconds, default 300), OMNI_VM_CACHE
# (where the kernel package is kept), OMNI_VM_APPEND (more kernel
# arguments; "omnivm.quick" runs the mesh tests only, and then the
# test count check fails on purpose).
TOP=$(cd "$(dirname "$0")/.." && pwd)
VM=$TOP/regress/vm
CACHE=${OMNI_VM_CACHE:-$VM/cache}
TIMEOUT=${OMNI_VM_TIMEOUT:-300}
META=linux-image-cloud-amd64
n=0
failed=0
TMP=

cleanup() {
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

ok() {	# ok STATUS DESC
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

bail() {
	ok 1 "$*"
	echo "1..$n"
	exit 1
}

[ "$(id -u)" = 0 ] || bail "vm.t needs root (apt-get download, dpkg -x, depmod)"
for t in qemu-system-x86_64 busybox cpio depmod modprobe dpkg apt-get \
    apt-cache timeout ip wg jq; do
	command -v "$t" >/dev/null 2>&1 ||
	    bail "$t is missing: make deps installs qemu-system-x86 busybox-static cpio kmod"
done
for p in parent/omnid signald/signald wgctld/wgctld metricsd/metricsd \
    omnictl/omnictl regress/vm/wgbulk; do
	[ -x "$TOP/$p" ] || bail "$p is not built: make all tests"
done
TMP=$(mktemp -d /tmp/omni-vm.XXXXXX) || bail "mktemp"

# --- Debian's cloud kernel ----------------------------------------------
kpkg() {
	apt-cache depends "$META" 2>/dev/null |
	    sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1
}
pkg=$(kpkg)
if [ -z "$pkg" ]; then
	apt-get update -q >/dev/null 2>&1
	pkg=$(kpkg)
fi
deb=
if [ -n "$pkg" ]; then
	deb=$(ls -t "$CACHE/${pkg}_"*.deb 2>/dev/null | head -n 1)
else
	# No package lists (offline): a cached image of any version will do.
	deb=$(ls -t "$CACHE"/linux-image-*-cloud-amd64_*.deb 2>/dev/null | head -n 1)
fi
how=cached
if [ -z "$deb" ]; then
	[ -n "$pkg" ] || bail "cannot resolve $META (apt-get update failed?)"
	mkdir -p "$CACHE"
	# Stale package lists name a version the mirror dropped: update once.
	dl() {
		(cd "$CACHE" && apt-get download -q \
		    -o APT::Sandbox::User=root "$pkg") >"$TMP/download.log" 2>&1
	}
	if ! dl; then
		apt-get update -q >/dev/null 2>&1
		pkg=$(kpkg)
		dl || { sed 's/^/# /' "$TMP/download.log"
		    bail "apt-get download $pkg"; }
	fi
	deb=$(ls -t "$CACHE/${pkg}_"*.deb 2>/dev/null | head -n 1)
	# Keep one kernel in the cache.
	for f in "$CACHE"/linux-image-*.deb; do
		[ "$f" = "$deb" ] || rm -f "$f"
	done
	how=downloaded
fi
[ -n "$deb" ] || bail "no kernel package in $CACHE"
dpkg -x "$deb" "$TMP/k" || bail "dpkg -x $deb"
kver=$(ls "$TMP/k/lib/modules" | head -n 1)
[ -f "$TMP/k/boot/vmlinuz-$kver" ] || bail "no vmlinuz-$kver in $deb"
ok 0 "kernel $kver from $(basename "$deb") ($how; unpacked, not installed)"

# --- the initramfs ------------------------------------------------------
mkdir "$TMP/work"
if sh "$VM/mkinitramfs.sh" "$TOP" "$TMP/k" "$kver" "$TMP/work" \
    "$TMP/initrd.gz" >"$TMP/mkinitramfs.log" 2>&1; then
	ok 0 "initramfs: busybox, wireguard and its dependencies, omni, iproute2, wg, jq ($(du -k "$TMP/initrd.gz" | cut -f1) KiB)"
else
	sed 's/^/# /' "$TMP/mkinitramfs.log"
	bail "initramfs build failed"
fi
cp "$TMP/k/boot/vmlinuz-$kver" "$TMP/vmlinuz"
rm -rf "$TMP/k" "$TMP/work"

# --- the VM ---------------------------------------------------------------
# Software emulation unless OMNI_VM_ACCEL=kvm: the same on every
# machine.  A nested hypervisor was seen offering /dev/kvm and then
# failing in two ways (qemu aborting on an MSR that -cpu host sets,
# IA32_ARCH_CAPABILITIES; and, without that MSR, "KVM internal error"
# in the guest kernel, a hang until the timeout), so /dev/kvm alone
# does not say KVM works.
case ${OMNI_VM_ACCEL:-tcg} in
kvm)	[ -w /dev/kvm ] || bail "OMNI_VM_ACCEL=kvm, but /dev/kvm is not writable"
	accel="-accel kvm -cpu host"
	mode="KVM (OMNI_VM_ACCEL=kvm)" ;;
tcg)	# A bounded translation cache: the default is 1 GiB.
	accel="-accel tcg,tb-size=128 -cpu max"
	mode="software emulation" ;;
*)	bail "OMNI_VM_ACCEL must be tcg or kvm, not '$OMNI_VM_ACCEL'" ;;
esac
echo "# booting under $mode, timeout ${TIMEOUT} s"
t0=$(date +%s.%N)
# shellcheck disable=SC2086
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 $accel -m 512 -smp 2 \
    -nographic -no-reboot -nic none -serial stdio -monitor none \
    -kernel "$TMP/vmlinuz" -initrd "$TMP/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet loglevel=3 random.trust_cpu=on${OMNI_VM_APPEND:+ $OMNI_VM_APPEND}" \
    </dev/null >"$TMP/serial" 2>&1 &
tpid=$!
peak=0
while kill -0 "$tpid" 2>/dev/null; do
	q=$(pgrep -P "$tpid" | head -n 1)
	if [ -n "$q" ]; then
		h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$q/status" 2>/dev/null)
		[ -n "$h" ] && [ "$h" -gt "$peak" ] && peak=$h
	fi
	sleep 0.5
done
wait "$tpid"
rc=$?
wall=$(echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }')

# --- its results -----------------------------------------------------------
ended=0
inner=0
boot_ping=
tr -d '\r' < "$TMP/serial" > "$TMP/serial.txt"
while IFS= read -r line; do
	case $line in
	"OMNIVM ok - "*)
		inner=$((inner + 1))
		ok 0 "vm: ${line#OMNIVM ok - }" ;;
	"OMNIVM not ok - "*)
		inner=$((inner + 1))
		ok 1 "vm: ${line#OMNIVM not ok - }" ;;
	"OMNIVM # "*)
		echo "# ${line#OMNIVM # }" ;;
	"OMNIVM time boot_to_ping "*)
		boot_ping=${line#OMNIVM time boot_to_ping }
		echo "# boot to the first ping through kernel WireGuard: $boot_ping s of VM uptime" ;;
	"OMNIVM time "*)
		set -- ${line#OMNIVM time }
		echo "# $1: $2 s" ;;
	"OMNIVM end")
		ended=1 ;;
	esac
done < "$TMP/serial.txt"

echo "# qemu: $wall s wall time, exit status $rc, peak host memory $((peak / 1024)) MiB"
ok $([ "$rc" -eq 0 ] && [ "$ended" -eq 1 ]; echo $?) \
    "the VM ran to its end marker and powered off (exit status $rc)"
# A VM that reports far fewer tests than init.sh has ran short.
ok $([ "$inner" -ge 50 ]; echo $?) "the VM reported $inner tests"
if [ "$failed" -ne 0 ]; then
	echo "# last lines of the serial console:"
	grep -v '^OMNIVM ' "$TMP/serial.txt" | tail -n 40 | sed 's/^/#   /'
fi
echo "1..$n"
[ "$failed" -eq 0 ]
