#!/bin/sh
# Benchmark 4 of issue 6: the data plane between two namespaces, side
# by side in one run, over four paths between e1 (198.18.0.2) and e2
# (198.18.0.3) of a regress/lib.sh lab:
#
#   raw    the veth/bridge LAN itself
#   wg     wireguard-go configured by hand with wg(8) and ip(8)
#   omni   the omni-managed tunnel (omnid edges and a nucleus)
#   nebula Nebula (nebula-cert, a lighthouse on the nucleus host)
#
# For each: iperf3 TCP throughput (IPERF_SECONDS, 10 s) and the round
# trip time of PINGS (100) pings 10 ms apart; ROUNDS (3) rounds, the
# paths alternating within each round (raw wg omni nebula raw wg ...),
# the median throughput of the rounds and the RTT over all pings.
# Then the same on a shaped link: tbf at SHAPE_RATE (137mbit) on both
# hosts' egress, and DELAY_MS (20) of round trip delay added by
# regress/bench/delayline, a userspace wire between e2's port and the
# LAN bridge (half of the delay each way): this kernel has neither
# netem nor sch_fq (EDT), see results-dataplane.md.
#
# Numbers, not pass/fail: exits non-zero only when it cannot run.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
LAB=${LAB:-obd$$}
. "$TOP/regress/lib.sh"
require_root

SECS=${IPERF_SECONDS:-10}
PINGS=${PINGS:-100}
ROUNDS=${ROUNDS:-3}
RATE=${SHAPE_RATE:-137mbit}
DELAY=${DELAY_MS:-20}
PATHS=${PATHS:-raw wg omni nebula}
EXTRA_PIDS=""

cleanup() {
	for p in $EXTRA_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $EXTRA_PIDS; do
		wait "$p" 2>/dev/null
	done
	lab_cleanup
}
trap 'cleanup' EXIT
trap 'exit 1' INT TERM HUP PIPE

fail() {
	echo "dataplane: $*" >&2
	lab_dump_logs 20 >&2
	for f in "$LABDIR"/*.out; do
		[ -f "$f" ] && { echo "# ---- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}
for t in iperf3 nebula nebula-cert wireguard-go wg jq tc; do
	command -v $t >/dev/null || fail "$t is missing (make deps)"
done
# make bench has built omnid and its children
make -s -C "$TOP" regress/bench/delayline >/dev/null ||
    fail "cannot build regress/bench/delayline"
[ -x "$OMNID" ] || fail "no $OMNID: make first"
load() { cut -d' ' -f1-3 /proc/loadavg; }
in_ns() { h=$1; shift; ip netns exec "$LAB-$h" "$@"; }
spawn() {
	h=$1; out=$2; shift 2
	ip netns exec "$LAB-$h" "$@" >"$LABDIR/$out.out" 2>&1 &
	EXTRA_PIDS="$EXTRA_PIDS $!"
}

# ---- the lab: nucleus, two edges, omnid everywhere ----
lab_mesh

# ---- wireguard-go by hand: 10.88.0.0/24, port 51821 ----
for n in 2 3; do
	h=e$((n - 1)); dev=${LAB}h$n
	(umask 077; wg genkey >"$LABDIR/wg$n.key")
	wg pubkey <"$LABDIR/wg$n.key" >"$LABDIR/wg$n.pub"
	spawn "$h" "wg$n" wireguard-go -f "$dev"
done
(umask 077; wg genpsk >"$LABDIR/wg.psk")
for n in 2 3; do
	h=e$((n - 1)); dev=${LAB}h$n; o=$((5 - n))
	wait_for 10 test -S "/var/run/wireguard/$dev.sock" ||
	    fail "wireguard-go $dev does not start"
	in_ns "$h" wg set "$dev" private-key "$LABDIR/wg$n.key" \
	    listen-port 51821 peer "$(cat "$LABDIR/wg$o.pub")" \
	    preshared-key "$LABDIR/wg.psk" \
	    endpoint "198.18.0.$o:51821" allowed-ips "10.88.0.$o/32" ||
	    fail "wg set $dev"
	in_ns "$h" ip addr add "10.88.0.$n/24" dev "$dev"
	in_ns "$h" ip link set "$dev" up
done

# ---- Nebula: 10.99.0.0/24, port 4242, lighthouse on the nucleus ----
(cd "$LABDIR" && nebula-cert ca -name omni-bench -out-crt ca.crt \
    -out-key ca.key) >/dev/null || fail "nebula-cert ca"
for n in 1 2 3; do
	case $n in 1) h=nuc ;; *) h=e$((n - 1)) ;; esac
	(cd "$LABDIR" && nebula-cert sign -ca-crt ca.crt -ca-key ca.key \
	    -name "$h" -ip "10.99.0.$n/24" -out-crt "neb$n.crt" \
	    -out-key "neb$n.key") >/dev/null || fail "nebula-cert sign"
	if [ $n = 1 ]; then
		lh="am_lighthouse: true"; hosts="[]"
	else
		lh="am_lighthouse: false"; hosts='["10.99.0.1"]'
	fi
	cat >"$LABDIR/neb$n.yml" <<EOT
pki:
  ca: $LABDIR/ca.crt
  cert: $LABDIR/neb$n.crt
  key: $LABDIR/neb$n.key
static_host_map:
  "10.99.0.1": ["198.18.0.1:4242"]
lighthouse:
  $lh
  interval: 60
  hosts: $hosts
listen:
  host: 0.0.0.0
  port: 4242
punchy:
  punch: false
tun:
  dev: ${LAB}n$n
  mtu: 1420
logging:
  level: warning
firewall:
  outbound:
    - port: any
      proto: any
      host: any
  inbound:
    - port: any
      proto: any
      host: any
EOT
	spawn "$h" "neb$n" nebula -config "$LABDIR/neb$n.yml"
done

target() {
	case $1 in
	raw) echo 198.18.0.3 ;;
	wg) echo 10.88.0.3 ;;
	omni) echo 10.77.0.3 ;;
	nebula) echo 10.99.0.3 ;;
	esac
}
reach() { in_ns e1 ping -c 1 -W 1 "$(target "$1")" >/dev/null 2>&1; }
for p in $PATHS; do
	wait_for 40 reach "$p" || fail "path $p: e1 cannot reach $(target "$p")"
done
mtu() { in_ns e1 cat "/sys/class/net/$1/mtu"; }
txdrop() { in_ns e1 cat "/sys/class/net/$1/statistics/tx_dropped" 2>/dev/null || echo -; }
MTU_ETH=$(mtu eth0)
MTU_WG=$(mtu "${LAB}h2")
MTU_OMNI=$(mtu "${LAB}e1")
MTU_NEB=$(mtu "${LAB}n2")

in_ns e2 iperf3 -s -D -I "$LABDIR/iperf3.pid" >/dev/null ||
    fail "iperf3 server"
wait_for 5 test -s "$LABDIR/iperf3.pid"
EXTRA_PIDS="$EXTRA_PIDS $(cat "$LABDIR/iperf3.pid")"
sleep 0.5

# measure PHASE PATH ROUND: pings, then iperf3; appends to the files
measure() {
	t=$(target "$2")
	in_ns e1 ping -n -c "$PINGS" -i 0.01 -W 1 "$t" 2>/dev/null |
	    sed -n 's/.* time=\([0-9.]*\) ms$/\1/p' >>"$LABDIR/rtt.$1.$2"
	in_ns e1 timeout $((SECS + 20)) iperf3 -c "$t" -t "$SECS" -J \
	    >"$LABDIR/iperf.json" 2>/dev/null
	bps=$(jq '.end.sum_received.bits_per_second // 0' \
	    "$LABDIR/iperf.json" 2>/dev/null)
	rtx=$(jq '.end.sum_sent.retransmits // 0' "$LABDIR/iperf.json" \
	    2>/dev/null)
	mbps=$(awk -v b="${bps:-0}" 'BEGIN { printf "%.1f", b / 1e6 }')
	echo "$mbps" >>"$LABDIR/tput.$1.$2"
	echo "# $1 round $3 $2: $mbps Mbit/s ($rtx retransmits), load $(load)"
}

med() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0;
    else if (NR % 2) print v[(NR + 1) / 2];
    else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# RTT avg p50 p99 of a file of samples
rtt() { sort -n "$1" | awk '{ v[NR] = $1; s += $1 }
    END { if (NR == 0) { print "- - - 0"; exit }
	  r50 = int(NR * 0.50 + 0.999999); r99 = int(NR * 0.99 + 0.999999)
	  printf "%.3f %.3f %.3f %d\n", s / NR, v[r50], v[r99], NR }'; }

# expected PATH-MTU: TCP goodput over a tunnel of that MTU relative to
# raw TCP on the Ethernet MTU, when the link counts Ethernet frames:
# payload = MTU - 20 (IPv4) - 20 (TCP) - 12 (timestamps), frame =
# MTU + 14; the tunnel's frame adds 32 (WireGuard data header 16,
# Poly1305 tag 16; Nebula's header 16 and tag 16 alike) + 8 (UDP) +
# 20 (outer IPv4).
expected() {
	awk -v e="$MTU_ETH" -v t="$1" 'BEGIN {
	    raw = (e - 52) / (e + 14); tun = (t - 52) / (t + 32 + 8 + 20 + 14)
	    printf "%.4f", tun / raw }'
}

phase() {
	ph=$1
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		r=$((r + 1))
		for p in $PATHS; do
			measure "$ph" "$p" "$r"
		done
	done
	raw=$(cat "$LABDIR/tput.$ph.raw" 2>/dev/null | med)
	wgm=$(cat "$LABDIR/tput.$ph.wg" 2>/dev/null | med)
	echo "## $ph: median of $ROUNDS rounds, iperf3 TCP ${SECS} s e1 -> e2; RTT over all pings ($PINGS per round, 10 ms apart); load $(load)"
	printf '%-8s %6s %9s %8s %8s %9s %9s %9s\n' path mtu Mbit/s /raw \
	    /wg rtt_avg rtt_p50 rtt_p99
	for p in $PATHS; do
		case $p in
		raw) m=$MTU_ETH ;; wg) m=$MTU_WG ;; omni) m=$MTU_OMNI ;;
		nebula) m=$MTU_NEB ;; esac
		t=$(med <"$LABDIR/tput.$ph.$p")
		set -- $(rtt "$LABDIR/rtt.$ph.$p")
		printf '%-8s %6s %9s %8s %8s %9s %9s %9s\n' "$p" "$m" "$t" \
		    "$(awk -v a="$t" -v b="$raw" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')" \
		    "$(awk -v a="$t" -v b="$wgm" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')" \
		    "$1" "$2" "$3"
	done
	if [ -f "$LABDIR/tput.$ph.omni" ] && [ -f "$LABDIR/tput.$ph.wg" ]; then
		# omni and wg ran back to back in each round: the median of
		# the per-round ratios is the fairer verdict under load
		paste "$LABDIR/tput.$ph.omni" "$LABDIR/tput.$ph.wg" |
		    awk '{ printf "%.3f\n", ($2 > 0 ? $1 / $2 : 0) }' \
		    >"$LABDIR/pair.$ph"
		om=$(med <"$LABDIR/tput.$ph.omni")
		pr=$(med <"$LABDIR/pair.$ph")
		echo "## $ph: omni / wg per round: $(tr '\n' ' ' <"$LABDIR/pair.$ph")"
		awk -v a="$om" -v b="$wgm" -v p="$pr" -v ph="$ph" 'BEGIN {
		    r = (b > 0 ? a / b : 0)
		    printf "## %s: omni / hand-configured wireguard-go: %.3f (median of the per-round ratios), %.3f (ratio of the medians): %s the 98%% bar\n",
			ph, p, r, (p >= 0.98 ? "meets" : "does NOT meet") }'
	fi
	# where the tunnels lost packets: the receiver's UDP buffers
	# (a CPU-starved wireguard-go or nebula) and the sender's TUN queue
	echo "## $ph: e2 UDP receive buffer errors so far: $(in_ns e2 awk '/^Udp:/ { if (h) print $6; h = 1 }' /proc/net/snmp); e1 TX drops so far: wg $(txdrop "${LAB}h2"), omni $(txdrop "${LAB}e1"), nebula $(txdrop "${LAB}n2")"
	echo "## $ph: per round (Mbit/s):"
	for p in $PATHS; do
		echo "##   $p: $(tr '\n' ' ' <"$LABDIR/tput.$ph.$p")"
	done
}

echo "## data plane e1 -> e2, $(nproc) cpus, load $(load)"
echo "## MTU: eth0 $MTU_ETH, wg $MTU_WG, omni $MTU_OMNI, nebula $MTU_NEB"
PHASES=${PHASES:-unshaped shaped}
case " $PHASES " in *" unshaped "*) phase unshaped ;; esac
case " $PHASES " in *" shaped "*) ;; *) exit 0 ;; esac

# ---- the shaped link ----
# e2's port leaves the bridge; delayline joins it to a new port (d0/d1)
lan() { ip -n "$LAB-lan" "$@"; }
lan link set "${LAB}3b" nomaster
lan link add "${LAB}d0" type veth peer name "${LAB}d1"
lan link set "${LAB}d1" master br0
lan link set "${LAB}d0" up
lan link set "${LAB}d1" up
half=$(awk -v d="$DELAY" 'BEGIN { print d / 2 }')
spawn lan delayline "$TOP/regress/bench/delayline" -a "${LAB}3b" \
    -b "${LAB}d0" -d "$half" -T 1800
DLPID=$!
sleep 0.5
kill -0 "$DLPID" 2>/dev/null || fail "delayline does not run"
# The bottleneck is in the middle, after the delay, where raw TCP and
# the tunnels' UDP meet the same drop-tail queue (on a host's own
# egress, TCP Small Queues would spare raw TCP the losses that the
# tunnels' UDP suffers): tbf on both ports delayline sends out of.
for d in "${LAB}3b" "${LAB}d0"; do
	lan link set "$d" txqueuelen 1000
	ip netns exec "$LAB-lan" tc qdisc add dev "$d" root tbf \
	    rate "$RATE" burst 32kb latency 50ms || fail "tc tbf on $d"
done
for p in $PATHS; do
	wait_for 20 reach "$p" || fail "shaped path $p: e1 cannot reach e2"
done
echo "## shaped: delayline ${half} ms each way (${DELAY} ms round trip), then tbf rate $RATE burst 32kb latency 50ms, both directions"
phase shaped
for p in wg omni nebula; do
	case $p in wg) m=$MTU_WG ;; omni) m=$MTU_OMNI ;; nebula) m=$MTU_NEB ;; esac
	echo "$PATHS" | grep -qw "$p" || continue
	echo "## shaped: $p expected cap from the MTUs: $(expected "$m") of raw TCP (inner MTU $m, eth $MTU_ETH)"
done
kill -TERM "$DLPID" 2>/dev/null
wait "$DLPID" 2>/dev/null
sed 's/^/# /' "$LABDIR/delayline.out"
exit 0
