"""A stand-in NNTP reader server with STARTTLS (RFC 4642), for tests: Debian's inn2 does not
configure on a machine without a resolvable FQDN, so no real NNTP server runs here.

What it does, as RFC 3977 and RFC 4642 describe a reader server: greets with 200, answers CAPABILITIES with a
list that names STARTTLS (when TLS is on), answers STARTTLS with 382 and then speaks TLS with
Python's ssl module (OpenSSL's default protocols and suites) on the same connection; any other
command gets 500. With --no-tls, STARTTLS is not listed and is answered 580.
Usage: nntp_starttls.py PORT CERT KEY [--no-tls]
"""
import socket, ssl, sys, threading

PORT, CERT, KEY = int(sys.argv[1]), sys.argv[2], sys.argv[3]
TLS = "--no-tls" not in sys.argv[4:]
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(CERT, KEY)

def lines(f):
    while True:
        line = f.readline(1024)
        if not line:
            return
        yield line.decode("latin-1").strip()

def serve(conn):
    conn.settimeout(10)
    try:
        conn.sendall(b"200 stand-in NNTP server ready (posting ok)\r\n")
        f = conn.makefile("rb")
        for line in lines(f):
            cmd = line.split(" ")[0].upper()
            if cmd == "CAPABILITIES":
                caps = "VERSION 2\r\nREADER\r\n" + ("STARTTLS\r\n" if TLS else "")
                conn.sendall(("101 Capability list:\r\n" + caps + ".\r\n").encode())
            elif cmd == "STARTTLS" and TLS:
                conn.sendall(b"382 Continue with TLS negotiation\r\n")
                tls = ctx.wrap_socket(conn, server_side=True)
                tf = tls.makefile("rb")
                for line in lines(tf):
                    if line.upper() == "QUIT":
                        tls.sendall(b"205 bye\r\n")
                        break
                    tls.sendall(b"500 What?\r\n")
                tls.close()
                return
            elif cmd == "STARTTLS":
                conn.sendall(b"580 Can not initiate TLS negotiation\r\n")
            elif cmd == "QUIT":
                conn.sendall(b"205 bye\r\n")
                break
            else:
                conn.sendall(b"500 What?\r\n")
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", PORT))
srv.listen(64)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
