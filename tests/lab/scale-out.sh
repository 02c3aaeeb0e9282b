#!/bin/bash
# Active-active directors over BGP (issue 22), as a client sees it; runs
# INSIDE the kernel lab:
#     tests/kernel-lab/run tests/lab/scale-out.sh BIN_DIR
# (`make test` runs it with SO_ASSERT=1; `make bench` prints the table, and
# adds the heartbeat pair's row with tests/lab/role-change.sh.)
#
#   client c 10.20.0.2 ── cli ── router rt 10.20.0.1 (BIRD 2: BGP + BFD to
#                                 each director, ECMP into the kernel)
#                                 rt 10.21.0.1 ── fab ──┬─ d1 10.21.0.11 ┐ BIRD, pulse,
#                                                       ├─ d2 10.21.0.12 ├ lvs, nanny
#                                                       ├─ d3 10.21.0.13 ┘ VIPs on lo
#                                                       └─ r1 .21, r2 .22, r3 .23 (VIPs on lo,
#                                                          arp_ignore; default via rt)
# VIPs: 10.30.0.100:80 (web: r1 r2 r3) and 10.30.0.101:81 (api: r1 r2),
# direct routing, scheduler mh with mh-port, director_mode = bgp, the same
# lvs.cf on every director (each has its own /run, so BIRD's socket is
# /run/bird/bird.ctl everywhere).  The client (rolechange.py) holds
# SO_STREAMS long-lived connections to web and opens one every SO_EVERY s.
# Events, each a row (SO_OUT: a file for the rows):
#   spread       the three directors' share of the connections
#   rs-down      r2's server stops: every director sets it to weight 0
#   api-down     every api server stops: every director withdraws
#                10.30.0.101, web stays announced
#   stop         SIGTERM to d2's pulse: routes withdrawn first
#   back         d2 started again (the ECMP rehash)
#   lost         d3's link cut (BFD)
#   bird-down    d1's BIRD killed: the router drops d1's routes; lvs says so
# SO_ASSERT=1: the goals are checked (0 failed and every stream kept on
# stop; >= 99 % kept on lost and back; outage <= 0.5 s + SO_SLACK_MS on
# lost; the rest as named above); the exit status says so.
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "scale-out.sh: run me through tests/kernel-lab/run" >&2; exit 2; }
REPO=${KERNEL_LAB_REPO:-$(pwd)}
BIN=${1:-$REPO/target/release}
ASSERT=${SO_ASSERT:-0}
STREAMS=${SO_STREAMS:-200}
EVERY=${SO_EVERY:-0.02}
SLACK_MS=${SO_SLACK_MS:-0}
OUTFILE=${SO_OUT:-}
PY=$REPO/tests/lab/rolechange.py
VIP=10.30.0.100
VIP2=10.30.0.101
W=$(mktemp -d /tmp/scaleout.XXXXXX)
FAILS=0
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd

for b in pulse lvs nanny ipvsadm; do [ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b missing"; exit 1; }; done
for c in bird tcpdump; do command -v $c >/dev/null || { echo "FAIL: $c missing (tests/install-deps)"; exit 1; }; done

ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
exec {ZZFD}<> <(:)
zz() { read -r -t "$1" -u "$ZZFD" || :; }
say() { printf '%s %s\n' "$(date +%T)" "$*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
wait_for() {  # seconds command...: poll every 0.05 s
    local end=$(( $(ms) + $1 * 1000 )); shift
    while :; do "$@" && return 0; [ "$(ms)" -ge "$end" ] && return 1; zz 0.05; done
}
nsx() { local n=$1; shift; ip netns exec "so-$n" "$@"; }
stamp() { local l; while IFS= read -r l; do printf '%s %s\n' "$(ms)" "$l"; done; }

# ------------------------------------------------------------ topology
NSS=() PORTS=()
declare -A PULSE=() BIRD=() RS=()
CLIENT=
port() {  # ns ifname bridge addr/len
    local h="so$1$2"
    ip link add "$h" type veth peer name "$2" netns "so-$1"
    ip link set "$h" master "$3" up
    ip -n "so-$1" addr add "$4" dev "$2"
    ip -n "so-$1" link set "$2" up
    PORTS+=("$h")
}
build() {
    local m i
    ip link add socli type bridge && ip link set socli up
    ip link add sofab type bridge && ip link set sofab up
    for m in c rt d1 d2 d3 r1 r2 r3; do ip netns add "so-$m"; NSS+=("so-$m"); ip -n "so-$m" link set lo up; done
    port c eth0 socli 10.20.0.2/24
    ip -n so-c route add default via 10.20.0.1
    port rt eth0 socli 10.20.0.1/24
    port rt eth1 sofab 10.21.0.1/24
    nsx rt sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
    for i in 1 2 3; do
        port "d$i" eth0 sofab "10.21.0.1$i/24"
        ip -n "so-d$i" route add default via 10.21.0.1
        nsx "d$i" sysctl -qw net.ipv4.ip_forward=1
        mkdir -p "$W/d$i/run/bird" "$W/d$i/run/piranha/bird"   # the include pattern needs its directory
    done
    for i in 1 2 3; do
        port "r$i" eth0 sofab "10.21.0.2$i/24"
        ip -n "so-r$i" route add default via 10.21.0.1
        ip -n "so-r$i" addr add "$VIP/32" dev lo
        ip -n "so-r$i" addr add "$VIP2/32" dev lo
        nsx "r$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
            net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 net.ipv4.conf.all.rp_filter=0
        start_rs "$i" 80
    done
    start_rs 1 81; start_rs 2 81
}
start_rs() {  # i port (ip netns exec execs python: $! is the server's pid)
    ip netns exec "so-r$1" python3 "$PY" server "rs$1" "$2" >/dev/null 2>&1 &
    RS[$1:$2]=$!
}
stop_rs() { kill "${RS[$1:$2]}" 2>/dev/null; gone "${RS[$1:$2]}" 5; RS[$1:$2]=; }
gone() {  # pid seconds
    [ -n "$1" ] || return 0
    timeout "$2" tail --pid="$1" -f /dev/null 2>/dev/null || { kill -9 "$1" 2>/dev/null; }
    { wait "$1"; } 2>/dev/null
    return 0
}
teardown() {
    local ns p
    [ -n "$CLIENT" ] && kill "$CLIENT" 2>/dev/null
    disown -a 2>/dev/null
    for p in "${PULSE[@]}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    for p in "${PULSE[@]}"; do [ -n "$p" ] && timeout 15 tail --pid="$p" -f /dev/null 2>/dev/null; done
    for ns in ${NSS[@]+"${NSS[@]}"}; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    done
    for p in ${PORTS[@]+"${PORTS[@]}"}; do ip link del "$p" 2>/dev/null; done
    for ns in ${NSS[@]+"${NSS[@]}"}; do ip netns del "$ns" 2>/dev/null; done
    ip link del socli 2>/dev/null; ip link del sofab 2>/dev/null
    wait 2>/dev/null
}
trap 'teardown; rm -rf "$W"' EXIT

# ------------------------------------------------------------ BIRD
BGP_TIMERS="hold time 3; keepalive time 1; startup hold time 5; connect delay time 1; connect retry time 1; error wait time 1, 5; error forget time 10;"
write_router_bird() {
    {
        cat <<B
log "$W/rt/bird.log" all;
router id 10.21.0.1;
protocol device { scan time 10; }
protocol bfd { interface "eth1" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }
protocol kernel {
    ipv4 { import none; export where source = RTS_BGP; };
    merge paths on;
}
template bgp director {
    local 10.21.0.1 as 65000;
    direct;
    bfd on;
    $BGP_TIMERS
    ipv4 { import where net ~ [ 10.30.0.0/24{32,32} ]; export none; };
}
B
        for i in 1 2 3; do echo "protocol bgp d$i from director { neighbor 10.21.0.1$i as 65001; }"; done
    } >"$W/rt/bird.conf"
}
write_director_bird() {  # i
    cat >"$W/d$1/bird.conf" <<B
log "$W/d$1/bird.log" all;
router id 10.21.0.1$1;
protocol device { scan time 10; }
protocol bfd { interface "eth0" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }
# lvs's routes (director_mode = bgp): protocols piranha4 and piranha6
include "/run/piranha/bird/*.conf";
protocol bgp upstream {
    local 10.21.0.1$1 as 65001;
    neighbor 10.21.0.1 as 65000;
    direct;
    bfd on;
    $BGP_TIMERS
    ipv4 { import none; export where proto = "piranha4"; next hop self; };
}
B
}
start_bird() {  # ns dir
    ip netns exec "so-$1" sh -c "mount --bind $W/$1/run /run 2>/dev/null; exec bird -f -c $W/$1/bird.conf -s /run/bird/bird.ctl -P $W/$1/bird.pid" \
        >>"$W/$1/bird.out" 2>&1 &
    BIRD[$1]=$!
}

# ------------------------------------------------------------ lvs.cf, pulse
write_cf() {  # file
    {
        cat <<CF
serial_no = 1
service = lvs
director_mode = bgp
directors = [ 10.21.0.11 10.21.0.12 10.21.0.13 ]
withdraw_delay = 1
network = direct
ipvsadm = $BIN/ipvsadm
virtual web {
    active = 1
    address = $VIP lo
    port = 80
    send = "GET / HTTP/1.0\r\n\r\n"
    expect = "HTTP"
    scheduler = mh
    sched_flags = mh-port
    protocol = tcp
    client_monitor = $BIN/nanny
    timeout = 1
    reentry = 2
CF
        for i in 1 2 3; do
            printf '    server rs%d {\n        address = 10.21.0.2%d\n        active = 1\n        weight = 1\n    }\n' "$i" "$i"
        done
        cat <<CF
}
virtual api {
    active = 1
    address = $VIP2 lo
    port = 81
    send = "GET / HTTP/1.0\r\n\r\n"
    expect = "HTTP"
    scheduler = mh
    sched_flags = mh-port
    client_monitor = $BIN/nanny
    timeout = 1
    reentry = 2
CF
        for i in 1 2; do
            printf '    server rs%d {\n        address = 10.21.0.2%d\n        active = 1\n    }\n' "$i" "$i"
        done
        echo "}"
    } >"$1"
}
start_pulse() {  # d
    local d=$1
    ip netns exec "so-$d" sh -c "mount --bind $W/$d/run /run && exec $BIN/pulse -n -c $W/lvs.cf --pidfile $W/$d/pulse.pid --lvsd $BIN/lvs" \
        > >(stamp >>"$W/$d.log") 2>&1 &
    PULSE[$d]=$!
}
nexthops() {  # vip: how many next hops the router has for it
    ip -n so-rt route show "$1" 2>/dev/null | grep -c "via 10.21.0.1"
}
has_nexthops() { [ "$(nexthops "$1")" = "$2" ]; }
on_lo() { ip -n "so-$1" -4 -o addr show dev lo | grep -q " $2/32"; }
weight_of() {  # d rs-address: its weight in web
    nsx "$1" "$BIN/ipvsadm" -L -n -t "$VIP:80" 2>/dev/null | awk -v a="$2:80" '$2 == a { print $4 }'
}
weights_all() {  # rs-address weight: on every running director
    local d
    for d in d1 d2 d3; do
        [ -n "${PULSE[$d]:-}" ] || continue
        [ "$(weight_of "$d" "$1")" = "$2" ] || return 1
    done
    return 0
}
conns_of() {  # d: connections web has had on it (the kernel's counter)
    nsx "$1" "$BIN/ipvsadm" -L -n --stats 2>/dev/null | awk -v s="$VIP:80" '$1 == "TCP" && $2 == s { print $3 + 0; n++ } END { if (!n) print 0 }'
}
order_of() {  # d: web's real servers, in the kernel's order
    nsx "$1" "$BIN/ipvsadm" -L -n -t "$VIP:80" 2>/dev/null | awk '$1 == "->" && $2 ~ /^10/ { printf "%s ", $2 }'
}

# ------------------------------------------------------------ the client
start_client() {
    CLOG=$W/client.log
    : >"$CLOG"
    nsx c python3 "$PY" client "$VIP" "$CLOG" --streams "$STREAMS" --every "$EVERY" --echo 0.25 &
    CLIENT=$!
    wait_for 120 streams_open "$STREAMS" || fail "the client opened only $(streams_now) of $STREAMS connections"
}
# open now: opened and not lost since (a reconnection that fails is lost
# without having opened)
streams_now() { awk '$2 == "open" { o[$3] = 1; n++ } $2 == "lost" && ($3 in o) { l++ } END { print n - l }' "$CLOG"; }
streams_open() { [ "$(streams_now)" -ge "$1" ]; }

ROWS=()
row() {  # event t0 t1 convergence_ms extra
    local r line
    # a stream logs "alive" every 10th echo (2.5 s): kept ones say so after t1
    zz 3
    r=$(python3 "$PY" report "$CLOG" "$2" "$3" --settle 2)
    line=$(printf '%s\t%s convergence_ms=%s%s' "$1" "$r" "$4" "${5:+ $5}")
    ROWS+=("$line")
    echo "ROW $line"
    [ -n "$OUTFILE" ] && echo "$line" >>"$OUTFILE"
    LAST=$r
}
field() { sed -E "s/.* $1=([0-9]+).*/\\1/" <<<" $LAST"; }
settle() { wait_for 60 streams_open "$STREAMS" || fail "only $(streams_now) of $STREAMS connections before the next event"; zz 4; }
dlog() { sed "s/^/      /" "$W/$1.log" | tail -n "${2:-8}"; }
# make demo-scale (SO_DEMO=1): what each step shows, in words
DEMO=${SO_DEMO:-0}
demo() { [ "$DEMO" = 1 ] || return 0; local l; for l in "$@"; do echo "   » $l"; done; }
est_of() { nsx "$1" "$BIN/ipvsadm" -L -n -c 2>/dev/null | grep -c ESTABLISHED; }
show_flows() {  # the router's next hops and each director's established connections
    [ "$DEMO" = 1 ] || return 0
    echo "   » router: $(ip -n so-rt route show "$VIP" | tr '\n' ' ' | tr -s ' \t' ' ')"
    echo "   » established connections per director: d1 $(est_of d1), d2 $(est_of d2), d3 $(est_of d3)"
}
birds() {  # what BIRD and lvs say, on a failure
    local d
    for d in rt d1 d2 d3; do
        echo "   --- $d: BIRD"
        tail -n 6 "$W/$d/bird.log" "$W/$d/bird.out" 2>/dev/null | sed 's/^/      /'
        ip netns exec "so-$d" birdc -s "$W/$d/run/bird/bird.ctl" show protocols 2>&1 | sed 's/^/      /'
        [ "$d" = rt ] && continue
        cat "$W/$d/run/piranha/bird/routes.conf" 2>&1 | grep -v "^#" | sed 's/^/      routes: /'
        grep -E "BIRD|announc|withdr" "$W/$d.log" | tail -n 5 | sed 's/^/      /'
    done
}

# ------------------------------------------------------------ run
demo "A client (10.20.0.2) reaches two virtual addresses through a router running BIRD 2." \
     "Three directors (10.21.0.11-13) each run BIRD, pulse, lvs and one nanny per real server," \
     "with director_mode = bgp: every one is active and announces the VIPs to the router over BGP (with BFD)." \
     "The router spreads flows over them (ECMP); each director schedules with mh, so a flow reaches" \
     "the same real server whichever director carries it. Real servers answer the client directly (DR)."
say "building the topology"
build
mkdir -p "$W/rt/run/bird"
write_router_bird
start_bird rt
write_cf "$W/lvs.cf"
"$BIN/lvs" --config-test -c "$W/lvs.cf" >"$W/config-test.out" 2>&1 || { fail "lvs.cf does not pass --config-test"; cat "$W/config-test.out"; }
for i in 1 2 3; do write_director_bird "$i"; start_bird "d$i"; start_pulse "d$i"; done
say "waiting for three next hops for each address"
wait_for 60 has_nexthops "$VIP" 3 || { fail "the router has $(nexthops "$VIP") next hops for $VIP, not 3"; ip -n so-rt route; birds; }
wait_for 30 has_nexthops "$VIP2" 3 || fail "the router has $(nexthops "$VIP2") next hops for $VIP2, not 3"
echo "   the router's route: $(ip -n so-rt route show "$VIP" | tr '\n' ' ' | tr -s ' \t' ' ')"
for d in d1 d2 d3; do
    on_lo "$d" "$VIP" || fail "$d: $VIP is not on lo"
    [ "$(nsx "$d" cat /proc/sys/net/ipv4/vs/sloppy_tcp)" = 1 ] || fail "$d: net.ipv4.vs.sloppy_tcp is not 1"
done
o1=$(order_of d1)
for d in d2 d3; do [ "$(order_of "$d")" = "$o1" ] || fail "$d lists web's real servers as '$(order_of "$d")', d1 as '$o1'"; done
echo "   web's real servers, the same order on every director: $o1"

demo "The router's route to $VIP has one next hop per director: that is ECMP."
start_client
settle
show_flows
say "spread: $STREAMS connections and a new one every $EVERY s"
declare -A C0=()
for d in d1 d2 d3; do C0[$d]=$(conns_of "$d"); done
t0=$(ms); zz 10; t1=$(ms)
total=0; spread=
declare -A N=()
for d in d1 d2 d3; do N[$d]=$(( $(conns_of "$d") - C0[$d] )); total=$((total + N[$d])); spread="$spread $d=${N[$d]}"; done
row spread "$t0" "$t1" 0 "conns:$spread"
worst=0
for d in d1 d2 d3; do
    n=${N[$d]}
    [ "$n" -gt 0 ] || fail "spread: $d carried no connection"
    dev=$(( (n * 300 / (total > 0 ? total : 1)) - 100 )); dev=${dev#-}
    [ "$dev" -gt "$worst" ] && worst=$dev
done
echo "   the largest deviation from an even share: $worst %"

# --- a real server fails: every director sets it to weight 0
demo "A real server fails: each director's own nanny sees it; each sets it to weight 0 (never removes it," \
     "so every director's mh table stays the same). Its connections end; the others are untouched."
say "rs-down: r2's web server stops"
t0=$(ms)
stop_rs 2 80
wait_for 15 weights_all 10.21.0.22 0 || fail "rs-down: not every director set r2 to weight 0: $(for d in d1 d2 d3; do echo -n "$d=$(weight_of $d 10.21.0.22) "; done)"
conv=$(( $(ms) - t0 )); zz 3; t1=$(ms)
row rs-down "$t0" "$t1" "$conv"
# the streams lost since: on r2 they go with it, on r1 and r3 none may
read -r on2 others <<<"$(awk -v t0="$t0" '$2 == "open" { srv[$3] = $5 } $2 == "lost" && $1 >= t0 && ($3 in srv) { if (srv[$3] == "rs2") a++; else b++ } END { print a + 0, b + 0 }' "$CLOG")"
echo "   streams lost: $on2 on r2, $others elsewhere; every director set r2 to weight 0 after $conv ms"
if [ "$ASSERT" = 1 ]; then
    [ "$others" = 0 ] || fail "rs-down: $others streams on other real servers were lost"
    [ "$conv" -le $((3000 + SLACK_MS)) ] || fail "rs-down: $conv ms to take r2 out everywhere (> interval + timeout + 1 s)"
fi
start_rs 2 80
wait_for 20 weights_all 10.21.0.22 1 || fail "rs-down: r2 did not come back on every director"
settle

# --- every server of api down: every director withdraws 10.30.0.101
demo "Every server of $VIP2 fails: its quorum is lost on every director, and each withdraws $VIP2 from BIRD." \
     "The router drops the route; $VIP stays announced."
say "api-down: every api server stops"
t0=$(ms)
stop_rs 1 81; stop_rs 2 81
wait_for 20 has_nexthops "$VIP2" 0 || fail "api-down: the router still has $(nexthops "$VIP2") next hops for $VIP2"
conv=$(( $(ms) - t0 ))
has_nexthops "$VIP" 3 || fail "api-down: $VIP lost next hops ($(nexthops "$VIP"))"
zz 1; t1=$(ms)
row api-down "$t0" "$t1" "$conv"
for d in d1 d2 d3; do grep -q "withdrew $VIP2 through BIRD" "$W/$d.log" || fail "api-down: $d did not log the withdrawal"; done
start_rs 1 81; start_rs 2 81
wait_for 30 has_nexthops "$VIP2" 3 || fail "api-down: $VIP2 not announced again"
settle

# --- planned stop of d2
demo "service pulse stop on d2: lvs withdraws d2's routes first, forwards for withdraw_delay while the router" \
     "moves d2's flows to d1 and d3 (whose mh picks the same real server), then stops."
show_flows
say "stop: SIGTERM to d2's pulse"
t0=$(ms)
kill "${PULSE[d2]}"
wait_for 10 has_nexthops "$VIP" 2 || fail "stop: d2's route was not withdrawn"
conv=$(( $(ms) - t0 ))
gone "${PULSE[d2]}" 30; PULSE[d2]=
on_lo d2 "$VIP" && fail "stop: d2 kept $VIP on lo"
zz 3; t1=$(ms)
row stop "$t0" "$t1" "$conv"
grep -q "withdrew 2 virtual address(es)" "$W/d2.log" || { fail "stop: d2's lvs did not say it withdrew first"; dlog d2 12; }
if [ "$ASSERT" = 1 ]; then
    [ "$(field failed)" = 0 ] || fail "stop: $(field failed) failed connects"
    [ "$(field kept)" = "$(field streams)" ] || fail "stop: kept $(field kept) of $(field streams) connections"
fi
settle

# --- d2 back: the ECMP rehash
show_flows
demo "d2 starts again: BIRD announces its routes, the router rehashes flows over three next hops again."
say "back: d2 started again"
t0=$(ms)
start_pulse d2
wait_for 60 has_nexthops "$VIP" 3 || fail "back: d2's route did not come back"
conv=$(( $(ms) - t0 ))
zz 3; t1=$(ms)
row back "$t0" "$t1" "$conv"
if [ "$ASSERT" = 1 ]; then
    [ $(( $(field kept) * 100 )) -ge $(( $(field streams) * 99 )) ] || fail "back: kept $(field kept) of $(field streams) connections (< 99 %)"
    [ "$(field failed)" = 0 ] || fail "back: $(field failed) failed connects"
fi
settle

# --- d3 lost: links cut (BFD)
show_flows
demo "d3's link is cut (the director is lost): BFD tells the router within 0.3 s; d3's flows move to d1 and d2," \
     "which have no entry for them: sloppy_tcp lets IPVS take them mid-stream, mh sends them to the same server."
say "lost: d3's link cut"
t0=$(ms)
ip link set sod3eth0 down
wait_for 10 has_nexthops "$VIP" 2 || fail "lost: d3's route was not removed"
conv=$(( $(ms) - t0 ))
zz 4; t1=$(ms)
row lost "$t0" "$t1" "$conv"
if [ "$ASSERT" = 1 ]; then
    [ $(( $(field kept) * 100 )) -ge $(( $(field streams) * 99 )) ] || fail "lost: kept $(field kept) of $(field streams) connections (< 99 %)"
    [ "$(field outage_ms)" -le $((500 + SLACK_MS)) ] || fail "lost: outage $(field outage_ms) ms > 0.5 s"
fi
show_flows
ip link set sod3eth0 up
ip -n so-d3 route replace default via 10.21.0.1
wait_for 60 has_nexthops "$VIP" 3 || fail "lost: d3 did not come back"
settle

# --- BIRD down on d1
demo "BIRD dies on d1: the BGP session ends, the router drops d1's routes; lvs on d1 says so in its log," \
     "and tells BIRD its routes again when it is back."
say "bird-down: d1's BIRD killed"
t0=$(ms)
kill -9 "${BIRD[d1]}"
wait_for 10 has_nexthops "$VIP" 2 || fail "bird-down: the router kept d1's route"
conv=$(( $(ms) - t0 ))
wait_for 5 grep -q "BIRD is not running" "$W/d1.log" || fail "bird-down: d1's lvs did not say BIRD is gone"
zz 2; t1=$(ms)
row bird-down "$t0" "$t1" "$conv"
grep -h "BIRD" "$W/d1.log" | tail -n 2 | sed 's/^/      /'
start_bird d1
wait_for 60 has_nexthops "$VIP" 3 || fail "bird-down: d1's route did not come back with BIRD"
wait_for 5 grep -q "BIRD answers again" "$W/d1.log" || fail "bird-down: d1's lvs did not say BIRD is back"

kill "$CLIENT" 2>/dev/null; gone "$CLIENT" 5; CLIENT=
echo
echo "| event | convergence | failed new connections | established kept | outage |"
echo "|---|---|---|---|---|"
for l in "${ROWS[@]}"; do
    python3 - "$l" <<'PY'
import sys
ev, rest = sys.argv[1].split("\t", 1)
kv = dict(w.split("=", 1) for w in rest.split() if "=" in w)
print("| %s | %.2f s | %s of %s | %s of %s | %.2f s |" % (
    ev, int(kv.get("convergence_ms", 0)) / 1000, kv["failed"], kv["probes"],
    kv["kept"], kv["streams"], int(kv["outage_ms"]) / 1000))
PY
done
if [ "$FAILS" -gt 0 ]; then
    for d in d1 d2 d3; do echo "--- $d"; dlog "$d" 15; done
    echo "scale-out: $FAILS failure(s)"; exit 1
fi
echo "scale-out: ok"
