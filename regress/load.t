#!/bin/sh
# Scale: a load generator simulating LOAD_EDGES (10,000) edges from one
# process, with the real protocol and cryptography but no WireGuard,
# joins one cluster at a real nucleus (omnid in a namespace, on
# 127.0.0.1).  Every simulated edge must converge to the full peer
# list, 9,999 peers each, within the time bound.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
require_root
trap 'lab_cleanup' EXIT
trap 'exit 1' INT TERM

N=${LOAD_EDGES:-10000}
BOUND=${LOAD_BOUND:-300}	# seconds
# make SANITIZE=1: ASan makes signald and the generator several times
# slower; the same proof with a fifth of the edges.
if nm "$TOP/signald/signald" 2>/dev/null | grep -q __asan_init; then
	N=${LOAD_EDGES:-2000}
fi
make -s -C "$TOP" regress/load/loadgen >/dev/null || {
	echo "Bail out! cannot build regress/load/loadgen"
	exit 1
}

lab_init
lab_host nuc 1
lab_load_nucleus_conf nuc
lab_start nuc
check "the nucleus answers on 127.0.0.1" wait_for 10 sh -c \
    "ip netns exec $LAB-nuc curl -sf http://127.0.0.1:9090/metrics | grep -q '^omni_nucleus_edges'"

start=$(date +%s)
ip netns exec "$LAB-nuc" "$TOP/regress/load/loadgen" -n "$N" \
    -a 127.0.0.1:51900 -c load -s "$SECRET" -H 10 -r 2000 \
    -T "$BOUND" >"$LABDIR/loadgen.out" 2>&1
rc=$?
end=$(date +%s)
sed "s/^/# /" "$LABDIR/loadgen.out" | grep -v "^# # "
grep -q "^converged $N of $N" "$LABDIR/loadgen.out"
ok $? "all $N simulated edges converged to the full peer list ($((N - 1)) peers each)"
grep -q "^query_peer: 1000 of 1000" "$LABDIR/loadgen.out"
ok $? "QUERY_PEER finds any edge by VIP: 1000 random lookups right"
ok $rc "the load generator is content"
ok $([ $((end - start)) -le "$BOUND" ]; echo $?) "within ${BOUND} s ($((end - start)) s)"
m=$(ip netns exec "$LAB-nuc" curl -sf http://127.0.0.1:9090/metrics)
n=$(echo "$m" | sed -n 's/^omni_nucleus_edges \([0-9]*\)$/\1/p')
ok $([ "$n" = "$N" ]; echo $?) "the nucleus holds $N live edges ($n)"
echo "$m" | grep '^omni_signal_dropped_total' | grep -v ' 0$' | sed 's/^/# /'
ip netns exec "$LAB-nuc" sh -c "grep ^Udp: /proc/net/snmp" | sed "s/^/# /"
kill -0 "$PID_nuc" 2>/dev/null
ok $? "the nucleus is still running"

done_testing
