#!/usr/bin/env python3
"""Real services whose answers a test can switch, for the health-check labs.

    responders.py http  PORT CTL            HTTP/1.0 server
    responders.py https PORT CTL CERT KEY   the same over TLS
    responders.py smtp  PORT CTL            SMTP greeting, HELO, QUIT
    responders.py dns   PORT CTL            DNS over UDP

Each connection (or DNS query) reads the file CTL again, so a test changes
the next answer by rewriting CTL (write a temporary file, then rename):

    http/https  first line: status code, or "notls" (https: answer in
                plain text, so the TLS handshake fails); the rest: the body
    smtp        "220" (healthy), "multi" (healthy, a multi-line 220
                greeting), "554" (bad banner), "helo" (220, then 501 to
                HELO), "silent" (accept, never greet)
    dns         "ok" (NOERROR, one A record), "empty" (NOERROR, no
                answer), "nxdomain" (RCODE 3), "servfail" (RCODE 2),
                "silent" (no reply at all), "truncated" (NOERROR, its one
                answer record cut short: a malformed message)

It prints "ready" once listening. Stdlib only; a thread per connection, each
bounded by a 5 s socket timeout.
"""

import socket
import socketserver
import ssl
import struct
import sys


def control(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


class TCP(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data and len(data) < 8192:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def http_answer(ctl):
    first, _, body = ctl.partition(b"\n")
    code = first.strip().decode("ascii", "replace") or "200"
    return (
        b"HTTP/1.0 %s Lab\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n" % (code.encode(), len(body))
    ) + body


def serve_http(port, ctl, tls=None):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            sock = self.request
            sock.settimeout(5)
            try:
                c = control(ctl)
                if tls is not None:
                    if c.startswith(b"notls"):
                        sock.recv(4096)  # the ClientHello
                        sock.sendall(http_answer(b"200\nplain text, no TLS\n"))
                        return
                    sock = tls.wrap_socket(sock, server_side=True)
                read_head(sock)
                sock.sendall(http_answer(c))
                if tls is not None:
                    try:
                        sock.unwrap()
                    except (OSError, ssl.SSLError):
                        pass
            except (OSError, ssl.SSLError):
                pass

    return TCP(("0.0.0.0", port), Handler)


def serve_smtp(port, ctl):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            sock = self.request
            sock.settimeout(5)
            mode = control(ctl).strip()
            try:
                if mode == b"silent":
                    sock.recv(1024)
                    return
                if mode == b"554":
                    sock.sendall(b"554 lab.test no service here\r\n")
                    return
                if mode == b"multi":
                    sock.sendall(b"220-lab.test ESMTP lab responder\r\n220 ready\r\n")
                else:
                    sock.sendall(b"220 lab.test ESMTP lab responder\r\n")
                buf = b""
                while True:
                    chunk = sock.recv(1024)
                    if not chunk:
                        return
                    buf += chunk
                    while b"\n" in buf:
                        line, _, buf = buf.partition(b"\n")
                        verb = line.strip().split(b" ")[0].upper()
                        if verb in (b"HELO", b"EHLO"):
                            if mode == b"helo":
                                sock.sendall(b"501 HELO refused\r\n")
                            else:
                                sock.sendall(b"250 lab.test hello\r\n")
                        elif verb == b"QUIT":
                            sock.sendall(b"221 bye\r\n")
                            return
                        else:
                            sock.sendall(b"502 not implemented\r\n")
            except OSError:
                pass

    return TCP(("0.0.0.0", port), Handler)


def dns_reply(query, mode):
    if len(query) < 12:
        return None
    qid, _flags, qd = struct.unpack("!HHH", query[:6])
    if qd != 1:
        return None
    i = 12
    while i < len(query) and query[i] != 0:
        i += 1 + query[i]
    question = query[12 : i + 5]
    if len(question) < 5:
        return None
    rcode = {b"nxdomain": 3, b"servfail": 2}.get(mode, 0)
    answers = 1 if mode in (b"ok", b"truncated") else 0
    head = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, answers, 0, 0)
    out = head + question
    if answers:
        out += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + bytes([10, 0, 2, 2])
    if mode == b"truncated":
        out = out[:-6]
    return out


def serve_dns(port, ctl):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", port))
    print("ready", flush=True)
    while True:
        query, peer = sock.recvfrom(4096)
        mode = control(ctl).strip()
        if mode == b"silent":
            continue
        r = dns_reply(query, mode)
        if r is not None:
            sock.sendto(r, peer)


def main():
    kind, port, ctl = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if kind == "dns":
        serve_dns(port, ctl)
        return
    if kind == "http":
        srv = serve_http(port, ctl)
    elif kind == "https":
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(sys.argv[4], sys.argv[5])
        srv = serve_http(port, ctl, tls)
    elif kind == "smtp":
        srv = serve_smtp(port, ctl)
    else:
        sys.exit("responders.py: unknown kind " + kind)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
