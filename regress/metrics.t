#!/bin/sh
# Every metric is real: each one moves when its event happens.  The
# demo topology runs; the test makes things happen (traffic, a
# handshake, a garbage datagram, an edge leaving and coming back, a
# child killed, reloads) and reads /metrics before and after.  Then
# promtool checks a live scrape, and a real Prometheus server scrapes
# an edge and answers a query through its HTTP API.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
lab_test
PROM_PID=
prom_stop() {
	[ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID"
	PROM_PID=
}
trap 'prom_stop; lab_cleanup' EXIT
lab_mesh
IF1=${LAB}e1

scrape() {
	ip netns exec "$LAB-$1" curl -sf http://127.0.0.1:9090/metrics
}
# mval HOST SERIES: the value of one series, name{labels} exactly
mval() {
	scrape "$1" | awk -v s="$2" '$1 == s { print $2; exit }'
}
# msum HOST NAME: the sum over every series of a metric
msum() {
	scrape "$1" | awk -v n="$2" '
	    $1 == n || index($1, n "{") == 1 { s += $2; f = 1 }
	    END { if (f) printf "%.17g\n", s }'
}
gt() {
	[ -n "$1" ] && [ -n "$2" ] &&
	    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'
}
is() {
	[ -n "$1" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0) }'
}
# Polled by wait_for: the series (or the sum) has reached a value.
series_gt() { gt "$(mval "$1" "$2")" "$3"; }
series_is() { is "$(mval "$1" "$2")" "$3"; }
sum_gt() { gt "$(msum "$1" "$2")" "$3"; }

check "mesh up" wait_for 30 ping_vip e1 3
check "metricsd has its first snapshot" wait_for 10 metrics_up e1

scrape e1 | grep -q '^omni_build_info{version="[^"]*"} 1$'
ok $? "omni_build_info{version} is 1"
check "omni_interfaces is 1 on an edge" wait_for 5 series_is e1 omni_interfaces 1
check "omni_interfaces is 0 on the nucleus" series_is nuc omni_interfaces 0
check "omni_wg_peers counts the one peer" \
    wait_for 5 series_is e1 "omni_wg_peers{iface=\"$IF1\"}" 1

# Peers by path: after a handshake the peer is direct, and it stays
# direct over the host candidate pair signald probed: the lab's
# 198.18.0.0/24 is a public address space to omni, and direct-lan is
# for private and link-local addresses (issue 7).
check "signald probed the peer (omni_probe_paths ok)" wait_for 10 \
    series_is e1 "omni_probe_paths{state=\"ok\"}" 1
check "omni_peers: one direct peer" wait_for 10 series_is e1 \
    "omni_peers{iface=\"$IF1\",path=\"direct\"}" 1
check "omni_peers: no direct-lan peer (a public host candidate)" \
    series_is e1 "omni_peers{iface=\"$IF1\",path=\"direct-lan\"}" 0
check "omni_peers: no direct-nat peer" series_is e1 \
    "omni_peers{iface=\"$IF1\",path=\"direct-nat\"}" 0
check "omni_peers: no peer without a path" series_is e1 \
    "omni_peers{iface=\"$IF1\",path=\"none\"}" 0
check "omni_peers: no relayed peer" series_is e1 \
    "omni_peers{iface=\"$IF1\",path=\"relayed\"}" 0

# Handshakes: at least the first one was seen.
HS="omni_wg_handshakes_total{iface=\"$IF1\"}"
check "omni_wg_handshakes_total counted the first handshake" \
    wait_for 6 series_gt e1 "$HS" 0
hs0=$(mval e1 "$HS")

# Traffic moves the byte counters of that peer.
RX="omni_wg_peer_received_bytes_total{iface=\"$IF1\",peer=\"10.77.0.3\"}"
TX="omni_wg_peer_sent_bytes_total{iface=\"$IF1\",peer=\"10.77.0.3\"}"
rx0=$(mval e1 "$RX")
tx0=$(mval e1 "$TX")
ip netns exec "$LAB-e1" ping -q -c 5 -i 0.2 -s 1000 10.77.0.3 >/dev/null
check "received bytes grow with traffic (from $rx0)" wait_for 6 series_gt e1 "$RX" "$rx0"
check "sent bytes grow with traffic (from $tx0)" wait_for 6 series_gt e1 "$TX" "$tx0"
hs=$(mval e1 "omni_wg_peer_last_handshake_seconds{iface=\"$IF1\",peer=\"10.77.0.3\"}")
now=$(date +%s)
ok $(gt "$hs" $((now - 180)); echo $?) \
    "omni_wg_peer_last_handshake_seconds is recent ($hs, now $now)"

# Signaling: heartbeats go out and come back every 2 s.
s0=$(msum e1 omni_signal_sent_total)
r0=$(msum e1 omni_signal_received_total)
check "signaling messages sent grow (from $s0)" wait_for 8 sum_gt e1 omni_signal_sent_total "$s0"
check "signaling messages received grow (from $r0)" wait_for 8 sum_gt e1 omni_signal_received_total "$r0"
# A datagram that is not signaling is dropped, and counted with a reason.
d0=$(msum nuc omni_signal_dropped_total)
ip netns exec "$LAB-e1" perl -MIO::Socket::INET -e '
    my $s = IO::Socket::INET->new(PeerAddr => "198.18.0.1:51900",
        Proto => "udp") or die;
    $s->send("this is not a signaling message") for 1 .. 3;'
check "signaling drops grow on garbage (from $d0)" wait_for 8 sum_gt nuc omni_signal_dropped_total "$d0"
scrape nuc | grep -q '^omni_signal_dropped_total{reason="[a-z_]*"} [1-9]'
ok $? "the drop is counted under a reason"

# The nucleus counts its clusters and edges; an edge leaving and
# coming back moves them, and the new handshake is counted.
check "omni_nucleus_clusters is 1" wait_for 5 series_is nuc omni_nucleus_clusters 1
check "omni_nucleus_edges is 2" series_is nuc omni_nucleus_edges 2
lab_stop e2
check "omni_nucleus_edges drops to 1 when an edge leaves" \
    wait_for 20 series_is nuc omni_nucleus_edges 1
lab_start e2
check "omni_nucleus_edges is 2 again when it is back" \
    wait_for 20 series_is nuc omni_nucleus_edges 2
check "the mesh is back" wait_for 30 ping_vip e2 2
check "omni_wg_handshakes_total counts the new handshake (was $hs0)" \
    wait_for 8 series_gt e1 "$HS" "$hs0"

# Registration latency and nucleus round trips come from signald's
# status reports: the restarted e2 reports them once it registered.
# (signald measures in milliseconds, so on this LAN they may be 0.)
L="omni_edge_registration_latency_seconds{iface=\"${LAB}e2\",nucleus=\"198.18.0.1:51900\"}"
R="omni_nucleus_rtt_seconds{iface=\"${LAB}e2\",nucleus=\"198.18.0.1:51900\"}"
series_ge0() { v=$(mval "$1" "$2"); [ -n "$v" ] && ! gt 0 "$v"; }
check "omni_edge_registered is 1 for the restarted e2" wait_for 10 \
    series_is e2 "omni_edge_registered{iface=\"${LAB}e2\"}" 1
check "e2's registration latency is reported once it registered" \
    wait_for 10 series_ge0 e2 "$L"
check "e2's nucleus round trip is reported" wait_for 10 series_ge0 e2 "$R"
check "no latency for a nucleus e2 does not use" \
    [ -z "$(mval e2 "omni_nucleus_rtt_seconds{iface=\"${LAB}e2\",nucleus=\"198.18.0.9:51900\"}")" ]

# promtool: a live scrape of an edge and of the nucleus, no warning.
for h in e1 nuc; do
	out=$(scrape "$h" | promtool check metrics 2>&1)
	ok $([ $? -eq 0 ] && [ -z "$out" ]; echo $?) \
	    "promtool check metrics on $h: clean${out:+: $out}"
done

# A real Prometheus server scrapes the edge every second.
cat > "$LABDIR/prometheus.yml" <<EOT
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: omni
    static_configs:
      - targets: ["127.0.0.1:9090"]
EOT
ip netns exec "$LAB-e1" prometheus --config.file="$LABDIR/prometheus.yml" \
    --storage.tsdb.path="$LABDIR/prometheus" \
    --web.listen-address=127.0.0.1:9091 >"$LABDIR/prometheus.log" 2>&1 &
PROM_PID=$!
promq() {
	ip netns exec "$LAB-e1" curl -sf --get \
	    --data-urlencode "query=$1" http://127.0.0.1:9091/api/v1/query |
	    jq -r '.data.result[0].value[1] // empty'
}
prom_has() { [ "$(promq "$1")" = "$2" ]; }
check "Prometheus scraped omnid: up is 1" wait_for 30 prom_has 'up{job="omni"}' 1
check "Prometheus returns omni_build_info 1" wait_for 10 prom_has omni_build_info 1
v=$(promq "omni_wg_handshakes_total{iface=\"$IF1\"}")
ok $(gt "$v" 0; echo $?) "Prometheus returns the handshake counter ($v)"
prom_stop

# Reloads, good and bad.
C="omni_config_reloads_total"
check "no reload counted yet" series_is e1 "$C{result=\"ok\"}" 0
lab_ctl e1 reload >/dev/null 2>&1
check "a successful reload is counted" wait_for 5 series_is e1 "$C{result=\"ok\"}" 1
cp "$LABDIR/e1.conf" "$LABDIR/e1.good"
echo "verbose: banana" >> "$LABDIR/e1.conf"
lab_ctl e1 reload >/dev/null 2>&1
check "a failed reload is counted" wait_for 5 series_is e1 "$C{result=\"failed\"}" 1
cp "$LABDIR/e1.good" "$LABDIR/e1.conf"

# A child killed is restarted, and counted.
W="omni_child_restarts_total{child=\"wgctld\"}"
check "no wgctld restart yet" series_is e1 "$W" 0
kill -KILL "$(child_pid e1 wgctld)"
check "the restart of a killed wgctld is counted" wait_for 10 series_is e1 "$W" 1

done_testing
