#!/bin/sh
# The parent keeps each interface's last complete peer set from signald
# and replays it to a restarted wgctld.  A set that died with wgctld
# before wgctld applied it is applied by the next wgctld at once, not
# at signald's next change (which may be hours away); a replay of a set
# already applied changes nothing.
#
# wgctld of e1 is stopped (SIGSTOP), a third edge joins: e1's signald
# sends the new set, the parent keeps it and forwards it to the stopped
# wgctld, where it sits unread in the socket.  wgctld is then killed,
# the set with it; nothing else changes in the cluster.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
OMNI_VERBOSE=1		# the parent's debug lines: "kept", "replaying"
WGPID=""
lab_test
# a stopped wgctld must not outlive the test
trap '[ -n "$WGPID" ] && kill -KILL "$WGPID" 2>/dev/null; lab_cleanup' EXIT
lab_mesh
lab_mesh_up

E1LOG=$LABDIR/e1.log
# count PATTERN: lines of e1's log matching it
count() {
	grep -c -- "$1" "$E1LOG"
}
# e1_has_peer KEY: e1's WireGuard interface has that peer
e1_has_peer() {
	ip netns exec "$LAB-e1" wg show "${LAB}e1" peers | grep -qxF -- "$1"
}

check "the parent kept e1's set of 1 peer (e2)" \
    wait_for 10 grep -q "${LAB}e1: peer set of 1 peers from signald kept" \
    "$E1LOG"

WGPID=$(child_pid e1 wgctld)
kill -STOP "$WGPID"
ok $? "wgctld of e1 stopped (pid $WGPID)"

lab_host e3 4
lab_edge_conf e3 4 1
lab_start e3
check "e3 is up" wait_for 30 sh -c \
    "ip netns exec $LAB-e3 wg show ${LAB}e3 public-key"
E3KEY=$(ip netns exec "$LAB-e3" wg show "${LAB}e3" public-key)

check "e1's signald sent the set with e3, the parent kept it" \
    wait_for 30 grep -q "${LAB}e1: peer set of 2 peers from signald kept" \
    "$E1LOG"
sets=$(count ': peer set now ')
sleep 1		# the parent forwarded it: it sits in the stopped wgctld's socket
e1_has_peer "$E3KEY"
ok $([ $? -ne 0 ]; echo $?) "e1 does not have e3 as a WireGuard peer yet"

kill -KILL "$WGPID"
old=$WGPID
WGPID=""
check "the parent restarted wgctld" wait_for 10 sh -c \
    "p=\$(pgrep -P $PID_e1 -x wgctld); [ -n \"\$p\" ] && [ \"\$p\" != $old ]"
check "it logged the replay of 2 peers" wait_for 10 grep -q \
    "wgctld: replaying 2 peers of interface ${LAB}e1" "$E1LOG"

check "e1 has e3 as a WireGuard peer within 10 s" \
    wait_for 10 e1_has_peer "$E3KEY"
ok $([ "$(count ': peer set now ')" = "$sets" ]; echo $?) \
    "without a new set from signald meanwhile"
check "ping from e1 to e3's VIP" wait_for 10 ping_vip e1 4
check "and from e3 to e1's VIP" wait_for 10 ping_vip e3 2

# A replay of what is applied: no WireGuard request at all.  First the
# applied state settles: wgctld sets a new peer's keepalive only 100 to
# 500 ms after the peer (wgctld.c, KA_HOLD_MS), a second request.
# e1_keepalives: both of e1's peers have their keepalive
e1_keepalives() {
	ip netns exec "$LAB-e1" wg show "${LAB}e1" persistent-keepalive |
	    awk '$2 == "off" { off++ } END { exit !(NR == 2 && off == 0) }'
}
check "the keepalives of e2 and e3 are applied on e1" \
    wait_for 10 e1_keepalives
sleep 1
reqs=$(count "${LAB}e1: peer 10\.77\.0\.")
rm_reqs=$(count "${LAB}e1: peer .* removed")
replays=$(count "wgctld: replaying 2 peers")
old=$(child_pid e1 wgctld)
kill -KILL "$old"
check "wgctld restarted again" wait_for 10 sh -c \
    "p=\$(pgrep -P $PID_e1 -x wgctld); [ -n \"\$p\" ] && [ \"\$p\" != $old ]"
check "the set was replayed again" wait_for 10 sh -c \
    "[ \$(grep -c 'wgctld: replaying 2 peers' $E1LOG) -gt $replays ]"
sleep 2
ok $([ "$(count "${LAB}e1: peer 10\.77\.0\.")" = "$reqs" ] &&
    [ "$(count "${LAB}e1: peer .* removed")" = "$rm_reqs" ]; echo $?) \
    "a replay of the applied set changes no WireGuard peer"
check "e1 still reaches e3" ping_vip e1 4
check "omnictl show peers lists e2 and e3" sh -c \
    "ip netns exec $LAB-e1 $OMNICTL -s $LABDIR/e1.sock -j show peers | jq -e '.peers | length == 2'"

done_testing
