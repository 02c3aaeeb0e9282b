#!/bin/bash
# make bench's scale-out table, inside the kernel lab:
#     tests/kernel-lab/run tests/bench/scale-out.sh BIN_DIR
# Three directors active over BGP (tests/lab/scale-out.sh: 200 long-lived
# connections, a new one every 20 ms) through each event, then the same
# client load through a heartbeat pair with hot_standby whose active
# director dies (tests/lab/role-change.sh, direct routing, scenario d).
set -u
here=$(cd "$(dirname "$0")/../lab" && pwd)
BIN=$1
rows=$(mktemp) pair=$(mktemp)
SO_OUT=$rows bash "$here/scale-out.sh" "$BIN"
RC_OUT=$pair RC_MODES=dr RC_VARIANTS=hot RC_SCENARIOS=d RC_STREAMS=200 RC_EVERY=0.02 \
    bash "$here/role-change.sh" "$BIN"
python3 - "$rows" "$pair" <<'PY'
import sys
names = {"spread": "steady load (the spread)", "rs-down": "a real server fails",
         "api-down": "every server of one VIP fails", "stop": "planned stop (SIGTERM)",
         "back": "a director added back", "lost": "a director lost (link cut)",
         "bird-down": "BIRD killed on a director"}
def kv(rest):
    return dict(w.split("=", 1) for w in rest.split() if "=" in w)
print()
print("| event | convergence | failed new connections | established kept | longest outage | spread over d1 / d2 / d3 |")
print("|---|---|---|---|---|---|")
for line in open(sys.argv[1]):
    ev, rest = line.rstrip("\n").split("\t", 1)
    d = kv(rest)
    spread = "—"
    if ev == "spread":
        n = [int(d.get(k, 0)) for k in ("d1", "d2", "d3")]
        t = sum(n) or 1
        spread = " / ".join("%d (%+.0f %%)" % (x, (3 * x / t - 1) * 100) for x in n)
        worst = max(abs(3 * x / t - 1) * 100 for x in n)
        print("SUMMARY|scale-out, 3 directors|spread of connections, worst deviation from even|%.0f %%|—|goal ±15 %%|—" % worst)
    conv = "%.2f s" % (int(d.get("convergence_ms", 0)) / 1000) if ev != "spread" else "—"
    print("| %s | %s | %s of %s | %s of %s | %.2f s | %s |" % (
        names.get(ev, ev), conv, d["failed"], d["probes"], d["kept"], d["streams"],
        int(d["outage_ms"]) / 1000, spread))
    if ev in ("stop", "back", "lost"):
        print("SUMMARY|scale-out, 3 directors|%s: failed / kept / convergence|%s / %s of %s / %s|—|—|—" % (
            names[ev], d["failed"], d["kept"], d["streams"], conv))
for line in open(sys.argv[2]):
    w = line.rstrip("\n").split("\t")
    d = kv(w[3])
    print("| heartbeat pair, hot_standby, active dies (%s) | — | %s of %s | %s of %s | %.2f s | — |" % (
        w[0], d["failed"], d["probes"], d["kept"], d["streams"], int(d["outage_ms"]) / 1000))
    print("SUMMARY|scale-out, 3 directors|the heartbeat pair's active dies: failed / kept / outage|%s / %s of %s / %.2f s|—|—|—" % (
        d["failed"], d["kept"], d["streams"], int(d["outage_ms"]) / 1000))
PY
rm -f "$rows" "$pair"
