#!/bin/bash
# make bench, inside the kernel lab:  tests/kernel-lab/run --mem 3072 tests/bench/lvs-startup.sh [BIN_DIR] [SIZES]
# Start-up of lvs to a full table (every real server added by its nanny)
# for N virtual services x 4 real servers, next to Debian's keepalived with
# the same services (TCP_CHECK) in the same guest, once as configured (every
# server in the table before its first check) and once with `alpha` (servers
# in after their first check, like nanny); memory as PSS; then the
# time a one-server SIGHUP change takes at the largest N.
# Knobs (--env NAME=VALUE to kernel-lab/run): LAB_IPVSADM (an ipvsadm other
# than Debian's; ours runs in-process in lvs and nanny), LAB_BENCH_PEER=0
# (no keepalived run), LAB_BENCH_LIMIT (seconds to wait for a full table),
# LAB_BENCH_INTERVAL[_LARGE] (check interval), and diagnostics that cost no
# time unless set: LAB_BENCH_STAT=1 (the guest's CPU split over the start-up,
# CPU by command, processes forked, faults and CPU of lvs, fork servers and
# nannies), LAB_BENCH_SMAPS=1 (smaps of a nanny and the fork servers),
# LAB_BENCH_DIAG=1 (lvs log lines by kind), LAB_BENCH_STRACE=1 (every
# process's system calls, summed; slows everything many times over).
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
# The wait for a full table forks nothing: a fork and exec per poll (grep,
# date, sleep) cost the emulated guest a large share of its CPU, taken from
# whichever daemon was starting.  NAPFD is a FIFO nobody writes to, so a
# timed read on it is a sleep without a process.
mkfifo "$W/nap"; exec {NAPFD}<>"$W/nap"
nap() { read -r -t "$1" -u "$NAPFD" _ || :; }
clock() { local t=${EPOCHREALTIME//[!0-9]/}; NOW=$(( 10#$t * 1000 )); }   # ns
dests() {  # destinations with Masq forwarding in /proc/net/ip_vs -> D
    local lines s t IFS=
    mapfile -t lines </proc/net/ip_vs
    s="${lines[*]}"; t=${s//Masq/}; D=$(( (${#s} - ${#t}) / 4 ))
}
full() { dests; [ "$D" -gt "${MAXSEEN:-0}" ] && MAXSEEN=$D; [ "$D" -ge "$1" ]; }
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
# ka_cf N [alpha]: with "alpha", keepalived starts every real server down
# and adds it after its first check passes, as nanny does: the like-for-like
# peer of lvs's start-up; without it, every server is in the table before any
# check.
ka_cf() {
    local i r t; t=$(interval "$1")
    for ((i = 0; i < $1; i++)); do
        printf 'virtual_server %s %d {\n    delay_loop %d\n    lb_algo wlc\n    lb_kind NAT\n    protocol TCP\n' "$(vip $i)" "$PORT" "$t"
        [ "${2:-}" = alpha ] && printf '    alpha\n'
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
    if [ -n "${LAB_BENCH_STAT:-}" ]; then
        T=/sys/kernel/tracing; [ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null
        if [ -d $T/events/sched ]; then
            echo 0 >$T/tracing_on; echo >$T/trace; echo 8192 >$T/buffer_size_kb
            for e in sched_process_fork sched_process_exec sched_process_exit; do echo 1 >$T/events/sched/$e/enable; done
            echo 1 >$T/tracing_on
        fi
    fi
    cpu0=$(head -1 /proc/stat)
    [ -n "${LAB_BENCH_STAT:-}" ] && { awk '{print $1, $2, $14 + $15, $16 + $17}' /proc/[0-9]*/stat; grep '^processes' /proc/stat; } >"$W/snap0" 2>/dev/null
    clock; t0=$NOW
    if [ -n "${LAB_BENCH_STRACE:-}" ]; then
        # Diagnostics only (slows everything): every process's system
        # calls with their time, one file each, summed per kind after "full".
        mkdir -p "$W/st"
        strace -f -ff -T -o "$W/st/t" "$BIN/lvs" -n -c "$W/lvs.cf" --pidfile "$W/lvs.pid" >"$W/lvs.log" 2>&1 &
    else
        "$BIN/lvs" -n -c "$W/lvs.cf" --pidfile "$W/lvs.pid" >"$W/lvs.log" 2>&1 &
    fi
    lp=$!
    MAXSEEN=0; ok=1
    until full $((4 * n)); do
        nap 0.1; clock; [ $(( (NOW - t0) / 1000000000 )) -gt $LIMIT ] && { ok=0; break; }
    done
    clock; t=$(( (NOW - t0) / 1000000 ))
    cpu1=$(head -1 /proc/stat)
    [ -n "${LAB_BENCH_STAT:-}" ] && { awk '{print $1, $2, $14 + $15, $16 + $17}' /proc/[0-9]*/stat; grep '^processes' /proc/stat; } >"$W/snap1" 2>/dev/null

    if [ -n "${LAB_BENCH_STAT:-}" ]; then
        # CPU and page faults by kind of process (/proc/PID/stat: minflt,
        # majflt, utime, stime; ticks of 1/100 s); a nanny's own share is
        # the start-up it cost, since its checks have barely begun.
        echo "--- CPU and faults so far: kind, processes, minor faults, major faults, user s, system s"
        # The guest's CPUs over the start-up (/proc/stat: user nice system
        # idle iowait irq softirq).
        printf '%s\n%s\n' "$cpu0" "$cpu1" | awk '{for (i = 2; i <= 8; i++) v[NR, i] = $i}
            END {for (i = 2; i <= 8; i++) {d[i] = v[2, i] - v[1, i]; t += d[i]}
                 printf "guest CPUs during start-up: user %d%%, system %d%%, idle %d%%, iowait %d%%, softirq %d%%\n", 100 * (d[2] + d[3]) / t, 100 * d[4] / t, 100 * d[5] / t, 100 * d[6] / t, 100 * d[8] / t}'
        echo "CPU s during start-up by command (every process, kernel threads included):"
        awk 'NR == FNR {c[$1] = $3; r[$1] = $4; next} $1 == "processes" {printf "  %d processes forked\n", $2 - c["processes"]; next}
             {n = $2; gsub(/[0-9]+/, "N", n); d = $3 - c[$1]; if (d > 0) t[n] += d; d = $4 - r[$1]; if (d > 0) t[n " (reaped children)"] += d}
             END {for (n in t) printf "  %-40s %6.2f\n", n, t[n] / 100}' "$W/snap0" "$W/snap1" | sort -k2 -rn | head -15
        if [ -d $T/events/sched ]; then
            echo 0 >$T/tracing_on; cp $T/trace "$W/sched"
            for e in sched_process_fork sched_process_exec sched_process_exit; do echo 0 >$T/events/sched/$e/enable; done
            echo "processes forked, by parent command, and what was exec'd or exited:"
            grep -o 'sched_process_fork: comm=[^ ]*' "$W/sched" | sort | uniq -c | sort -rn | head -8
            grep -o 'sched_process_exec: filename=[^ ]*' "$W/sched" | sort | uniq -c | sort -rn | head -8
            grep -o 'sched_process_exit: comm=[^ ]*' "$W/sched" | sort | uniq -c | sort -rn | head -8
        fi
        kinds() { echo lvs /proc/$lp/stat
            for p in $(pgrep -f "nanny --fork-server"); do echo forkserver /proc/$p/stat; done
            for p in $(pgrep -f "$BIN/nanny -c"); do echo nanny /proc/$p/stat; done; }
        kinds >"$W/kinds"
        # One awk for all: the files in the order listed, each with its kind.
        awk 'NR == FNR {kind[$2] = $1; next} {k = kind[FILENAME]; n[k]++; mi[k] += $10; ma[k] += $12; u[k] += $14; s[k] += $15}
             END { for (k in n) printf "%-10s %5d %9d %6d %8.2f %8.2f\n", k, n[k], mi[k], ma[k], u[k] / 100, s[k] / 100 }' \
            "$W/kinds" $(awk '{print $2}' "$W/kinds") 2>/dev/null
    fi
    if [ -n "${LAB_BENCH_STRACE:-}" ]; then
        sleep 1
        echo "--- system calls of the nannies (files with a connect): name, calls, total s, per nanny ms"
        files=$(grep -l "^connect(.*AF_INET" "$W"/st/t.* | head -1000)
        nf=$(echo $files | wc -w)
        cat $files | awk -v nf="$nf" '{ name = $0; sub(/\(.*/, "", name); t = $NF; gsub(/[<>]/, "", t); if (t ~ /^[0-9.]+$/) { n[name]++; s[name] += t } }
            END { for (k in n) printf "%-22s %7d %9.3f %8.3f\n", k, n[k], s[k], s[k] * 1000 / nf }' | sort -k3 -rn | head -30
        echo "--- one nanny's calls"
        f=$(echo $files | awk '{print $NF}'); head -c 6000 "$f"
        echo "--- fork servers: name, calls, total s"
        for f in $(grep -l "recvmsg" "$W"/st/t.*); do
            awk '{ name = $0; sub(/\(.*/, "", name); t = $NF; gsub(/[<>]/, "", t); if (t ~ /^[0-9.]+$/) { n[name]++; s[name] += t } }
                END { for (k in n) printf "%-22s %7d %9.3f\n", k, n[k], s[k] }' "$f" | sort -k3 -rn | head -8
        done
    fi
    # When the nannies started, from their start times (field 22 of
    # /proc/PID/stat, clock ticks since boot) against lvs's, read once
    # afterwards by one awk: polling lvs's log for them while it starts
    # cost the guest CPU that keepalived's run did not pay.
    stats=("/proc/$lp/stat"); for p in $(pgrep -f "$BIN/nanny -c"); do stats+=("/proc/$p/stat"); done
    awk -v n=$((4 * n)) 'FNR == 1 && NR == 1 {l = $22; next} {c++; if ($22 > m) m = $22; if (f == "" || $22 < f) f = $22}
        END {if (c >= n) printf "(first nanny %.2f s after lvs started, %d nannies running after %.2f s)\n", (f - l) / 100, c, (m - l) / 100}' "${stats[@]}" 2>/dev/null
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
        kav=$("$KEEPALIVED" --version 2>&1 | head -1 | awk '{print $2}')
        ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.1f", a / b; else print "-" }'; }
        for mode in "" alpha; do
            $IPVSADM -C
            ka_cf "$n" $mode >"$W/ka.conf"
            clock; t0=$NOW
            "$KEEPALIVED" -n -l -C -f "$W/ka.conf" -p "$W/ka.pid" -c "$W/kac.pid" >/dev/null 2>&1 &
            kp=$!
            MAXSEEN=0; ok=1; until full $((4 * n)); do nap 0.1; clock; [ $(( (NOW - t0) / 1000000000 )) -gt $LIMIT ] && { ok=0; break; }; done
            clock; t=$(( (NOW - t0) / 1000000 )); [ $ok = 1 ] || t="not full after ${LIMIT}s (max $MAXSEEN of $((4 * n)))"
            kpids=$(pgrep keepalived | tr '\n' ' ')
            ka_p=$(pss $kpids)
            printf '%-6s %-10s %10s %8s %10s\n' "$n" "keepalived${mode:+ $mode}" "$(secs "$t")" "$(echo $kpids | wc -w)" "$ka_p"
            if [ -z "$mode" ]; then
                echo "SUMMARY|lvs|start-up to a full table, $n x 4 real servers (kernel lab)|$(secs "$our_t") s|keepalived $kav (servers up before any check)|$(secs "$t") s|$(ratio "$our_t" "$t")"
                echo "SUMMARY|lvs|PSS of lvs + nannies, $n x 4 real servers (kernel lab)|$our_p MB|keepalived $kav|$ka_p MB|$(ratio "$our_p" "$ka_p")"
            else
                echo "SUMMARY|lvs|start-up to a full table, $n x 4 real servers (kernel lab)|$(secs "$our_t") s|keepalived $kav with alpha (servers in after their first check, like nanny)|$(secs "$t") s|$(ratio "$our_t" "$t")"
            fi
            kill -TERM $kp; wait $kp 2>/dev/null; pkill -9 keepalived 2>/dev/null || :
        done
    else
        echo "keepalived not installed on the host: no peer figure"
    fi
done
exit 0
