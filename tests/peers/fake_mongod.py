"""A stand-in for a MongoDB server without TLS, for tests (no mongod package is available here).

It behaves as mongod does on the wire: it reads a 16-byte message header (little-endian
messageLength, requestID, responseTo, opCode); a TLS ClientHello makes no sense as a header, so
it hangs up without a word; a real OP_MSG command gets an OP_MSG reply whose responseTo is the
request's id and whose body is the BSON document {ismaster: true, ok: 1.0}.
Usage: fake_mongod.py PORT
"""
import socket, struct, sys, threading

def bson_reply():
    elems = b"\x08ismaster\x00\x01" + b"\x01ok\x00" + struct.pack("<d", 1.0)
    return struct.pack("<i", 4 + len(elems) + 1) + elems + b"\x00"

def serve(conn):
    with conn:
        conn.settimeout(5)
        try:
            header = conn.recv(16)
            if len(header) < 16 or header[0] == 0x16:
                return  # a TLS record: not a plausible message, hang up
            length, request_id, _, opcode = struct.unpack("<iiii", header)
            if opcode != 2013 or not 16 < length < 1 << 20:
                return
            rest = b""
            while len(rest) < length - 16:
                chunk = conn.recv(length - 16 - len(rest))
                if not chunk:
                    return
                rest += chunk
            body = struct.pack("<I", 0) + b"\x00" + bson_reply()
            conn.sendall(struct.pack("<iiii", 16 + len(body), 99, request_id, 2013) + body)
        except OSError:
            pass

def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(sys.argv[1])))
    srv.listen(64)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()

main()
