#!/bin/sh
# An edge with the wrong cluster secret stays out: the nucleus drops
# its datagrams (counted), it learns no peers, and no tunnel forms.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
require_root
trap 'lab_cleanup' EXIT
trap 'exit 1' INT TERM

lab_init
lab_host nuc 1
lab_host e1 2
lab_host e2 3
lab_host bad 4
lab_nucleus_conf nuc 1
lab_edge_conf e1 2 1
lab_edge_conf e2 3 1
lab_edge_conf bad 4 1 "not-the-cluster-secret-at-all"
lab_start nuc
lab_start e1
lab_start e2
lab_start bad
check "the good edges form a mesh" wait_for 30 ping_vip e1 3
sleep 3

n=$(lab_ctl bad -j show peers | jq '.peers | length')
ok $([ "$n" = 0 ]; echo $?) "the edge with the wrong secret learned no peers (got $n)"
n=$(lab_ctl e1 -j show peers | jq '[.peers[] | select(.vip == "10.77.0.4")] | length')
ok $([ "$n" = 0 ]; echo $?) "the good edges do not list it"
ip netns exec "$LAB-bad" ping -c 1 -W 1 10.77.0.2 >/dev/null 2>&1
ok $([ $? -ne 0 ]; echo $?) "it cannot ping into the mesh"
m=$(ip netns exec "$LAB-nuc" curl -sf http://127.0.0.1:9090/metrics)
d=$(echo "$m" | sed -n 's/^omni_signal_dropped_total{reason="bad_mac"} \([0-9]*\)$/\1/p')
ok $([ -n "$d" ] && [ "$d" -gt 0 ]; echo $?) "the nucleus counted its datagrams as bad_mac drops ($d)"
n=$(echo "$m" | sed -n 's/^omni_nucleus_edges \([0-9]*\)$/\1/p')
ok $([ "$n" = 2 ]; echo $?) "the nucleus holds exactly the two good edges ($n)"

done_testing
