#!/bin/bash
# The commented packet decode of one demo run (host side; tests/demo/run
# calls it):
#     tests/demo/decode.sh target/demo/TIMESTAMP/MODE
# Reads what tests/demo/lab.sh left there (pub.pcap, priv.pcap: the whole
# run; steps.tsv: when each step began and ended; hosts.tsv: whose MAC
# and address is what; meta.env), cuts one pair of captures per step into
# steps/ with editcap, and writes decode.txt: for every step the few frames
# that show what happened, each view as the tshark command that selects
# them (run it in steps/ to see them again) and a sentence saying what they
# mean.  Times are seconds since the start of the run, as in timeline.txt.
set -euo pipefail
DIR=${1:?usage: decode.sh DIR}
cd "$DIR"
for f in meta.env steps.tsv hosts.tsv pub.pcap priv.pcap; do
    [ -s "$f" ] || { echo "decode.sh: $DIR/$f missing or empty" >&2; exit 1; }
done
command -v tshark >/dev/null && command -v editcap >/dev/null ||
    { echo "decode.sh: tshark and editcap needed (tests/install-deps demo)" >&2; exit 1; }
# shellcheck source=/dev/null
. ./meta.env
T0S=$(awk -v t="$T0" 'BEGIN { printf "%.9f", t / 1e9 }')
OUT=decode.txt
: >"$OUT"
say() { printf '%s\n' "$*" >>"$OUT"; }
mkdir -p steps

# ---------------------------------------------------------------- one view
# view NET FILTER HOW COMMENT FIELD...
#   HOW: first:N            the first N frames
#        distinct:K         the first frame of each distinct value of field K,
#                           with how many frames had it and until when
#        transitions:K:V    per value of field K: its first frame, every frame
#                           where field V changes, and its last frame
#        count:K            how many frames per value of field K
# Fields are numbered from 1 after the time, which always comes first.
STEP_FILE=
view() {
    local net=$1 filter=$2 how=$3 comment=$4; shift 4
    local pcap="$STEP_FILE-$net.pcap" args=() f
    for f in "$@"; do args+=(-e "$f"); done
    say ""
    say "  \$ tshark -r $(basename "$pcap") -d udp.port==539,data -Y '$filter' -T fields -e frame.time_epoch ${args[*]}"
    if [ "${how%%:*}" = count ]; then
        say "    frames per ${*:${how#count:}:1}"
    else
        say "    $(printf '%9s' time)$(printf '  %-17s' "$@")"
    fi
    tshark -r "$pcap" -d udp.port==539,data -Y "$filter" -T fields -E separator=/t -E occurrence=f \
        -e frame.time_epoch "${args[@]}" 2>/dev/null |
    awk -F'\t' -v t0="$T0S" -v how="$how" -v hosts=hosts.tsv '
        BEGIN {
            # MAC addresses by machine:interface; addresses stay numeric
            while ((getline l < hosts) > 0) { split(l, p, "\t"); if (p[1] ~ /:/) { sub(" ", ":", p[2]); name[p[1]] = p[2] } }
            n = split(how, h, ":"); mode = h[1]; k = h[2] + 1; v = h[3] + 1
        }
        function pretty(x) {
            if (x in name) return name[x]
            if (x == "dadbadbd" || x == "bdaddbda") return x " active"
            if (x == "bddabdad" || x == "adbddabd") return x " inactive"
            return x
        }
        function fmt(   i, s) {
            s = sprintf("%+9.3f", $1 - t0)
            for (i = 2; i <= NF; i++) s = s "  " sprintf("%-17s", pretty($i))
            return "    " s
        }
        mode == "first" { if (++seen <= h[2]) print fmt(); next }
        mode == "distinct" {
            if (!($k in cnt)) { order[++nk] = $k; first[$k] = fmt() }
            cnt[$k]++; last[$k] = $1 - t0; next
        }
        mode == "count" { if (!($k in cnt)) order[++nk] = $k; cnt[$k]++; next }
        mode == "transitions" {
            if (!($k in val)) { print fmt(); val[$k] = $v; order[++nk] = $k }
            else if ($v != val[$k]) { print fmt() "  <- changed"; val[$k] = $v; pend[$k] = "" }
            else pend[$k] = fmt() "  (last)"
            total++; next
        }
        END {
            if (mode == "distinct") for (i = 1; i <= nk; i++) printf "%s  x%d, the last at %+.3f\n", first[order[i]], cnt[order[i]], last[order[i]]
            if (mode == "count") for (i = 1; i <= nk; i++) printf "    %-17s %d\n", pretty(order[i]), cnt[order[i]]
            if (mode == "transitions") for (i = 1; i <= nk; i++) if (pend[order[i]] != "") print pend[order[i]]
            if (NR == 0) print "    (no frame)"
        }' | if [ "${how%%:*}" = transitions ]; then sort -s -g -k1,1; else cat; fi >>"$OUT"
    say "  # $comment"
}

# ---------------------------------------------------------------- the steps
heartbeats() {  # net comment
    view "$1" "udp.port == 539 && !icmp" transitions:1:3 "$2" ip.src ip.dst data.data
}
garps() {  # net comment
    view "$1" "arp.isgratuitous == 1" distinct:1 "$2" eth.src eth.dst arp.opcode arp.src.proto_ipv4 arp.dst.proto_ipv4
}
client_syns() {  # comment
    # sent by the client itself (a director that just gave up the VIP
    # forwards what still reaches it to the new owner: frames from its MAC)
    view pub "tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.dst == $VIP && !icmp && eth.src == $(grep -P '\tclient eth0$' hosts.tsv | cut -f1)" transitions:1:2 "$1" ip.src eth.dst ip.dst tcp.dstport
}
requests_by_server() {  # comment
    if [ "$MODE" = nat ]; then
        view priv "http.request && ip.src == 10.9.0.2" count:1 "$1" ip.dst
    else
        view priv "http.request && ip.src == 10.9.0.2" count:1 "$1" eth.dst
    fi
}
refused() {  # comment
    view pub "!icmp && tcp.flags.reset == 1 && ip.src == $VIP" distinct:1 "$1" eth.src ip.src ip.dst tcp.flags.str
}
unreachable() {  # comment
    view pub "icmp.type == 3 && ip.src == $VIP" distinct:1 "$1" eth.src ip.src ip.dst icmp.type icmp.code
}
# The client's long-lived connection of this step (its port is in the
# client's log): the director its segments reach (eth.dst) and when that
# changes, with the echo still flowing.
long_lived() {  # slug comment
    local port
    port=$(awk '$2 == "open" { print $4; exit }' "client-$1.log" 2>/dev/null)
    [ -n "$port" ] || { say "  (no long-lived connection logged)"; return; }
    view pub "tcp.port == $port && tcp.len > 0 && ip.src == 10.9.0.2" transitions:3:2 "$2" ip.src eth.dst tcp.srcport tcp.seq
    view pub "tcp.port == $port && tcp.len > 0 && ip.dst == 10.9.0.2" transitions:2:1 "Its real server's echoes, on the client's network: from the VIP throughout$([ "$MODE" = nat ] && echo ", through whichever director holds it (eth.src)" || echo " (direct routing: from gw's MAC, never through a director)")." eth.src ip.src tcp.dstport
}
MAGICS="Each heartbeat is 4 bytes on UDP 539, Piranha's magic in host byte order: dadbadbd (0xbdaddbda) says 'I am active', bddabdad (0xadbddabd) 'I am inactive'"

say "Commented frames of the $MODE run (pub.pcap, priv.pcap: the whole run; steps/: one pair per step)."
say "Times are seconds since the start of the run (as in timeline.txt); MAC addresses are shown as machine:interface."
say "Addresses: client 10.9.0.2, d1 10.9.0.11/10.8.0.11, d2 10.9.0.12/10.8.0.12, VIP $VIP, rs1-3 10.8.0.21-23, sorry 10.8.0.30$([ "$MODE" = nat ] && echo ', NAT router 10.8.0.1' || echo ', gw 10.9.0.254/10.8.0.254')."
while IFS=$'\t' read -r n slug title start end; do
    STEP_FILE=steps/$(printf '%02d' "$n")-$slug
    for net in pub priv; do
        editcap -F pcap -A "$start" -B "$end" "$net.pcap" "$STEP_FILE-$net.pcap" >/dev/null 2>&1 ||
            { echo "decode.sh: editcap failed on $net.pcap for step $n" >&2; exit 1; }
    done
    say ""
    say "== $n. $title   [$(awk -v a="$start" -v b="$end" -v t="$T0S" 'BEGIN { printf "%+.1f s .. %+.1f s", a - t, b - t }')]"
    say "   $STEP_FILE-pub.pcap, $STEP_FILE-priv.pcap"
    case $slug in
    setup)
        heartbeats pub "$MAGICS. Shown: each sender's first frame, every change of its magic and its last frame. d1 (the primary) starts inactive and turns active once it has taken the VIP (its lvs reported the table ready first); d2 stays inactive, its lvs standing by."
        [ "$MODE" = nat ] && heartbeats priv "The same heartbeats on the private network (primary_private, backup_private): a second channel, so one cut cable is not taken for a dead partner."
        garps pub "d1 announces the VIP it just brought up: five gratuitous ARPs, one a second (send_arp), so that the client and the router refresh their ARP caches."
        [ "$MODE" = nat ] && garps priv "On the private network the same for the NAT router address 10.8.0.1, the real servers' gateway."
        ;;
    arp)
        view priv "arp" first:12 "gw's who-has $VIP gets exactly one answer, from d1's private interface: the real servers hold the VIP on lo but arp_ignore = 1 keeps them quiet. In the second round rs1 (arp_ignore = 0) answers too: two MACs for one address, the ARP problem of direct routing." \
            eth.src eth.dst arp.opcode arp.src.proto_ipv4 arp.dst.proto_ipv4 arp.src.hw_mac
        ;;
    balance)
        view pub "http.request" first:2 "The client sends its request to the VIP, at the MAC of the active director (d1:eth0)." \
            eth.src eth.dst ip.src ip.dst http.request.uri
        if [ "$MODE" = nat ]; then
            view priv "http.request && ip.src == 10.9.0.2" first:3 "d1 forwards each request to a real server with the destination address rewritten (masquerading, network = nat); the client's address stays the source." \
                eth.src eth.dst ip.src ip.dst http.request.uri
            view priv "http.response && ip.dst == 10.9.0.2" first:3 "The real server answers the client through its gateway, the NAT router address on d1 (eth.dst d1:eth1), which rewrites the source back to the VIP." \
                eth.src eth.dst ip.src ip.dst http.response.code http.file_data
            view pub "http.response" first:2 "The answer reaches the client from the VIP and d1's MAC: the client never sees a real server's address." \
                eth.src eth.dst ip.src ip.dst http.file_data
        else
            view priv "http.request && ip.src == 10.9.0.2" first:3 "d1 forwards each request unchanged, IP destination still the VIP, to the MAC of a real server (network = direct: only the Ethernet header changes)." \
                eth.src eth.dst ip.src ip.dst http.request.uri
            view priv "arp.opcode == 1 && arp.dst.proto_ipv4 == 10.8.0.254" first:3 "To answer, each real server looks up its router gw; it asks as its own address, never as the VIP (arp_announce = 2), so nobody learns the VIP at a real server's MAC." \
                eth.src arp.src.proto_ipv4 arp.dst.proto_ipv4
            view priv "http.response && ip.dst == 10.9.0.2" first:3 "The real server answers from the VIP straight to gw's MAC: the answer never passes through the director." \
                eth.src eth.dst ip.src ip.dst http.response.code http.file_data
            view pub "http.response" first:2 "The answer reaches the client from the VIP, but from gw's MAC, not the director's." \
                eth.src eth.dst ip.src ip.dst http.file_data
        fi
        requests_by_server "The client's requests on the private network, per real server (the curl and the 30 that follow): the spread the scheduler made."
        ;;
    rs-fails)
        view priv "ip.addr == 10.8.0.22 && tcp.port == 80 && (tcp.flags.syn == 1 || tcp.flags.reset == 1)" first:4 "nanny's check connects from d1 to rs2:80 every interval (lvs.cf timeout, 2 s here); with no web server, rs2's kernel answers the SYN with a RST, and nanny takes rs2 out of the table." \
            ip.src ip.dst tcp.srcport tcp.dstport tcp.flags.str
        requests_by_server "The client's requests after that: only rs1 and rs3 get any."
        ;;
    rs-returns)
        view priv "ip.src == 10.8.0.22 && http.response" first:5 "From its restart rs2 answers nanny's checks again, one per interval; after reentry seconds of them nanny adds it back." \
            ip.src ip.dst http.response.code http.file_data
        requests_by_server "The client's requests once rs2 is back: the three servers again."
        ;;
    sorry)
        view priv "ip.src == 10.8.0.21 && tcp.srcport == 80 && tcp.flags.reset == 1" first:2 "All real servers refuse nanny's checks (rs1 shown: its kernel resets the connection)." \
            ip.src ip.dst tcp.srcport tcp.dstport tcp.flags.str
        view priv "http.request && ip.src == 10.9.0.2 && ip.dst == 10.8.0.30 || http.response && ip.dst == 10.9.0.2 && eth.src == $(grep -P '\tsorry eth0$' hosts.tsv | cut -f1)" first:4 "Meanwhile the client's requests go to the sorry server, which answers with its page." \
            eth.src eth.dst ip.src ip.dst http.request.uri http.file_data
        requests_by_server "The client's requests during this step, per server: the sorry server while no real server was alive, then the real servers again."
        ;;
    switchover)
        heartbeats pub "$MAGICS. At the switch-over command d1's magic turns inactive at once (not on its keepalive grid), while it still serves; d2 takes over and its magic turns active (sent at once, after its first gratuitous ARP); a quarter second later d1 lets go. Then the same the other way."
        [ "$MODE" = nat ] && heartbeats priv "The same on the private channel."
        garps pub "Each director that takes over announces the VIP with its own MAC: the first frame from pulse itself, before its RUNNING heartbeat, the four others one second apart (send_arp)."
        view priv "udp.dstport == 8848" distinct:1 "The connections the leaving director sends to the partner's sync daemon (the kernel's own protocol, 224.0.0.81:8848 on eth1), besides the kernel's: when it starts handing over, when it hears RUNNING, when it lets go." \
            eth.src ip.src ip.dst udp.length
        refused "No connection refused by a director: the leaving one keeps serving until the partner has announced itself, and the partner's table was ready (hot standby)."
        unreachable "No ICMP port unreachable either."
        long_lived switchover "The client's long-lived connection: its segments go to d1's MAC until d2's gratuitous ARP, then to d2's, and back; the connection goes on, since d2 knew it (sync daemon)."
        client_syns "The client's new connections (SYN): to d1's MAC, then d2's, then d1's again."
        ;;
    failover)
        heartbeats pub "d1's heartbeats stop at the kill; deadtime ($DEADTIME s) later d2 declares it dead and brings up the VIP (its lvs was standing by with the table), and its magic turns from inactive to active."
        [ "$MODE" = nat ] && heartbeats priv "The same on the private channel."
        garps pub "d2 announces the VIP with its own MAC (five gratuitous ARPs)."
        [ "$MODE" = nat ] && garps priv "and the NAT router address on the private network, so that the real servers' answers go to d2."
        view pub "icmp.type == 3 && udp.dstport == 539" distinct:1 "d2's heartbeats to d1 now get an ICMP port unreachable from d1's kernel: nothing listens on UDP 539 there any more." \
            ip.src ip.dst icmp.type icmp.code
        refused "No connection refused by a director: d1's lvs kept its table while d1 still held the VIP, d2's table was ready when it took the VIP, and for 5 s after the takeover d2 drops (does not reset) segments of connections it does not know yet (the takeover guard)."
        unreachable "No ICMP port unreachable either (before, a takeover showed both from the dying and the new director)."
        long_lived failover "The client's long-lived connection: its segments go to d1 until d1's VIP expires, nowhere for a moment (TCP sends them again), then to d2, which knew the connection from the sync daemon: the connection survives the takeover."
        client_syns "The client's connection attempts (SYN) to the VIP: they go to d1's MAC until d2's gratuitous ARP, then to d2's."
        requests_by_server "The client's requests on the private network during this step, per server. None should reach the sorry server: lvs gives the nannies' first checks their time before it calls the service empty (COMPATIBILITY L15)."
        ;;
    primary-returns)
        heartbeats pub "The returning d1 reports inactive and stays so, since d2 reports active: Piranha does not fail back."
        garps pub "No director announced anything: nobody took over."
        client_syns "The client's connections keep going to d2."
        ;;
    backup-stops)
        heartbeats pub "At the stop d2's magic turns inactive at once (its farewell: Piranha 0.8.6 activates on it too), d1's turns active at once, and d2's heartbeats end a moment later: no deadtime waited."
        [ "$MODE" = nat ] && heartbeats priv "The same on the private channel."
        garps pub "d1 announces the VIP again with its own MAC."
        refused "No connection refused: d2 kept serving until d1 had announced the VIP."
        unreachable "No ICMP port unreachable."
        long_lived backup-stops "The client's long-lived connection moves from d2 back to d1 and goes on."
        client_syns "The client's connection attempts move from d2's MAC back to d1's."
        requests_by_server "The client's requests on the private network during this step, per server (none to the sorry server)."
        ;;
    stop)
        heartbeats pub "The last heartbeats: after the stop nothing is sent any more."
        ;;
    *) say "  (no view for this step)" ;;
    esac
done <steps.tsv
