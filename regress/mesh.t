#!/bin/sh
# The demo topology: a nucleus and two edges in network namespaces
# build a WireGuard mesh; ping crosses it both ways; omnictl and the
# metrics endpoint report what is really there.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
lab_test
lab_mesh

check "edge1 reaches edge2's VIP through the tunnel" wait_for 30 ping_vip e1 3
check "edge2 reaches edge1's VIP through the tunnel" wait_for 10 ping_vip e2 2

json=$(lab_ctl e1 -j show peers)
n=$(echo "$json" | jq '.peers | length')
ok $([ "$n" = 1 ]; echo $?) "omnictl -j show peers on edge1 lists one peer (got $n)"
vip=$(echo "$json" | jq -r '.peers[0].vip')
ok $([ "$vip" = 10.77.0.3 ]; echo $?) "the peer is edge2's VIP (got $vip)"
ep=$(echo "$json" | jq -r '.peers[0].endpoint')
ok $([ "$ep" = 198.18.0.3:51820 ]; echo $?) "edge2's endpoint is its LAN address and WireGuard port (got $ep)"
key2=$(ip netns exec "$LAB-e2" wg show "${LAB}e2" public-key)
pk=$(echo "$json" | jq -r '.peers[0].public_key')
ok $([ "$pk" = "$key2" ]; echo $?) "the peer's public key is edge2's WireGuard key"
hs=$(echo "$json" | jq '.peers[0].latest_handshake')
ok $([ "$hs" -gt 0 ]; echo $?) "a handshake happened (latest_handshake $hs)"
rx=$(echo "$json" | jq '.peers[0].rx_bytes')
ok $([ "$rx" -gt 0 ]; echo $?) "bytes were received from the peer ($rx)"

# wg(8) reads wireguard-go's state: it must agree with omnictl.
wgpeers=$(ip netns exec "$LAB-e1" wg show "${LAB}e1" peers)
ok $([ "$wgpeers" = "$key2" ]; echo $?) "wg show on edge1 lists exactly edge2's key"
allowed=$(ip netns exec "$LAB-e1" wg show "${LAB}e1" allowed-ips | awk '{print $2}')
ok $([ "$allowed" = 10.77.0.3/32 ]; echo $?) "edge2's allowed IP is its VIP/32 (got $allowed)"
psk=$(ip netns exec "$LAB-e1" wg show "${LAB}e1" preshared-keys | awk '{print $2}')
psk2=$(ip netns exec "$LAB-e2" wg show "${LAB}e2" preshared-keys | awk '{print $2}')
ok $([ -n "$psk" ] && [ "$psk" != "(none)" ] && [ "$psk" = "$psk2" ]; echo $?) \
    "both ends use the same preshared key derived from the cluster secret"

iface=$(lab_ctl e1 -j show interface)
b=$(echo "$iface" | jq -r '.interfaces[0].backend')
ok $([ "$b" = userspace ]; echo $?) "show interface reports the userspace backend (got $b)"
addr=$(ip -n "$LAB-e1" -4 addr show dev "${LAB}e1" | awk '/inet /{print $2}')
ok $([ "$addr" = 10.77.0.2/24 ]; echo $?) "the interface carries the configured address (got $addr)"

text=$(lab_ctl e1 show peers)
echo "$text" | grep -q "10.77.0.3" ; ok $? "omnictl show peers (text) shows the peer"

check "metricsd on edge1 has its first snapshot" wait_for 10 metrics_up e1
wg_peers_one() {
	ip netns exec "$LAB-e1" curl -sf http://127.0.0.1:9090/metrics |
	    grep -q '^omni_wg_peers{.*} 1$'
}
wait_for 10 wg_peers_one
m=$(ip netns exec "$LAB-e1" curl -sf http://127.0.0.1:9090/metrics)
echo "$m" | grep -q '^omni_build_info{' ; ok $? "/metrics serves omni_build_info"
echo "$m" | grep -q '^omni_wg_peers{.*} 1$' ; ok $? "/metrics counts one WireGuard peer"
echo "$m" | grep -q '^omni_edge_registered{.*} 1$' ; ok $? "/metrics shows the edge registered"
h=$(ip netns exec "$LAB-e1" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9090/health)
ok $([ "$h" = 200 ]; echo $?) "/health answers 200 (got $h)"
m=$(ip netns exec "$LAB-nuc" curl -sf http://127.0.0.1:9090/metrics)
echo "$m" | grep -q '^omni_nucleus_edges.* 2$' ; ok $? "the nucleus counts two edges"

done_testing
