#!/bin/bash
# make bench, inside the kernel lab:
#     tests/kernel-lab/run tests/bench/detection.sh [BIN_DIR] [TRIALS]
# Real-server failure detection: lvs + nanny against Debian's keepalived
# (TCP_CHECK) on the same real server in the same guest, equivalent timers:
# one check per second, 1 s connect timeout, one failure is enough
# (nanny's rule; keepalived `retry 0`). Two kinds of failure: the server
# process dies (connects refused) and the server goes silent (SYNs
# dropped, connects time out). Time = failure -> destination gone from
# /proc/net/ip_vs (tests/bench/detect.py).
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "run me through tests/kernel-lab/run" >&2; exit 2; }
REPO=${KERNEL_LAB_REPO:-$(pwd)}
BIN=${1:-$REPO/target/release}
TRIALS=${2:-10}
PORT=8080
VIP=10.1.0.1
RIP=10.0.2.2
KEEPALIVED=$(command -v keepalived || echo /usr/sbin/keepalived)
W=$(mktemp -d /tmp/detect.XXXXXX)
cleanup() {
    [ -n "${LP:-}" ] && kill -TERM "$LP" 2>/dev/null
    pkill -9 keepalived 2>/dev/null; sleep 0.5
    pkill -9 -f "$BIN/lvs" 2>/dev/null; pkill -9 -f "$BIN/nanny" 2>/dev/null
    "$BIN/ipvsadm" -C 2>/dev/null; ip netns del rs 2>/dev/null
}
trap cleanup EXIT
ip netns add rs; ip link add vrs type veth peer name eth0 netns rs
ip addr add 10.0.2.1/24 dev vrs; ip link set vrs up
ip -n rs link set lo up; ip -n rs addr add "$RIP/24" dev eth0; ip -n rs link set eth0 up
modprobe nf_tables 2>/dev/null
SERVER=("$BIN/examples/accept_close" "0.0.0.0:$PORT")
[ -x "${SERVER[0]}" ] || { echo "missing ${SERVER[0]} (cargo build --release --examples)"; exit 1; }

series() {  # daemon-name: run both failure kinds against the running daemon
    local k
    for k in refused silent; do
        printf '%s ' "$1"
        python3 "$REPO/tests/bench/detect.py" rs "${SERVER[@]}" -- "$k" "$TRIALS" 1 "$RIP:$PORT"
    done
}

cat >"$W/lvs.cf" <<CF
primary = 10.0.2.1
network = nat
ipvsadm = $BIN/ipvsadm
virtual web {
    active = 1
    address = $VIP lo:1
    port = $PORT
    scheduler = wlc
    client_monitor = $BIN/nanny
    timeout = 1
    reentry = 1
    server rs1 {
        address = $RIP
        active = 1
        weight = 1
    }
}
CF
"$BIN/lvs" -n -c "$W/lvs.cf" --pidfile "$W/lvs.pid" >"$W/lvs.log" 2>&1 &
LP=$!
series piranha-rs >"$W/ours"
kill -TERM "$LP"; wait "$LP" 2>/dev/null; LP=
"$BIN/ipvsadm" -C

if [ -x "$KEEPALIVED" ]; then
    cat >"$W/ka.conf" <<KA
virtual_server $VIP $PORT {
    delay_loop 1
    lb_algo wlc
    lb_kind NAT
    protocol TCP
    real_server $RIP $PORT {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
            warmup 0
        }
    }
}
KA
    "$KEEPALIVED" -n -l -C -f "$W/ka.conf" -p "$W/ka.pid" -c "$W/kac.pid" >/dev/null 2>&1 &
    KP=$!
    series keepalived >"$W/peer"
    kill -TERM "$KP"; wait "$KP" 2>/dev/null
    KAV=$("$KEEPALIVED" --version 2>&1 | head -1 | awk '{print $2}')
else
    : >"$W/peer"
    echo "keepalived not installed on the host: no peer figure"
fi

echo "Real-server failure detection, check every 1 s, 1 s timeout, one failure removes ($TRIALS trials each, seconds)"
printf '%-12s %-8s %4s %7s %7s %7s %7s\n' daemon failure n min median p95 max
cat "$W/ours" "$W/peer" | while read -r d k n a m p x; do
    printf '%-12s %-8s %4s %7s %7s %7s %7s\n' "$d" "$k" "$n" "$a" "$m" "$p" "$x"
done
for k in refused silent; do
    o=$(awk -v k=$k '$2 == k {print $5}' "$W/ours")
    q=$(awk -v k=$k '$2 == k {print $5}' "$W/peer")
    r=$(awk -v a="$o" -v b="$q" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }')
    echo "SUMMARY|nanny|failure detection, server $k (median, 1 s checks)|${o:-?} s|keepalived ${KAV:-} TCP_CHECK|${q:--} s|$r"
done
