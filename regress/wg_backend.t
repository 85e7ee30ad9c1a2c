#!/bin/sh
# The userspace WireGuard backend end to end, as root, inside a network
# namespace of its own: regress/unit/wg_driver opens a wireguard-go
# device, configures it through UAPI and rtnetlink, and stops at a
# checkpoint where this script compares the device with wg show (read
# only).  It runs twice: as omnid starts, and after caps_drop_parent.
#
# TAP: the plan comes last.

cd "$(dirname "$0")/.." || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root"
	exit 0
fi

DRIVER=regress/unit/wg_driver
WGGO=${WIREGUARD_GO:-$(command -v wireguard-go)}
NS=omnitest-wg-$$
IF=$(printf 'omt%s' "$$" | cut -c1-15)
TMP=$(mktemp -d /tmp/omni-wg-backend.XXXXXX) || exit 1
n=0
DRIVER_PID=

cleanup() {
	if [ -n "$DRIVER_PID" ]; then
		kill "$DRIVER_PID" 2>/dev/null
		wait "$DRIVER_PID" 2>/dev/null
	fi
	# Whatever is still running in the namespace is ours.
	for p in $(ip netns pids "$NS" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	rm -f "/var/run/wireguard/$IF.sock"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

t() {	# t DESC CMD...: run CMD, report it
	desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
	fi
}

diag() {
	sed 's/^/# /' "$@"
}

# Renumber the driver's "ok - ..." lines into this script's stream.
import() {
	while IFS= read -r line; do
		case $line in
		"ok - "*)
			n=$((n + 1))
			echo "ok $n - $2: ${line#ok - }" ;;
		"not ok - "*)
			n=$((n + 1))
			echo "not ok $n - $2: ${line#not ok - }" ;;
		*)
			echo "# $line" ;;
		esac
	done < "$1"
}

# Compare "wg show IF dump" with the driver's expected state file.
wg_agrees() {
	ip netns exec "$NS" wg show "$IF" dump > "$TMP/dump" 2> "$TMP/dump.err" ||
	    { diag "$TMP/dump.err"; return 1; }
	awk -v state="$1" '
	BEGIN {
		while ((getline l < state) > 0) {
			split(l, f, " ")
			if (f[1] == "iface") { ipub = f[2]; iport = f[3] }
			if (f[1] == "peer") {
				ppub = f[2]; pep = f[3]; pallowed = f[4]
				pka = f[5] == 0 ? "off" : f[5]
			}
		}
	}
	NR == 1 {
		if ($2 != ipub || $3 != iport) {
			print "# interface: " $2 " " $3 " want " ipub " " iport
			bad = 1
		}
		next
	}
	{
		peers++
		if ($1 != ppub || $2 == "(none)" || $3 != pep ||
		    $4 != pallowed || $8 != pka) {
			print "# peer: " $1 " " $3 " " $4 " " $8 " psk " \
			    ($2 == "(none)" ? "none" : "set")
			print "# want: " ppub " " pep " " pallowed " " pka \
			    " psk set"
			bad = 1
		}
	}
	END {
		if (peers != 1) { print "# peers: " peers " want 1"; bad = 1 }
		exit bad
	}' "$TMP/dump"
}

# The kernel added the connected route of the interface's prefix.
route_ok() {
	ip -n "$NS" -4 route show dev "$IF" | grep -q '^10\.99\.0\.0/24 '
}

link_gone() {
	! ip -n "$NS" link show "$IF" > /dev/null 2>&1
}

run_driver() {	# run_driver LABEL [-c]
	label=$1
	shift
	st=$TMP/state.$label
	ip netns exec "$NS" "$DRIVER" "$@" -s "$st" -k "$TMP/$label.key" \
	    "$IF" "$WGGO" > "$TMP/out.$label" 2> "$TMP/err.$label" &
	DRIVER_PID=$!
	i=0
	while [ ! -f "$st" ] && [ $i -lt 200 ] &&
	    kill -0 "$DRIVER_PID" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ -f "$st" ]; then
		t "$label: wg show agrees with the driver" wg_agrees "$st"
		# (without the private and preshared keys)
		awk 'NR == 1 { $1 = "(private)" }
		    NR > 1 && $2 != "(none)" { $2 = "(psk)" } { print }' \
		    "$TMP/dump" |
		    sed 's/^/# /'
		rm -f "$TMP/dump"
		t "$label: connected route 10.99.0.0/24 on $IF" route_ok
	else
		t "$label: driver reached its checkpoint" false
	fi
	touch "$st.go"
	wait "$DRIVER_PID"
	rc=$?
	DRIVER_PID=
	import "$TMP/out.$label" "$label"
	t "$label: driver exit status $rc" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || diag "$TMP/err.$label"
	t "$label: no link $IF left in the namespace" link_gone
	t "$label: no UAPI socket left" [ ! -e "/var/run/wireguard/$IF.sock" ]
}

if [ ! -x "$DRIVER" ] || [ -z "$WGGO" ] || ! command -v wg > /dev/null; then
	echo "1..0 # SKIP needs $DRIVER (make $DRIVER), wireguard-go and wg"
	exit 0
fi

t "network namespace $NS" ip netns add "$NS"
t "loopback up in it" ip -n "$NS" link set lo up

run_driver plain
run_driver caps -c

echo "1..$n"
