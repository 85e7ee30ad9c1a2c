#!/bin/sh
# The control sockets: who may do what (file modes, SO_PEERCRED, the
# read-only socket), and that no client, however slow or hostile, can
# stall wgctld or lock the administrator out for good.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
lab_test
HOGS=
trap 'for p in $HOGS; do kill $p 2>/dev/null; done; lab_cleanup' EXIT
lab_mesh
check "mesh up" wait_for 30 ping_vip e1 3
# Let an unprivileged user reach the sockets in the lab directory.
chmod 0711 "$LABDIR"
RW=$LABDIR/e1.sock
RO=$LABDIR/e1.rsock

# as_nobody COMMAND...: in e1's namespace as uid/gid 65534
as_nobody() {
	ip netns exec "$LAB-e1" setpriv --reuid=65534 --regid=65534 \
	    --clear-groups "$@"
}
mode() { stat -c %a "$1"; }
# jqt JSON FILTER: true when JSON is there and the filter holds (jq 1.6
# -e alone succeeds on empty input)
jqt() {
	[ -n "$1" ] && printf '%s\n' "$1" | jq -e "$2" >/dev/null 2>&1
}

ok $([ "$(mode "$RW")" = 660 ]; echo $?) "the control socket is 0660 ($(mode "$RW"))"
ok $([ "$(mode "$RO")" = 666 ]; echo $?) "the read-only socket is 0666 ($(mode "$RO"))"

# The read-only socket: every show, nothing else.
for c in "show peers" "show interface" "show nucleus" "show status"; do
	out=$(as_nobody "$OMNICTL" -s "$RO" -j $c 2>&1)
	jqt "$out" 'type == "object"'
	ok $? "nobody: $c on the read-only socket answers JSON"
done
out=$(as_nobody "$OMNICTL" -s "$RO" reload 2>&1)
rc=$?
ok $([ $rc -ne 0 ] && echo "$out" | grep -q "permission denied: read-only"; echo $?) \
    "reload on the read-only socket is refused: $out"
out=$(lab_ctl e1 -s "$RO" log verbose 2>&1)
ok $([ $? -ne 0 ] && echo "$out" | grep -q "permission denied"; echo $?) \
    "even root may not change the log level on it: $out"
out=$(as_nobody "$OMNICTL" -s "$RW" show status 2>&1)
ok $([ $? -ne 0 ] && echo "$out" | grep -q "Permission denied"; echo $?) \
    "nobody cannot connect to the control socket: $out"

# SO_PEERCRED: a non-root client that gets through the file mode
# (here: the mode opened up) still may not change anything.
chmod 0666 "$RW"
out=$(as_nobody "$OMNICTL" -s "$RW" reload 2>&1)
ok $([ $? -ne 0 ] && echo "$out" | grep -q "uid 65534 is not root"; echo $?) \
    "SO_PEERCRED: reload by uid 65534 refused: $out"
out=$(as_nobody "$OMNICTL" -s "$RW" -j show peers 2>&1)
ok $(jqt "$out" '.peers | length == 1'; echo $?) \
    "... while show still works for it"
chmod 0660 "$RW"
out=$(lab_ctl e1 log verbose 2>&1)
ok $? "root changes the log level: $out"
lab_ctl e1 log brief >/dev/null 2>&1

# Hostile clients.  The message type numbers come from omni.h.
cat > "$LABDIR/types.c" <<EOT
#include <stdio.h>
#include "omni.h"
int main(void) { printf("%d %d\n", IMSG_CTL_SHOW_IFACE, IMSG_CTL_RELOAD); return 0; }
EOT
cc -I"$TOP/common" -o "$LABDIR/types" "$LABDIR/types.c"
set -- $("$LABDIR/types")
T_IFACE=$1
wpid=$(child_pid e1 wgctld)

# client MODE SOCKET TYPE: one hostile client, in perl
cat > "$LABDIR/client.pl" <<'EOT'
use IO::Socket::UNIX;
use Socket;
# wgctld may hang up while we still write: that is the point.
$SIG{PIPE} = 'IGNORE';
my ($mode, $path, $t) = @ARGV;
my $hdr = sub { pack("LLLLL", $_[0], $_[1], 0, $$, 0) };
if ($mode eq "hog") {
	# Many connections that never say anything.
	my @s;
	for (1 .. 40) {
		my $c = IO::Socket::UNIX->new(Peer => $path,
		    Type => SOCK_STREAM) or last;
		push @s, $c;
	}
	sleep 15;
	exit 0;
}
my $c = IO::Socket::UNIX->new(Peer => $path, Type => SOCK_STREAM)
    or die "connect: $!";
if ($mode eq "garbage") {
	syswrite($c, join("", map { chr(int(rand(256))) } 1 .. 65536));
} elsif ($mode eq "huge") {
	# A header announcing more than any frame may hold.
	syswrite($c, $hdr->($t, 1 << 30));
} elsif ($mode eq "unknown") {
	syswrite($c, $hdr->(9999, 0));
} elsif ($mode eq "flood") {
	# Ask and ask, never read: the answers pile up.
	$c->blocking(0);
	my $req = $hdr->($t, 0) x 1000;
	for (1 .. 200) { syswrite($c, $req); }
	sleep 3;
}
sleep 1;
# Did wgctld hang up?  Reading sees the end (or an error) if so.
$c->blocking(1);
my $buf;
1 while (sysread($c, $buf, 65536));
print "closed\n";
EOT
client() {
	timeout "$1" ip netns exec "$LAB-e1" perl "$LABDIR/client.pl" "$2" \
	    "$3" "$T_IFACE"
}
status_ok() { jqt "$(lab_ctl e1 -j show peers 2>/dev/null)" '.peers | length == 1'; }

for m in garbage huge unknown; do
	out=$(client 20 $m "$RW" 2>&1)
	ok $([ "$out" = closed ]; echo $?) "a client sending $m is disconnected ($out)"
	check "... and wgctld answers others" status_ok
done
out=$(client 30 flood "$RW" 2>&1)
ok $([ "$out" = closed ]; echo $?) "a client flooding requests without reading is dropped ($out)"
check "... and wgctld answers others" status_ok

# Idle connections fill the control socket's slots, but not the
# read-only socket's, and they are dropped after 10 s.
client 20 hog "$RW" & HOGS="$HOGS $!"
sleep 2
out=$(lab_ctl e1 show status 2>&1)
ok $([ $? -ne 0 ]; echo $?) "40 idle clients fill the control socket: $out"
out=$(as_nobody "$OMNICTL" -s "$RO" -j show peers 2>&1)
ok $(jqt "$out" '.peers | length == 1'; echo $?) \
    "the read-only socket still answers"
check "idle clients are dropped, the control socket answers again" \
    wait_for 15 status_ok
grep -q "idle for 10 s, dropped" "$LABDIR/e1.log"
ok $? "the idle drop is logged"

ok $([ "$(child_pid e1 wgctld)" = "$wpid" ]; echo $?) \
    "wgctld survived all of it (pid $wpid)"
done_testing
