# Connection sync daemons.
ipv -L --daemon
ipv --start-daemon master
ipv -L --daemon
ipv --start-daemon master
ipv --start-daemon backup --mcast-interface sync1 --syncid 7 --sync-maxlen 1400 --mcast-port 9000 --mcast-ttl 3
ipv -L --daemon
ipv --stop-daemon master
ipv --stop-daemon master
ipv --stop-daemon backup
ipv -L --daemon
ipv --start-daemon master --mcast-group 239.1.2.3
ipv -L --daemon
ipv --stop-daemon master
ipv --start-daemon backup --mcast-group ff02::1:2 --mcast-interface sync1
ipv -L --daemon
ipv --stop-daemon backup
ipv --start-daemon master --mcast-group 10.0.0.1
ipv --start-daemon master --mcast-group ff::zz
ipv --start-daemon master --mcast-group 2001:db8::1
ipv --start-daemon master --syncid 256
ipv --start-daemon master --syncid -1
ipv --start-daemon master --mcast-port 0
ipv --start-daemon master --mcast-ttl 256
ipv --start-daemon master --sync-maxlen 65508
ipv --start-daemon master --mcast-interface nosuchif
ipv --start-daemon master --mcast-interface averyveryverylongifname
ipv --start-daemon slave
ipv --stop-daemon slave
ipv --start-daemon
ipv --stop-daemon master --mcast-interface eth0
ipv --stop-daemon master --syncid 3
ipv --start-daemon master -n
ipv -L --daemon
# A real server of the other family (tunnel) while a sync daemon runs: the
# kernel refuses it (issue 21).
ipv -A -t [2001:db8::80]:80
ipv --start-daemon backup
ipv -a -t [2001:db8::80]:80 -r 10.8.1.1:80 -i
ipv --stop-daemon backup
ipv -a -t [2001:db8::80]:80 -r 10.8.1.1:80 -i
ipv -L -n
ipv -C
