#!/bin/sh
# IPv6 underlay and IPv6 VIPs.  The nucleus listens on [::]:51900 and
# so serves IPv6 and IPv4 edges on one socket.  e1 and e2 signal over
# IPv6 and each runs two interfaces: one with an IPv6 VIP, one with an
# IPv4 VIP.  e3 signals over IPv4 into the IPv6 cluster.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
require_root
trap 'lab_cleanup' EXIT
trap 'exit 1' INT TERM

v6() {
	ip -n "$LAB-$1" addr add "fd18::$2/64" dev eth0 nodad
}
# iface NAME CLUSTER ADDRESS PORT NUCLEUS
iface() {
	cat <<EOT
  - name: $LAB$1
    cluster: $2
    secret: "$SECRET"
    identity: $LABDIR/$1.key
    address: $3
    listen-port: $4
    heartbeat: 2
    peer-timeout: 15
    nuclei:
      - "$5"
EOT
}
head_conf() {
	cat <<EOT
control-socket: $LABDIR/$1.sock
metrics:
  listen: 127.0.0.1:9090
interfaces:
EOT
}
ping6_vip() {
	ip netns exec "$LAB-$1" ping -6 -c 1 -W 1 "$2"
}
ping4_vip() {
	ip netns exec "$LAB-$1" ping -c 1 -W 1 "$2"
}
endpoint() {
	lab_ctl "$1" -j show peers |
	    jq -r ".peers[] | select(.vip == \"$2\") | .endpoint"
}

lab_init
for i in 1 2 3 4; do
	case $i in 1) h=nuc ;; *) h=e$((i - 1)) ;; esac
	lab_host $h $i
	v6 $h $i
done
cat > "$LABDIR/nuc.conf" <<EOT
control-socket: $LABDIR/nuc.sock
metrics:
  listen: 127.0.0.1:9090
nucleus:
  listen: "[::]:51900"
  secret: "$SECRET"
  peer-timeout: 15
  identity: $LABDIR/nuc.nucleus.key
EOT
for n in 1 2; do
	{
		head_conf e$n
		iface e${n}a lab6 "fd77::$((n + 1))/64" 51820 "[fd18::1]:51900"
		iface e${n}b lab4 "10.78.0.$((n + 1))/24" 51821 "[fd18::1]:51900"
	} > "$LABDIR/e$n.conf"
done
{
	head_conf e3
	iface e3a lab6 "fd77::4/64" 51820 "198.18.0.1:51900"
} > "$LABDIR/e3.conf"
chmod 0600 "$LABDIR"/*.conf
lab_start nuc
lab_start e1
lab_start e2
lab_start e3

check "IPv6 VIP over IPv6 underlay: e1 reaches e2" wait_for 30 ping6_vip e1 fd77::3
check "and e2 reaches e1" wait_for 10 ping6_vip e2 fd77::2
check "IPv4 VIP over IPv6 underlay: e1 reaches e2" wait_for 30 ping4_vip e1 10.78.0.3
# Probing may answer over IPv4 first; an IPv6 pair of the same kind
# wins within the grace window (PROBE_GRACE_MS, 1 s), so let it settle.
ep_is() { [ "$(endpoint e1 "$1")" = "$2" ]; }
wait_for 5 ep_is fd77::3 "[fd18::3]:51820"
wait_for 5 ep_is 10.78.0.3 "[fd18::3]:51821"
ep=$(endpoint e1 fd77::3)
ok $([ "$ep" = "[fd18::3]:51820" ]; echo $?) "e2's endpoint is its IPv6 address ($ep)"
ep=$(endpoint e1 10.78.0.3)
ok $([ "$ep" = "[fd18::3]:51821" ]; echo $?) "and on the IPv4-VIP interface too ($ep)"
a=$(ip netns exec "$LAB-e1" wg show "${LAB}e1a" allowed-ips | awk '{print $2}' | sort | tr '\n' ' ')
ok $(echo "$a" | grep -q "fd77::3/128"; echo $?) "e2's allowed IP is its VIP/128 ($a)"

check "an IPv4 edge in the same cluster, same nucleus socket: e3 reaches e1" \
    wait_for 30 ping6_vip e3 fd77::2
# (WireGuard may roam to the address e3's handshakes come from later)
grep -q "peer fd77::4/128 at 198.18.0.4:51820" "$LABDIR/e1.log"
ok $? "signaling gave e1 e3's IPv4 address as its endpoint"
nuc_edges() {
	ip netns exec "$LAB-nuc" curl -sf http://127.0.0.1:9090/metrics |
	    sed -n 's/^omni_nucleus_edges \([0-9]*\)$/\1/p'
}
nuc_has_five() { [ "$(nuc_edges)" = 5 ]; }
# a sampled gauge: give it the sampling period to catch up
wait_for 10 nuc_has_five
n=$(nuc_edges)
ok $([ "$n" = 5 ]; echo $?) "the nucleus holds five edges in two clusters ($n)"
c=$(ip netns exec "$LAB-nuc" curl -sf http://127.0.0.1:9090/metrics | sed -n 's/^omni_nucleus_clusters \([0-9]*\)$/\1/p')
ok $([ "$c" = 2 ]; echo $?) "two clusters ($c)"

done_testing
