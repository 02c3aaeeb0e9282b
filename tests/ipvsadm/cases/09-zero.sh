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
