#!/bin/sh
# Every fuzz target builds and survives a short run from its seeds.
# Longer runs: make fuzz FUZZ_SECONDS=600.
TOP=$(cd "$(dirname "$0")/.." && pwd)
exec sh "$TOP/regress/fuzz/run.sh" "${FUZZ_SECONDS:-10}"
