#!/bin/sh
# make install into a DESTDIR puts exactly the expected files there,
# the installed omnid runs its installed children, the systemd unit
# passes systemd-analyze and its hardening leaves omnid everything it
# uses (capabilities, address families, system calls, traced while a
# real mesh runs), and make uninstall removes every file again.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/regress/lib.sh"
lab_test
D=$(mktemp -d /tmp/omni-install.XXXXXX)
# traced_stop HOST: stop an omnid that runs under strace (strace itself
# would only detach on SIGTERM and leave omnid running)
traced_stop() {
	eval "tp=\$PID_$1"
	[ -n "$tp" ] || return 0
	op=$(pgrep -P "$tp" -x omnid)
	[ -n "$op" ] && kill -TERM "$op"
	wait "$tp" 2>/dev/null
	eval "PID_$1="
}
trap 'traced_stop nuc; traced_stop e1; lab_cleanup; rm -rf "$D"' EXIT
UNIT=$TOP/etc/omnid.service

make -s -C "$TOP" install DESTDIR="$D" PREFIX=/usr >"$D.log" 2>&1
ok $? "make install DESTDIR=... PREFIX=/usr"
rm -f "$D.log"
want="usr/lib/systemd/system/omnid.service
usr/libexec/omni/metricsd
usr/libexec/omni/omni-adduser.sh
usr/libexec/omni/signald
usr/libexec/omni/wgctld
usr/sbin/omnictl
usr/sbin/omnid
usr/share/examples/omni/omni.conf
usr/share/man/man5/omni.conf.5
usr/share/man/man8/omnictl.8
usr/share/man/man8/omnid.8"
got=$(cd "$D" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort)
ok $([ "$got" = "$want" ]; echo $?) "exactly the expected files are installed"
[ "$got" = "$want" ] || printf '# got:\n%s\n' "$got" | sed '2,$s/^/# /'
bad=$(cd "$D" && find . -type f \( -path './usr/sbin/*' -o \
    -path './usr/libexec/*' \) ! -perm 0755 && find . -type f \
    ! -path './usr/sbin/*' ! -path './usr/libexec/*' ! -perm 0644)
ok $([ -z "$bad" ]; echo $?) "programs are 0755, the rest 0644${bad:+: $bad}"
U=$D/usr/lib/systemd/system/omnid.service
grep -qx "ExecStart=/usr/sbin/omnid -d" "$U"
ok $? "the unit runs the installed omnid in the foreground"

# systemd-analyze checks the unit as installed (ExecStart pointed into
# DESTDIR, man pages found there).
sed "s|^ExecStart=/usr/sbin/omnid|ExecStart=$D/usr/sbin/omnid|" "$U" \
    > "$D/omnid.service"
out=$(MANPATH=$D/usr/share/man systemd-analyze verify "$D/omnid.service" 2>&1)
ok $([ $? -eq 0 ] && [ -z "$out" ]; echo $?) \
    "systemd-analyze verify: clean${out:+: $out}"
systemd-analyze security --offline=true --threshold=35 "$D/omnid.service" \
    >/dev/null 2>&1
ok $? "systemd-analyze security: exposure at most 3.5"
rm -f "$D/omnid.service"

# The capabilities are exactly those omnid keeps (parent/caps.c).
caps_code=$(sed -n 's/^	{ \(CAP_[A-Z_]*\),.*/\1/p' "$TOP/parent/caps.c" | LC_ALL=C sort)
caps_unit=$(sed -n 's/^CapabilityBoundingSet=//p' "$U" | tr ' ' '\n' | LC_ALL=C sort)
ok $([ -n "$caps_code" ] && [ "$caps_code" = "$caps_unit" ]; echo $?) \
    "CapabilityBoundingSet is the set parent/caps.c keeps: $(echo $caps_code)"

# Run the installed omnid, nucleus and edge, under strace.
lab_init
lab_host nuc 1
lab_host e1 2
lab_host e2 3
lab_nucleus_conf nuc 1
lab_edge_conf e1 2 1
lab_edge_conf e2 3 1
for h in nuc e1; do
	ip netns exec "$LAB-$h" strace -f -qq -o "$LABDIR/strace.$h" \
	    "$D/usr/sbin/omnid" -d -f "$LABDIR/$h.conf" >"$LABDIR/$h.log" 2>&1 &
	eval "PID_$h=$!"
done
lab_start e2
check "the installed omnid builds the mesh" wait_for 40 ping_vip e1 3
eval "pe1=\$PID_e1"
exe=$(readlink "/proc/$(pgrep -P "$(pgrep -P "$pe1" -x omnid)" -x wgctld)/exe")
ok $([ "$exe" = "$D/usr/libexec/omni/wgctld" ]; echo $?) \
    "it runs its children from the installed libexec directory ($exe)"
lab_ctl e1 show peers >/dev/null 2>&1
lab_ctl e1 reload >/dev/null 2>&1
ip netns exec "$LAB-e1" curl -sf http://127.0.0.1:9090/metrics >/dev/null
sleep 2
traced_stop e1
traced_stop nuc

# Every system call made is one the unit's filter allows.
GROUPS_FILE=$LABDIR/groups
systemd-analyze syscall-filter 2>/dev/null | awk '
    /^@/ { g = $1; next } /^ *#/ { next } NF { print g, $1 }' > "$GROUPS_FILE"
expand() {
	todo="$*"
	seen=
	while [ -n "$todo" ]; do
		set -- $todo
		g=$1
		shift
		todo="$*"
		case " $seen " in *" $g "*) continue ;; esac
		seen="$seen $g"
		case $g in
		@*) todo="$todo $(awk -v g="$g" '$1 == g { printf "%s ", $2 }' \
		    "$GROUPS_FILE")" ;;
		*) echo "$g" ;;
		esac
	done | LC_ALL=C sort -u
}
allowed=$(expand $(sed -n 's/^SystemCallFilter=//p' "$U"))
used=$(cat "$LABDIR"/strace.* | sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p' |
    LC_ALL=C sort -u)
missing=$(echo "$used" | while read -r s; do
	echo "$allowed" | grep -qx "$s" || printf '%s ' "$s"
done)
ok $([ -n "$used" ] && [ -z "$missing" ]; echo $?) \
    "SystemCallFilter allows all $(echo "$used" | wc -l) system calls used${missing:+; not: $missing}"
fams=$(cat "$LABDIR"/strace.* | sed -n 's/.* socket(\(AF_[A-Z0-9]*\),.*/\1/p' |
    LC_ALL=C sort -u)
allowed=$(sed -n 's/^RestrictAddressFamilies=//p' "$U" | tr ' ' '\n')
missing=$(for f in $fams; do echo "$allowed" | grep -qx "$f" || printf '%s ' "$f"; done)
ok $([ -n "$fams" ] && [ -z "$missing" ]; echo $?) \
    "RestrictAddressFamilies allows the families used: $(echo $fams)${missing:+; not: $missing}"

make -s -C "$TOP" uninstall DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
ok $? "make uninstall"
left=$(cd "$D" && find . ! -type d)
ok $([ -z "$left" ]; echo $?) "make uninstall removes every installed file${left:+: $left}"

done_testing
