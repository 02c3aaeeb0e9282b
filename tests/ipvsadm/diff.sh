#!/bin/bash
# Differential test of our ipvsadm against Debian's ipvsadm 1.31.
# Runs INSIDE the kernel lab guest (real IPVS):
#     tests/kernel-lab/run tests/ipvsadm/diff.sh [OURS_BINARY] [CASE...]
# Every case file under tests/ipvsadm/cases/ is a bash snippet calling `ipv ARGS`
# (one ipvsadm invocation; stdin may be a here-document) and optionally
# `ipvh ARGS` (compare the first output line only, for -h).  Each case runs on a
# fresh table once with /usr/sbin/ipvsadm and once with ours, both as argv[0]
# "ipvsadm"; stdout, stderr, exit codes and the final `-S -n`, `--timeout` and
# `--daemon` must match byte for byte.  Prints a unified diff per failing case
# and a closing "N passed, M failed" line; exits 1 on any failure.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
REF=${IPVSADM_REF:-/usr/sbin/ipvsadm}
OURS=${1:-${IPVSADM_OURS:-$REPO/target/debug/ipvsadm}}
[ $# -gt 0 ] && shift
if [ "${KERNEL_LAB:-}" != 1 ]; then
    echo "diff.sh: run me through tests/kernel-lab/run (needs kernel IPVS)" >&2
    exit 2
fi
[ -x "$REF" ] || { echo "diff.sh: reference $REF missing" >&2; exit 2; }
[ -x "$OURS" ] || { echo "diff.sh: our binary $OURS missing (cargo build -p ipvsadm)" >&2; exit 2; }
exec </dev/null

# Guest-only environment: no DNS server (lookups fail fast), a few host
# names for name parsing and reverse lookups, an eth0 for the sync daemon.
printf 'options timeout:1 attempts:1\n' >/etc/resolv.conf 2>/dev/null
cat >>/etc/hosts 2>/dev/null <<'HOSTS'
10.9.0.1 vip-one
10.9.0.2 real-two
HOSTS
ip link show eth0 >/dev/null 2>&1 || { ip link add eth0 type dummy && ip link set eth0 up; }
ip link show sync1 >/dev/null 2>&1 || { ip link add sync1 type dummy && ip link set sync1 up; }
modprobe -q ip_vs 2>/dev/null
for s in rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos; do modprobe -q ip_vs_$s 2>/dev/null; done
modprobe -q ip_vs_pe_sip 2>/dev/null

WORK=$(mktemp -d /tmp/ipvsadm-diff.XXXXXX)
# The guest's root is 9p without caching: every exec reads the binary and its
# libraries from the host again.  Copy the hot files up into the overlay's
# tmpfs once (and our binary into /tmp), which makes each run several times
# cheaper.
copy_up() {
    local f
    for f in "$@"; do
        f=$(readlink -f "$f") && [ -f "$f" ] || continue
        cp -p "$f" "$f.cu$$" && mv -f "$f.cu$$" "$f"
    done
}
copy_up /lib64/ld-linux-x86-64.so.2 $(ldd "$REF" "$OURS" 2>/dev/null | awk '$2 == "=>" { print $3 }') \
    $(command -v cat head cmp diff sed mktemp basename) /etc/services /etc/hosts
cp "$OURS" "$WORK/ipvsadm" && OURS=$WORK/ipvsadm
BIN=
LOG=

# One invocation, recorded: the command line, stdout and exit code go to
# $LOG, the command line and stderr to $ELOG.  Only bash builtins besides the
# ipvsadm exec itself: every exec costs a few hundred ms under TCG.
cmdline() {
    local a q
    CMDLINE='$ ipvsadm'
    for a in "$@"; do printf -v q ' %q' "$a"; CMDLINE+=$q; done
}
ipv() {
    cmdline "$@"
    printf '%s\n' "$CMDLINE" >>"$ELOG"
    printf '%s\n--- stdout\n' "$CMDLINE" >>"$LOG"
    (exec -a ipvsadm "$BIN" "$@") >>"$LOG" 2>>"$ELOG"
    printf '[rc %d]\n' $? >>"$LOG"
}
# same, first stdout line only (the help text is ours, in our own words)
ipvh() {
    local first=
    cmdline "$@"
    printf '%s\n' "$CMDLINE" >>"$ELOG"
    printf '%s | head -1\n--- stdout\n' "$CMDLINE" >>"$LOG"
    (exec -a ipvsadm "$BIN" "$@") >"$WORK/o" 2>>"$ELOG"
    printf '[rc %d]\n' $? >>"$LOG"
    IFS= read -r first <"$WORK/o"
    printf '%s\n' "$first" >>"$LOG"
}
# stdout of an unrecorded run (to feed a later -R)
ipvout() { (exec -a ipvsadm "$BIN" "$@") 2>/dev/null; }

reset_kernel() {  # one exec: kernel errors (no daemon running) do not stop -R
    "$REF" -R 2>/dev/null <<'RESET'
-C
--stop-daemon master
--stop-daemon backup
--set 900 120 300
RESET
}

state() {
    {
        echo "=== final -S -n"; (exec -a ipvsadm "$BIN" -S -n)
        echo "=== final --timeout"; (exec -a ipvsadm "$BIN" -L --timeout)
        echo "=== final --daemon"; (exec -a ipvsadm "$BIN" -L --daemon)
    } >>"$LOG" 2>&1
}

if [ $# -gt 0 ]; then CASES=("$@"); else CASES=("$HERE"/cases/*.sh); fi
PASS=0 FAIL=0 FAILED=()
# A case named on the command line may be given as its name (05-edits).
for i in "${!CASES[@]}"; do
    c=${CASES[$i]}
    [ -f "$c" ] || c="$HERE/cases/${c%.sh}.sh"
    [ -f "$c" ] || { echo "FAIL: no such case: ${CASES[$i]}"; exit 1; }
    CASES[$i]=$c
done
for c in "${CASES[@]}"; do
    name=$(basename "$c" .sh)
    for impl in ref ours; do
        if [ $impl = ref ]; then BIN=$REF; else BIN=$OURS; fi
        LOG="$WORK/$name.$impl"
        ELOG="$WORK/$name.$impl.err"
        : >"$LOG"; : >"$ELOG"
        reset_kernel
        # shellcheck source=/dev/null
        . "$c"
        state
    done
    if cmp -s "$WORK/$name.ref" "$WORK/$name.ours" && cmp -s "$WORK/$name.ref.err" "$WORK/$name.ours.err"; then
        PASS=$((PASS + 1))
    else
        FAIL=$((FAIL + 1)); FAILED+=("$name")
        echo "FAIL: $name (--- Debian ipvsadm, +++ ours)"
        diff -u "$WORK/$name.ref" "$WORK/$name.ours" | sed -n '3,$p' | head -n 80
        diff -u "$WORK/$name.ref.err" "$WORK/$name.ours.err" | sed -n '3,$p' | sed 's/^/stderr| /' | head -n 60
    fi
done
reset_kernel
INV=$(cat "$WORK"/*.ref.err | grep -c '^\$ ipvsadm')
echo "ipvsadm differential: ${#CASES[@]} cases, $INV invocations each side"
[ $FAIL = 0 ] || echo "failed cases: ${FAILED[*]}"
echo "$PASS passed, $FAIL failed"
rm -rf "$WORK"
[ $FAIL = 0 ]
