#!/bin/bash
# Every role change of the director pair, as a client sees it; runs INSIDE
# the kernel lab:
#     tests/kernel-lab/run [--env RC_...=...] tests/lab/role-change.sh BIN_DIR
# (`make test` runs it with RC_ASSERT=1, `make bench` (tests/bench/run-all)
# with keepalived beside it).
#
# make demo's topology, one bridge per network, one namespace per machine:
#   client c 10.9.0.2 ── pub ──┬── d1 eth0 10.9.0.11 (primary)   VIP 10.9.0.100 (eth0:1)
#                              ├── d2 eth0 10.9.0.12 (backup)
#   [dr: gw 10.9.0.254] ───────┘
#   d1 eth1 10.8.0.11, d2 eth1 10.8.0.12 ── priv ── r1 10.8.0.21, r2 .22, r3 .23 [dr: gw 10.8.0.254]
# nat: the real servers' gateway is the floating NAT router address 10.8.0.1;
# dr:  the real servers hold the VIP on lo (arp_ignore 1, arp_announce 2) and
#      answer through gw.
# Real servers: tests/lab/rolechange.py server (HTTP for checks and probes,
# an echo for long-lived connections).  Directors: pulse -n with keepalive 1,
# deadtime 3, syncdaemon = 1 on eth1; each director has its own /run (so
# /run/lvs.pid is its own, as on a real machine).
#
# The client (rolechange.py client) holds RC_STREAMS (50) long-lived
# connections exchanging a line every 100 ms and opens a new connection every
# 50 ms; tcpdump on its interface records ARP, RSTs and ICMP.  Scenarios, each
# on whichever director is active:
#   a   `service pulse stop` (the init script's stop: SIGTERM, wait)
#   b   pulse --switchover, and b' the switch back
#   c   kill -9 of pulse
#   d   the director dead: both its links cut
# Each prints one row: failed new connections, outage (longest time between
# two answered probes), established connections kept, and RST / ICMP
# unreachable from a director after the new director's first gratuitous ARP.
#
# RC_MODES      nat dr             RC_VARIANTS  hot cold (hot_standby = 1 / 0)
# RC_SCENARIOS  a b c d            RC_COLD_SCENARIOS  a c (cold: the issue's (e))
# RC_PEER       keepalived: the same scenarios with keepalived 2.2.7 (VRRP,
#               checkers and lvs_sync_daemon on both directors)
# RC_ASSERT     1: the goals are checked and the exit status says so:
#               a, b, b', c: 0 failed, every stream kept (cold: a and c, 0 failed);
#               d: outage <= deadtime + 0.3 s (+ RC_SLACK_MS: make test gives
#               400 ms for the emulated guest, where the takeover, the ARP and
#               the client's next answer take 0.1-0.4 s), no RST or ICMP
#               from a director after the first ARP, 98 % of the streams kept.
# RC_OUT        a file for the table rows (tab-separated).
# RC_STREAMS    long-lived connections (50); RC_EVERY: a new one every (0.05 s)
# RC_FULLCAP    1: the client's capture keeps every TCP segment, not only
#               SYN/FIN/RST (a failed probe's whole exchange is printed)
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "role-change.sh: run me through tests/kernel-lab/run" >&2; exit 2; }
REPO=${KERNEL_LAB_REPO:-$(pwd)}
BIN=${1:-$REPO/target/release}
MODES=${RC_MODES:-nat dr}
VARIANTS=${RC_VARIANTS:-hot cold}
SCENARIOS=${RC_SCENARIOS:-a b c d}
COLD_SCENARIOS=${RC_COLD_SCENARIOS:-a c}
PEER=${RC_PEER:-}
ASSERT=${RC_ASSERT:-0}
STREAMS=${RC_STREAMS:-50}
EVERY=${RC_EVERY:-0.05}
SLACK_MS=${RC_SLACK_MS:-0}
OUTFILE=${RC_OUT:-}
PY=$REPO/tests/lab/rolechange.py
VIP=10.9.0.100
NATR=10.8.0.1
KEEPALIVE=1
DEADTIME=3
W=$(mktemp -d /tmp/rolechange.XXXXXX)
FAILS=0
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd

for b in pulse lvs nanny send_arp ipvsadm; do [ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b missing"; exit 1; }; done
command -v tcpdump >/dev/null || { echo "FAIL: tcpdump missing (tests/install-deps)"; exit 1; }
if [ "$PEER" = keepalived ] && ! command -v keepalived >/dev/null; then
    echo "role-change.sh: keepalived missing: no peer rows"; PEER=
fi

ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
exec {ZZFD}<> <(:)
zz() { read -r -t "$1" -u "$ZZFD" || :; }
say() { printf '%s %s\n' "$(date +%T)" "$*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
wait_for() {  # seconds command...: poll every 0.1 s
    local end=$(( $(ms) + $1 * 1000 )); shift
    while :; do "$@" && return 0; [ "$(ms)" -ge "$end" ] && return 1; zz 0.1; done
}
mac_of() {  # 10.9.0.11 -> 02:09:00:00:00:11
    local last=${1##*.} net
    net=$(echo "$1" | cut -d. -f2)
    if [ "$last" = 254 ]; then last=fe; else last=$(printf '%02d' "$last"); fi
    printf '02:%02d:00:00:00:%s\n' "$net" "$last"
}

# ------------------------------------------------------------ topology
NSS=() BRIDGE_PORTS=()
declare -A PULSE=() KAD=() RS_PID=()
CLIENT= TCPDUMP=
port() {  # ns ifname bridge addr/len
    local h="$1$2"
    ip link add "$h" type veth peer name "$2" netns "rc-$1"
    ip link set "$h" master "$3" up
    ip -n "rc-$1" link set "$2" address "$(mac_of "${4%/*}")"
    ip -n "rc-$1" addr add "$4" dev "$2"
    ip -n "rc-$1" link set "$2" up
    BRIDGE_PORTS+=("$h")
}
nsx() { local n=$1; shift; ip netns exec "rc-$n" "$@"; }
build() {  # mode
    local m i gwaddr=$NATR
    ip link add rcpub type bridge && ip link set rcpub up
    ip link add rcpriv type bridge && ip link set rcpriv up
    for m in c d1 d2 r1 r2 r3; do ip netns add "rc-$m"; NSS+=("rc-$m"); ip -n "rc-$m" link set lo up; done
    port c eth0 rcpub 10.9.0.2/24
    for i in 1 2; do
        port "d$i" eth0 rcpub "10.9.0.1$i/24"
        port "d$i" eth1 rcpriv "10.8.0.1$i/24"
        nsx "d$i" sysctl -qw net.ipv4.ip_forward=1
    done
    if [ "$1" = dr ]; then
        gwaddr=10.8.0.254
        ip netns add rc-gw; NSS+=(rc-gw); ip -n rc-gw link set lo up
        port gw eth0 rcpub 10.9.0.254/24
        port gw eth1 rcpriv 10.8.0.254/24
        nsx gw sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
    fi
    for i in 1 2 3; do
        port "r$i" eth0 rcpriv "10.8.0.2$i/24"
        ip -n "rc-r$i" route add default via "$gwaddr"
        if [ "$1" = dr ]; then
            ip -n "rc-r$i" addr add "$VIP/32" dev lo
            nsx "r$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
                net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
        fi
        nsx "r$i" python3 "$PY" server "rs$i" 80 &
        RS_PID[$i]=$!
    done
    for i in 1 2; do mkdir -p "$W/d$i/run"; done
}
teardown() {
    local ns p
    stop_client
    disown -a 2>/dev/null     # what is left dies by pid below, without bash's "Killed" reports
    for d in d1 d2; do
        [ -n "${PULSE[$d]:-}" ] && kill "${PULSE[$d]}" 2>/dev/null
        [ -n "${KAD[$d]:-}" ] && kill "${KAD[$d]}" 2>/dev/null
    done
    for d in d1 d2; do
        [ -n "${PULSE[$d]:-}" ] && timeout 20 tail --pid="${PULSE[$d]}" -f /dev/null 2>/dev/null
        [ -n "${KAD[$d]:-}" ] && timeout 10 tail --pid="${KAD[$d]}" -f /dev/null 2>/dev/null
    done
    PULSE=() KAD=()
    for ns in ${NSS[@]+"${NSS[@]}"}; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    done
    for p in ${BRIDGE_PORTS[@]+"${BRIDGE_PORTS[@]}"}; do ip link del "$p" 2>/dev/null; done
    for ns in ${NSS[@]+"${NSS[@]}"}; do ip netns del "$ns" 2>/dev/null; done
    ip link del rcpub 2>/dev/null; ip link del rcpriv 2>/dev/null
    NSS=() BRIDGE_PORTS=() RS_PID=()
    wait 2>/dev/null
}
trap 'teardown; rm -rf "$W"' EXIT

# ------------------------------------------------------------ lvs.cf, pulse
write_cf() {  # mode hot(0|1) file
    local net=nat
    [ "$1" = dr ] && net=direct
    {
        cat <<CF
serial_no = 1
primary = 10.9.0.11
primary_private = 10.8.0.11
service = lvs
backup_active = 1
backup = 10.9.0.12
backup_private = 10.8.0.12
heartbeat = 1
heartbeat_port = 539
keepalive = $KEEPALIVE
deadtime = $DEADTIME
network = $net
CF
        [ "$1" = nat ] && printf 'nat_router = %s eth1:1\nnat_nmask = 255.255.255.0\n' "$NATR"
        cat <<CF
syncdaemon = 1
syncd_iface = eth1
syncd_id = 7
hot_standby = $2
ipvsadm = $BIN/ipvsadm
virtual web {
    active = 1
    address = $VIP eth0:1
    vip_nmask = 255.255.255.0
    port = 80
    send = "GET / HTTP/1.0\r\n\r\n"
    expect = "HTTP"
    scheduler = rr
    protocol = tcp
    client_monitor = $BIN/nanny
    timeout = 2
    reentry = 4
CF
        for i in 1 2 3; do
            printf '    server rs%d {\n        address = 10.8.0.2%d\n        active = 1\n        weight = 1\n    }\n' "$i" "$i"
        done
        echo "}"
    } >"$3"
}
stamp() { local l; while IFS= read -r l; do printf '%s %s\n' "$(ms)" "$l"; done; }
start_pulse() {  # d
    local d=$1
    ip netns exec "rc-$d" sh -c "mount --bind $W/$d/run /run && exec $BIN/pulse -n -c $W/$d/lvs.cf --pidfile $W/$d/pulse.pid --lvsd $BIN/lvs --send-arp $BIN/send_arp" \
        > >(stamp >>"$W/$d.log") 2>&1 &
    PULSE[$d]=$!
}
has_vip() { ip -n "rc-$1" -4 -o addr show dev eth0 2>/dev/null | grep -q " $VIP/"; }
no_vip() { ! has_vip "$1"; }
full_table() { [ "$(nsx "$1" "$BIN/ipvsadm" -L -n 2>/dev/null | grep -c -- '-> 10.8.0.2')" = 3 ]; }
active_one() { if has_vip d1; then echo d1; elif has_vip d2; then echo d2; fi; }
other() { if [ "$1" = d1 ]; then echo d2; else echo d1; fi; }
pulse_alive() { [ -n "${PULSE[$1]:-}" ] && kill -0 "${PULSE[$1]}" 2>/dev/null; }
# wait (bounded) for a process this shell started to end, then reap it
gone() {  # pid seconds
    [ -n "$1" ] || return 0
    timeout "$2" tail --pid="$1" -f /dev/null 2>/dev/null || { echo "   (process $1 still running after $2 s: killed)"; kill -9 "$1" 2>/dev/null; }
    { wait "$1"; } 2>/dev/null    # no "Killed" report from bash
    return 0
}

# ------------------------------------------------------------ keepalived (RC_PEER)
write_keepalived() {  # mode d file
    local state=BACKUP prio=100 kind=NAT
    [ "$2" = d1 ] && { state=MASTER; prio=150; }
    [ "$1" = dr ] && kind=DR
    {
        cat <<KA
global_defs {
    router_id $2
    lvs_sync_daemon eth1 VI_1 id 7
    enable_script_security
}
vrrp_instance VI_1 {
    state $state
    interface eth0
    virtual_router_id 51
    priority $prio
    advert_int $KEEPALIVE
    nopreempt
    virtual_ipaddress {
        $VIP/24 dev eth0 label eth0:1
KA
        [ "$1" = nat ] && echo "        $NATR/24 dev eth1 label eth1:1"
        cat <<KA
    }
    garp_master_delay 1
    garp_master_repeat 5
}
virtual_server $VIP 80 {
    delay_loop 2
    lb_algo rr
    lb_kind $kind
    protocol TCP
KA
        for i in 1 2 3; do
            cat <<KA
    real_server 10.8.0.2$i 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 2
        }
    }
KA
        done
        echo "}"
    } >"$3"
}
start_keepalived() {  # d
    local d=$1
    ip netns exec "rc-$d" sh -c "mount --bind $W/$d/run /run && exec keepalived -n -l -D -f $W/$d/keepalived.conf -p $W/$d/ka.pid -r $W/$d/vrrp.pid -c $W/$d/checkers.pid" \
        > >(stamp >>"$W/$d.log") 2>&1 &
    KAD[$d]=$!
}
ka_stop() { kill "${KAD[$1]}" 2>/dev/null; timeout 15 tail --pid="${KAD[$1]}" -f /dev/null 2>/dev/null; KAD[$1]=; }

# ------------------------------------------------------------ the client
CLIENT_N=0
start_client() {
    CLIENT_N=$((CLIENT_N + 1))
    CLOG=$W/client-$CLIENT_N.log CPCAP=$W/client-$CLIENT_N.pcap
    : >"$CLOG"
    local filter='arp or icmp or (tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0)'
    [ "${RC_FULLCAP:-0}" = 1 ] && filter='arp or icmp or tcp'
    nsx c tcpdump -i eth0 -U -n -s 128 -w "$CPCAP" "$filter" 2>"$W/tcpdump.err" &
    TCPDUMP=$!
    nsx c python3 "$PY" client "$VIP" "$CLOG" --streams "$STREAMS" --every "$EVERY" &
    CLIENT=$!
    wait_for 60 streams_open "$STREAMS" || fail "the client opened only $(streams_now) of $STREAMS connections"
}
streams_now() { awk '$2 == "open" { o++ } $2 == "lost" { l++ } END { print o - l }' "$CLOG"; }
streams_open() { [ "$(streams_now)" -ge "$1" ]; }
stop_client() {
    [ -n "$CLIENT" ] && { kill "$CLIENT" 2>/dev/null; gone "$CLIENT" 5; }
    [ -n "$TCPDUMP" ] && { kill -INT "$TCPDUMP" 2>/dev/null; gone "$TCPDUMP" 10; }
    CLIENT= TCPDUMP=
}
# Settle before a scenario: every stream open for 4 s (the sync daemon sends
# a partly filled buffer after at most ~3 s).
settle() {
    wait_for 30 streams_open "$STREAMS" || fail "only $(streams_now) of $STREAMS connections before the next scenario"
    zz 5
}

# RST / ICMP port unreachable sent by a director (by MAC) after the first ARP
# for the VIP from director $3 (MAC), between $1 and $2 (epoch ms).  (An ICMP
# host unreachable from a director's own address is routing, not a refusal:
# a packet for the VIP that reached the director that was about to take it.)
refusals_after_arp() {  # t0 t1 new-director-mac
    local t0=$1 t1=$2 mac=$3
    tcpdump -r "$CPCAP" -tt -n -e 2>/dev/null | awk -v t0="$t0" -v t1="$t1" -v mac="$mac" \
        -v m1="$(mac_of 10.9.0.11)" -v m2="$(mac_of 10.9.0.12)" -v vip="$VIP" '
        { t = $1 * 1000; src = $2 }
        t < t0 || t > t1 { next }
        !arp && src == mac && /ARP/ && index($0, " " vip " ") { arp = t; next }
        arp && (src == m1 || src == m2) && (/Flags \[R/ || /ICMP .* port .* unreachable/) { n++ }
        END { if (!arp) print "no-arp"; else print n + 0 }'
}

ROWS=()
row() {  # mode who scenario t0 t1 new-director: after the settle that follows t1
    local r refusals
    # a probe is judged after its 5 s timeout; a connection whose segments
    # were lost (d: the director died) once TCP had the time to retry them
    # (the client gives up after 15 s without an echo); a kept connection
    # must have echoed since (rolechange.py's "alive" lines)
    local judge=6000
    [ "$3" = d ] && judge=16000
    while [ $(( $(ms) - $5 )) -lt $judge ]; do zz 0.5; done
    r=$(python3 "$PY" report "$CLOG" "$4" "$5" --settle $(( ($(ms) - $5) / 1000 )))
    refusals=$(refusals_after_arp "$4" "$5" "$(mac_of "10.9.0.1${6#d}")")
    local line
    line=$(printf '%s\t%s\t%s\t%s refusals_after_arp=%s' "$1" "$2" "$3" "$r" "$refusals")
    ROWS+=("$line")
    echo "ROW $line"
    case $r in *" failed=0 "*) ;; *) refusals=${refusals}x ;; esac
    if [ "$refusals" != 0 ]; then
        refusals=${refusals%x}
        echo "   the directors' logs around it (ms after the event):"
        for d in d1 d2; do
            awk -v t0="$4" -v t1="$5" -v d="$d" '$1 >= t0 - 500 && $1 <= t1 { $1 = sprintf("%6d %s", $1 - t0, d); print "     " $0 }' "$W/$d.log" | head -n 25
        done
        cat "$W/guards" 2>/dev/null
        grep -h "guard" "$W/d1.log" "$W/d2.log" | tail -n 4 | sed 's/^/      /'
        echo "   RST / ICMP seen by the client (time, source MAC, frame):"
        tcpdump -r "$CPCAP" -tt -n -e 2>/dev/null | awk -v t0="$4" -v t1="$5" '$1 * 1000 >= t0 && $1 * 1000 <= t1 && (/Flags \[R/ || /unreachable/) { printf "      %.3f %s\n", $1 - t0 / 1000, substr($0, index($0, $2)) }' | head -n 8
    fi
    # a failed probe: its client port, what the client saw on it and what
    # either director holds for it
    local fp
    for fp in $(awk -v t0="$4" -v t1="$5" '$2 == "probe" && $3 == "fail" && $1 >= t0 - 1000 && $1 <= t1 && $6 ~ /^[0-9]+$/ { print $6 }' "$CLOG" | head -n 3); do
        echo "   failed probe from client port $fp (time, source MAC, frame) and the directors' entries for it:"
        tcpdump -r "$CPCAP" -tt -n -e "tcp port $fp" 2>/dev/null | awk -v t0="$4" '{ printf "      %.3f %s\n", $1 - t0 / 1000, substr($0, index($0, $2)) }' | head -n 24
        for d in d1 d2; do
            nsx "$d" "$BIN/ipvsadm" -L -n -c 2>/dev/null | grep ":$fp " | sed "s/^/      $d: /"
        done
    done
    case $r in *"kept="*" streams="*)
        local k s
        k=$(sed -E 's/.* kept=([0-9]+).*/\1/' <<<"$r"); s=$(sed -E 's/.* streams=([0-9]+).*/\1/' <<<"$r")
        if [ "$k" != "$s" ]; then
            echo "   lost streams (id reason, client port) and $6's connections for them:"
            awk -v t0="$4" '$2 == "open" { port[$3] = $4 } $2 == "lost" && $1 >= t0 - 1000 { printf "      %s %s %s\n", $3, $4, port[$3] }' "$CLOG" | head -n 5
            for p in $(awk -v t0="$4" '$2 == "open" { port[$3] = $4 } $2 == "lost" && $1 >= t0 - 1000 { print port[$3] }' "$CLOG" | head -n 3); do
                nsx "$6" "$BIN/ipvsadm" -L -n -c 2>/dev/null | grep ":$p " | sed 's/^/      /'
                tcpdump -r "$CPCAP" -tt -n -e "port $p" 2>/dev/null | awk -v t0="$4" '{ printf "      %.3f %s\n", $1 - t0 / 1000, substr($0, index($0, $2)) }' | head -n 4
            done
            nsx "$6" nft list table ip piranha_takeover 2>/dev/null | grep counter | sed 's/^/      guard: /'
        fi ;;
    esac
    [ -n "$OUTFILE" ] && echo "$line" >>"$OUTFILE"
    [ "$ASSERT" = 1 ] || return 0
    local failed kept streams outage
    failed=$(sed -E 's/.* failed=([0-9]+).*/\1/' <<<"$r")
    kept=$(sed -E 's/.* kept=([0-9]+).*/\1/' <<<"$r")
    streams=$(sed -E 's/.* streams=([0-9]+).*/\1/' <<<"$r")
    outage=$(sed -E 's/.* outage_ms=([0-9]+).*/\1/' <<<"$r")
    [ "$refusals" = no-arp ] && fail "$1 $2 $3: no gratuitous ARP from $6 in the client's capture"
    case "$2:$3" in
        ours-hot:d*|ours-cold:d*)
            [ "$outage" -le $((DEADTIME * 1000 + 300 + SLACK_MS)) ] || fail "$1 $2 $3: outage $outage ms > deadtime + 0.3 s"
            [ "$refusals" = 0 ] || fail "$1 $2 $3: $refusals RST/ICMP unreachable from a director after the first gratuitous ARP"
            [ $((kept * 100)) -ge $((streams * 98)) ] || fail "$1 $2 $3: kept $kept of $streams connections (< 98 %)"
            ;;
        ours-hot:*)
            [ "$failed" = 0 ] || fail "$1 $2 $3: $failed failed connects"
            [ "$kept" = "$streams" ] || fail "$1 $2 $3: kept $kept of $streams connections"
            ;;
        ours-cold:*)
            [ "$failed" = 0 ] || fail "$1 $2 $3: $failed failed connects"
            ;;
    esac
}

# ------------------------------------------------------------ scenarios (ours)
# Each runs on the active director A; B takes over.  Afterwards the pair is
# back to "B active, A passive (its pulse running)".
scenario() {  # mode who letter A
    local mode=$1 who=$2 s=$3 a=$4 b t0 t1 out
    b=$(other "$a")
    say "$mode $who: scenario $s on $a"
    t0=$(ms)
    case $s in
        a) PIDFILE=$W/$a/pulse.pid STOP_TIMEOUT=30 "$REPO/init/pulse" stop >"$W/stop.out" 2>&1 ;;
        b|b2) out=$(nsx "$a" "$BIN/pulse" --switchover -c "$W/$a/lvs.cf" --pidfile "$W/$a/pulse.pid" 2>&1) || fail "$mode $who $s: switchover: $out"
              echo "   $out" ;;
        c) kill -9 "${PULSE[$a]}" ;;
        d) ip link set "${a}eth0" down; ip link set "${a}eth1" down ;;
    esac
    wait_for 20 has_vip "$b" || fail "$mode $who $s: $b did not take the VIP"
    # the takeover guards as the VIP moves (printed with a failed row)
    for d in d1 d2; do
        nsx "$d" nft list ruleset 2>&1 | grep -E "counter|Error" | sed "s/^/      $d's guard at the takeover: /"
    done >"$W/guards"
    if [ "$s" != d ]; then wait_for 20 no_vip "$a" || fail "$mode $who $s: $a kept the VIP"; fi
    zz 3
    t1=$(ms)
    # back to a pair
    say "   restoring $a"
    case $s in
        a|c) gone "${PULSE[$a]}" 20; start_pulse "$a" ;;
        d) kill "${PULSE[$a]}"; gone "${PULSE[$a]}" 20
           ip link set "${a}eth0" up; ip link set "${a}eth1" up
           start_pulse "$a" ;;
    esac
    zz 2
    [ "$(active_one)" = "$b" ] || fail "$mode $who $s: $b is not the active director after the restore"
    if [ "$who" = ours-hot ]; then wait_for 30 full_table "$a" || fail "$mode $who $s: $a's standby table is not full"; fi
    row "$mode" "$who" "$s" "$t0" "$t1" "$b"
    settle
}

run_ours() {  # mode variant
    local mode=$1 v=$2 hot=1 list=$SCENARIOS a s
    [ "$v" = cold ] && { hot=0; list=$COLD_SCENARIOS; }
    say "$mode $v: starting (hot_standby = $hot)"
    for d in d1 d2; do write_cf "$mode" "$hot" "$W/$d/lvs.cf"; done
    "$BIN/lvs" --config-test -c "$W/d1/lvs.cf" >/dev/null 2>&1 || fail "lvs.cf does not pass --config-test"
    start_pulse d1
    wait_for 30 has_vip d1 || fail "$mode $v: d1 did not take the VIP"
    start_pulse d2
    wait_for 30 full_table d1 || fail "$mode $v: d1's table is not full"
    [ "$hot" = 1 ] && { wait_for 30 full_table d2 || fail "$mode $v: d2's standby table is not full"; }
    start_client
    settle
    for s in $list; do
        a=$(active_one)
        [ -n "$a" ] || { fail "$mode $v: no active director before $s"; break; }
        scenario "$mode" "ours-$v" "$s" "$a"
        if [ "$s" = b ]; then scenario "$mode" "ours-$v" b2 "$(active_one)"; fi
    done
    say "$mode $v: stopping"
    stop_client
    for d in d1 d2; do kill "${PULSE[$d]}" 2>/dev/null; done
    for d in d1 d2; do gone "${PULSE[$d]}" 30; done
    PULSE=()
}

# ------------------------------------------------------------ scenarios (keepalived)
ka_scenario() {  # mode letter A
    local mode=$1 s=$2 a=$3 b t0 t1
    b=$(other "$a")
    say "$mode keepalived: scenario $s on $a"
    t0=$(ms)
    case $s in
        a) ka_stop "$a" ;;
        c) kill -9 "${KAD[$a]}"; pkill -9 -f "keepalived.*$W/$a/" 2>/dev/null ;;
        d) ip link set "${a}eth0" down; ip link set "${a}eth1" down ;;
    esac
    wait_for 20 has_vip "$b" || fail "$mode keepalived $s: $b did not take the VIP"
    zz 3
    t1=$(ms)
    case $s in
        a|c) ka_stop "$a" 2>/dev/null; start_keepalived "$a" ;;
        d) ka_stop "$a"; ip link set "${a}eth0" up; ip link set "${a}eth1" up; start_keepalived "$a" ;;
    esac
    zz 4
    row "$mode" keepalived "$s" "$t0" "$t1" "$b"
    settle
}

run_keepalived() {  # mode
    local mode=$1 s a
    for d in d1 d2; do write_keepalived "$mode" "$d" "$W/$d/keepalived.conf"; done
    start_keepalived d1
    wait_for 30 has_vip d1 || fail "$mode keepalived: d1 did not take the VIP"
    start_keepalived d2
    wait_for 30 full_table d1 || fail "$mode keepalived: d1's table is not full"
    start_client
    settle
    for s in $SCENARIOS; do
        [ "$s" = b ] && continue     # keepalived has no switch-over command
        a=$(active_one)
        [ -n "$a" ] || { fail "$mode keepalived: no active director before $s"; break; }
        ka_scenario "$mode" "$s" "$a"
    done
    stop_client
    for d in d1 d2; do [ -n "${KAD[$d]:-}" ] && ka_stop "$d"; done
}

# ------------------------------------------------------------ main
for mode in $MODES; do
    say "== $mode"
    build "$mode"
    zz 2
    for v in $VARIANTS; do run_ours "$mode" "$v"; done
    [ "$PEER" = keepalived ] && run_keepalived "$mode"
    if [ "$FAILS" -gt 0 ]; then
        for d in d1 d2; do echo "--- $d log (last 30 lines)"; tail -n 30 "$W/$d.log" 2>/dev/null; done
    fi
    teardown
    rm -f "$W"/d*.log "$W"/client-*
done
echo
printf 'mode\trun\tscenario\tresult\n'
printf '%s\n' "${ROWS[@]}"
# The role change table (make bench, docs/BENCHMARKS.md), and make bench's
# summary lines: ours with and without hot standby against keepalived.
printf '%s\n' "${ROWS[@]}" | python3 -c '
import sys, collections
rows = collections.OrderedDict()
for line in sys.stdin:
    mode, who, sc, rest = line.rstrip("\n").split("\t", 3)
    kv = dict(w.split("=", 1) for w in rest.split() if "=" in w)
    rows[(mode, sc, who)] = kv
names = {"a": "(a) service pulse stop", "b": "(b) switch-over", "b2": "(b) switch back",
         "c": "(c) kill -9 of pulse", "d": "(d) director dead (links cut)"}
whos = [("ours-hot", "ours, hot_standby = 1"), ("ours-cold", "ours, hot_standby = 0"), ("keepalived", "keepalived 2.2.7")]
def cell(kv):
    if not kv:
        return "—"
    return "%s / %.2f s / %s of %s%s" % (kv["failed"], int(kv["outage_ms"]) / 1000, kv["kept"], kv["streams"],
        "" if kv.get("refusals_after_arp", "0") == "0" else " (%s RST/ICMP)" % kv["refusals_after_arp"])
print()
print("| network | scenario | " + " | ".join(w[1] for w in whos) + " |")
print("|---|---|" + "---|" * len(whos))
for mode in ["nat", "dr"]:
    for sc in ["a", "b", "b2", "c", "d"]:
        cells = [cell(rows.get((mode, sc, w))) for w, _ in whos]
        if all(c == "—" for c in cells):
            continue
        print("| %s | %s | %s |" % (mode.upper(), names[sc], " | ".join(cells)))
print()
print("Cells: failed new connections / outage (longest time between two answered probes) / established connections kept; RST or ICMP port unreachable from a director after the new one'"'"'s first gratuitous ARP in brackets.")
for mode in ["nat", "dr"]:
    for sc in ["a", "b", "b2", "c", "d"]:
        o = rows.get((mode, sc, "ours-hot"))
        k = rows.get((mode, sc, "keepalived"))
        if not o:
            continue
        print("SUMMARY|role change, %s|%s: failed / outage / kept|%s|keepalived 2.2.7|%s|—" % (mode.upper(), names[sc], cell(o), cell(k)))
'

if [ "$FAILS" -gt 0 ]; then echo "role-change: $FAILS failure(s)"; exit 1; fi
echo "role-change: ok"
