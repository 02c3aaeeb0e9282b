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
