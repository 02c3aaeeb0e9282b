#!/bin/bash
# Side by side: nanny's http check (with digest) and keepalived's HTTP_GET
# on the same real server, same settings, against the real IPVS table.
# Runs INSIDE the kernel lab:
#     tests/kernel-lab/run tests/bench/checks-keepalived.sh [NANNY] [CYCLES]
# Each cycle: the page changes (digest mismatch), comes back, the server
# dies, comes back. For each step it records when each tool's entry left or
# entered the table (polled every 20 ms) and prints the detection times and
# their ratio. Fails only if the two disagree on a decision (one removes or
# re-adds and the other does not within 20 s); the times are figures, not
# assertions. Skipped (exit 0, with a message) when keepalived is missing.
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "checks-keepalived.sh: run me through tests/kernel-lab/run" >&2; exit 2; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NANNY=${1:-$REPO/target/release/nanny}
[ -x "$NANNY" ] || NANNY=$REPO/target/debug/nanny
CYCLES=${2:-5}
KA=$(command -v keepalived || echo /usr/sbin/keepalived)
if [ ! -x "$KA" ]; then echo "SKIP: keepalived not installed (apt-get install keepalived)"; exit 0; fi
IPVSADM=/usr/sbin/ipvsadm
BUSYBOX=$(command -v busybox || echo /bin/busybox)
VIP=10.0.1.100 RIP=10.0.2.2
WORK=$(mktemp -d /tmp/checks-ka.XXXXXX)
HTTPD= NPID= KPID=
FAILS=0
cleanup() {
    [ -n "$NPID" ] && kill "$NPID" 2>/dev/null && wait "$NPID" 2>/dev/null
    [ -n "$KPID" ] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
    [ -n "$HTTPD" ] && kill "$HTTPD" 2>/dev/null
    $IPVSADM -C 2>/dev/null
    ip netns del lab-rs1 2>/dev/null; ip link del lab-r1 2>/dev/null; ip link del lab-vip 2>/dev/null
    rm -rf "$WORK"
}
die() { echo "FAIL: $*"; cleanup; exit 1; }
now() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }   # ms, no process
present() { $IPVSADM -S -n | grep -q -- "-t $VIP:$1 -r $RIP:80 "; }

ip link add lab-vip type dummy && ip link set lab-vip up && ip addr add $VIP/32 dev lab-vip || die VIP
ip netns add lab-rs1 || die netns
ip link add lab-r1 type veth peer name eth0 netns lab-rs1 || die veth
ip addr add 10.0.2.1/24 dev lab-r1 && ip link set lab-r1 up || die "veth up"
ip -n lab-rs1 link set lo up && ip -n lab-rs1 addr add $RIP/24 dev eth0 && ip -n lab-rs1 link set eth0 up || die "ns addr"
mkdir -p "$WORK/www"; echo healthy > "$WORK/www/health.html"
start_httpd() { ip netns exec lab-rs1 "$BUSYBOX" httpd -f -p 80 -h "$WORK/www" & HTTPD=$!; }
start_httpd
DIGEST=$(md5sum < "$WORK/www/health.html" | cut -c1-32)

# keepalived: checker only, service on port 90. delay_loop 1, connect_timeout
# 1, retry 0: down at the first failure, up at the first success.
cat > "$WORK/keepalived.conf" <<EOC
global_defs {
    router_id lab
}
virtual_server $VIP 90 {
    delay_loop 1
    lb_algo wlc
    lb_kind NAT
    protocol TCP
    real_server $RIP 80 {
        weight 1
        HTTP_GET {
            url {
                path /health.html
                digest $DIGEST
            }
            connect_timeout 1
            retry 0
            delay_before_retry 1
        }
    }
}
EOC
"$KA" -C -n -l -f "$WORK/keepalived.conf" -p "$WORK/ka.pid" -c "$WORK/kac.pid" > "$WORK/ka.log" 2>&1 &
KPID=$!
# nanny: service on port 91, the same settings.
$IPVSADM -A -t $VIP:91 -s wlc
"$NANNY" -n -c --lvs -h $RIP -p 91 -r 80 -V $VIP -t 1 -w 1 -M m -I $IPVSADM \
    --check http --http-path /health.html --http-digest "$DIGEST" --io-timeout 1 --rise 1 > "$WORK/nanny.log" 2>&1 &
NPID=$!

# wait_state PORT want(1|0) T0 -> prints ms since T0, or "-"
wait_state() {
    local end=$(( $3 + 8000 )) t
    while :; do
        t=$(now)
        if present "$1"; then [ "$2" = 1 ] && { echo $((t - $3)); return; }
        else [ "$2" = 0 ] && { echo $((t - $3)); return; }; fi
        [ "$t" -gt "$end" ] && { echo -; return; }
        sleep 0.02
    done
}
# Which of the two services hold the real server, read from /proc/net/ip_vs
# with bash builtins only (no process per poll: the resolution stays ~20 ms
# even on a busy guest). Sets KA_IN and NA_IN to 1 or 0.
VIPHEX=0A000164 RSHEX=0A000202:0050
mkfifo "$WORK/nap" && exec {NAP}<>"$WORK/nap" || die "fifo"   # read -t on it: a pause without a process
poll_table() {
    local -a lines; local l svc=
    KA_IN=0 NA_IN=0
    mapfile -t lines < /proc/net/ip_vs
    for l in "${lines[@]}"; do
        case "$l" in
            "TCP  $VIPHEX:005A"*) svc=ka ;;
            "TCP  $VIPHEX:005B"*) svc=na ;;
            TCP*|UDP*|FWM*) svc= ;;
            *"-> $RSHEX "*) [ "$svc" = ka ] && KA_IN=1; [ "$svc" = na ] && NA_IN=1 ;;
        esac
    done
}
step() {  # NAME WANT ACTION...
    local name=$1 want=$2; shift 2
    sleep 0.$((RANDOM % 9 + 1))
    "$@"
    local t0=$(( ${EPOCHREALTIME/./} / 1000 ))
    # Both polled in one loop so neither waits for the other; a tool that
    # has not decided after 20 s is taken to disagree.
    local ka=- na=- end=$(( t0 + 20000 )) t
    while [ "$ka" = - ] || [ "$na" = - ]; do
        poll_table; t=$(( ${EPOCHREALTIME/./} / 1000 ))
        [ "$ka" = - ] && [ "$KA_IN" = "$want" ] && ka=$((t - t0))
        [ "$na" = - ] && [ "$NA_IN" = "$want" ] && na=$((t - t0))
        [ "$t" -gt "$end" ] && break
        read -r -t 0.02 -u "$NAP" || true   # a 20 ms pause without a process
    done
    echo "$name keepalived=$ka nanny=$na" | tee -a "$WORK/results"
    if [ "$ka" = - ] || [ "$na" = - ]; then
        if [ "$ka" != "$na" ]; then echo "FAIL: $name: keepalived $ka, nanny $na (different decisions)"; FAILS=$((FAILS + 1)); fi
    fi
}
page_bad() { echo changed > "$WORK/www/health.html"; }
page_good() { echo healthy > "$WORK/www/health.html"; }
kill_httpd() { kill $HTTPD; wait $HTTPD 2>/dev/null; HTTPD=; }

t0=$(now)
echo "startup: keepalived=$(wait_state 90 1 "$t0") nanny=$(wait_state 91 1 "$t0") (ms until both entries present)"
for c in $(seq "$CYCLES"); do
    step digest-mismatch 0 page_bad
    step page-restored 1 page_good
    step server-killed 0 kill_httpd
    step server-restarted 1 start_httpd
done
echo "--- detection times in ms (keepalived, nanny, ratio nanny/keepalived; mean over $CYCLES cycles)"
awk '{ split($2, k, "="); split($3, n, "="); if (k[2] != "-" && n[2] != "-") { sk[$1] += k[2]; sn[$1] += n[2]; c[$1]++ } }
     END { for (s in c) printf "%-18s keepalived %6.0f  nanny %6.0f  ratio %.2f\n", s, sk[s]/c[s], sn[s]/c[s], (sk[s] ? sn[s]/sk[s] : 0) }' "$WORK/results" | sort
KAV=$("$KA" --version 2>&1 | head -n1 | awk '{print $2}')
# Summary rows for tests/bench/run-all (docs/BENCHMARKS.md).
awk -v kav="$KAV" -v cy="$CYCLES" '{ split($2, k, "="); split($3, n, "="); if (k[2] != "-" && n[2] != "-") { sk[$1] += k[2]; sn[$1] += n[2]; c[$1]++ } }
     END { for (s in c) printf "SUMMARY|nanny http check|%s, table change (mean of %d, 1 s checks)|%.2f s|keepalived %s HTTP_GET|%.2f s|%.2f\n", s, c[s], sn[s]/c[s]/1000, kav, sk[s]/c[s]/1000, (sk[s] ? sn[s]/sk[s] : 0) }' "$WORK/results" | sort
echo "--- keepalived log (tail)"; tail -n 8 "$WORK/ka.log"
echo "--- nanny log (tail)"; tail -n 8 "$WORK/nanny.log"
cleanup
if [ $FAILS = 0 ]; then echo "checks vs keepalived: SAME DECISIONS"; exit 0; fi
echo "checks vs keepalived: $FAILS disagreement(s)"; exit 1
