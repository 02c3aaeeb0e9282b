# Firewall-mark services, IPv4 and IPv6, mark bounds, -6 placement.
ipv -A -f 1
ipv -A -f 2 -6 -s rr
ipv -A -f 3 -p 300 -M 255.255.255.0
ipv -A -f 4 -6 -p 60 -M 56
ipv -A -f 5 -M 64 -6 -p
ipv -A -f 2147483647
ipv -A -f 2147483648 -s rr
ipv -A -f 4294967295
ipv -A -f 4294967296
ipv -A -f 0
ipv -A -f -1
ipv -A -f abc
ipv -A -f 12x
ipv -A -6 -f 6
ipv -A -f 7 -o
ipv -A --fwmark-service 8 --ipv6 -s wlc
ipv -a -f 1 -r 10.2.0.1 -w 2
ipv -a -f 1 -r 10.2.0.2:8080 -m
ipv -a -f 2 -6 -r [2001:db8::20]:80
ipv -a -f 2 -6 -r 10.2.0.3
ipv -a -f 2 -6 -r 10.2.0.3 -i
ipv -a -f 1 -r [2001:db8::21] -i
ipv -L -n
ipv -L -n -f 2 -6
ipv -L -n -f 99
ipv -S -n
ipv -D -f 4 -6
ipv -D -f 4
