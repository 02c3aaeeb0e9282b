# Zeroing counters.
ipv -A -t 10.6.0.1:80
ipv -A -f 6
ipv -Z
ipv -Z -t 10.6.0.1:80
ipv -Z -f 6
ipv -Z -t 10.6.0.2:80
ipv -Z -t 0.0.0.0:0
ipv -Z -n
ipv -Z -t 10.6.0.1:80 -r 10.6.1.1
ipv -L -n --stats
# IPv6 (issue 21).
ipv -A -t [2001:db8::60]:80
ipv -A -f 6 -6
ipv -Z -t [2001:db8::60]:80
ipv -Z -f 6 -6
ipv -L -n --stats
