"""Make the certificates the corpus generator needs (run by generate.py, writes into a temp dir)."""
import datetime as dt
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

NOW = dt.datetime.now(dt.timezone.utc)


def key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject_key, cn, issuer_key=None, issuer_cn=None, ca=False, sans=("localhost",),
         start=None, end=None, digest=hashes.SHA256()):
    issuer_key = issuer_key or subject_key
    b = (x509.CertificateBuilder()
         .subject_name(name(cn))
         .issuer_name(name(issuer_cn or cn))
         .public_key(subject_key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(start or NOW - dt.timedelta(days=1))
         .not_valid_after(end or NOW + dt.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    else:
        alt = []
        for s in sans:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(s)))
            except ValueError:
                alt.append(x509.DNSName(s))
        b = b.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return b.sign(issuer_key, digest)


def write(d, stem, k, certs):
    (d / f"{stem}.key").write_bytes(k.private_bytes(serialization.Encoding.PEM,
                                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                                    serialization.NoEncryption()))
    (d / f"{stem}.pem").write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))


def main(d):
    d = Path(d)
    rk = key(); root = cert(rk, "Corpus Root", ca=True)
    ik = key(); inter = cert(ik, "Corpus Intermediate", rk, "Corpus Root", ca=True)
    write(d, "rootca", rk, [root])  # generate.py signs a SHA-1 leaf with it via the openssl CLI
    (d / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    sans = ("localhost", "127.0.0.1")
    lk = key()
    write(d, "good_chain", lk, [cert(lk, "localhost", ik, "Corpus Intermediate", sans=sans), inter])
    write(d, "leaf_only", lk, [cert(lk, "localhost", ik, "Corpus Intermediate", sans=sans)])
    write(d, "self_signed", lk, [cert(lk, "localhost", sans=sans)])
    write(d, "wrong_host", lk, [cert(lk, "wrong.example", rk, "Corpus Root", sans=("wrong.example",))])
    write(d, "expired", lk, [cert(lk, "localhost", rk, "Corpus Root", sans=sans,
                                  start=NOW - dt.timedelta(days=400), end=NOW - dt.timedelta(days=35))])
    write(d, "not_yet", lk, [cert(lk, "localhost", rk, "Corpus Root", sans=sans,
                                  start=NOW + dt.timedelta(days=30), end=NOW + dt.timedelta(days=400))])
    wk = key(1024)
    write(d, "weak_key", wk, [cert(wk, "localhost", rk, "Corpus Root", sans=sans)])
    # A chain that includes an untrusted self-signed root.
    write(d, "chain_with_root", lk, [cert(lk, "localhost", ik, "Corpus Intermediate", sans=sans), inter, root])


if __name__ == "__main__":
    main(sys.argv[1])
