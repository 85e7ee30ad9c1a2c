#!/bin/sh
# issue 7, the parent's side of NAT traversal: the underlay watch and
# the probe sockets.  An address added to or removed from the edge's
# uplink reaches signald (IMSG_LOCAL_ADDRS, a new generation) within
# 1 s; addresses signald must not announce (on the WireGuard interface,
# IPv6 still tentative, on a link that is down) are left out; the
# lists go again to a restarted signald; signald holds the raw probe
# sockets the parent opened for it, also after a restart and a reload
# that changes the WireGuard port.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
lab_test
# -v: the parent logs every address change and every list it sends
OMNI_VERBOSE=1
lab_init
lab_host nuc 1
lab_host e1 2
lab_nucleus_conf nuc 1
lab_edge_conf e1 2 1
lab_start nuc
lab_start e1
NS=$LAB-e1
LOG=$LABDIR/e1.log
IF1=${LAB}e1
check "e1 is up" wait_for 20 lab_ctl e1 show interface

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# sent GEN: the log says the list of generation GEN went to signald
sent() { grep -q "$IF1: local addresses of generation $1 sent to signald" "$LOG"; }
gen_now() {
	sed -n "s/.*$IF1: local addresses of generation \([0-9]*\) sent.*/\1/p" \
	    "$LOG" | tail -n 1
}
# within_ms MS PATTERN: the pattern appears in the log within MS ms;
# prints the time it took
within_ms() {
	t0=$(now_ms)
	while :; do
		if grep -q "$2" "$LOG"; then
			echo $(($(now_ms) - t0))
			return 0
		fi
		[ $(($(now_ms) - t0)) -le "$1" ] || break
		sleep 0.02
	done
	echo "more than $1"
	return 1
}

check "the first list went to signald at start" wait_for 10 sent 1
grep -q "address 198.18.0.2 added on eth0" "$LOG"
ok $? "the uplink's address was seen at start"
g=$(gen_now)

# An address added: in the log and sent to signald within 1 s.
ip -n "$NS" addr add 198.18.1.2/24 dev eth0
ms=$(within_ms 1000 "address 198.18.1.2 added on eth0")
ok $? "an added address is noticed within 1 s ($ms ms)"
ms=$(within_ms 1000 "generation $((g + 1)) sent to signald")
ok $? "and sent to signald as generation $((g + 1)) within 1 s ($ms ms)"

ip -n "$NS" addr del 198.18.1.2/24 dev eth0
ms=$(within_ms 1000 "address 198.18.1.2 removed on eth0")
ok $? "a removed address is noticed within 1 s ($ms ms)"
ms=$(within_ms 1000 "generation $((g + 2)) sent to signald")
ok $? "and sent to signald as generation $((g + 2)) within 1 s ($ms ms)"

# A burst is one update: ten addresses at once, one generation.
g=$(gen_now)
for i in 1 2 3 4 5 6 7 8 9 10; do
	echo "addr add 198.18.2.$i/24 dev eth0"
done | ip -n "$NS" -batch -
wait_for 3 grep -q "address 198.18.2.10 added on eth0" "$LOG"
sleep 0.5
g2=$(gen_now)
ok $([ "$g2" = $((g + 1)) ]; echo $?) "ten addresses added at once are one update (generation $g -> $g2)"
n=$(grep -c "address 198.18.2.[0-9]* added on eth0" "$LOG")
ok $([ "$n" = 10 ]; echo $?) "each of them is logged ($n)"
ip -n "$NS" addr flush dev eth0 to 198.18.2.0/24
wait_for 3 grep -q "address 198.18.2.10 removed on eth0" "$LOG"

# Not underlay: an address on the WireGuard interface, a host-scope one.
g=$(gen_now)
ip -n "$NS" addr add 10.99.0.1/32 dev "$IF1"
ip -n "$NS" addr add 198.18.3.2/32 dev eth0 scope host
sleep 0.5
ok $([ "$(gen_now)" = "$g" ] && ! grep -q "address 10.99.0.1 added" "$LOG" &&
    ! grep -q "address 198.18.3.2 added" "$LOG"; echo $?) \
    "addresses on the WireGuard interface or of host scope are not candidates"

# IPv6: usable at once with nodad; with DAD only once it completed.
ip -n "$NS" addr add 2001:db8:1::2/64 dev eth0 nodad
ms=$(within_ms 1000 "address 2001:db8:1::2 added on eth0")
ok $? "an IPv6 address is noticed within 1 s ($ms ms)"
ip -n "$NS" addr add 2001:db8:2::2/64 dev eth0
sleep 0.3
f=$(ip -n "$NS" -6 addr show dev eth0 to 2001:db8:2::2/128)
case $f in
*tentative*)
	! grep -q "address 2001:db8:2::2 added" "$LOG"
	ok $? "a tentative IPv6 address is not a candidate yet" ;;
*)
	ok 1 "the IPv6 address should still be tentative after 0.3 s: $f" ;;
esac
ms=$(within_ms 5000 "address 2001:db8:2::2 added on eth0")
ok $? "it is once duplicate address detection is over ($ms ms)"

# The probe sockets: signald holds a raw UDP socket per family.
# raw_inodes FILE: inodes of raw sockets of protocol UDP (17 = 0x11,
# shown as the local port) in this namespace's /proc/net/raw[6]
raw_inodes() {
	ip netns exec "$NS" cat "/proc/net/$1" |
	    awk 'NR > 1 && $2 ~ /:0011$/ { print $10 }'
}
# holds PID FILE: how many of those the process has open
holds() {
	n=0
	for i in $(raw_inodes "$2"); do
		ls -l "/proc/$1/fd" 2>/dev/null | grep -q "socket:\[$i\]" &&
		    n=$((n + 1))
	done
	echo $n
}
probe_socks_ok() {
	sp=$(child_pid e1 signald)
	[ -n "$sp" ] && [ "$(holds "$sp" raw)" = 1 ] &&
	    [ "$(holds "$sp" raw6)" = 1 ]
}
check "signald holds one IPv4 and one IPv6 probe socket" wait_for 5 probe_socks_ok
eval "pp=\$PID_e1"
ok $([ "$(holds "$pp" raw)" = 1 ] && [ "$(holds "$pp" raw6)" = 1 ]; echo $?) \
    "the parent keeps its own copy, to hand to a restarted signald"

# A restarted signald gets the sockets and the current list again.
g=$(gen_now)
c=$(grep -c "generation $g sent to signald" "$LOG")
old=$(child_pid e1 signald)
kill -KILL "$old"
again() {
	new=$(child_pid e1 signald)
	[ -n "$new" ] && [ "$new" != "$old" ] &&
	    [ "$(grep -c "generation $g sent to signald" "$LOG")" -gt "$c" ]
}
check "a restarted signald gets the list again (generation $g)" wait_for 10 again
check "and its probe sockets" wait_for 5 probe_socks_ok

# A reload that changes the WireGuard port: new sockets, none leaked.
sed -i 's/listen-port: 51820/listen-port: 51830/' "$LABDIR/e1.conf"
lab_ctl e1 reload >/dev/null 2>&1
ok $? "reload with a new listen-port"
check "signald holds one probe socket per family after it" wait_for 5 probe_socks_ok
ok $([ "$(holds "$pp" raw)" = 1 ] && [ "$(holds "$pp" raw6)" = 1 ]; echo $?) \
    "the parent closed the sockets of the old port"
check "the list goes to signald with the new port" wait_for 5 \
    grep -q "$IF1: local addresses of generation [0-9]* sent to signald ([0-9]*, port 51830)" "$LOG"

# A new default route is a roam too (the NAT mapping may change with
# the uplink): a new generation within 1 s; other routes are not.
g=$(gen_now)
ip -n "$NS" route add 192.0.2.0/24 via 198.18.0.1
sleep 0.5
ok $([ "$(gen_now)" = "$g" ]; echo $?) "a route other than the default is no roam"
ip -n "$NS" route add default via 198.18.0.1
ms=$(within_ms 1000 "generation $((g + 1)) sent to signald")
ok $? "a new default route is sent as generation $((g + 1)) within 1 s ($ms ms)"
grep -q "default routes changed (1 now)" "$LOG"
ok $? "and logged"

# A routing daemon's churn costs nothing: route changes the dump would
# not keep (not a default route, or a default route of another table)
# arm no dump.  Each dump is logged with what asked for it; at most one
# is allowed here, for an overrun.
dumps() { grep -c "netmon: dump [0-9]* (" "$LOG"; }
dumps_since() { grep "netmon: dump [0-9]* (" "$LOG" | tail -n +$(($1 + 1)); }
sleep 0.3
d0=$(dumps)
g=$(gen_now)
for i in $(seq 1 2000); do
	echo "route add 100.64.$((i / 250)).$((i % 250 + 1))/32 dev lo"
done > "$LABDIR/routes.add"
for i in $(seq 1 200); do
	echo "route add 2001:db8:ff::$i/128 dev eth0"
done >> "$LABDIR/routes.add"
sed 's/^route add/route del/' "$LABDIR/routes.add" > "$LABDIR/routes.del"
ip -n "$NS" -batch "$LABDIR/routes.add"
n=$(ip -n "$NS" route show | grep -c "^100\.64\.")
ip -n "$NS" -batch "$LABDIR/routes.del"
# one at a time, slower than the debounce: each would be a dump
for i in $(seq 1 20); do
	ip -n "$NS" route add default via 198.18.0.1 table $((100 + i))
	ip -n "$NS" -6 route add default dev eth0 table $((100 + i))
	sleep 0.1
done
for i in $(seq 1 20); do
	ip -n "$NS" route del default table $((100 + i))
	ip -n "$NS" -6 route del default table $((100 + i))
done
sleep 0.5
d1=$(dumps)
ok $([ "$n" = 2000 ] && [ $((d1 - d0)) -le 1 ] &&
    [ -z "$(dumps_since "$d0" | grep -v '(overrun)')" ]; echo $?) \
    "4400 changes of other routes, 80 of default routes of other tables: $((d1 - d0)) dumps (at most 1, for an overrun)"
ok $([ "$(gen_now)" = "$g" ]; echo $?) "and no new generation"
# a default route of the main table is still a roam, IPv4 and IPv6
ip -n "$NS" route replace default via 198.18.0.3
ms=$(within_ms 1000 "generation $((g + 1)) sent to signald")
ok $? "a replaced default route is noticed within 1 s ($ms ms)"
dumps_since "$d1" | grep -q "(default route)"
ok $? "by a dump for the default route"
ip -n "$NS" -6 route add default via fe80::1 dev eth0
ms=$(within_ms 1000 "default routes changed (2 now)")
ok $? "an IPv6 default route too, within 1 s ($ms ms)"

# The link goes down: its addresses are no longer usable.
ip -n "$NS" link set eth0 down
ms=$(within_ms 1000 "address 198.18.0.2 removed on eth0")
ok $? "a link going down takes its addresses within 1 s ($ms ms)"
g=$(gen_now)
ip -n "$NS" link set eth0 up
ms=$(within_ms 1000 "generation $((g + 1)) sent to signald")
rc=$?
# (the second "added": the first was at start)
n=$(grep -c "address 198.18.0.2 added on eth0" "$LOG")
ok $([ $rc = 0 ] && [ "$n" = 2 ]; echo $?) "and back within 1 s when it comes up ($ms ms)"

# A flood of changes while the parent is stopped overruns its socket
# (the kernel drops notifications, recv says ENOBUFS): the parent reads
# everything again and ends with the list it began with.
last_n() {
	sed -n "s/.*$IF1: local addresses of generation [0-9]* sent to signald (\([0-9]*\), port .*/\1/p" \
	    "$LOG" | tail -n 1
}
n0=$(last_n)
kill -STOP "$pp"
for i in $(seq 1 1500); do
	echo "addr add 198.19.$((i / 250)).$((i % 250 + 1))/32 dev eth0"
done | ip -n "$NS" -batch -
ip -n "$NS" addr flush dev eth0 to 198.19.0.0/16
kill -CONT "$pp"
settled() {
	g=$(gen_now)
	sleep 0.3
	[ "$(gen_now)" = "$g" ] && [ "$(last_n)" = "$n0" ] &&
	    ! ip -n "$NS" addr show dev eth0 | grep -q 198.19.
}
check "after 1500 addresses came and went the list is as before ($n0)" \
    wait_for 10 settled
check "the overrun was noticed" wait_for 3 grep -q "notifications overran" "$LOG"

# The counter of changes the parent exports.
upd() {
	ip netns exec "$NS" curl -sf http://127.0.0.1:9090/metrics |
	    awk '/^omni_local_addrs_updates_total /{ print $2 }'
}
check "omni_local_addrs_updates_total counts the changes (>= 8)" \
    wait_for 6 sh -c "v=\$(ip netns exec $NS curl -sf http://127.0.0.1:9090/metrics | awk '/^omni_local_addrs_updates_total /{ print \$2 }'); [ -n \"\$v\" ] && [ \"\$v\" -ge 8 ]"
echo "# omni_local_addrs_updates_total $(upd)"
# and the dumps it made: exactly those its log counts
ndumps() {
	ip netns exec "$NS" curl -sf http://127.0.0.1:9090/metrics |
	    awk '/^omni_netmon_dumps_total /{ print $2 }'
}
check "omni_netmon_dumps_total is the number of dumps logged ($(dumps))" \
    wait_for 6 sh -c "[ \"\$(ip netns exec $NS curl -sf http://127.0.0.1:9090/metrics | awk '/^omni_netmon_dumps_total /{ print \$2 }')\" = \"\$(grep -c 'netmon: dump [0-9]* (' $LOG)\" ]"
echo "# omni_netmon_dumps_total $(ndumps)"
d=$(grep "died\|exited with\|fatal" "$LOG" | grep -v "died: signal 9")
ok $([ -z "$d" ]; echo $?) "no child died but the one killed${d:+: $d}"

done_testing
