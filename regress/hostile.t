#!/bin/sh
# A hostile third namespace: replays of captured signaling (from its
# own address and from the victims' spoofed addresses), forgeries by a
# host that knows the cluster secret but not the other members' keys
# (a VIP takeover, speaking in another member's name), and junk.  The
# nucleus drops and counts all of it, answers nothing larger than what
# it got, and the mesh does not change.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
require_root
trap 'lab_cleanup' EXIT
trap 'exit 1' INT TERM

FORGE=$TOP/regress/load/forge
make -s -C "$TOP" regress/load/forge >/dev/null || {
	echo "Bail out! cannot build regress/load/forge"
	exit 1
}

# metric HOST NAME REASON: a dropped counter of that host's signald
metric() {
	ip netns exec "$LAB-$1" curl -sf http://127.0.0.1:9090/metrics |
	    sed -n "s/^$2{reason=\"$3\"} \([0-9]*\)\$/\1/p"
}
edges() {
	ip netns exec "$LAB-nuc" curl -sf http://127.0.0.1:9090/metrics |
	    sed -n 's/^omni_nucleus_edges \([0-9]*\)$/\1/p'
}
# e1's view of e2: key and endpoint
view() {
	lab_ctl e1 -j show peers |
	    jq -r '.peers[] | select(.vip == "10.77.0.3") | "\(.public_key) \(.endpoint)"'
}
drops() {
	t=0
	for r in malformed too_big bad_mac unknown_type rate_limited; do
		v=$(metric nuc omni_signal_dropped_total $r)
		t=$((t + ${v:-0}))
	done
	echo $t
}

lab_init
lab_host nuc 1
lab_host e1 2
lab_host e2 3
lab_host evil 4
lab_nucleus_conf nuc 1
lab_edge_conf e1 2 1
lab_edge_conf e2 3 1
lab_start nuc
lab_start e1
lab_start e2
check "mesh up" wait_for 30 ping_vip e1 3
key2=$(ip netns exec "$LAB-e2" wg show "${LAB}e2" public-key)
before=$(view)
ok $([ "$before" = "$key2 198.18.0.3:51820" ]; echo $?) "e1 sees e2's key at 198.18.0.3:51820"

# capture real signaling at the nucleus, replay it from elsewhere
ip netns exec "$LAB-nuc" "$FORGE" capture -i eth0 -p 51900 -n 6 -t 15 \
    -o "$LABDIR/cap" | sed 's/^/# /'
ok $([ -s "$LABDIR/cap" ]; echo $?) "captured signaling datagrams"
out=$(ip netns exec "$LAB-evil" "$FORGE" replay -f "$LABDIR/cap" \
    -a 198.18.0.1:51900 -s "$SECRET")
ok $? "replayed from the attacker's address: at most a CHALLENGE, never longer ($out)"
out=$(ip netns exec "$LAB-evil" "$FORGE" replay -S -f "$LABDIR/cap" \
    -a 198.18.0.1:51900)
ok $? "replayed from the victims' spoofed addresses ($out)"
sleep 3
r=$(metric nuc omni_signal_dropped_total replay)
ok $([ "${r:-0}" -gt 0 ]; echo $?) "the nucleus counted replays ($r)"
c=$(metric nuc omni_signal_dropped_total bad_cookie)
ok $([ "${c:-0}" -gt 0 ]; echo $?) "replays from elsewhere lack a cookie for that address ($c)"

# a new key claims e2's VIP
out=$(ip netns exec "$LAB-evil" "$FORGE" takeover -s "$SECRET" -c lab \
    -a 198.18.0.1:51900 -v 10.77.0.3/24)
ok $? "VIP takeover by another key refused ($(echo $out))"

# speaking as e2 without e2's private key
out=$(ip netns exec "$LAB-evil" "$FORGE" impersonate -s "$SECRET" -c lab \
    -a 198.18.0.1:51900 -k "$key2" -v 10.77.0.3/24)
ok $? "REGISTER, HEARTBEAT, QUERY_PEER and DEREGISTER in e2's name go unanswered"
sleep 3
p=$(metric nuc omni_signal_dropped_total bad_proof)
ok $([ "${p:-0}" -ge 4 ]; echo $?) "counted as bad_proof ($p)"
v=$(metric nuc omni_signal_dropped_total vip_taken)
ok $([ "${v:-0}" -ge 1 ]; echo $?) "the takeover counted as vip_taken ($v)"

# junk of every kind
d0=$(drops)
out=$(ip netns exec "$LAB-evil" "$FORGE" junk -n 400 -a 198.18.0.1:51900 \
    -s "$SECRET" -c lab)
ok $? "400 bad datagrams got no answer ($out)"
sleep 3
d1=$(drops)
ok $([ $((d1 - d0)) -ge 400 ]; echo $?) "all dropped and counted by reason ($((d1 - d0)))"

# nothing moved
sleep 4
after=$(view)
ok $([ "$after" = "$before" ]; echo $?) "e1 still sees e2's key at its own endpoint ($after)"
n=$(edges)
ok $([ "$n" = 2 ]; echo $?) "the nucleus holds exactly the two edges ($n)"
kill -0 "$PID_nuc" 2>/dev/null
ok $? "the nucleus is still running"
check "the mesh still works" ping_vip e1 3
check "both ways" ping_vip e2 2

done_testing
