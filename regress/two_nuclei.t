#!/bin/sh
# Edges list two nuclei and register with both.  One nucleus is killed
# (SIGKILL): no tunnel drops, and a new edge still joins through the
# other one.  The killed nucleus comes back and is repopulated by
# heartbeats.  Then both go: the mesh stays as it was.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
require_root
trap 'lab_cleanup' EXIT
trap 'exit 1' INT TERM

# edge2_conf HOST VIPHOST: an edge of two nuclei, 198.18.0.1 and .2
edge2_conf() {
	lab_edge_conf "$1" "$2" 1
	sed -i 's|^      - 198.18.0.1:51900$|      - 198.18.0.1:51900\n      - 198.18.0.2:51900|' \
	    "$LABDIR/$1.conf"
}
edges() {
	ip netns exec "$LAB-$1" curl -sf http://127.0.0.1:9090/metrics |
	    sed -n 's/^omni_nucleus_edges \([0-9]*\)$/\1/p'
}
has_edges() {
	[ "$(edges "$1")" = "$2" ]
}
registered() {
	ip netns exec "$LAB-$1" curl -sf http://127.0.0.1:9090/metrics |
	    grep -q '^omni_edge_registered{.*} 1$'
}

lab_init
lab_host n1 1
lab_host n2 2
lab_host e1 3
lab_host e2 4
lab_host e3 5
lab_nucleus_conf n1 1
lab_nucleus_conf n2 2
edge2_conf e1 3
edge2_conf e2 4
edge2_conf e3 5
grep -q 198.18.0.2:51900 "$LABDIR/e1.conf" || { echo "Bail out! config"; exit 1; }
lab_start n1
lab_start n2
lab_start e1
lab_start e2
check "mesh up" wait_for 30 ping_vip e1 4
check "n1 holds both edges" wait_for 10 has_edges n1 2
check "n2 holds both edges" wait_for 10 has_edges n2 2

# kill n1 while pinging
ip netns exec "$LAB-e1" ping -q -c 80 -i 0.1 -W 1 10.77.0.4 \
    >"$LABDIR/ping" 2>&1 &
pp=$!
sleep 1
eval "kill -KILL \$PID_n1"
wait "$PID_n1" 2>/dev/null
PID_n1=
wait $pp
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$LABDIR/ping")
ok $([ "$loss" = 0 ]; echo $?) "no ping lost when n1 died (loss $loss%)"
sleep 8		# beyond 3 heartbeats: n1 counts as lost
n=$(lab_ctl e1 -j show peers | jq '.peers | length')
ok $([ "$n" = 1 ]; echo $?) "e1 still lists e2 ($n)"
check "the tunnel still works" ping_vip e2 3

# a newcomer joins through n2 alone
lab_start e3
check "e3 joins through n2 and reaches e1" wait_for 30 ping_vip e3 3
check "e1 reaches e3" wait_for 10 ping_vip e1 5
check "n2 holds three edges" wait_for 10 has_edges n2 3

# n1 comes back and is repopulated by heartbeats
lab_start n1
check "n1 is repopulated with all three edges" wait_for 15 has_edges n1 3

# both nuclei go: nothing changes for the mesh
lab_stop n1
lab_stop n2
sleep 10
n=$(lab_ctl e1 -j show peers | jq '.peers | length')
ok $([ "$n" = 2 ]; echo $?) "without any nucleus e1 keeps both peers ($n)"
check "and reaches them" ping_vip e1 4
check "both" ping_vip e1 5

done_testing
