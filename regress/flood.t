#!/bin/sh
# 100,000 hostile datagrams while a ping runs through the tunnel:
# 50,000 at the nucleus (48,000 from 128 addresses of a hostile host,
# each under the per-source rate limit, 2,000 from one address, over
# it, and captured ones replayed from their victims' addresses, 4 a
# second), 30,000 at an edge's signaling socket (spoofed from its
# nucleus's address, the only one it listens to, and from a stranger)
# and 20,000 at its WireGuard port.  Every kind:
# garbage, bare headers, truncated, deeply nested CBOR and mistyped
# bodies in validly sealed datagrams, stale ones, forgeries in a
# victim's name or answering nothing, the wrong secret, another
# cluster, replays, oversized, STUN that is no request (regress/load/
# forge.c, "flood").
#
# Asserted: not one ping lost; nothing changed (peers, endpoints,
# registrations, the nucleus's edges); the kernel handed every
# datagram to the socket (the forger pauses while the target's receive
# queue holds 64 KiB, so RcvbufErrors stays 0), and signald counted
# every one of them as a drop: the sum of its *_dropped_total series
# grew by exactly the number sent.  The WireGuard junk is dropped by
# wireguard-go, uncounted by omni: only ping and state are asserted.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
lab_test
PINGS=""
trap 'for p in $PINGS; do kill $p 2>/dev/null; done; lab_cleanup' EXIT

FORGE=$TOP/regress/load/forge
make -s -C "$TOP" regress/load/forge >/dev/null || {
	echo "Bail out! cannot build regress/load/forge"
	exit 1
}
N_NUC=${FLOOD_NUCLEUS:-50000}
N_SIG=${FLOOD_EDGE:-30000}
N_WG=${FLOOD_WG:-20000}

metrics() {
	ip netns exec "$LAB-$1" curl -sf http://127.0.0.1:9090/metrics
}
metric() {
	metrics "$1" | awk -v s="$2" '$1 == s { print $2; exit }'
}
# every drop counter of a host's signald, one "series value" a line
dropped() {
	metrics "$1" | awk '$1 ~ /^omni_[a-z_]*_dropped_total/ { print $1, $2 }' |
	    sort
}
sum() {
	awk '{ s += $2 } END { print s + 0 }' "$@"
}
# delta OLD NEW: the series that grew, and by how much
delta() {
	join "$1" "$2" | awk '$3 != $2 { printf "%s +%d\n", $1, $3 - $2 }'
}
# udp HOST: the kernel's UDP counters in the host's namespace
udp() {
	ip netns exec "$LAB-$1" awk '/^Udp:/ {
		if (!h) { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
		for (i = 2; i <= NF; i++) print n[i], $i
	}' /proc/net/snmp | sort
}
udpd() {
	join "$1" "$2" | awk -v f="$3" '$1 == f { print $3 - $2 }'
}
peers() {
	lab_ctl "$1" -j show peers | jq -cS \
	    '[.peers[] | {interface, vip, public_key, endpoint}] |
	    sort_by(.public_key)'
}
state() {
	echo "e1 $(peers e1)"
	echo "e2 $(peers e2)"
	echo "e1 nucleus $(lab_ctl e1 -j show nucleus | jq -c '[.nuclei[] | {address, reachable}]')"
	echo "e2 nucleus $(lab_ctl e2 -j show nucleus | jq -c '[.nuclei[] | {address, reachable}]')"
	echo "nucleus $(lab_ctl nuc -j show nucleus | jq -c .nucleus)"
	echo "e1 registrations $(grep -c 'registered with nucleus' "$LABDIR/e1.log")"
	echo "e2 registrations $(grep -c 'registered with nucleus' "$LABDIR/e2.log")"
	echo "e1 peer sets $(grep -c 'peer set now' "$LABDIR/e1.log")"
	echo "e2 peer sets $(grep -c 'peer set now' "$LABDIR/e2.log")"
}
# settled HOST FILE EXPECTED: the drop counters reached the expected
# sum (metrics are sent every 2 s) and stayed there
settled() {
	dropped "$1" > "$2"
	[ "$(sum "$2")" -ge "$3" ] || return 1
	sleep 2.5
	dropped "$1" > "$2.again"
	cmp -s "$2" "$2.again"
}

lab_init
lab_host nuc 1
lab_host e1 2
lab_host e2 3
lab_host evil 4
# the hostile host has 128 addresses more: 198.18.0.100-227
i=100
while [ $i -lt 228 ]; do
	echo "addr add 198.18.0.$i/24 dev eth0"
	i=$((i + 1))
done | ip -n "$LAB-evil" -batch -
lab_nucleus_conf nuc 1
lab_edge_conf e1 2 1
lab_edge_conf e2 3 1
lab_start nuc
lab_start e1
lab_start e2
lab_mesh_up
key2=$(ip netns exec "$LAB-e2" wg show "${LAB}e2" public-key)

# real signaling to replay: edges to the nucleus, the nucleus to e1
ip netns exec "$LAB-nuc" "$FORGE" capture -i eth0 -p 51900 -n 6 -t 15 \
    -o "$LABDIR/cap.up" > "$LABDIR/cap.up.out" &
cp=$!
ip netns exec "$LAB-e1" "$FORGE" capture -i eth0 -P 51900 -n 4 -t 15 \
    -o "$LABDIR/cap.down" > "$LABDIR/cap.down.out"
wait $cp
tcap=$(date +%s)
sed 's/^/# /' "$LABDIR/cap.up.out" "$LABDIR/cap.down.out"
sigport=$(sed -n 's/^from 198\.18\.0\.1:51900 to 198\.18\.0\.2:\([0-9]*\),.*/\1/p' \
    "$LABDIR/cap.down.out" | head -n 1)
ok $([ -s "$LABDIR/cap.up" ] && [ -s "$LABDIR/cap.down" ] && [ -n "$sigport" ]; echo $?) \
    "captured signaling both ways; e1 signals from port $sigport"

sleep 2.5	# one metrics period: what the captures saw is counted
before=$(state)
echo "$before" | sed 's/^/# before: /'
dropped nuc > "$LABDIR/nd0"
dropped e1 > "$LABDIR/ed0"
udp nuc > "$LABDIR/nu0"
udp e1 > "$LABDIR/eu0"

t0=$(date +%s.%N)
ip netns exec "$LAB-e1" ping -D -i 0.05 -W 1 -w 170 10.77.0.3 \
    >"$LABDIR/ping" 2>&1 &
pp=$!
PINGS=$pp

# --- the nucleus ------------------------------------------------------
# most of it from 128 addresses at 17/s each, under the per-source
# limit of 20/s, into the parsers; 2,000 from one address at 1,000/s,
# mostly rate_limited (the limit comes first, after too_big)
N_ONE=2000
ip netns exec "$LAB-evil" "$FORGE" flood -m nucleus -a 198.18.0.1:51900 \
    -n $((N_NUC - N_ONE)) -r 2200 -s "$SECRET" -c lab -k "$key2" \
    -v 10.77.0.3/24 -f "$LABDIR/cap.up" -b 198.18.0.100 -N 128 \
    -w "$PID_nuc:51900" -t 120 > "$LABDIR/flood.nuc"
r=$?
sed 's/^/# nucleus flood: /' "$LABDIR/flood.nuc"
ip netns exec "$LAB-evil" "$FORGE" flood -m nucleus -a 198.18.0.1:51900 \
    -n $N_ONE -r 1000 -s "$SECRET" -c lab -k "$key2" -v 10.77.0.3/24 \
    -f "$LABDIR/cap.up" -w "$PID_nuc:51900" -t 60 > "$LABDIR/flood.one"
r1=$?
sed 's/^/# from one address: /' "$LABDIR/flood.one"
sent=$(cat "$LABDIR/flood.nuc" "$LABDIR/flood.one" |
    sed -n 's/^sent \([0-9]*\) datagrams.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
ok $([ $r = 0 ] && [ $r1 = 0 ] && [ "$sent" = "$N_NUC" ]; echo $?) \
    "$sent datagrams at the nucleus, no send error, every answer a CHALLENGE no longer than its request"
wait_for 15 settled nuc "$LABDIR/nd1" $(($(sum "$LABDIR/nd0") + sent))
udp nuc > "$LABDIR/nu1"
delta "$LABDIR/nd0" "$LABDIR/nd1" | sed 's/^/# nucleus: /'
d=$(($(sum "$LABDIR/nd1") - $(sum "$LABDIR/nd0")))
ok $([ "$d" = "$sent" ]; echo $?) "the nucleus counted every one as a drop: $d of $sent"
rb=$(udpd "$LABDIR/nu0" "$LABDIR/nu1" RcvbufErrors)
ie=$(udpd "$LABDIR/nu0" "$LABDIR/nu1" InErrors)
in=$(udpd "$LABDIR/nu0" "$LABDIR/nu1" InDatagrams)
ok $([ "$rb" = 0 ] && [ "$ie" = 0 ] && [ "$in" -ge "$sent" ]; echo $?) \
    "the kernel dropped none: RcvbufErrors +$rb, InErrors +$ie, InDatagrams +$in"
n=$(cat "$LABDIR/flood.nuc" "$LABDIR/flood.one" |
    sed -n 's/^kind oversized //p' | awk '{ s += $1 } END { print s + 0 }')
tb=$(delta "$LABDIR/nd0" "$LABDIR/nd1" | sed -n 's/^omni_signal_dropped_total{reason="too_big"} +//p')
ok $([ "${tb:-0}" = "$n" ]; echo $?) "the oversized ones as too_big ($tb of $n)"
rl=$(delta "$LABDIR/nd0" "$LABDIR/nd1" | sed -n 's/^omni_s[a-z]*_dropped_total{reason="rate_limited"} +//p' |
    awk '{ s += $1 } END { print s + 0 }')
ok $([ "$rl" -ge $((N_ONE * 3 / 4)) ] && [ "$rl" -le $((N_ONE + (N_NUC - N_ONE) / 10)) ]; echo $?) \
    "rate_limited: most of the one address, little of the 128 ($rl)"

# --- an edge: its signaling socket and its WireGuard port ------------
# An edge takes an answer that echoes one of its last 8 requests (a
# page comes in many parts with one re): a replay of a part it has
# applied changes nothing and is not counted as a drop.  So the replays
# must be older than 8 requests: 16 s of 2 s heartbeats, and a spare.
while [ "$(date +%s)" -lt $((tcap + 20)) ]; do
	sleep 1
done
ip netns exec "$LAB-evil" "$FORGE" flood -m edge -a "198.18.0.2:$sigport" \
    -A 198.18.0.1:51900 -n "$N_SIG" -r 2000 -s "$SECRET" -c lab \
    -f "$LABDIR/cap.down" -w "$PID_e1:$sigport" -t 120 \
    > "$LABDIR/flood.sig" &
fp=$!
ip netns exec "$LAB-evil" "$FORGE" flood -m wg -a 198.18.0.2:51820 \
    -n "$N_WG" -r 1500 -w "$PID_e1:51820" -t 120 > "$LABDIR/flood.wg"
rw=$?
wait $fp
r=$?
sed 's/^/# edge flood: /' "$LABDIR/flood.sig"
sed 's/^/# WireGuard flood: /' "$LABDIR/flood.wg"
sent=$(sed -n 's/^sent \([0-9]*\) datagrams.*/\1/p' "$LABDIR/flood.sig")
ok $([ $r = 0 ] && [ "$sent" = "$N_SIG" ]; echo $?) "$N_SIG datagrams at e1's signaling socket, no send error, no answer"
sentwg=$(sed -n 's/^sent \([0-9]*\) datagrams.*/\1/p' "$LABDIR/flood.wg")
ok $([ $rw = 0 ] && [ "$sentwg" = "$N_WG" ]; echo $?) "$N_WG datagrams at e1's WireGuard port, no answer"
wait_for 15 settled e1 "$LABDIR/ed1" $(($(sum "$LABDIR/ed0") + sent))
udp e1 > "$LABDIR/eu1"
delta "$LABDIR/ed0" "$LABDIR/ed1" | sed 's/^/# e1: /'
d=$(($(sum "$LABDIR/ed1") - $(sum "$LABDIR/ed0")))
ok $([ "$d" = "$sent" ]; echo $?) "e1 counted every one as a drop: $d of $sent"
rb=$(udpd "$LABDIR/eu0" "$LABDIR/eu1" RcvbufErrors)
ie=$(udpd "$LABDIR/eu0" "$LABDIR/eu1" InErrors)
in=$(udpd "$LABDIR/eu0" "$LABDIR/eu1" InDatagrams)
ok $([ "$rb" = 0 ] && [ "$ie" = 0 ] && [ "$in" -ge $((sent + sentwg)) ]; echo $?) \
    "the kernel dropped none: RcvbufErrors +$rb, InErrors +$ie, InDatagrams +$in"
n=$(sed -n 's/^kind stranger //p' "$LABDIR/flood.sig")
us=$(delta "$LABDIR/ed0" "$LABDIR/ed1" | sed -n 's/^omni_signal_dropped_total{reason="unknown_source"} +//p')
ok $([ "${us:-0}" = "$n" ]; echo $?) "from a host that is no nucleus: unknown_source ($us of $n)"

# --- nothing moved ----------------------------------------------------
t1=$(date +%s.%N)
kill -INT $pp
wait $pp
ping_summary "$LABDIR/ping" "$t0" "$t1" > "$LABDIR/ping.sum"
read -r gap lost last _ < "$LABDIR/ping.sum"
ok $([ "$lost" = 0 ] && [ "$last" -gt 100 ]; echo $?) \
    "not one ping lost during the floods ($lost of $last; longest gap $gap ms)"
after=$(state)
ok $([ "$after" = "$before" ]; echo $?) "peers, endpoints, registrations and the nucleus's edges as before"
echo "$before" > "$LABDIR/state.before"
echo "$after" > "$LABDIR/state.after"
diff -u "$LABDIR/state.before" "$LABDIR/state.after" | sed 's/^/# /'
n=$(metric nuc omni_nucleus_edges)
ok $([ "$n" = 2 ]; echo $?) "the nucleus holds exactly the two edges ($n)"
check "the mesh still works both ways" sh -c "ip netns exec $LAB-e1 ping -c 1 -W 1 10.77.0.3 && ip netns exec $LAB-e2 ping -c 1 -W 1 10.77.0.2"
for h in nuc e1; do
	eval "pid=\$PID_$h"
	n=$(metric $h 'omni_child_restarts_total{child="signald"}')
	ok $([ "$n" = 0 ] && kill -0 "$pid"; echo $?) "$h: omnid runs, signald never restarted ($n)"
done

done_testing
