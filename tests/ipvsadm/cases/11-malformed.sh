# Malformed command lines: popt errors, no command, bad addresses and numbers.
ipv -t 10.8.0.1:80
ipv -s rr
ipv foo
ipv foo -L -n
ipv -
ipv --
ipv -- -L
ipv -L -- -n
ipv --bogus
ipv -L --bogus
ipv -Lq
ipv -L -q
ipv -A -t
ipv -A -t 10.8.0.1:80 -s
ipv -a -t 10.8.0.1:80 -r
ipv --start-daemon
ipv -L -A
ipv -L -h
ipv -L -v
ipv -LA
ipv -A -L
ipv -A -t 10.8.0.1:80 --start-daemon master
ipv -C -C
ipv -C -Z
ipv -L extra
ipv -A -t 10.8.0.1:80 extra words
ipv -A -t 10.8.0.1:80 -s=rr
ipv -A -t=10.8.0.2:80
ipv -A --tcp-service=10.8.0.3:80 --persistent=
ipv -A --tcp-service=10.8.0.3:80 --persistent=30
ipv -A -t10.8.0.4:80 -srr -p20
ipv -A -t 10.8.0.5:80 -p -- 20
ipv -Ln=
ipv -L=n
ipv --list=foo -n
ipv -A -t 10.8.0.1:99999
ipv -A -t 10.8.0.1:-1
ipv -A -t 10.8.0.1:+80
ipv -A -t 10.8.0.1:nosuchservice
ipv -A -t 10.8.0.1:
ipv -A -t 10.8.0.1:0x50
ipv -A -t "10.8.0.1: 81"
ipv -A -t 10
ipv -A -t 10:80
ipv -A -t 10.8:80
ipv -A -t 0x0a080001:82
ipv -A -t 1.2.3.256:80
ipv -A -t no-such-host.invalid:80
ipv -A -t ""
ipv -A -t [2001:db8::80]
ipv -A -t [2001:db8::80]:
ipv -A -t [2001:db8::80]x80
ipv -A -t [2001:db8::80:80
ipv -A -t 2001:db8::80
ipv -A -t [10.8.0.6]:80
ipv -A -t [::ffff:10.8.0.7]:80
ipv -a -t 10.8.0.1:80 -r 10.8.1.1:http
ipv -a -r 10.8.1.1:http -t 10.8.0.1:80
ipv -a -t 10.8.0.1:80 -r 12345
ipv -a -t 10.8.0.1:80 -r 10.8.1.1:70000
ipv -a -t 10.8.0.1:80 -r 10.8.1.1 -w " 5"
ipv -a -t 10.8.0.1:80 -r 10.8.1.2 -w "5 "
ipv -a -t 10.8.0.1:80 -r 10.8.1.3 -w +6
ipv -a -t 10.8.0.1:80 -r 10.8.1.4 -w 07
ipv -a -t 10.8.0.1:80 -r 10.8.1.5 -w 99999999999999999999
ipv -a -t 10.8.0.1:80 -r 10.8.1.6 -w ""
ipv -A -t 10.8.0.20:80 -s ""
ipv -a -t 10.8.0.1:80
ipv -d -t 10.8.0.1:80
ipv -D
ipv -E
ipv -Z -t
ipv -A -t 10.8.0.21:80 -r 10.8.1.1
ipv -A -t 10.8.0.21:80 -w 1
ipv -a -t 10.8.0.1:80 -r 10.8.1.7 -s rr
ipv -a -t 10.8.0.1:80 -r 10.8.1.7 -p
ipv -R -n
ipv -S -t 10.8.0.1:80
ipv -L -n -t 10.8.0.1:80 -f 3
ipv -A -t 10.8.0.22:80 -f 3
ipv -A -t 10.8.0.23:80 -M 255.255.255.0 -M 255.255.0.0 -p
ipv -A -t 10.8.0.24:80 -p 5 -p 6
ipv -a -t 10.8.0.1:80 -r 10.8.1.8 -m -g
ipv -X
ipv -v
ipv --version
ipv -v -L
ipvh -h
ipvh --help
ipvh -h -L
ipv -Ln -S
ipv -6
ipv -L -n -6
ipv -A -t 10.8.0.25:80 -6
ipv -S -n
