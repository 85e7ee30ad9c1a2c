#!/bin/sh
# Benchmarks 3 and 5 of issue 6, on one edge in a namespace lab
# (regress/lib.sh: nucleus "nuc" 198.18.0.1, edges "e1" 198.18.0.2 and
# "e2" 198.18.0.3, VIPs 10.77.0.2 and 10.77.0.3, heartbeat 2 s).
#
# 3. Time to first packet: with the nucleus and e2 up, start omnid on
#    e1 (a fresh identity each run, and e2 has dropped the previous
#    one) and ping e2's VIP every 10 ms from the moment omnid is
#    exec'd (regress/bench/firstping) until the first reply.  Median
#    and p90 of TTFP_RUNS (20) runs, with the breakdown from the timed
#    -v logs of e1 and e2.
# 5. Footprint of e1's processes (omnid parent, signald, wgctld,
#    metricsd, wireguard-go): Pss and RSS, and CPU (utime + stime) over
#    FOOT_WINDOW (30) s, idle with one peer, then with 100 peers (99
#    simulated edges from regress/load/loadgen in the same cluster).
#
# Numbers, not pass/fail: exits non-zero only when it cannot run.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
LAB=${LAB:-obe$$}
. "$TOP/regress/lib.sh"
require_root
trap 'lab_cleanup' EXIT
trap 'exit 1' INT TERM HUP PIPE

RUNS=${TTFP_RUNS:-20}
WINDOW=${FOOT_WINDOW:-30}
SIMS=${FOOT_SIMS:-99}
FP=$TOP/regress/bench/firstping
# make bench has built omnid and its children
make -s -C "$TOP" regress/bench/firstping regress/load/loadgen \
    >/dev/null || { echo "edge: cannot build the helpers" >&2; exit 1; }
[ -x "$OMNID" ] || { echo "edge: no $OMNID: make first" >&2; exit 1; }

fail() {
	echo "edge: $*" >&2
	lab_dump_logs 30 >&2
	for f in "$LABDIR"/*.tlog; do
		[ -f "$f" ] && { echo "# ---- $f"; tail -n 30 "$f"; } >&2
	done
	exit 1
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

# pct N P: the P-th percentile (nearest rank) of numbers on stdin
pct() {
	sort -n | awk -v p="$1" '{ v[NR] = $1 }
	    END { if (NR == 0) { print "-"; exit }
		  r = int(NR * p / 100 + 0.999999); if (r < 1) r = 1
		  print v[r] }'
}

# at LOG PATTERN [AFTER]: the time (CLOCK_MONOTONIC ms) of the first
# line of a timed log matching PATTERN, at or after AFTER
at() {
	awk -v pat="$2" -v after="${3:-0}" \
	    '$1 >= after && index($0, pat) { print $1; exit }' "$1"
}

lab_init
lab_host nuc 1
lab_host e1 2
lab_host e2 3
lab_nucleus_conf nuc 1
# the footprint's simulated edges live as long as loadgen: keep them
sed -i 's/peer-timeout: 15/peer-timeout: 300/' "$LABDIR/nuc.conf"
lab_edge_conf e1 2 1
lab_edge_conf e2 3 1
# loadgen's simulated edges have VIPs in 10.100.0.0/16: a /8 takes them
sed -i 's|^\(    address: 10\.77\.0\.[0-9]*\)/24|\1/8|' "$LABDIR/e1.conf" \
    "$LABDIR/e2.conf"
HB=$(sed -n 's/^ *heartbeat: //p' "$LABDIR/e1.conf")
lab_start nuc
# e2 runs under firstping too, without pinging, for a timed log
ip netns exec "$LAB-e2" "$FP" -l "$LABDIR/e2.tlog" \
    "$OMNID" -d ${TTFP_VV:+-v} -v -f "$LABDIR/e2.conf" \
    >"$LABDIR/e2.fp" 2>&1 &
PID_e2=$!
LAB_PIDS="$LAB_PIDS $!"
registered() {
	ip netns exec "$LAB-$1" curl -sf http://127.0.0.1:9090/metrics |
	    grep -q '^omni_edge_registered{.*} 1$'
}
wait_for 20 registered e2 || fail "e2 does not register"

# rel T: T (CLOCK_MONOTONIC ms) relative to this run's t0, or "-"
rel() {
	if [ -n "$1" ]; then
		awk -v a="$1" -v b="$t0" 'BEGIN { printf "%.1f", a - b }'
	else
		echo -
	fi
}

# ---- 3. time to first packet ----
echo "## time to first packet: omnid exec on e1 -> first echo reply from e2's VIP"
echo "## $RUNS runs, ping every 10 ms, heartbeat $HB s, load $(load)"
printf '%4s %8s %8s %8s %8s %8s %8s\n' run wg-up route regist \
    peer-e1 peer-e2 reply
: >"$LABDIR/ttfp"
i=0
while [ $i -lt "$RUNS" ]; do
	i=$((i + 1))
	rm -f "$LABDIR/e1.key"
	ip netns exec "$LAB-e1" "$FP" -t 10.77.0.3 -T 20 \
	    -l "$LABDIR/e1.$i.tlog" \
	    "$OMNID" -d ${TTFP_VV:+-v} -v -f "$LABDIR/e1.conf" \
	    >"$LABDIR/e1.fp" 2>&1 &
	PID_e1=$!
	wait_for 25 grep -q reply_ms "$LABDIR/e1.fp" ||
	    fail "run $i: firstping gave no result"
	lab_stop e1
	t0=$(awk '/^pid/ { print $4 }' "$LABDIR/e1.fp")
	route=$(awk '/^route_ms/ { print $2 }' "$LABDIR/e1.fp")
	reply=$(awk '/^route_ms/ { print $4 }' "$LABDIR/e1.fp")
	wgup=$(at "$LABDIR/e1.$i.tlog" "userspace backend up")
	reg=$(at "$LABDIR/e1.$i.tlog" "registered with nucleus")
	pe1=$(at "$LABDIR/e1.$i.tlog" "peer 10.77.0.3/32 at")
	pe2=$(at "$LABDIR/e2.tlog" "peer 10.77.0.2/32 at" "$t0")
	line="$i $(rel "$wgup") $route $(rel "$reg") $(rel "$pe1") $(rel "$pe2") $reply"
	echo "$line" >>"$LABDIR/ttfp"
	printf '%4s %8s %8s %8s %8s %8s %8s\n' $line
	if [ "$reply" = -1.0 ]; then
		# counted as 20 s in the percentiles, not left out
		echo "# run $i: no reply within 20 s"
		sed -i '$ s/-1\.0$/20000/' "$LABDIR/ttfp"
	fi
	# e2 forgets e1 (its DEREGISTER, at e2's next heartbeat)
	wait_for 20 sh -c "[ -z \"\$(ip netns exec $LAB-e2 wg show ${LAB}e2 peers)\" ]" ||
	    fail "run $i: e2 keeps e1's peer"
done
col() { awk -v c="$1" '$c != "-" && $c >= 0 { print $c }' "$LABDIR/ttfp"; }
for q in 50 90; do
	printf '%4s %8s %8s %8s %8s %8s %8s\n' "p$q" "$(col 2 | pct $q)" \
	    "$(col 3 | pct $q)" "$(col 4 | pct $q)" "$(col 5 | pct $q)" \
	    "$(col 6 | pct $q)" "$(col 7 | pct $q)"
done
med=$(col 7 | pct 50)
lag=$(awk '$4 != "-" && $6 != "-" { print $6 - $4 }' "$LABDIR/ttfp" | pct 50)
echo "## e2 installs e1's peer a median $lag ms after e1 registered (without a push from the nucleus it would learn at its next heartbeat, every $HB s)"
echo "## TTFP median $med ms, p90 $(col 7 | pct 90) ms (target < 500 ms: $(awk -v m="$med" 'BEGIN { print (m < 500 ? "met" : "NOT met") }'))"
echo "## columns: ms after exec of omnid on e1: wireguard-go up, route to e2's VIP (address set), e1 registered, e1 installed e2's peer, e2 installed e1's peer, first reply"

# ---- 5. footprint ----
# procs: "name pid" for e1's omnid and its children
procs() {
	echo "omnid $PID_e1"
	for c in $(pgrep -P "$PID_e1"); do
		echo "$(cat /proc/"$c"/comm) $c"
	done
}
# ticks PID: utime + stime
ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat 2>/dev/null || echo 0; }
mem() {
	pss=$(awk '/^Pss:/ { print $2 }' /proc/"$1"/smaps_rollup 2>/dev/null)
	rss=$(awk '/^VmRSS:/ { print $2 }' /proc/"$1"/status 2>/dev/null)
	echo "${pss:-0} ${rss:-0}"
}
HZ=$(getconf CLK_TCK)
footprint() {
	label=$1
	procs >"$LABDIR/procs"
	while read -r n p; do
		echo "$n $p $(ticks "$p")"
	done <"$LABDIR/procs" >"$LABDIR/t0"
	sleep "$WINDOW"
	npeers=$(ip netns exec "$LAB-e1" wg show "${LAB}e1" peers | wc -l)
	echo "## footprint $label: $npeers WireGuard peers at the end, ${WINDOW} s window, load $(load)"
	printf '%-12s %7s %9s %9s %7s\n' process pid Pss_KiB RSS_KiB cpu_%
	tp=0; tr=0; tc=0
	while read -r n p t; do
		set -- $(mem "$p")
		c=$(awk -v a="$t" -v b="$(ticks "$p")" -v hz="$HZ" -v w="$WINDOW" \
		    'BEGIN { printf "%.2f", (b - a) * 100 / hz / w }')
		printf '%-12s %7s %9s %9s %7s\n' "$n" "$p" "$1" "$2" "$c"
		tp=$((tp + $1)); tr=$((tr + $2))
		tc=$(awk -v a="$tc" -v b="$c" 'BEGIN { printf "%.2f", a + b }')
	done <"$LABDIR/t0"
	printf '%-12s %7s %9s %9s %7s\n' total - "$tp" "$tr" "$tc"
}

lab_start e1
wait_for 20 registered e1 || fail "e1 does not register"
wait_for 20 ping_vip e1 3 || fail "e1 does not reach e2"
sleep 3
footprint "idle (1 peer)"

ip netns exec "$LAB-nuc" "$TOP/regress/load/loadgen" -n "$SIMS" \
    -a 198.18.0.1:51900 -c lab -s "$SECRET" -H 10 -r 200 -T 60 \
    >"$LABDIR/loadgen.out" 2>&1
grep '^converged' "$LABDIR/loadgen.out" | sed 's/^/# loadgen: /'
want=$((SIMS + 1))
wait_for 30 sh -c "[ \$(ip netns exec $LAB-e1 wg show ${LAB}e1 peers | wc -l) -ge $want ]" ||
    fail "e1 did not get $want peers ($(ip netns exec "$LAB-e1" wg show "${LAB}e1" peers | wc -l))"
footprint "with $want peers"
exit 0
