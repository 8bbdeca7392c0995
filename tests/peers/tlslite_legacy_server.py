"""A legacy-friendly TLS server for tests/integration/audit: tlslite-ng (pure Python, from PyPI)
serving SSL 3.0 to TLS 1.2 with RC4, 3DES and AES-CBC suites and RSA key exchange, the suites
current OpenSSL builds can no longer serve. Every connection gets its own thread; a failed or
abandoned handshake (a scanner's probe) just ends that connection.

Usage: python tlslite_legacy_server.py CERT.pem KEY.pem PORT
Listens on 127.0.0.1 only.
"""

import socket
import socketserver
import sys

from tlslite import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    chain = X509CertChain()
    with open(argv[1]) as f:
        chain.parsePemList(f.read())
    with open(argv[2]) as f:
        key = parsePEMKey(f.read(), private=True)
    settings = HandshakeSettings()
    settings.minVersion = (3, 0)
    settings.maxVersion = (3, 3)
    settings.cipherNames = ["aes128", "aes256", "3des", "rc4"]
    settings.keyExchangeNames = ["rsa", "dhe_rsa"]

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
