#!/bin/sh
# The NAT lab (issue 7): edges behind routers of several kinds, in
# namespaces, on a shared "internet" segment with the nucleus.  The
# topology and the router kinds are in regress/natlib.sh.
#
# (1) facts: what Linux NAT does, without omni, with socat and
#     conntrack: masquerade keeps the source port; a cone router
#     (masquerade + ct state filter) drops an unsolicited packet
#     before conntrack confirms it, so two edges sending at once
#     open a path; a plain masquerade router confirms an entry for
#     the peer's early packet and gives the edge's own packet to that
#     peer another port: punching through it fails for good;
#     "masquerade random" maps every flow to another port.
# (2) the matrix: for each pair of kinds, fresh namespaces, edge A
#     (registered, then 1 s for its STUN), then edge B.  One nucleus
#     serves every row, each row in a cluster of its own.  The path
#     is what omnictl -j show peers says on B about A.  Two times:
#       ttfp     B's omnid start -> the first echo reply from A's VIP
#                through the tunnel (B pings every 20 ms, ping -D)
#       connect  B's tunnel address up -> that reply.  This is what
#                NAT_TTFP_MS (default 1000) bounds: it holds B's
#                registration, learning A's candidates, probing and
#                the WireGuard handshake, but not omnid's own start
#                (children, wireguard-go: 0.7-2.5 s on a loaded
#                2-core machine, which says nothing about NATs).
#     What each row expects:
#       direct   connect < NAT_TTFP_MS, and omnictl shows path direct
#                over a host candidate: a public address of A (the
#                lab's internet, 198.18.0.0/24, is public to omni)
#       direct-lan  the same, over a private host candidate of A (its
#                10.N LAN address: both edges behind one router)
#       direct-nat  the same, over a reflexive or peer-reflexive
#                candidate of A (through its NAT)
#       none     no reply within NAT_NONE_WAIT s; omnictl must show
#                path none with a reason and no handshake
#       either   nothing is promised (it depends on which side's
#                packet reaches the other's router first); omnictl
#                must tell the truth: direct with a reply, none and a
#                reason without one
#     Why: none and cone never stand in the way of a coordinated
#     punch; a public edge is reached from behind any NAT (its peer
#     learns the mapping from the packets, peer-reflexive);
#     random-random cannot connect without a relay.  masq-masq is
#     either: the punches connect only when both leave their routers
#     before either reaches the other's (fact 5 shows the usual
#     order, the peer's packet first, failing for good).  On the
#     lab's microsecond links that is a race, and CI saw it won once.
#     Without a connection the reason must still name the cause.
# (3) roaming: a ping every 50 ms from A to B while B changes its
#     address; the longest gap between replies must stay under 2 s.
# The matrix is printed as TAP comments and, when every row ran,
# written to regress/nat-matrix.txt.  Debugging: NAT_ONLY="cone-same
# roam-cone" runs only those rows (and keeps the matrix file),
# NAT_HOLD=SECONDS keeps each row up before tearing it down,
# NAT_PCAP=1 (with KEEP_LOGS=1) captures each row's traffic.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
. "$TOP/regress/natlib.sh"
require_root
trap 'nat_cleanup' EXIT
trap 'exit 1' INT TERM

NAT_TTFP_MS=${NAT_TTFP_MS:-1000}
NAT_NONE_WAIT=${NAT_NONE_WAIT:-6}
T_START=$(date +%s)

missing=
for p in socat conntrack nft turnserver jq ping; do
	command -v "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "Bail out! missing:$missing (make deps installs them)"
	exit 1
fi

if ! nat_snapshot; then
	echo "Bail out! cannot copy the programs (make first)"
	exit 1
fi
nat_internet
lab_start nuc	# coturn and the nucleus come up while the facts run

# --- (1) facts ------------------------------------------------------------

nat_edge fp -				# a public host, 198.18.0.20
nat_router fm masq; nat_edge fe fm	# plain masquerade
nat_router fc cone; nat_edge ff fc	# cone
nat_router fd cone; nat_edge fg fd	# another cone
nat_router fr random; nat_edge fh fr	# symmetric
F=$LABDIR/facts
mkdir -p "$F"

# Masquerade keeps the source port (cone and plain alike).
nat_udp fe 40000 "$PUB_fp" 40010 "$F/x" hello
nat_udp ff 40000 "$PUB_fp" 40010 "$F/x" hello
p=$(nat_reply_dport fm "$ADDR_fe" 40000 "$PUB_fp")
ok $([ "$p" = 40000 ]; echo $?) "fact: masquerade keeps the source port 40000 (got ${p:-no entry})"
p=$(nat_reply_dport fc "$ADDR_ff" 40000 "$PUB_fp")
ok $([ "$p" = 40000 ]; echo $?) "fact: so does the cone router (got ${p:-no entry})"

# Plain masquerade: the peer's packet comes first.
nat_udp fp 40001 "$PUB_fm" 40001 "$F/x" early
ct=$(nat_ct fm --orig-src "$PUB_fp" --orig-port-src 40001 --orig-port-dst 40001)
echo "$ct" | sed 's/^/# masq router: /'
ok $([ -n "$ct" ]; echo $?) "fact: masquerade without a filter confirms a conntrack entry for the peer's early packet"
nat_udp fe 40001 "$PUB_fp" 40001 "$F/fe" e1 e2 e3 e4 e5 e6 e7 e8 &
bg=$!
nat_udp fp 40001 "$PUB_fm" 40001 "$F/fp" p1 p2 p3 p4 p5 p6 p7 p8
wait $bg
p=$(nat_reply_dport fm "$ADDR_fe" 40001 "$PUB_fp")
nat_ct fm --orig-src "$ADDR_fe" | sed 's/^/# masq router: /'
ok $([ -n "$p" ] && [ "$p" != 40001 ]; echo $?) "fact: the edge's own packet to that peer is remapped (port ${p:-none}, not 40001)"
ok $(! grep -q '^p' "$F/fe"; echo $?) "fact: the edge never gets the peer's packets to its port: punching fails for good (got: $(tr '\n' ' ' <"$F/fe"))"
ok $(grep -q '^e' "$F/fp"; echo $?) "fact: the public peer does get the edge's packets, from port $p"

# Cone: the early packet is dropped and leaves nothing behind.
nat_udp fp 40001 "$PUB_fc" 40001 "$F/x" early
ct=$(nat_ct fc --orig-src "$PUB_fp")
ok $([ -z "$ct" ]; echo $?) "fact: the cone router keeps no conntrack entry for the dropped early packet"
nat_udp ff 40001 "$PUB_fp" 40001 "$F/ff" f1 f2 f3 f4 f5 f6 f7 f8 &
bg=$!
nat_udp fp 40001 "$PUB_fc" 40001 "$F/fp" p1 p2 p3 p4 p5 p6 p7 p8
wait $bg
p=$(nat_reply_dport fc "$ADDR_ff" 40001 "$PUB_fp")
ok $([ "$p" = 40001 ]; echo $?) "fact: behind the cone the edge keeps its port (got ${p:-no entry})"
ok $(grep -q '^p' "$F/ff"; echo $?) "fact: and gets the peer's packets (got: $(tr '\n' ' ' <"$F/ff"))"

# Two cones, both sending at once: a path opens.
nat_udp ff 40002 "$PUB_fd" 40002 "$F/ff" f1 f2 f3 f4 f5 f6 f7 f8 &
bg=$!
nat_udp fg 40002 "$PUB_fc" 40002 "$F/fg" g1 g2 g3 g4 g5 g6 g7 g8
wait $bg
ok $(grep -q '^g' "$F/ff" && grep -q '^f' "$F/fg"; echo $?) \
    "fact: cone to cone, simultaneous sends open a path (ff got: $(tr '\n' ' ' <"$F/ff"); fg got: $(tr '\n' ' ' <"$F/fg"))"

# masquerade random: one port per destination.
nat_udp fh 40003 "$PUB_fp" 40003 "$F/x" r1
nat_udp fh 40003 198.18.0.5 40003 "$F/x" r2
p1=$(nat_reply_dport fr "$ADDR_fh" 40003 "$PUB_fp")
p2=$(nat_reply_dport fr "$ADDR_fh" 40003 198.18.0.5)
ok $([ -n "$p1" ] && [ -n "$p2" ] && [ "$p1" != "$p2" ]; echo $?) \
    "fact: masquerade random maps one source port to a port per destination ($p1, $p2)"

nat_del fp fm fe fc ff fd fg fr fh

# --- (2) the matrix ---------------------------------------------------------

MATRIX=$LABDIR/matrix
MFMT='%-14s %-10s %-7s %-11s %-14s %6s %6s %7s  %s\n'
printf "$MFMT" pair expect outcome path cand_kind probe connect ttfp reason \
    >"$MATRIX"
ROW=0
ROWS_RUN=0
check "coturn listens on 198.18.0.5:3478" wait_for 15 nat_turn_up
check "the nucleus listens on 198.18.0.1:51900" wait_for 15 nat_nuc_up
echo "# $(( $(date +%s) - T_START )) s for the facts"

# nat_side ROW SIDE KIND: builds one edge (named SIDE$ROW) and its
# routers; "same" puts the edge on the router of side a.
nat_side() {
	_e=$2$1
	case $3 in
	none)	nat_edge "$_e" - ;;
	cone|masq|random)
		nat_router "r$_e" "$3" && nat_edge "$_e" "r$_e" ;;
	double)	nat_router "o$_e" cone && nat_router "r$_e" cone "o$_e" &&
		    nat_edge "$_e" "r$_e" ;;
	same)	nat_edge "$_e" "ra$1" ;;
	esac
	NSS="$NSS $_e r$_e o$_e"
}

peer_json() {	# peer_json HOST VIP: that peer in HOST's show peers
	lab_ctl "$1" -j show peers 2>/dev/null |
	    jq -c ".peers[] | select(.vip == \"$2\")" 2>/dev/null
}
registered() {
	lab_ctl "$1" -j show nucleus 2>/dev/null |
	    jq -e '.nuclei[0].reachable' >/dev/null 2>&1
}
path_is() {	# path_is HOST VIP REGEX
	peer_json "$1" "$2" | jq -e ".path // \"\" | test(\"$3\")" >/dev/null 2>&1
}
path_expected() {	# path_expected HOST VIP EXPECT: the path a row expects
	case $3 in
	direct)	_q='.path == "direct" and .cand_kind == "host"' ;;
	*)	_q=".path == \"$3\"" ;;
	esac
	peer_json "$1" "$2" | jq -e "$_q" >/dev/null 2>&1
}
path_settled() {	# none, with the reason probing gave up
	peer_json "$1" "$2" |
	    jq -e '.path == "none" and (.path_reason // "") != ""' >/dev/null 2>&1
}
reason_is() {	# reason_is PAIR REASON: it names the cause the NATs point to
	case $1 in
	masq-masq) _want='unfiltered NAT' ;;
	random-random) _want='both NATs map per destination' ;;
	*) return 0 ;;
	esac
	ok $(echo "$2" | grep -q "$_want"; echo $?) \
	    "$1: the reason says '$_want'"
}
ms_between() {	# ms_between T0 T1 (unix times with fractions)
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'
}

# nat_up KIND_A KIND_B: a fresh row: topology, edge A
# (registered, then 1 s for its STUN), then edge B.  T0 is when B's
# omnid was started.
nat_up() {
	ROW=$((ROW + 1))
	a=a$ROW b=b$ROW
	NSS=
	nat_side $ROW a "$1"
	nat_side $ROW b "$2"
	nat_edge_conf "$a" 2
	nat_edge_conf "$b" 3
	# one nucleus for every row; a cluster per row keeps them apart
	sed -i "s/^    cluster: lab$/    cluster: row$ROW/" \
	    "$LABDIR/$a.conf" "$LABDIR/$b.conf"
	TB=$(date +%s.%N)
	if [ -n "$NAT_PCAP" ]; then	# debugging: KEEP_LOGS=1 NAT_PCAP=1
		for _n in lan "ra$ROW" "rb$ROW"; do
			ip netns exec "$LAB-$_n" true 2>/dev/null || continue
			ip netns exec "$LAB-$_n" timeout 25 tcpdump -ni any \
			    -w "$LABDIR/row$ROW-$_n.pcap" 2>/dev/null &
			nat_bg $!
		done
		sleep 0.5
	fi
	lab_start "$a"
	wait_for 15 registered "$a" || echo "# row $ROW: edge A never registered"
	TA=$(date +%s.%N)
	sleep 1
	T0=$(date +%s.%N)
	lab_start "$b"
}

nat_down() {
	[ -z "$NAT_HOLD" ] || { echo "# holding row $ROW: LAB=$LAB"; sleep "$NAT_HOLD"; }
	# both edges at once, then reap them one by one
	for _h in "$b" "$a"; do
		eval "_p=\$PID_$_h"
		[ -z "$_p" ] || kill -TERM "$_p" 2>/dev/null
	done
	lab_stop "$b"
	lab_stop "$a"
	nat_del $NSS
}

# nat_pair KIND_A KIND_B EXPECT
#   ttfp     B's omnid start -> first echo reply from A's VIP (ms)
#   connect  B's tunnel address up (the first moment a ping can leave)
#            -> that reply: B's registration, learning A, probing and
#            the handshake; what NAT_TTFP_MS bounds
nat_pair() {
	pair=$1-$2 expect=$3
	ROW=$((ROW + 1))
	if [ -n "$NAT_ONLY" ] && ! echo " $NAT_ONLY " | grep -q " $pair "; then
		return 0
	fi
	ROW=$((ROW - 1))
	ROWS_RUN=$((ROWS_RUN + 1))
	trow=$(date +%s.%N)
	nat_up "$1" "$2"
	win=8
	case $expect in direct*) ;; *) win=$NAT_NONE_WAIT ;; esac
	# ping from B every 20 ms as soon as its interface has its address
	ip netns exec "$LAB-$b" sh -c "
		i=0
		while ! ip -4 addr show dev '$LAB$b' 2>/dev/null | grep -q inet; do
			i=\$((i + 1)); [ \$i -lt 500 ] || exit 1
			sleep 0.01
		done
		date +%s.%N
		exec ping -D -n -c 1 -i 0.02 -w $win 10.77.0.2" \
	    >"$LABDIR/$b.ping" 2>&1
	troute=$(sed -n '1{/^[0-9.]*$/p}' "$LABDIR/$b.ping")
	trep=$(sed -n 's/^\[\([0-9.]*\)\] [0-9]* bytes from.*/\1/p' \
	    "$LABDIR/$b.ping" | head -n 1)
	ttfp=-1 conn=-1
	if [ -n "$trep" ]; then
		ttfp=$(ms_between "$T0" "$trep")
		[ -z "$troute" ] || conn=$(ms_between "$troute" "$trep")
	fi
	# what omnictl says once the verdict is in
	if [ "$ttfp" -ge 0 ]; then
		case $expect in
		direct*) wait_for 5 path_expected "$b" 10.77.0.2 "$expect" ;;
		*) wait_for 5 path_is "$b" 10.77.0.2 '^direct' ;;
		esac || true
		outcome=direct
	else
		wait_for 8 path_settled "$b" 10.77.0.2 || true
		outcome=none
	fi
	j=$(peer_json "$b" 10.77.0.2)
	ja=$(peer_json "$a" 10.77.0.3)
	path=$(echo "$j" | jq -r '.path // "-"')
	kind=$(echo "$j" | jq -r '.cand_kind // "-"')
	pms=$(echo "$j" | jq -r 'if .probe_ms == null then "-" else .probe_ms end')
	reason=$(echo "$j" | jq -r '.path_reason // ""')
	hs=$(echo "$j" | jq -r '.latest_handshake // .last_handshake // 0')
	[ -n "$j" ] || path="(no-peer)"
	echo "# $pair: B's address up after $( [ -n "$troute" ] && ms_between "$T0" "$troute" || echo -) ms, first reply after ${ttfp} ms (connect ${conn} ms)"
	echo "# $pair B->A: ${j:-nothing}"
	echo "# $pair A->B: ${ja:-nothing}"
	printf "$MFMT" "$pair" "$expect" "$outcome" "$path" "$kind" "$pms" \
	    "$conn" "$ttfp" "$reason" >>"$MATRIX"

	case $expect in
	direct|direct-lan|direct-nat)
		ok $([ "$conn" -ge 0 ] && [ "$conn" -lt "$NAT_TTFP_MS" ]; echo $?) \
		    "$pair: a ping crosses the tunnel within $NAT_TTFP_MS ms of B's tunnel address (connect ${conn} ms, ${ttfp} ms from B's start)"
		# direct: over A's (public) host candidate, not merely
		# a handshake without probe information
		case $expect in
		direct-nat) want='reflexive|peer-reflexive' ;;
		*)	want=host ;;
		esac
		ok $([ "$path" = "$expect" ] &&
		    echo "$kind" | grep -Eqx "$want"; echo $?) \
		    "$pair: omnictl shows path $expect, candidate $want (got $path, cand $kind)"
		;;
	none)
		ok $([ "$ttfp" -lt 0 ]; echo $?) \
		    "$pair: no packet crosses within ${win} s (ttfp $ttfp)"
		ok $([ "$path" = none ] && [ -n "$reason" ] && [ "$hs" = 0 ]; echo $?) \
		    "$pair: omnictl shows path none, a reason and no handshake (path $path, reason '${reason}', handshake $hs)"
		reason_is "$pair" "$reason"
		;;
	either)
		if [ "$ttfp" -ge 0 ]; then
			ok $(echo "$path" | grep -Eq '^direct'; echo $?) \
			    "$pair: connected, and omnictl says direct (got $path)"
		else
			ok $([ "$path" = none ] && [ -n "$reason" ]; echo $?) \
			    "$pair: not connected, and omnictl says none with a reason (path $path, reason '${reason}')"
			reason_is "$pair" "$reason"
		fi
		;;
	esac
	TV=$(date +%s.%N)
	nat_down
	echo "# $pair: row took $(ms_between "$trow" "$(date +%s.%N)") ms: build $(ms_between "$trow" "$TB") ms, A up $(ms_between "$TB" "$TA") ms, B to verdict $(ms_between "$T0" "$TV") ms, down $(ms_between "$TV" "$(date +%s.%N)") ms"
}

# A public edge (none) is reached at its host candidate, a public
# address: direct.  Two edges behind NATs meet through their
# mappings: direct-nat.  Two edges behind one router reach each
# other's 10.N LAN address: direct-lan.
nat_pair none none direct
nat_pair none cone direct
nat_pair cone cone direct-nat
nat_pair cone double direct-nat
nat_pair double double direct-nat
nat_pair cone same direct-lan
nat_pair none masq direct
nat_pair none random direct
nat_pair cone masq either
nat_pair cone random either
nat_pair masq masq either
nat_pair random random none

echo "# NAT matrix, $(date -u +%Y-%m-%dT%H:%M:%SZ), kernel $(uname -r), $(nproc) cpus"
echo "# connect: B's tunnel address up -> first reply from A's VIP, ms (-1: none)"
echo "# ttfp: B's omnid start -> that reply, ms; probe: omnictl's probe_ms"
sed 's/^/# /' "$MATRIX"

# --- (3) roaming --------------------------------------------------------------

# nat_roam KIND: edges A and B of KIND (none: on the internet; cone:
# each behind its cone router).  A pings B every 50 ms; after 2 s B
# changes its address: none: another internet address on the same
# link; cone: B's link to its router goes down and B comes up on the
# LAN of another cone router (a new LAN address and a new public
# one).  The longest gap between A's echo replies, counting from the
# last reply before the change to the end of the run when none comes
# after it, must stay under 2 s.
nat_roam() {
	ROW=$((ROW + 1))
	if [ -n "$NAT_ONLY" ] && ! echo " $NAT_ONLY " | grep -q " roam-$1 "; then
		return 0
	fi
	ROW=$((ROW - 1))
	ROWS_RUN=$((ROWS_RUN + 1))
	trow=$(date +%s)
	nat_up "$1" "$1"
	[ "$1" = cone ] && nat_router "rc$ROW" cone && NSS="$NSS rc$ROW"
	if ! wait_for 10 ip netns exec "$LAB-$b" ping -c 1 -W 0.5 10.77.0.2; then
		ok 1 "roam-$1: A and B connect before the roam"
		nat_down
		return
	fi
	wait_for 5 ip netns exec "$LAB-$a" ping -c 1 -W 0.5 10.77.0.3
	ip netns exec "$LAB-$a" ping -D -n -i 0.05 -W 0.5 -w 8 10.77.0.3 \
	    >"$LABDIR/$b.roam" 2>&1 &
	pp=$!
	nat_bg $pp
	sleep 2
	tc=$(date +%s.%N)
	eval "old=\$ADDR_$b"
	if [ "$1" = none ]; then
		new=198.18.0.$NAT_PUB
		NAT_PUB=$((NAT_PUB + 1))
		# old first: deleting a primary address takes its
		# secondaries with it (promote_secondaries is off)
		ip -n "$LAB-$b" addr del "$old/24" dev eth0
		ip -n "$LAB-$b" addr add "$new/24" dev eth0
	else
		ip -n "$LAB-$b" link set eth0 down
		ip -n "$LAB-$b" addr flush dev eth0
		nat_attach "$b" eth1 "rc$ROW"
		eval "new=\$ADDR_$b"
	fi
	wait $pp
	te=$(date +%s.%N)
	gap=$(sed -n 's/^\[\([0-9.]*\)\] [0-9]* bytes from.*/\1/p' \
	    "$LABDIR/$b.roam" | awk -v tc="$tc" -v te="$te" '
		{ if (n++ && $1 - p > g) g = $1 - p; p = $1; if ($1 > tc + 0.1) after++ }
		END {
			if (n) { if (te - p > g) g = te - p } else g = te - tc
			printf "%d %d %d", g * 1000, n, after
		}')
	set -- "$1" $gap
	j=$(peer_json "$a" 10.77.0.3)
	echo "# roam-$1: B $old -> $new; $3 replies, $4 after the change, longest gap $2 ms"
	echo "# roam-$1 A->B after: ${j:-nothing}"
	ok $([ "$4" -gt 0 ] && [ "$2" -lt 2000 ]; echo $?) \
	    "roam-$1: the ping recovers after B's address change, longest gap ${2} ms < 2000"
	ep=$(echo "$j" | jq -r '.endpoint // ""')
	printf "$MFMT" "roam-$1" "<2s" "$([ "$4" -gt 0 ] && echo direct || echo none)" \
	    "$(echo "$j" | jq -r '.path // "-"')" "$(echo "$j" | jq -r '.cand_kind // "-"')" \
	    - - "gap=$2" "B $old -> $new, A's endpoint for B now $ep" >>"$MATRIX"
	nat_down
	echo "# roam-$1: row took $(( $(date +%s) - trow )) s"
}

nat_roam none
nat_roam cone

echo "# roaming (gap: the longest time between two of A's echo replies, ms)"
tail -n 2 "$MATRIX" | sed 's/^/# /'

elapsed=$(( $(date +%s) - T_START ))
echo "# nat.t took $elapsed s"
if [ -z "$NAT_ONLY" ]; then
	{
		echo "# NAT matrix written by regress/nat.t; $(date -u +%Y-%m-%dT%H:%M:%SZ), kernel $(uname -r), $(nproc) cpus, $elapsed s"
		echo "# expect: direct, direct-lan, direct-nat (connect < $NAT_TTFP_MS ms and exactly that path: direct over a public host candidate, direct-lan over a private one, direct-nat over a mapping), none (no path, a reason), either (omnictl must agree with the data plane)"
		echo "# connect: B's tunnel address up -> first echo reply from A's VIP, ms; ttfp: B's omnid start -> that reply; -1: none"
		echo "# probe: omnictl's probe_ms; path, cand_kind, reason: omnictl -j show peers on B about A"
		echo "# roam rows: the longest gap between echo replies while B's address changes"
		echo "# failed: $T_FAILED of the $T_N tests before done_testing"
		cat "$MATRIX"
	} >"$TOP/regress/nat-matrix.txt"
fi

done_testing
