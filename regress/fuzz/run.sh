#!/bin/sh
# Build every libFuzzer target with clang and run each for a bounded
# time from its seed corpus (regress/fuzz/corpus/NAME, read only: new
# inputs go to a temporary directory).  Prints TAP; a crash, leak or
# sanitizer report fails that target and keeps its reproducer in
# regress/fuzz/ (crash-*, leak-*, timeout-*).
#   sh regress/fuzz/run.sh [seconds per target] [target ...]
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=$*
[ -n "$targets" ] || targets=$(ls regress/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||')
# Every target is built with UBSan; make its reports fatal too.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS
tmp=$(mktemp -d /tmp/omni-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
for t in $targets; do
	n=$((n + 1))
	bin=regress/fuzz/fuzz_$t
	if ! make -s CC=clang "$bin" >"$tmp/build.$t" 2>&1; then
		echo "not ok $n - fuzz_$t builds with clang"
		sed 's/^/# /' "$tmp/build.$t" | tail -20
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$tmp/new.$t"
	seeds=regress/fuzz/corpus/$t
	[ -d "$seeds" ] || seeds=
	"./$bin" -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix=regress/fuzz/ "$tmp/new.$t" $seeds \
	    >"$tmp/log.$t" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/log.$t")
	cov=$(grep -o 'cov: [0-9]*' "$tmp/log.$t" | tail -n 1 | sed 's/cov: //')
	if [ $rc -eq 0 ]; then
		echo "ok $n - fuzz_$t: $secs s, ${execs:-?} executions, coverage ${cov:-?} edges"
	else
		echo "not ok $n - fuzz_$t: exit $rc after ${execs:-?} executions"
		grep -A 15 'ERROR\|==[0-9]*==' "$tmp/log.$t" | head -30 | sed 's/^/# /'
		failed=$((failed + 1))
	fi
done
echo "1..$n"
[ $failed -eq 0 ]
