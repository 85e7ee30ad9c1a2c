#!/bin/sh
# Faults while a ping runs through the tunnel every 50 ms:
#  - every child of an edge's omnid (signald, wgctld, metricsd) killed
#    with SIGKILL five times in a row, each time after the previous
#    restart: no reply gap of 1 s or more, the same peers, registered
#    again, every restart counted;
#  - the config parser killed during a reload: the reload fails, the
#    running configuration stays, the next reload applies;
#  - wireguard-go killed: the parent restarts it with the same
#    address, MTU and peers, and the ping comes back within a bound;
#  - the nucleus host's whole omnid tree killed and started again: the
#    tunnel loses nothing (the nucleus carries no traffic), the edges
#    register again within a bound, and an edge that joins afterwards
#    meets both.
# The nucleus runs with the default peer timeout (60 s): the parent's
# restart backoff doubles from 1 s, so the fifth kill in a row keeps
# signald away for 16 s, about the 15 s the other labs use.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
lab_test
PINGS=""
trap 'for p in $PINGS; do kill $p 2>/dev/null; done; lab_cleanup' EXIT

# metric HOST SERIES: the value of one series of that host's /metrics
metric() {
	ip netns exec "$LAB-$1" curl -sf http://127.0.0.1:9090/metrics |
	    awk -v s="$2" '$1 == s { print $2; exit }'
}
metric_is() {
	[ "$(metric "$1" "$2")" = "$3" ]
}
# the peers of a host as wgctld reports them, without counters
peers() {
	lab_ctl "$1" -j show peers | jq -cS \
	    '[.peers[] | {interface, vip, public_key, endpoint}] |
	    sort_by(.public_key)'
}
# the kernel's view: addresses and MTU of the interface, WireGuard's
# keys, endpoints, allowed IPs and keepalive (not handshakes, counters)
kstate() {
	ip -n "$LAB-$1" -j addr show dev "$LAB$1" | jq -cS \
	    '[.[] | {mtu, operstate, addr: [.addr_info[] | select(.scope == "global") |
	    "\(.local)/\(.prefixlen)"]}]'
	ip netns exec "$LAB-$1" wg show "$LAB$1" dump | awk -F '\t' \
	    'NR == 1 { print "self", $2, $3; next }
	    { print $1, $2, $3, $4, $8 }' | sort
}
reachable() {
	lab_ctl "$1" -j show nucleus | jq -e '[.nuclei[] | select(.reachable)] | length == 1'
}

# pingbg NAME FROM VIPHOST: ping every 50 ms with time stamps
pingbg() {
	eval "TSTART_$1=$(date +%s.%N)"
	ip netns exec "$LAB-$2" ping -D -i 0.05 -W 1 -w 170 "10.77.0.$3" \
	    >"$LABDIR/ping.$1" 2>&1 &
	eval "PING_$1=$!"
	PINGS="$PINGS $!"
}
# pingend NAME: stop it; sets GAP (longest time without a reply, ms,
# from the start to the first reply, between replies, and from the
# last reply to the end), LOST (requests without a reply before the
# last reply: the one in flight when ping stops is no loss, and a
# trailing loss shows as a gap) and SENT
pingend() {
	eval "p=\$PING_$1 tstart=\$TSTART_$1"
	tend=$(date +%s.%N)
	kill -INT "$p" 2>/dev/null
	wait "$p"
	set -- $(ping_summary "$LABDIR/ping.$1" "$tstart" "$tend")
	GAP=$1 LOST=$2 SENT=$4
}

lab_init
lab_host nuc 1
lab_host e1 2
lab_host e2 3
lab_nucleus_conf nuc 1
sed -i 's/peer-timeout: 15/peer-timeout: 60/' "$LABDIR/nuc.conf"
lab_edge_conf e1 2 1
lab_edge_conf e2 3 1
lab_start nuc
lab_start e1
lab_start e2
lab_mesh_up

# --- the children, five times each ----------------------------------
peers1=$(peers e1)
peers2=$(peers e2)
ok $([ "$(echo "$peers1" | jq length)" = 1 ]; echo $?) "e1 lists its one peer: $peers1"
pingbg kids e1 3
sleep 1
for round in 1 2 3 4 5; do
	nreg=$(grep -c 'registered with nucleus' "$LABDIR/e1.log")
	for c in signald wgctld metricsd; do
		p=$(child_pid e1 $c)
		eval "old_$c=\${p:-none}"
		[ -n "$p" ] && kill -KILL "$p"
	done
	t0=$(date +%s.%N)
	# the parent waits 1, 2, 4, 8, 16 s before each restart
	bound=$((1 << (round - 1)))
	okr=0
	for c in signald wgctld metricsd; do
		eval "o=\$old_$c"
		if [ "$o" = none ] || ! wait_for $((bound + 10)) sh -c "p=\$(pgrep -P $PID_e1 -x $c); [ -n \"\$p\" ] && [ \"\$p\" != $o ]"; then
			okr=1
			echo "# $c did not come back in round $round"
		fi
	done
	el=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }")
	ok $okr "round $round: signald, wgctld and metricsd killed and restarted (${el} s, backoff $bound s)"
	# the new signald registers by itself before the next kill
	wait_for 15 sh -c "[ \$(grep -c 'registered with nucleus' $LABDIR/e1.log) -gt $nreg ]"
	ok $? "round $round: the new signald registered with the nucleus"
	wait_for 10 metric_is e1 'omni_edge_registered{iface="'"${LAB}e1"'"}' 1
	ok $? "round $round: and the new metricsd says so"
done
pingend kids
ok $([ "$GAP" -lt 1000 ]; echo $?) "the tunnel kept answering: longest gap ${GAP} ms, $LOST of $SENT pings lost"
check "wgctld lists the same peers on e1" sh -c "[ '$(peers e1)' = '$peers1' ]"
ok $([ "$(peers e2)" = "$peers2" ]; echo $?) "e2 lists the same peers"
check "omnictl show nucleus: reachable again" wait_for 10 reachable e1
for c in signald wgctld metricsd; do
	n=$(metric e1 "omni_child_restarts_total{child=\"$c\"}")
	ok $([ "$n" = 5 ]; echo $?) "omni_child_restarts_total counts the 5 restarts of $c ($n)"
	n=$(grep -c "$c (pid [0-9]*) died: signal 9" "$LABDIR/e1.log")
	ok $([ "$n" = 5 ]; echo $?) "5 deaths of $c by signal 9 logged ($n)"
done
n=$(metric nuc omni_nucleus_edges)
ok $([ "$n" = 2 ]; echo $?) "the nucleus still holds both edges ($n)"

# --- the config parser killed during a reload -----------------------
# The reload would set a keepalive of 15 s.  A watcher kills the first
# new child of omnid (the parser, forked for the reload) as soon as it
# appears; the parent must refuse the reload and keep what runs.  The
# next reload applies it, to peers that a wgctld restarted above (and
# given no peer set since) must still bring to the new keepalive.
cp "$LABDIR/e1.conf" "$LABDIR/e1.good"
sed -i 's/listen-port: 51820/listen-port: 51820\n    keepalive: 15/' "$LABDIR/e1.conf"
# pad it (to 800 KB, under the 1 MB limit), so that the parser lives
# long enough to be caught
i=0
while [ $i -lt 13000 ]; do
	echo "# padding line $i: the parser reads and skips every comment"
	i=$((i + 1))
done >> "$LABDIR/e1.conf"
ka() {
	ip netns exec "$LAB-e1" wg show "${LAB}e1" persistent-keepalive |
	    awk '{ print $2; exit }'
}
ka0=$(ka)
known=$(cat /proc/$PID_e1/task/$PID_e1/children)
cat > "$LABDIR/watch.sh" <<EOT
# /proc/PID/task/PID/children ends without a newline: read assigns it
# all the same and only its status says EOF
end=\$((\$(date +%s) + 10))
i=0
while :; do
	i=\$((i + 1))
	if [ \$((i % 1000)) = 0 ] && [ \$(date +%s) -gt \$end ]; then
		exit 1
	fi
	kids=
	read -r kids < /proc/$PID_e1/task/$PID_e1/children
	for k in \$kids; do
		case " $known " in
		*" \$k "*) ;;
		*) kill -KILL \$k && echo \$k; exit 0 ;;
		esac
	done
done
EOT
fails0=$(metric e1 'omni_config_reloads_total{result="failed"}')
pingbg reload e1 3
sh "$LABDIR/watch.sh" > "$LABDIR/watch.out" &
wp=$!
sleep 0.2
kill -HUP "$PID_e1"
wait $wp
ok $? "the config parser was caught during the reload and killed (pid $(cat "$LABDIR/watch.out"))"
# killed before it read the file, or after: either way a refusal
wait_for 5 grep -q "reload failed, keeping the running configuration: .*config parser" "$LABDIR/e1.log"
ok $? "the reload failed because its parser died: $(sed -n 's/.*reload failed, keeping the running configuration: //p' "$LABDIR/e1.log" | tail -n 1)"
check "counted as a failed reload" \
    wait_for 5 metric_is e1 'omni_config_reloads_total{result="failed"}' $((${fails0:-0} + 1))
ok $([ "$(ka)" = "$ka0" ]; echo $?) "the running configuration stays: keepalive $(ka) (was $ka0)"
ok $([ "$(peers e1)" = "$peers1" ]; echo $?) "and the same peers"
kill -HUP "$PID_e1"
check "the next reload applies it: keepalive 15" wait_for 10 sh -c "[ \"\$(ip netns exec $LAB-e1 wg show ${LAB}e1 persistent-keepalive | awk '{print \$2}')\" = 15 ]"
check "counted as a good reload" \
    wait_for 5 metric_is e1 'omni_config_reloads_total{result="ok"}' 1
n=$(wc -w < /proc/$PID_e1/task/$PID_e1/children)
ok $([ "$n" = 4 ]; echo $?) "omnid has its 3 children and wireguard-go again, no parser left ($n)"
pingend reload
ok $([ "$GAP" -lt 1000 ]; echo $?) "no gap across the killed reload: longest ${GAP} ms, $LOST of $SENT lost"

# --- wireguard-go ---------------------------------------------------
k1=$(kstate e1)
peers1=$(peers e1)
echo "$k1" | sed 's/^/# e1 before: /'
pingbg wg e1 3
sleep 1
wgpid=$(pgrep -f "wireguard-go -f ${LAB}e1")
kill -KILL "$wgpid"
check "wireguard-go restarted" wait_for 15 sh -c "p=\$(pgrep -f 'wireguard-go -f ${LAB}e1'); [ -n \"\$p\" ] && [ \"\$p\" != $wgpid ]"
check "ping works again" wait_for 15 ping_vip e1 3
sleep 1
pingend wg
ok $([ "$GAP" -lt 5000 ]; echo $?) "the ping came back ${GAP} ms after wireguard-go died (bound 5 s; $LOST of $SENT lost)"
wait_for 5 sh -c "[ \"\$(echo \"\$(ip -n $LAB-e1 -j addr show dev ${LAB}e1)\" | jq length)\" = 1 ]"
k2=$(kstate e1)
ok $([ "$k2" = "$k1" ]; echo $?) "address, MTU, keys, endpoints, allowed IPs and keepalive as before"
[ "$k2" = "$k1" ] || echo "$k2" | sed 's/^/# e1 after: /'
ok $([ "$(peers e1)" = "$peers1" ]; echo $?) "wgctld lists the same peers"

# --- the nucleus, killed outright -----------------------------------
pingbg nuc e1 3
sleep 1
tree="$PID_nuc $(pgrep -P "$PID_nuc")"
kill -KILL $tree
wait "$PID_nuc" 2>/dev/null
PID_nuc=
sleep 2
lab_start nuc
t0=$(date +%s.%N)
wait_for 15 metric_is nuc omni_nucleus_edges 2
ok $? "both edges registered again with the restarted nucleus"
el=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }")
# start-up, one heartbeat (2 s), the metrics period (2 s), a spare
ok $(awk "BEGIN { exit !($el <= 6) }"; echo $?) "within ${el} s of the start (bound 6 s)"
sleep 1
pingend nuc
ok $([ "$LOST" = 0 ] && [ "$GAP" -lt 1000 ]; echo $?) "the tunnel lost nothing: $LOST of $SENT lost, longest gap ${GAP} ms"
ok $([ "$(peers e1)" = "$peers1" ]; echo $?) "e1 keeps the same peers"

# a newcomer after the restart meets both
lab_host e3 4
lab_edge_conf e3 4 1
lab_start e3
check "the newcomer reaches e1" wait_for 30 ping_vip e3 2
check "the newcomer reaches e2" wait_for 10 ping_vip e3 3
check "e1 reaches the newcomer" wait_for 10 ping_vip e1 4
check "e2 reaches the newcomer" wait_for 10 ping_vip e2 4
n=$(lab_ctl e3 -j show peers | jq '.peers | length')
ok $([ "$n" = 2 ]; echo $?) "the newcomer lists both ($n)"
check "the nucleus holds three edges" wait_for 5 metric_is nuc omni_nucleus_edges 3

done_testing
