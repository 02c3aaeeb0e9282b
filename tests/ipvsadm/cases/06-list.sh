# Listing modifiers, single-service listing, conflicts, sort order quirk.
ipv -A -t 200.0.0.1:80 -s rr
ipv -A -t 10.5.0.1:80 -s rr
ipv -A -t 10.5.0.1:22
ipv -A -u 10.5.0.1:80
ipv -A -t 127.0.0.1:80 -p
ipv -A -f 10
ipv -A -f 9 -6
ipv -A -t [2001:db8::50]:80
ipv -A -t [fe80::1]:80
ipv -a -t 10.5.0.1:80 -r 10.5.1.3 -m
ipv -a -t 10.5.0.1:80 -r 200.5.1.1 -m
ipv -a -t 10.5.0.1:80 -r 10.5.1.1:81 -m
ipv -a -t 10.5.0.1:80 -r 10.5.1.1:80 -m
ipv -a -t 10.5.0.1:80 -r 10.5.1.2 -m -w 2
ipv -a -t 127.0.0.1:80 -r 127.0.0.2 -m
ipv -a -t [2001:db8::50]:80 -r [2001:db8::52] -m
ipv -a -t [2001:db8::50]:80 -r [2001:db8::51] -m
ipv
ipv -L
ipv -l
ipv -Ln
ipv -ln
ipv -L -n
ipv -L --numeric
ipv -L -n --stats
ipv -L -n --rate
ipv -L -n --stats --exact
ipv -L -n --rate -X
ipv -L -n --thresholds
ipv -L -n --persistent-conn
ipv -L -n --tun-info
ipv -L -n --nosort
ipv -L -n --sort
ipv -L -n --stats --rate
ipv -L -n --thresholds --persistent-conn
ipv -L -n -t 10.5.0.1:80
ipv -L -t 127.0.0.1:80
ipv -L -n -t 10.5.0.99:80
ipv -L -n -u 10.5.0.1:80 --stats
ipv -L -n -f 10
ipv -L -n -f 9 -6
ipv -L -n -t [2001:db8::50]:80
ipv -L -n -c
ipv -L -c -n --persistent-conn
ipv -L -n -c --stats
ipv -L -n -c -t 10.5.0.1:80
ipv -L --timeout --stats
ipv -L --timeout --persistent-conn
ipv -L --daemon --persistent-conn
ipv -L --timeout --daemon
ipv -L -n --syncid 3
ipv -L -s rr
ipv -L -n -n
ipv -L -n --stats --stats
ipv -S
ipv -S -n
ipv -S -n --stats
ipv -S -c
