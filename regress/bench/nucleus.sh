#!/bin/sh
# Nucleus capacity (issue 6): the load generator (regress/load/loadgen,
# one process simulating N edges, each with its own key, source
# address and the real protocol and cryptography) against one real
# nucleus, omnid with a nucleus: section in a network namespace on 127.0.0.1,
# on this machine.  Numbers, not pass/fail.
#
# For each N in NUCLEUS_BENCH_N (default "10000 100000 1000000") a
# fresh nucleus; the edges are spread over clusters of
# NUCLEUS_BENCH_CLUSTER (100) edges, since one cluster of 1,000,000
# would be a million-peer full sync per edge, not a nucleus capacity
# test.  The edges register (at most NUCLEUS_BENCH_INFLIGHT at a time),
# converge, then only heartbeat, every NUCLEUS_BENCH_HEARTBEAT (25) s,
# spread evenly, for a window of NUCLEUS_BENCH_WINDOW (50) s, in which
# heartbeats/s, answer latency, bytes and the nucleus's CPU and RSS
# (signald, from /proc/PID/stat and /proc/PID/status) are measured.
#
# Then convergence: one cluster of NUCLEUS_BENCH_CONV_N (10,000)
# edges; a newcomer joins it and the time until it knows every peer
# is taken.  Every loadgen run also does that for its last cluster.
#
# The nucleus's default table and global rate bounds (65,536 live
# edges, 4096 clusters, 5000 datagrams/s) are below this load by
# design; the nucleus's config raises them with the keys an operator
# would use (max-edges, max-clusters, rate-limit: LIMITS below, printed
# with the results).  The programs are the tree's build, copied.
#
# Each phase is bounded by NUCLEUS_BENCH_TIMEOUT (900) s;
# NUCLEUS_BENCH_CONV_N=0 leaves the convergence run out.
# First, for each N in NUCLEUS_BENCH_CPU_N (100000), regress/bench/
# nucbench: signald's CPU per request without the sockets.
# NUCLEUS_BENCH_OUT=dir keeps the raw loadgen outputs there.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/regress/lib.sh"
require_root

NLIST=${NUCLEUS_BENCH_N:-"10000 100000 1000000"}
CSIZE=${NUCLEUS_BENCH_CLUSTER:-100}
HB=${NUCLEUS_BENCH_HEARTBEAT:-25}
WINDOW=${NUCLEUS_BENCH_WINDOW:-50}
INFLIGHT=${NUCLEUS_BENCH_INFLIGHT:-512}
TMO=${NUCLEUS_BENCH_TIMEOUT:-900}
CONV_N=${NUCLEUS_BENCH_CONV_N:-10000}
CPU_N=${NUCLEUS_BENCH_CPU_N:-100000}
MAX_EDGES=2100000
MAX_CLUSTERS=65536
RATE_LIMIT=200000
LIMITS="max-edges $MAX_EDGES, max-clusters $MAX_CLUSTERS, rate-limit $RATE_LIMIT"

BUILD=$(mktemp -d /tmp/omni-bench.XXXXXX)
trap 'lab_cleanup; rm -rf "$BUILD"' EXIT
trap 'exit 1' INT TERM

make -s -C "$TOP" all regress/load/loadgen regress/bench/nucbench >/dev/null || {
	echo "nucleus bench: cannot build"
	exit 1
}
# the tree may be rebuilt meanwhile: run copies
mkdir -p "$BUILD/parent" "$BUILD/signald" "$BUILD/wgctld" "$BUILD/metricsd"
cp "$TOP/parent/omnid" "$BUILD/parent/"
cp "$TOP/signald/signald" "$BUILD/signald/"
cp "$TOP/wgctld/wgctld" "$BUILD/wgctld/"
cp "$TOP/metricsd/metricsd" "$BUILD/metricsd/"
cp "$TOP/regress/load/loadgen" "$BUILD/"
OMNID=$BUILD/parent/omnid
OUT=${NUCLEUS_BENCH_OUT:-$BUILD/out}
mkdir -p "$OUT"

lab_init
lab_host nuc 1
lab_load_nucleus_conf nuc "max-edges: $MAX_EDGES" \
    "max-clusters: $MAX_CLUSTERS" "rate-limit: $RATE_LIMIT"

# run NAME EDGES CLUSTER [loadgen flags]: a fresh nucleus, loadgen
run() {
	name=$1 edges=$2 size=$3
	shift 3
	lab_stop nuc
	lab_start nuc
	if ! wait_for 20 sh -c "ip netns exec $LAB-nuc curl -sf \
	    http://127.0.0.1:9090/metrics | grep -q '^omni_nucleus_edges'"; then
		echo "nucleus bench: the nucleus did not start"
		lab_dump_logs 20
		return 1
	fi
	spid=$(child_pid nuc signald)
	ip netns exec "$LAB-nuc" sh -c "grep ^Udp: /proc/net/snmp" \
	    >"$OUT/$name.snmp0"
	ip netns exec "$LAB-nuc" timeout $((TMO + 120)) \
	    "$BUILD/loadgen" "$@" -n "$edges" -C "$size" \
	    -a 127.0.0.1:51900 -c bench -s "$SECRET" -H "$HB" -r 1000000 \
	    -W "$INFLIGHT" -w 10000000 -M "$WINDOW" -T "$TMO" -P "$spid" \
	    >"$OUT/$name.out" 2>&1
	echo "bench loadgen_exit $?" >>"$OUT/$name.out"
	ip netns exec "$LAB-nuc" sh -c "grep ^Udp: /proc/net/snmp" \
	    >"$OUT/$name.snmp1"
	# loadgen is gone: the sockets left are the nucleus's; drops last
	ip netns exec "$LAB-nuc" awk 'NR > 1 { d += $NF } END { print d + 0 }' \
	    /proc/net/udp >"$OUT/$name.nucdrops"
	ip netns exec "$LAB-nuc" curl -sf http://127.0.0.1:9090/metrics | \
	    grep '^omni_signal_dropped_total' | grep -v ' 0$' \
	    >"$OUT/$name.drops"
	kill -0 "$spid" 2>/dev/null || echo "bench nucleus_died 1" \
	    >>"$OUT/$name.out"
}

v() {
	sed -n "s/^bench $2 //p" "$OUT/$1.out" | tail -n 1
}

# UDP receive errors in the namespace (socket buffers overflowing)
rcverr() {
	awk 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i }
	    NR == 2 { print $h["RcvbufErrors"] }' "$OUT/$1.$2"
}

echo "# nucleus capacity: $(nproc) cpus, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r), $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ); heartbeat $HB s, clusters of $CSIZE, window $WINDOW s, nucleus $LIMITS"
# signald's own CPU per request, without sockets, beside the floor of
# the cryptography any implementation of the protocol pays
for n in $CPU_N; do
	echo "# nucbench N=$n: start $(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg)"
	"$TOP/regress/bench/nucbench" -n "$n" -r 2 >"$OUT/cpu$n.out" || {
		echo "nucleus bench: nucbench failed"
		exit 1
	}
	# the last idle round's figures
	awk '$2 ~ /^(register|idle|floor)_ns_(mean|p50|p99)$/ ||
	    $2 == "nucleus_bytes_per_edge" { v[$2] = $3 }
	    END { for (k in v) print "#   " k, v[k] }' "$OUT/cpu$n.out" | sort
	awk '$2 == "idle_ns_mean" { i = $3 } $2 == "floor_ns_mean" { f = $3 }
	    END { if (f > 0) printf "#   idle heartbeat / floor: %.2f\n", i / f }' \
	    "$OUT/cpu$n.out"
done
for n in $NLIST; do
	echo "# N=$n: start $(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg)"
	run "n$n" "$n" "$CSIZE"
	sed 's/^/#   /' "$OUT/n$n.drops"
	grep -v '^bench \|^# ' "$OUT/n$n.out" | sed 's/^/#   /'
done
CONV=""
if [ "$CONV_N" -gt 0 ]; then
	echo "# convergence: one cluster of $CONV_N, then a newcomer: $(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg)"
	# the newcomer joins once all registered (-E): waiting for
	# 10,000 edges to converge first is load.t's job, not this one's
	run conv $((CONV_N + 1)) $((CONV_N + 1)) -E
	grep -v '^bench \|^# ' "$OUT/conv.out" | sed 's/^/#   /'
	CONV=conv
fi

echo
printf "%9s %8s %9s %9s %9s %8s %9s %7s %7s %7s %8s %8s %6s %7s %7s %s\n" \
    N clusters "reg/s" "hb/s" "hb/s" "RSS" "RSS/edge" "CPU%" "CPU%" \
    "CPU us" "p99" "p99" lost "reg" "rcvbuf" "load (1 5 15)"
printf "%9s %8s %9s %9s %9s %8s %9s %7s %7s %7s %8s %8s %6s %7s %7s %s\n" \
    "" "" "" measured expected MiB bytes join idle "per hb" "join ms" \
    "hb ms" "" retries drops "at the end of the window"
for n in $NLIST; do
	f=n$n
	rss=$(v $f nucleus_rss_kb)
	# nucleus CPU per answered heartbeat in the window, sockets included
	us=$(awk -v c="$(v $f window_nucleus_cpu_pct)" \
	    -v h="$(v $f heartbeats_per_s)" \
	    'BEGIN { if (h > 0) printf "%.1f", c * 10000 / h }')
	printf "%9s %8s %9s %9s %9s %8s %9s %7s %7s %7s %8s %8s %6s %7s %7s %s\n" \
	    "$n" "$(v $f clusters)" "$(v $f registrations_per_s)" \
	    "$(v $f heartbeats_per_s)" "$(v $f heartbeats_expected_per_s)" \
	    "$([ -n "$rss" ] && echo $((rss / 1024)))" \
	    "$(v $f nucleus_rss_per_edge_bytes)" \
	    "$(v $f join_nucleus_cpu_pct)" "$(v $f window_nucleus_cpu_pct)" \
	    "$us" \
	    "$(v $f join_p99_ms)" "$(v $f p99_ms)" \
	    "$(v $f lost_registrations)" "$(v $f register_retries)" \
	    "$(($(rcverr $f snmp1) - $(rcverr $f snmp0)))" \
	    "$(v $f window_loadavg | cut -d' ' -f1-3)"
done
echo
printf "%9s %16s %16s %18s %12s %s\n" N "bytes/edge/min" "dgrams/edge/min" \
    "newcomer learns" "in ms" "loadgen CPU% idle"
for f in $(for n in $NLIST; do echo "n$n"; done) $CONV; do
	printf "%9s %16s %16s %18s %12s %s\n" "$(v $f edges)" \
	    "$(v $f bytes_per_edge_min)" "$(v $f datagrams_per_edge_min)" \
	    "$(v $f newcomer_peers) peers" "$(v $f newcomer_ms)" \
	    "$(v $f window_loadgen_cpu_pct)"
done
echo "# conv: one cluster of $((CONV_N + 1)) edges; the newcomer is the last, it joins after the window"
echo "# bytes: UDP payload at the nucleus, in and out, while the edges only heartbeat (loadgen's counters)"
echo "# CPU%: signald (nucleus) user+system time over wall time, 100 = one core; join: from the first REGISTER until every edge is registered"
[ -n "$NUCLEUS_BENCH_OUT" ] && for f in $(for n in $NLIST; do echo "n$n"; done) $CONV; do
	echo "# $f: datagrams dropped at the nucleus's socket (receive buffer full): $(cat "$OUT/$f.nucdrops")"
done
echo "# raw loadgen outputs: $OUT"
exit 0
