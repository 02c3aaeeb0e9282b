#!/bin/bash
# pulse's monitor_links on VLAN and bonding devices; runs INSIDE the kernel
# lab (the host kernel has neither 8021q nor bonding):
#     tests/kernel-lab/run tests/lab/pulse-links.sh [BIN_DIR]
#
#   lk-d1 (primary)                                      lk-d2 (backup)
#   m0.5  10.5.0.1/24 (VLAN 5 on veth m0) ── bridge lkv ── m0.5  10.5.0.2/24
#         VIP 10.5.0.100 on label m0.5:1 floats with the active director
#   bond0 10.6.0.1/24 (active-backup, ───── bridge lkb ──── bond0 10.6.0.2/24
#         slaves b0 b1, miimon 50)
#
# primary/backup (the public heartbeat channel) sit on the VLAN,
# primary_private/backup_private on the bond; monitor_links = 1, pulse with
# --norun (no lvs, no IPVS needed).  Links are cut on the bridge side (the
# far end of a veth: the director sees its carrier go, like a pulled cable)
# or, once, administratively on the director (ip link set m0 down).
#
#  1. one bond slave of the active master fails: the bond stays up, so no
#     LINKFAIL and no failover;
#  2. the VLAN's lower device (m0) of the master loses carrier: the VLAN
#     follows, the master logs LINKFAIL and deactivates, the backup takes the
#     VIP within deadtime + 1 s; carrier back: "restored", no takeover;
#  3. one, then both bond slaves of the (now active) backup fail: LINKFAIL on
#     the bond ("Private NIC"), the master takes the VIP back; slaves back:
#     "restored", the backup stays passive;
#  4. the passive backup's m0 set administratively down: the VLAN goes down
#     with it, LINKFAIL without deactivation; m0 up again brings the VLAN up
#     (8021q) and pulse logs the recovery.
#
# Prints PASS/FAIL lines and "N failure(s)"; exit status 0 only without
# failures.  Every namespace, bridge and process it creates is removed.
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "pulse-links.sh: run me through tests/kernel-lab/run" >&2; exit 2; }
REPO=${KERNEL_LAB_REPO:-$(pwd)}
BIN=${1:-$REPO/target/release}
W=$(mktemp -d /tmp/links.XXXXXX)
FAILS=0
KEEPALIVE=1
DEADTIME=3
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
say() { printf '\n== %s\n' "$*"; }
now() { date +%s%N; }
PIDS=()
cleanup() {
    local p
    for p in ${PIDS[@]+"${PIDS[@]}"}; do kill "$p" 2>/dev/null; done
    sleep 0.5
    for p in ${PIDS[@]+"${PIDS[@]}"}; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    for ns in lk-d1 lk-d2; do ip netns del "$ns" 2>/dev/null; done
    for l in lkv lkb d1m0 d2m0 d1b0 d1b1 d2b0 d2b1; do ip link del "$l" 2>/dev/null; done
    rm -rf "$W"
}
trap cleanup EXIT
for b in pulse send_arp; do [ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b missing"; exit 1; }; done
modprobe 8021q && modprobe bonding || { echo "FAIL: cannot load 8021q/bonding"; exit 1; }

# ------------------------------------------------------------ topology
trap 'echo "FAIL: building the topology: $BASH_COMMAND"' ERR
set -e
for br in lkv lkb; do ip link add "$br" type bridge; ip link set "$br" up; done
veth() {  # ns name-in-ns bridge
    local h="${1#lk-}$2"
    ip link add "$h" type veth peer name "$2" netns "$1"
    ip link set "$h" master "$3"
    ip link set "$h" up
}
for n in 1 2; do
    ns=lk-d$n
    ip netns add $ns
    ip -n $ns link set lo up
    veth $ns m0 lkv
    ip -n $ns link set m0 up
    ip -n $ns link add link m0 name m0.5 type vlan id 5
    ip -n $ns addr add 10.5.0.$n/24 dev m0.5
    ip -n $ns link set m0.5 up
    ip -n $ns link add bond0 type bond mode active-backup miimon 50
    veth $ns b0 lkb
    veth $ns b1 lkb
    ip -n $ns link set b0 master bond0
    ip -n $ns link set b1 master bond0
    ip -n $ns addr add 10.6.0.$n/24 dev bond0
    ip -n $ns link set bond0 up
done
set +e
trap - ERR

cat >"$W/lvs.cf" <<CF
serial_no = 1
primary = 10.5.0.1
primary_private = 10.6.0.1
service = lvs
backup_active = 1
backup = 10.5.0.2
backup_private = 10.6.0.2
heartbeat = 1
heartbeat_port = 539
keepalive = $KEEPALIVE
deadtime = $DEADTIME
monitor_links = 1
network = direct
virtual web {
    active = 1
    address = 10.5.0.100 m0.5:1
    vip_nmask = 255.255.255.0
    port = 80
    scheduler = rr
    protocol = tcp
    server rs1 {
        address = 10.5.0.50
        active = 1
    }
}
CF
"$BIN/pulse" -c "$W/lvs.cf" --config-test >/dev/null || fail "config test"

# ------------------------------------------------------------ helpers
start_pulse() {  # d1|d2
    ip netns exec "lk-$1" "$BIN/pulse" -n --norun -c "$W/lvs.cf" --lvsd /bin/false \
        --pidfile "$W/$1.pid" --send-arp "$BIN/send_arp" >>"$W/$1.log" 2>&1 &
    PIDS+=($!)
}
wait_for() {  # seconds command...
    local end=$(( $(now) + $1 * 1000000000 )); shift
    while [ "$(now)" -lt "$end" ]; do "$@" && return 0; sleep 0.1; done
    return 1
}
has_vip() { ip -n "lk-$1" -4 addr show dev m0.5 | grep -q "inet 10.5.0.100/24 .* m0.5:1$"; }
no_vip() { ! has_vip "$1"; }
mark() { wc -l <"$W/$1.log"; }                    # log position
since() { tail -n +$(($2 + 1)) "$W/$1.log"; }     # log lines after a mark
logged() { since "$1" "$2" | grep -qF -- "$3"; }  # d mark text
expect_line() {  # d mark seconds text
    if wait_for "$3" logged "$1" "$2" "$4"; then pass "$1 logged '$4'"; else fail "$1 did not log '$4'"; fi
}
expect_no_line() {  # d mark text
    if logged "$1" "$2" "$3"; then fail "$1 logged '$3'"; else pass "$1 did not log '$3'"; fi
}
flags() { ip -n "lk-$1" -o link show "$2" | sed 's/.*<\([^>]*\)>.*state \([A-Z]*\).*/<\1> \2/'; }
active_slave() { ip -n "lk-$1" -d link show bond0 | grep -o 'active_slave [^ ]*' | cut -d' ' -f2; }
on_slave() { [ "$(active_slave "$1")" = "$2" ]; }
# Cut (on the bridge side) the slave $1's bond0 is using; the bond must move
# to the other one.  Sets CUT and OTHER.
cut_active_slave() {
    CUT=$(active_slave "$1")
    case $CUT in b0) OTHER=b1 ;; b1) OTHER=b0 ;; *) fail "$1: no active slave on bond0 ('$CUT')"; CUT=b0; OTHER=b1 ;; esac
    ip link set "$1$CUT" down
    if wait_for 3 on_slave "$1" "$OTHER"; then
        pass "$1: $CUT lost carrier, bond0 moved to $OTHER"
    else
        fail "$1: bond0 did not move from $CUT to $OTHER ($(active_slave "$1"))"
    fi
}
# Record address events in $1's namespace with kernel-side timestamps, so
# the takeover time does not include this script's own (TCG-slow) polling.
watch_vip() {
    : >"$W/mon-$1"
    ip -n "lk-$1" -ts monitor address >"$W/mon-$1" 2>&1 &
    MON=$!
    PIDS+=("$MON")
    sleep 0.3
}
# The VIP moved from $1 to $2 within deadtime + 1 s of t0 (ns); watch_vip $2
# ran before the cut.
expect_takeover() {
    local from=$1 to=$2 t0=$3 ms ts
    if wait_for $((DEADTIME + 3)) has_vip "$to"; then
        ts=$(grep -v Deleted "$W/mon-$to" | grep -m1 "inet 10.5.0.100/" | sed -n 's/^\[\([^]]*\)\].*/\1/p')
        if [ -n "$ts" ]; then
            ms=$(( ($(date -d "$ts" +%s%N) - t0) / 1000000 ))
        else
            ms=$(( ($(now) - t0) / 1000000 ))
            echo "   (no address event seen; measured by polling)"
        fi
        if [ "$ms" -le $(( (DEADTIME + 1) * 1000 )) ]; then
            pass "$to holds the VIP ${ms} ms after the cut (deadtime ${DEADTIME} s)"
        else
            fail "$to took the VIP only ${ms} ms after the cut (> deadtime + 1 s)"
        fi
    else
        fail "$to never took the VIP"
    fi
    kill "$MON" 2>/dev/null
    wait_for 2 no_vip "$from" && pass "$from released the VIP" || fail "$from still holds the VIP"
}
# Nobody moves for $1 seconds: $2 keeps the VIP, $3 stays without.
expect_stable() {
    local secs=$1 on=$2 off=$3 end=$(( $(now) + $1 * 1000000000 )) ok=1
    while [ "$(now)" -lt "$end" ]; do
        has_vip "$on" && no_vip "$off" || { ok=; break; }
        sleep 0.2
    done
    [ -n "$ok" ] && pass "$on keeps the VIP and $off stays passive for ${secs} s" ||
        fail "the VIP moved ($on: $(has_vip "$on" && echo has || echo lacks) it, $off: $(has_vip "$off" && echo has || echo lacks) it)"
}

# ------------------------------------------------------------ start
say "starting pulse on both directors (VLAN m0.5 public, bond0 private, monitor_links = 1)"
start_pulse d1; start_pulse d2
wait_for 10 logged d1 0 "STARTING PULSE AS MASTER" && pass "d1 is the master" || fail "d1 did not start as master"
wait_for 10 logged d2 0 "STARTING PULSE AS BACKUP" && pass "d2 is the backup" || fail "d2 did not start as backup"
if wait_for $((DEADTIME + 10)) has_vip d1; then pass "d1 is active and holds the VIP on m0.5:1"; else fail "d1 never took the VIP"; fi
no_vip d2 && pass "d2 is passive" || fail "d2 holds the VIP too"
# Let the start-up settle (the backup's first deadtime, the master's ARPs).
wait_for 10 logged d1 0 "gratuitous lvs arps finished" || fail "d1 did not finish its ARPs"
logged d1 0 "link down" && fail "d1 saw a link down at start-up" || pass "no link down at start-up"

say "1. one bond slave of the active master loses carrier: the bond stays up"
m1=$(mark d1); m2=$(mark d2)
cut_active_slave d1
echo "   $CUT: $(flags d1 "$CUT")   bond0: $(flags d1 bond0)"
flags d1 bond0 | grep -q "LOWER_UP" && pass "bond0 keeps LOWER_UP" || fail "bond0 lost LOWER_UP"
expect_stable $((DEADTIME + 1)) d1 d2
expect_no_line d1 "$m1" "link down"
expect_no_line d1 "$m1" "Local NIC link failure"
expect_no_line d2 "$m2" "activating lvs"
ip link set "d1$CUT" up

say "2. the master's VLAN lower device loses carrier: LINKFAIL, handover"
m1=$(mark d1); m2=$(mark d2)
watch_vip d2
t0=$(now)
ip link set d1m0 down
expect_line d1 "$m1" 5 "Primary NIC: link down"
expect_line d1 "$m1" 5 "Local NIC link failure: Pulse disabled"
expect_line d1 "$m1" 5 "local link failure: deactivating LVS"
expect_no_line d1 "$m1" "Private NIC: link down"
expect_takeover d1 d2 "$t0"
expect_line d2 "$m2" 2 "primary inactive: activating lvs"
echo "   m0: $(flags d1 m0)   m0.5: $(flags d1 m0.5)"
say "2b. carrier back: LINKFAIL clears, no takeover"
m1=$(mark d1)
ip link set d1m0 up
expect_line d1 "$m1" 5 "Local NIC link(s) restored: Pulse enabled"
expect_stable $((DEADTIME + 1)) d2 d1

say "3. bond of the active backup: one slave fails (no LINKFAIL), then the other (LINKFAIL, handover)"
m1=$(mark d1); m2=$(mark d2)
cut_active_slave d2
expect_stable 2 d2 d1
expect_no_line d2 "$m2" "link down"
watch_vip d1
t0=$(now)
ip link set "d2$OTHER" down
expect_line d2 "$m2" 5 "Private NIC: link down"
expect_line d2 "$m2" 5 "Local NIC link failure: Pulse disabled"
expect_line d2 "$m2" 5 "local link failure: deactivating LVS"
expect_no_line d2 "$m2" "Primary NIC: link down"
expect_takeover d2 d1 "$t0"
expect_line d1 "$m1" 2 "backup inactive: activating lvs"
echo "   bond0: $(flags d2 bond0)"
say "3b. slaves back: LINKFAIL clears, the backup stays passive"
m2=$(mark d2)
ip link set d2b0 up; ip link set d2b1 up
expect_line d2 "$m2" 5 "Local NIC link(s) restored: Pulse enabled"
expect_stable $((DEADTIME + 1)) d1 d2

say "4. the passive backup's m0 set down on the director: the VLAN goes down with it"
m1=$(mark d1); m2=$(mark d2)
ip -n lk-d2 link set m0 down
expect_line d2 "$m2" 5 "Primary NIC: link down"
expect_line d2 "$m2" 5 "Local NIC link failure: Pulse disabled"
expect_no_line d2 "$m2" "deactivating LVS"
echo "   m0: $(flags d2 m0)   m0.5: $(flags d2 m0.5)"
m2=$(mark d2)
ip -n lk-d2 link set m0 up
expect_line d2 "$m2" 5 "Local NIC link(s) restored: Pulse enabled"
flags d2 m0.5 | grep -q "UP.*LOWER_UP" && pass "m0.5 came back up with m0" || fail "m0.5 is $(flags d2 m0.5)"
expect_stable 2 d1 d2
expect_no_line d1 "$m1" "link down"

say "pulse logs"
for d in d1 d2; do echo "--- $d"; grep -v DEBUG "$W/$d.log" | head -60; done
echo
echo "$FAILS failure(s)"
[ "$FAILS" = 0 ]
