"""A stand-in SSL 2.0 server for tests/integration/scan/legacy_versions.rs (standard library only).

Nothing installed here speaks SSL 2.0 any more, so this script plays the first half of an SSL 2.0
handshake: it reads the client's CLIENT-HELLO, answers with a SERVER-HELLO carrying a real
X.509 certificate and the cipher kinds it was told to support, and hangs up. It never finishes
a handshake (no CLIENT-MASTER-KEY, no keys); for a scanner that only asks "does this server
speak SSLv2, and with which cipher kinds?" that first answer is the whole story.

Usage: python3 sslv2_server.py PORT CERT.der KIND[,KIND...]
  KIND is a 3-byte cipher kind in hex, e.g. 010080 (RC4_128_WITH_MD5) or 0700c0
  (DES_192_EDE3_CBC_WITH_MD5). Listens on 127.0.0.1:PORT until killed.

What the SSL 2.0 specification (Hickman, Netscape, 1995: draft-hickman-netscape-ssl-00) says,
as far as this script relies on it:
- A record starts with a 2- or 3-byte header. With the top bit of the first byte set, the
  header is 2 bytes and the low 15 bits of those two bytes are the length of the data that
  follows. With the top bit clear, the header is 3 bytes: the low 14 bits of the first two are
  the length, the second-highest bit marks a "security escape", and the third byte says how
  many padding bytes sit at the end of the data (padding only matters once records are
  encrypted, but the length still counts it).
- CLIENT-HELLO is message type 1, then: version (2 bytes, 0x0002 for SSL 2.0), the lengths of
  the cipher-spec list, the session id and the challenge (2 bytes each), then those three
  fields. Cipher specs are 3 bytes each; the session id is empty or 16 bytes; the challenge is
  16 to 32 bytes.
- SERVER-HELLO is message type 4, then: session-id-hit (1 byte, 0 for a new session),
  certificate type (1 byte, 1 = X.509), server version (2 bytes), the lengths of the
  certificate, the cipher-spec list and the connection id (2 bytes each), then those three
  fields. The certificate is DER. The cipher specs are the kinds both sides support; the
  connection id is 16 to 32 random bytes.
- When the two sides share no cipher kind, the server sends an ERROR message instead: type 0,
  then a 2-byte error code, 0x0001 being NO-CIPHER-ERROR.

A record whose first byte is 0x16 is a TLS (or SSL 3.0) handshake record, not SSL 2.0: like an
SSL 2.0-only server, this one cannot answer it and closes the connection without a word.
"""

import os
import socket
import socketserver
import sys

MSG_ERROR = 0
MSG_CLIENT_HELLO = 1
MSG_SERVER_HELLO = 4
NO_CIPHER_ERROR = 1
MAX_RECORD = 0x7FFF
TIMEOUT = 5


class BadHello(Exception):
    pass


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise BadHello("peer closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def read_record(sock):
    """One SSL 2.0 record's data (padding stripped), or None for a TLS record."""
    first = read_exact(sock, 2)
    if first[0] == 0x16:
        return None
    if first[0] & 0x80:
        return read_exact(sock, ((first[0] & 0x7F) << 8) | first[1])
    length = ((first[0] & 0x3F) << 8) | first[1]
    padding = read_exact(sock, 1)[0]
    if padding > length:
        raise BadHello("padding longer than the record")
    data = read_exact(sock, length)
    return data[: length - padding]


def parse_client_hello(data):
    """The client's cipher kinds (list of ints) from a CLIENT-HELLO message."""
    if len(data) < 9 or data[0] != MSG_CLIENT_HELLO:
        raise BadHello("not a CLIENT-HELLO")
    specs_len = int.from_bytes(data[3:5], "big")
    sid_len = int.from_bytes(data[5:7], "big")
    challenge_len = int.from_bytes(data[7:9], "big")
    if specs_len % 3 or sid_len not in (0, 16) or not 16 <= challenge_len <= 32:
        raise BadHello("CLIENT-HELLO field lengths")
    if 9 + specs_len + sid_len + challenge_len != len(data):
        raise BadHello("CLIENT-HELLO length mismatch")
    specs = data[9 : 9 + specs_len]
    return [int.from_bytes(specs[i : i + 3], "big") for i in range(0, specs_len, 3)]


def record(body):
    """Wrap a message in a record with a 2-byte header."""
    if len(body) > MAX_RECORD:
        raise ValueError("message too long for one record")
    return bytes([0x80 | (len(body) >> 8), len(body) & 0xFF]) + body


def server_hello(cert, kinds):
    connection_id = os.urandom(16)
    specs = b"".join(k.to_bytes(3, "big") for k in kinds)
    body = bytes([MSG_SERVER_HELLO, 0, 1]) + (2).to_bytes(2, "big")
    for field in (cert, specs, connection_id):
        body += len(field).to_bytes(2, "big")
    return record(body + cert + specs + connection_id)


def make_handler(cert, kinds):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            sock = self.request
            sock.settimeout(TIMEOUT)
            try:
                data = read_record(sock)
                if data is None:
                    return
                offered = parse_client_hello(data)
                shared = [k for k in kinds if k in offered]
                if shared:
                    sock.sendall(server_hello(cert, shared))
                else:
                    sock.sendall(record(bytes([MSG_ERROR]) + NO_CIPHER_ERROR.to_bytes(2, "big")))
            except (BadHello, OSError) as e:
                print("connection from %s:%d: %s" % (self.client_address + (e,)), flush=True)

    return Handler


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    port = int(argv[1])
    with open(argv[2], "rb") as f:
        cert = f.read()
    kinds = [int(k, 16) for k in argv[3].split(",") if k]
    if not kinds or any(not 0 <= k <= 0xFFFFFF for k in kinds):
        sys.exit("cipher kinds must be 3-byte hex values")
    with Server(("127.0.0.1", port), make_handler(cert, kinds)) as server:
        print("SSLv2 stand-in listening on 127.0.0.1:%d" % port, flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main(sys.argv)
