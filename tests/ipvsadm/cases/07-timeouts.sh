# Protocol timeouts.
ipv -L --timeout
ipv --set 10 20 30
ipv -L --timeout
ipv --set 0 0 5
ipv -L --timeout
ipv --set 2678400 1 1
ipv --set 2678401 1 1
ipv --set 1 2
ipv --set
ipv --set a b c
ipv --set 1 2 3 4
ipv --set -1 2 3
ipv --set 5 -- 6 7
ipv --set 1 2 3 -n
ipv -L --timeout
