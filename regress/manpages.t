#!/bin/sh
# The manual pages are lint clean and complete: every option omnid and
# omnictl accept, every omnictl keyword, every omni.conf key (with its
# default) and every metric is documented.  The lists are taken from
# the sources, so something new and undocumented fails here.
TOP=$(cd "$(dirname "$0")/.." && pwd)
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
MAN=$TOP/man
OMNID8=$MAN/omnid.8
OMNICTL8=$MAN/omnictl.8
CONF5=$MAN/omni.conf.5

out=$(mandoc -Tlint -Wwarning "$MAN"/*.5 "$MAN"/*.8 2>&1)
ok $([ $? -eq 0 ] && [ -z "$out" ]; echo $?) "mandoc -Tlint -Wwarning: clean${out:+: $out}"

# has PAGE REGEX: a line of the page matches
has() { grep -Eq -- "$2" "$1"; }
# Every word of a list must be documented; one test line per list.
# check_list DESCRIPTION PAGE MIN PATTERN WORD...: PATTERN has @ for
# the word (a regex; "-" and "." in words are escaped)
check_list() {
	desc=$1 page=$2 min=$3 pat=$4
	shift 4
	missing=
	for w in "$@"; do
		rw=$(printf '%s' "$w" | sed 's/[.-]/\\&/g')
		has "$page" "$(printf '%s' "$pat" | sed "s/@/$rw/g")" ||
		    missing="$missing $w"
	done
	ok $([ $# -ge "$min" ] && [ -z "$missing" ]; echo $?) \
	    "$desc ($# found in the sources)${missing:+; undocumented:$missing}"
}

# omnid: short options from getopt_long's string, long ones from longopts.
s=$(sed -n 's/.*getopt_long(argc, argv, "\([^"]*\)".*/\1/p' "$TOP/parent/omnid.c" |
    tr -d ':' | sed 's/./& /g')
check_list "omnid.8 documents every short option of omnid" "$OMNID8" 4 \
    '^\.It Fl @( |$)' $s
l=$(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)",[[:space:]]*[a-z_]*_argument,.*/\1/p' \
    "$TOP/parent/omnid.c")
check_list "omnid.8 documents every long option of omnid" "$OMNID8" 8 \
    '^\.It Fl -@( |$)' $l
check_list "omnid.8 shows every long option in its synopsis" "$OMNID8" 8 \
    '^\.(Op )?Fl -@( |$)' $l

# omnictl: its options and every keyword of its grammar.
s=$(sed -n 's/.*getopt(argc, argv, "\([^"]*\)").*/\1/p' "$TOP/omnictl/omnictl.c" |
    tr -d ':' | sed 's/./& /g')
check_list "omnictl.8 documents every option of omnictl" "$OMNICTL8" 2 \
    '^\.It Fl @( |$)' $s
k=$(sed -n 's/.*{ KEYWORD,[[:space:]]*"\([a-z]*\)".*/\1/p' "$TOP/omnictl/parser.c")
check_list "omnictl.8 documents every command keyword" "$OMNICTL8" 8 \
    '^\.It Cm (.* )?@( |$)' $k

# omni.conf: every key of every mapping of the schema.
keys=$(awk '/^static const char \*const [a-z_]*_keys\[\] = \{/ { on = 1 }
    on { while (match($0, /"[^"]*"/)) {
	    print substr($0, RSTART + 1, RLENGTH - 2)
	    $0 = substr($0, RSTART + RLENGTH) } }
    on && /\};/ { on = 0 }' "$TOP/parent/parse.c" | sort -u)
check_list "omni.conf.5 documents every configuration key" "$CONF5" 20 \
    '^\.It Ic @( |$)' $keys
# ... and for each key with a value, its default (or that it is required).
nodefault=$(awk '
    function done() {
	if (key != "" && body !~ /[Dd]efault|[Rr]equired|[Ee]xactly one/)
	    printf "%s ", key
	key = ""
    }
    /^\.It Ic [a-z-]+ : (Ar|Cm)/ { done(); key = $3; body = ""; next }
    /^\.(It|El|Sh|Ss)/ { done(); next }
    { body = body " " $0 }
    END { done() }' "$CONF5")
ok $([ -z "$nodefault" ]; echo $?) \
    "omni.conf.5 gives the default of every key${nodefault:+; not of: $nodefault}"

# Every metric any process may report.
m=$(sed -n 's/^[[:space:]]*{ "\(omni_[a-z_]*\)", METRIC_.*/\1/p' "$TOP/common/metrics.c")
check_list "omnid.8 documents every metric" "$OMNID8" 15 \
    '^\.It Sy (.* )?@( |$)' $m

# The sections every page needs, and the privilege model.
for p in "$OMNID8" "$OMNICTL8" "$CONF5"; do
	missing=
	for sec in FILES EXAMPLES "SEE ALSO"; do
		has "$p" "^\.Sh $sec\$" || missing="$missing $sec,"
	done
	ok $([ -z "$missing" ]; echo $?) \
	    "$(basename "$p") has FILES, EXAMPLES and SEE ALSO${missing:+; lacks$missing}"
done
has "$OMNID8" '^\.Sh PRIVILEGE SEPARATION$' &&
    has "$OMNID8" '^\.Sh CONTROL SOCKETS$' && has "$OMNID8" 'CAP_NET_ADMIN'
ok $? "omnid.8 describes the privilege model and the control sockets"

echo "1..$T_N"
[ "$T_FAILED" -eq 0 ]
