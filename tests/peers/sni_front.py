"""A TLS front end that routes by SNI without terminating TLS, as HAProxy (req.ssl_sni),
Traefik or an SNI router do: it reads the client's ClientHello, forwards the connection to
the backend when the server name is one it knows, and otherwise hangs up silently, with a
FIN (--unknown close) or a TCP reset (--unknown reset). Without --known it hangs up on every
hello. Listens on 127.0.0.1 only; every read has a timeout.

usage: sni_front.py PORT [--known NAME --backend PORT] [--unknown close|reset]
"""

import argparse
import socket
import struct
import threading

MAX_HELLO = 64 * 1024


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def server_name(hello):
    """The host_name in the ClientHello's server_name extension, or None."""
    try:
        # handshake header (4), version (2), random (32)
        i = 4 + 2 + 32
        i += 1 + hello[i]  # session id
        (n,) = struct.unpack(">H", hello[i:i + 2])
        i += 2 + n  # cipher suites
        i += 1 + hello[i]  # compression methods
        (total,) = struct.unpack(">H", hello[i:i + 2])
        i += 2
        end = i + total
        while i + 4 <= end:
            ext, length = struct.unpack(">HH", hello[i:i + 4])
            body = hello[i + 4:i + 4 + length]
            i += 4 + length
            if ext == 0 and len(body) >= 5 and body[2] == 0:
                (name_len,) = struct.unpack(">H", body[3:5])
                return body[5:5 + name_len].decode("ascii", "replace")
    except (IndexError, struct.error):
        pass
    return None


def pump(src, dst):
    try:
        while True:
            data = src.recv(16384)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, args):
    conn.settimeout(10)
    try:
        header = read_exact(conn, 5)
        hello = b""
        if header and header[0] == 0x16:
            (length,) = struct.unpack(">H", header[3:5])
            if length <= MAX_HELLO:
                hello = read_exact(conn, length) or b""
        name = server_name(hello) if hello else None
        if args.known and name == args.known:
            backend = socket.create_connection(("127.0.0.1", args.backend), timeout=10)
            backend.sendall(header + hello)
            conn.settimeout(None)
            backend.settimeout(None)
            threading.Thread(target=pump, args=(conn, backend), daemon=True).start()
            pump(backend, conn)
            return
        if args.unknown == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--known")
    p.add_argument("--backend", type=int)
    p.add_argument("--unknown", choices=["close", "reset"], default="close")
    args = p.parse_args()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(64)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, args), daemon=True).start()


if __name__ == "__main__":
    main()
