#!/bin/sh
# make check: every unit test and integration test, through prove(1).
# The last lines are prove's summary ("All tests successful." or a
# list of failures, then "Result: PASS/FAIL").
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
if [ "$(id -u)" != 0 ]; then
	echo "make check needs root: integration tests use network namespaces" >&2
	exit 1
fi
sh etc/omni-adduser.sh >/dev/null
# Arguments: the unit test programs (make passes $(TESTS)).
exec prove --exec '' ${PROVE_FLAGS:-} "$@" regress/*.t
