# Sort order with addresses far apart (the unsigned-subtraction comparator
# is not transitive there; glibc's merge sort decides), IPv6, fwmarks, ports.
ipv -R <<'IN'
-A -t 10.0.0.1:80
-A -t 200.0.0.1:80
-A -t 128.0.0.1:80
-A -t 1.0.0.1:80
-A -t 255.255.255.254:80
-A -t 127.0.0.1:80
-A -t 129.0.0.1:80
-A -t 10.0.0.1:8080
-A -t 10.0.0.1:443
-A -u 10.0.0.1:80
-A -u 200.0.0.1:80
-A --sctp-service 10.0.0.1:80
-A -t [2001:db8::1]:80
-A -t [fe80::1]:80
-A -t [::1]:80
-A -t [ff00::1]:80
-A -t [8000::1]:80
-A -f 3
-A -f 1
-A -f 2147483647
-A -f 2147483648
-A -f 4294967295
-A -f 2 -6
-a -t 10.0.0.1:80 -r 10.1.0.1 -m
-a -t 10.0.0.1:80 -r 200.1.0.1 -m
-a -t 10.0.0.1:80 -r 128.1.0.1 -m
-a -t 10.0.0.1:80 -r 1.1.0.1 -m
-a -t 10.0.0.1:80 -r 250.1.0.1 -m
-a -t 10.0.0.1:80 -r 129.1.0.1:81 -m
-a -t 10.0.0.1:80 -r 129.1.0.1:79 -m
-a -t 10.0.0.1:80 -r 64.1.0.1 -m
-a -t 10.0.0.1:80 -r 192.1.0.1 -m
-a -t [2001:db8::1]:80 -r [2001:db8::9] -m
-a -t [2001:db8::1]:80 -r [fe80::9] -m
-a -t [2001:db8::1]:80 -r [::9] -m
-a -t [2001:db8::1]:80 -r [9000::9] -m
-a -t [2001:db8::1]:80 -r 10.1.0.1 -i
IN
ipv -L -n
ipv -L -n --nosort
ipv -S -n
ipv -L -n -t 10.0.0.1:80 --nosort
