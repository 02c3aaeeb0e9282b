#!/usr/bin/env python3
"""Failover bench: master director dies (its pulse killed -9 and its link
cut at the switch); time until a client in its own namespace gets an ICMP
echo reply from the VIP through the backup.  Same topology for keepalived
VRRP.  The same series again over IPv6 (issue 21): heartbeats between IPv6
addresses, an IPv6 VIP announced by neighbour advertisements, ICMPv6 echo;
keepalived's IPv6 VRRP (version 3) as the peer.  Also counts false
failovers with 5% of heartbeats dropped by nftables `numgen random`.
Prints a table."""

import os, signal, socket, statistics, struct, subprocess, sys, tempfile, time

BIN = "target/release"
# The address family of the series being run (set by main()).
V6 = False
ADDR = {
    False: {"d1": "10.88.0.1", "d2": "10.88.0.2", "cl": "10.88.0.10", "rs": "10.88.0.50", "vip": "10.88.0.100", "len": 24},
    True: {"d1": "fd00:88::1", "d2": "fd00:88::2", "cl": "fd00:88::10", "rs": "fd00:88::50", "vip": "fd00:88::100", "len": 64},
}
VIP = ADDR[False]["vip"]
ID = f"pb{os.getpid() % 100000}"
NS = {k: f"{ID}-{k}" for k in ("sw", "d1", "d2", "cl")}


def ip(*a, check=True):
    return subprocess.run(["ip", *a], check=check, capture_output=True, text=True).stdout


def setup():
    for n in NS.values():
        subprocess.run(["ip", "netns", "del", n], capture_output=True)
        ip("netns", "add", n)
        # No duplicate address detection (before any address exists).
        subprocess.run(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
                        "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_ra=0",
                        "net.ipv6.conf.default.accept_ra=0"], check=True)
        ip("-n", n, "link", "set", "lo", "up")
    ip("-n", NS["sw"], "link", "add", "br0", "type", "bridge")
    ip("-n", NS["sw"], "link", "set", "br0", "up")
    for ns, port in (("d1", "p1"), ("d2", "p2"), ("cl", "pc")):
        ip("link", "add", "eth0", "netns", NS[ns], "type", "veth", "peer", "name", port, "netns", NS["sw"])
        ip("-n", NS["sw"], "link", "set", port, "master", "br0")
        ip("-n", NS["sw"], "link", "set", port, "up")
        for fam in (False, True):
            a = ADDR[fam]
            ip("-n", NS[ns], "addr", "add", f"{a[ns]}/{a['len']}", "dev", "eth0", *(("nodad",) if fam else ()))
        ip("-n", NS[ns], "link", "set", "eth0", "up")


def teardown():
    for n in NS.values():
        subprocess.run(["ip", "netns", "del", n], capture_output=True)


def link(up):
    ip("-n", NS["sw"], "link", "set", "p1", "up" if up else "down")


def fam():
    return "-6" if V6 else "-4"


def has_vip(ns):
    return f"{VIP}/" in ip("-n", NS[ns], fam(), "addr")


def clear_vip(ns):
    for line in ip("-n", NS[ns], fam(), "-o", "addr").splitlines():
        w = line.split()
        if w[3].startswith(VIP + "/"):
            ip("-n", NS[ns], "addr", "del", w[3], "dev", w[1], check=False)


def wait(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return False


PROBE = r"""
import socket, struct, sys, time
vip = sys.argv[1]
v6 = ":" in vip
if v6:
    # ICMPv6: the kernel fills in the checksum of a raw ICMPv6 socket, and
    # hands us the ICMPv6 message without the IPv6 header.
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(0.01)
ident = 0x4242
def csum(b):
    if len(b) % 2: b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
# Each reply is printed as "SENT RECEIVED" (CLOCK_MONOTONIC): a reply to a
# request sent after the link cut can only come from the new owner.
seq = 0
sent = {}
while True:
    seq = (seq + 1) & 0xffff
    h = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, ident, seq) + b"x" * 16
    if not v6:
        h = h[:2] + struct.pack("!H", csum(h)) + h[4:]
    sent[seq] = time.monotonic()
    try:
        s.sendto(h, (vip, 0))
    except OSError:
        pass  # unresolved neighbour: the queue is full, try again
    end = time.monotonic() + 0.01
    while time.monotonic() < end:
        try:
            d, a = s.recvfrom(256)
        except socket.timeout:
            break
        o = 0 if v6 else 20
        reply = 129 if v6 else 0
        if a[0] == vip and len(d) >= o + 8 and d[o] == reply and struct.unpack("!H", d[o + 4:o + 6])[0] == ident:
            q = struct.unpack("!H", d[o + 6:o + 8])[0]
            if q in sent:
                print("%.6f %.6f" % (sent.pop(q), time.monotonic()), flush=True)
    sent = {k: v for k, v in sent.items() if v > time.monotonic() - 2}
    time.sleep(max(0.0, end - time.monotonic()))
"""


class Probe:
    def __init__(self):
        self.p = subprocess.Popen(["ip", "netns", "exec", NS["cl"], sys.executable, "-c", PROBE, VIP],
                                  stdout=subprocess.PIPE, text=True)
        os.set_blocking(self.p.stdout.fileno(), False)
        self.buf = ""
        self.times = []

    def read(self):
        try:
            chunk = self.p.stdout.read()
        except (BlockingIOError, TypeError):
            chunk = None
        if chunk:
            self.buf += chunk
            *lines, self.buf = self.buf.split("\n")
            self.times += [tuple(float(v) for v in x.split()) for x in lines if x]
        return self.times

    def first_after(self, t, timeout):
        """Receive time of the first reply to a request sent after t."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for sent, got in self.read():
                if sent > t:
                    return got
            time.sleep(0.01)
        return None

    def stop(self):
        self.p.kill()
        self.p.wait()


def lvs_cf(path, keepalive, deadtime):
    a = ADDR[V6]
    dev, mask = ("eth0", "/64") if V6 else ("eth0:1", "255.255.255.0")
    with open(path, "w") as f:
        f.write(f"""serial_no = 1
primary = {a['d1']}
backup = {a['d2']}
backup_active = 1
heartbeat = 1
heartbeat_port = 539
keepalive = {keepalive}
deadtime = {deadtime}
network = direct
virtual web {{
 active = 1
 address = {VIP} {dev}
 vip_nmask = {mask}
 port = 80
 server r1 {{
  address = {a['rs']}
  active = 1
 }}
}}
""")


def start_pulse(ns, cfg, tmp):
    log = open(os.path.join(tmp, f"pulse-{ns}.log"), "a")
    return subprocess.Popen(["ip", "netns", "exec", NS[ns], f"{BIN}/pulse", "-n", "--norun", "-c", cfg,
                             "--pidfile", os.path.join(tmp, f"{ns}.pid"), "--send-arp", f"{BIN}/send_arp"],
                            stdout=log, stderr=subprocess.STDOUT)


def kc_conf(path, ns, prio, advert, state):
    # IPv6 VRRP is version 3 only.
    v3 = "vrrp_version 3\n" if advert < 1 or V6 else ""
    vip = f"{VIP}/64 dev eth0" if V6 else f"{VIP}/24 dev eth0 label eth0:1"
    with open(path, "w") as f:
        f.write(f"""global_defs {{
 {v3} vrrp_garp_master_repeat 5
}}
vrrp_instance VI {{
 state {state}
 interface eth0
 virtual_router_id 51
 priority {prio}
 advert_int {advert}
 virtual_ipaddress {{
  {vip}
 }}
}}
""")


def start_keepalived(ns, conf, tmp):
    return subprocess.Popen(["ip", "netns", "exec", NS[ns], "keepalived", "-n", "-l", "-P", "-f", conf,
                             "-p", os.path.join(tmp, f"k-{ns}.pid"), "-r", os.path.join(tmp, f"kv-{ns}.pid"),
                             "-i", ns],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def one_trial(kind, param, tmp):
    """Returns the failover time in seconds (None on timeout)."""
    link(True)
    clear_vip("d1"); clear_vip("d2")
    ip("-n", NS["cl"], "neigh", "flush", "all", check=False)
    if kind == "pulse":
        ka, dt = param
        cfg = os.path.join(tmp, "lvs.cf")
        lvs_cf(cfg, ka, dt)
        m = start_pulse("d1", cfg, tmp)
        b = start_pulse("d2", cfg, tmp)
        timeout = dt + 5
    else:
        adv = param
        c1, c2 = os.path.join(tmp, "k1.conf"), os.path.join(tmp, "k2.conf")
        kc_conf(c1, "d1", 150, adv, "MASTER")
        kc_conf(c2, "d2", 100, adv, "BACKUP")
        m = start_keepalived("d1", c1, tmp)
        b = start_keepalived("d2", c2, tmp)
        timeout = 4 * adv + 5
    probe = Probe()
    try:
        if not wait(lambda: has_vip("d1") and not has_vip("d2"), 15):
            print("    master never became the only VIP holder", file=sys.stderr)
            return None
        # The client may have cached a MAC from the start-up (a VRRP backup
        # that briefly held the VIP): flush its neighbour table until the
        # VIP answers from the master.
        reached = False
        for _ in range(15):
            if probe.first_after(time.monotonic(), 1) is not None:
                reached = True
                break
            ip("-n", NS["cl"], "neigh", "flush", "all", check=False)
        if not reached or has_vip("d2"):
            print("    client never reached the VIP on the master", file=sys.stderr)
            return None
        time.sleep(1.5)
        if has_vip("d2") or not has_vip("d1"):
            # A false failover in the steady state: not a valid trial.
            return "invalid"
        t0 = time.monotonic()
        if kind == "pulse":
            m.send_signal(signal.SIGKILL)
        else:
            os.killpg(m.pid, signal.SIGKILL)
        link(False)
        t_cut = time.monotonic()
        got = probe.first_after(t_cut, timeout)
        if got is None:
            print(f"    no reply through the backup within {timeout} s", file=sys.stderr)
            return None
        return got - t0
    finally:
        probe.stop()
        for p in (m, b):
            try:
                if kind == "pulse":
                    p.send_signal(signal.SIGKILL if p is m else signal.SIGTERM)
                else:
                    os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in (m, b):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        time.sleep(0.2)


def family_name():
    return "IPv6" if V6 else "IPv4"


def series(kind, param, trials, tmp):
    out = []
    for i in range(trials):
        r = one_trial(kind, param, tmp)
        out.append(r)
        shown = "timeout" if r is None else r if isinstance(r, str) else "%.3f s" % r
        print(f"  {kind} {family_name()} {param} trial {i + 1}: {shown}", file=sys.stderr, flush=True)
    return out


def loss_run(seconds, tmp):
    """Both pulses at 1/3, 5% of heartbeats dropped on each side; count
    activations after the first one."""
    link(True)
    clear_vip("d1"); clear_vip("d2")
    rules = ("table inet hb {\n chain in {\n  type filter hook input priority 0; policy accept;\n"
             "  udp dport 539 numgen random mod 100 < 5 drop\n }\n}\n")
    for ns in ("d1", "d2"):
        subprocess.run(["ip", "netns", "exec", NS[ns], "nft", "-f", "-"], input=rules, text=True, check=True)
    cfg = os.path.join(tmp, "lvs.cf")
    lvs_cf(cfg, 1, 3)
    for ns in ("d1", "d2"):
        try:
            os.unlink(os.path.join(tmp, f"pulse-{ns}.log"))
        except FileNotFoundError:
            pass
    m = start_pulse("d1", cfg, tmp)
    b = start_pulse("d2", cfg, tmp)
    time.sleep(seconds)
    for p in (m, b):
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=15)
    logs = {ns: open(os.path.join(tmp, f"pulse-{ns}.log")).read() for ns in ("d1", "d2")}
    for ns in ("d1", "d2"):
        subprocess.run(["ip", "netns", "exec", NS[ns], "nft", "delete", "table", "inet", "hb"], capture_output=True)
    false = logs["d2"].count("activating lvs") + max(0, logs["d1"].count("activating lvs") - 1)
    return false


def fmt(rs):
    ok = [r for r in rs if isinstance(r, float)]
    invalid = sum(1 for r in rs if r == "invalid")
    timeouts = sum(1 for r in rs if r is None)
    if not ok:
        return "no successful trial", ""
    q = sorted(ok)
    p90 = q[min(len(q) - 1, int(round(0.9 * (len(q) - 1))))]
    return (f"{statistics.median(ok):.3f}",
            f"{min(ok):.3f}–{max(ok):.3f} (p90 {p90:.3f}; {len(ok)} trials, {timeouts} timeouts, "
            f"{invalid} with the backup active before the kill)")


def set_family(v6):
    global V6, VIP
    V6 = v6
    VIP = ADDR[v6]["vip"]


def main():
    global BIN
    args = sys.argv[1:]
    if args[:1] == ["--bin"]:
        BIN = args[1]
        args = args[2:]
    trials = int(args[0]) if args else 20
    loss_seconds = int(args[1]) if len(args) > 1 else 600
    have_k = subprocess.run(["sh", "-c", "command -v keepalived"], capture_output=True).returncode == 0
    have_nft = subprocess.run(["sh", "-c", "command -v nft"], capture_output=True).returncode == 0
    rows = []
    only = os.environ.get("BENCH_ONLY", "")
    # BENCH_FAMILIES="4 6" (default): the IPv4 series, then the IPv6 ones.
    families = [f == "6" for f in os.environ.get("BENCH_FAMILIES", "4 6").split()]
    with tempfile.TemporaryDirectory() as tmp:
        setup()
        try:
            for v6 in families:
                set_family(v6)
                tag = " IPv6" if v6 else ""
                for ka, dt in ((1, 3), (0.1, 0.3)) if only in ("", "pulse") else ():
                    rows.append((f"pulse (piranha-rs){tag} keepalive {ka} / deadtime {dt}",) + fmt(series("pulse", (ka, dt), trials, tmp)))
                if have_k and only in ("", "keepalived"):
                    for adv in (1, 0.1):
                        name = "VRRPv3" if adv < 1 or v6 else "VRRPv2"
                        rows.append((f"keepalived{tag} {name} advert_int {adv}",) + fmt(series("keepalived", adv, trials, tmp)))
                elif not have_k:
                    rows.append(("keepalived", "not installed", ""))
            set_family(False)
            if have_nft and loss_seconds > 0:
                n = loss_run(loss_seconds, tmp)
                rows.append((f"false failovers, 5% heartbeat loss, {loss_seconds} s at 1/3", str(n), "goal 0"))
            else:
                rows.append(("false failovers", "skipped (no nft or 0 s)", ""))
        finally:
            teardown()
    w = max(len(r[0]) for r in rows)
    print(f"\n{'failover (master killed -9 + link cut -> client reaches VIP)':<{w}}  {'median s':>10}  range")
    for r in rows:
        print(f"{r[0]:<{w}}  {r[1]:>10}  {r[2]}")
    # One line per timer pair for make bench's summary table.
    med = {r[0]: r[1] for r in rows}
    kv = subprocess.run(["sh", "-c", "keepalived --version 2>&1 | head -1"], capture_output=True, text=True).stdout.split()
    kv = kv[1] if len(kv) > 1 else ""
    for tag in ("", " IPv6"):
        for (ka, dt), adv in (((1, 3), 1), ((0.1, 0.3), 0.1)):
            name = "VRRPv3" if adv < 1 or tag else "VRRPv2"
            ours = med.get(f"pulse (piranha-rs){tag} keepalive {ka} / deadtime {dt}")
            peer = med.get(f"keepalived{tag} {name} advert_int {adv}")
            if ours is None:
                continue
            try:
                ratio = f"{float(ours) / float(peer):.2f}"
            except (TypeError, ValueError):
                ratio = "-"
            over = "IPv6 heartbeats, " if tag else ""
            print(f"SUMMARY|pulse|director failover, {over}keepalive {ka} / deadtime {dt} (median)|{ours} s|"
                  f"keepalived {kv} {name}{tag} advert_int {adv}|{peer + ' s' if peer else '-'}|{ratio}")


if __name__ == "__main__":
    main()
