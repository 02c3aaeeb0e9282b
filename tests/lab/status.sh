#!/bin/bash
# Seeing and steering a running director (issue 20); runs INSIDE the kernel
# lab with our ipvsadm (the kernel's counters come over netlink):
#     tests/kernel-lab/run tests/lab/status.sh [TARGET_DIR [IPVSADM]]
# A NAT director with two services (web: rs1 rs2; app: rs3). lvs's status
# JSON against `ipvsadm -L -n --stats --exact`; a drain keeps a held
# connection and sets weight 0; SIGHUP and a restart of lvs keep it; the
# drain ends when the connections are gone, or at its deadline; weight,
# disable and enable of a server and a service. Then pulse runs the
# director: `pulse --status`, metrics checked by promtool and scraped by
# a real Prometheus.
set -u
[ "${KERNEL_LAB:-}" = 1 ] || { echo "status.sh: run me through tests/kernel-lab/run" >&2; exit 2; }

REPO=${KERNEL_LAB_REPO:-$(pwd)}
BIN=${1:-$REPO/target/debug}
IPVSADM=${2:-${LAB_IPVSADM:-$BIN/ipvsadm}}
BUSYBOX=$(command -v busybox || echo /bin/busybox)
LVS=$BIN/lvs
PULSE=$BIN/pulse
NANNY=$BIN/nanny
WORK=$(mktemp -d /tmp/statuslab.XXXXXX)
CF=$WORK/lvs.cf
LOG=$WORK/lvs.log
CTL=$WORK/lvs.ctl
OVR=$WORK/state/overrides
FAILS=0

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
cleanup() {
    [ -n "${LVSPID:-}" ] && kill -9 "$LVSPID" 2>/dev/null
    [ -n "${PULSEPID:-}" ] && kill -9 "$PULSEPID" 2>/dev/null
    [ -n "${PROMPID:-}" ] && kill -9 "$PROMPID" 2>/dev/null
    pkill -9 -f "$NANNY" 2>/dev/null
    pkill -9 -x lvs 2>/dev/null
    pkill -f "httpd -f -p 80 -h $WORK" 2>/dev/null
    "$IPVSADM" -C 2>/dev/null
    for ns in sc sr1 sr2 sr3; do ip netns del "$ns" 2>/dev/null; done
}
trap cleanup EXIT
for b in "$LVS" "$NANNY" "$PULSE" "$IPVSADM"; do
    [ -x "$b" ] || { echo "FAIL: $b missing (cargo build)"; exit 1; }
done

veth_ns() {  # ns host-if host-ip ns-ip
    ip netns add "$1" && ip link add "$2" type veth peer name eth0 netns "$1" &&
    ip addr add "$3/24" dev "$2" && ip link set "$2" up && ip -n "$1" link set lo up &&
    ip -n "$1" addr add "$4/24" dev eth0 && ip -n "$1" link set eth0 up &&
    ip -n "$1" route add default via "$3"
}
veth_ns sc sc0 10.0.1.1 10.0.1.2 && veth_ns sr1 sr10 10.0.2.1 10.0.2.2 &&
veth_ns sr2 sr20 10.0.3.1 10.0.3.2 && veth_ns sr3 sr30 10.0.4.1 10.0.4.2 || { echo "FAIL: topology"; exit 1; }
ip addr add 10.0.1.100/32 dev sc0 && ip addr add 10.0.1.101/32 dev sc0
echo 1 >/proc/sys/net/ipv4/ip_forward
serve() {  # ns name
    mkdir -p "$WORK/$2"; echo "$2" >"$WORK/$2/index.html"
    ip netns exec "$1" "$BUSYBOX" httpd -f -p 80 -h "$WORK/$2" &
}
serve sr1 rs1; serve sr2 rs2; serve sr3 rs3
fetch() { ip netns exec sc curl -s --max-time 3 "http://$1/"; }
# A client that connects, holds the connection idle until the file GO
# exists (at most 60 s), then asks for the page over it and writes the
# answer's body to OUT.
hold() {  # vip go out
    ip netns exec sc python3 - "$@" 2>/dev/null <<'PY' &
import os, socket, sys, time
vip, go, out = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.create_connection((vip, 80), timeout=5)
end = time.time() + 60
while not os.path.exists(go) and time.time() < end:
    time.sleep(0.1)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
open(out, "w").write(data.decode(errors="replace").split("\r\n\r\n", 1)[-1])
PY
}
table() { "$IPVSADM" -S -n; }
has() { table | grep -qF -- "$1"; }
hasnt() { ! table | grep -qF -- "$1"; }
wait_until() {  # seconds description command...
    local secs=$1 what=$2; shift 2
    local end=$(( $(date +%s%N) + secs * 1000000000 ))
    while [ "$(date +%s%N)" -lt "$end" ]; do "$@" && return 0; sleep 0.1; done
    return 1
}
ask() { "$LVS" --control "$CTL" "$@"; }
json() { ask --status --json; }
# jq-like: python expression over the status JSON (d)
q() { json | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
srv() {  # service server field-expression
    q "[r for s in d['lvs']['services'] if s['name']=='$1' for r in s['servers'] if r['name']=='$2'][0]$3"
}

cat >"$CF" <<CF
primary = 10.0.1.1
service = lvs
backup_active = 0
network = nat
ipvsadm = $IPVSADM
virtual web {
    active = 1
    address = 10.0.1.100 sc0:1
    port = 80
    send = "GET / HTTP/1.0\r\n\r\n"
    expect = "HTTP"
    scheduler = rr
    client_monitor = $NANNY
    timeout = 1
    reentry = 2
    server rs1 {
        address = 10.0.2.2
        active = 1
        weight = 1
    }
    server rs2 {
        address = 10.0.3.2
        active = 1
        weight = 1
    }
}
virtual app {
    active = 1
    address = 10.0.1.101 sc0:2
    port = 80
    scheduler = rr
    client_monitor = $NANNY
    timeout = 1
    reentry = 2
    server rs3 {
        address = 10.0.4.2
        active = 1
        weight = 1
    }
}
CF

start_lvs() {
    "$LVS" -n -c "$CF" --pidfile "$WORK/lvs.pid" --control "$CTL" --overrides "$OVR" >>"$LOG" 2>&1 &
    LVSPID=$!
    wait_until 30 "control socket" test -S "$CTL"
}
start_lvs
if wait_until 30 "table" sh -c "$IPVSADM -S -n | grep -q 10.0.2.2:80 && $IPVSADM -S -n | grep -q 10.0.3.2:80 && $IPVSADM -S -n | grep -q 10.0.4.2:80"; then
    pass "lvs programmed both services and the nannies added the three real servers"
else
    fail "start-up table"; table; cat "$LOG"
fi
[ "$(stat -c %a "$CTL")" = 600 ] && pass "the control socket is mode 0600" || fail "control socket mode $(stat -c %a "$CTL")"

# Every server reports its checks (the nannies run as daemons: only the
# report socket tells lvs).
if wait_until 15 "reports" sh -c "$LVS --control $CTL --status --json | python3 -c \"import json,sys; d=json.load(sys.stdin); sys.exit(0 if all(r['check']['state']=='up' and r['check']['last'] and r['check']['last']['ok'] for s in d['lvs']['services'] for r in s['servers']) else 1)\""; then
    pass "every real server's check state is up, with its last result"
else fail "check states"; json; fi

for _ in 1 2 3 4 5 6; do fetch 10.0.1.100 >/dev/null; done
fetch 10.0.1.101 >/dev/null; fetch 10.0.1.101 >/dev/null
# The kernel hands out the counters its estimator last summed (every 2 s):
# two reads a moment apart may straddle a summing; after one, both agree.
sleep 2.5
# The JSON's counters and weights against ipvsadm's, read back to back.
ask --status --json --full >"$WORK/s.json"; "$IPVSADM" -L -n --stats --exact >"$WORK/stats.txt"; "$IPVSADM" -S -n >"$WORK/save.txt"
json >"$WORK/brief.json"
if python3 - "$WORK/s.json" "$WORK/stats.txt" "$WORK/save.txt" "$WORK/brief.json" <<'PY'
import json, sys, re
d = json.load(open(sys.argv[1]))
stats = {}
cur = None
for line in open(sys.argv[2]):
    w = line.split()
    if w and w[0] in ("TCP", "UDP"):
        cur = w[1]; stats[(cur, None)] = [int(x) for x in w[2:7]]
    elif w and w[0] == "->" and cur and re.match(r"\d", w[1]):
        stats[(cur, w[1])] = [int(x) for x in w[2:7]]
weights = {}
for line in open(sys.argv[3]):
    m = re.match(r"-a -t (\S+) -r (\S+) -m -w (\d+)", line)
    if m: weights[(m.group(1), m.group(2))] = int(m.group(3))
bad = []
n = 0
for s in d["lvs"]["services"]:
    vip = s["key"].split()[1]
    st = s["stats"]
    got = [st["connections"], st["packets_in"], st["packets_out"], st["bytes_in"], st["bytes_out"]]
    if got != stats.get((vip, None)): bad.append((vip, got, stats.get((vip, None))))
    n += 1
    for r in s["servers"]:
        st = r["stats"]
        got = [st["connections"], st["packets_in"], st["packets_out"], st["bytes_in"], st["bytes_out"]]
        if got != stats.get((vip, r["address"])): bad.append((vip, r["address"], got, stats.get((vip, r["address"]))))
        if r["kernel_weight"] != weights.get((vip, r["address"])): bad.append(("weight", r["address"]))
        n += 1
# the brief status (what metrics use): the services' counters, and each
# server's weight and connections from /proc/net/ip_vs, no server counters
b = json.load(open(sys.argv[4]))
for s, bs in zip(d["lvs"]["services"], b["lvs"]["services"]):
    tot = lambda st: [st[k] for k in ("connections", "packets_in", "packets_out", "bytes_in", "bytes_out")]
    if tot(bs["stats"]) != tot(s["stats"]): bad.append(("brief service stats", s["name"]))
    for r, br in zip(s["servers"], bs["servers"]):
        if br.get("stats") is not None: bad.append(("brief has server stats", r["address"]))
        if (br["kernel_weight"], br["active_connections"]) != (r["kernel_weight"], r["active_connections"]):
            bad.append(("brief weight/conns", r["address"]))
if d["version"] != 1 or n != 5 or bad or sum(v[0] for k, v in stats.items() if k[1] is None) < 4:
    print(d["version"], n, bad, stats); sys.exit(1)
PY
then pass "status JSON (version 1, --full): counters and weights of 2 services and 3 servers equal ipvsadm -L -n --stats --exact; the brief status agrees"
else fail "status JSON against ipvsadm"; cat "$WORK/stats.txt"; fi
ask --status | grep -q "virtual web (tcp 10.0.1.100:80) scheduler rr" && pass "lvs --status prints the text form" || fail "text status"

# Drain rs1 while two clients hold a connection each (rr: one per server).
hold 10.0.1.100 "$WORK/go1" "$WORK/h1"; hold 10.0.1.100 "$WORK/go1" "$WORK/h2"
wait_until 5 "held" sh -c "[ \"\$($IPVSADM -L -n | awk '\$2==\"10.0.2.2:80\" {print \$5}')\" -ge 1 ]" ||
    fail "no held connection on rs1"
lat0=$(srv web rs1 "['check']['last']['at']")
out=$(ask --drain web/rs1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "draining: web/rs1" && pass "lvs --drain web/rs1: $out" || fail "drain: rc $rc: $out"
wait_until 3 "weight 0" has "-a -t 10.0.1.100:80 -r 10.0.2.2:80 -m -w 0" && pass "drained: rs1 has weight 0 in the kernel" || { fail "drain weight"; table; }
[ "$(srv web rs1 "['state']")" = drained ] && [ "$(srv web rs1 "['kernel_weight']")" = 0 ] &&
    pass "status says drained, kernel weight 0" || fail "status after drain: $(srv web rs1 "")"
grep -q 'control: uid 0 (pid [0-9]*) asked "drain web/rs1"' "$LOG" && pass "the drain is logged with the caller's uid" || fail "audit line"
for _ in 1 2 3 4; do [ "$(fetch 10.0.1.100)" = rs2 ] || { fail "a new connection reached the drained server"; break; }; done
# SIGHUP (with a real change) keeps the drain.
sed -i '/virtual app/,/}/s/scheduler = rr/scheduler = wlc/' "$CF"; kill -HUP "$LVSPID"
wait_until 10 "reload" has "-A -t 10.0.1.101:80 -s wlc" || fail "reload did not happen"
sleep 1
has "-a -t 10.0.1.100:80 -r 10.0.2.2:80 -m -w 0" && [ "$(srv web rs1 "['state']")" = drained ] &&
    pass "after SIGHUP rs1 is still drained (weight 0)" || { fail "SIGHUP lost the drain"; table; grep -E "drain|rs1|reload" "$LOG" | tail -20; }
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "$(srv web rs1 "['check']['last']['at']")" "$lat0" &&
    pass "the nanny keeps checking the drained server" || fail "no checks while drained"
touch "$WORK/go1"
wait_until 20 "holders" sh -c "[ -s $WORK/h1 ] && [ -s $WORK/h2 ]"
cat "$WORK/h1" "$WORK/h2" | grep -q rs1 && pass "the connection held on rs1 outlived its drain and the reload (got: $(cat "$WORK/h1" "$WORK/h2" | tr '\n' ' '))" ||
    fail "held connections: $(cat "$WORK/h1" "$WORK/h2" 2>&1 | tr '\n' ' ')"
# A drain without a deadline stays at weight 0 with no connection left.
wait_until 10 "no active" sh -c "[ \"\$($IPVSADM -L -n | awk '\$2==\"10.0.2.2:80\" {print \$5}')\" = 0 ]"
sleep 2
has "-a -t 10.0.1.100:80 -r 10.0.2.2:80 -m -w 0" && pass "with its connections gone rs1 stays in the table at weight 0 (no deadline)" || { fail "plain drain changed"; table; }
grep -q "^server tcp:10.0.1.100:80 10.0.2.2:80 drain since=" "$OVR" && pass "the overrides file keeps it" || { fail "overrides file"; cat "$OVR"; }

# A restart of lvs keeps it.
kill -TERM "$LVSPID"; wait "$LVSPID"; LVSPID=
ask --status >/dev/null 2>&1; [ $? = 3 ] && pass "lvs --status with no lvs running exits 3" || fail "status exit without lvs"
start_lvs
wait_until 30 "table" sh -c "$IPVSADM -S -n | grep -q 10.0.3.2:80 && $IPVSADM -S -n | grep -q 10.0.4.2:80"
sleep 3
wait_until 10 "rs1 at 0" has "-a -t 10.0.1.100:80 -r 10.0.2.2:80 -m -w 0" && [ "$(srv web rs1 "['state']")" = drained ] &&
    pass "after a restart of lvs rs1 is back drained: its nanny added it at weight 0" || { fail "restart lost the drain"; table; }
ask --undrain web/rs1 >/dev/null && wait_until 10 "back" has "-a -t 10.0.1.100:80 -r 10.0.2.2:80 -m -w 1" &&
    pass "undrain: rs1 back with lvs.cf's weight" || { fail "undrain"; table; }
wait_until 5 "up" sh -c "[ \"\$($LVS --control $CTL --status --json | python3 -c \"import json,sys; d=json.load(sys.stdin); print([r for s in d['lvs']['services'] for r in s['servers'] if r['name']=='rs1'][0]['state'])\")\" = up ]" &&
    pass "status: rs1 up again" || fail "state after undrain"

# A deadline ends a drain with connections left.
hold 10.0.1.100 "$WORK/go2" "$WORK/h3"; hold 10.0.1.100 "$WORK/go2" "$WORK/h4"
wait_until 5 "held" sh -c "[ \"\$($IPVSADM -L -n | awk '\$2==\"10.0.2.2:80\" {print \$5}')\" -ge 1 ]" || fail "no held connection on rs1 (2)"
t0=$(date +%s%N)
ask --drain rs1 --deadline 2 >/dev/null || fail "drain with deadline"
if wait_until 10 "deadline" hasnt "10.0.2.2:80"; then
    pass "drain with a 2 s deadline and a connection held: out after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
else fail "deadline drain"; table; fi
grep -q "deadline passed with 1 active connection" "$LOG" && pass "logged: deadline passed with the connection left" || fail "deadline log"
[ "$(srv web rs1 "['admin']['kind']")" = drained ] && pass "status: drain finished" || fail "admin kind $(srv web rs1 "['admin']")"
touch "$WORK/go2"
ask --undrain rs1 >/dev/null; wait_until 10 "back" has "10.0.2.2:80" || fail "undrain after deadline"
# With no connection, a drain with a deadline ends at once.
ask --drain web/rs1 --deadline 60 >/dev/null && wait_until 5 "out" hasnt "10.0.2.2:80" &&
    grep -q "drain of web (10.0.2.2:80) finished: no active connection left" "$LOG" &&
    pass "a drain with a deadline and no connection ends at once" || { fail "idle drain with deadline"; table; }
ask --undrain web/rs1 >/dev/null; wait_until 10 "back" has "10.0.2.2:80" || fail "undrain (3)"

# Weight, disable and enable of a server and of a service.
ask --set-weight web/rs2 5 >/dev/null && wait_until 3 "w5" has "-r 10.0.3.2:80 -m -w 5" && pass "--set-weight web/rs2 5" || fail "set-weight"
ask --undrain web/rs2 >/dev/null && wait_until 3 "w1" has "-r 10.0.3.2:80 -m -w 1" && pass "--undrain restores lvs.cf's weight" || fail "weight restore"
ask --disable app/rs3 >/dev/null && wait_until 3 "off" hasnt "10.0.4.2:80" && [ "$(srv app rs3 "['state']")" = disabled ] &&
    pass "--disable app/rs3: out of the table, status disabled" || fail "disable server"
ask --enable app/rs3 >/dev/null && wait_until 10 "on" has "10.0.4.2:80" && pass "--enable app/rs3: back" || fail "enable server"
ask --disable-service app >/dev/null && wait_until 3 "svc off" hasnt "10.0.1.101:80" && pass "--disable-service app: the service left the table" || fail "disable service"
[ "$(q "[s for s in d['lvs']['services'] if s['name']=='app'][0]['disabled']")" = True ] || fail "status: service not disabled"
ask --enable-service app >/dev/null && wait_until 10 "svc on" has "-a -t 10.0.1.101:80 -r 10.0.4.2:80" && [ "$(fetch 10.0.1.101)" = rs3 ] &&
    pass "--enable-service app: back with rs3, serving" || { fail "enable service"; table; }
err=$(ask --drain web/nosuch 2>&1); rc=$?
[ $rc = 1 ] && echo "$err" | grep -q 'no real server "nosuch"' && pass "an unknown server is refused: $err" || fail "unknown server: rc $rc $err"
kill -TERM "$LVSPID"; wait "$LVSPID"; LVSPID=

# pulse runs the director: its status holds lvs's; metrics.
ip addr del 10.0.1.100/32 dev sc0; ip addr del 10.0.1.101/32 dev sc0
rm -f "$OVR"
start_pulse() {
    "$PULSE" -n -c "$CF" --lvsd "$LVS" --pidfile "$WORK/pulse.pid" --control "$WORK/pulse.ctl" \
        --control-group nogroup --send-arp "$BIN/send_arp" --metrics 127.0.0.1:9539 >>"$WORK/pulse.log" 2>&1 &
    PULSEPID=$!
}
start_pulse
pstatus() { "$PULSE" --control "$WORK/pulse.ctl" --status "$@"; }
if wait_until 40 "active" sh -c "$PULSE --control $WORK/pulse.ctl --status 2>/dev/null | grep -q 'role active' && $IPVSADM -S -n | grep -q 10.0.4.2:80"; then
    pass "pulse --status: $(pstatus | head -1)"
else fail "pulse not active"; cat "$WORK/pulse.log"; fi
pstatus --json | python3 -c "
import json,sys; d=json.load(sys.stdin)
assert d['pulse']['role']=='active' and d['pulse']['takeovers']==1, d['pulse']
assert [s['name'] for s in d['lvs']['services']]==['web','app'], d
assert any(a['address'].startswith('10.0.1.100/') for a in d['pulse']['addresses']), d['pulse']
" && pass "pulse --status --json: role, addresses held, and lvs's services" || fail "pulse status json"
curl -s --max-time 5 http://127.0.0.1:9539/metrics >"$WORK/metrics.txt"
if command -v promtool >/dev/null; then
    promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.txt" 2>&1 && pass "promtool check metrics: the scrape is clean ($(wc -l <"$WORK/metrics.txt") lines)" ||
        { fail "promtool"; head -20 "$WORK/promtool.txt"; }
else fail "promtool missing (tests/install-deps installs prometheus)"; fi
grep -q '^piranha_server_kernel_weight{.*server="rs1".*} 1' "$WORK/metrics.txt" && pass "metrics: rs1's kernel weight" || { fail "metrics content"; grep rs1 "$WORK/metrics.txt" | head; }
if command -v prometheus >/dev/null; then
    cat >"$WORK/prom.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: piranha
    static_configs:
      - targets: ['127.0.0.1:9539']
YML
    prometheus --config.file="$WORK/prom.yml" --storage.tsdb.path="$WORK/tsdb" \
        --web.listen-address=127.0.0.1:9090 >"$WORK/prom.log" 2>&1 &
    PROMPID=$!
    pq() { curl -s --max-time 3 "http://127.0.0.1:9090/api/v1/query" --data-urlencode "query=$1"; }
    if wait_until 90 "scraped" sh -c "curl -s --max-time 3 http://127.0.0.1:9090/api/v1/query --data-urlencode 'query=piranha_server_kernel_weight' | grep -q '\"rs3\"'"; then
        pass "a real Prometheus scraped the endpoint: $(pq 'count(piranha_server_kernel_weight)' | grep -o '"value":\[[^]]*\]')"
    else fail "prometheus did not scrape"; tail -5 "$WORK/prom.log"; pq 'up'; fi
    pq 'up{job="piranha"}' | grep -q '"1"\]' && pass "Prometheus: up{job=\"piranha\"} = 1" || fail "prometheus up"
else fail "prometheus missing (tests/install-deps installs it)"; fi
[ "$(stat -c '%a %G' "$WORK/pulse.ctl")" = "660 nogroup" ] && pass "pulse --control-group: the socket is 0660 for that group" ||
    fail "pulse socket: $(stat -c '%a %G' "$WORK/pulse.ctl")"
# A change sent to pulse is passed on to lvs (what the GUI does), and a
# restart of pulse (which restarts lvs) keeps it.
out=$("$LVS" --control "$WORK/pulse.ctl" --drain web/rs2 2>&1) && wait_until 5 "w0" has "-r 10.0.3.2:80 -m -w 0" &&
    grep -q 'control: uid 0 (pid [0-9]*) asked "drain web/rs2" (passed to lvs)' "$WORK/pulse.log" &&
    pass "a drain asked of pulse reached lvs: $out" || { fail "drain through pulse: $out"; table; }
kill -TERM "$PULSEPID"; wait "$PULSEPID"; PULSEPID=
start_pulse
if wait_until 40 "active again" sh -c "$IPVSADM -S -n | grep -q 10.0.4.2:80 && $IPVSADM -S -n | grep -q 10.0.2.2:80"; then
    sleep 2
    wait_until 10 "rs2 at 0" has "-r 10.0.3.2:80 -m -w 0" && pstatus --json | grep -q '"state":"drained"' &&
        pass "after a restart of pulse (and so of lvs) rs2 is still drained" || { fail "pulse restart lost the drain"; table; }
else fail "pulse did not come back"; tail "$WORK/pulse.log"; fi
"$LVS" --undrain web/rs2 >/dev/null && wait_until 10 "rs2 back" has "-r 10.0.3.2:80 -m -w 1" && pass "undrained through lvs's own socket" || fail "undrain rs2"
kill -TERM "$PULSEPID"; wait "$PULSEPID"; PULSEPID=
[ -n "${PROMPID:-}" ] && { kill "$PROMPID"; wait "$PROMPID" 2>/dev/null; PROMPID=; }
rm -f /var/lib/piranha/overrides

echo "status: $FAILS failure(s)"
[ "$FAILS" = 0 ]
