# Edits and deletes: -E is a full replace, missing objects, -e/-d.
ipv -A -t 10.4.0.1:80 -s rr -p 120 -M 255.255.255.0 -b flag-1
ipv -a -t 10.4.0.1:80 -r 10.4.1.1 -m -w 5 -x 100 -y 10
ipv -a -t 10.4.0.1:80 -r 10.4.1.2 -w 3
ipv -L -n
ipv -E -t 10.4.0.1:80
ipv -L -n
ipv -E -t 10.4.0.1:80 -s sh -b sh-port -p
ipv -E -t 10.4.0.2:80 -s rr
ipv -E -t 10.4.0.1:80 -s nosuch
ipv -e -t 10.4.0.1:80 -r 10.4.1.1 -w 9
ipv -L -n --thresholds
ipv -e -t 10.4.0.1:80 -r 10.4.1.1 -m -w 9 -x 5 -y 6
ipv -e -t 10.4.0.1:80 -r 10.4.1.9 -w 1
ipv -e -t 10.4.0.9:80 -r 10.4.1.1 -w 1
ipv -d -t 10.4.0.1:80 -r 10.4.1.2
ipv -d -t 10.4.0.1:80 -r 10.4.1.2
ipv -d -t 10.4.0.1:80 -r 10.4.1.1:80
ipv -d -t 10.4.0.9:80 -r 10.4.1.1
ipv -d -t 10.4.0.1:80 -r 10.4.1.1 -w 3
ipv -L -n
ipv -D -t 10.4.0.1:80
ipv -D -t 10.4.0.1:80
ipv -D -t 10.4.0.1:80 -s rr
ipv -A -t 10.4.0.3:80
ipv -A -u 10.4.0.3:80
ipv -D -u 10.4.0.3:80
ipv -C
ipv -C -n
ipv -L -n
# IPv6 (issue 21): the -a/-e/-d forms nanny runs for an IPv6 service and
# an IPv6 mark service (DR keeps the service's port for -e and -d).
ipv -A -t [2001:db8::40]:80 -s rr -p 60 -M 64
ipv -a -t [2001:db8::40]:80 -r [2001:db8::41]:8080 -g -w 1
ipv -e -t [2001:db8::40]:80 -r [2001:db8::41]:80 -g -w 0
ipv -L -n
ipv -d -t [2001:db8::40]:80 -r [2001:db8::41]:80
ipv -A -f 5 -6 -s rr
ipv -a -f 5 -6 -r [2001:db8::41]:80 -m -w 1
ipv -e -f 5 -6 -r [2001:db8::41]:80 -m -w 3
ipv -L -n
ipv -d -f 5 -6 -r [2001:db8::41]:80
ipv -a -t [2001:db8::40]:80 -r 10.4.1.1:80 -i -w 1
ipv -L -n
ipv -C
