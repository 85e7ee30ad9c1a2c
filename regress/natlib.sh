# The NAT lab (issue 7), on top of lib.sh's lab.
#
# lib.sh's "lan" namespace holds the bridge br0: here it is the
# internet, 198.18.0.0/24 (RFC 2544 benchmark space, which omni counts
# as public: a path to an edge's address there shows as direct, one
# to a router LAN's 10.N address as direct-lan).  The nucleus is
# 198.18.0.1, coturn (a second STUN server, so that an edge can
# compare two mappings) is 198.18.0.5.  Edges sit either straight on
# the internet (kind none) or on the LAN of a router namespace:
#
#   edge --eth0-- [lan bridge  router  wan] --br0-- internet
#
# A router NAME is the namespace $LAB-NAME with a bridge "lan"
# (10.N.0.1/24, N unique per router) and a link "wan": on the
# internet (198.18.0.M/24, M unique per run so that no neighbour cache
# ever holds a stale MAC for an address) or on the LAN of an upstream
# router (double NAT).  Its kind is an nftables ruleset, see
# nat_rules.  Every namespace is added to LAB_HOSTS, so lab_cleanup
# removes it, and links exist only inside namespaces (made there with
# "ip -n A link add ... peer ... netns B"): deleting the namespaces
# deletes every link.

NAT_PUB=20	# next internet address 198.18.0.$NAT_PUB
NAT_NET=100	# next LAN prefix 10.$NAT_NET.0.0/24
NAT_LINK=0	# names the internet ends of veths in $LAB-lan
NAT_PIDS=""	# background helpers (ping, tcpdump) to stop
TURN_PID=

nat_ns() {	# nat_ns NAME: an empty namespace $LAB-NAME
	ip netns add "$LAB-$1" || return 1
	ip -n "$LAB-$1" link set lo up
	LAB_HOSTS="$LAB_HOSTS $1"
}

nat_del() {	# nat_del NAME...: stop omnid there if any, remove the namespaces
	for _n in "$@"; do
		lab_stop "$_n"
		ip netns pids "$LAB-$_n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$LAB-$_n" 2>/dev/null
	done
}

# nat_inet NS: link NS's "wan" (or eth0 for an edge, IF=$2) to the
# internet bridge with the next public address, set in PUB_NS.
nat_inet() {
	NAT_LINK=$((NAT_LINK + 1))
	_a=198.18.0.$NAT_PUB
	NAT_PUB=$((NAT_PUB + 1))
	ip -n "$LAB-lan" link add "nw$NAT_LINK" type veth peer name "$2" \
	    netns "$LAB-$1"
	ip -n "$LAB-lan" link set "nw$NAT_LINK" master br0
	ip -n "$LAB-lan" link set "nw$NAT_LINK" up
	ip -n "$LAB-$1" addr add "$_a/24" dev "$2"
	ip -n "$LAB-$1" link set "$2" up
	eval "PUB_$1=$_a"
}

# nat_attach NS IF ROUTER: link NS's IF to ROUTER's LAN with its next
# address and a default route through the router.
nat_attach() {
	eval "_net=\$NET_$3 _h=\$NEXT_$3"
	eval "NEXT_$3=$((_h + 1))"
	ip -n "$LAB-$3" link add "l$_h" type veth peer name "$2" \
	    netns "$LAB-$1"
	ip -n "$LAB-$3" link set "l$_h" master lan
	ip -n "$LAB-$3" link set "l$_h" up
	ip -n "$LAB-$1" addr add "10.$_net.0.$_h/24" dev "$2"
	ip -n "$LAB-$1" link set "$2" up
	ip -n "$LAB-$1" route add default via "10.$_net.0.1"
	eval "ADDR_$1=10.$_net.0.$_h"
}

# nat_router NAME KIND [UPSTREAM]: a router of KIND (cone, masq,
# random) on the internet, or behind router UPSTREAM.  Sets PUB_NAME
# (its internet address; for a router behind another one, UPSTREAM's)
# and NET_NAME (its LAN is 10.$NET_NAME.0.0/24).
nat_router() {
	nat_ns "$1" || return 1
	eval "NET_$1=$NAT_NET NEXT_$1=2"
	ip -n "$LAB-$1" link add lan type bridge
	ip -n "$LAB-$1" addr add "10.$NAT_NET.0.1/24" dev lan
	ip -n "$LAB-$1" link set lan up
	NAT_NET=$((NAT_NET + 1))
	if [ -n "$3" ]; then
		nat_attach "$1" wan "$3"
		eval "PUB_$1=\$PUB_$3"
	else
		nat_inet "$1" wan
	fi
	ip netns exec "$LAB-$1" sysctl -qw net.ipv4.ip_forward=1
	nat_rules "$1" "$2"
}

# nat_rules ROUTER KIND: the router's nftables ruleset.
#   cone    masquerade; inbound from wan only when conntrack knows the
#           flow (ct state established,related), the rest dropped,
#           toward the LAN (forward) and the router itself (input).
#           Linux keeps the source port, and an unsolicited packet is
#           dropped before conntrack confirms its entry: a
#           port-restricted cone NAT.
#   masq    masquerade and nothing else.  An unsolicited packet to
#           the router is delivered to it (port unreachable) and its
#           conntrack entry is confirmed: the LAN host's own packet
#           to that peer later collides with it and gets another port.
#   random  "masquerade random" (a new port per flow: symmetric) with
#           the cone filter: symmetric NATs in the field filter too.
nat_rules() {
	case $2 in
	cone)	_m=masquerade _f=1 ;;
	masq)	_m=masquerade _f= ;;
	random)	_m="masquerade random" _f=1 ;;
	*)	echo "# nat_rules: unknown kind $2" >&2; return 1 ;;
	esac
	{
		cat <<EOT
table ip nat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" $_m
	}
}
EOT
		[ -z "$_f" ] || cat <<EOT
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iifname != "wan" accept
		ct state established,related accept
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		iifname "lan" accept
		ct state established,related accept
	}
}
EOT
	} | ip netns exec "$LAB-$1" nft -f -
}

# nat_edge NAME ROUTER|-: an edge namespace, on ROUTER's LAN or ("-")
# on the internet.  Sets ADDR_NAME to its eth0 address.
nat_edge() {
	nat_ns "$1" || return 1
	if [ "$2" = - ]; then
		nat_inet "$1" eth0
		eval "ADDR_$1=\$PUB_$1"
	else
		nat_attach "$1" eth0 "$2"
	fi
}

# nat_internet: the lab, the nucleus host (198.18.0.1) and coturn on
# 198.18.0.5:3478, STUN only.
nat_internet() {
	lab_init
	lab_host nuc 1
	lab_host stn 5
	lab_nucleus_conf nuc 1
	ip netns exec "$LAB-stn" turnserver -n --stun-only --no-cli --no-tls \
	    --no-dtls --no-tcp --listening-ip 198.18.0.5 --listening-port 3478 \
	    --log-file stdout --simple-log --pidfile "$LABDIR/turn.pid" \
	    --userdb "$LABDIR/turndb" >"$LABDIR/turn.log" 2>&1 &
	TURN_PID=$!
}

nat_turn_up() {
	ip netns exec "$LAB-stn" ss -uln | grep -q '198.18.0.5:3478'
}
nat_nuc_up() {
	ip netns exec "$LAB-nuc" ss -uln | grep -q '198.18.0.1:51900'
}

# nat_edge_conf NAME VIPHOST: lib.sh's edge config with both STUN
# servers: the nucleus and coturn, on two addresses, so the edge can
# tell whether its NAT maps per destination.
nat_edge_conf() {
	lab_edge_conf "$1" "$2" 1
	cat >>"$LABDIR/$1.conf" <<EOT
    stun-servers: [198.18.0.1:51900, 198.18.0.5:3478]
    stun-interval: 5
EOT
}

# nat_snapshot: run copies of the programs, taken now: a rebuild in
# the tree during the run (minutes) must not hand a row half-written
# binaries.  omnid finds its children beside itself (../NAME/NAME);
# the directory is world-readable because omnid re-executes itself
# and its children after dropping to _omnid.
NAT_BIN=
nat_snapshot() {
	NAT_BIN=$(mktemp -d /tmp/omni-natbin.XXXXXX) || return 1
	chmod 755 "$NAT_BIN"
	for _p in parent/omnid signald/signald wgctld/wgctld \
	    metricsd/metricsd omnictl/omnictl; do
		mkdir -p "$NAT_BIN/${_p%/*}" &&
		    cp "$TOP/$_p" "$NAT_BIN/$_p" || return 1
	done
	OMNID=$NAT_BIN/parent/omnid
	OMNICTL=$NAT_BIN/omnictl/omnictl
}

nat_bg() {	# remember a background pid for nat_cleanup
	NAT_PIDS="$NAT_PIDS $1"
}

nat_cleanup() {
	for _p in $NAT_PIDS $TURN_PID; do
		kill -TERM "$_p" 2>/dev/null
	done
	for _p in $NAT_PIDS $TURN_PID; do
		wait "$_p" 2>/dev/null
	done
	lab_cleanup
	[ -z "$NAT_BIN" ] || rm -rf "$NAT_BIN"
}

# nat_ct ROUTER ARGS...: conntrack -L in a router, quietly
nat_ct() {
	_r=$1; shift
	ip netns exec "$LAB-$_r" conntrack -L -p udp "$@" 2>/dev/null
}

# nat_reply_dport ROUTER LANADDR SPORT DST: the port the router mapped
# LANADDR:SPORT to for DST (the reply direction's dport), or nothing.
nat_reply_dport() {
	nat_ct "$1" --orig-src "$2" --orig-port-src "$3" --orig-dst "$4" |
	    sed -n 's/.*src=[0-9.]* dst=[0-9.]* sport=[0-9]* dport=\([0-9]*\).*src=[0-9.]* dst=[0-9.]* sport=[0-9]* dport=\([0-9]*\).*/\2/p' |
	    head -n 1
}

# nat_udp NS SPORT DST DPORT OUT MSG...: from NS, bound to SPORT, send
# each MSG to DST:DPORT 100 ms apart, and write what comes back from
# anyone to SPORT into OUT, until 0.5 s after the last one.
nat_udp() {
	_ns=$1 _sp=$2 _d=$3 _dp=$4 _o=$5
	shift 5
	for _m in "$@"; do
		echo "$_m"
		sleep 0.1
	done | ip netns exec "$LAB-$_ns" socat -t 0.5 - \
	    "UDP-DATAGRAM:$_d:$_dp,bind=:$_sp,reuseaddr" >"$_o" 2>&1
}
