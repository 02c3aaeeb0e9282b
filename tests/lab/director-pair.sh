#!/bin/bash
# The whole director pair, end to end, against the real kernel IPVS; runs
# INSIDE the kernel lab (make demo, and the pulse e2e test):
#     tests/kernel-lab/run tests/lab/director-pair.sh [BIN_DIR]
#
#   client 10.9.0.2 ── bridge "pub" ── d1 eth0 10.9.0.11 (primary)   VIP 10.9.0.100 (eth0:1)
#                                  └── d2 eth0 10.9.0.12 (backup)
#   rs1 10.8.0.21, rs2 10.8.0.22 ── bridge "priv" ── d1 eth1 10.8.0.11 / d2 eth1 10.8.0.12
#                                        NAT router 10.8.0.1 (eth1:1) floats with the active director
#
# pulse runs in each director namespace (with its own /run), starts lvs on
# the active one, lvs starts a nanny per real server; the client fetches
# pages through the VIP. Then director 1 dies (pulse killed -9, links cut):
# director 2 takes over and traffic flows again; director 1 comes back and
# stays passive.
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "director-pair.sh: run me through tests/kernel-lab/run" >&2; exit 2; }
REPO=${KERNEL_LAB_REPO:-$(pwd)}
BIN=${1:-$REPO/target/release}
BUSYBOX=$(command -v busybox || echo /bin/busybox)
W=$(mktemp -d /tmp/pair.XXXXXX)
FAILS=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
say() { printf '\n== %s\n' "$*"; }
now() { date +%s%N; }
cleanup() {
    pkill -9 -f "$BIN/pulse" 2>/dev/null; pkill -9 -f "$BIN/lvs" 2>/dev/null; pkill -9 -f "$BIN/nanny" 2>/dev/null
    pkill -f "httpd -f -p 80 -h $W" 2>/dev/null
    for ns in c d1 d2 r1 r2; do ip netns del "$ns" 2>/dev/null; done
    ip link del pub 2>/dev/null; ip link del priv 2>/dev/null
}
trap cleanup EXIT
for b in pulse lvs nanny send_arp ipvsadm; do [ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b missing (make all)"; exit 1; }; done

ip link add pub type bridge && ip link set pub up && ip link add priv type bridge && ip link set priv up
port() {  # ns ifname-in-ns bridge addr/len
    local h="${1}${2}"
    ip link add "$h" type veth peer name "$2" netns "$1" && ip link set "$h" master "$3" && ip link set "$h" up &&
    ip -n "$1" addr add "$4" dev "$2" && ip -n "$1" link set "$2" up
}
for ns in c d1 d2 r1 r2; do ip netns add $ns; ip -n $ns link set lo up; done
port c eth0 pub 10.9.0.2/24 && ip -n c route add default via 10.9.0.100
port d1 eth0 pub 10.9.0.11/24 && port d1 eth1 priv 10.8.0.11/24
port d2 eth0 pub 10.9.0.12/24 && port d2 eth1 priv 10.8.0.12/24
port r1 eth0 priv 10.8.0.21/24 && ip -n r1 route add default via 10.8.0.1
port r2 eth0 priv 10.8.0.22/24 && ip -n r2 route add default via 10.8.0.1
for d in d1 d2; do ip netns exec $d sysctl -qw net.ipv4.ip_forward=1; done
for r in 1 2; do
    mkdir -p "$W/rs$r"; echo "real server $r" >"$W/rs$r/index.html"
    ip netns exec r$r "$BUSYBOX" httpd -f -p 80 -h "$W/rs$r" &
done

cat >"$W/lvs.cf" <<CF
serial_no = 1
primary = 10.9.0.11
service = lvs
backup_active = 1
backup = 10.9.0.12
heartbeat = 1
heartbeat_port = 539
keepalive = 1
deadtime = 3
network = nat
nat_router = 10.8.0.1 eth1:1
nat_nmask = 255.255.255.0
ipvsadm = $BIN/ipvsadm
virtual web {
    active = 1
    address = 10.9.0.100 eth0:1
    vip_nmask = 255.255.255.0
    port = 80
    send = "GET / HTTP/1.0\r\n\r\n"
    expect = "HTTP"
    scheduler = rr
    protocol = tcp
    client_monitor = $BIN/nanny
    timeout = 1
    reentry = 2
    server rs1 {
        address = 10.8.0.21
        active = 1
        weight = 1
    }
    server rs2 {
        address = 10.8.0.22
        active = 1
        weight = 1
    }
}
CF
say "lvs.cf (shared by both directors)"; cat "$W/lvs.cf"
"$BIN/pulse" -c "$W/lvs.cf" --config-test || fail "config test"

start_pulse() {  # ns -> pid in PULSE_<ns>; each director gets its own /run
    ip netns exec "$1" sh -c "mount -t tmpfs tmpfs /run && exec $BIN/pulse -n -c $W/lvs.cf --lvsd $BIN/lvs --send-arp $BIN/send_arp" \
        >>"$W/$1.log" 2>&1 &
    eval "PULSE_$1=$!"
}
fetch() { ip netns exec c curl -s --max-time 2 http://10.9.0.100/ 2>/dev/null; }
wait_for() { local secs=$1; shift; local end=$(( $(now) + secs * 1000000000 )); while [ "$(now)" -lt "$end" ]; do "$@" && return 0; sleep 0.1; done; return 1; }
serves() { fetch | grep -q "real server"; }

say "starting pulse on both directors"
start_pulse d1; start_pulse d2
if wait_for 60 serves; then pass "the client reaches the real servers through the VIP on director 1"; else fail "no traffic through director 1"; fi
pages=""; for _ in 1 2 3 4; do pages="$pages|$(fetch)"; done; echo "pages:$pages"
case "$pages" in *"server 1"*"server 2"*|*"server 2"*"server 1"*) pass "round robin over rs1 and rs2" ;; *) fail "round robin" ;; esac
ip -n d1 addr show dev eth0 | grep -q "10.9.0.100" && pass "director 1 holds the VIP" || fail "VIP not on director 1"
ip -n d2 addr show dev eth0 | grep -q "10.9.0.100" && fail "director 2 holds the VIP too" || pass "director 2 is passive"
say "director 1: IPVS table"; ip netns exec d1 "$BIN/ipvsadm" -L -n
wait_for 15 grep -q "gratuitous lvs arps finished" "$W/d1.log" && pass "director 1 logged 'gratuitous lvs arps finished'" || fail "no arps finished line"

say "director 1 dies: pulse killed with -9, links cut"
t0=$(now)
kill -9 "$PULSE_d1"
ip -n d1 link set eth0 down; ip -n d1 link set eth1 down
if wait_for 30 serves; then
    ms=$(( ($(now) - t0) / 1000000 ))
    pass "traffic flows through director 2 ${ms} ms after director 1 died (deadtime 3 s)"
else fail "no failover"; fi
ip -n d2 addr show dev eth0 | grep -q "10.9.0.100" && pass "director 2 holds the VIP" || fail "VIP not on director 2"
grep -q "partner dead: activating lvs" "$W/d2.log" && pass "director 2 logged 'partner dead: activating lvs'" || fail "d2 activation line"
wait_for 15 grep -q "gratuitous lvs arps finished" "$W/d2.log" && pass "director 2 sent its gratuitous ARPs" || fail "d2 arps"
say "director 2: IPVS table"; ip netns exec d2 "$BIN/ipvsadm" -L -n

say "director 1 comes back: it stays passive while director 2 runs"
ip -n d1 link set eth0 up; ip -n d1 link set eth1 up
# What the killed pulse left behind is cleared by the new one at start-up.
start_pulse d1
sleep 5
ip -n d1 addr show dev eth0 | grep -q "10.9.0.100" && fail "director 1 took the VIP back" || pass "director 1 stays passive"
serves && pass "traffic still flows through director 2" || fail "traffic after director 1's return"

say "director logs"
for d in d1 d2; do echo "--- $d"; grep -E "pulse:|lvs:" "$W/$d.log" | grep -v DEBUG | head -40; done
echo
echo "$FAILS failure(s)"
[ $FAILS = 0 ]
