#!/bin/bash
# The quorum extension (issue 9) against the real kernel table; runs INSIDE
# the kernel lab:
#     tests/kernel-lab/run tests/lab/quorum.sh [TARGET_DIR] [IPVSADM]
# Checks every 3 s (I/O timeout 3 s): shorter ones fail spuriously under
# TCG on a loaded host, and a flapping server would break the steps.
# Four real servers (busybox httpd in namespaces, weight 1) behind
#   web    10.0.1.100:80  quorum 3, hysteresis 1, sorry server 10.0.5.2 (lvs)
#   plain  10.0.1.102:80  quorum 2, hysteresis 0, no sorry server       (lvs)
#   ka     10.0.1.101:80  what `web` says, run by Debian's keepalived -C
#   dyn    10.0.1.103:80  quorum 2, sorry server; rs1 and rs2 of lvs.cf
#                         weight 1 with misc checks in dynamic mode: W is the
#                         weight the nannies report, as keepalived sums the
#                         current weights, so rs1's exit 2 (weight 0) loses
#                         the quorum that the lvs.cf weights (1 + 1) would
#                         keep; keepalived's twin 10.0.1.104 (misc timeout
#                         10 s: a script on a starved guest can take seconds)
# The servers go down one by one and come back; at each step the script
# asserts `ipvsadm -S -n` for each service, the sorry server, the log lines
# and the quorum scripts' runs, and that keepalived's table says the same.
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "quorum.sh: run me through tests/kernel-lab/run" >&2; exit 2; }

REPO=${KERNEL_LAB_REPO:-$(pwd)}
BIN=${1:-$REPO/target/debug}
IPVSADM=${2:-${LAB_IPVSADM:-/usr/sbin/ipvsadm}}
BUSYBOX=$(command -v busybox || echo /bin/busybox)
KEEPALIVED=$(command -v keepalived || true)
LVS=$BIN/lvs
NANNY=$BIN/nanny
WORK=$(mktemp -d /tmp/quorumlab.XXXXXX)
CF=$WORK/lvs.cf
LOG=$WORK/lvs.log
KLOG=$WORK/keepalived.log
SLOG=$WORK/scripts.log
FAILS=0
T0=$(date +%s%N)

at() { printf '%6.1fs' "$(( ($(date +%s%N) - T0) / 1000000 ))e-3"; }
pass() { echo "PASS: [$(at)] $*"; }
fail() { echo "FAIL: [$(at)] $*"; FAILS=$((FAILS + 1)); }
cleanup() {
    [ -n "${LVSPID:-}" ] && kill -9 "$LVSPID" 2>/dev/null
    [ -n "${KAPID:-}" ] && kill -9 "$KAPID" 2>/dev/null
    pkill -9 -f "$NANNY" 2>/dev/null
    pkill -f "httpd -f -p 80 -h $WORK" 2>/dev/null
    $IPVSADM -C 2>/dev/null
    for ns in qc qr1 qr2 qr3 qr4 qs; do ip netns del "$ns" 2>/dev/null; done
}
trap cleanup EXIT
[ -x "$LVS" ] && [ -x "$NANNY" ] || { echo "FAIL: $LVS or $NANNY missing (cargo build)"; exit 1; }

veth_ns() {  # ns host-if host-ip ns-ip
    ip netns add "$1" && ip link add "$2" type veth peer name eth0 netns "$1" &&
    ip addr add "$3/24" dev "$2" && ip link set "$2" up && ip -n "$1" link set lo up &&
    ip -n "$1" addr add "$4/24" dev eth0 && ip -n "$1" link set eth0 up &&
    ip -n "$1" route add default via "$3"
}
veth_ns qc qvc 10.0.1.1 10.0.1.2 && veth_ns qr1 qvr1 10.0.2.1 10.0.2.2 &&
veth_ns qr2 qvr2 10.0.3.1 10.0.3.2 && veth_ns qr3 qvr3 10.0.4.1 10.0.4.2 &&
veth_ns qr4 qvr4 10.0.6.1 10.0.6.2 && veth_ns qs qvs 10.0.5.1 10.0.5.2 || { echo "FAIL: topology"; exit 1; }
for v in 100 101 102 103 104; do ip addr add 10.0.1.$v/32 dev qvc; done
echo 1 >/proc/sys/net/ipv4/ip_forward

declare -A NS=([rs1]=qr1 [rs2]=qr2 [rs3]=qr3 [rs4]=qr4 [sorry]=qs)
declare -A PID
serve() {  # name
    mkdir -p "$WORK/$1"; echo "$1" >"$WORK/$1/index.html"
    ip netns exec "${NS[$1]}" "$BUSYBOX" httpd -f -p 80 -h "$WORK/$1" &
    PID[$1]=$!
}
stop_srv() { kill "${PID[$1]}"; wait "${PID[$1]}" 2>/dev/null; }
for s in rs1 rs2 rs3 rs4 sorry; do serve $s; done
fetch() {
    if command -v curl >/dev/null; then ip netns exec qc curl -s --max-time 3 "http://$1/"
    else ip netns exec qc "$BUSYBOX" wget -q -T 3 -O - "http://$1/" 2>/dev/null; fi
}

# The destinations of one service, sorted, without weights: "10.0.2.2:80 ...".
# Bash only besides ipvsadm: under TCG on a busy host every process costs.
dests() {
    local line out=() f i j t all
    all=$($IPVSADM -S -n)  # no <(...): the guest has no /dev/fd
    while read -r line; do
        read -ra f <<<"$line"
        [ "${f[0]:-}" = -a ] && [ "${f[2]}" = "$1:80" ] && out+=("${f[4]}")
    done <<<"$all"
    for ((i = 1; i < ${#out[@]}; i++)); do
        t=${out[i]}; j=$i
        while ((j > 0)) && [[ ${out[j-1]} > $t ]]; do out[j]=${out[j-1]}; j=$((j - 1)); done
        out[j]=$t
    done
    echo "${out[*]}"
}
wait_until() {  # seconds command...
    local end=$(( $(date +%s%N) + $1 * 1000000000 )); shift
    while [ "$(date +%s%N)" -lt "$end" ]; do "$@" && return 0; sleep 0.2; done
    return 1
}
is() { [ "$(dests "$1")" = "$2" ]; }
R1=10.0.2.2:80 R2=10.0.3.2:80 R3=10.0.4.2:80 R4=10.0.6.2:80 S=10.0.5.2:80

cat >"$CF" <<CF
primary = 10.0.1.1
network = nat
ipvsadm = $IPVSADM
virtual web {
    active = 1
    address = 10.0.1.100 lo:1
    port = 80
    sorry_server = 10.0.5.2
    send = "GET / HTTP/1.0\r\n\r\n"
    expect = "HTTP"
    scheduler = rr
    client_monitor = $NANNY
    timeout = 3
    reentry = 3
    quorum = 3
    hysteresis = 1
    quorum_up = "echo web up \$LVS_WEIGHT >>$SLOG"
    quorum_down = "echo web down \$LVS_WEIGHT >>$SLOG"
CF
for i in 1 2 3 4; do
    n=$((i + 1)); [ $i = 4 ] && n=6
    printf '    server rs%s {\n        address = 10.0.%s.2\n        active = 1\n        weight = 1\n    }\n' $i $n >>"$CF"
done
cat >>"$CF" <<CF
}
virtual plain {
    active = 1
    address = 10.0.1.102 lo:2
    port = 80
    scheduler = rr
    client_monitor = $NANNY
    timeout = 3
    reentry = 3
    quorum = 2
    quorum_up = "echo plain up \$LVS_QUORUM \$LVS_VIRTUAL >>$SLOG"
    quorum_down = "echo plain down \$LVS_QUORUM \$LVS_VIRTUAL >>$SLOG"
CF
sed -n '/server rs1 {/,/^}/p' "$CF" | sed '$d' >>"$CF"
echo "}" >>"$CF"
echo 0 >"$WORK/dyn-10.0.2.2"; echo 0 >"$WORK/dyn-10.0.3.2"
printf '#!/bin/sh\nexit $(cat %s/dyn-$1)\n' "$WORK" >"$WORK/dyn.sh"; chmod 755 "$WORK/dyn.sh"
cat >>"$CF" <<CF
virtual dyn {
    active = 1
    address = 10.0.1.103 lo:3
    port = 80
    sorry_server = 10.0.5.2
    scheduler = rr
    client_monitor = $NANNY
    timeout = 3
    quorum = 2
    check = misc
    check_program = "$WORK/dyn.sh %h"
    check_dynamic = 1
    check_timeout = 10
    rise = 1
    server rs1 {
        address = 10.0.2.2
        active = 1
        weight = 1
    }
    server rs2 {
        address = 10.0.3.2
        active = 1
        weight = 1
    }
}
CF
"$LVS" --config-test -c "$CF" >"$WORK/ct.out" 2>&1 && pass "lvs --config-test accepts the quorum file" || { fail "config test"; cat "$WORK/ct.out"; }
"$LVS" --config-test --print -c "$CF" 2>/dev/null | grep -q "# extension (piranha-rs): quorum" &&
    pass "--print marks the extension" || fail "--print does not mark the extension"

# keepalived: the same settings on its own VIP, checker process only.
if [ -n "$KEEPALIVED" ]; then
    printf '#!/bin/sh\necho ka %s >>%s\n' up "$SLOG" >"$WORK/ka-up"
    printf '#!/bin/sh\necho ka %s >>%s\n' down "$SLOG" >"$WORK/ka-down"
    chmod 755 "$WORK/ka-up" "$WORK/ka-down"
    {
        printf 'global_defs {\n    router_id quorumlab\n    script_user root\n    enable_script_security\n}\n'
        printf 'virtual_server 10.0.1.101 80 {\n    delay_loop 2\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n'
        printf '    quorum 3\n    hysteresis 1\n    quorum_up %s\n    quorum_down %s\n' "$WORK/ka-up" "$WORK/ka-down"
        printf '    sorry_server 10.0.5.2 80\n    alpha\n'
        for a in 10.0.2.2 10.0.3.2 10.0.4.2 10.0.6.2; do
            printf '    real_server %s 80 {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 3\n            retry 0\n        }\n    }\n' $a
        done
        printf '}\n'
        # (keepalived lowers a quorum above the sum of the configured
        # weights to that sum: hence quorum 2 over two servers of weight 1)
        printf 'virtual_server 10.0.1.104 80 {\n    delay_loop 3\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n'
        printf '    quorum 2\n    sorry_server 10.0.5.2 80\n    alpha\n'
        for a in 10.0.2.2 10.0.3.2; do
            printf '    real_server %s 80 {\n        weight 1\n        MISC_CHECK {\n            misc_path "%s %s"\n            misc_timeout 10\n            misc_dynamic\n        }\n    }\n' $a "$WORK/dyn.sh" $a
        done
        printf '}\n'
    } >"$WORK/keepalived.conf"
    "$KEEPALIVED" -n -l -D -C -f "$WORK/keepalived.conf" -p "$WORK/ka.pid" -c "$WORK/kac.pid" >"$KLOG" 2>&1 &
    KAPID=$!
else
    echo "NOTE: keepalived not installed: no side-by-side comparison"
fi
ka_is() { [ -z "$KEEPALIVED" ] || is 10.0.1.101 "$1"; }

"$LVS" -n -c "$CF" --pidfile "$WORK/lvs.pid" >"$LOG" 2>&1 &
LVSPID=$!

step() {  # description expected-web expected-plain
    local what=$1 web=$2 plain=$3 t=$(date +%s%N)
    if wait_until 20 is 10.0.1.100 "$web"; then
        pass "$what: web = [$web] ($(( ($(date +%s%N) - t) / 1000000 )) ms)"
    else fail "$what: web = [$(dests 10.0.1.100)], want [$web]"; fi
    wait_until 10 is 10.0.1.102 "$plain" && pass "$what: plain = [$plain]" ||
        fail "$what: plain = [$(dests 10.0.1.102)], want [$plain]"
    if [ -n "$KEEPALIVED" ]; then
        wait_until 20 ka_is "$web" && pass "$what: keepalived agrees: [$(dests 10.0.1.101)]" ||
            fail "$what: keepalived = [$(dests 10.0.1.101)], lvs web = [$(dests 10.0.1.100)]"
    fi
}
# Wait until lvs (and keepalived) saw a server come up: inside the band the
# table must NOT change, so there is no table change to wait for.
saw_up() {  # address count-before ka-count-before
    wait_until 20 sh -c "[ \$(grep -c '\[ active \] making $1:80 available' $LOG) -gt $2 ]" || { fail "nanny never saw $1 up"; return; }
    [ -z "$KEEPALIVED" ] || wait_until 20 sh -c "[ \$(grep -c 'Adding service \[$1\]:tcp:80 to VS \[10.0.1.101\]' $KLOG) -gt $3 ]" ||
        fail "keepalived never saw $1 up"
    sleep 1  # lvs acts on the line at once: anything that would change has changed
}
ups() { grep -c "\[ active \] making $1:80 available" "$LOG"; }
kups() { [ -z "$KEEPALIVED" ] && echo 0 || grep -c "Adding service \[$1\]:tcp:80 to VS \[10.0.1.101\]" "$KLOG"; }

# 0. Start: all four up (the quorum gained at W = 4).
step "all four up (W=4 >= 3+1)" "$R1 $R2 $R3 $R4" "$R1 $R2 $R3 $R4"
# lvs waits for the nannies' first checks before calling a service empty
# (COMPATIBILITY L15): on a quiet host all four pass in that window and the
# quorum is gained without the sorry server ever going in; on a slow one the
# window can end first ("starting with quorum down", sorry server, script).
if grep -q "Virtual Server web: starting with quorum down" "$LOG"; then
    echo "note: the start-up window ended before the four first checks: $(grep -m1 'Virtual Server web: starting with quorum down' "$LOG")"
else
    pass "log: no sorry server and no quorum_down before the first checks"
fi
grep -qE "Virtual Server web: gained quorum: live weight 4 >= 3\+1(; deactivate sorry_server 10.0.5.2)?$" "$LOG" &&
    pass "log: gained quorum at 4" || fail "no gained line"
case "$(fetch 10.0.1.100)" in rs[1-4]) pass "traffic reaches a real server" ;; *) fail "traffic with quorum" ;; esac

# 1-3. Down one by one: W=3 and W=2 are in the band, W=1 loses.
stop_srv rs1; step "rs1 down (W=3, in the band)" "$R2 $R3 $R4" "$R2 $R3 $R4"
stop_srv rs2; step "rs2 down (W=2, in the band)" "$R3 $R4" "$R3 $R4"
grep -q "lost quorum" "$LOG" && fail "quorum lost inside the band" || pass "no quorum loss inside the band"
stop_srv rs3; step "rs3 down (W=1 < 3-1: lost)" "$S" "$R4"
grep -q "Virtual Server web: lost quorum: live weight 1 < 3-1; activate sorry_server 10.0.5.2" "$LOG" &&
    pass "log: lost quorum at 1" || fail "no lost line"
grep -q "Virtual Server plain: lost quorum: live weight 1 < 2-0$" "$LOG" &&
    pass "log: plain lost quorum, no sorry server, table untouched" || fail "no plain lost line"
got=$(fetch 10.0.1.100)
[ "$got" = sorry ] && pass "the sorry server answers while the quorum is lost" || fail "sorry page: '$got'"

# 4-6. Back one by one: W=2 and W=3 stay in the band (sorry only), W=4 gains.
n=$(ups 10.0.2.2) k=$(kups 10.0.2.2); serve rs1; saw_up 10.0.2.2 "$n" "$k"
step "rs1 back (W=2 < 3+1: still lost)" "$S" "$R1 $R4"
n=$(ups 10.0.3.2) k=$(kups 10.0.3.2); serve rs2; saw_up 10.0.3.2 "$n" "$k"
step "rs2 back (W=3 < 3+1: still lost)" "$S" "$R1 $R2 $R4"
grep -q "Virtual Server web: quorum down (live weight 3 < 4): 10.0.3.2:80 stays out of the table" "$LOG" &&
    pass "log: a live server kept out while the quorum is lost" || fail "no kept-out line"
serve rs3; step "rs3 back (W=4: gained)" "$R1 $R2 $R3 $R4" "$R1 $R2 $R3 $R4"
case "$(fetch 10.0.1.100)" in rs[1-4]) pass "traffic back on real servers" ;; *) fail "traffic after regain" ;; esac

# The scripts: one line per transition, in order, with their environment.
want_lines=6; [ -n "$KEEPALIVED" ] && want_lines=10
wait_until 10 sh -c "[ \$(grep -c . $SLOG) -ge $want_lines ]"
web=$(grep '^web' "$SLOG" | tr '\n' '|')
web_all=$web; [[ $web == "web down "[0-3]"|web up 4|"* ]] && web=${web#web down ?|}  # the slow-start case above
[ "$web" = "web up 4|web down 1|web up 4|" ] && pass "web scripts: $web_all" || fail "web scripts: '$web_all'"
plain=$(grep '^plain' "$SLOG" | tr '\n' '|')
[ "$plain" = "plain up up plain|plain down down plain|plain up up plain|" ] && pass "plain scripts: $plain" || fail "plain scripts: '$plain'"
if [ -n "$KEEPALIVED" ]; then
    ka=$(grep '^ka' "$SLOG" | tr '\n' '|')
    [ "$ka" = "ka down|ka up|ka down|ka up|" ] && pass "keepalived ran the same scripts: $ka" || fail "keepalived scripts: '$ka'"
fi
[ "$(grep -c 'script (pid [0-9]*) exited with status 0' "$LOG")" -ge 6 ] && pass "script ends logged" || fail "script ends not logged"

# The live weight W is the weight the nannies report: rs1's dynamic weight 0
# loses a quorum the lvs.cf weights (1 + 1) would keep, its weight 5 gains it.
wis() { $IPVSADM -S -n | grep -qE -- "^-a -t $1:80 -r $R1 -m -w $2( |\$)"; }  # VIP rs1-weight
dyn_step() {  # what rs1-code want-dests want-rs1-weight
    echo "$2" >"$WORK/dyn-10.0.2.2"
    if wait_until 20 is 10.0.1.103 "$3"; then pass "dyn: $1: [$3]"; else fail "dyn: $1: [$(dests 10.0.1.103)], want [$3]"; fi
    [ -z "$4" ] || { wait_until 10 wis 10.0.1.103 "$4" &&
        pass "dyn: $1: rs1 weight $4 in the table" || fail "dyn: $1: $($IPVSADM -S -n | grep -- '-t 10.0.1.103:80 -r')"; }
    if [ -n "$KEEPALIVED" ]; then
        wait_until 20 is 10.0.1.104 "$3" && pass "dyn: $1: keepalived agrees: [$(dests 10.0.1.104)]" ||
            fail "dyn: $1: keepalived = [$(dests 10.0.1.104)], want [$3]"
        [ -z "$4" ] || { wait_until 10 wis 10.0.1.104 "$4" &&
            pass "dyn: $1: keepalived has rs1 at weight $4 too" || fail "dyn: $1: keepalived $($IPVSADM -S -n | grep -- '-t 10.0.1.104:80 -r')"; }
    fi
}
dyn_step "both exit 0: W = 2 >= 2, quorum up" 0 "$R1 $R2" 1
dyn_step "rs1 exit 2: weight 0, W = 1 < 2, lost" 2 "$S" ""
grep -q "Virtual Server dyn: lost quorum: live weight 1 < 2-0; activate sorry_server 10.0.5.2" "$LOG" &&
    pass "log: dyn lost quorum at the reported weights 0 + 1" || fail "no dyn lost line"
dyn_step "rs1 exit 7: weight 5, W = 6, gained" 7 "$R1 $R2" 5
grep -q "Virtual Server dyn: gained quorum: live weight 6 >= 2+0; deactivate sorry_server 10.0.5.2" "$LOG" &&
    pass "log: dyn gained quorum at the reported weights 5 + 1" || fail "no dyn gained line"
dyn_step "rs1 exit 0: weight 1 again, W = 2, still up" 0 "$R1 $R2" 1

# SIGTERM: lvs deletes its services; no nanny left.
kill -TERM "$LVSPID"; wait "$LVSPID"; rc=$?; LVSPID=
[ $rc = 0 ] && pass "lvs exits 0 on SIGTERM" || fail "lvs exit status $rc"
$IPVSADM -S -n | grep -q "10.0.1.10[023]:80" && fail "lvs services left behind" || pass "lvs deleted its services"
pgrep -f "$NANNY" >/dev/null && fail "nannies left running" || pass "no nanny left running"

[ -n "${KAPID:-}" ] && { kill -TERM "$KAPID"; wait "$KAPID" 2>/dev/null; KAPID=; }

echo "--- lvs log"; grep -v "^nanny: \[lvs-table\]" "$LOG" | grep -i "quorum\|sorry\|script\|error" | head -60
[ -n "$KEEPALIVED" ] && { echo "--- keepalived log (quorum)"; grep -i "quorum\|sorry" "$KLOG" | head -30; }
echo "quorum lab took $(( ($(date +%s%N) - T0) / 1000000 )) ms"
echo "$FAILS failure(s)"
[ $FAILS = 0 ]
