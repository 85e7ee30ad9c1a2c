#!/bin/sh
# The demo topology with every omni process under valgrind's memcheck:
# omnid and, through --trace-children, the config parser, signald,
# wgctld and metricsd (wireguard-go, a Go program, is skipped).  The
# mesh must come up, shut down cleanly, and every process must end
# with valgrind's "ERROR SUMMARY: 0 errors".
#
# Under valgrind the children run without their seccomp filter
# (valgrind does not implement seccomp(2); see OMNI_UNDER_VALGRIND in
# common/proc.h); chroot, the uid drop, no_new_privs and Landlock stay.
#
# valgrind cannot run a make SANITIZE=1 build (ASan and valgrind do
# not mix): then this test builds a plain copy of the programs first.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
lab_test
trap 'lab_cleanup; [ -n "$PLAIN" ] && rm -rf "$PLAIN"' EXIT

PLAIN=
if nm "$OMNID" 2>/dev/null | grep -q __asan_init; then
	PLAIN=$(mktemp -d /tmp/omni-valgrind.XXXXXX)
	# Sources as the tree has them; without objects all is rebuilt.
	(cd "$TOP" && tar cf - --exclude=.git --exclude='*.o' \
	    --exclude='*.a' --exclude='*.d' --exclude=.build-flags . |
	    tar xf - -C "$PLAIN")
	if ! env -u MAKEFLAGS -u MAKELEVEL make -s -C "$PLAIN" SANITIZE= -j2 \
	    parent/omnid signald/signald \
	    wgctld/wgctld metricsd/metricsd >"$PLAIN/build.log" 2>&1; then
		echo "Bail out! a plain build for valgrind failed"
		sed 's/^/# /' "$PLAIN/build.log" | tail -20
		exit 1
	fi
	OMNID=$PLAIN/parent/omnid
fi

VALGRIND="valgrind --tool=memcheck --trace-children=yes \
    --trace-children-skip=*wireguard-go* --child-silent-after-fork=yes \
    --track-origins=yes --num-callers=30"

# vg_start HOST: lab_start, under valgrind; one log per process
vg_start() {
	ip netns exec "$LAB-$1" $VALGRIND --log-file="$LABDIR/vg.$1.%p" \
	    "$OMNID" -d -f "$LABDIR/$1.conf" >"$LABDIR/$1.log" 2>&1 &
	eval "PID_$1=$!"
	LAB_PIDS="$LAB_PIDS $!"
}

lab_init
lab_host nuc 1
lab_host e1 2
lab_host e2 3
lab_nucleus_conf nuc 1
lab_edge_conf e1 2 1
lab_edge_conf e2 3 1
vg_start nuc
vg_start e1
vg_start e2

# 20-50 times slower: generous waits, the protocol's retries do the rest.
check "edge1 reaches edge2's VIP under valgrind" wait_for 240 ping_vip e1 3
check "edge2 reaches edge1's VIP under valgrind" wait_for 60 ping_vip e2 2
check "omnictl show peers answers under valgrind" \
    wait_for 30 lab_ctl e1 show peers

# Clean shutdown: SIGTERM, and omnid exits by itself with status 0.
for h in nuc e1 e2; do
	eval "pid=\$PID_$h"
	kill -TERM "$pid"
done
for h in nuc e1 e2; do
	eval "pid=\$PID_$h"
	n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 600 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	wait "$pid"
	rc=$?
	ok $rc "$h: omnid under valgrind exits with status 0 on SIGTERM (got $rc)"
	eval "PID_$h="
done

! cat "$LABDIR"/*.log | grep -E "\((pid [0-9]+)\) (died|exited)"
ok $? "no child died or was restarted"

# One log per process valgrind followed; each must have ended with
# a summary (a process killed before it could say has none).
for h in nuc e1 e2; do
	for prog in "omnid -d" "omnid -P config" signald wgctld metricsd; do
		logs=$(grep -l "Command: [^ ]*/$prog" "$LABDIR"/vg.$h.* \
		    2>/dev/null)
		ok $([ -n "$logs" ]; echo $?) "$h: $prog ran under valgrind"
		[ -n "$logs" ] || continue
		bad=0
		for f in $logs; do
			if ! grep -q "ERROR SUMMARY: 0 errors" "$f"; then
				bad=1
				echo "# ---- $f ----"
				sed 's/^/# /' "$f" | head -n 80
			fi
		done
		ok $bad "$h: $prog: valgrind reports 0 errors ($(echo $logs | wc -w) processes)"
	done
done

done_testing
