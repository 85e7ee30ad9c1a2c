#!/bin/sh
# The original's quick-start flags instead of a config file: checked
# the same way as a file (the sandboxed parser sees a generated one),
# and a mesh built only from flags works.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
require_root
trap 'lab_cleanup' EXIT
trap 'exit 1' INT TERM

out=$("$OMNID" -n --mode nucleus --secret short 2>&1)
ok $([ $? -eq 1 ] && echo "$out" | grep -q "at least 16 characters"; echo $?) "--secret refuses fewer than 16 characters: $out"
out=$("$OMNID" -n --nucleus 198.18.0.1:51900 --cluster lab --secret "$SECRET" --vip 10.77.0.9 --cipher aesgcm 2>&1)
ok $([ $? -eq 1 ] && echo "$out" | grep -q "cipher suite is fixed"; echo $?) "--cipher aesgcm is refused: $out"
out=$("$OMNID" -n --nucleus 198.18.0.1:51900 --cluster lab --secret "$SECRET" --vip 10.77.0.9 --cipher chachapoly 2>/dev/null)
ok $? "--cipher chachapoly is accepted"
echo "$out" | grep -q "address: 10.77.0.9/24"
ok $? "a bare --vip gets the /24 its cluster shares"
echo "$out" | grep -q "198.18.0.1:51900"
ok $? "--nucleus is the interface's nucleus"
out=$("$OMNID" -n --mode nucleus --port 51999 --secret "$SECRET" 2>/dev/null)
echo "$out" | grep -q "listen: 0.0.0.0:51999"
ok $? "--mode nucleus --port sets the nucleus port"
out=$("$OMNID" -n --nucleus 198.18.0.1 --cluster 'bad name!' --secret "$SECRET" --vip 10.77.0.9 2>&1)
ok $([ $? -eq 1 ] && echo "$out" | grep -q "^omnid: command line:[0-9]*:[0-9]*: cluster"; echo $?) "bad values are reported by the parser: $out"
out=$("$OMNID" -n -f /etc/omni.conf --mode nucleus --secret "$SECRET" 2>&1)
ok $([ $? -eq 1 ]; echo $?) "-f and quick-start flags exclude each other"

# A live mesh from flags alone.
lab_init
lab_host nuc 1
lab_host e1 2
lab_host e2 3
qs_start() {
	h=$1; shift
	ip netns exec "$LAB-$h" "$OMNID" -d -s "$LABDIR/$h.sock" "$@" \
	    >"$LABDIR/$h.log" 2>&1 &
	eval "PID_$h=$!"
}
qs_start nuc --mode nucleus --port 51900 --secret "$SECRET"
qs_start e1 --nucleus 198.18.0.1:51900 --cluster lab --secret "$SECRET" \
    --vip 10.77.0.2 --port 51820 --interface "${LAB}e1" --identity "$LABDIR/e1.key"
qs_start e2 --nucleus 198.18.0.1:51900 --cluster lab --secret "$SECRET" \
    --vip 10.77.0.3 --interface "${LAB}e2" --identity "$LABDIR/e2.key"
check "a mesh started from flags carries ping" wait_for 30 ping_vip e1 3
check "and back" wait_for 10 ping_vip e2 2
eval "kill -HUP \$PID_e1"
sleep 1
grep -q "configuration reloaded" "$LABDIR/e1.log"
ok $? "SIGHUP re-reads the command-line configuration"
check "the tunnel survives it" ping_vip e1 3

done_testing
