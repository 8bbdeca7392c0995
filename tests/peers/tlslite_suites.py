"""Ground truth for tests/integration/scan/legacy_versions.rs: the cipher suites tlslite-ng's own server
code considers for one protocol version, asked from the installed tlslite-ng itself.

Usage: python tlslite_suites.py CERT.pem VERSION [MAX_VERSION]
  VERSION, MAX_VERSION: ssl3, tls1.0, tls1.1, tls1.2 or tls1.3 (MAX_VERSION defaults to
  VERSION and must match the server's --max-ver).

Prints one hex suite id per line (0x002f), in tlslite-ng's preference order.

This follows the steps of TLSConnection._serverGetClientHello for a server started as
`tls.py server -c CERT -k KEY --ssl3 --max-ver MAX_VERSION` (default HandshakeSettings
otherwise) and a client whose supported groups overlap the server's, both elliptic and
finite-field (true for tlsdoctor's probes: TLS hellos list x25519, secp256r1 and ffdhe2048,
and the SSLv3 hello lists no groups at all, which tlslite-ng reads as "anything goes"):
  1. collect the suites of every key exchange usable with a certificate,
  2. keep those valid in the negotiated version (filterForVersion),
  3. keep those the certificate can authenticate (filter_for_certificate).
"""

import sys

from tlslite import HandshakeSettings, X509CertChain
from tlslite.constants import CipherSuite

VERSIONS = {"ssl3": (3, 0), "tls1.0": (3, 1), "tls1.1": (3, 2), "tls1.2": (3, 3),
            "tls1.3": (3, 4)}


def main(argv):
    if len(argv) not in (3, 4) or argv[2] not in VERSIONS:
        sys.exit(__doc__)
    with open(argv[1]) as f:
        chain = X509CertChain()
        chain.parsePemList(f.read())
    version = VERSIONS[argv[2]]
    settings = HandshakeSettings()
    settings.minVersion = (3, 0)
    settings.maxVersion = VERSIONS[argv[3] if len(argv) == 4 else argv[2]]
    settings = settings.validate()

    suites = []
    if version >= (3, 4):
        suites += CipherSuite.getTLS13Suites(settings, version)
    suites += CipherSuite.getEcdsaSuites(settings, version)
    suites += CipherSuite.getEcdheCertSuites(settings, version)
    suites += CipherSuite.getDheCertSuites(settings, version)
    suites += CipherSuite.getDheDsaSuites(settings, version)
    suites += CipherSuite.getCertSuites(settings, version)
    suites = CipherSuite.filterForVersion(suites, minVersion=version, maxVersion=version)
    suites = CipherSuite.filter_for_certificate(suites, chain)
    for s in suites:
        print("0x%04x" % s)


if __name__ == "__main__":
    main(sys.argv)
