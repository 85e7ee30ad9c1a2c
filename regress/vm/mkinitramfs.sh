#!/bin/sh
# Build the initramfs of the kernel backend's VM test:
#
#	mkinitramfs.sh TOP KROOT KVER WORK OUT
#
# TOP the omni build tree, KROOT a kernel package unpacked with dpkg -x
# (modules of version KVER), WORK an empty scratch directory, OUT the
# gzip'd newc cpio archive to write.  It holds busybox-static, the
# wireguard, veth and bridge modules with their dependencies (resolved
# by depmod and modprobe --show-depends on the unpacked tree), omni's
# programs in their build tree layout under /omni, iproute2, wg(8), jq
# and dash (for /init), each with the shared libraries ldd names, and
# the users the children need.
set -eu
TOP=$1 KROOT=$2 KVER=$3 WORK=$4 OUT=$5
WORK=$(cd "$WORK" && pwd)
R=$WORK/root

die() {
	echo "mkinitramfs: $*" >&2
	exit 1
}

for t in busybox dash depmod modprobe cpio gzip ldd ip wg jq; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found"
done
BUSYBOX=$(command -v busybox)
# The dynamic one of the busybox package would need its libraries.
ldd "$BUSYBOX" >/dev/null 2>&1 && die "$BUSYBOX is not static (install busybox-static)"

mkdir -p "$R"
cd "$R"
mkdir -p bin sbin usr/bin usr/sbin dev proc sys tmp run etc modules \
    var/lib/omni/empty root omni/regress/vm lib64
ln -s ../run var/run
chmod 0700 var/lib/omni
chmod 0755 var/lib/omni/empty
chmod 1777 tmp
cp "$BUSYBOX" bin/busybox

# Modules: depmod writes modules.dep into the unpacked tree only.
depmod -b "$KROOT" "$KVER"
: > modules/order
i=0
# One module per call: modprobe reads further names as parameters.
for m in wireguard veth bridge; do
	modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" ||
	    die "modprobe --show-depends $m"
done |
while read -r verb path _; do
	[ "$verb" = insmod ] || continue
	grep -qx "$path" "$WORK/seen" 2>/dev/null && continue
	echo "$path" >> "$WORK/seen"
	i=$((i + 1))
	name=$(printf '%02d-%s' "$i" "$(basename "$path" | sed 's/\.ko.*//')")
	case $path in
	*.ko)	cp "$path" "modules/$name.ko" ;;
	*.ko.xz) xz -dc "$path" > "modules/$name.ko" ;;
	*.ko.zst) zstd -qdc "$path" > "modules/$name.ko" ;;
	*)	die "unknown module format: $path" ;;
	esac
	echo "/modules/$name.ko" >> modules/order
done
for m in wireguard veth bridge; do
	grep -q "[0-9]-$m\.ko\$" modules/order || die "no $m module in $KROOT"
done

# Programs and the libraries they load.
copy_prog() {	# copy_prog SRC DEST
	mkdir -p "$(dirname "$R$2")"
	cp -L "$1" "$R$2"
	ldd "$1" 2>/dev/null | awk '
	    /=> \// { print $3 } /^[ \t]*\/[^ ]*ld-linux/ { print $1 }' |
	while read -r lib; do
		[ -e "$R$lib" ] && continue
		mkdir -p "$(dirname "$R$lib")"
		cp -L "$lib" "$R$lib"
	done
}
for p in parent/omnid signald/signald wgctld/wgctld metricsd/metricsd \
    omnictl/omnictl regress/vm/wgbulk; do
	[ -x "$TOP/$p" ] || die "$TOP/$p not built"
	copy_prog "$TOP/$p" "/omni/$p"
done
# Not in /sbin or /bin, where busybox --install puts its own ip.
copy_prog "$(command -v ip)" /usr/local/sbin/ip
copy_prog "$(command -v wg)" /usr/bin/wg
copy_prog "$(command -v dash)" /bin/dash
copy_prog "$(command -v jq)" /usr/bin/jq
# ld.so looks for itself in /lib64 (the interpreter path of x86-64).
if [ ! -e lib64/ld-linux-x86-64.so.2 ]; then
	ld=$(find lib usr/lib -name 'ld-linux-x86-64.so.2' 2>/dev/null | head -n 1)
	[ -n "$ld" ] && ln -s "/$ld" lib64/ld-linux-x86-64.so.2
fi
cp "$TOP/regress/lib.sh" omni/regress/lib.sh
cp "$TOP/regress/vm/init.sh" init
chmod 0755 init

cat > etc/passwd <<'EOT'
root:x:0:0:root:/root:/bin/sh
_omnid:x:998:998:omni:/nonexistent:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOT
cat > etc/group <<'EOT'
root:x:0:
_omnid:x:998:
nogroup:x:65534:
EOT
printf 'passwd: files\ngroup: files\nhosts: files\n' > etc/nsswitch.conf
printf '127.0.0.1 localhost\n' > etc/hosts

find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1 > "$OUT"
