# -R: one command per line, "ipvsadm" words dropped, errors, round trips.
ipv -R <<'IN'
-A -t 10.7.0.1:80 -s rr
ipvsadm -a -t 10.7.0.1:80 -r 10.7.1.1 -m

	-a	-t	10.7.0.1:80	-r	10.7.1.2	-m	-w	2
-A -t 10.7.0.1:80
-a -t 10.7.0.9:80 -r 10.7.1.1
-A -u 10.7.0.2:53 -s sh -b sh-port
-L -n
-A -f 70 -6
-a -f 70 -6 -r [2001:db8::70] -w 3
IN
ipv -S -n
S=$(ipvout -S -n)
ipv -C
ipv -R <<<"$S"
ipv -S -n
ipv -R <<'IN'
-A -t 10.7.0.3:80
# a comment line
-A -t 10.7.0.4:80
IN
ipv -R <<'IN'
-A -t 10.7.0.5:80
-A -t 10.7.0.6:80 -w 3
-A -t 10.7.0.7:80
IN
ipv -R <<'IN'
-A -t 10.7.0.8:80 --bogus
-A -t 10.7.0.10:80
IN
ipv -R <<'IN'
-A -t 10.7.0.11:80
-A -t 10.7.0.11:80
IN
ipv -R <<'IN'
-A -t 10.7.0.12:80
-R
-A -t 10.7.0.13:80
IN
ipv -R <<'IN'
-A -t 10.7.0.14:80
-v
-A -t 10.7.0.15:80
IN
ipv -R <<'IN'
--set 11 22 33
--start-daemon master
-Z
-E -t 10.7.0.1:80 -s wlc
-e -t 10.7.0.1:80 -r 10.7.1.1 -w 9 -m
-d -t 10.7.0.1:80 -r 10.7.1.2
-D -u 10.7.0.2:53
IN
ipv -R -n
ipv -R <<'IN'
IN
ipv -R <<'IN'
ipvsadm
-C
IN
ipv -S -n
