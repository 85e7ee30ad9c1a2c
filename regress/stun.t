#!/bin/sh
# STUN both ways, against coturn.
#
#   nuc 198.18.0.1   omnid nucleus: answers STUN on its signaling port
#   e1  198.18.0.2   omnid edge, asks coturn and the nucleus
#   rt  198.18.0.4   a router: 192.168.77.1 inside, snat to 198.18.0.4
#   stn 198.18.0.5   coturn's turnserver, STUN only
#   e2  192.168.77.2 omnid edge behind rt, asks coturn
#
# (a) coturn's turnutils_stunclient, run on e1 and on e2, gets from
#     the nucleus the address it came from: e1's LAN address, the
#     router's for e2.  (b) coturn answers our edges' STUN client:
#     e2 learns the router's address (not its own), e1 its LAN
#     address, from coturn and from the nucleus; omnid logs it and
#     signald's metrics show it.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
require_root
TURN_PID=

stun_cleanup() {
	if [ -n "$TURN_PID" ]; then
		kill -TERM "$TURN_PID" 2>/dev/null
		wait "$TURN_PID" 2>/dev/null
	fi
	lab_cleanup
}
trap 'stun_cleanup' EXIT
trap 'exit 1' INT TERM

for p in turnserver turnutils_stunclient nft; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "1..0 # SKIP $p not installed (make deps)"
		exit 0
	fi
done

lab_init
lab_host nuc 1
lab_host e1 2
lab_host rt 4
lab_host stn 5

# e2 sits on a LAN of its own behind rt.
ip netns add "$LAB-e2"
LAB_HOSTS="$LAB_HOSTS e2"
ip -n "$LAB-e2" link set lo up
ip link add "${LAB}ra" type veth peer name "${LAB}rb"
ip link set "${LAB}ra" netns "$LAB-rt"
ip link set "${LAB}rb" netns "$LAB-e2"
ip -n "$LAB-rt" link set "${LAB}ra" name in0
ip -n "$LAB-e2" link set "${LAB}rb" name eth0
ip -n "$LAB-rt" addr add 192.168.77.1/24 dev in0
ip -n "$LAB-e2" addr add 192.168.77.2/24 dev eth0
ip -n "$LAB-rt" link set in0 up
ip -n "$LAB-e2" link set eth0 up
ip -n "$LAB-e2" route add default via 192.168.77.1
ip netns exec "$LAB-rt" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$LAB-rt" nft -f - <<EOT
table ip nat {
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "eth0" ip saddr 192.168.77.0/24 snat to 198.18.0.4
	}
}
EOT
check "the router's nftables snat is in place" \
    sh -c "ip netns exec '$LAB-rt' nft list ruleset | grep -q 'snat to 198.18.0.4'"

# coturn, STUN only, nothing from /etc: -n (no config file), no
# database, no CLI, no TLS/DTLS, the log on stdout.
ip netns exec "$LAB-stn" turnserver -n --stun-only --no-cli --no-tls \
    --no-dtls --no-tcp --listening-ip 198.18.0.5 --listening-port 3478 \
    --log-file stdout --simple-log --pidfile "$LABDIR/turn.pid" \
    --userdb "$LABDIR/turndb" >"$LABDIR/turn.log" 2>&1 &
TURN_PID=$!
turn_up() {
	ip netns exec "$LAB-stn" ss -uln | grep -q '198.18.0.5:3478'
}
check "coturn's turnserver listens on 198.18.0.5:3478" wait_for 15 turn_up

lab_nucleus_conf nuc 1
lab_edge_conf e1 2 1
cat >>"$LABDIR/e1.conf" <<EOT
    stun-servers: [198.18.0.5, 198.18.0.1:51900]
    stun-interval: 5
EOT
lab_edge_conf e2 3 1
cat >>"$LABDIR/e2.conf" <<EOT
    stun-servers:
      - 198.18.0.5:3478
    stun-interval: 5
EOT
lab_start nuc
lab_start e1
lab_start e2

# --- (a) coturn's client against the nucleus ---------------------------

nuc_up() {
	ip netns exec "$LAB-nuc" ss -uln | grep -q '198.18.0.1:51900'
}
wait_for 15 nuc_up
# stunclient prints "UDP reflexive addr: IP:PORT"
stunc() {
	ip netns exec "$LAB-$1" turnutils_stunclient -p 51900 198.18.0.1 2>&1
}
refl() {
	sed -n 's/.*UDP reflexive addr: *\([0-9.]*\):[0-9]*.*/\1/p' | head -n 1
}
out=$(stunc e1)
got=$(echo "$out" | refl)
ok $([ "$got" = 198.18.0.2 ]; echo $?) "turnutils_stunclient on e1: the nucleus sees 198.18.0.2 (got ${got:-nothing})"
[ "$got" = 198.18.0.2 ] || echo "$out" | sed 's/^/# /'
out=$(stunc e2)
got=$(echo "$out" | refl)
ok $([ "$got" = 198.18.0.4 ]; echo $?) "turnutils_stunclient on e2: the nucleus sees the router, 198.18.0.4 (got ${got:-nothing})"
[ "$got" = 198.18.0.4 ] || echo "$out" | sed 's/^/# /'

# coturn's client against coturn, for comparison: same answer.
got=$(ip netns exec "$LAB-e2" turnutils_stunclient 198.18.0.5 2>&1 | refl)
ok $([ "$got" = 198.18.0.4 ]; echo $?) "turnutils_stunclient on e2 against coturn agrees (got ${got:-nothing})"

# --- (b) our client against coturn ---------------------------------------

learned() {	# learned HOST ADDRESS-PREFIX SERVER
	grep -q "reflexive address $2.* (STUN server $3)" "$LABDIR/$1.log"
}
check "e2's omnid logs the reflexive address 198.18.0.4:PORT from coturn" \
    wait_for 30 learned e2 198.18.0.4: 198.18.0.5:3478
line=$(grep "reflexive address" "$LABDIR/e2.log" | head -n 1)
echo "# e2: ${line#*: }"
grep -q "reflexive address 192.168.77.2" "$LABDIR/e2.log"
ok $([ $? -ne 0 ]; echo $?) "e2 never reports its own address 192.168.77.2 as reflexive"
check "e2's signald logs what coturn said" \
    grep -q "STUN server 198.18.0.5:3478 sees us at 198.18.0.4:" "$LABDIR/e2.log"

# The port is the one the router mapped e2's signaling socket to: the
# router's conntrack table has the flow to coturn with that reply port.
port=$(sed -n 's/.*sees us at 198\.18\.0\.4:\([0-9]*\).*/\1/p' "$LABDIR/e2.log" | head -n 1)
if ip netns exec "$LAB-rt" test -r /proc/net/nf_conntrack; then
	ct=$(ip netns exec "$LAB-rt" cat /proc/net/nf_conntrack |
	    grep 'src=192.168.77.2 dst=198.18.0.5' |
	    grep "src=198.18.0.5 dst=198.18.0.4 sport=3478 dport=$port ")
	ok $([ -n "$ct" ]; echo $?) "the router's conntrack maps e2 to 198.18.0.4:$port"
else
	T_N=$((T_N + 1))
	echo "ok $T_N # SKIP no /proc/net/nf_conntrack"
fi

m2() {
	ip netns exec "$LAB-e2" curl -sf http://127.0.0.1:9090/metrics
}
seen() {	# seen HOST SERVER ADDRESS-PREFIX
	ip netns exec "$LAB-$1" curl -sf http://127.0.0.1:9090/metrics |
	    grep -q "^omni_stun_reflexive_seen{.*server=\"$2\",address=\"$3"
}
check "e2's metrics: omni_stun_reflexive_seen from coturn with 198.18.0.4" \
    wait_for 10 seen e2 198.18.0.5:3478 198.18.0.4:
v=$(m2 | sed -n 's/^omni_stun_reflexive_seen{.*} \([0-9.e+]*\)$/\1/p' | head -n 1)
now=$(date +%s)
ok $(awk -v v="$v" -v n="$now" 'BEGIN { exit !(v > n - 60 && v <= n + 1) }'; echo $?) \
    "the gauge is a recent unix time ($v)"

# The parent logs a change of address, whichever server said it first.
check "e1's omnid logs the reflexive address 198.18.0.2:PORT" \
    wait_for 20 grep -q "reflexive address 198.18.0.2:" "$LABDIR/e1.log"
check "e1's signald learns 198.18.0.2 from coturn" \
    wait_for 20 grep -q "STUN server 198.18.0.5:3478 sees us at 198.18.0.2:" \
    "$LABDIR/e1.log"
check "e1 learns 198.18.0.2 from the nucleus too (omni_stun_reflexive_seen)" \
    wait_for 20 seen e1 198.18.0.1:51900 198.18.0.2:

m=$(ip netns exec "$LAB-nuc" curl -sf http://127.0.0.1:9090/metrics)
n=$(echo "$m" | sed -n 's/^omni_stun_requests_total{.*answer="success".*} \([0-9]*\)$/\1/p' | head -n 1)
ok $([ "${n:-0}" -ge 3 ]; echo $?) "the nucleus counts the Binding requests it answered (${n:-none})"
ok $(echo "$m" | grep -q '^omni_nucleus_edges.* 2$'; echo $?) \
    "signaling still works beside STUN: the nucleus has two edges"
n=$(ip netns exec "$LAB-e2" curl -sf http://127.0.0.1:9090/metrics |
    sed -n 's/^omni_stun_client_transactions_total{.*result="success".*} \([0-9]*\)$/\1/p' | head -n 1)
ok $([ "${n:-0}" -ge 1 ]; echo $?) "e2 counts successful STUN transactions (${n:-none})"

# Junk that looks like STUN to the nucleus is dropped and counted: a
# Binding request whose FINGERPRINT is wrong.
ip netns exec "$LAB-e1" perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(PeerAddr => "198.18.0.1:51900",
	    Proto => "udp") or exit 1;
	$s->send("\x00\x01\x00\x08\x21\x12\xa4\x42abcdefghijkl" .
	    "\x80\x28\x00\x04\x00\x00\x00\x00");'
dropped() {
	ip netns exec "$LAB-nuc" curl -sf http://127.0.0.1:9090/metrics |
	    grep -q '^omni_stun_dropped_total{.*reason="malformed".*} [1-9]'
}
check "a broken Binding request to the nucleus is dropped and counted" \
    wait_for 5 dropped

ok $(kill -0 "$TURN_PID" 2>/dev/null; echo $?) "coturn still runs"
for h in nuc e1 e2; do
	eval "pid=\$PID_$h"
	ok $(kill -0 "$pid" 2>/dev/null; echo $?) "omnid on $h still runs"
done
if [ "$T_FAILED" -ne 0 ]; then
	echo "# ---- turnserver ----"
	tail -n 20 "$LABDIR/turn.log" | sed 's/^/# /'
fi
done_testing
