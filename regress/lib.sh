# Shared shell helpers of the demo and the integration tests.
#
# A "lab" is a set of network namespaces on one LAN segment: a bridge
# in the namespace ${LAB}-lan and one namespace per host, joined by
# veth pairs.  Hosts get 198.18.0.N/24 (the benchmarking range; it
# exists only inside these namespaces).  Everything a lab creates is
# named after $LAB and removed by lab_cleanup, which callers run from
# an EXIT trap so that it also runs when a test fails.

TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
OMNID=$TOP/parent/omnid
OMNICTL=$TOP/omnictl/omnictl
LAB=${LAB:-omt$$}
LABDIR=${LABDIR:-}
LAB_HOSTS=""
LAB_PIDS=""
SECRET=${SECRET:-lab-secret-0123456789abcdef}

# A make SANITIZE=1 build: the daemons' reports go to stderr, that is
# to the lab's logs, which done_testing searches.  LeakSanitizer stops
# the world with ptrace, which the children's seccomp filter forbids:
# leaks are left to the unit tests.  Harmless in a normal build.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:print_legend=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
SANITIZER_REPORT='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|ERROR: UndefinedBehaviorSanitizer'

lab_init() {
	LABDIR=$(mktemp -d /tmp/omni-lab.XXXXXX)
	ip netns add "$LAB-lan"
	ip -n "$LAB-lan" link add br0 type bridge
	ip -n "$LAB-lan" link set br0 up
	ip -n "$LAB-lan" link set lo up
}

# lab_host NAME N: a host namespace with address 198.18.0.N
lab_host() {
	ns="$LAB-$1"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip link add "$LAB$2a" type veth peer name "$LAB$2b"
	ip link set "$LAB$2a" netns "$ns"
	ip link set "$LAB$2b" netns "$LAB-lan"
	ip -n "$ns" link set "$LAB$2a" name eth0
	ip -n "$ns" addr add "198.18.0.$2/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$LAB-lan" link set "$LAB$2b" master br0
	ip -n "$LAB-lan" link set "$LAB$2b" up
	LAB_HOSTS="$LAB_HOSTS $1"
}

# lab_nucleus_conf HOST N: a nucleus on 198.18.0.N
lab_nucleus_conf() {
	f=$LABDIR/$1.conf
	cat > "$f" <<EOT
control-socket: $LABDIR/$1.sock
metrics:
  listen: 127.0.0.1:9090
nucleus:
  listen: 198.18.0.$2:51900
  secret: "$SECRET"
  peer-timeout: 15
  identity: $LABDIR/$1.nucleus.key
EOT
	chmod 0600 "$f"
}

# lab_load_nucleus_conf HOST [LINE ...]: a nucleus on 127.0.0.1 for
# regress/load/loadgen, which runs in the same namespace; each LINE
# ("max-edges: 2100000") is one more key of its nucleus: section.
lab_load_nucleus_conf() {
	f=$LABDIR/$1.conf
	cat > "$f" <<EOT
control-socket: $LABDIR/$1.sock
metrics:
  listen: 127.0.0.1:9090
nucleus:
  listen: 127.0.0.1:51900
  secret: "$SECRET"
  peer-timeout: 120
  identity: $LABDIR/$1.nucleus.key
EOT
	shift
	for _l in "$@"; do
		echo "  $_l" >>"$f"
	done
	chmod 0600 "$f"
}

# lab_edge_conf HOST VIPHOST NUCLEUSHOST [SECRET]
lab_edge_conf() {
	f=$LABDIR/$1.conf
	cat > "$f" <<EOT
control-socket: $LABDIR/$1.sock
metrics:
  listen: 127.0.0.1:9090
interfaces:
  - name: $LAB$1
    cluster: lab
    secret: "${4:-$SECRET}"
    identity: $LABDIR/$1.key
    address: 10.77.0.$2/24
    listen-port: 51820
    heartbeat: 2
    peer-timeout: 15
    nuclei:
      - 198.18.0.$3:51900
EOT
	chmod 0600 "$f"
}

# lab_start HOST: run omnid -d in the host's namespace
lab_start() {
	ip netns exec "$LAB-$1" "$OMNID" -d ${OMNI_VERBOSE:+-v} \
	    -f "$LABDIR/$1.conf" >"$LABDIR/$1.log" 2>&1 &
	eval "PID_$1=$!"
	LAB_PIDS="$LAB_PIDS $!"
}

lab_stop() {
	eval "pid=\$PID_$1"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "PID_$1="
}

# metrics_up HOST: metricsd answers /health with 200, i.e. it has a
# fresh snapshot from every process.  Metrics are sampled every second
# or so: a test that reads one right after the mesh came up (which now
# takes well under a second) must wait for this first.
metrics_up() {
	[ "$(ip netns exec "$LAB-$1" curl -s -o /dev/null -w '%{http_code}' \
	    http://127.0.0.1:9090/health)" = 200 ]
}

lab_ctl() {
	h=$1; shift
	ip netns exec "$LAB-$h" "$OMNICTL" -s "$LABDIR/$h.sock" "$@"
}

# wait_for SECONDS COMMAND...: poll until the command succeeds
wait_for() {
	t=$1; shift
	end=$(( $(date +%s) + t ))
	while [ "$(date +%s)" -le "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# ping_summary FILE TSTART TEND: of a `ping -D` log stopped at TEND
# (date +%s.%N) that started at TSTART, prints "GAP LOST LAST SENT":
# the longest time without a reply in ms (from the start to the first
# reply, between replies, and from the last reply to the end), the
# requests up to the last answered one that got no reply (the one in
# flight when ping stops is no loss, a trailing loss shows as a gap),
# the last sequence number answered, and the requests sent.  Without
# any reply: "999999 SENT 0 SENT".
ping_summary() {
	awk -v tstart="$2" -v tend="$3" '
	    /^\[[0-9.]+\] .*bytes from/ {
		t = substr($1, 2, length($1) - 2)
		if (prev == "") prev = tstart
		if (t - prev > gap) gap = t - prev
		prev = t
		for (i = 2; i <= NF; i++)
			if ($i ~ /^icmp_seq=/) {
				s = substr($i, 10) + 0
				if (!(s in seen)) { seen[s] = 1; got++ }
				if (s > last) last = s
			}
	    }
	    /packets transmitted/ { sent = $1 }
	    END {
		if (prev == "") { printf "999999 %d 0 %d\n", sent, sent; exit }
		if (tend - prev > gap) gap = tend - prev
		printf "%d %d %d %d\n", gap * 1000, last - got, last, sent
	    }' "$1"
}

# ping_vip HOST VIPHOST: one ping through the tunnel
ping_vip() {
	ip netns exec "$LAB-$1" ping -c 1 -W 1 "10.77.0.$2"
}

# child_pid HOST NAME: the pid of one child of that host's omnid
child_pid() {
	eval "ppid=\$PID_$1"
	pgrep -P "$ppid" -x "$2" | head -n 1
}

lab_cleanup() {
	for h in $LAB_HOSTS; do
		lab_stop "$h"
	done
	# A crashed omnid may leave its wireguard-go behind.
	pkill -f "wireguard-go -f $LAB" 2>/dev/null
	for h in $LAB_HOSTS lan; do
		ip netns del "$LAB-$h" 2>/dev/null
	done
	rm -f /var/run/wireguard/"$LAB"*.sock
	if [ -n "$LABDIR" ] && [ -z "$KEEP_LOGS" ]; then
		rm -rf "$LABDIR"
	fi
}

lab_dump_logs() {
	for h in $LAB_HOSTS; do
		[ -f "$LABDIR/$h.log" ] || continue
		echo "# ---- $h ----"
		sed 's/^/# /' "$LABDIR/$h.log" | tail -n "${1:-40}"
	done
}

# TAP
T_N=0
T_FAILED=0
ok() {
	T_N=$((T_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_N - $2"
	else
		echo "not ok $T_N - $2"
		T_FAILED=$((T_FAILED + 1))
	fi
}
check() {
	desc=$1; shift
	"$@" >/dev/null 2>&1
	ok $? "$desc"
}
# sanitizer_reports: 0 when no daemon log of this lab holds a report
sanitizer_reports() {
	[ -n "$LABDIR" ] || return 0
	! cat "$LABDIR"/*.log 2>/dev/null | grep -Eq "$SANITIZER_REPORT"
}
done_testing() {
	if ! sanitizer_reports; then
		ok 1 "no sanitizer report in the daemons' logs"
		grep -EH -A 25 "$SANITIZER_REPORT" "$LABDIR"/*.log |
		    head -n 80 | sed 's/^/# /'
	else
		ok 0 "no sanitizer report in the daemons' logs"
	fi
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ] || lab_dump_logs 60
	[ "$T_FAILED" -eq 0 ]
}

# lab_test: the prologue of an integration test: root, and a cleanup
# that runs however the test ends.
lab_test() {
	require_root
	trap 'lab_cleanup' EXIT
	trap 'exit 1' INT TERM
}

# lab_mesh: the demo topology, started: nucleus "nuc" (198.18.0.1) and
# edges "e1", "e2" (VIPs 10.77.0.2 and 10.77.0.3).
lab_mesh() {
	lab_init
	lab_host nuc 1
	lab_host e1 2
	lab_host e2 3
	lab_nucleus_conf nuc 1
	lab_edge_conf e1 2 1
	lab_edge_conf e2 3 1
	lab_start nuc
	lab_start e1
	lab_start e2
}

# lab_mesh_up: e1 and e2 (lab_mesh's VIPs) reach each other; a test
# that cannot get this far has nothing to test: bail out with the logs.
lab_mesh_up() {
	wait_for 30 ping_vip e1 3 && wait_for 10 ping_vip e2 2
	_r=$?
	ok $_r "mesh up, both ways"
	if [ $_r != 0 ]; then
		lab_dump_logs 30
		echo "Bail out! no mesh"
		exit 1
	fi
}

require_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "Bail out! integration tests need root (network namespaces)"
		exit 1
	fi
}
