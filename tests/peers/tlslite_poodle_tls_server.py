"""A TLS 1.0-1.2 server with AES-CBC suites for tests/integration/vulns/poodle.rs: tlslite-ng
(pure Python, from PyPI), optionally with the flaw of CVE-2014-8730 re-created: `lax` makes it
read only the last byte of a CBC record's padding, as the affected load balancers did. The
padding bytes before it are rewritten to what they should be before tlslite-ng's own check
runs, so the MAC, the length byte and everything else are still checked for real.

Usage: python tlslite_poodle_tls_server.py CERT.pem KEY.pem PORT strict|lax [MAX_MINOR]
(MAX_MINOR: 1 = TLS 1.0, 2 = TLS 1.1, 3 = TLS 1.2, the default). Listens on 127.0.0.1 only.
"""

import socket
import socketserver
import sys

import tlslite.recordlayer as recordlayer
from tlslite import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey


def read_only_the_length_byte(check):
    def lax(data, mac, seqnum, content_type, version, block_size=16):
        data = bytearray(data)
        n = data[-1]
        if n + 1 <= len(data):
            for i in range(len(data) - 1 - n, len(data) - 1):
                data[i] = n
        return check(data, mac, seqnum, content_type, version, block_size)

    return lax


def main(argv):
    if len(argv) not in (5, 6) or argv[4] not in ("strict", "lax"):
        sys.exit(__doc__)
    if argv[4] == "lax":
        recordlayer.ct_check_cbc_mac_and_pad = read_only_the_length_byte(
            recordlayer.ct_check_cbc_mac_and_pad
        )
    chain = X509CertChain()
    with open(argv[1]) as f:
        chain.parsePemList(f.read())
    with open(argv[2]) as f:
        key = parsePEMKey(f.read(), private=True)
    settings = HandshakeSettings()
    settings.minVersion = (3, 1)
    settings.maxVersion = (3, int(argv[5]) if len(argv) == 6 else 3)
    settings.cipherNames = ["aes128", "aes256"]
    settings.keyExchangeNames = ["rsa", "ecdhe_rsa"]
    # No encrypt-then-MAC (RFC 7366): the flaw is in MAC-then-encrypt padding.
    settings.useEncryptThenMAC = False

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(10)
            conn = TLSConnection(self.request)
            try:
                conn.handshakeServer(certChain=chain, privateKey=key, settings=settings)
                conn.write(b"HTTP/1.0 200 OK\r\n\r\nhello\n")
                conn.close()
            except Exception:
                pass

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
        address_family = socket.AF_INET

    with Server(("127.0.0.1", int(argv[3])), Handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main(sys.argv)
