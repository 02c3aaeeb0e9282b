#!/bin/bash
# One kernel-lab boot for three scripts: lvs against the kernel (lvs.sh),
# the status, drain and metrics of a running director (status.sh), and
# IPv6 everywhere (ipv6.sh: dual stack, tunnels, an IPv6 director pair).
#     tests/kernel-lab/run tests/lab/lvs-and-status.sh TARGET_DIR IPVSADM
here=$(dirname "$0")
bash "$here/lvs.sh" "$@"; a=$?
bash "$here/status.sh" "$@"; b=$?
bash "$here/ipv6.sh" "$1"; c=$?
[ $a = 0 ] && [ $b = 0 ] && [ $c = 0 ]
