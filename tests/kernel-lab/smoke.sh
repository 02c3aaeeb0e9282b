#!/bin/bash
# Kernel-lab smoke test; runs INSIDE the guest:
#     tests/kernel-lab/run tests/kernel-lab/smoke.sh
# Proves that the lab gives real IPVS: a client namespace reaches two real
# servers (busybox httpd in their own namespaces) through an IPVS NAT virtual
# service programmed with Debian's /usr/sbin/ipvsadm, scheduled round robin.
set -u

if [ "${KERNEL_LAB:-}" != 1 ]; then
    echo "smoke.sh: run me through tests/kernel-lab/run, not on the host" >&2
    exit 2
fi

FAILS=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
die() { echo "FAIL: $*"; cleanup; exit 1; }

IPVSADM=/usr/sbin/ipvsadm
BUSYBOX=$(command -v busybox || echo /bin/busybox)
VIP=10.0.1.100
WORK=$(mktemp -d /tmp/smoke.XXXXXX)
PIDS=()

cleanup() {
    local p
    $IPVSADM -C 2>/dev/null
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for ns in lab-client lab-rs1 lab-rs2; do ip netns del "$ns" 2>/dev/null; done
    ip link del lab-c 2>/dev/null
    ip link del lab-r1 2>/dev/null
    ip link del lab-r2 2>/dev/null
    rm -rf "$WORK"
}

# ---------------------------------------------------------------- kernel
if [ -r /proc/net/ip_vs ]; then pass "/proc/net/ip_vs exists"; else die "/proc/net/ip_vs missing"; fi
[ -x $IPVSADM ] || die "$IPVSADM missing (install Debian's ipvsadm on the host)"
echo "ipvsadm: $($IPVSADM --version 2>&1 | head -n1)"
echo "kernel:  $(uname -r)"

# ---------------------------------------------------------------- topology
#   lab-client 10.0.1.2 --- lab-c 10.0.1.1 + VIP 10.0.1.100  (director = root ns)
#   lab-rs1    10.0.2.2 --- lab-r1 10.0.2.1
#   lab-rs2    10.0.3.2 --- lab-r2 10.0.3.1
veth_ns() {  # ns host-if host-ip ns-ip
    ip netns add "$1" || return 1
    ip link add "$2" type veth peer name eth0 netns "$1" || return 1
    ip addr add "$3/24" dev "$2" && ip link set "$2" up || return 1
    ip -n "$1" link set lo up || return 1
    ip -n "$1" addr add "$4/24" dev eth0 && ip -n "$1" link set eth0 up || return 1
    ip -n "$1" route add default via "$3" || return 1
}
veth_ns lab-client lab-c 10.0.1.1 10.0.1.2 || die "client namespace"
veth_ns lab-rs1 lab-r1 10.0.2.1 10.0.2.2 || die "rs1 namespace"
veth_ns lab-rs2 lab-r2 10.0.3.1 10.0.3.2 || die "rs2 namespace"
ip addr add $VIP/32 dev lab-c || die "VIP address"
echo 1 >/proc/sys/net/ipv4/ip_forward
pass "namespaces and veth pairs up"

for i in 1 2; do
    mkdir -p "$WORK/rs$i"
    echo "real-server-$i" >"$WORK/rs$i/index.html"
    ip netns exec lab-rs$i "$BUSYBOX" httpd -f -p 80 -h "$WORK/rs$i" &
    PIDS+=($!)
done

fetch() {  # ns url -> body on stdout
    if command -v curl >/dev/null; then
        ip netns exec "$1" curl -s --max-time 5 "$2"
    else
        ip netns exec "$1" "$BUSYBOX" wget -q -T 5 -O - "$2"
    fi
}
# wait for both servers (directly, no IPVS yet)
for i in 1 2; do
    ok=
    for _ in $(seq 50); do
        if [ "$(fetch lab-client http://10.0.$((i + 1)).2/ 2>/dev/null)" = "real-server-$i" ]; then ok=1; break; fi
        sleep 0.1
    done
    [ -n "$ok" ] || die "real server $i not reachable directly"
done
pass "both real servers answer directly"

# ---------------------------------------------------------------- IPVS
$IPVSADM -A -t $VIP:80 -s rr || die "ipvsadm -A"
$IPVSADM -a -t $VIP:80 -r 10.0.2.2:80 -m -w 1 || die "ipvsadm -a rs1"
$IPVSADM -a -t $VIP:80 -r 10.0.3.2:80 -m -w 1 || die "ipvsadm -a rs2"
pass "virtual service $VIP:80 (rr, NAT) programmed"

N=6 c1=0 c2=0 other=0 seq=""
for _ in $(seq $N); do
    body=$(fetch lab-client "http://$VIP/" 2>/dev/null)
    case $body in
        real-server-1) c1=$((c1 + 1)); seq="$seq 1" ;;
        real-server-2) c2=$((c2 + 1)); seq="$seq 2" ;;
        *) other=$((other + 1)); seq="$seq x" ;;
    esac
done
echo "responses:$seq  (rs1=$c1 rs2=$c2 failed=$other)"
if [ $other = 0 ]; then pass "all $N requests through the VIP answered"; else fail "$other of $N requests failed"; fi
if [ $c1 -gt 0 ] && [ $c2 -gt 0 ]; then pass "both real servers reached"; else fail "round robin did not reach both servers"; fi
if [ $c1 = $c2 ]; then pass "round robin split evenly ($c1/$c2)"; else fail "uneven split $c1/$c2"; fi
case $seq in
    " 1 2 1 2 1 2"|" 2 1 2 1 2 1") pass "strict alternation" ;;
    *) fail "not alternating:$seq" ;;
esac

echo "--- ipvsadm -L -n"
$IPVSADM -L -n
echo "--- ipvsadm -L -n --stats"
$IPVSADM -L -n --stats
echo "--- /proc/net/ip_vs"
cat /proc/net/ip_vs

cleanup
if [ -r /proc/net/ip_vs ] && [ "$($IPVSADM -S -n | wc -l)" = 0 ]; then
    pass "cleaned up"
else
    fail "IPVS table not empty after cleanup"
fi

if [ $FAILS = 0 ]; then echo "smoke: ALL PASSED"; exit 0; fi
echo "smoke: $FAILS check(s) FAILED"
exit 1
