# Persistence: default timeout, bounds, netmasks, engines, ops, scheduler flags.
ipv -A -t 10.1.0.1:80 -p
ipv -A -t 10.1.0.2:80 -p 1
ipv -A -t 10.1.0.3:80 -p 2678400
ipv -A -t 10.1.0.4:80 -p 2678401
ipv -A -t 10.1.0.4:80 -p 0
ipv -A -t 10.1.0.4:80 -p abc
ipv -A -t 10.1.0.4:80 -p -s rr
ipv -A -t 10.1.0.5:80 -p 600 -M 255.255.255.0
ipv -A -t 10.1.0.6:80 -p -M 255.255.0.0 -s sh
ipv -A -t 10.1.0.7:80 -p60 -M 255.255.255.255
ipv -A -t 10.1.0.8:80 -p 60 -M 999.1.1.1
ipv -A -t 10.1.0.8:80 -M 255.255.255.0
ipv -A -t 10.1.0.9:0 -p 30
ipv -A -t 10.1.0.10:0
ipv -A -t [2001:db8::10]:80 -p 100 -M 64
ipv -A -t [2001:db8::11]:80 -p -M 128
ipv -A -t [2001:db8::12]:80 -p -M 0
ipv -A -t [2001:db8::12]:80 -p -M 129
ipv -A -t [2001:db8::12]:80 -p -M 48abc
ipv -A -u 10.1.0.20:5060 -p 60 --pe sip
ipv -A -u 10.1.0.21:5060 --pe sip
ipv -A -u 10.1.0.22:5060 -p 60 --pe nosuchpe
ipv -A -u 10.1.0.23:53 -o
ipv -A -t 10.1.0.24:53 -o
ipv -A -u 10.1.0.25:53 --ops -p 10
ipv -A -t 10.1.0.30:80 -s sh -b sh-fallback,sh-port
ipv -A -t 10.1.0.31:80 -s mh -b mh-fallback
ipv -A -t 10.1.0.32:80 -s mh -b mh-port,mh-fallback
ipv -A -t 10.1.0.33:80 -b flag-1,flag-2,flag-3
ipv -A -t 10.1.0.34:80 -s rr -b flag-2
ipv -A -t 10.1.0.35:80 -b sh-port
ipv -A -t 10.1.0.35:80 -s sh -b mh-port
ipv -A -t 10.1.0.35:80 -s sh -b bogus
ipv -A -t 10.1.0.36:80 -b flag-1 -s sh
ipv -L -n
ipv -L
ipv -S -n
ipv -S
