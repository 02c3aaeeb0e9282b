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
# Starting a process in the emulated guest can take over a second when the
# host is busy (the wrapper below shows it); timing limits allow SLACK ms for
# that on top of the figure nanny itself promises.
SLACK=${NANNY_LAB_SLACK_MS:-500}
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
now() { echo $(( $(date +%s%N) / 1000000 )); }   # milliseconds
ms() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
has_rs() { $IPVSADM -S -n | grep -q -- "-r $RIP:80"; }
rs_weight() { $IPVSADM -S -n | awk -v r="$RIP:80" '$0 ~ "-r "r { for (i = 1; i <= NF; i++) if ($i == "-w") print $(i + 1) }'; }
# wait_until COND SECONDS: poll COND every 20 ms; print the time it held.
wait_until() {
    local end t
    end=$(( $(now) + $2 * 1000 ))
    while :; do
        t=$(now)
        if eval "$1"; then echo "$t"; return 0; fi
        [ "$t" -gt "$end" ] && return 1
        sleep 0.02
    done
}
# time (ms) of the first recorded ipvsadm call whose arguments start with $1
call_time() { awk -v p="$1" 'index($0, " " p) == length($1) + 1 { print $1; exit }' "$WORK/calls.log"; }
start_httpd() {
    ip netns exec lab-rs1 "$BUSYBOX" httpd -f -p 80 -h "$WORK/www" &
    HTTPD=$!
}

[ -x "$NANNY" ] || die "nanny binary not found (build it first: cargo build -p nanny)"
[ -r /proc/net/ip_vs ] || die "/proc/net/ip_vs missing"
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

# ipvsadm as nanny runs it: Debian's, behind a wrapper that records when.
cat > "$WORK/ipvsadm" <<EOS
#!/bin/sh
echo "\$((\$(date +%s%N) / 1000000)) \$*" >> "$WORK/calls.log"
exec $IPVSADM "\$@"
EOS
chmod +x "$WORK/ipvsadm"

# ---------------------------------------------------------------- B1 first: no virtual service yet
"$NANNY" -n -c --lvs -h $RIP -p 80 -r 80 -V $VIP -t $INTERVAL -a $REENTRY -w 1 -M m -I "$WORK/ipvsadm" \
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
if wait_until "! has_rs" 6 >/dev/null; then
    t1=$(call_time "-d ")
    lat=$((t1 - t0))
    echo "detection latency (kill -> ipvsadm -d run): $(ms $lat)s (limit: interval $INTERVAL + timeout $INTERVAL)"
    if [ "$lat" -le $((2000 * INTERVAL + SLACK)) ]; then
        pass "entry removed within interval + timeout"
    else
        fail "entry removed after $(ms $lat)s"
    fi
else
    fail "entry not removed after the server died"
fi
grep -q "\[inactive\] shutting down $RIP:80 due to connection failure" "$WORK/nanny.log" \
    && pass "[inactive] line" || fail "no [inactive] line"

# ---------------------------------------------------------------- server returns
ADDS=$(grep -c -- ' -a ' "$WORK/calls.log")
start_httpd
t0=$(now)
if wait_until has_rs $((REENTRY + 6)) >/dev/null; then
    t1=$(awk '$2 == "-a" { t = $1 } END { print t }' "$WORK/calls.log")
    back=$((t1 - t0))
    echo "re-added $(ms $back)s after the restart (reentry $REENTRY s = $REENTRY checks at interval $INTERVAL)"
    # REENTRY successful checks; the first can come up to one interval
    # later, and httpd and ipvsadm must start (SLACK each, at most).
    if [ "$back" -ge $(((REENTRY - 1) * 1000 * INTERVAL)) ] && [ "$back" -le $(((REENTRY + 1) * 1000 * INTERVAL + 4 * SLACK)) ]; then
        pass "entry re-added after reentry"
    else
        fail "re-added after $(ms $back)s, want about $REENTRY s"
    fi
    [ "$(grep -c -- ' -a ' "$WORK/calls.log")" = $((ADDS + 1)) ] && pass "one -a for the re-add" || fail "unexpected -a calls"
else
    fail "entry not re-added"
fi


# ---------------------------------------------------------------- SIGTERM
kill -TERM $NPID
wait $NPID; rc=$?; NPID=
[ $rc = 0 ] && pass "nanny exits 0 on SIGTERM" || fail "nanny exit status $rc"
has_rs && fail "entry still present after SIGTERM" || pass "entry removed on SIGTERM"
grep -q "Terminating due to signal 15" "$WORK/nanny.log" && pass "termination line" || fail "no termination line"

echo "--- ipvsadm calls (ms, argv)"
cat "$WORK/calls.log"
echo "--- nanny log"
cat "$WORK/nanny.log"
cleanup
if [ $FAILS = 0 ]; then echo "nanny lab: ALL PASSED"; exit 0; fi
echo "nanny lab: $FAILS check(s) FAILED"
exit 1
