#!/bin/bash
# The `make demo` scenario; runs INSIDE the kernel lab (tests/demo/run starts it):
#     tests/kernel-lab/run --keep tests/demo/lab.sh MODE...      MODE: nat | dr
#
# One bridge per network, one network namespace per machine:
#
#   client 10.9.0.2 ──────┐                      public network 10.9.0.0/24 (bridge "pub")
#                         ├── d1 eth0 10.9.0.11  primary director  ─┐ VIP 10.9.0.100 (eth0:1)
#   [dr: gw 10.9.0.254] ──┤                                         │ floats with the active one
#                         └── d2 eth0 10.9.0.12  backup director   ─┘
#   d1 eth1 10.8.0.11, d2 eth1 10.8.0.12 ──┐     private network 10.8.0.0/24 (bridge "priv")
#   rs1 10.8.0.21, rs2 .22, rs3 .23 ───────┤     web servers (tests/lab/rolechange.py: each page
#                                          │     names its server; anything else is echoed)
#   sorry 10.8.0.30 ───────────────────────┤     the sorry server
#   [dr: gw 10.8.0.254] ───────────────────┘
#
# nat: the real servers' gateway is the NAT router address 10.8.0.1 (eth1:1),
#      which floats with the active director; heartbeats on both networks.
# dr:  the real servers hold the VIP on lo with arp_ignore = 1 and
#      arp_announce = 2 and answer the client directly through their own
#      router gw (not the director), as in the Piranha manual's direct-routing
#      chapter; the director only sees the client's half of each connection.
#
# Each director is a machine of its own: a network namespace, a mount
# namespace with its own /run and /etc/sysconfig/ha, a UTS namespace (its
# hostname) and a syslogd writing its /var/log/messages.  `make install`
# puts the build in /usr/sbin and /etc/init.d/pulse (in the guest's
# throw-away overlay), and pulse starts with `service pulse start`.
#
# Prints a narrated timeline (seconds since the start of the run) and writes,
# per mode, into /run/kernel-lab/demo/MODE (the lab's share, which
# tests/demo/run copies to target/demo/...): timeline.txt, lvs.cf,
# pub.pcap and priv.pcap (tcpdump on the bridges, the whole run), steps.tsv
# (each step's start and end, for cutting the captures), hosts.tsv (names of
# addresses), d1.messages and d2.messages (the directors' syslog) and the
# client's probe logs.  Exit status 0 when everything happened as described.
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "lab.sh: run me through tests/kernel-lab/run (tests/demo/run does)" >&2; exit 2; }
REPO=${KERNEL_LAB_REPO:-$(pwd)}
SHARE=/run/kernel-lab/demo
BUSYBOX=$(command -v busybox || echo /bin/busybox)
[ $# -gt 0 ] || set -- nat dr
VIP=10.9.0.100
KEEPALIVE=1
DEADTIME=3
CHECK=2        # nanny's check interval and I/O timeout (lvs.cf timeout)
REENTRY=4
UNEXPECTED=0

# ------------------------------------------------------------ output helpers
now_ns() { date +%s%N; }
rel() { awk -v n="$(now_ns)" -v t="$T0" 'BEGIN { printf "%6.1f", (n - t) / 1e9 }'; }
emit() { printf '%s\n' "$*"; printf '%s\n' "$*" >>"$OUT/timeline.txt"; }
note() { emit "[$(rel) s] $*"; }
text() { emit "            $*"; }
block() { while IFS= read -r l; do emit "              $l"; done; }
bad() { UNEXPECTED=$((UNEXPECTED + 1)); note "UNEXPECTED: $*"; }
STEP=
STEP_START=
step() {  # slug title
    end_step
    STEP_N=$((STEP_N + 1)); STEP=$1; STEP_TITLE=$2; STEP_START=$(date +%s.%N)
    emit ""
    emit "== $STEP_N. $2"
}
end_step() {
    [ -n "$STEP" ] || return 0
    printf '%s\t%s\t%s\t%s\t%s\n' "$STEP_N" "$STEP" "$STEP_TITLE" "$STEP_START" "$(date +%s.%N)" >>"$OUT/steps.tsv"
    STEP=
}
wait_for() {  # seconds command... (polls every 0.1 s)
    local end=$(( $(now_ns) + $1 * 1000000000 )); shift
    while [ "$(now_ns)" -lt "$end" ]; do "$@" && return 0; sleep 0.1; done
    return 1
}
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }

# ------------------------------------------------------------ machines
NSS=()
VETHS=()
declare -A ANCHOR HTTPD
nsx() { local n=$1; shift; ip netns exec "demo-$n" "$@"; }
# Run a command on director d1/d2 as its administrator would: in its
# network, mount and UTS namespaces (own /run, /etc/sysconfig/ha, hostname).
on() { local d=$1; shift; nsenter -t "${ANCHOR[$d]}" -m -u -n -r -w -- "$@"; }
mac_of() {  # 10.9.0.11 -> 02:09:00:00:00:11 (the host part in decimal digits, fe for .254)
    local last=${1##*.} net
    net=$(echo "$1" | cut -d. -f2)
    if [ "$last" = 254 ]; then last=fe; else last=$(printf '%02d' "$last"); fi
    printf '02:%02d:00:00:00:%s\n' "$net" "$last"
}
nsx_bg() { local n=$1; shift; exec ip netns exec "demo-$n" "$@"; }  # with &: $! is the command's pid
RC_PY=$REPO/tests/lab/rolechange.py
declare -A PAGE=([rs1]="rs1 10.8.0.21" [rs2]="rs2 10.8.0.22" [rs3]="rs3 10.8.0.23"
    [sorry]="sorry 10.8.0.30: the service is down, please come back later")
serve() {  # machine: start (again) its web server (the page names the server;
           # a connection that does not start with GET is an echo: the
           # client's long-lived connection)
    nsx_bg "$1" python3 "$RC_PY" server "$1" 80 "${PAGE[$1]}" &
    HTTPD[$1]=$!
}
halt_web() {  # machine: its web server dies
    kill -9 "${HTTPD[$1]}" 2>/dev/null
    wait "${HTTPD[$1]}" 2>/dev/null
    HTTPD[$1]=
}

# The topology, with few processes (each exec is slow under emulation):
# one `ip -batch` for the bridges and veth pairs, then one shell per
# machine for its sysctls and addresses.
ROOT_BATCH=
declare -A NS_BATCH NS_SYSCTL
machine() {  # name sysctl...
    local m=$1; shift
    NSS+=("demo-$m")
    ip netns add "demo-$m"
    NS_BATCH[$m]="link set lo up"$'\n'
    NS_SYSCTL[$m]="net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 $*"
}
port() {  # machine ifname bridge addr/len
    local h="$1-$2" a=${4%/*}
    VETHS+=("$h")
    ROOT_BATCH+="link add $h type veth peer name $2 netns demo-$1"$'\n'"link set $h master $3"$'\n'"link set $h up"$'\n'
    NS_BATCH[$1]+="link set $2 address $(mac_of "$a")"$'\n'"addr add $4 dev $2"$'\n'"link set $2 up"$'\n'
    printf '%s\t%s\n' "$(mac_of "$a")" "$1 $2" "$a" "$1" >>"$OUT/hosts.tsv"
}
route() { NS_BATCH[$1]+="route add default via $2"$'\n'; }

build() {
    local m i gwaddr=10.8.0.1 rs_sysctl=
    sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
    ROOT_BATCH="link add pub type bridge"$'\n'"link set pub up"$'\n'"link add priv type bridge"$'\n'"link set priv up"$'\n'
    [ "$MODE" = dr ] && rs_sysctl="net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2"
    machine client
    port client eth0 pub 10.9.0.2/24
    for i in 1 2; do
        machine "d$i" net.ipv4.ip_forward=1
        port "d$i" eth0 pub "10.9.0.1$i/24"
        port "d$i" eth1 priv "10.8.0.1$i/24"
    done
    if [ "$MODE" = dr ]; then
        gwaddr=10.8.0.254
        # The real servers' answers come in on eth1 from the VIP, which
        # lives on eth0's side: no reverse-path filter on this router.
        machine gw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
        port gw eth0 pub 10.9.0.254/24
        port gw eth1 priv 10.8.0.254/24
    fi
    for m in rs1 rs2 rs3 sorry; do machine "$m" $rs_sysctl; done
    for i in 1 2 3; do port "rs$i" eth0 priv "10.8.0.2$i/24"; done
    port sorry eth0 priv 10.8.0.30/24
    for m in rs1 rs2 rs3 sorry; do
        route "$m" "$gwaddr"
        [ "$MODE" = dr ] && NS_BATCH[$m]+="addr add $VIP/32 dev lo"$'\n'
    done
    # -force: one failing line does not stop the rest
    printf '%s' "$ROOT_BATCH" | ip -force -batch - || bad "building the bridges and links"
    for m in "${!NS_BATCH[@]}"; do
        # sysctls of interfaces (eth0, eth1) exist once the links are in
        printf '%s' "${NS_BATCH[$m]}" | ip netns exec "demo-$m" sh -c "ip -force -batch - && sysctl -qw ${NS_SYSCTL[$m]}" ||
            bad "configuring $m"
    done
    for m in rs1 rs2 rs3 sorry; do serve "$m"; done
    printf '%s\t%s\n' "$VIP" "VIP" 10.8.0.1 "NAT router" >>"$OUT/hosts.tsv"
}

# A director: its own /run and /etc/sysconfig/ha (bind mounts in a mount
# namespace of its own), its hostname, a syslogd for /var/log/messages.
# The syslogd is the namespace's anchor: `on` enters through its pid.
director() {  # d1|d2
    local d=$1
    mkdir -p "$W/$d/run" "$W/$d/ha"
    : >"$W/$d/messages"
    nsx_bg "$d" unshare --mount --uts --propagation slave sh -c "
        hostname $d
        mount --bind $W/$d/run /run && mount --bind $W/$d/ha /etc/sysconfig/ha &&
        exec $BUSYBOX syslogd -n -O $W/$d/messages" &
    ANCHOR[$d]=$!
    wait_for 10 test -S "$W/$d/run/syslog.sock" || bad "$d: syslogd did not start"
}
# What the director logged: syslog lines after a mark, in the usual
# /var/log/messages form (busybox adds the facility.priority; dropped).
mark() { wc -l <"$W/$1/messages"; }
log_since() { tail -n +$(($2 + 1)) "$W/$1/messages" | sed -E 's/^(.{15} [^ ]+) [a-z0-9]+\.[a-z]+ /\1 /'; }
logged() { log_since "$1" "$2" | grep -qF -- "$3"; }
show_log() {  # d mark [egrep pattern]
    log_since "$1" "$2" | grep -E -- "${3:-.}" | grep -v "syslogd started" | block
}
service_pulse() {  # d start|stop|status — what the administrator types
    local d=$1 verb=$2
    if on "$d" sh -c 'command -v service' >/dev/null 2>&1; then
        text "$d# service pulse $verb"
        on "$d" service pulse "$verb" 2>&1 | block
    else
        text "$d# /etc/init.d/pulse $verb      (no service command here)"
        on "$d" /etc/init.d/pulse "$verb" 2>&1 | block
    fi
}
pulse_pid() { cat "$W/$1/run/pulse.pid" 2>/dev/null; }
has_vip() { ip -n "demo-$1" -4 -o addr show dev eth0 | grep -q "inet $VIP/"; }
no_vip() { ! has_vip "$1"; }
table() { nsx "$1" ipvsadm -L -n; }
show_table() { text "$1# ipvsadm -L -n"; table "$1" | block; }
in_table() { table "$1" | grep -q -- "-> $2:80 "; }
not_in_table() { ! in_table "$@"; }
addr_line() {  # machine dev address: "10.9.0.100/24 on eth0:1"
    ip -n "demo-$1" -4 -o addr show dev "$2" | grep " $3/" | sed -E 's/.* inet ([0-9./]+) .* ('"$2"':[0-9]+).*/\1 on \2/'
}

# ------------------------------------------------------------ the client
# N requests through the VIP, one connection each; prints the count per
# answering server ("rs1 10  rs2 20 ...", "failed N" for no answer).
PROBE_PL=$REPO/tests/demo/probe.pl
requests() { nsx client perl "$PROBE_PL" "$VIP" count "$1" | tally; }
# "a 2   b 1" from lines a a b, sorted by name
tally() { sort | uniq -c | awk '{ printf "%s %d   ", $2, $1 } END { print "" }'; }
# Background prober: one request every 0.1 s, "epoch_ms server|FAIL".
PROBE=
probe_start() {
    PROBE_LOG=$OUT/probes-$STEP.log
    rm -f "$W/probe.stop"
    nsx_bg client perl "$PROBE_PL" "$VIP" every "$W/probe.stop" >"$PROBE_LOG" &
    PROBE=$!
    # a few answers before anything happens (perl starts slowly under
    # emulation: 20 s was not enough at a host load average of 12)
    wait_for 60 probes_answered 3 || bad "the client's prober got no answer"
}
probes_answered() { [ "$(grep -vc FAIL "$PROBE_LOG")" -ge "$1" ]; }
probe_stop() {
    [ -n "$PROBE" ] || return 0
    touch "$W/probe.stop"; wait "$PROBE" 2>/dev/null; PROBE=
}
# Outage seen by the client around a fault at $1 (epoch ms): from the last
# answer before the first failed probe to the first answer after the failures.
outage() {
    awk -v tf="$1" '
        { t = $1; ok = ($2 != "FAIL") }
        t < tf - 200 { if (ok) last = t; next }
        !started && ok && !fails { last = t; next }
        !ok { if (!fails) first_fail = t; fails++; started = 1; next }
        started && ok && !back { back = t; who = $2 }
        END {
            if (!fails) { printf "no probe failed\n"; exit }
            if (!last) { printf "the first probe failed already\n"; exit }
            if (!back) { printf "%d probes failed and none answered afterwards\n", fails; exit }
            printf "%d ms without an answer (%d failed probes; relative to the fault: last answer %+.1f s, first failure %+.1f s, next answer %+.1f s, from %s)\n",
                back - last, fails, (last - tf) / 1000, (first_fail - tf) / 1000, (back - tf) / 1000, who
        }' "$PROBE_LOG"
}
probe_summary() { awk '{ print $2 }' "$PROBE_LOG" | tally; }
# The role changes' client (tests/lab/rolechange.py): a new connection every
# 50 ms, and one long-lived connection through the VIP exchanging a line with
# its real server every 100 ms, "epoch_ms probe ok|fail ...", "... echo 1 N".
STREAM=
stream_start() {
    STREAM_LOG=$OUT/client-$STEP.log
    : >"$STREAM_LOG"
    nsx_bg client python3 "$RC_PY" client "$VIP" "$STREAM_LOG" --streams 1 --every 0.05 &
    STREAM=$!
    wait_for 60 grep -q " open 1 " "$STREAM_LOG" || bad "the client's long-lived connection did not open"
    # the sync daemon sends a connection at its third packet and holds a
    # partly filled buffer up to 2 s (the client's report counts a
    # long-lived connection open 4 s before the event)
    sleep 4.5
    note "the client opens a new connection to $VIP every 50 ms and holds one long-lived connection (client port $(awk '$2 == "open" { print $4; exit }' "$STREAM_LOG"), a line echoed by its real server every 100 ms)"
}
stream_stop() {
    [ -n "$STREAM" ] || return 0
    kill "$STREAM" 2>/dev/null; wait "$STREAM" 2>/dev/null; STREAM=
}
# What the client saw from 1 s before $1 (epoch ms) to now.
stream_report() {
    local r
    r=$(python3 "$RC_PY" report "$STREAM_LOG" "$1" "$(date +%s%3N)")
    awk -v r="$r" 'BEGIN {
        n = split(r, w, " "); for (i = 1; i <= n; i++) { split(w[i], kv, "="); v[kv[1]] = kv[2] }
        printf "%d new connections, %d failed (%s); longest time without an answer %d ms; the long-lived connection %s, its longest pause between two echoes %d ms\n",
            v["probes"], v["failed"], v["reasons"], v["outage_ms"], (v["kept"] == v["streams"] ? "survived" : "was LOST"), v["stream_gap_ms"]
    }'
    case $r in *" failed=0 "*" kept=1 streams=1 "*) return 0 ;; esac
    return 1
}
answered_after() { [ -n "$(awk -v tf="$1" '$1 >= tf && $2 != "FAIL" { print $1; exit }' "$PROBE_LOG")" ]; }

# ------------------------------------------------------------ captures
TCPDUMP=()
capture() {
    local br
    for br in pub priv; do
        tcpdump -i "$br" -U -Z root -s 0 -w "$OUT/$br.pcap" 2>"$W/tcpdump-$br.err" &
        TCPDUMP+=($!)
    done
    wait_for 10 grep -q "listening on priv" "$W/tcpdump-priv.err" && wait_for 5 grep -q "listening on pub" "$W/tcpdump-pub.err" ||
        bad "tcpdump did not start: $(cat "$W"/tcpdump-*.err)"
}
capture_stop() {
    local p
    for p in ${TCPDUMP[@]+"${TCPDUMP[@]}"}; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    TCPDUMP=()
}

# ------------------------------------------------------------ clean-up
cleanup_mode() {
    local ns p pids tries
    probe_stop
    stream_stop
    capture_stop
    end_step
    # Every process of every machine, by pid (pulse first, so that it
    # stops lvs and its nannies as it does on a clean stop), then the
    # namespaces and bridges by name.
    for d in d1 d2; do
        p=$(pulse_pid "$d"); [ -n "$p" ] && kill "$p" 2>/dev/null
    done
    for tries in 1 2 3 4 5 6 7 8 9 10; do
        pids=
        for ns in ${NSS[@]+"${NSS[@]}"}; do pids="$pids $(ip netns pids "$ns" 2>/dev/null)"; done
        pids=$(echo $pids)
        [ -n "$pids" ] || break
        if [ "$tries" -lt 5 ]; then kill $pids 2>/dev/null; else kill -9 $pids 2>/dev/null; fi
        sleep 0.3
    done
    # A namespace goes away in the background once its last user is gone;
    # deleting the veth pairs now keeps the next run from finding them.
    for l in ${VETHS[@]+"${VETHS[@]}"}; do ip link del "$l" 2>/dev/null; done
    VETHS=()
    for ns in ${NSS[@]+"${NSS[@]}"}; do ip netns del "$ns" 2>/dev/null; done
    NSS=()
    for br in pub priv; do ip link del "$br" 2>/dev/null; done
    wait 2>/dev/null
    if [ -n "${OUT:-}" ] && [ -d "$OUT" ]; then
        for d in d1 d2; do [ -f "$W/$d/messages" ] && cp "$W/$d/messages" "$OUT/$d.messages"; done
        mkdir -p "$SHARE"
        cp -r "$OUT" "$SHARE/" 2>/dev/null || echo "lab.sh: could not copy $OUT to $SHARE" >&2
    fi
}
trap 'cleanup_mode' EXIT

# ------------------------------------------------------------ lvs.cf
write_lvs_cf() {
    if [ "$MODE" = nat ]; then
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
network = nat
nat_router = 10.8.0.1 eth1:1
nat_nmask = 255.255.255.0
syncdaemon = 1
syncd_iface = eth1
hot_standby = 1
virtual web {
    active = 1
    address = $VIP eth0:1
    vip_nmask = 255.255.255.0
    port = 80
    send = "GET / HTTP/1.0\r\n\r\n"
    expect = "HTTP"
    scheduler = rr
    protocol = tcp
    timeout = $CHECK
    reentry = $REENTRY
    sorry_server = 10.8.0.30
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
    server rs3 {
        address = 10.8.0.23
        active = 1
        weight = 1
    }
}
CF
    else
        cat <<CF
serial_no = 1
primary = 10.9.0.11
service = lvs
backup_active = 1
backup = 10.9.0.12
heartbeat = 1
heartbeat_port = 539
keepalive = $KEEPALIVE
deadtime = $DEADTIME
network = direct
syncdaemon = 1
syncd_iface = eth1
hot_standby = 1
virtual web {
    active = 1
    address = $VIP eth0:1
    vip_nmask = 255.255.255.0
    port = 80
    send = "GET / HTTP/1.0\r\n\r\n"
    expect = "HTTP"
    scheduler = wlc
    protocol = tcp
    timeout = $CHECK
    reentry = $REENTRY
    sorry_server = 10.8.0.30
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
    server rs3 {
        address = 10.8.0.23
        active = 1
        weight = 1
    }
}
CF
    fi
}

# ------------------------------------------------------------ one run
run_mode() {
    MODE=$1
    T0=$(now_ns)
    W=$(mktemp -d "/tmp/demo-$MODE.XXXXXX")
    OUT=$W/out/$MODE
    mkdir -p "$OUT"
    : >"$OUT/steps.tsv"
    : >"$OUT/hosts.tsv"
    STEP_N=-1
    printf 'MODE=%s\nT0=%s\nVIP=%s\nKEEPALIVE=%s\nDEADTIME=%s\nCHECK=%s\nREENTRY=%s\n' "$MODE" "$T0" "$VIP" "$KEEPALIVE" "$DEADTIME" "$CHECK" "$REENTRY" >"$OUT/meta.env"
    local sched=rr d m m2 t tf p before after a
    [ "$MODE" = dr ] && sched=wlc

    emit ""
    if [ "$MODE" = nat ]; then
        emit "################ Run 1: NAT routing (network = nat) ################"
    else
        emit "################ Run 2: direct routing (network = direct) ################"
    fi

    step setup "Machines, networks, lvs.cf on both directors, pulse started with the init script"
    build
    capture
    note "namespaces: client, d1 (primary), d2 (backup), rs1 rs2 rs3 (web servers: each page names its server, anything else is echoed), sorry$([ "$MODE" = dr ] && echo ', gw (the real servers'"'"' router)')"
    note "bridges pub (10.9.0.0/24) and priv (10.8.0.0/24); tcpdump records both for the whole run"
    if [ "$MODE" = nat ]; then
        text "real servers: default route via 10.8.0.1, the NAT router address that floats with the active director"
    else
        text "real servers: $VIP/32 on lo, arp_ignore = 1, arp_announce = 2, default route via gw 10.8.0.254"
        text "rs1# sysctl net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce; ip -4 -o addr show dev lo"
        { nsx rs1 sysctl net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce; ip -n demo-rs1 -4 -o addr show dev lo | awk '{ print $2, $3, $4 }'; } | block
    fi
    for d in d1 d2; do director "$d"; done
    write_lvs_cf >"$OUT/lvs.cf"
    cp "$OUT/lvs.cf" "$W/d1/ha/lvs.cf"
    cp "$OUT/lvs.cf" "$W/d2/ha/lvs.cf"
    note "/etc/sysconfig/ha/lvs.cf, the same file on d1 and d2:"
    sed 's/^/    /' "$OUT/lvs.cf" | block
    text "d1# lvs --config-test"
    on d1 lvs --config-test 2>&1 | block
    for d in d1 d2; do
        note "pulse starts on $d"
        service_pulse "$d" start
    done
    if ! wait_for 30 has_vip d1; then
        bad "d1 did not bring up the VIP; stopping this run"
        show_log d1 0; show_log d2 0
        cleanup_mode
        return
    fi
    note "d1 holds the VIP: $(addr_line d1 eth0 "$VIP")$([ "$MODE" = nat ] && echo ", and the NAT router address $(addr_line d1 eth1 10.8.0.1)")"
    for m in 21 22 23; do wait_for 30 in_table d1 "10.8.0.$m" || bad "10.8.0.$m never entered d1's table"; done
    wait_for 15 logged d1 0 "gratuitous lvs arps finished" || bad "d1 did not finish its gratuitous ARPs"
    for m in 21 22 23; do wait_for 30 in_table d2 "10.8.0.$m" || bad "10.8.0.$m never entered d2's standby table"; done
    note "the three nannies put their servers in the table; d1's /var/log/messages:"
    show_log d1 0
    note "d2's /var/log/messages (hot_standby = 1: its lvs stands by, with its own nannies):"
    show_log d2 0
    no_vip d2 || bad "d2 holds the VIP too"
    show_table d1
    text "d2# ipvsadm -L -n      (the backup's standby table: the same services and real servers, no VIP on d2)"
    table d2 | block

    if [ "$MODE" = dr ]; then
        step arp "Direct routing and ARP: only the director answers for the VIP"
        note "gw asks on the private network who has $VIP (busybox arping): the real servers hold it on lo but keep quiet (arp_ignore = 1)"
        text "gw# arping -c 2 -I eth1 $VIP"
        nsx gw "$BUSYBOX" arping -c 2 -w 3 -I eth1 "$VIP" 2>&1 | block
        note "for comparison, rs1 with arp_ignore = 0 (the ARP problem of direct routing): rs1 answers too"
        nsx rs1 sysctl -qw net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.eth0.arp_ignore=0
        nsx gw "$BUSYBOX" arping -c 2 -w 3 -I eth1 "$VIP" 2>&1 | block
        nsx rs1 sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1
        text "(arp_ignore = 1 again on rs1)"
    fi

    step balance "Requests spread over the three real servers by the $sched scheduler"
    note "the client fetches http://$VIP/ (each page names its server):"
    text "client\$ curl http://$VIP/"
    nsx client curl -s --max-time 3 "http://$VIP/" | block
    note "30 requests, a new connection each: $(requests 30)"
    if [ "$MODE" = nat ]; then
        text "(rr: each server in turn, a third each)"
    else
        text "(wlc, Piranha's default: the server with the fewest connections for its weight; equal weights, so an even spread)"
    fi
    show_table d1

    step rs-fails "A real server fails: its nanny takes it out of the table"
    m=$(mark d1); before=$(table d1)
    t=$(now_ns)
    halt_web rs2
    note "rs2's web server is killed (kill -9)"
    if wait_for 15 not_in_table d1 10.8.0.22; then
        note "nanny removed 10.8.0.22 from the table $(ms_since "$t") ms later (check interval: timeout = $CHECK s):"
    else
        bad "10.8.0.22 is still in the table"
    fi
    show_log d1 "$m" "nanny"
    after=$(table d1)
    text "d1# ipvsadm -L -n   (diff against the table before)"
    echo "$before" >"$W/before"; echo "$after" >"$W/after"
    diff "$W/before" "$W/after" | grep '^[<>]' | block
    note "20 requests: $(requests 20)"

    step rs-returns "The real server comes back: re-added after reentry = $REENTRY s of good checks"
    m=$(mark d1); t=$(now_ns)
    serve rs2
    note "rs2's web server is started again"
    if wait_for 20 in_table d1 10.8.0.22; then
        note "nanny added 10.8.0.22 back $(ms_since "$t") ms later:"
    else
        bad "10.8.0.22 did not come back"
    fi
    show_log d1 "$m" "nanny"
    show_table d1
    note "30 requests: $(requests 30)"

    step sorry "All real servers down: the sorry server answers"
    m=$(mark d1); t=$(now_ns)
    for m2 in rs1 rs2 rs3; do halt_web "$m2"; done
    note "the web servers of rs1, rs2 and rs3 are killed"
    if wait_for 15 in_table d1 10.8.0.30; then
        note "the sorry server 10.8.0.30 is in the table $(ms_since "$t") ms later:"
    else
        bad "the sorry server was not added"
    fi
    show_log d1 "$m" "nanny|lvs"
    show_table d1
    note "5 requests: $(requests 5)"
    m=$(mark d1); t=$(now_ns)
    for m2 in rs1 rs2 rs3; do serve "$m2"; done
    note "the three web servers are started again"
    for a in 21 22 23; do wait_for 20 in_table d1 "10.8.0.$a" || bad "10.8.0.$a did not come back"; done
    wait_for 5 not_in_table d1 10.8.0.30 || bad "the sorry server stayed in the table"
    note "back $(ms_since "$t") ms later; the sorry server is out again:"
    show_log d1 "$m" "lvs|making"
    note "6 requests: $(requests 6)"

    step switchover "A planned switch-over for maintenance: service pulse switchover on d1, then back"
    stream_start
    m=$(mark d1); m2=$(mark d2)
    tf=$(date +%s%3N); t=$(now_ns)
    service_pulse d1 switchover
    if wait_for 10 has_vip d2 && wait_for 5 no_vip d1; then
        note "d2 holds the VIP, d1 does not, $(ms_since "$t") ms after the command; pulse runs on both"
    else
        bad "the VIP did not move to d2"
    fi
    note "d1's /var/log/messages: it says STOPPED and keeps serving until d2 says RUNNING (make before break), and sends its connections to d2's sync daemon:"
    show_log d1 "$m"
    note "d2's /var/log/messages: its lvs was standing by, so the takeover only moves addresses:"
    show_log d2 "$m2"
    sleep 2
    note "the client during the switch-over: $(stream_report "$tf" || echo "(UNEXPECTED)")"
    stream_report "$tf" >/dev/null || bad "the client saw a failure during the switch-over"
    m=$(mark d1); m2=$(mark d2)
    tf=$(date +%s%3N); t=$(now_ns)
    note "and back, from d2:"
    service_pulse d2 switchover
    if wait_for 10 has_vip d1 && wait_for 5 no_vip d2; then
        note "d1 holds the VIP again $(ms_since "$t") ms after the command"
    else
        bad "the VIP did not move back to d1"
    fi
    show_log d2 "$m2" "handing|deactivating|sent|removed"
    show_log d1 "$m" "activating|added|active"
    sleep 2
    note "the client during the switch back: $(stream_report "$tf" || echo "(UNEXPECTED)")"
    stream_report "$tf" >/dev/null || bad "the client saw a failure during the switch back"
    stream_stop

    step failover "The primary's pulse dies (kill -9): the backup takes over"
    stream_start
    m=$(mark d2); m1=$(mark d1)
    p=$(pulse_pid d1)
    tf=$(date +%s%3N); t=$(now_ns)
    kill -9 "$p"
    note "d1# kill -9 $p     (pulse: no farewell; lvs, signalled by the kernel, keeps its table while the VIP is still on d1)"
    if wait_for $((DEADTIME + 10)) has_vip d2; then
        note "d2 brought up the VIP $(ms_since "$t") ms after the kill (deadtime = $DEADTIME s; its standby lvs had the table ready)"
    else
        bad "d2 did not take the VIP"
    fi
    wait_for 10 logged d2 "$m" "gratuitous lvs arps finished" || bad "d2 did not finish its gratuitous ARPs"
    wait_for 10 no_vip d1 || bad "d1's VIP did not expire"
    sleep 1
    note "d2's /var/log/messages:"
    show_log d2 "$m"
    note "d1's /var/log/messages (its lvs, orphaned, held the table until the VIP expired, sent its connections to d2, then stopped):"
    show_log d1 "$m1"
    note "the client during the takeover: $(stream_report "$tf" || echo "(UNEXPECTED)")"
    stream_report "$tf" >/dev/null || bad "the client saw a failure during the takeover"
    stream_stop
    show_table d2
    text "d1 after the kill (the VIP, no longer renewed by pulse, expired about deadtime after the kill: pulse(8), Floating addresses; then lvs tore its table down):"
    text "d1# ip -4 -o addr show dev eth0 | grep $VIP"
    addr_line d1 eth0 "$VIP" | block
    has_vip d1 && text "  (still there: not yet expired)" || text "  (nothing: the address expired)"
    text "d1# ipvsadm -L -n"
    table d1 | block

    step primary-returns "The primary comes back: it stays passive while the backup is active"
    probe_start
    m=$(mark d1); m2=$(mark d2)
    note "pulse starts on d1 again"
    service_pulse d1 start
    wait_for 10 logged d1 "$m" "STARTING PULSE AS MASTER" || bad "d1 did not start as master"
    t=$(now_ns)
    while [ $(( ($(now_ns) - t) / 1000000000 )) -lt $((DEADTIME + 2)) ]; do
        if has_vip d1; then bad "d1 took the VIP back"; break; fi
        sleep 0.2
    done
    probe_stop
    for a in 21 22 23; do wait_for 30 in_table d1 "10.8.0.$a" || bad "10.8.0.$a never entered d1's standby table"; done
    note "$((DEADTIME + 2)) s later: d1 has $(has_vip d1 && echo the VIP || echo no VIP), d2 $(has_vip d2 && echo holds the VIP || echo has lost the VIP); d1 stands by with its table; d1's /var/log/messages:"
    show_log d1 "$m"
    logged d1 "$m" "activating lvs" && bad "d1 activated"
    note "client probes meanwhile: $(probe_summary)"

    step backup-stops "The backup is stopped cleanly: it hands the active role back to the primary"
    stream_start
    m=$(mark d1); m2=$(mark d2)
    tf=$(date +%s%3N); t=$(now_ns)
    note "pulse is stopped on d2"
    service_pulse d2 stop
    if wait_for $((DEADTIME + 10)) has_vip d1; then
        note "d1 brought up the VIP $(ms_since "$t") ms after the stop command (deadtime = $DEADTIME s is not waited for: d2 said STOPPED)"
    else
        bad "d1 did not take the VIP"
    fi
    wait_for 10 logged d1 "$m" "gratuitous lvs arps finished" || bad "d1 did not finish its gratuitous ARPs"
    no_vip d2 || bad "d2 kept the VIP after its stop"
    note "d2's /var/log/messages:"
    show_log d2 "$m2"
    note "d1's /var/log/messages:"
    show_log d1 "$m"
    note "the client during the handover: $(stream_report "$tf" || echo "(UNEXPECTED)")"
    stream_report "$tf" >/dev/null || bad "the client saw a failure during the handover"
    stream_stop
    show_table d1

    step stop "Everything stops cleanly"
    m=$(mark d1)
    service_pulse d1 stop
    show_log d1 "$m"
    for d in d1 d2; do
        local left
        left=$(for p in $(ip netns pids "demo-$d"); do [ "$p" = "${ANCHOR[$d]}" ] || tr '\0' ' ' <"/proc/$p/cmdline"; echo; done | grep -v '^$')
        if [ -n "$left" ]; then bad "$d: processes left: $left"; else text "$d: no process left but its syslogd"; fi
        [ -z "$(table "$d" | grep -E '^(TCP|UDP|FWM) |-> [0-9]')" ] || bad "$d: IPVS table not empty"
        no_vip "$d" || bad "$d still holds the VIP"
    done
    if [ "$MODE" = nat ]; then
        text "no VIP, no NAT router address and an empty IPVS table on both directors"
    else
        text "no VIP and an empty IPVS table on both directors"
    fi
    end_step
    note "done"
    cleanup_mode
}

# ------------------------------------------------------------ main
for b in pulse lvs nanny send_arp ipvsadm; do
    [ -x "$REPO/target/release/$b" ] || { echo "lab.sh: $REPO/target/release/$b missing (make all)" >&2; exit 1; }
done
command -v tcpdump >/dev/null || { echo "lab.sh: tcpdump missing (tests/install-deps demo)" >&2; exit 1; }
# As an administrator would: make install (into the guest's throw-away overlay).
echo "kernel-lab# make install        (target/release into /usr/sbin, /etc/init.d/pulse, ...)"
if ! make -s -C "$REPO" -o all install >/tmp/make-install.log 2>&1; then
    cat /tmp/make-install.log; echo "lab.sh: make install failed" >&2; exit 1
fi
ls -l /usr/sbin/pulse /usr/sbin/lvs /usr/sbin/nanny /usr/sbin/send_arp /usr/sbin/ipvsadm /etc/init.d/pulse | awk '{ print "    " $1, $NF }'
# syslog(3) writes to /dev/log; each director's syslogd listens on its own /run.
ln -sf /run/syslog.sock /dev/log
rm -rf "$SHARE"
status=0
for mode in "$@"; do
    case $mode in nat|dr) ;; *) echo "lab.sh: unknown mode $mode (nat, dr)" >&2; exit 2 ;; esac
    run_mode "$mode"
done
trap - EXIT
emit ""
if [ "$UNEXPECTED" = 0 ]; then echo "demo: everything happened as described"; else echo "demo: $UNEXPECTED unexpected event(s), marked UNEXPECTED above"; status=1; fi
exit $status
