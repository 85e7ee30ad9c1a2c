#!/bin/sh
# wireguard-go's own output reaches omnid's log, line by line under the
# interface's name and without control characters: once omnid has
# daemonized, its stderr is gone, and a wireguard-go that fails must
# still say why.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
require_root
trap 'lab_cleanup' EXIT
trap 'exit 1' INT TERM

lab_init
lab_host e1 2
lab_edge_conf e1 2 1

# A wireguard-go that fails at once, saying why (with a control byte).
fake=$LABDIR/fake-wireguard-go
printf '#!/bin/sh\nprintf "cannot create TUN: no \\001 device\\\\n"\nprintf "half a line"\nexit 3\n' >"$fake"
chmod 0755 "$fake"
sed "1i wireguard-go: $fake" "$LABDIR/e1.conf" >"$LABDIR/fake.conf"
chmod 0600 "$LABDIR/fake.conf"
ip netns exec "$LAB-e1" timeout 20 "$OMNID" -d -f "$LABDIR/fake.conf" \
    >"$LABDIR/fake.log" 2>&1
rc=$?
ok $([ $rc -ne 0 ] && [ $rc -ne 124 ]; echo $?) "omnid refuses to start when wireguard-go fails (exit $rc)"
grep -q "${LAB}e1: wireguard-go: cannot create TUN: no ? device$" "$LABDIR/fake.log"
ok $? "its complaint is in omnid's log, control byte replaced"
grep -q "${LAB}e1: wireguard-go: half a line$" "$LABDIR/fake.log"
ok $? "an unfinished last line is logged too"
grep -q "exited with status 3 during startup" "$LABDIR/fake.log"
ok $? "and omnid says how it ended"
[ $(grep -c "wireguard-go:" "$LABDIR/fake.log") -eq 2 ] || sed 's/^/# /' "$LABDIR/fake.log"

# The real one, verbose: its start-up lines arrive while omnid runs.
ip netns exec "$LAB-e1" "$OMNID" -d -v -v -f "$LABDIR/e1.conf" \
    >"$LABDIR/e1.log" 2>&1 &
PID_e1=$!
LAB_PIDS="$LAB_PIDS $PID_e1"
check "wireguard-go's verbose output is logged under ${LAB}e1" \
    wait_for 15 grep -q "${LAB}e1: wireguard-go: .*UAPI listener started" \
    "$LABDIR/e1.log"
lab_stop e1
done_testing
