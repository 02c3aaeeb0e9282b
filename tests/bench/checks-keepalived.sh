#!/bin/bash
# make bench: every nanny check against keepalived's checker of the same
# kind, on the same real services, with the same settings, in the kernel lab;
# the detection times of each kind of failure and repair, with the ratio
# nanny/keepalived, as SUMMARY lines (docs/BENCHMARKS.md). The work is
# tests/lab/checks-keepalived.sh (also a test: it fails when the two tools
# disagree); this runs it for several cycles:
#     tests/kernel-lab/run tests/bench/checks-keepalived.sh [NANNY] [CYCLES] [INTERVAL] [TIMEOUT]
# (defaults: release nanny, 3 cycles, checks every 2 s, timeouts 5 s).
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NANNY=${1:-$REPO/target/release/nanny}
[ -x "$NANNY" ] || NANNY=$REPO/target/debug/nanny
exec "$REPO/tests/lab/checks-keepalived.sh" "$NANNY" "${2:-3}" "${3:-2}" "${4:-5}"
