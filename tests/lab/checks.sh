#!/bin/bash
# Kernel-lab test of nanny's extended health checks (issue 9); runs INSIDE
# the guest:
#     tests/kernel-lab/run tests/lab/checks.sh [NANNY_BINARY]
# Real IPVS and Debian's /usr/sbin/ipvsadm; a real server (busybox httpd)
# in its own network namespace. Checked against the kernel table:
#   * http check with a digest: entry added; the page changes -> removed
#     (digest mismatch); the page goes (404) -> stays out; it comes back ->
#     re-added after --rise 2 checks;
#   * misc check in dynamic mode: exit 7 -> weight 5 in the table, exit 2 ->
#     weight 0, exit 1 -> removed, exit 0 -> back;
#   * tcp check: the server's port closes -> removed within one interval +
#     one I/O timeout.
set -u

if [ "${KERNEL_LAB:-}" != 1 ]; then
    echo "checks.sh: run me through tests/kernel-lab/run, not on the host" >&2
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
WORK=$(mktemp -d /tmp/checks-lab.XXXXXX)
FAILS=0
HTTPD=
PIDS=()

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    [ -n "$HTTPD" ] && kill "$HTTPD" 2>/dev/null
    $IPVSADM -C 2>/dev/null
    ip netns del lab-rs1 2>/dev/null
    ip link del lab-r1 2>/dev/null
    ip link del lab-vip 2>/dev/null
    rm -rf "$WORK"
}
die() { echo "FAIL: $*"; cleanup; exit 1; }
now() { echo $(( $(date +%s%N) / 1000000 )); }
# weight of RIP:PORT in service VIP:VPORT, empty when absent
weight() { $IPVSADM -S -n | awk -v s="$VIP:$1" -v r="$RIP:$2" '$0 ~ "-t "s" -r "r" " { for (i = 1; i <= NF; i++) if ($i == "-w") print $(i + 1) }'; }
wait_until() {
    local end t
    end=$(( $(now) + $2 * 1000 ))
    while :; do
        t=$(now)
        if eval "$1"; then echo "$t"; return 0; fi
        [ "$t" -gt "$end" ] && return 1
        sleep 0.05
    done
}

[ -x "$NANNY" ] || die "nanny binary not found (build it first: cargo build -p nanny)"
[ -r /proc/net/ip_vs ] || die "/proc/net/ip_vs missing"

ip link add lab-vip type dummy && ip link set lab-vip up && ip addr add $VIP/32 dev lab-vip || die "VIP"
ip netns add lab-rs1 || die "netns"
ip link add lab-r1 type veth peer name eth0 netns lab-rs1 || die "veth"
ip addr add 10.0.2.1/24 dev lab-r1 && ip link set lab-r1 up || die "veth up"
ip -n lab-rs1 link set lo up && ip -n lab-rs1 addr add $RIP/24 dev eth0 && ip -n lab-rs1 link set eth0 up || die "ns addr"
mkdir -p "$WORK/www" && echo "healthy" > "$WORK/www/health.html"
ip netns exec lab-rs1 "$BUSYBOX" httpd -f -p 80 -h "$WORK/www" &
HTTPD=$!
for port in 80 81 82; do $IPVSADM -A -t $VIP:$port -s wlc || die "ipvsadm -A $port"; done
DIGEST=$(md5sum < "$WORK/www/health.html" | cut -c1-32)
pass "real server $RIP:80 in namespace lab-rs1, services on $VIP:80,81,82"

# ---------------------------------------------------------------- http + digest
"$NANNY" -n -c --lvs -h $RIP -p 80 -r 80 -V $VIP -t 1 -w 3 -M g -I $IPVSADM \
    --check http --http-path /health.html --http-digest "$DIGEST" --rise 2 > "$WORK/http.log" 2>&1 &
PIDS+=($!)
wait_until '[ -n "$(weight 80 80)" ]' 8 >/dev/null && pass "http: entry added" || fail "http: entry not added"
echo "changed" > "$WORK/www/health.html"
wait_until '[ -z "$(weight 80 80)" ]' 6 >/dev/null && pass "http: digest mismatch removes the entry" || fail "http: entry kept after the page changed"
grep -q "due to connection failure (http check: digest" "$WORK/http.log" && pass "http: [inactive] line names the digest" || fail "http: no digest line"
rm "$WORK/www/health.html"
sleep 2.5

[ -z "$(weight 80 80)" ] && pass "http: 404 keeps it out" || fail "http: entry back while 404"
echo "healthy" > "$WORK/www/health.html"
t0=$(now)
if t1=$(wait_until '[ -n "$(weight 80 80)" ]' 8); then
    echo "http: back after $((t1 - t0)) ms (rise 2, interval 1 s)"
    [ $((t1 - t0)) -ge 900 ] && pass "http: re-added after two good checks" || fail "http: re-added after one check"
else
    fail "http: not re-added"
fi

# ---------------------------------------------------------------- misc dynamic
echo 0 > "$WORK/code"
cat > "$WORK/misc.sh" <<EOS
#!/bin/sh
exit \$(cat $WORK/code)
EOS
chmod +x "$WORK/misc.sh"
"$NANNY" -n -c --lvs -h $RIP -p 81 -r 81 -V $VIP -t 1 -w 1 -M g -I $IPVSADM \
    --check misc --misc-program "$WORK/misc.sh %h %p" --misc-dynamic --rise 1 --io-timeout 3 > "$WORK/misc.log" 2>&1 &
PIDS+=($!)
wait_until '[ "$(weight 81 81)" = 1 ]' 8 >/dev/null && pass "misc: entry added with weight 1" || fail "misc: entry not added ($(weight 81 81))"
echo 7 > "$WORK/code"
wait_until '[ "$(weight 81 81)" = 5 ]' 6 >/dev/null && pass "misc: exit 7 -> weight 5 in the kernel table" || fail "misc: weight $(weight 81 81), want 5"
echo 2 > "$WORK/code"
wait_until '[ "$(weight 81 81)" = 0 ]' 6 >/dev/null && pass "misc: exit 2 -> weight 0" || fail "misc: weight $(weight 81 81), want 0"
echo 1 > "$WORK/code"
wait_until '[ -z "$(weight 81 81)" ]' 6 >/dev/null && pass "misc: exit 1 removes the entry" || fail "misc: entry kept on exit 1"
echo 0 > "$WORK/code"
wait_until '[ -n "$(weight 81 81)" ]' 6 >/dev/null && pass "misc: exit 0 brings it back" || fail "misc: not back on exit 0"

# ---------------------------------------------------------------- tcp
"$NANNY" -n -c --lvs -h $RIP -p 82 -r 80 -V $VIP -t 1 -w 2 -M m -I $IPVSADM \
    --check tcp --rise 1 > "$WORK/tcp.log" 2>&1 &
PIDS+=($!)
wait_until '[ -n "$(weight 82 80)" ]' 8 >/dev/null && pass "tcp: entry added" || fail "tcp: entry not added"
kill $HTTPD; wait $HTTPD 2>/dev/null; HTTPD=
t0=$(now)
if t1=$(wait_until '[ -z "$(weight 82 80)" ]' 6); then
    echo "tcp: detection $((t1 - t0)) ms (interval 1 s + I/O timeout 1 s)"
    [ $((t1 - t0)) -le 2700 ] && pass "tcp: removed within interval + timeout" || fail "tcp: removed after $((t1 - t0)) ms"
else
    fail "tcp: entry not removed"
fi

echo "--- table"
$IPVSADM -S -n
for f in http misc tcp; do echo "--- $f.log"; cat "$WORK/$f.log"; done
cleanup
if [ $FAILS = 0 ]; then echo "checks lab: ALL PASSED"; exit 0; fi
echo "checks lab: $FAILS check(s) FAILED"
exit 1
