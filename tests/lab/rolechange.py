#!/usr/bin/env python3
"""What a client sees of a director role change (tests/lab/role-change.sh).

    rolechange.py server NAME [PORT [PAGE]]
        A real server: a request starting with "GET " gets an HTTP answer
        whose body is PAGE (default NAME), then the connection closes
        (nanny's send/expect check and the client's probes); anything else is
        echoed line by line for as long as the client stays (the long-lived
        connections).

    rolechange.py client VIP LOG [--port P] [--streams N] [--every S] [--echo S]
        The client: N long-lived connections through VIP:P, each exchanging
        a line every S seconds (--echo, 0.1) and expecting it back; and a new connection
        every S seconds (0.05) that fetches "GET /".  A long-lived
        connection that breaks (reset, closed, no echo for 15 s) is logged
        lost and replaced after a second, so that every scenario starts
        with N.  Every event goes to LOG, one line each, times in epoch ms:
            T probe ok LATENCY_MS SERVER      T probe fail REASON LATENCY_MS
            T open ID CLIENT_PORT SERVER      T lost ID REASON
            T alive ID N (every 10th echo; with 2 streams or fewer every
            echo: T echo ID N)
        The client runs until SIGTERM.

    rolechange.py report LOG T_EVENT T_END [--settle S]
        One scenario: the probes started in [T_EVENT - 1 s, T_END] and the
        long-lived connections open at T_EVENT - 4 s (so the sync daemon
        had time to send them), kept when still alive at T_END + SETTLE.
        Prints one line of key=value:
            probes failed outage_ms kept streams reasons
        outage_ms is the longest time between two successful probe answers
        inside the window (0.05 s apart when nothing happens); with echoes
        logged, stream_gap_ms the longest pause between two echoes of a kept
        connection (0.1 s when nothing happens).
"""

import asyncio
import os
import signal
import sys
import time

ECHO_EVERY = 0.1
# No echo for this long: the connection is lost.  TCP itself retries a
# segment after 0.2, 0.6, 1.4, 3, 6.2, 12.6 s: a connection whose segments
# were lost during a takeover of about deadtime (3 s) is back after 6.2 s.
STALL = 15.0
PROBE_TIMEOUT = 5.0  # a probe not answered in this time failed
REPLACE_AFTER = 1.0


def now_ms():
    return int(time.time() * 1000)


# ------------------------------------------------------------------ server

async def serve_conn(page, reader, writer):
    try:
        first = await reader.readline()
        if first.startswith(b"GET "):
            # the rest of the request head
            while True:
                line = await asyncio.wait_for(reader.readline(), 5)
                if line in (b"\r\n", b"\n", b""):
                    break
            body = ("%s\n" % page).encode()
            writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()
            return
        # the first line of a long-lived connection comes back with the
        # server's name in front (the client logs which server it reached)
        writer.write(page.encode() + b" " + first)
        await writer.drain()
        line = await reader.readline()
        while line:
            writer.write(line)
            await writer.drain()
            line = await reader.readline()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def server_main(page, port):
    srv = await asyncio.start_server(lambda r, w: serve_conn(page, r, w), "0.0.0.0", port, backlog=512, reuse_address=True)
    async with srv:
        await srv.serve_forever()


# ------------------------------------------------------------------ client

class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)

    def __call__(self, *words):
        self.f.write(" ".join(str(w) for w in (now_ms(),) + words) + "\n")


def reason_of(e):
    if isinstance(e, asyncio.TimeoutError):
        return "timeout"
    if isinstance(e, ConnectionRefusedError):
        return "refused"
    if isinstance(e, ConnectionResetError):
        return "reset"
    if isinstance(e, OSError) and e.errno is not None:
        return "errno%d" % e.errno
    return type(e).__name__


async def probe(vip, port, log):
    t0 = time.monotonic()
    writer = None
    sport = ["-"]  # the client port, once connected (for the report)
    try:
        async def once():
            nonlocal writer
            reader, writer = await asyncio.open_connection(vip, port)
            sport[0] = writer.get_extra_info("sockname")[1]
            writer.write(b"GET / HTTP/1.0\r\n\r\n")
            await writer.drain()
            data = await reader.read()
            return data
        data = await asyncio.wait_for(once(), PROBE_TIMEOUT)
        ms = int((time.monotonic() - t0) * 1000)
        if data.startswith(b"HTTP/1.0 200"):
            server = data.rsplit(b"\r\n\r\n", 1)[-1].strip().decode(errors="replace") or "?"
            log("probe", "ok", ms, server)
        else:
            log("probe", "fail", "short-answer", ms, sport[0])
    except Exception as e:  # noqa: BLE001 - every failure is a result here
        log("probe", "fail", reason_of(e), int((time.monotonic() - t0) * 1000), sport[0])
    finally:
        if writer is not None:
            try:
                writer.close()
            except OSError:
                pass


async def stream(vip, port, log, ident, verbose=False):
    """One long-lived connection; returns when it is lost."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(vip, port), PROBE_TIMEOUT)
    except Exception as e:  # noqa: BLE001
        log("lost", ident, "connect-" + reason_of(e))
        return
    # the first line tells which server answers (through the echo)
    try:
        writer.write(b"hello %d\n" % ident)
        await writer.drain()
        hello = await asyncio.wait_for(reader.readline(), STALL)
    except Exception as e:  # noqa: BLE001
        log("lost", ident, "hello-" + reason_of(e))
        writer.close()
        return
    server = hello.split(b" ", 1)[0].decode(errors="replace") if b" " in hello.strip() else "?"
    log("open", ident, writer.get_extra_info("sockname")[1], server)
    n = 0
    try:
        while True:
            n += 1
            msg = b"ping %d %d\n" % (ident, n)
            writer.write(msg)
            await writer.drain()
            got = await asyncio.wait_for(reader.readline(), STALL)
            if got != msg:
                log("lost", ident, "closed" if not got else "garbled")
                break
            if verbose:
                log("echo", ident, n)
            elif n % 10 == 0:
                log("alive", ident, n)
            await asyncio.sleep(ECHO_EVERY)
    except Exception as e:  # noqa: BLE001
        log("lost", ident, reason_of(e))
    try:
        writer.close()
    except OSError:
        pass


async def client_main(vip, log_path, port, streams, every):
    log = Log(log_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    next_id = [0]

    async def keeper():
        while not stop.is_set():
            next_id[0] += 1
            await stream(vip, port, log, next_id[0], streams <= 2)
            await asyncio.sleep(REPLACE_AFTER)

    async def prober():
        tasks = set()
        t = time.monotonic()
        while not stop.is_set():
            task = asyncio.create_task(probe(vip, port, log))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            t += every
            await asyncio.sleep(max(0.0, t - time.monotonic()))
            if time.monotonic() - t > 1.0:   # a stall: do not burst
                t = time.monotonic()

    keepers = []
    for _ in range(streams):
        keepers.append(asyncio.create_task(keeper()))
        await asyncio.sleep(0.02)
    p = asyncio.create_task(prober())
    await stop.wait()
    p.cancel()
    for k in keepers:
        k.cancel()
    await asyncio.sleep(0.1)
    log.f.flush()
    os._exit(0)


# ------------------------------------------------------------------ report

def report(log_path, t_event, t_end, settle=0):
    probes = []   # (start, end, ok, reason)
    opened = {}   # id -> time
    lost = {}     # id -> (time, reason)
    echoes = {}   # id -> [time] (logged with 2 streams or fewer)
    alive = {}    # id -> last echo or "alive" line (every 10th echo)
    with open(log_path) as f:
        for line in f:
            w = line.split()
            if len(w) < 3:
                continue
            t = int(w[0])
            if w[1] == "probe":
                if w[2] == "ok":
                    probes.append((t - int(w[3]), t, True, ""))
                elif len(w) >= 5:
                    probes.append((t - int(w[4]), t, False, w[3]))
            elif w[1] == "open":
                opened[int(w[2])] = t
            elif w[1] == "lost":
                lost.setdefault(int(w[2]), (t, w[3] if len(w) > 3 else "?"))
            elif w[1] == "echo":
                echoes.setdefault(int(w[2]), []).append(t)
                alive[int(w[2])] = t
            elif w[1] == "alive":
                alive[int(w[2])] = t
    lo = t_event - 1000
    window = [p for p in probes if lo <= p[0] <= t_end]
    failed = [p for p in window if not p[2]]
    ok_ends = sorted(p[1] for p in window if p[2])
    outage = 0
    for a, b in zip(ok_ends, ok_ends[1:]):
        outage = max(outage, b - a)
    if not ok_ends:
        outage = t_end - lo
    before = t_event - 4000
    streams = [i for i, t in opened.items() if t <= before and (i not in lost or lost[i][0] > before)]
    # kept: not lost, and echoing after the window (a silently stalled
    # connection is not kept)
    kept = [i for i in streams if (i not in lost or lost[i][0] > t_end + settle) and alive.get(i, 0) > t_end]
    reasons = {}
    for p in failed:
        reasons[p[3]] = reasons.get(p[3], 0) + 1
    for i in streams:
        if i in lost and lost[i][0] <= t_end + settle:
            r = "stream-" + lost[i][1]
            reasons[r] = reasons.get(r, 0) + 1
    gap = 0
    for i in kept:
        ts = [t for t in echoes.get(i, []) if lo <= t <= t_end + settle]
        for a, b in zip(ts, ts[1:]):
            gap = max(gap, b - a)
    print("probes=%d failed=%d outage_ms=%d kept=%d streams=%d reasons=%s%s" % (
        len(window), len(failed), outage, len(kept), len(streams),
        ",".join("%s:%d" % kv for kv in sorted(reasons.items())) or "-",
        " stream_gap_ms=%d" % gap if echoes else ""))


def main(argv):
    if len(argv) >= 2 and argv[0] == "server":
        port = int(argv[2]) if len(argv) > 2 else 80
        page = argv[3] if len(argv) > 3 else argv[1]
        asyncio.run(server_main(page, port))
        return 0
    if len(argv) >= 3 and argv[0] == "client":
        opts = {"--port": "80", "--streams": "50", "--every": "0.05", "--echo": "0.1"}
        rest = argv[3:]
        while rest:
            k = rest.pop(0)
            opts[k] = rest.pop(0)
        globals()["ECHO_EVERY"] = float(opts["--echo"])
        asyncio.run(client_main(argv[1], argv[2], int(opts["--port"]), int(opts["--streams"]), float(opts["--every"])))
        return 0
    if len(argv) >= 4 and argv[0] == "report":
        settle = 0
        if len(argv) >= 6 and argv[4] == "--settle":
            settle = int(float(argv[5]) * 1000)
        report(argv[1], int(argv[2]), int(argv[3]), settle)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
