#!/usr/bin/env python3
"""When each step of one connection's upgrade ends, in round trips, through countproxy.py.

bench/starttls.sh runs this in latency mode (--rtt MS) against each forwarder: one connection
per form, every step timed from the moment connect() returned. That is at once on loopback,
and the forwarder makes up for it the way a real path would: the accept stands for the SYN
leaving, the client's first bytes may leave one round trip later (when its SYN-ACK would
have come back) and the server's one and a half later (when the client's ACK would have
reached it), so the times read as a real client's from its SYN. The last step is a
TLS 1.2/1.3 handshake by Python's ssl module, finished when the server's Finished arrives
(one round trip for TLS 1.3, two for a full TLS 1.2 one; the scan's probes stop at the
server's first flight, one round trip).

Forms: direct (TLS at once), smtp (await the greeting, then EHLO and STARTTLS in one write:
the least a conformant SMTP client can do), smtp-full (EHLO, then STARTTLS: what a client does
without PIPELINING), early:TEXT (TEXT sent with the connection, before any greeting, then read
until the go-ahead: IMAP's `a1 STARTTLS`, XMPP's header and `<starttls/>`).

Only ever connects to 127.0.0.1.
Usage: upgrade_rtts.py --port P --rtt-ms MS --form FORM [--go-ahead TEXT]
"""

import argparse
import socket
import ssl
import time

TIMEOUT = 20.0


def read_until(sock, done):
    got = b""
    while not done(got):
        chunk = sock.recv(4096)
        if not chunk:
            raise SystemExit(f"closed after {got!r}")
        got += chunk
    return got


def lines_end(code):
    """A complete SMTP reply with `code` (its last line has a space after the code)."""
    def done(got):
        lines = got.split(b"\r\n")
        return any(line.startswith(code + b" ") for line in lines[:-1])
    return done


def replies(n):
    """n complete SMTP replies."""
    def done(got):
        return sum(1 for line in got.split(b"\r\n")[:-1] if line[3:4] == b" ") >= n
    return done


def run(port, form, go_ahead):
    steps = []
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = time.monotonic()

    def mark(name):
        steps.append((name, time.monotonic() - start))

    if form == "smtp":
        read_until(sock, lines_end(b"220"))
        mark("greeting")
        sock.sendall(b"EHLO tlsdoctor.invalid\r\nSTARTTLS\r\n")
        read_until(sock, replies(2))
        mark("EHLO+STARTTLS answered")
    elif form == "smtp-full":
        read_until(sock, lines_end(b"220"))
        mark("greeting")
        sock.sendall(b"EHLO tlsdoctor.invalid\r\n")
        read_until(sock, lines_end(b"250"))
        mark("EHLO answered")
        sock.sendall(b"STARTTLS\r\n")
        read_until(sock, lines_end(b"220"))
        mark("STARTTLS answered")
    elif form.startswith("early:"):
        sock.sendall(form[len("early:"):].encode().replace(b"\\r\\n", b"\r\n"))
        read_until(sock, lambda got: go_ahead.encode() in got)
        mark("go-ahead")
    elif form != "direct":
        raise SystemExit(f"unknown form {form}")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    tls = ctx.wrap_socket(sock, server_hostname="localhost")
    mark(f"{tls.version()} handshake done")
    tls.close()
    return steps


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rtt-ms", type=float, required=True)
    p.add_argument("--form", required=True)
    p.add_argument("--go-ahead", default="")
    a = p.parse_args()
    rtt = a.rtt_ms / 1000.0
    steps = run(a.port, a.form, a.go_ahead)
    shown = "  ".join(f"{name} {t / rtt:.2f}" for name, t in steps)
    print(f"{a.form.split(':')[0]:9} RTT from the SYN: {shown}")


if __name__ == "__main__":
    main()
