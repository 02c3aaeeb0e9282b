# Services of every protocol and family, ports by number and name, host names.
ipv -A -t 10.0.0.1:80
ipv -A -u 10.0.0.1:53 -s rr
ipv -A --sctp-service 10.0.0.1:5000 -s wrr
ipv -A -t [2001:db8::1]:443 -s lc
ipv -A -u [2001:db8::1]:53
ipv -A --sctp-service [2001:db8::1]:5000 -s sed
ipv -A -t 10.0.0.2:http -s nq
ipv -A -u 10.0.0.2:domain -s fo
ipv -A -t vip-one:https -s ovf
ipv -A -t 10.0.0.3:ssh -s mh
ipv -A -t 10.0.0.4:8080 -s lblc
ipv -A -t 10.0.0.5:8080 -s lblcr
ipv -A -t 10.0.0.6:8080 -s dh
ipv -A -t 10.0.0.7:8080 -s sh
ipv -A -t 10.0.0.8:8080 -s twos
ipv -A -t 10.0.0.9:8080 -s nosuchsched
ipv -A -t 10.0.0.9:8081 -s averyveryverylongschedulername
ipv -A -t 10.0.0.1:80
ipv -A --tcp-service=10.0.0.10:81 --scheduler=rr
ipv -A -t 10.0.0.11 -s rr
ipv -A -t 0.0.0.0:80
ipv -A -u 255.255.255.255:80
ipv -A -t 224.0.0.1:80
ipv -Ln
ipv -L -n --nosort
ipv -S -n
