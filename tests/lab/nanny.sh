#!/bin/bash
# Kernel-lab test for nanny; runs INSIDE the guest:
#     tests/kernel-lab/run tests/lab/nanny.sh [NANNY_BINARY]
# (default binary: target/debug/nanny, then target/release/nanny).
# Real IPVS and Debian's /usr/sbin/ipvsadm: a real server (busybox httpd) in
# its own network namespace; nanny adds its entry, removes it within one
# interval + one I/O timeout of the server dying, re-adds it after reentry,
# survives a failing ipvsadm (B1), and removes the entry on SIGTERM.
set -u

if [ "${KERNEL_LAB:-}" != 1 ]; then
    echo "nanny.sh: run me through tests/kernel-lab/run, not on the host" >&2
    exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NANNY=${1:-}
if [ -z "$NANNY" ]; then
    for c in "$REPO/target/debug/nanny" "$REPO/target/release/nanny"; do
        [ -x "$c" ] && { NANNY=$c; break; }
    done
fi
IPVSADM=/usr/sbin/ipvsadm
BUSYBOX=$(command -v busybox || echo /bin/busybox)
VIP=10.0.1.100
RIP=10.0.2.2
INTERVAL=1
REENTRY=3
WORK=$(mktemp -d /tmp/nanny-lab.XXXXXX)
FAILS=0
HTTPD=
NPID=

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
cleanup() {
    [ -n "$NPID" ] && kill "$NPID" 2>/dev/null && wait "$NPID" 2>/dev/null
    [ -n "$HTTPD" ] && kill "$HTTPD" 2>/dev/null
    $IPVSADM -C 2>/dev/null
    ip netns del lab-rs1 2>/dev/null
    ip link del lab-r1 2>/dev/null
    ip link del lab-vip 2>/dev/null
    rm -rf "$WORK"
}
die() { echo "FAIL: $*"; cleanup; exit 1; }
now() { date +%s.%N; }
has_rs() { $IPVSADM -S -n | grep -q -- "-r $RIP:80"; }
rs_weight() { $IPVSADM -S -n | awk -v r="$RIP:80" '$0 ~ "-r "r { for (i = 1; i <= NF; i++) if ($i == "-w") print $(i + 1) }'; }
# wait_until COND SECONDS: poll COND every 20 ms; print the time it held.
wait_until() {
    local end t
    end=$(echo "$(now) + $2" | bc)
    while :; do
        t=$(now)
        if eval "$1"; then echo "$t"; return 0; fi
        [ "$(echo "$t > $end" | bc)" = 1 ] && return 1
        sleep 0.02
    done
}
start_httpd() {
    ip netns exec lab-rs1 "$BUSYBOX" httpd -f -p 80 -h "$WORK/www" &
    HTTPD=$!
}

[ -x "$NANNY" ] || die "nanny binary not found (build it first: cargo build -p nanny-bin)"
[ -r /proc/net/ip_vs ] || die "/proc/net/ip_vs missing"
command -v bc >/dev/null || die "bc missing"
echo "nanny:   $NANNY"
echo "ipvsadm: $($IPVSADM --version 2>&1 | head -n1)"

# ---------------------------------------------------------------- topology
ip link add lab-vip type dummy && ip link set lab-vip up && ip addr add $VIP/32 dev lab-vip || die "VIP"
ip netns add lab-rs1 || die "netns"
ip link add lab-r1 type veth peer name eth0 netns lab-rs1 || die "veth"
ip addr add 10.0.2.1/24 dev lab-r1 && ip link set lab-r1 up || die "veth up"
ip -n lab-rs1 link set lo up && ip -n lab-rs1 addr add $RIP/24 dev eth0 && ip -n lab-rs1 link set eth0 up || die "ns addr"
ip -n lab-rs1 route add default via 10.0.2.1 || die "ns route"
mkdir -p "$WORK/www" && echo "real-server-1" > "$WORK/www/index.html"
start_httpd
pass "real server $RIP:80 in namespace lab-rs1"

# ---------------------------------------------------------------- B1 first: no virtual service yet
"$NANNY" -n -c --lvs -h $RIP -p 80 -r 80 -V $VIP -t $INTERVAL -a $REENTRY -w 1 -M m -I $IPVSADM \
    > "$WORK/nanny.log" 2>&1 &
NPID=$!
if wait_until "grep -q 'command failed!' '$WORK/nanny.log'" 10 >/dev/null; then
    pass "ipvsadm failure logged: $(grep -m1 'command failed!' "$WORK/nanny.log")"
else
    fail "no 'command failed!' line while the virtual service is missing"
fi
sleep 1.5
kill -0 $NPID 2>/dev/null && pass "nanny survives a failing ipvsadm (B1)" || fail "nanny died on a failing ipvsadm"

$IPVSADM -A -t $VIP:80 -s rr || die "ipvsadm -A"
if t=$(wait_until has_rs 5); then
    pass "entry added on retry once the virtual service exists"
else
    fail "entry not added after the virtual service appeared"
fi
[ "$(rs_weight)" = 1 ] && pass "weight 1" || fail "weight $(rs_weight), want 1"
grep -q "\[ active \] making $RIP:80 available" "$WORK/nanny.log" && pass "[ active ] line" || fail "no [ active ] line"

# ---------------------------------------------------------------- server dies
sleep 0.$((RANDOM % 9 + 1))
kill $HTTPD; wait $HTTPD 2>/dev/null; HTTPD=
t0=$(now)
if t1=$(wait_until "! has_rs" 6); then
    lat=$(echo "$t1 - $t0" | bc)
    echo "detection latency: ${lat}s (limit: interval $INTERVAL + timeout $INTERVAL)"
    if [ "$(echo "$lat <= 2 * $INTERVAL + 0.25" | bc)" = 1 ]; then
        pass "entry removed within interval + timeout"
    else
        fail "entry removed after ${lat}s"
    fi
else
    fail "entry not removed after the server died"
fi
grep -q "\[inactive\] shutting down $RIP:80 due to connection failure" "$WORK/nanny.log" \
    && pass "[inactive] line" || fail "no [inactive] line"

# ---------------------------------------------------------------- server returns
start_httpd
t0=$(now)
if t1=$(wait_until has_rs $((REENTRY + 6))); then
    back=$(echo "$t1 - $t0" | bc)
    echo "re-added after ${back}s (reentry $REENTRY s)"
    if [ "$(echo "$back >= $REENTRY - $INTERVAL - 0.1 && $back <= $REENTRY + 2 * $INTERVAL + 0.5" | bc)" = 1 ]; then
        pass "entry re-added after reentry"
    else
        fail "re-added after ${back}s, want about $REENTRY s"
    fi
else
    fail "entry not re-added"
fi


# ---------------------------------------------------------------- SIGTERM
kill -TERM $NPID
wait $NPID; rc=$?; NPID=
[ $rc = 0 ] && pass "nanny exits 0 on SIGTERM" || fail "nanny exit status $rc"
has_rs && fail "entry still present after SIGTERM" || pass "entry removed on SIGTERM"
grep -q "Terminating due to signal 15" "$WORK/nanny.log" && pass "termination line" || fail "no termination line"

echo "--- nanny log"
cat "$WORK/nanny.log"
cleanup
if [ $FAILS = 0 ]; then echo "nanny lab: ALL PASSED"; exit 0; fi
echo "nanny lab: $FAILS check(s) FAILED"
exit 1
