# Name resolution in listings and saves (hosts file entries, /etc/services).
ipv -A -t vip-one:http -s rr
ipv -A -u vip-one:domain
ipv -A -t 127.0.0.1:https -p
ipv -A -t 10.10.0.1:12345
ipv -A -t [::1]:80
ipv -a -t vip-one:http -r real-two:www -m
ipv -a -t vip-one:http -r 127.0.0.1:8080 -m
ipv -a -t vip-one:http -r 10.10.1.1 -m
ipv -a -u vip-one:domain -r real-two -m
ipv -a -t [::1]:80 -r [::1]:8080 -m
ipv
ipv -L
ipv -L --stats
ipv -L -t vip-one:http
ipv -S
ipv -S -n
