#!/bin/sh
# The tree builds with -Wall -Wextra -Werror under both gcc and clang.
# make check has just built it with the default cc; this builds a
# scratch copy with the other compiler, so neither can rot.
TOP=$(cd "$(dirname "$0")/.." && pwd)
D=$(mktemp -d /tmp/omni-build.XXXXXX)
trap 'rm -rf "$D"' EXIT
echo "1..2"
cd "$TOP" || exit 1
# Sources only: what git tracks, as the working tree has them.
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$D"
if make -C "$D" -j2 CC=clang all tests >"$D/clang.log" 2>&1; then
	echo "ok 1 - clang builds every program and test with -Werror"
else
	echo "not ok 1 - clang build failed"
	grep -E 'error|warning' "$D/clang.log" | head -20 | sed 's/^/# /'
fi
if make -C "$D" clean >/dev/null 2>&1 &&
    make -C "$D" -j2 CC=gcc all tests >"$D/gcc.log" 2>&1; then
	echo "ok 2 - gcc builds every program and test with -Werror"
else
	echo "not ok 2 - gcc build failed"
	grep -E 'error|warning' "$D/gcc.log" | head -20 | sed 's/^/# /'
fi
