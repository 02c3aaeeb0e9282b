#!/bin/bash
# One kernel-lab boot for the two client-side scripts of `make test`: every
# role change of a director pair (role-change.sh) and active-active
# directors over BGP (scale-out.sh).
#     tests/kernel-lab/run [--env ...] tests/lab/role-change-and-scale-out.sh BIN_DIR
here=$(dirname "$0")
bash "$here/role-change.sh" "$@"; a=$?
bash "$here/scale-out.sh" "$@"; b=$?
[ $a = 0 ] && [ $b = 0 ]
