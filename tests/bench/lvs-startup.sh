#!/bin/bash
# make bench, inside the kernel lab:  tests/kernel-lab/run --mem 3072 tests/bench/lvs-startup.sh [BIN_DIR] [SIZES]
# Start-up of lvs to a full table (every real server added by its nanny)
# for N virtual services x 4 real servers, next to Debian's keepalived with
# the same services (TCP_CHECK) in the same guest; memory as PSS; then the
# time a one-server SIGHUP change takes at the largest N.
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "run me through tests/kernel-lab/run" >&2; exit 2; }
REPO=${KERNEL_LAB_REPO:-$(pwd)}
BIN=${1:-$REPO/target/release}
SIZES=${2:-10 100 1000}
IPVSADM=${LAB_IPVSADM:-/usr/sbin/ipvsadm}
PY=$(command -v python3 || echo /usr/bin/python3)
# Both daemons run TCP connect checks (keepalived TCP_CHECK; nanny on a
# virtual port other than 80, where it would default to an HTTP GET).  The
# real servers accept and close in one process with a deep backlog, so the
# servers, not the directors, never set the pace (busybox httpd forks per
# connection, which under emulation drops SYNs at a few hundred checks/s).
PORT=8080
KEEPALIVED=$(command -v keepalived || echo /usr/sbin/keepalived)
W=$(mktemp -d /tmp/lvsbench.XXXXXX)
cleanup() {
    pkill -9 -f "$BIN/lvs" 2>/dev/null; pkill -9 -f "$BIN/nanny" 2>/dev/null; pkill -9 keepalived 2>/dev/null
    for p in $SRV; do kill "$p" 2>/dev/null; done; $IPVSADM -C 2>/dev/null
    for i in 1 2 3 4; do ip netns del "br$i" 2>/dev/null; done
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null
ACCEPT=$BIN/examples/accept_close   # cargo build --release --examples
for i in 1 2 3 4; do
    ip netns add "br$i"; ip link add "vb$i" type veth peer name eth0 netns "br$i"
    ip addr add "10.0.$((i + 1)).1/24" dev "vb$i"; ip link set "vb$i" up
    ip -n "br$i" link set lo up; ip -n "br$i" addr add "10.0.$((i + 1)).2/24" dev eth0; ip -n "br$i" link set eth0 up
    if [ -x "$ACCEPT" ]; then
        ip netns exec "br$i" "$ACCEPT" "0.0.0.0:$PORT" &
    else
        ip netns exec "br$i" "$PY" -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', $PORT)); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()
" &
    fi
    SRV="${SRV:-} $!"
done
# Seconds between checks, both daemons: 2 s up to 100 services; above, 4,000
# processes checking every 2 s saturate a 2-vCPU emulated guest on their own.
interval() { if [ "$1" -le 100 ]; then echo "${LAB_BENCH_INTERVAL:-2}"; else echo "${LAB_BENCH_INTERVAL_LARGE:-10}"; fi; }
LIMIT=${LAB_BENCH_LIMIT:-240}   # seconds to wait for a full table
dests() { grep -c -- '->.*Masq' /proc/net/ip_vs; }
full() { local d; d=$(dests); [ "$d" -gt "${MAXSEEN:-0}" ] && MAXSEEN=$d; [ "$d" -ge "$1" ]; }
now() { date +%s%N; }
pss() {  # pids... -> MB (one awk for all of them: an exec per pid took
          # minutes for 4,000 nannies under emulation)
    local p files=()
    for p in "$@"; do [ -r "/proc/$p/smaps_rollup" ] && files+=("/proc/$p/smaps_rollup"); done
    [ ${#files[@]} -gt 0 ] || { echo 0.0; return; }
    awk '/^Pss:/ {t += $2} END {printf "%d.%d\n", t / 1024, (t % 1024) * 10 / 1024}' "${files[@]}" 2>/dev/null
}
secs() { case "$1" in *[!0-9]*) echo "$1" ;; *) echo "$1" | awk '{printf "%.2f", $1/1000}' ;; esac; }
TAG=; [ "$IPVSADM" != /usr/sbin/ipvsadm ] && TAG=" (in-process)"
vip() { echo "10.1.$(($1 / 250)).$(($1 % 250 + 1))"; }
lvs_cf() {  # n [weight-of-last]
    echo "primary = 10.0.2.1"; echo "network = nat"; echo "ipvsadm = $IPVSADM"
    local i r t; t=$(interval "$1")
    for ((i = 0; i < $1; i++)); do
        printf 'virtual vs%d {\n    active = 1\n    address = %s lo:1\n    port = %d\n    scheduler = wlc\n    client_monitor = %s\n    timeout = %d\n    reentry = %d\n' "$i" "$(vip $i)" "$PORT" "$BIN/nanny" "$t" $((t * 5 / 2))
        for r in 1 2 3 4; do
            w=1; [ $i = $(($1 - 1)) ] && [ $r = 4 ] && w=${2:-1}
            printf '    server rs%d {\n        address = 10.0.%d.2\n        active = 1\n        weight = %d\n    }\n' "$r" $((r + 1)) "$w"
        done
        echo "}"
    done
}
ka_cf() {
    local i r t; t=$(interval "$1")
    for ((i = 0; i < $1; i++)); do
        printf 'virtual_server %s %d {\n    delay_loop %d\n    lb_algo wlc\n    lb_kind NAT\n    protocol TCP\n' "$(vip $i)" "$PORT" "$t"
        for r in 1 2 3 4; do
            printf '    real_server 10.0.%d.2 %d {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 1\n            retry 0\n        }\n    }\n' $((r + 1)) "$PORT"
        done
        echo "}"
    done
}
printf '%-6s %-10s %10s %8s %10s\n' N daemon "full (s)" procs "PSS (MB)"
for n in $SIZES; do
    $IPVSADM -C
    lvs_cf "$n" >"$W/lvs.cf"
    t0=$(now)
    "$BIN/lvs" -n -c "$W/lvs.cf" --pidfile "$W/lvs.pid" >"$W/lvs.log" 2>&1 &
    lp=$!
    MAXSEEN=0; ok=1; ts=
    until full $((4 * n)); do
        sleep 0.2; [ $(( ($(now) - t0) / 1000000000 )) -gt $LIMIT ] && { ok=0; break; }
        [ -z "$ts" ] && [ "$(grep -c "create_monitor for" "$W/lvs.log")" -ge $((4 * n)) ] && ts=$(( ($(now) - t0) / 1000000 ))
    done
    t=$(( ($(now) - t0) / 1000000 ))
    [ -n "$ts" ] && echo "($((4 * n)) nannies running after $(secs "$ts") s)"
    pids="$lp $(pgrep -f "$BIN/nanny" | tr '\n' ' ')"
    np=$(echo $pids | wc -w)
    [ $ok = 1 ] || t="not full after ${LIMIT}s (max $MAXSEEN of $((4 * n)))"
    if [ $ok = 0 ] || [ -n "${LAB_BENCH_DIAG:-}" ]; then
        echo "--- diagnostics: load $(cut -d' ' -f1-3 /proc/loadavg); log lines by kind:"
        tail -n 20000 "$W/lvs.log" | sed -E 's/^[^]]*\]:? ?//; s/[0-9]+(\.[0-9]+)*/N/g' | sort | uniq -c | sort -rn | head -25
        echo "---"
    fi
    if [ -n "${LAB_BENCH_SMAPS:-}" ]; then
        for p in $(pgrep -f "$BIN/nanny -c" | head -1) $(pgrep -f "nanny --fork-server"); do
            echo "--- smaps of $(tr '\0' ' ' </proc/$p/cmdline | cut -c1-60) (mapping, Pss, Private_Dirty kB)"
            awk '/^[0-9a-f]+-/{m=$6" "$2} /^Pss:/{p=$2} /^Private_Dirty:/{if (p > 0 || $2 > 0) print m, p, $2}' "/proc/$p/smaps"
        done
    fi
    our_t=$t our_p=$(pss $pids)
    printf '%-6s %-10s %10s %8s %10s\n' "$n" "piranha-rs$TAG" "$(secs "$t")" "$np" "$our_p"
    if [ "$n" = "$(echo $SIZES | awk '{print $NF}')" ]; then
        # One real server re-weighted on SIGHUP: time to the new nanny, and
        # to that nanny putting the server back (Piranha's slow start then
        # raises the weight step by step, which is not part of the figure);
        # nothing else in the table may change.
        sleep 3
        $IPVSADM -S -n | grep -v "10.0.5.2:$PORT" | sort >"$W/before"
        lvs_cf "$n" 7 >"$W/lvs.cf"
        c0=$(grep -c "create_monitor for" "$W/lvs.log")
        a0=$(grep -c "making 10.0.5.2:$PORT available" "$W/lvs.log")
        t0=$(now); kill -HUP $lp
        until [ "$(grep -c "create_monitor for" "$W/lvs.log")" -gt "$c0" ]; do sleep 0.01; [ $(( ($(now) - t0) / 1000000000 )) -gt 60 ] && break; done
        th=$(( ($(now) - t0) / 1000000 ))
        until [ "$(grep -c "making 10.0.5.2:$PORT available" "$W/lvs.log")" -gt "$a0" ]; do sleep 0.01; [ $(( ($(now) - t0) / 1000000000 )) -gt 60 ] && break; done
        ta=$(( ($(now) - t0) / 1000000 ))
        $IPVSADM -S -n | grep -q -- "-r 10.0.5.2:$PORT" || ta="(not seen: server missing from the table)"
        [ -n "${LAB_BENCH_DIAG:-}" ] && tail -n 30 "$W/lvs.log"
        $IPVSADM -S -n | grep -v "10.0.5.2:$PORT" | sort >"$W/after"
        same=$(cmp -s "$W/before" "$W/after" && echo "no other change" || echo "OTHER CHANGES")
        echo "SIGHUP, one server re-weighted among $n services: new nanny after ${th} ms, server back in the table after ${ta} ms; $same"
        rl=$(grep -o "reload took.*" "$W/lvs.log" | tail -1)
        echo "$rl"
        rms=$(echo "$rl" | awk '{print $3}')
        echo "SUMMARY|lvs|SIGHUP, one of $n x 4 servers re-weighted: lvs's reload (kernel lab)|${rms:-?} ms|goal|100 ms|$(awk -v a="${rms:-0}" 'BEGIN { printf "%.2f", a / 100 }')"
        echo "SUMMARY|lvs|SIGHUP, one of $n x 4 servers re-weighted: server back in the table (kernel lab)|${ta} ms|-|-|-"
    fi
    kill -TERM $lp; wait $lp 2>/dev/null
    if [ "${LAB_BENCH_PEER:-1}" = 0 ]; then
        :
    elif [ -x "$KEEPALIVED" ]; then
        $IPVSADM -C
        ka_cf "$n" >"$W/ka.conf"
        t0=$(now)
        "$KEEPALIVED" -n -l -C -f "$W/ka.conf" -p "$W/ka.pid" -c "$W/kac.pid" >/dev/null 2>&1 &
        kp=$!
        MAXSEEN=0; ok=1; until full $((4 * n)); do sleep 0.2; [ $(( ($(now) - t0) / 1000000000 )) -gt $LIMIT ] && { ok=0; break; }; done
        t=$(( ($(now) - t0) / 1000000 )); [ $ok = 1 ] || t="not full after ${LIMIT}s (max $MAXSEEN of $((4 * n)))"
        kpids=$(pgrep keepalived | tr '\n' ' ')
        ka_p=$(pss $kpids)
        printf '%-6s %-10s %10s %8s %10s\n' "$n" keepalived "$(secs "$t")" "$(echo $kpids | wc -w)" "$ka_p"
        kav=$("$KEEPALIVED" --version 2>&1 | head -1 | awk '{print $2}')
        ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.1f", a / b; else print "-" }'; }
        echo "SUMMARY|lvs|start-up to a full table, $n x 4 real servers (kernel lab)|$(secs "$our_t") s|keepalived $kav|$(secs "$t") s|$(ratio "$our_t" "$t")"
        echo "SUMMARY|lvs|PSS of lvs + nannies, $n x 4 real servers (kernel lab)|$our_p MB|keepalived $kav|$ka_p MB|$(ratio "$our_p" "$ka_p")"
        kill -TERM $kp; wait $kp 2>/dev/null; pkill -9 keepalived 2>/dev/null || :
    else
        echo "keepalived not installed on the host: no peer figure"
    fi
done
exit 0
