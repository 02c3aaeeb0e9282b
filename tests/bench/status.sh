#!/bin/bash
# make bench, inside the kernel lab:
#     tests/kernel-lab/run --mem 8192 tests/bench/status.sh [BIN_DIR] [N]
# The cost of being observed (issue 20): pulse runs a director of N virtual
# services x 4 real servers (default 1000; our ipvsadm, so lvs reads the
# kernel's counters over netlink), and we measure
#   - the time `lvs --status --json` and `pulse --status --json` take
#     (median and worst of 10), and the size of the answer;
#   - lvs's and pulse's CPU over 60 s with one Prometheus scrape of pulse's
#     /metrics every second, next to 60 s without;
# Knob (--env NAME=VALUE): LAB_BENCH_SECS (measurement window, default 60).
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "run me through tests/kernel-lab/run" >&2; exit 2; }
REPO=${KERNEL_LAB_REPO:-$(pwd)}
BIN=${1:-$REPO/target/release}
N=${2:-1000}
SECS=${LAB_BENCH_SECS:-60}
IPVSADM=$BIN/ipvsadm
PORT=8080
W=$(mktemp -d /tmp/statusbench.XXXXXX)
SRV=
cleanup() {
    [ -n "${PP:-}" ] && kill -9 "$PP" 2>/dev/null
    pkill -9 -f "$BIN/lvs" 2>/dev/null; pkill -9 -f "$BIN/nanny" 2>/dev/null
    for p in $SRV; do kill "$p" 2>/dev/null; done; "$IPVSADM" -C 2>/dev/null
    for i in 1 2 3 4; do ip netns del "bs$i" 2>/dev/null; done
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null
ACCEPT=$BIN/examples/accept_close   # cargo build --release --examples
for i in 1 2 3 4; do
    ip netns add "bs$i"; ip link add "vs$i" type veth peer name eth0 netns "bs$i"
    ip addr add "10.0.$((i + 1)).1/24" dev "vs$i"; ip link set "vs$i" up
    ip -n "bs$i" link set lo up; ip -n "bs$i" addr add "10.0.$((i + 1)).2/24" dev eth0; ip -n "bs$i" link set eth0 up
    if [ -x "$ACCEPT" ]; then
        ip netns exec "bs$i" "$ACCEPT" "0.0.0.0:$PORT" &
    else
        ip netns exec "bs$i" python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', $PORT)); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()
" &
    fi
    SRV="$SRV $!"
done
ip link add bench0 type dummy && ip link set bench0 up && ip addr add 10.0.9.1/24 dev bench0
vip() { echo "10.1.$(($1 / 250)).$(($1 % 250 + 1))"; }
{
    echo "primary = 10.0.9.1"; echo "service = lvs"; echo "backup_active = 0"
    echo "network = nat"; echo "ipvsadm = $IPVSADM"
    for ((i = 0; i < N; i++)); do
        printf 'virtual vs%d {\n    active = 1\n    address = %s bench0:1\n    port = %d\n    scheduler = wlc\n    client_monitor = %s\n    timeout = 10\n    reentry = 25\n' "$i" "$(vip $i)" "$PORT" "$BIN/nanny"
        for r in 1 2 3 4; do
            printf '    server rs%d {\n        address = 10.0.%d.2\n        active = 1\n        weight = 1\n    }\n' "$r" $((r + 1))
        done
        echo "}"
    done
} >"$W/lvs.cf"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
stats() {  # label command... -> median and worst of 10 runs, in ms
    local label=$1 t a=() i; shift
    for i in 1 2 3 4 5 6 7 8 9 10; do
        t=$(date +%s%N); "$@" >"$W/out" 2>&1; a+=("$(ms "$t")")
    done
    printf '%s\n' "${a[@]}" | sort -n | awk -v l="$label" -v b="$(wc -c <"$W/out")" \
        '{v[NR]=$1} END {printf "%-34s median %5d ms, worst %5d ms (%d bytes)\n", l, v[int((NR+1)/2)], v[NR], b; print v[int((NR+1)/2)] > "/dev/stderr"}'
}
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # ticks (1/100 s)

"$BIN/pulse" -n -c "$W/lvs.cf" --lvsd "$BIN/lvs" --send-arp "$BIN/send_arp" --pidfile "$W/pulse.pid" \
    --metrics 127.0.0.1:9539 >"$W/pulse.log" 2>&1 &
PP=$!
t0=$(date +%s%N)
until [ "$(grep -c Masq /proc/net/ip_vs 2>/dev/null)" -ge $((4 * N)) ]; do
    sleep 1; [ "$(ms "$t0")" -gt 600000 ] && { echo "FAIL: table not full in 600 s"; tail "$W/pulse.log"; exit 1; }
done
echo "director of $N services x 4 real servers up in $(( $(ms "$t0") / 1000 )) s (pulse, lvs, our ipvsadm)"
# pulse announces each of the N addresses with send_arp: the emulated guest
# is busy with those processes for a while; measure after them.
t1=$(date +%s%N)
while pgrep -x send_arp >/dev/null && [ "$(ms "$t1")" -lt 300000 ]; do sleep 1; done
echo "gratuitous ARPs done $(( $(ms "$t1") / 1000 )) s later"
sleep 5
LP=$(cat /var/run/lvs.pid)
printf '%-6s %s\n' N "$N"
stats "lvs --status --json" "$BIN/lvs" --status --json 2>"$W/lvs_ms"
for i in 1 2 3 4 5 6 7 8 9 10; do
    "$BIN/lvs" --status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["lvs"]["took"] * 1000)'
done | sort -n | awk '{v[NR]=$1} END {printf "%-34s median %5d ms, worst %5d ms\n", "  of which lvs itself (took)", v[int((NR+1)/2)], v[NR]; print int(v[int((NR+1)/2)]) > "/dev/stderr"}' 2>"$W/took_ms"
stats "lvs --status --json --full" "$BIN/lvs" --status --json --full 2>/dev/null
stats "lvs --status (text)" "$BIN/lvs" --status 2>/dev/null
stats "pulse --status --json" "$BIN/pulse" --status --json 2>"$W/pulse_ms"
stats "curl /metrics" curl -s http://127.0.0.1:9539/metrics 2>"$W/metrics_ms"
# The kernel's side of a status: one netlink dump of the services, and one
# of the real servers per service (what ipvsadm -L does), or /proc.
stats "ipvsadm -L -n --stats" "$IPVSADM" -L -n --stats 2>/dev/null
stats "cat /proc/net/ip_vs" cat /proc/net/ip_vs 2>/dev/null
echo "metrics: $(curl -s http://127.0.0.1:9539/metrics | grep -vc '^#') samples"

# CPU over SECS seconds, idle, then with one scrape a second.
l0=$(cpu "$LP"); p0=$(cpu "$PP"); sleep "$SECS"; l1=$(cpu "$LP"); p1=$(cpu "$PP")
CURLS=()
for ((i = 0; i < SECS; i++)); do
    curl -s -o /dev/null --max-time 30 http://127.0.0.1:9539/metrics & CURLS+=($!); sleep 1
done
wait "${CURLS[@]}" 2>/dev/null
l2=$(cpu "$LP"); p2=$(cpu "$PP")
pct() { awk -v t="$1" -v s="$SECS" 'BEGIN {printf "%.2f", t / s}'; }   # ticks/s = % of one core
echo "lvs CPU:   idle $(pct $((l1 - l0))) %, scraped every 1 s $(pct $((l2 - l1))) % of one core"
echo "pulse CPU: idle $(pct $((p1 - p0))) %, scraped every 1 s $(pct $((p2 - p1))) % of one core"
extra=$(awk -v a=$((l2 - l1 - l1 + l0)) -v b=$((p2 - p1 - p1 + p0)) -v s="$SECS" 'BEGIN {printf "%.2f", (a + b) / s}')
echo "cost of one scrape a second (lvs + pulse, over idle): $extra % of one core"
echo "SUMMARY|status|lvs --status --json, $N x 4 (median ms)|$(cat "$W/lvs_ms")|||"
echo "SUMMARY|status|lvs's own time for a status, $N x 4 (median ms)|$(cat "$W/took_ms")|||"
echo "SUMMARY|status|pulse --status --json, $N x 4 (median ms)|$(cat "$W/pulse_ms")|||"
echo "SUMMARY|status|CPU of 1 scrape/s, lvs + pulse (% of a core)|$extra|||"
kill -TERM "$PP"; wait "$PP" 2>/dev/null; PP=

# No peer figure: Piranha had no status (SIGUSR1 to syslog), and keepalived's
# JSON dump (SIGJSON) holds its VRRP state only, not its virtual servers.
