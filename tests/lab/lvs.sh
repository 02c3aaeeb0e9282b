#!/bin/bash
# lvs against the real kernel table; runs INSIDE the kernel lab:
#     tests/kernel-lab/run tests/lab/lvs.sh [TARGET_DIR]
# A NAT director (the guest's root namespace) with two virtual services (a
# TCP port and a firewall mark) and three real servers in namespaces running
# busybox httpd; a client namespace fetches pages through the VIPs.
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "lvs.sh: run me through tests/kernel-lab/run" >&2; exit 2; }

REPO=${KERNEL_LAB_REPO:-$(pwd)}
BIN=${1:-$REPO/target/debug}
# Second argument: an ipvsadm to use instead of Debian's (ours: nanny then
# works in-process over netlink, which this script checks).
IPVSADM=${2:-${LAB_IPVSADM:-/usr/sbin/ipvsadm}}
[ -n "${2:-}" ] && LAB_EXPECT_INPROCESS=1
BUSYBOX=$(command -v busybox || echo /bin/busybox)
LVS=$BIN/lvs
NANNY=$BIN/nanny
WORK=$(mktemp -d /tmp/lvslab.XXXXXX)
CF=$WORK/lvs.cf
LOG=$WORK/lvs.log
FAILS=0
HTTPD=()

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
cleanup() {
    [ -n "${LVSPID:-}" ] && kill -9 "$LVSPID" 2>/dev/null
    pkill -9 -f "$NANNY" 2>/dev/null
    for p in "${HTTPD[@]}"; do kill "$p" 2>/dev/null; done
    pkill -f "httpd -f -p 80 -h $WORK" 2>/dev/null
    $IPVSADM -C 2>/dev/null
    for ns in lc lr1 lr2 lr3 ls; do ip netns del "$ns" 2>/dev/null; done
    nft delete table ip lvslab 2>/dev/null
}
trap cleanup EXIT
[ -x "$LVS" ] && [ -x "$NANNY" ] || { echo "FAIL: $LVS or $NANNY missing (cargo build)"; exit 1; }

veth_ns() {  # ns host-if host-ip ns-ip
    ip netns add "$1" && ip link add "$2" type veth peer name eth0 netns "$1" &&
    ip addr add "$3/24" dev "$2" && ip link set "$2" up && ip -n "$1" link set lo up &&
    ip -n "$1" addr add "$4/24" dev eth0 && ip -n "$1" link set eth0 up &&
    ip -n "$1" route add default via "$3"
}
veth_ns lc vc 10.0.1.1 10.0.1.2 && veth_ns lr1 vr1 10.0.2.1 10.0.2.2 &&
veth_ns lr2 vr2 10.0.3.1 10.0.3.2 && veth_ns lr3 vr3 10.0.4.1 10.0.4.2 &&
veth_ns ls vs 10.0.5.1 10.0.5.2 || { echo "FAIL: topology"; exit 1; }
ip addr add 10.0.1.100/32 dev vc && ip addr add 10.0.1.101/32 dev vc
echo 1 >/proc/sys/net/ipv4/ip_forward
nft add table ip lvslab && nft add chain ip lvslab pre '{ type filter hook prerouting priority -150; }' &&
nft add rule ip lvslab pre ip daddr 10.0.1.101 tcp dport 80 meta mark set 5 || { echo "FAIL: nft mark rule"; exit 1; }

serve() {  # ns name
    mkdir -p "$WORK/$2"; echo "$2" >"$WORK/$2/index.html"
    ip netns exec "$1" "$BUSYBOX" httpd -f -p 80 -h "$WORK/$2" &
    eval "PID_$2=$!"
}
stop_srv() { eval "kill \$PID_$1"; }
serve lr1 rs1; serve lr2 rs2; serve lr3 rs3; serve ls sorry
fetch() {
    if command -v curl >/dev/null; then ip netns exec lc curl -s --max-time 3 "http://$1/"
    else ip netns exec lc "$BUSYBOX" wget -q -T 3 -O - "http://$1/" 2>/dev/null; fi
}
# diff of two tables, without /dev/fd (the guest has none)
tdiff() { echo "$1" >"$WORK/a"; echo "$2" >"$WORK/b"; diff "$WORK/a" "$WORK/b" | grep '^[<>]'; }
table() { $IPVSADM -S -n; }
wait_until() {  # seconds description command...
    local secs=$1 what=$2; shift 2
    local end=$(( $(date +%s%N) + secs * 1000000000 ))
    while [ "$(date +%s%N)" -lt "$end" ]; do "$@" && return 0; sleep 0.1; done
    return 1
}
has() { table | grep -qF -- "$1"; }
hasnt() { ! table | grep -qF -- "$1"; }

# A service lvs does not own must survive lvs (B6).
$IPVSADM -A -t 10.0.1.200:8080 -s rr

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
    timeout = 1
    reentry = 2
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
virtual marked {
    active = 1
    address = 10.0.1.101 lo:2
    fwmark = 5
    port = 80
    scheduler = wlc
    client_monitor = $NANNY
    timeout = 1
    reentry = 2
    server rs3 {
        address = 10.0.4.2
        active = 1
        weight = 1
    }
}
CF

VERBOSE=; [ "${LAB_EXPECT_INPROCESS:-}" = 1 ] && VERBOSE=-v
"$LVS" -n $VERBOSE -c "$CF" --pidfile "$WORK/lvs.pid" >"$LOG" 2>&1 &
LVSPID=$!
if wait_until 30 "table" sh -c "$IPVSADM -S -n | grep -q 10.0.2.2:80 && $IPVSADM -S -n | grep -q 10.0.3.2:80 && $IPVSADM -S -n | grep -q 10.0.4.2:80"; then
    pass "lvs programmed both services and the nannies added the three real servers"
else
    fail "start-up table"; table; cat "$LOG"
fi
if [ "${LAB_EXPECT_INPROCESS:-}" = 1 ]; then
    grep -q 'running command "'"$IPVSADM"'" "-a" .*(in-process)' "$LOG" &&
        pass "nannies applied their changes in-process (-I is our own ipvsadm)" || fail "nannies did not use netlink in-process"
    # lvs too: its -R batch at start-up (logged with -v).
    [ -z "$VERBOSE" ] || grep -q "$IPVSADM -A -t 10.0.1.100:80 .*(in-process)" "$LOG" &&
        pass "lvs programmed its services in-process (lvs.cf's ipvsadm is our own)" || fail "lvs did not run its ipvsadm in-process"
fi
has "-A -t 10.0.1.200:8080 -s rr" && pass "foreign service kept at start-up" || fail "foreign service flushed"

# The nannies come from the fork server: children of lvs, the nanny binary,
# Piranha's argv in /proc/PID/cmdline (what ps shows).
fss=$(pgrep -f -x "$NANNY --fork-server")
ok=1; [ -n "$fss" ] || ok=0
for fs in $fss; do [ "$(awk '{print $4}' /proc/$fs/stat)" = "$LVSPID" ] || ok=0; done
[ $ok = 1 ] && [ "$(echo $fss | wc -w)" -le "$(nproc)" ] &&
    pass "nanny --fork-server runs under lvs ($(echo $fss | wc -w), one per CPU)" || fail "fork servers under lvs: '$fss'"
bad=0
for np in $(grep -o 'create_monitor for [^ ]* running as pid [0-9]*' "$LOG" | awk '{print $NF}'); do
    cmd=$(tr '\0' ' ' </proc/$np/cmdline)
    [ "$(awk '{print $4}' /proc/$np/stat)" = "$LVSPID" ] || { bad=1; echo "pid $np: parent $(awk '{print $4}' /proc/$np/stat)"; }
    [ "$(readlink -f /proc/$np/exe)" = "$(readlink -f "$NANNY")" ] || { bad=1; echo "pid $np: exe $(readlink -f /proc/$np/exe)"; }
    [ "$(cat /proc/$np/comm)" = nanny ] || { bad=1; echo "pid $np: comm $(cat /proc/$np/comm)"; }
    case "$cmd" in "$NANNY -c -h 10.0."*" --lvs ") ;; *) bad=1; echo "pid $np: cmdline '$cmd'" ;; esac
done
[ $bad = 0 ] && pass "every nanny: child of lvs, exe and comm nanny, Piranha's argv in cmdline" || fail "forked nannies look wrong"

seen=""
for _ in 1 2 3 4 5 6; do seen="$seen $(fetch 10.0.1.100)"; done
case "$seen" in *rs1*rs2*|*rs2*rs1*) pass "traffic through the TCP VIP reaches rs1 and rs2 (rr):$seen" ;; *) fail "rr traffic:$seen" ;; esac
[ "$(fetch 10.0.1.101)" = rs3 ] && pass "traffic through the fwmark service reaches rs3" || fail "fwmark traffic"

# A dead real server leaves the table within interval + timeout.
t0=$(date +%s%N); stop_srv rs1
if wait_until 10 "rs1 removed" hasnt "10.0.2.2:80"; then
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    pass "rs1 removed ${ms} ms after it died (interval 1 s + timeout 1 s)"
else fail "rs1 not removed"; fi
for _ in 1 2 3 4; do [ "$(fetch 10.0.1.100)" = rs2 ] || { fail "traffic after rs1 death"; break; }; done
t0=$(date +%s%N); serve lr1 rs1
if wait_until 15 "rs1 back" has "10.0.2.2:80"; then
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    pass "rs1 re-added ${ms} ms after it came back (reentry 2 s)"
else fail "rs1 not re-added"; fi

# Every real server down: the sorry server answers.
stop_srv rs1; stop_srv rs2
if wait_until 15 "sorry" has "-r 10.0.5.2:80 -m"; then
    [ "$(fetch 10.0.1.100)" = sorry ] && pass "sorry server answers when no real server is alive" || fail "sorry page"
else fail "sorry server not added"; fi
serve lr1 rs1; serve lr2 rs2
wait_until 15 "sorry gone" hasnt "10.0.5.2" && pass "sorry server removed when real servers return" || fail "sorry server stays"
wait_until 15 "both back" sh -c "$IPVSADM -S -n | grep -q 10.0.2.2:80 && $IPVSADM -S -n | grep -q 10.0.3.2:80"

# kill -9 of a nanny: restarted, table intact.
before=$(table)
npid=$(grep -o 'create_monitor for marked/rs3 running as pid [0-9]*' "$LOG" | tail -1 | awk '{print $NF}')
kill -9 "$npid"
if wait_until 10 "restart" sh -c "[ \$(grep -c 'create_monitor for marked/rs3 running as pid' $LOG) -ge 2 ]"; then
    pass "a nanny killed with -9 is restarted"
else fail "nanny not restarted"; fi
sleep 1
[ "$(table)" = "$before" ] && pass "table intact across the nanny restart" || { fail "table changed"; tdiff "$before" "$(table)"; }

# The fork server killed: logged, and the next nanny still starts (a new
# server is started for it).
fs=$(pgrep -f -x "$NANNY --fork-server" | head -1)
kill -9 "$fs"
wait_until 10 "server death logged" grep -q "nanny fork server (pid $fs) exited" "$LOG" &&
    pass "a killed fork server is noticed" || fail "fork server death not logged"
n0=$(grep -c 'create_monitor for marked/rs3 running as pid' "$LOG")
kill -9 "$(grep -o 'create_monitor for marked/rs3 running as pid [0-9]*' "$LOG" | tail -1 | awk '{print $NF}')"
if wait_until 10 "restart" sh -c "[ \$(grep -c 'create_monitor for marked/rs3 running as pid' $LOG) -gt $n0 ]"; then
    np=$(grep -o 'create_monitor for marked/rs3 running as pid [0-9]*' "$LOG" | tail -1 | awk '{print $NF}')
    [ "$(readlink -f /proc/$np/exe)" = "$(readlink -f "$NANNY")" ] && pass "a nanny still starts after the fork server died" ||
        fail "nanny after fork server death"
else fail "nanny not restarted after fork server death"; fi
wait_until 10 "rs3 back" has "-a -f 5 -r 10.0.4.2:80" || fail "rs3 not back in the table"

# SIGHUP: each kind of change gives exactly that change.
reload() { kill -HUP "$LVSPID"; sleep 0.3; wait_until 10 "reload" sh -c "[ \$(grep -c 'rereading configuration file' $LOG) -ge $1 ]"; }
mpid=$(grep -o 'create_monitor for marked/rs3 running as pid [0-9]*' "$LOG" | tail -1 | awk '{print $NF}')
before=$(table)
sed -i 's/scheduler = rr/scheduler = wlc/' "$CF"; reload 1; sleep 1
d=$(tdiff "$before" "$(table)")
[ "$d" = "$(printf '< -A -t 10.0.1.100:80 -s rr\n> -A -t 10.0.1.100:80 -s wlc')" ] && pass "scheduler change: exactly that line changed" || { fail "scheduler change diff"; echo "$d"; }
kill -0 "$mpid" 2>/dev/null && pass "the other service's nanny was not touched" || fail "other nanny restarted"

before=$(table)
sed -i '/server rs3 {/i\    server rs1m {\n        address = 10.0.2.2\n        active = 1\n        weight = 1\n    }' "$CF"; reload 2
wait_until 10 "new server" sh -c "$IPVSADM -S -n | grep -q -- '-a -f 5 -r 10.0.2.2:80'" && pass "new real server added on reload" || fail "new real server"
d=$(tdiff "$before" "$(table)")
[ "$d" = "> -a -f 5 -r 10.0.2.2:80 -m -w 1" ] && pass "adding a server changed only that line" || { fail "add-server diff"; echo "$d"; }
before=$(table)
sed -i '/server rs1m {/,/^    }/d' "$CF"; reload 3
wait_until 10 "server gone" sh -c "! $IPVSADM -S -n | grep -q -- '-a -f 5 -r 10.0.2.2:80'" && pass "removed real server gone on reload" || fail "removed server"
d=$(tdiff "$before" "$(table)")
[ "$d" = "< -a -f 5 -r 10.0.2.2:80 -m -w 1" ] && pass "removing a server changed only that line" || { fail "remove-server diff"; echo "$d"; }

before=$(table)
cp "$CF" "$WORK/good.cf"
printf 'virtual web {\n    schedular = rr\n}\n' >"$CF"; reload 4; sleep 1
[ "$(table)" = "$before" ] && pass "a broken file on SIGHUP changes nothing" || fail "broken reload changed the table"
grep -q "keeping the running configuration" "$LOG" && grep -q "schedular" "$LOG" && pass "the error is logged with its line" || fail "broken reload not logged"
cp "$WORK/good.cf" "$CF"

# SIGTERM: lvs's services go, the foreign one stays.
kill -TERM "$LVSPID"; wait "$LVSPID"; rc=$?; LVSPID=
[ $rc = 0 ] && pass "lvs exits 0 on SIGTERM" || fail "lvs exit status $rc"
t=$(table)
echo "$t" | grep -q "10.0.1.100:80\|-f 5" && fail "lvs services left behind: $t" || pass "lvs deleted its services"
echo "$t" | grep -qF -- "-A -t 10.0.1.200:8080 -s rr" && pass "foreign service survives lvs" || fail "foreign service gone"
[ ! -e "$WORK/lvs.pid" ] && pass "pidfile removed" || fail "pidfile left"
pgrep -f "$NANNY" >/dev/null && fail "nannies left running" || pass "no nanny left running (fork server included)"

# --no-fork-server: the same table with exec'd nannies and no server.
"$LVS" -n --no-fork-server -c "$CF" --pidfile "$WORK/lvs.pid" >"$LOG.exec" 2>&1 &
LVSPID=$!
if wait_until 30 "table" sh -c "$IPVSADM -S -n | grep -q 10.0.2.2:80 && $IPVSADM -S -n | grep -q 10.0.4.2:80"; then
    pgrep -f -x "$NANNY --fork-server" >/dev/null && fail "fork server running with --no-fork-server" ||
        pass "--no-fork-server: nannies exec'd, table programmed, no fork server"
else
    fail "--no-fork-server start-up"; cat "$LOG.exec"
fi
kill -TERM "$LVSPID"; wait "$LVSPID"; LVSPID=

echo "--- lvs log"; cat "$LOG"
echo "$FAILS failure(s)"
[ $FAILS = 0 ]
