//! The version line and the help text (`-h`).

/// The version line (`-v`, first line of `-h`).
pub const VERSION_LINE: &str = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)";

/// The help text (`-h`): our own wording of ipvsadm's usage summary.
pub fn usage(program: &str) -> String {
    let p = program;
    format!(
        "{VERSION_LINE}\n\
Usage:\n\
\x20 {p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n\
\x20 {p} -D virtual-service\n\
\x20 {p} -C\n\
\x20 {p} -R\n\
\x20 {p} -S [-n]\n\
\x20 {p} -a|e virtual-service -r server-address [options]\n\
\x20 {p} -d virtual-service -r server-address\n\
\x20 {p} -L|l [virtual-service] [options]\n\
\x20 {p} -Z [virtual-service]\n\
\x20 {p} --set tcp tcpfin udp\n\
\x20 {p} --start-daemon {{master|backup}} [daemon-options]\n\
\x20 {p} --stop-daemon {{master|backup}}\n\
\x20 {p} -h\n\
\n\
Commands (long or short form):\n\
\x20 --add-service     -A        add a virtual service\n\
\x20 --edit-service    -E        replace a virtual service's settings\n\
\x20 --delete-service  -D        delete a virtual service\n\
\x20 --clear           -C        delete every virtual service\n\
\x20 --restore         -R        read commands from standard input, one per line\n\
\x20 --save            -S        print the table as commands for --restore\n\
\x20 --add-server      -a        add a real server to a virtual service\n\
\x20 --edit-server     -e        change a real server\n\
\x20 --delete-server   -d        remove a real server\n\
\x20 --list            -L|-l     show the table\n\
\x20 --zero            -Z        reset counters of one or all virtual services\n\
\x20 --set tcp tcpfin udp        set connection timeouts (seconds, 0 = unchanged)\n\
\x20 --start-daemon              start a connection sync daemon\n\
\x20 --stop-daemon               stop a connection sync daemon\n\
\x20 --help            -h        show this text\n\
\n\
virtual-service:\n\
\x20 --tcp-service|-t  service-address   host[:port] (TCP)\n\
\x20 --udp-service|-u  service-address   host[:port] (UDP)\n\
\x20 --sctp-service    service-address   host[:port] (SCTP)\n\
\x20 --fwmark-service|-f fwmark          firewall mark, a positive integer\n\
\n\
Options:\n\
\x20 --ipv6         -6                   the fwmark service is IPv6\n\
\x20 --scheduler    -s scheduler         rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh (default wlc)\n\
\x20 --pe            engine              persistence engine: sip (default none)\n\
\x20 --persistent   -p [timeout]         persistent service (default 360 seconds)\n\
\x20 --netmask      -M netmask           client grouping for persistence\n\
\x20 --real-server  -r server-address    host[:port] of a real server\n\
\x20 --gatewaying   -g                   direct routing (default)\n\
\x20 --ipip         -i                   tunnelling\n\
\x20 --masquerading -m                   NAT\n\
\x20 --tun-type      type                ipip|gue|gre (default ipip)\n\
\x20 --tun-port      port                tunnel destination port\n\
\x20 --tun-nocsum                        tunnel without checksum\n\
\x20 --tun-csum                          tunnel with checksum\n\
\x20 --tun-remcsum                       tunnel with remote checksum\n\
\x20 --weight       -w weight            real server capacity, 0..65535 (default 1)\n\
\x20 --u-threshold  -x uthreshold        stop sending new connections above this many\n\
\x20 --l-threshold  -y lthreshold        resume below this many\n\
\x20 --connection   -c                   list connections\n\
\x20 --timeout                           list timeouts (tcp tcpfin udp)\n\
\x20 --daemon                            list sync daemons\n\
\x20 --stats                             list counters\n\
\x20 --rate                              list rates\n\
\x20 --exact                             print exact numbers\n\
\x20 --thresholds                        list thresholds\n\
\x20 --persistent-conn                   list persistence templates\n\
\x20 --tun-info                          list tunnel settings\n\
\x20 --nosort                            kernel order instead of sorted\n\
\x20 --sort                              accepted and ignored\n\
\x20 --ops          -o                   one-packet scheduling (UDP)\n\
\x20 --numeric      -n                   no name lookups\n\
\x20 --sched-flags  -b flags             scheduler flags, comma separated\n\
Daemon Options:\n\
\x20 --syncid sid                        sync id (default 0)\n\
\x20 --sync-maxlen length                largest sync message\n\
\x20 --mcast-interface interface         interface for sync traffic (default eth0)\n\
\x20 --mcast-group address               IPv4/IPv6 multicast group (default 224.0.0.81)\n\
\x20 --mcast-port port                   UDP port (default 8848)\n\
\x20 --mcast-ttl ttl                     multicast TTL (default 1)\n"
    )
}
