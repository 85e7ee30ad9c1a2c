#!/bin/dash
# /init of the kernel backend's VM (see regress/vm.t).  Runs as pid 1
# on Debian's cloud kernel with no network card: every host below is a
# network namespace joined by veth links, as in regress/lib.sh.
#
# Results go to the serial console as marker lines that vm.t turns
# into TAP:
#	OMNIVM ok - DESC / OMNIVM not ok - DESC	one test
#	OMNIVM # TEXT				a comment
#	OMNIVM time NAME SECONDS		a measurement
#	OMNIVM end				everything ran
# then the machine powers off.
#
# dash, not busybox sh: that one runs its own applets (its ip) before
# looking at PATH, where iproute2's ip comes first.
/bin/busybox --install -s
export PATH=/usr/local/sbin:/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
exec </dev/null >/dev/console 2>&1

say() { echo "OMNIVM $*"; }
mark() { echo "OMNIVM # $(up) s: $*"; }
up() { cut -d' ' -f1 /proc/uptime; }
vm_ok() {	# vm_ok STATUS DESC
	if [ "$1" -eq 0 ]; then say "ok - $2"; else say "not ok - $2"; fi
}
vm_check() {	# vm_check DESC CMD...
	d=$1; shift
	"$@" >/dev/null 2>&1
	vm_ok $? "$d"
}
# Lines "ok - ..." of wgbulk, forwarded.
forward() { sed -e 's/^/OMNIVM /'; }
diag_file() { sed -e 's/^/OMNIVM # /' "$@"; }
finish() {
	say "end"
	sync
	poweroff -f
}
BULK=/omni/regress/vm/wgbulk
# omnivm.quick on the kernel command line: the mesh only.
quick=
grep -q omnivm.quick /proc/cmdline && quick=1

say "# kernel $(uname -r), init at $(up) s"

# --- without the module --------------------------------------------------
$BULK absent omniabs0 2>/tmp/absent.err | forward
grep -q "backend auto: using userspace (wireguard-go)" /tmp/absent.err
vm_ok $? "backend auto logs that it falls back to userspace, and why"
diag_file /tmp/absent.err

# --- the module and its dependencies ---------------------------------------
st=0
while read -r m; do
	insmod "$m" || st=1
done < /modules/order
for m in wireguard veth bridge; do
	grep -q "^$m " /proc/modules || st=1
done
vm_ok $st "insmod $(wc -l < /modules/order) modules: wireguard, veth, bridge and their dependencies"
[ $st -eq 0 ] || finish

# --- a mesh with backend: kernel ----------------------------------------
mark "mesh"
TOP=/omni
. /omni/regress/lib.sh
LAB=omv
lab_init
lab_host nuc 1
lab_host e1 2
lab_host e2 3
lab_host e3 4
lab_nucleus_conf nuc 1
lab_edge_conf e1 2 1
lab_edge_conf e2 3 1
lab_edge_conf e3 4 1
echo "    backend: kernel" >> "$LABDIR/e1.conf"
echo "    backend: kernel" >> "$LABDIR/e2.conf"
echo "    backend: auto" >> "$LABDIR/e3.conf"
lab_start nuc
lab_start e1
lab_start e2
lab_start e3

if wait_for 90 ping_vip e1 3; then
	say "time boot_to_ping $(up)"
	vm_ok 0 "edge1 reaches edge2's VIP through kernel WireGuard"
else
	vm_ok 1 "edge1 reaches edge2's VIP through kernel WireGuard"
	first_ping_failed=1
fi
mark "pinged"
[ -n "$first_ping_failed" ] && for h in nuc e1 e2 e3; do
	tail -n 25 "$LABDIR/$h.log" | sed "s/^/OMNIVM # $h: /"
done
vm_check "edge2 reaches edge1's VIP through kernel WireGuard" wait_for 20 ping_vip e2 2

for h in e1 e2; do
	b=$(lab_ctl $h -j show interface | jq -r '.interfaces[0].backend')
	vm_ok $([ "$b" = kernel ]; echo $?) "omnictl show interface on $h: backend $b"
done
b=$(lab_ctl e3 -j show interface | jq -r '.interfaces[0].backend')
vm_ok $([ "$b" = kernel ]; echo $?) "backend auto picks kernel WireGuard once the module is there (got $b)"
grep -q "backend auto: using kernel WireGuard" "$LABDIR/e3.log"
vm_ok $? "and logs which and why"
ip -n "$LAB-e1" -d link show "${LAB}e1" | grep -q wireguard
vm_ok $? "${LAB}e1 is a kernel link of kind wireguard"
# Kernel WireGuard has no process: no wireguard-go anywhere.
vm_check "no wireguard-go runs" sh -c '! pgrep -f wireguard-go'

npeers_is() {	# npeers_is HOST N
	[ "$(ip netns exec "$LAB-$1" wg show "$LAB$1" peers | wc -l)" = "$2" ]
}
vm_check "edge1 has peers edge2 and edge3" wait_for 30 npeers_is e1 2
vm_check "edge3 (backend auto) reaches edge1's VIP" wait_for 20 ping_vip e3 2

# wg(8) reads the kernel; omnictl reads it through omnid.
wgv=$(ip netns exec "$LAB-e1" wg show "${LAB}e1" dump | tail -n +2 |
    awk '{ print $1, $3, $5 }' | sort)
ctl=$(lab_ctl e1 -j show peers |
    jq -r '.peers[] | "\(.public_key) \(.endpoint) \(.latest_handshake)"' | sort)
vm_ok $([ -n "$wgv" ] && [ "$wgv" = "$ctl" ]; echo $?) "wg show and omnictl -j show peers agree on keys, endpoints and handshakes"
[ "$wgv" = "$ctl" ] || { say "# wg: $wgv"; say "# omnictl: $ctl"; }
aips=$(ip netns exec "$LAB-e1" wg show "${LAB}e1" allowed-ips | awk '{ print $2 }' | sort | tr '\n' ' ')
vm_ok $([ "$aips" = "10.77.0.3/32 10.77.0.4/32 " ]; echo $?) "allowed IPs are the peers' VIPs (got $aips)"
key2=$(ip netns exec "$LAB-e2" wg show "${LAB}e2" public-key)

mark "compared"
# One peer goes while a ping to another runs.
ip netns exec "$LAB-e1" ping -i 0.1 -W 1 -c 600 10.77.0.3 >"$LABDIR/ping" 2>&1 &
pp=$!
sleep 1
lab_stop e3
t0=$(up)
vm_check "edge3's peer is removed from edge1's kernel interface" wait_for 40 npeers_is e1 1
say "# removed after $(echo "$(up) $t0" | awk '{ printf "%.1f", $1 - $2 }') s"
sleep 1
kill -INT $pp
wait $pp
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$LABDIR/ping")
# The interrupt can catch the last echo in flight (slow under
# emulation): every echo sent before it must have been answered.
# iputils counts icmp_seq from 1, busybox seq from 0.
base=0
grep -q icmp_seq= "$LABDIR/ping" && base=1
answered=$(sed -n 's/.*seq=\([0-9]*\) .*time=.*/\1/p' "$LABDIR/ping" |
    sort -un | awk -v lo="$base" -v hi="$(( base + ${sent:-0} - 2 ))" \
    '$1 >= lo && $1 <= hi { c++ } END { print c + 0 }')
loss=$(( ${sent:-0} - 1 - answered ))
vm_ok $([ "$loss" -eq 0 ] && [ "${sent:-0}" -gt 10 ]; echo $?) "no ping to edge2 lost meanwhile ($sent sent, $answered of the first $(( ${sent:-1} - 1 )) answered)"
left=$(ip netns exec "$LAB-e1" wg show "${LAB}e1" peers)
vm_ok $([ "$left" = "$key2" ]; echo $?) "edge2 is edge1's only peer left"

# A killed omnid leaves its kernel interface (no process owns it): the
# next one replaces it and the tunnel comes back.
kill -KILL "$PID_e2"
wait "$PID_e2" 2>/dev/null
PID_e2=
old_idx=$(ip -n "$LAB-e2" -o link show "${LAB}e2" 2>/dev/null | cut -d: -f1)
vm_ok $([ -n "$old_idx" ]; echo $?) "after SIGKILL of omnid the kernel interface stays"
lab_start e2
stale_logged() {
	grep -q "removing the kernel WireGuard interface an earlier run left behind" "$LABDIR/e2.log"
}
vm_check "a restarted omnid removes the stale interface and says so" wait_for 30 stale_logged
new_link() {
	i=$(ip -n "$LAB-e2" -o link show "${LAB}e2" 2>/dev/null | cut -d: -f1)
	[ -n "$i" ] && [ "$i" != "$old_idx" ] &&
	    lab_ctl e2 -j show interface | grep -q '"backend":"kernel"'
}
vm_check "and creates it again" wait_for 30 new_link
vm_check "edge1 reaches edge2 through the new interface" wait_for 40 ping_vip e1 3
mark "removed"
[ "$left" = "$key2" ] || for h in nuc e1 e3; do
	tail -n 15 "$LABDIR/$h.log" | sed "s/^/OMNIVM # $h: /"
done
for h in nuc e1 e2; do lab_stop $h; done
gone() { ! ip -n "$LAB-e1" link show "${LAB}e1" && ! ip -n "$LAB-e2" link show "${LAB}e2"; }
vm_check "omnid removed its kernel interfaces on exit" gone
gone || for h in e1 e2; do
	tail -n 8 "$LABDIR/$h.log" | sed "s/^/OMNIVM # $h: /"
done
for h in e1 e2 e3; do
	grep -E "warn|fatal|error" "$LABDIR/$h.log" | head -n 5 | sed "s/^/OMNIVM # $h: /"
done
lab_cleanup

[ -n "$quick" ] && finish

# --- 2,000 peers on one interface ----------------------------------------
mark "bulk"
t0=$(up)
$BULK bulk omnibulk0 2000 /usr/bin/wg 2>/tmp/bulk.err | forward
say "time bulk $(echo "$(up) $t0" | awk '{ printf "%.1f", $1 - $2 }')"
tail -n 5 /tmp/bulk.err | diag_file
mark "perm"

# --- without privileges ------------------------------------------------
$BULK perm omniperm0 2>/tmp/perm.err | forward
tail -n 5 /tmp/perm.err | diag_file

finish
