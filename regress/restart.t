#!/bin/sh
# A child killed with SIGKILL is restarted by the parent and given its
# state back; the WireGuard interface and its peers stay up meanwhile,
# so a ping running through the tunnel loses nothing.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
lab_test
lab_mesh
check "mesh up" wait_for 30 ping_vip e1 3

for child in signald wgctld metricsd; do
	old=$(child_pid e1 $child)
	# 50 pings, 100 ms apart, while the child is killed.
	ip netns exec "$LAB-e1" ping -q -c 50 -i 0.1 -W 1 10.77.0.3 \
	    >"$LABDIR/ping.$child" 2>&1 &
	pp=$!
	sleep 0.5
	kill -KILL "$old"
	wait_for 10 sh -c "p=\$(pgrep -P \$PID_e1 -x $child); [ -n \"\$p\" ] && [ \"\$p\" != $old ]" 2>/dev/null
	new=$(child_pid e1 $child)
	ok $([ -n "$new" ] && [ "$new" != "$old" ]; echo $?) "$child restarted after SIGKILL (pid $old -> $new)"
	wait $pp
	loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$LABDIR/ping.$child")
	ok $([ "$loss" = 0 ]; echo $?) "no ping lost while $child restarted (loss $loss%)"
	grep -q "$child.*died: signal 9" "$LABDIR/e1.log"
	ok $? "the parent logged why $child died"
done

# The restarted children got their state back.
check "wgctld after restart still lists the peer" \
    sh -c "ip netns exec $LAB-e1 $OMNICTL -s $LABDIR/e1.sock -j show peers | jq -e '.peers | length == 1'"
check "signald after restart is registered again" \
    wait_for 10 sh -c "ip netns exec $LAB-e1 curl -sf http://127.0.0.1:9090/metrics | grep -q '^omni_edge_registered.* 1\$'"
m=$(ip netns exec "$LAB-e1" curl -sf http://127.0.0.1:9090/metrics)
echo "$m" | grep -q '^omni_child_restarts_total{child="signald"} 1$'
ok $? "omni_child_restarts_total counts the signald restart"

# wireguard-go itself: the parent re-creates the interface and peers.
wgpid=$(pgrep -f "wireguard-go -f ${LAB}e1")
kill -KILL "$wgpid"
check "ping works again after wireguard-go was killed" wait_for 15 ping_vip e1 3
new=$(pgrep -f "wireguard-go -f ${LAB}e1")
ok $([ -n "$new" ] && [ "$new" != "$wgpid" ]; echo $?) "wireguard-go was restarted ($wgpid -> $new)"

done_testing
