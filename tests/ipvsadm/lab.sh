#!/bin/bash
# Everything ipvsadm checks in the kernel lab, in ONE guest boot:
#     tests/kernel-lab/run --timeout 1800 tests/ipvsadm/lab.sh [OURS_BINARY]
# = diff.sh (differential corpus against Debian's ipvsadm) + traffic.sh.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rc=0
# The differential corpus first: connections left by the traffic test would
# show up in its `-c` listings with expiry counters that tick between the
# Debian run and ours.
"$HERE/diff.sh" "$@" || rc=1
"$HERE/traffic.sh" "$@" || rc=1
exit $rc
