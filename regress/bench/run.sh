#!/bin/sh
# make bench: every benchmark, in order, each printing its numbers.
# Benchmarks measure; they do not fail on speed.  A benchmark that
# cannot run (a missing tool, a broken setup) fails loudly.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
fail=0
for b in ${BENCHES:-nucleus edge dataplane}; do
	echo "### bench $b ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg))"
	sh "$TOP/regress/bench/$b.sh" || { echo "### bench $b FAILED"; fail=1; }
done
exit $fail
