#!/bin/bash
# IPv6 everywhere an address goes (issue 21), against the real kernel IPVS;
# runs INSIDE the kernel lab:
#     tests/kernel-lab/run --timeout 900 tests/lab/ipv6.sh [BIN_DIR]
# PARTS (environment, default "dr tun pair") picks the parts:
#
#   dr    lvs alone in the guest's root namespace, direct routing, one
#         IPv4 and one IPv6 virtual service (dual stack) over the same two
#         real servers on one bridge: traffic through both VIPs spread by
#         rr; an IPv6 real server's httpd killed leaves the table, back
#         after its restart; `lvs --config-test` of a non-tunnel mix names
#         the rule at file:line:col.
#   tun   an IPv6 service with IPv4 real servers through IPv4 tunnels (sit
#         decapsulates on the real servers), and one with IPv6 real servers
#         through IPv6 tunnels (ip6tnl0): traffic through both VIPs.
#   pair  an IPv6-only NAT director pair (pulse on each, heartbeats over
#         IPv6): traffic through the IPv6 VIP spread over two real servers;
#         the VIP not tentative (nodad); director 1 dies: director 2 takes
#         over, its neighbour advertisements captured on the client and
#         decoded (count, target, override flag, hop limit, checksum), the
#         client's neighbour entry for the VIP moves to director 2's MAC, and
#         traffic flows again. The sync daemons run on the IPv6 group
#         ff02::8:81 (syncd_group): a connection held through director 1 is
#         known to director 2 before the failover.
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "ipv6.sh: run me through tests/kernel-lab/run" >&2; exit 2; }
REPO=${KERNEL_LAB_REPO:-$(pwd)}
BIN=${1:-$REPO/target/debug}
PARTS=${PARTS:-dr tun pair}
BUSYBOX=$(command -v busybox || echo /bin/busybox)
W=$(mktemp -d /tmp/ipv6lab.XXXXXX)
FAILS=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
say() { printf '\n== %s\n' "$*"; }
now() { date +%s%N; }
wait_for() { local secs=$1; shift; local end=$(( $(now) + secs * 1000000000 )); while [ "$(now)" -lt "$end" ]; do "$@" && return 0; sleep 0.2; done; return 1; }
NSS=() LINKS=() PIDS=()
cleanup() {
    local p ns
    for p in ${PIDS[@]+"${PIDS[@]}"}; do kill -9 "$p" 2>/dev/null; done
    pkill -9 -f "$BIN/pulse" 2>/dev/null; pkill -9 -f "$BIN/lvs" 2>/dev/null; pkill -9 -f "$BIN/nanny" 2>/dev/null
    pkill -f "httpd -f -p 80 -h $W" 2>/dev/null
    "$BIN/ipvsadm" -C 2>/dev/null
    for ns in ${NSS[@]+"${NSS[@]}"}; do ip netns del "$ns" 2>/dev/null; done
    for p in ${LINKS[@]+"${LINKS[@]}"}; do ip link del "$p" 2>/dev/null; done
}
trap 'cleanup; rm -rf "$W"' EXIT
for b in pulse lvs nanny send_arp ipvsadm; do [ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b missing (cargo build)"; exit 1; }; done
command -v tcpdump >/dev/null || { echo "FAIL: tcpdump missing (tests/install-deps)"; exit 1; }

# No duplicate address detection anywhere (a tentative address cannot be
# bound, and DAD costs a second per address), addresses kept on link down,
# no router advertisements: set before any namespace or link exists.
v6_sysctls() {  # [ns]
    local x=()
    [ $# -gt 0 ] && x=(ip netns exec "$1")
    "${x[@]}" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.keep_addr_on_down=1 net.ipv6.conf.default.keep_addr_on_down=1 \
        net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 >/dev/null
}
v6_sysctls
newns() { ip netns add "$1" && NSS+=("$1") && v6_sysctls "$1" && ip -n "$1" link set lo up; }
bridge() { ip link add "$1" type bridge && LINKS+=("$1") && ip link set "$1" up; }
port() {  # ns ifname-in-ns bridge: a veth from the namespace to the bridge
    local h="${1}${2}"
    ip link add "$h" type veth peer name "$2" netns "$1" && LINKS+=("$h") &&
        ip link set "$h" master "$3" && ip link set "$h" up && ip -n "$1" link set "$2" up
}
addr() { ip -n "$1" addr add "$2" dev "$3" nodad 2>/dev/null || ip -n "$1" addr add "$2" dev "$3"; }
serve() {  # ns name: busybox httpd on port 80 of every address, both families
    mkdir -p "$W/$2"; echo "real server $2" >"$W/$2/index.html"
    ip netns exec "$1" "$BUSYBOX" httpd -f -p 80 -h "$W/$2" &
    PIDS+=($!)
}
unserve() { pkill -f "httpd -f -p 80 -h $W/$1\$" 2>/dev/null; }
spread() {  # ns url label: 6 fetches must reach both real servers
    local pages="" i
    for i in 1 2 3 4 5 6; do pages="$pages|$(ip netns exec "$1" curl -g -s --max-time 3 "$2" 2>/dev/null)"; done
    echo "  $3:$pages"
    case "$pages" in *"server rs1"*"server rs2"*|*"server rs2"*"server rs1"*) pass "$3: rr spreads over rs1 and rs2" ;; *) fail "$3: no spread over both real servers" ;; esac
}
table() { "$BIN/ipvsadm" -L -n; }
lvs_start() {  # cf
    "$BIN/lvs" --nodaemon -c "$1" >>"$W/lvs.log" 2>&1 &
    LVS=$!
    PIDS+=("$LVS")
}
lvs_stop() {
    kill "$LVS" 2>/dev/null; timeout 20 tail --pid="$LVS" -f /dev/null 2>/dev/null
    "$BIN/ipvsadm" -C
}

# ------------------------------------------------------------------ dr
part_dr() {
    say "dr: dual-stack direct routing, lvs alone"
    bridge dr6
    ip link set dr6 up
    ip addr add fd00:7::1/64 dev dr6 nodad && ip addr add 10.7.0.1/24 dev dr6
    # The VIPs on the director (pulse's job in a pair). The IPv6 one
    # deprecated (preferred_lft 0), as pulse adds it: never the source of
    # the director's own connections (a health check from the VIP would
    # be answered to the real server's own lo).
    ip addr add fd00:7::100/64 dev dr6 nodad preferred_lft 0 && ip addr add 10.7.0.100/24 dev dr6
    newns c2 && port c2 eth0 dr6 && addr c2 fd00:7::2/64 eth0 && addr c2 10.7.0.2/24 eth0
    local i
    for i in 1 2; do
        newns "s$i" && port "s$i" eth0 dr6
        addr "s$i" "fd00:7::2$i/64" eth0 && addr "s$i" "10.7.0.2$i/24" eth0
        # Direct routing: each real server holds the VIPs on lo (IPv4 must
        # not answer ARP for it; IPv6 answers neighbour solicitations only
        # for addresses of the receiving interface).
        addr "s$i" fd00:7::100/128 lo && addr "s$i" 10.7.0.100/32 lo
        ip netns exec "s$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
            net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
        serve "s$i" "rs$i"
    done
    cat >"$W/dr.cf" <<CF
serial_no = 1
primary = fd00:7::1
network = direct
ipvsadm = $BIN/ipvsadm
virtual www4 {
    active = 1
    address = 10.7.0.100 dr6
    port = 80
    scheduler = rr
    client_monitor = $BIN/nanny
    timeout = 1
    reentry = 2
    server rs1 {
        address = 10.7.0.21
        active = 1
    }
    server rs2 {
        address = 10.7.0.22
        active = 1
    }
}
virtual www6 {
    active = 1
    address = fd00:7::100 dr6
    vip_nmask = /64
    port = 80
    send = "GET / HTTP/1.0\r\n\r\n"
    expect = "HTTP"
    scheduler = rr
    client_monitor = $BIN/nanny
    timeout = 1
    reentry = 2
    server rs1 {
        address = fd00:7::21
        active = 1
    }
    server rs2 {
        address = fd00:7::22
        active = 1
    }
}
# One mark, two families: two services (-f 5 and -f 5 -6), each with its
# own real server; the status must not mix them up.
virtual mark4 {
    active = 1
    fwmark = 5
    scheduler = rr
    client_monitor = $BIN/nanny
    timeout = 1
    server rs1 {
        address = 10.7.0.21
        active = 1
    }
}
virtual mark6 {
    active = 1
    fwmark = 5
    scheduler = rr
    client_monitor = $BIN/nanny
    timeout = 1
    server rs2 {
        address = fd00:7::22
        active = 1
    }
}
CF
    "$BIN/lvs" --config-test -c "$W/dr.cf" && pass "dual-stack lvs.cf is valid" || fail "dual-stack config test"
    lvs_start "$W/dr.cf"
    rs_in() { table | grep -q -- "-> \[$1\]:80"; }
    if wait_for 30 rs_in fd00:7::22 && wait_for 10 rs_in fd00:7::21; then pass "both IPv6 real servers are in the table"; else fail "IPv6 real servers not in the table"; fi
    table
    table | grep -q "TCP  \[fd00:7::100\]:80 rr" && pass "IPv6 service [fd00:7::100]:80 rr" || fail "IPv6 service line"
    table | grep -q "TCP  10.7.0.100:80 rr" && pass "IPv4 service 10.7.0.100:80 rr beside it" || fail "IPv4 service line"
    table | grep -q -- "-> \[fd00:7::21\]:80 *Route" && pass "IPv6 real server forwarded by direct routing" || fail "IPv6 Route entry"
    table | grep -q "^FWM  5 rr" && table | grep -q "^FWM  5 IPv6 rr" && pass "fwmark 5 twice: -f 5 and -f 5 -6" || fail "the two mark services"
    marks() {
        "$BIN/lvs" --status --json 2>/dev/null | python3 -c '
import json, sys
s = {x["name"]: x for x in json.load(sys.stdin)["lvs"]["services"]}
m4, m6 = s["mark4"], s["mark6"]
ok = (m4["key"], m6["key"]) == ("fwmark 5", "fwmark6 5") and \
    [(r["address"], r.get("kernel_weight")) for r in m4["servers"]] == [("10.7.0.21:80", 1)] and \
    [(r["address"], r.get("kernel_weight")) for r in m6["servers"]] == [("[fd00:7::22]:80", 1)]
sys.exit(0 if ok else 1)'
    }
    if wait_for 20 marks; then pass "lvs --status: each mark service with its own real server and kernel weight"; else
        fail "lvs --status of the two mark services"; "$BIN/lvs" --status 2>&1 | head -30; fi
    spread c2 "http://[fd00:7::100]/" "IPv6 VIP"
    spread c2 "http://10.7.0.100/" "IPv4 VIP"
    say "dr: the IPv6 real server rs1 dies and comes back"
    unserve rs1
    gone() { ! rs_in fd00:7::21; }
    if wait_for 20 gone; then pass "rs1 left the IPv6 service"; else fail "rs1 still in the IPv6 table"; fi
    grep -q "shutting down \[fd00:7::21\]:80" "$W/lvs.log" && pass "nanny logged 'shutting down [fd00:7::21]:80'" || fail "no shutting-down line for [fd00:7::21]:80"
    serve s1 rs1
    if wait_for 20 rs_in fd00:7::21; then pass "rs1 is back in the IPv6 service"; else fail "rs1 did not come back"; fi
    grep -q "making \[fd00:7::21\]:80 available" "$W/lvs.log" && pass "nanny logged 'making [fd00:7::21]:80 available'" || fail "no making-available line"
    say "dr: drain an IPv6 real server through lvs's control socket"
    "$BIN/lvs" --drain 'tcp:[FD00:7:0::100]:80/[fd00:7:0::22]:80' && pass "lvs --drain names an IPv6 server in any written form" || fail "drain of [fd00:7::22]:80"
    table | grep -A3 "TCP  \[fd00:7::100\]:80" | grep -q -- "-> \[fd00:7::22\]:80 *Route *0 " && pass "[fd00:7::22]:80 drained to weight 0 in www6" || fail "weight after the drain"
    table | grep -A2 "FWM  5 IPv6" | grep -q -- "-> \[fd00:7::22\]:80 *Route *1 " && pass "the same server in mark6 untouched" || fail "the drain leaked into mark6"
    grep -q "server tcp:\[fd00:7::100\]:80 \[fd00:7::22\]:80 drain" /var/lib/piranha/overrides && pass "overrides file: server tcp:[fd00:7::100]:80 [fd00:7::22]:80 drain" || fail "overrides word: $(cat /var/lib/piranha/overrides 2>&1)"
    "$BIN/lvs" --undrain www6/fd00:7::22 && pass "undrained by lvs.cf's service name and the bare address" || fail "undrain"
    table | grep -A3 "TCP  \[fd00:7::100\]:80" | grep -q -- "-> \[fd00:7::22\]:80 *Route *1 " && pass "weight 1 again" || fail "weight after the undrain"
    grep -E "nanny" "$W/lvs.log" | head -20
    lvs_stop
    say "dr: a mix outside a tunnel is refused at its place"
    sed 's/address = 10.7.0.22/address = fd00:7::22/' "$W/dr.cf" >"$W/mix.cf"
    out=$("$BIN/lvs" --config-test -c "$W/mix.cf" 2>&1); rc=$?
    echo "  $out" | head -3
    [ $rc = 1 ] && echo "$out" | grep -q "mix.cf:18:19: error: \`address\`: invalid configuration: real server \`rs2\` (fd00:7::22) is IPv6 but virtual server \`www4\` is IPv4: the kernel forwards to another family only through a tunnel" \
        && pass "config test: exit 1 and the rule at file:line:col" || fail "config test of a mix: rc $rc"
}

# ------------------------------------------------------------------ tun
part_tun() {
    say "tun: an IPv6 service with IPv4 real servers through tunnels"
    modprobe sit 2>/dev/null; modprobe ip6_tunnel 2>/dev/null
    bridge tn6
    ip addr add fd00:6::1/64 dev tn6 nodad && ip addr add 10.6.0.1/24 dev tn6
    ip addr add fd00:6::200/64 dev tn6 nodad preferred_lft 0
    ip addr add fd00:6::201/64 dev tn6 nodad preferred_lft 0
    newns c3 && port c3 eth0 tn6 && addr c3 fd00:6::2/64 eth0
    local i
    for i in 1 2; do
        newns "t$i" && port "t$i" eth0 tn6
        addr "t$i" "10.6.0.2$i/24" eth0 && addr "t$i" "fd00:6::2$i/64" eth0
        # IPv6 in IPv4 (protocol 41) lands on sit0, IPv6 in IPv6 on
        # ip6tnl0; the VIPs are on lo.
        ip -n "t$i" link set sit0 up
        ip -n "t$i" link set ip6tnl0 up
        addr "t$i" fd00:6::200/128 lo
        addr "t$i" fd00:6::201/128 lo
        ip netns exec "t$i" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
            net.ipv4.conf.sit0.rp_filter=0 2>/dev/null
        serve "t$i" "rs$i"
    done
    cat >"$W/tun.cf" <<CF
serial_no = 1
primary = fd00:6::1
network = tunnel
ipvsadm = $BIN/ipvsadm
virtual www6 {
    active = 1
    address = fd00:6::200 tn6
    port = 80
    scheduler = rr
    client_monitor = $BIN/nanny
    timeout = 1
    reentry = 2
    server rs1 {
        address = 10.6.0.21
        active = 1
    }
    server rs2 {
        address = 10.6.0.22
        active = 1
    }
}
virtual www6in6 {
    active = 1
    address = fd00:6::201 tn6
    port = 80
    scheduler = rr
    client_monitor = $BIN/nanny
    timeout = 1
    reentry = 2
    server rs1 {
        address = fd00:6::21
        active = 1
    }
    server rs2 {
        address = fd00:6::22
        active = 1
    }
}
CF
    "$BIN/lvs" --config-test -c "$W/tun.cf" && pass "IPv6 service with IPv4 tunnelled real servers is valid" || fail "tunnel config test"
    lvs_start "$W/tun.cf"
    in4() { table | grep -q -- "-> 10.6.0.2$1:80 *Tunnel"; }
    if wait_for 30 in4 1 && wait_for 10 in4 2; then pass "IPv4 real servers of the IPv6 service, forwarded by tunnel"; else fail "tunnelled real servers not in the table"; fi
    table
    spread c3 "http://[fd00:6::200]/" "IPv6 VIP over IPv4 tunnels"
    in6() { table | grep -q -- "-> \[fd00:6::2$1\]:80 *Tunnel"; }
    if wait_for 20 in6 1 && wait_for 10 in6 2; then pass "IPv6 real servers of an IPv6 service, forwarded by tunnel"; else fail "IPv6-in-IPv6 real servers not in the table"; fi
    spread c3 "http://[fd00:6::201]/" "IPv6 VIP over IPv6 tunnels"
    lvs_stop
}

# ------------------------------------------------------------------ pair
part_pair() {
    say "pair: an IPv6-only NAT director pair"
    bridge pub6; bridge priv6
    newns c && port c eth0 pub6 && addr c fd00:9::2/64 eth0 && ip -n c -6 route add default via fd00:9::100
    local d r
    for d in 1 2; do
        newns "d$d" && port "d$d" eth0 pub6 && port "d$d" eth1 priv6
        addr "d$d" "fd00:9::1$d/64" eth0 && addr "d$d" "fd00:8::1$d/64" eth1
        ip netns exec "d$d" sysctl -qw net.ipv6.conf.all.forwarding=1
    done
    for r in 1 2; do
        newns "r$r" && port "r$r" eth0 priv6 && addr "r$r" "fd00:8::2$r/64" eth0
        ip -n "r$r" -6 route add default via fd00:8::1
        serve "r$r" "rs$r"
    done
    cat >"$W/pair.cf" <<CF
serial_no = 1
primary = fd00:9::11
service = lvs
backup_active = 1
backup = fd00:9::12
heartbeat = 1
heartbeat_port = 539
keepalive = 1
deadtime = 3
network = nat
nat_router = fd00:8::1 eth1
nat_nmask = /64
syncdaemon = 1
syncd_iface = eth1
syncd_group = ff02::8:81
ipvsadm = $BIN/ipvsadm
virtual web {
    active = 1
    address = fd00:9::100 eth0
    vip_nmask = /64
    port = 80
    send = "GET / HTTP/1.0\r\n\r\n"
    expect = "HTTP"
    scheduler = rr
    protocol = tcp
    client_monitor = $BIN/nanny
    timeout = 1
    reentry = 2
    server rs1 {
        address = fd00:8::21
        active = 1
    }
    server rs2 {
        address = fd00:8::22
        active = 1
    }
}
CF
    "$BIN/pulse" -c "$W/pair.cf" --config-test || fail "pair config test"
    start_pulse() {  # ns: each director gets its own /run
        ip netns exec "$1" sh -c "mount -t tmpfs tmpfs /run && exec $BIN/pulse -n -c $W/pair.cf --lvsd $BIN/lvs --send-arp $BIN/send_arp" \
            >>"$W/$1.log" 2>&1 &
        PIDS+=($!)
        eval "PULSE_$1=$!"
    }
    serves() { ip netns exec c curl -g -s --max-time 2 "http://[fd00:9::100]/" 2>/dev/null | grep -q "real server"; }
    start_pulse d1; start_pulse d2
    if wait_for 90 serves; then pass "the client reaches the real servers through the IPv6 VIP on director 1"; else fail "no traffic through director 1"; fi
    spread c "http://[fd00:9::100]/" "IPv6 NAT VIP"
    ip -n d1 -6 addr show dev eth0 | grep "fd00:9::100"
    ip -n d1 -6 addr show dev eth0 | grep "fd00:9::100/64" | grep -vq tentative && pass "director 1 holds the VIP, not tentative (nodad)" || fail "VIP not (usably) on director 1"
    ip -n d1 -6 addr show dev eth1 | grep -q "fd00:8::1/64" && pass "director 1 holds the NAT router address" || fail "NAT router address not on director 1"
    ip -n d2 -6 addr show dev eth0 | grep -q "fd00:9::100" && fail "director 2 holds the VIP too" || pass "director 2 is passive"
    ip netns exec d1 "$BIN/ipvsadm" -L -n
    say "pair: the sync daemons over the IPv6 group ff02::8:81"
    ip netns exec d1 "$BIN/ipvsadm" -L --daemon
    ip netns exec d2 "$BIN/ipvsadm" -L --daemon | grep -q "backup sync daemon.*mcast=eth1.*ff02::8:81\|ff02::8:81.*backup\|backup.*ff02::8:81" &&
        pass "director 2's backup sync daemon listens on eth1, group ff02::8:81" || fail "director 2's sync daemon: $(ip netns exec d2 "$BIN/ipvsadm" -L --daemon | tr '\n' ' ')"
    # A connection held open through director 1 (the request left
    # unfinished): its entry reaches director 2 through the kernel's sync
    # protocol over IPv6 multicast.
    ip netns exec c python3 -c '
import socket, time
s = socket.create_connection(("fd00:9::100", 80), timeout=5)
s.sendall(b"GET / HTTP/1.0\r\n")
time.sleep(60)' 2>/dev/null &
    PIDS+=($!)
    synced() { ip netns exec d2 "$BIN/ipvsadm" -L -n -c 2>/dev/null | grep -q "ESTABLISHED *\[fd00:9::2\]"; }
    if wait_for 15 synced; then
        pass "director 2 learned the held (established) connection from director 1 over IPv6 sync"
        ip netns exec d2 "$BIN/ipvsadm" -L -n -c | head -4
    else
        fail "no synced connection on director 2"
        ip netns exec d1 "$BIN/ipvsadm" -L -n -c | head -4
    fi
    local mac2
    mac2=$(ip -n d2 link show eth0 | awk '/link\/ether/ {print $2}')
    say "pair: director 1 dies (pulse killed with -9, links cut); neighbour advertisements captured on the client"
    ip netns exec c tcpdump -i eth0 -n -U -w "$W/na.pcap" 'icmp6 and ip6[40] == 136' >/dev/null 2>&1 &
    local tcpd=$!
    PIDS+=("$tcpd")
    sleep 1
    local t0
    t0=$(now)
    kill -9 "$PULSE_d1"
    ip -n d1 link set eth0 down; ip -n d1 link set eth1 down
    if wait_for 40 serves; then
        pass "traffic flows through director 2 $(( ($(now) - t0) / 1000000 )) ms after director 1 died (deadtime 3 s)"
    else fail "no failover over IPv6 heartbeats"; fi
    wait_for 15 grep -q "gratuitous lvs arps finished" "$W/d2.log" && pass "director 2 logged 'gratuitous lvs arps finished'" || fail "no announcements finished line on director 2"
    sleep 1
    kill "$tcpd" 2>/dev/null; wait "$tcpd" 2>/dev/null
    local nas vip_nas
    tcpdump -r "$W/na.pcap" -n -e 2>/dev/null | grep "neighbor advertisement"
    nas=$(tcpdump -r "$W/na.pcap" -n -e -v 2>/dev/null | grep -c "neighbor advertisement")
    # Director 2's own: from its MAC to 33:33:00:00:00:01, for the VIP,
    # override set (router too: the director forwards).
    vip_nas=$(tcpdump -r "$W/na.pcap" -n -e -v 2>/dev/null | grep "$mac2 > 33:33:00:00:00:01" |
        grep -c "fd00:9::100 > ff02::1: .*tgt is fd00:9::100, Flags \[.*override")
    [ "$vip_nas" = 5 ] && pass "director 2 sent 5 unsolicited neighbour advertisements for fd00:9::100 with the override flag ($nas advertisements captured in all)" ||
        fail "director 2's neighbour advertisements for the VIP: $vip_nas with override, want 5 ($nas captured in all)"
    if command -v tshark >/dev/null; then
        local dec
        dec=$(tshark -r "$W/na.pcap" -Y 'icmpv6.nd.na.target_address == fd00:9::100' -T fields -e eth.src -e ipv6.hlim -e ipv6.dst -e icmpv6.nd.na.flag.o -e icmpv6.nd.na.flag.s -e icmpv6.checksum.status 2>/dev/null | sort | uniq -c)
        echo "$dec"
        echo "$dec" | grep -qE "^ *5 +$mac2	255	ff02::1	(1|True)	(0|False)	(1|Good)" && pass "tshark: 5 from $mac2, hop limit 255, to ff02::1, override set, solicited clear, checksum good" || fail "NA decode"
        local gaps
        gaps=$(tshark -r "$W/na.pcap" -Y "icmpv6.nd.na.target_address == fd00:9::100 && eth.src == $mac2" -T fields -e frame.time_epoch 2>/dev/null |
            awk 'NR > 1 { printf "%.2f ", $1 - p } { p = $1 }')
        echo "  gaps between them (s): $gaps"
        echo "$gaps" | awk '{ for (i = 1; i <= NF; i++) if ($i < 0.8 || $i > 1.5) bad = 1 } END { exit bad || NF != 4 }' &&
            pass "about 1 s apart, as the ARPs" || fail "spacing of the advertisements: $gaps"
    fi
    ip -n c -6 neigh show fd00:9::100
    ip -n c -6 neigh show fd00:9::100 | grep -q "$mac2" && pass "the client's neighbour entry for the VIP is director 2's MAC" || fail "client neighbour entry for the VIP"
    ip -n d2 -6 addr show dev eth0 | grep "fd00:9::100/64" | grep -vq tentative && pass "director 2 holds the VIP, not tentative" || fail "VIP not on director 2"
    grep -q "partner dead: activating lvs" "$W/d2.log" && pass "director 2 logged 'partner dead: activating lvs'" || fail "d2 activation line"
    say "director logs"
    for d in d1 d2; do echo "--- $d"; grep -E "pulse:|lvs:|nanny:" "$W/$d.log" | grep -v DEBUG | head -30; done
}

for p in $PARTS; do "part_$p"; done
echo
echo "ipv6: $FAILS failure(s)"
[ $FAILS = 0 ]
