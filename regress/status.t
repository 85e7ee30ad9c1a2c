#!/bin/sh
# omnictl as an operator uses it: show peers (path, RTT, one VIP),
# show interface, show nucleus (on an edge and on a nucleus), show
# status (one line; exit status 0 only when healthy), text columns
# aligned, JSON for every show command, abbreviations, and the valid
# keywords after an unknown word.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
lab_test
lab_mesh
IF1=${LAB}e1
check "mesh up" wait_for 30 ping_vip e1 3

# jqt JSON FILTER: true when there is JSON and the filter holds (jq 1.6
# -e alone succeeds on empty input)
jqt() {
	[ -n "$1" ] && printf '%s\n' "$1" | jq -e "$2" >/dev/null 2>&1
}
healthy() { lab_ctl "$1" show status >/dev/null 2>&1; }

# show status: one line, and the exit status says it all.
check "e1 becomes healthy (exit status 0)" wait_for 15 healthy e1
out=$(lab_ctl e1 show status)
n=$(printf '%s\n' "$out" | wc -l)
ok $([ "$n" = 1 ] && case $out in healthy:*) true ;; *) false ;; esac; echo $?) \
    "show status is one line starting with healthy: $out"
# (peer counts come from the statistics wgctld polls every 2 s)
status_json() {
	jqt "$(lab_ctl e1 -j show status)" '.healthy == true and
	    .interfaces == 1 and .interfaces_up == 1 and
	    .interfaces_registered == 1 and .peers == 1 and
	    .peers_direct == 1 and .children.signald and .children.wgctld and
	    .problems == []'
}
check "show status -j: healthy, 1 interface up and registered, 1 direct peer" \
    wait_for 6 status_json
check "the nucleus host is healthy too" healthy nuc
j=$(lab_ctl nuc -j show status)
jqt "$j" '.nucleus == true and .nucleus_clusters == 1 and .nucleus_edges == 2'
ok $? "show status -j on the nucleus: 1 cluster, 2 edges"

# show nucleus, on an edge and on the nucleus.
j=$(lab_ctl e1 -j show nucleus)
jqt "$j" '(.nuclei | length) == 1 and .nuclei[0].address == "198.18.0.1:51900"
    and .nuclei[0].reachable == true and .nuclei[0].interface == "'"$IF1"'"
    and (.nuclei[0].rtt_ms | type) == "number" and .nucleus == null'
ok $? "show nucleus -j on e1: the nucleus, reachable, with a round trip"
la=$(printf '%s\n' "$j" | jq '.nuclei[0].last_answer')
ok $([ "$la" -ge $(($(date +%s) - 10)) ]; echo $?) "its last answer is recent ($la)"
j=$(lab_ctl nuc -j show nucleus)
jqt "$j" '.nucleus.listen == "198.18.0.1:51900" and .nucleus.clusters == 1
    and .nucleus.edges == 2 and .nuclei == []'
ok $? "show nucleus -j on the nucleus: listen address, clusters, edges"
out=$(lab_ctl nuc show nucleus)
echo "$out" | grep -q "^this host is a nucleus on 198.18.0.1:51900: 1 cluster, 2 edges$"
ok $? "show nucleus (text) on the nucleus: $out"

# show peers: path and RTT, one VIP, text columns aligned.  The lab's
# hosts share 198.18.0.0/24, a public address space to omni (issue 7):
# over the peer's host candidate there the path is direct, not
# direct-lan (that is for private and link-local addresses), and once
# signald reports the pair in use it comes with the pair and the
# probe; before that it is direct without probe information.
j=$(lab_ctl e1 -j show peers)
jqt "$j" '.peers[0].path == "direct" and .peers[0].rtt_ms == null'
ok $? "show peers -j: path direct, no made-up round trip"
host_path() {
	jqt "$(lab_ctl e1 -j show peers)" '.peers[0] | .path == "direct"
	    and .cand_kind == "host" and .probe_state == "ok"
	    and .cand_remote == "198.18.0.3:51820"
	    and .cand_local == "198.18.0.2:51820" and .path_reason == ""
	    and (.probe_ms | type) == "number" and .probe_ms >= 0'
}
check "show peers -j: direct over the public host candidate pair 198.18.0.2:51820 -> 198.18.0.3:51820" \
    wait_for 10 host_path
j=$(lab_ctl e1 -j show peers)
jqt "$j" '.peers[0] | (.path | type) == "string" and
    (.path_reason | type) == "string" and (.cand_kind | type) == "string"
    and (.cand_local | type) == "string" and
    (.cand_remote | type) == "string" and
    (.probe_state | type) == "string" and (.probe_ms | type) == "number"'
ok $? "show peers -j: path, path_reason, cand_kind, cand_local, cand_remote, probe_state, probe_ms"
j=$(lab_ctl e1 -j show peers 10.77.0.3)
jqt "$j" '(.peers | length) == 1 and .peers[0].vip == "10.77.0.3"'
ok $? "show peers VIP: that peer"
j=$(lab_ctl e1 -j show peers 10.77.0.9)
jqt "$j" '.peers == []'
ok $? "show peers of an unknown VIP: none"
out=$(lab_ctl e1 show peers)
# col HEADER ROWPATTERN: the column of HEADER in the title line and of
# the row's cell must be the same.
ELLIPSIS=$(printf '\342\200\246')
col() {
	# One column per character: the ellipsis of a short key is 3 bytes.
	printf '%s\n' "$out" | sed "s/$ELLIPSIS/./g" | awk -v h="$1" -v r="$2" '
	    index($0, h) && !t { t = index($0, h) }
	    $0 ~ r { c = index($0, $'"$3"') }
	    END { exit !(t > 0 && t == c) }'
}
col "ENDPOINT" "^10\\.77\\.0\\.3 " 3
ok $? "show peers: the ENDPOINT column is aligned"
col "PATH" "^10\\.77\\.0\\.3 " 4
ok $? "show peers: the PATH column is aligned"
col "CANDIDATES" "^10\\.77\\.0\\.3 " 5
ok $? "show peers: the CANDIDATES column is aligned"
echo "$out" | grep -q "^10\.77\.0\.3 .* direct  *198\.18\.0\.2:51820 -> 198\.18\.0\.3:51820 .*-$"
ok $? "show peers (text): direct, the pair, RTT -"
out=$(lab_ctl e1 show nucleus)
col "REACHABLE" "^198\\.18\\.0\\.1:51900 " 2
ok $? "show nucleus: the REACHABLE column is aligned"

# Every show command speaks JSON.
for c in "show peers" "show interface" "show nucleus" "show status"; do
	jqt "$(lab_ctl e1 -j $c)" 'type == "object"'
	ok $? "omnictl -j $c is a JSON object"
done

# Abbreviations and the keywords valid where a word is wrong.
jqt "$(lab_ctl e1 -j sh st)" '.healthy == true'
ok $? "omnictl sh st is show status"
jqt "$(lab_ctl e1 -j s n)" '(.nuclei | length) == 1'
ok $? "omnictl s n is show nucleus"
out=$(lab_ctl e1 show bogus 2>&1)
rc=$?
listed=0
for w in peers interface nucleus status; do
	echo "$out" | grep -q "^  $w\$" || listed=1
done
ok $([ $rc -ne 0 ] && [ $listed -eq 0 ] &&
    echo "$out" | grep -q "unknown argument: bogus"; echo $?) \
    "an unknown word fails and lists peers, interface, nucleus, status"

# The nucleus goes away: e1 sees it unreachable and becomes unhealthy,
# then healthy again when it is back.
lab_stop nuc
unreachable() {
	jqt "$(lab_ctl e1 -j show nucleus)" '.nuclei[0].reachable == false'
}
check "without its nucleus e1 shows it unreachable" wait_for 60 unreachable
out=$(lab_ctl e1 show status)
rc=$?
ok $([ $rc -eq 1 ] && echo "$out" | grep -q "^unhealthy (.*not registered with any nucleus"; echo $?) \
    "show status: unhealthy, exit status 1: $out"
registered_is() {
	ip netns exec "$LAB-e1" curl -sf http://127.0.0.1:9090/metrics |
	    grep -q "^omni_edge_registered{iface=\"$IF1\"} $1\$"
}
check "... and its omni_edge_registered metric drops to 0" \
    wait_for 6 registered_is 0
lab_start nuc
check "with the nucleus back e1 is healthy again" wait_for 60 healthy e1
check "... and omni_edge_registered is 1 again" wait_for 6 registered_is 1

done_testing
