#!/bin/sh
# The nucleus restarts mid-run: pings through the tunnels lose
# nothing (the edges keep their peers), and the edges, which the new
# nucleus does not know, register again by themselves within one
# heartbeat interval (2 s here).
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
require_root
trap 'lab_cleanup' EXIT
trap 'exit 1' INT TERM

edges() {
	ip netns exec "$LAB-nuc" curl -sf http://127.0.0.1:9090/metrics |
	    sed -n 's/^omni_nucleus_edges \([0-9]*\)$/\1/p'
}
has_edges() {
	[ "$(edges)" = "$1" ]
}

lab_mesh
check "mesh up" wait_for 30 ping_vip e1 3
check "the nucleus holds both edges" wait_for 5 has_edges 2

# 100 pings, 100 ms apart, while the nucleus goes away and comes back
ip netns exec "$LAB-e1" ping -q -c 100 -i 0.1 -W 1 10.77.0.3 \
    >"$LABDIR/ping" 2>&1 &
pp=$!
sleep 1
lab_stop nuc
sleep 3
lab_start nuc
t0=$(date +%s.%N)
wait_for 10 has_edges 2
t1=$(date +%s.%N)
n=$(edges)
ok $([ "$n" = 2 ]; echo $?) "both edges registered again with the restarted nucleus ($n)"
# start-up, one heartbeat (2 s), one metrics period (2 s), a second spare
el=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")
ok $(awk "BEGIN{exit !($el <= 5)}"; echo $?) "within one heartbeat: seen ${el} s after the start (2 s heartbeat, 2 s metrics period)"
n=$(grep -c "registered with nucleus" "$LABDIR/e1.log")
ok $([ "$n" -ge 2 ]; echo $?) "e1 registered again by itself ($n registrations logged)"
wait $pp
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$LABDIR/ping")
ok $([ "$loss" = 0 ]; echo $?) "no ping lost across the nucleus restart (loss $loss%)"

n=$(lab_ctl e1 -j show peers | jq '.peers | length')
ok $([ "$n" = 1 ]; echo $?) "e1 still lists exactly its one peer ($n)"
check "the mesh still works both ways" ping_vip e2 2

# a restart with the edges' peers changing meanwhile: e2 leaves while
# the nucleus is down, so only the new nucleus can tell e1
lab_stop nuc
lab_stop e2
lab_start nuc
sleep 1
n0=$(lab_ctl e1 -j show peers | jq '.peers | length')
ok $([ "$n0" = 1 ]; echo $?) "right after the restart e1 keeps e2 provisionally ($n0)"
check "e1 drops e2 once the nucleus had time to learn the truth" \
    wait_for 15 sh -c "[ \$(ip netns exec $LAB-e1 $OMNICTL -s $LABDIR/e1.sock -j show peers | jq '.peers | length') = 0 ]"

done_testing
