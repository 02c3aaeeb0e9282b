#!/bin/bash
# make bench, inside the kernel lab:
#     tests/kernel-lab/run tests/bench/detection.sh [BIN_DIR] [TRIALS]
# Real-server failure detection: lvs + nanny against Debian's keepalived
# (TCP_CHECK) on the same real server in the same guest, equivalent timers:
# one check per second, 1 s connect timeout, one failure is enough
# (nanny's rule; keepalived `retry 0`). Two kinds of failure: the server
# process dies (connects refused) and the server goes silent (SYNs
# dropped, connects time out). Time = failure -> destination gone from
# /proc/net/ip_vs (tests/bench/detect.py). Then the same over IPv6.
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "run me through tests/kernel-lab/run" >&2; exit 2; }
REPO=${KERNEL_LAB_REPO:-$(pwd)}
BIN=${1:-$REPO/target/release}
TRIALS=${2:-10}
PORT=8080
VIP=10.1.0.1
RIP=10.0.2.2
VIP6=fd00:1::1
RIP6=fd00:2::2
KEEPALIVED=$(command -v keepalived || echo /usr/sbin/keepalived)
W=$(mktemp -d /tmp/detect.XXXXXX)
cleanup() {
    [ -n "${LP:-}" ] && kill -TERM "$LP" 2>/dev/null
    pkill -9 keepalived 2>/dev/null; sleep 0.5
    pkill -9 -f "$BIN/lvs" 2>/dev/null; pkill -9 -f "$BIN/nanny" 2>/dev/null
    "$BIN/ipvsadm" -C 2>/dev/null; ip netns del rs 2>/dev/null
}
trap cleanup EXIT
sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip netns add rs; ip netns exec rs sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip link add vrs type veth peer name eth0 netns rs
ip addr add 10.0.2.1/24 dev vrs; ip addr add fd00:2::1/64 dev vrs nodad; ip link set vrs up
ip -n rs link set lo up; ip -n rs addr add "$RIP/24" dev eth0; ip -n rs addr add "$RIP6/64" dev eth0 nodad
ip -n rs link set eth0 up
ip addr add "$VIP6/128" dev lo nodad
modprobe nf_tables 2>/dev/null
SERVER=("$BIN/examples/accept_close")
[ -x "${SERVER[0]}" ] || { echo "missing ${SERVER[0]} (cargo build --release --examples)"; exit 1; }

series() {  # daemon-name family: run both failure kinds against the running daemon
    local k dest=$RIP:$PORT listen=0.0.0.0:$PORT
    [ "$2" = 6 ] && dest=[$RIP6]:$PORT listen=[::]:$PORT
    for k in refused silent; do
        printf '%s ' "$1"
        python3 "$REPO/tests/bench/detect.py" rs "${SERVER[@]}" "$listen" -- "$k" "$TRIALS" 1 "$dest"
    done
}

family() {  # 4|6: lvs, then keepalived, on the same real server
    local vip=$VIP rip=$RIP primary=10.0.2.1 f=$1
    [ "$f" = 6 ] && vip=$VIP6 rip=$RIP6 primary=fd00:2::1
    cat >"$W/lvs$f.cf" <<CF
primary = $primary
network = nat
ipvsadm = $BIN/ipvsadm
virtual web {
    active = 1
    address = $vip lo:1
    port = $PORT
    scheduler = wlc
    client_monitor = $BIN/nanny
    timeout = 1
    reentry = 1
    server rs1 {
        address = $rip
        active = 1
        weight = 1
    }
}
CF
    "$BIN/lvs" -n -c "$W/lvs$f.cf" --pidfile "$W/lvs.pid" >"$W/lvs$f.log" 2>&1 &
    LP=$!
    series piranha-rs "$f" >"$W/ours$f"
    kill -TERM "$LP"; wait "$LP" 2>/dev/null; LP=
    "$BIN/ipvsadm" -C
    if [ -x "$KEEPALIVED" ]; then
        cat >"$W/ka$f.conf" <<KA
virtual_server $vip $PORT {
    delay_loop 1
    lb_algo wlc
    lb_kind NAT
    protocol TCP
    real_server $rip $PORT {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
            warmup 0
        }
    }
}
KA
        "$KEEPALIVED" -n -l -C -f "$W/ka$f.conf" -p "$W/ka.pid" -c "$W/kac.pid" >/dev/null 2>&1 &
        KP=$!
        series keepalived "$f" >"$W/peer$f"
        kill -TERM "$KP"; wait "$KP" 2>/dev/null
        KAV=$("$KEEPALIVED" --version 2>&1 | head -1 | awk '{print $2}')
    else
        : >"$W/peer$f"
        echo "keepalived not installed on the host: no peer figure"
    fi
}
family 4
# The same over IPv6 (issue 21): an IPv6 VIP and real server.
family 6

for f in 4 6; do
    over=; [ $f = 6 ] && over=" over IPv6"
    echo "Real-server failure detection$over, check every 1 s, 1 s timeout, one failure removes ($TRIALS trials each, seconds)"
    printf '%-12s %-8s %4s %7s %7s %7s %7s\n' daemon failure n min median p95 max
    cat "$W/ours$f" "$W/peer$f" | while read -r d k n a m p x; do
        printf '%-12s %-8s %4s %7s %7s %7s %7s\n' "$d" "$k" "$n" "$a" "$m" "$p" "$x"
    done
    for k in refused silent; do
        o=$(awk -v k=$k '$2 == k {print $5}' "$W/ours$f")
        q=$(awk -v k=$k '$2 == k {print $5}' "$W/peer$f")
        r=$(awk -v a="$o" -v b="$q" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }')
        echo "SUMMARY|nanny|failure detection$over, server $k (median, 1 s checks)|${o:-?} s|keepalived ${KAV:-} TCP_CHECK|${q:--} s|$r"
    done
done
