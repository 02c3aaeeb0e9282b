# Real servers: forwarding methods, weights, thresholds, ports, tunnels.
ipv -A -t 10.3.0.1:80 -s wrr
ipv -A -t [2001:db8::30]:80
ipv -a -t 10.3.0.1:80 -r 10.3.1.1
ipv -a -t 10.3.0.1:80 -r 10.3.1.2:8080 -m -w 0
ipv -a -t 10.3.0.1:80 -r 10.3.1.3:8080 -g -w 65535
ipv -a -t 10.3.0.1:80 -r 10.3.1.4:8080 -i -w 7
ipv -a -t 10.3.0.1:80 -r 10.3.1.5 -w 2147483648
ipv -a -t 10.3.0.1:80 -r 10.3.1.13 -w 2147483647
ipv -a -t 10.3.0.1:80 -r 10.3.1.5 -w -1
ipv -a -t 10.3.0.1:80 -r 10.3.1.5 -w abc
ipv -a -t 10.3.0.1:80 -r 10.3.1.5 -x 100 -y 50 -m
ipv -a -t 10.3.0.1:80 -r 10.3.1.6 -x 10 -y 50 -m
ipv -a -t 10.3.0.1:80 -r 10.3.1.7 -x 2147483647 -y 0
ipv -a -t 10.3.0.1:80 -r 10.3.1.8 -x 2147483648
ipv -a -t 10.3.0.1:80 -r 10.3.1.8 -y -1
ipv -a -t 10.3.0.1:80 -r 10.3.1.1
ipv -a -t 10.3.0.1:80 -r real-two:http -m
ipv -a -t 10.3.0.1:80 -r 10.3.1.9:https -m
ipv -a -t 10.3.0.1:80 -r 10.3.1.10 -m -g
ipv -a -t 10.9.9.9:80 -r 10.3.1.11
ipv -a -t 10.3.0.1:80 -r [2001:db8::31]:80 -m
ipv -a -t 10.3.0.1:80 -r [2001:db8::31]:80 -i
ipv -a -t [2001:db8::30]:80 -r [2001:db8::32] -m -w 4
ipv -a -t [2001:db8::30]:80 -r [2001:db8::33]:8080 -g
ipv -a -t [2001:db8::30]:80 -r 10.3.1.12 -i
ipv -a -t [2001:db8::30]:80 -r 2001:db8::34 -m
ipv -a -t 10.3.0.1:80 -r 10.3.2.1 -i --tun-type ipip
ipv -a -t 10.3.0.1:80 -r 10.3.2.2 -i --tun-type gue --tun-port 6080
ipv -a -t 10.3.0.1:80 -r 10.3.2.3 -i --tun-type gue --tun-port 6080 --tun-csum
ipv -a -t 10.3.0.1:80 -r 10.3.2.4 -i --tun-type gue --tun-port 6081 --tun-remcsum
ipv -a -t 10.3.0.1:80 -r 10.3.2.5 -i --tun-type gre --tun-csum
ipv -a -t 10.3.0.1:80 -r 10.3.2.6 -i --tun-type gre --tun-nocsum
ipv -a -t 10.3.0.1:80 -r 10.3.2.7 -i --tun-type gre --tun-remcsum
ipv -a -t 10.3.0.1:80 -r 10.3.2.7 -i --tun-type gue
ipv -a -t 10.3.0.1:80 -r 10.3.2.7 -i --tun-type gue --tun-port 1 --tun-csum --tun-nocsum
ipv -a -t 10.3.0.1:80 -r 10.3.2.7 -i --tun-type ipip --tun-port 5
ipv -a -t 10.3.0.1:80 -r 10.3.2.7 -i --tun-type vxlan
ipv -a -t 10.3.0.1:80 -r 10.3.2.7 -i --tun-type gue --tun-port 0
ipv -a -t 10.3.0.1:80 -r 10.3.2.7 -m --tun-type gre
ipv -a -t 10.3.0.1:80 -r 10.3.2.7 --tun-csum
ipv -L -n
ipv -L -n --tun-info
ipv -L -n --thresholds
ipv -L -n --persistent-conn
ipv -L -n --nosort
ipv -S -n
