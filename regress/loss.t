#!/bin/sh
# 30% random loss on the signaling path, both ways (nftables in each
# edge's namespace): the mesh still forms, a newcomer is still learned
# by everyone, a leaver is still dropped, and once the loss stops every
# peer list is right within one heartbeat interval (2 s).
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
require_root
trap 'lab_cleanup' EXIT
trap 'exit 1' INT TERM

# loss HOST: drop 30% of the signaling datagrams in and out
loss() {
	ip netns exec "$LAB-$1" nft -f - <<EOT
table inet omniloss {
	chain in {
		type filter hook input priority 0;
		udp sport 51900 counter comment "seen"
		udp sport 51900 numgen random mod 10 < 3 counter drop comment "dropped"
	}
	chain out {
		type filter hook output priority 0;
		udp dport 51900 counter comment "seen"
		udp dport 51900 numgen random mod 10 < 3 counter drop comment "dropped"
	}
}
EOT
}
noloss() {
	ip netns exec "$LAB-$1" nft delete table inet omniloss
}
# count HOST seen|dropped: signaling datagrams through the loss rules
count() {
	ip netns exec "$LAB-$1" nft list table inet omniloss |
	    sed -n "s/.*counter packets \([0-9]*\).*comment \"$2\".*/\1/p" |
	    awk '{ s += $1 } END { print s + 0 }'
}
npeers() {
	lab_ctl "$1" -j show peers | jq '.peers | length'
}
# vips HOST: the sorted VIPs it lists
vips() {
	lab_ctl "$1" -j show peers | jq -r '[.peers[].vip] | sort | join(",")'
}

lab_init
lab_host nuc 1
for i in 2 3 4; do
	lab_host e$i $i
	lab_edge_conf e$i $i 1
	loss e$i || { echo "Bail out! nftables failed"; exit 1; }
done
lab_nucleus_conf nuc 1
lab_start nuc
lab_start e2
lab_start e3
check "the mesh forms despite 30% loss" wait_for 60 ping_vip e2 3
check "both ways" wait_for 30 ping_vip e3 2

lab_start e4
check "a newcomer joins despite the loss" wait_for 60 ping_vip e4 2
check "and the others learn it" wait_for 60 sh -c \
    "[ \"\$(ip netns exec $LAB-e2 $OMNICTL -s $LABDIR/e2.sock -j show peers | jq -r '[.peers[].vip] | sort | join(\",\")')\" = 10.77.0.3,10.77.0.4 ]"
sleep 20
d=0
n=0
for i in 2 3 4; do
	d=$((d + $(count e$i dropped)))
	n=$((n + $(count e$i seen)))
done
pct=$(( n > 0 ? 100 * d / n : 0 ))
ok $([ "$n" -ge 50 ] && [ "$pct" -ge 15 ] && [ "$pct" -le 45 ]; echo $?) \
    "the loss was real: nftables dropped $d of $n signaling datagrams ($pct%)"

lab_stop e3
check "a leaver is dropped despite the loss" wait_for 60 sh -c \
    "[ \"\$(ip netns exec $LAB-e2 $OMNICTL -s $LABDIR/e2.sock -j show peers | jq -r '[.peers[].vip] | sort | join(\",\")')\" = 10.77.0.4 ]"
lab_start e3
sleep 10

# the loss stops: e3 registers at its next retry (at most a heartbeat,
# 2 s, later), then every list is right within one heartbeat
for i in 2 3 4; do noloss e$i; done
check "e3 registered within a heartbeat of the loss stopping (2 s, and 2 s of metrics period)" \
    wait_for 5 sh -c "ip netns exec $LAB-e3 curl -sf http://127.0.0.1:9090/metrics | grep -q '^omni_edge_registered{.*} 1\$'"
sleep 2.5
ok $([ "$(vips e2)" = 10.77.0.3,10.77.0.4 ]; echo $?) "e2 lists e3 and e4 ($(vips e2))"
ok $([ "$(vips e3)" = 10.77.0.2,10.77.0.4 ]; echo $?) "e3 lists e2 and e4 ($(vips e3))"
ok $([ "$(vips e4)" = 10.77.0.2,10.77.0.3 ]; echo $?) "e4 lists e2 and e3 ($(vips e4))"
check "e3 reaches e4" ping_vip e3 4
check "e4 reaches e2" ping_vip e4 2

done_testing
