#!/bin/bash
# Traffic through tables written by OUR ipvsadm, inside the kernel lab guest:
#     tests/kernel-lab/run tests/ipvsadm/traffic.sh [OURS_BINARY]
# A client namespace fetches pages from busybox httpd real servers in their
# own namespaces through two virtual services on the director (root ns):
#   NAT  10.0.1.100:80 -> 10.0.2.2, 10.0.3.2 (rr, -m, programmed with -a)
#   DR   10.0.1.200:80 -> 10.0.4.2, 10.0.4.3 (rr, -g, programmed with -R);
#        the DR client (10.0.4.10) shares the real servers' bridge, so their
#        replies (source = VIP) go straight to it, not back through the director
# and checks that every request is answered, round robin alternates, and that
# `-L -n` shows the connections on the real servers.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
IPVSADM=${1:-${IPVSADM_OURS:-$REPO/target/debug/ipvsadm}}
if [ "${KERNEL_LAB:-}" != 1 ]; then
    echo "traffic.sh: run me through tests/kernel-lab/run (needs kernel IPVS)" >&2
    exit 2
fi
[ -x "$IPVSADM" ] || { echo "traffic.sh: $IPVSADM missing" >&2; exit 2; }
BUSYBOX=$(command -v busybox || echo /bin/busybox)
FAILS=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
WORK=$(mktemp -d /tmp/traffic.XXXXXX)
PIDS=()
cleanup() {
    "$IPVSADM" -C 2>/dev/null
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for ns in tr-client tr-client2 tr-rs1 tr-rs2 tr-rs3 tr-rs4; do ip netns del "$ns" 2>/dev/null; done
    for l in tr-c tr-r1 tr-r2 tr-br tr-b3 tr-b4 tr-b10; do ip link del "$l" 2>/dev/null; done
    rm -rf "$WORK"
}
die() { echo "FAIL: $*"; cleanup; exit 1; }

veth_ns() {  # ns host-if host-ip ns-ip
    ip netns add "$1" || return 1
    ip link add "$2" type veth peer name eth0 netns "$1" || return 1
    ip addr add "$3/24" dev "$2" && ip link set "$2" up || return 1
    ip -n "$1" link set lo up && ip -n "$1" addr add "$4/24" dev eth0 && ip -n "$1" link set eth0 up || return 1
    ip -n "$1" route add default via "$3"
}
bridge_ns() {  # ns host-veth ns-ip   (on bridge tr-br, VIP on the ns loopback for DR)
    ip netns add "$1" || return 1
    ip link add "$2" type veth peer name eth0 netns "$1" || return 1
    ip link set "$2" master tr-br && ip link set "$2" up || return 1
    ip -n "$1" link set lo up && ip -n "$1" addr add "$3/24" dev eth0 && ip -n "$1" link set eth0 up || return 1
    ip -n "$1" addr add 10.0.1.200/32 dev lo || return 1
    ip netns exec "$1" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 || return 1
    ip -n "$1" route add default via 10.0.4.1
}
veth_ns tr-client tr-c 10.0.1.1 10.0.1.2 || die "client namespace"
veth_ns tr-rs1 tr-r1 10.0.2.1 10.0.2.2 || die "rs1 namespace"
veth_ns tr-rs2 tr-r2 10.0.3.1 10.0.3.2 || die "rs2 namespace"
ip link add tr-br type bridge && ip addr add 10.0.4.1/24 dev tr-br && ip link set tr-br up || die "bridge"
bridge_ns tr-rs3 tr-b3 10.0.4.2 || die "rs3 namespace"
bridge_ns tr-rs4 tr-b4 10.0.4.3 || die "rs4 namespace"
ip netns add tr-client2 && ip link add tr-b10 type veth peer name eth0 netns tr-client2 \
    && ip link set tr-b10 master tr-br && ip link set tr-b10 up \
    && ip -n tr-client2 link set lo up && ip -n tr-client2 addr add 10.0.4.10/24 dev eth0 \
    && ip -n tr-client2 link set eth0 up && ip -n tr-client2 route add 10.0.1.200/32 via 10.0.4.1 \
    || die "DR client namespace"
ip addr add 10.0.1.100/32 dev tr-c && ip addr add 10.0.1.200/32 dev tr-c || die "VIPs"
echo 1 >/proc/sys/net/ipv4/ip_forward
for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 >"$f"; done
pass "topology up"

for i in 1 2 3 4; do
    mkdir -p "$WORK/rs$i"
    echo "real-server-$i" >"$WORK/rs$i/index.html"
    ip netns exec tr-rs$i "$BUSYBOX" httpd -f -p 80 -h "$WORK/rs$i" &
    PIDS+=($!)
done
fetch_in() {  # ns url -> body (curl, else plain bash /dev/tcp: busybox-static's wget may crash)
    if command -v curl >/dev/null; then
        ip netns exec "$1" curl -s --max-time 5 "$2"
    else
        local hp=${2#http://}; hp=${hp%%/*}
        ip netns exec "$1" timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/80" && printf "GET / HTTP/1.0\r\n\r\n" >&3 && sed "1,/^\r\{0,1\}$/d" <&3' "$hp"
    fi
}
fetch() { fetch_in tr-client "$1"; }
for ip in 10.0.2.2 10.0.3.2; do
    ok=
    for _ in $(seq 50); do
        [ -n "$(fetch "http://$ip/" 2>/dev/null)" ] && { ok=1; break; }
        sleep 0.1
    done
    [ -n "$ok" ] || die "real server $ip not reachable directly"
done
for ns in tr-rs3 tr-rs4; do
    ok=
    for _ in $(seq 50); do
        [ -n "$(fetch_in $ns http://127.0.0.1/ 2>/dev/null)" ] && { ok=1; break; }
        sleep 0.1
    done
    [ -n "$ok" ] || die "real server in $ns not serving"
done
pass "real servers up"

# ---------------------------------------------------------------- tables, by our ipvsadm
"$IPVSADM" -C || die "ipvsadm -C"
"$IPVSADM" -A -t 10.0.1.100:80 -s rr || die "ipvsadm -A (NAT)"
"$IPVSADM" -a -t 10.0.1.100:80 -r 10.0.2.2:80 -m || die "ipvsadm -a rs1"
"$IPVSADM" -a -t 10.0.1.100:80 -r 10.0.3.2:80 -m || die "ipvsadm -a rs2"
"$IPVSADM" -R <<'IN' || die "ipvsadm -R (DR)"
-A -t 10.0.1.200:80 -s rr
-a -t 10.0.1.200:80 -r 10.0.4.2:80 -g -w 1
-a -t 10.0.1.200:80 -r 10.0.4.3:80 -g -w 1
IN
"$IPVSADM" -L -n
pass "tables written by $IPVSADM"

check_vip() {  # client-ns vip name expected-server-a expected-server-b
    local ns=$1 n=6 a=0 b=0 other=0 seq="" body
    shift
    for _ in $(seq $n); do
        body=$(fetch_in "$ns" "http://$1/" 2>/dev/null)
        case $body in
            "real-server-$3") a=$((a + 1)); seq="$seq $3" ;;
            "real-server-$4") b=$((b + 1)); seq="$seq $4" ;;
            *) other=$((other + 1)); seq="$seq x" ;;
        esac
    done
    echo "$2 responses:$seq"
    [ $other = 0 ] && pass "$2: all $n requests answered" || fail "$2: $other of $n requests failed"
    [ $a = 3 ] && [ $b = 3 ] && pass "$2: round robin split 3/3" || fail "$2: split $a/$b"
}
check_vip tr-client 10.0.1.100 NAT 1 2
check_vip tr-client2 10.0.1.200 DR 3 4

L=$("$IPVSADM" -L -n)
echo "$L"
conns=$(echo "$L" | awk '$1 == "->" && $2 != "RemoteAddress:Port" { s += $5 + $6 } END { print s + 0 }')
[ "$conns" -ge 12 ] && pass "-L -n counts $conns connections on the real servers" || fail "-L -n shows $conns connections, expected 12"
"$IPVSADM" -L -n -c | head -n 5
[ "$("$IPVSADM" -L -n -c | grep -c ESTABLISHED\\\|TIME_WAIT\\\|FIN_WAIT\\\|CLOSE)" -ge 1 ] && pass "-c lists connections" || fail "-c lists no connections"

# the same kernel state read by Debian's ipvsadm and ours (connection
# expiry times masked: a second may pass between the two reads)
REF=${IPVSADM_REF:-/usr/sbin/ipvsadm}
if [ -x "$REF" ]; then
    mask() { sed -E 's/^([A-Z]+ +)[0-9]+:[0-9]+/\1MM:SS/'; }
    # Counters can still move between two reads (late FIN/ACK packets): read
    # Debian's, ours, Debian's again, and accept ours if it equals either of
    # the reads around it; retry a few times a second apart. No /dev/fd in
    # the guest, so diffs go through files.
    same_as_ref() {  # filter args...
        local f=$1 try; shift
        for try in 1 2 3 4 5; do
            # shellcheck disable=SC2086
            "$REF" "$@" | $f >"$TMPD/ref1"; "$IPVSADM" "$@" | $f >"$TMPD/ours"; "$REF" "$@" | $f >"$TMPD/ref2"
            if cmp -s "$TMPD/ref1" "$TMPD/ours" || cmp -s "$TMPD/ref2" "$TMPD/ours"; then return 0; fi
            sleep 1
        done
        diff "$TMPD/ref2" "$TMPD/ours"
        return 1
    }
    TMPD=$(mktemp -d /tmp/trdiff.XXXXXX)
    for args in "-L -n --stats --exact" "-L -n --stats" "-L -n --persistent-conn" "-L -n --thresholds" "-S -n"; do
        # shellcheck disable=SC2086
        if same_as_ref cat $args; then pass "ipvsadm $args identical to Debian's"; else
            fail "ipvsadm $args differs from Debian's"; fi
    done
    if same_as_ref mask -L -n -c; then pass "-L -n -c identical to Debian's"; else
        fail "-L -n -c differs from Debian's"; fi
    rm -rf "$TMPD"
fi

# quiesce rs2 (weight 0): new requests all go to rs1
"$IPVSADM" -e -t 10.0.1.100:80 -r 10.0.3.2:80 -m -w 0 || fail "ipvsadm -e"
q=0
for _ in 1 2 3 4; do [ "$(fetch http://10.0.1.100/ 2>/dev/null)" = real-server-1 ] && q=$((q + 1)); done
[ $q = 4 ] && pass "weight 0 quiesces rs2" || fail "after -w 0 only $q/4 went to rs1"

cleanup
if [ $FAILS = 0 ]; then echo "traffic: ALL PASSED"; exit 0; fi
echo "traffic: $FAILS check(s) FAILED"
exit 1
