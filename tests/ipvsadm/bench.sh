#!/bin/bash
# ipvsadm benchmark, Debian's 1.31 against ours, in the same kernel lab guest:
#     tests/kernel-lab/run --timeout 1500 tests/ipvsadm/bench.sh [OURS_BINARY] [SERVICES] [DESTS] [ROUNDS]
# Restores SERVICES (default 10000) virtual services with DESTS (default 5)
# real servers each through `ipvsadm -R`, lists (-L -n), saves (-S -n) and
# clears (-C), timing each step for both implementations, and prints a table
# with the ratio (Debian time / our time; above 1 means ours is faster).
# The two implementations alternate for ROUNDS (default 2) rounds and the
# best time of each step is kept, so load from other work on the host hits
# both sides alike.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
REF=${IPVSADM_REF:-/usr/sbin/ipvsadm}
OURS=${1:-${IPVSADM_OURS:-$REPO/target/release/ipvsadm}}
NSVC=${2:-10000}
NDEST=${3:-5}
ROUNDS=${4:-2}
if [ "${KERNEL_LAB:-}" != 1 ]; then
    echo "bench.sh: run me through tests/kernel-lab/run (needs kernel IPVS)" >&2
    exit 2
fi
[ -x "$REF" ] || { echo "bench.sh: reference $REF missing" >&2; exit 2; }
[ -x "$OURS" ] || { echo "bench.sh: $OURS missing (cargo build --release -p ipvsadm)" >&2; exit 2; }
modprobe -q ip_vs_wlc 2>/dev/null
W=$(mktemp -d /tmp/ipvsadm-bench.XXXXXX)
awk -v n="$NSVC" -v d="$NDEST" 'BEGIN {
    for (i = 0; i < n; i++) {
        vip = sprintf("10.%d.%d.%d:80", int(i / 65536) % 256 + 100, int(i / 256) % 256, i % 256)
        printf "-A -t %s -s wlc\n", vip
        for (j = 1; j <= d; j++)
            printf "-a -t %s -r 192.168.%d.%d:8080 -m -w %d\n", vip, j, i % 250 + 1, j
    }
}' >"$W/rules"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# our binary from the guest's tmpfs, like Debian's (its libraries are
# page-cached after the first run; 9p has no cache)
cp "$OURS" "$W/ipvsadm" && OURS=$W/ipvsadm
min() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 < a + 0) print b; else print a }'; }
# One timed cycle, run inside a fresh network namespace: IPVS state is per
# namespace, and a fresh one has an empty table AND an empty destination
# trash.  (After -C the kernel keeps deleted real servers in a trash list for
# a minute or two and every later add walks that list, which would charge
# whoever runs right after a flush.)
cat >"$W/cycle" <<'CYCLE'
#!/bin/bash
BIN=$1 RULES=$2 OUT=$3
now() { date +%s.%N; }
t0=$(now); "$BIN" -R <"$RULES"; rc1=$?; t1=$(now)
"$BIN" -L -n >"$OUT.list"; rc2=$?; t2=$(now)
"$BIN" -S -n >"$OUT.save"; rc3=$?; t3=$(now)
"$BIN" -C; rc4=$?; t4=$(now)
echo "$t0 $t1 $t2 $t3 $t4 $rc1$rc2$rc3$rc4"
CYCLE
chmod +x "$W/cycle"
declare -A T
for round in $(seq "$ROUNDS"); do
    for impl in ref ours; do
        if [ $impl = ref ]; then BIN=$REF; else BIN=$OURS; fi
        ns=ipvsbench-$impl-$round
        # (a real server is refused as "not unicast" while lo is down)
        ip netns add "$ns" && ip -n "$ns" link set lo up \
            || { echo "bench.sh: cannot create netns $ns" >&2; exit 1; }
        ip netns exec "$ns" "$W/cycle" "$BIN" "$W/rules" "$W/$impl" >"$W/times"
        read -r t0 t1 t2 t3 t4 rcs <"$W/times"
        ip netns del "$ns"
        sleep 10  # let the namespace teardown finish before the next cycle
        mv "$W/$impl.list" "$W/list.$impl"; mv "$W/$impl.save" "$W/save.$impl"
        T[$impl,restore]=$(min "${T[$impl,restore]:-}" "$(secs "$t0" "$t1")")
        T[$impl,list]=$(min "${T[$impl,list]:-}" "$(secs "$t1" "$t2")")
        T[$impl,save]=$(min "${T[$impl,save]:-}" "$(secs "$t2" "$t3")")
        T[$impl,clear]=$(min "${T[$impl,clear]:-}" "$(secs "$t3" "$t4")")
        [ "$rcs" = 0000 ] || echo "WARNING: $impl round $round exit codes $rcs"
    done
done
same=yes
cmp -s "$W/list.ref" "$W/list.ours" || same=NO
cmp -s "$W/save.ref" "$W/save.ours" || same=NO
lines=$(wc -l <"$W/rules")
echo "ipvsadm bench: $NSVC services x $NDEST real servers ($lines -R lines), kernel $(uname -r), best of $ROUNDS rounds"
echo "outputs of -L -n and -S -n identical between implementations: $same"
echo "each cycle in a fresh network namespace (empty table and destination trash)"
printf '%-22s %12s %12s %8s\n' "operation" "debian (s)" "ours (s)" "ratio"
for op in restore list save clear; do
    case $op in
        restore) label="-R (restore)" ;; list) label="-L -n (list)" ;;
        save) label="-S -n (save)" ;; clear) label="-C (clear)" ;;
    esac
    r=${T[ref,$op]} o=${T[ours,$op]}
    printf '%-22s %12s %12s %7sx\n' "$label" "$r" "$o" "$(awk -v r="$r" -v o="$o" 'BEGIN { if (o > 0) printf "%.1f", r / o; else print "inf" }')"
    case $op in restore | list)
        echo "SUMMARY|ipvsadm|$label, $NSVC services x $NDEST real servers (kernel lab)|$o s|Debian ipvsadm 1.31|$r s|$(awk -v r="$r" -v o="$o" 'BEGIN { if (r > 0) printf "%.2f", o / r; else print "-" }')" ;;
    esac
done
echo "SUMMARY-GUEST|$(uname -r)"
rm -rf "$W"
[ $same = yes ]
