"""A second opinion on POODLE on TLS (CVE-2014-8730) that shares no code with tlsdoctor: the
TLS client of tlslite-ng (pure Python, from PyPI), used as published except for one hook in
its record layer. With `wrong`, the first record it encrypts (its Finished, MAC-then-encrypt
with a CBC suite) carries padding whose bytes before the length byte are not the length
byte, as RFC 5246 6.2.3.2 requires them to be; the MAC and the length byte stay right. A
server that checks its padding refuses that Finished (bad_record_mac); one that reads only
the length byte completes the handshake. With `right` the padding is left alone: the control,
which every server must complete.

Usage: python tlslite_bad_padding_client.py PORT wrong|right [MAX_MINOR]
(MAX_MINOR: 1 = TLS 1.0, 2 = TLS 1.1, 3 = TLS 1.2, the default). Connects to 127.0.0.1 only.
Prints one line: `completed VERSION SUITE`, `alert NAME` or `failed TEXT`.
"""

import socket
import sys

import tlslite.recordlayer as recordlayer
from tlslite import HandshakeSettings, TLSConnection
from tlslite.constants import AlertDescription, CipherSuite
from tlslite.errors import TLSRemoteAlert


def spoil_first_padding():
    """The first CBC padding this process adds gets wrong bytes before its length byte; a
    block more than needed is added, so there is always at least one such byte."""
    add = recordlayer.RecordLayer.addPadding
    spoiled = []

    def wrong_padding(self, data):
        if spoiled:
            return add(self, data)
        spoiled.append(True)
        n = self.blockSize - 1 - (len(data) % self.blockSize) + self.blockSize
        return data + bytearray([n ^ 0xFF] * n) + bytearray([n])

    recordlayer.RecordLayer.addPadding = wrong_padding


def main(argv):
    if len(argv) not in (3, 4) or argv[2] not in ("wrong", "right"):
        sys.exit(__doc__)
    if argv[2] == "wrong":
        spoil_first_padding()
    settings = HandshakeSettings()
    settings.minVersion = (3, 1)
    settings.maxVersion = (3, int(argv[3]) if len(argv) == 4 else 3)
    settings.cipherNames = ["aes128", "aes256"]
    settings.macNames = ["sha", "sha256", "sha384"]
    settings.keyExchangeNames = ["rsa", "ecdhe_rsa", "dhe_rsa"]
    # MAC-then-encrypt: with encrypt-then-MAC (RFC 7366) the padding is under the MAC.
    settings.useEncryptThenMAC = False
    # Not offered: the Heartbleed stand-in would take it up in a ServerHello its server's
    # Finished does not cover.
    settings.use_heartbeat_extension = False
    sock = socket.create_connection(("127.0.0.1", int(argv[1])), timeout=10)
    conn = TLSConnection(sock)
    try:
        conn.handshakeClientCert(settings=settings)
    except TLSRemoteAlert as e:
        print("alert", AlertDescription.toStr(e.description))
        return
    except Exception as e:  # a closed connection, a timeout: the server did not complete
        print("failed", type(e).__name__, str(e).replace("\n", " ")[:200])
        return
    suite = CipherSuite.ietfNames.get(conn.session.cipherSuite, hex(conn.session.cipherSuite))
    print("completed", "%d.%d" % conn.version, suite)
    conn.close()


if __name__ == "__main__":
    main(sys.argv)
