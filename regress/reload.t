#!/bin/sh
# Reload by SIGHUP and by omnictl: an invalid configuration leaves the
# running one untouched and says why; a valid one is applied without
# dropping the tunnels that did not change.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
lab_test
lab_mesh
check "mesh up" wait_for 30 ping_vip e1 3

cp "$LABDIR/e1.conf" "$LABDIR/e1.good"
ip netns exec "$LAB-e1" ping -q -c 60 -i 0.1 -W 1 10.77.0.3 >"$LABDIR/ping" 2>&1 &
pp=$!

# A broken file: omnictl reload reports the error with its position.
sed -i 's/listen-port: 51820/listen-port: banana/' "$LABDIR/e1.conf"
out=$(lab_ctl e1 reload 2>&1)
rc=$?
ok $([ $rc -ne 0 ]; echo $?) "omnictl reload fails on an invalid config (exit $rc)"
echo "$out" | grep -q "e1.conf:[0-9]*:[0-9]*: .*listen-port"
ok $? "the error names file, line, column and key: $out"
check "the old configuration still runs" ping_vip e1 3

# SIGHUP with the broken file: logged, nothing changes.
eval "kill -HUP \$PID_e1"
sleep 1
grep -q "reload failed, keeping the running configuration" "$LABDIR/e1.log"
ok $? "SIGHUP with an invalid config is refused and logged"
check "the tunnel survives the refused reload" ping_vip e1 3

# A valid change (heartbeat and keepalive): applied in place, the
# tunnel untouched.
sed 's/heartbeat: 2/heartbeat: 3/; s/listen-port: 51820/listen-port: 51820\n    keepalive: 15/' \
    "$LABDIR/e1.good" > "$LABDIR/e1.conf"
out=$(lab_ctl e1 reload 2>&1)
ok $? "omnictl reload of a valid config succeeds: $out"
ip netns exec "$LAB-e1" wg show "${LAB}e1" persistent-keepalive | grep -q '15$'
ok $? "the new keepalive reached WireGuard"
grep -q "configuration updated in place" "$LABDIR/e1.log"
ok $? "the interface was updated in place, not rebuilt"
wait $pp
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$LABDIR/ping")
ok $([ "$loss" = 0 ]; echo $?) "no ping lost across the reloads (loss $loss%)"

metric() {
	ip netns exec "$LAB-e1" curl -sf http://127.0.0.1:9090/metrics |
	    grep -q "^omni_config_reloads_total{result=\"$1\"} $2\$"
}
check "two failed reloads counted" wait_for 5 metric failed 2
check "one successful reload counted" wait_for 5 metric ok 1

# Adding an interface, a nucleus role and a nucleus address, then
# removing them again, while a ping runs through the tunnel that
# stays: it loses nothing.
cp "$LABDIR/e1.conf" "$LABDIR/e1.base"
{
	# e1 serves as a nucleus too (as nuc does, on its own address).
	sed -n '/^nucleus:/,$p' "$LABDIR/nuc.conf" |
	    sed "s/198\.18\.0\.1:/198.18.0.2:/; s|/nuc\.|/e1.|"
	# The existing interface gets e1's nucleus as a second one, and
	# a new interface in another cluster signals through it alone.
	sed 's|^      - 198\.18\.0\.1:51900$|&\n      - 198.18.0.2:51900|' \
	    "$LABDIR/e1.base"
	cat <<EOT
  - name: ${LAB}e1b
    cluster: lab2
    secret: "$SECRET"
    identity: $LABDIR/e1b.key
    address: 10.88.0.2/24
    listen-port: 51821
    heartbeat: 2
    nuclei:
      - 198.18.0.2:51900
EOT
} > "$LABDIR/e1.more"
chmod 0600 "$LABDIR/e1.more"
ip netns exec "$LAB-e1" ping -q -c 120 -i 0.1 -W 1 10.77.0.3 >"$LABDIR/ping2" 2>&1 &
pp=$!
sleep 1
cp "$LABDIR/e1.more" "$LABDIR/e1.conf"
out=$(lab_ctl e1 reload 2>&1)
ok $? "reload adding an interface, a nucleus and a nucleus address: $out"
n=$(lab_ctl e1 -j show interface | jq '.interfaces | length')
ok $([ "$n" = 2 ]; echo $?) "show interface lists the new interface (got $n)"
nn=$(lab_ctl e1 -j show interface | jq -r ".interfaces[] | select(.name == \"${LAB}e1\") | .nuclei | length")
ok $([ "$nn" = 2 ]; echo $?) "the existing interface has two nuclei now (got $nn)"
check "the new interface exists" ip -n "$LAB-e1" link show "${LAB}e1b"
ip -n "$LAB-e1" -4 addr show dev "${LAB}e1b" | grep -q "10.88.0.2/24"
ok $? "the new interface has its address"
nucleus_up() {
	ip netns exec "$LAB-e1" ss -Hlun "sport = :51900" | grep -q 51900
}
check "e1 serves as a nucleus on UDP 51900" wait_for 5 nucleus_up
sleep 2
cp "$LABDIR/e1.base" "$LABDIR/e1.conf"
eval "kill -HUP \$PID_e1"
gone() {
	! ip -n "$LAB-e1" link show "${LAB}e1b" >/dev/null 2>&1 &&
	    ! nucleus_up
}
check "SIGHUP with the old file removes the interface and the nucleus" \
    wait_for 10 gone
nn=$(lab_ctl e1 -j show interface | jq '.interfaces[0].nuclei | length')
ok $([ "$nn" = 1 ]; echo $?) "the nucleus address is gone again (got $nn)"
wait $pp
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$LABDIR/ping2")
ok $([ "$loss" = 0 ]; echo $?) \
    "no ping lost while interfaces and nuclei came and went (loss $loss%)"

done_testing
