#!/bin/bash
# One kernel-lab boot for two scripts: lvs against the kernel (lvs.sh) and
# the status, drain and metrics of a running director (status.sh).
#     tests/kernel-lab/run tests/lab/lvs-and-status.sh TARGET_DIR IPVSADM
here=$(dirname "$0")
bash "$here/lvs.sh" "$@"; a=$?
bash "$here/status.sh" "$@"; b=$?
[ $a = 0 ] && [ $b = 0 ]
