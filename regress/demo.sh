#!/bin/sh
# make demo: a nucleus and two edges, each a real omnid process tree in
# its own network namespace on one LAN, build a WireGuard mesh; the
# demo shows the peers each edge sees and pings across the tunnel,
# then removes everything it made (also on failure or Ctrl-C).
TOP=$(cd "$(dirname "$0")/.." && pwd)
LAB=omnidemo
. "$TOP/regress/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root: it creates network namespaces" >&2
	exit 1
fi
sh "$TOP/etc/omni-adduser.sh" >/dev/null
trap 'lab_cleanup' EXIT
trap 'exit 130' INT TERM
# Leftovers of an interrupted earlier demo.
LAB_HOSTS="nucleus edge1 edge2" lab_cleanup 2>/dev/null
LAB_HOSTS=""

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "network namespaces: $LAB-nucleus (198.18.0.1), $LAB-edge1 (.2), $LAB-edge2 (.3)"
lab_init
lab_host nucleus 1
lab_host edge1 2
lab_host edge2 3
lab_nucleus_conf nucleus 1
lab_edge_conf edge1 2 1
lab_edge_conf edge2 3 1

say "starting omnid: nucleus, then two edges (VIPs 10.77.0.2 and 10.77.0.3)"
lab_start nucleus
lab_start edge1
lab_start edge2

if ! wait_for 30 ping_vip edge1 3; then
	echo "the mesh did not come up within 30 s; logs:"
	lab_dump_logs 30
	exit 1
fi

say "process tree of edge1's omnid"
eval "p=\$PID_edge1"
ps -o pid,user,comm --ppid "$p" --pid "$p"

say "edge1: omnictl show interface"
lab_ctl edge1 show interface
say "edge1: omnictl show peers"
lab_ctl edge1 show peers
say "edge2: omnictl show peers"
lab_ctl edge2 show peers

say "ping 10.77.0.3 from edge1, through the tunnel"
ip netns exec "$LAB-edge1" ping -c 3 -i 0.2 10.77.0.3 || exit 1
say "ping 10.77.0.2 from edge2, through the tunnel"
ip netns exec "$LAB-edge2" ping -c 3 -i 0.2 10.77.0.2 || exit 1

say "the mesh works; cleaning up"
