#!/usr/bin/env python3
"""Real-server failure detection, one series (runs inside the kernel lab,
driven by tests/bench/detection.sh).

Usage: detect.py NETNS SERVER_CMD... -- KIND TRIALS INTERVAL RIP:PORT
(an IPv6 real server as [RIP]:PORT)

For each trial: wait until RIP:PORT is a destination in /proc/net/ip_vs,
wait a random fraction of the check interval, break the server (KIND
"refused": kill its process, so connects are refused; "silent": drop its
SYNs with nftables, so connects time out), and time how long until the
destination leaves the table (polled every 5 ms). Then repair the server.
Prints one line: KIND n min median p95 max (seconds).
"""
import os
import random
import signal
import statistics
import subprocess
import sys
import time

args = sys.argv[1:]
sep = args.index("--")
ns, server_cmd = args[0], args[1:sep]
kind, trials, interval, dest = args[sep + 1], int(args[sep + 2]), float(args[sep + 3]), args[sep + 4]
rip, rport = dest.rsplit(":", 1)
rip = rip.strip("[]")
if ":" in rip:
    # /proc/net/ip_vs prints an IPv6 destination in full: [fd00:0002:...]:1F90
    import ipaddress
    hexdest = f"[{ipaddress.ip_address(rip).exploded}]:{int(rport):04X}"
else:
    hexdest = "".join(f"{int(o):02X}" for o in rip.split(".")) + f":{int(rport):04X}"
random.seed(int(os.environ.get("BENCH_SEED", "1")))


def present():
    with open("/proc/net/ip_vs") as f:
        return any(line.split()[1:2] == [hexdest] for line in f if "->" in line)


def wait(cond, limit):
    t = time.monotonic()
    while not cond():
        if time.monotonic() - t > limit:
            return False
        time.sleep(0.005)
    return True


def start_server():
    return subprocess.Popen(["ip", "netns", "exec", ns] + server_cmd)


NFT = ["ip", "netns", "exec", ns, "nft"]
srv = start_server()
out = []
try:
    for _ in range(trials):
        if not wait(present, 60):
            print(f"# {kind}: {dest} never (re)entered the table", file=sys.stderr)
            break
        time.sleep(random.uniform(0, interval))
        if kind == "refused":
            t0 = time.monotonic()
            srv.send_signal(signal.SIGKILL)
        else:
            subprocess.run(NFT + ["add table inet bench; add chain inet bench in { type filter hook input priority 0; }"], check=True)
            subprocess.run(NFT + [f"add rule inet bench in tcp dport {rport} drop"], check=True)
            t0 = time.monotonic()
        if wait(lambda: not present(), 60):
            out.append(time.monotonic() - t0)
        if kind == "refused":
            srv.wait()
            srv = start_server()
        else:
            subprocess.run(NFT + ["delete table inet bench"], check=True)
finally:
    srv.kill()
    srv.wait()
if out:
    s = sorted(out)
    p95 = s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]
    print(f"{kind} {len(s)} {s[0]:.3f} {statistics.median(s):.3f} {p95:.3f} {s[-1]:.3f}")
else:
    print(f"{kind} 0 - - - -")
