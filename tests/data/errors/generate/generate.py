"""Produce real TLS error messages: start misconfigured servers on 127.0.0.1, run real clients
(python ssl, curl, openssl s_client, node, java, pymongo) against them, print what each says.

Usage: python3 generate.py   (prints `scenario | client | message` lines; nothing leaves 127.0.0.1)
"""
import contextlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
D = Path(tempfile.mkdtemp(prefix="explcorpus-"))
PROCS = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, t=5.0):
    end = time.time() + t
    while time.time() < end:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


def start(argv):
    port = free_port()
    argv = [a.replace("{port}", str(port)).replace("{d}", str(D)) for a in argv]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    PROCS.append(p)
    wait_port(port)
    return p, port


def stop(p):
    p.kill()
    p.wait()


def s_server(*extra):
    return start(["openssl", "s_server", "-accept", "{port}", "-www", "-quiet", *extra])


def py_thread_server(handler):
    """A raw TCP server (not TLS) in a thread; handler(conn) decides what to do."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]

    def loop():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return srv, port


# ---------------- clients ----------------

def py_client(port, host="localhost", ca="root", seclevel=None, minv=None, maxv=None, ciphers=None, verify=True):
    ctx = ssl.create_default_context(cafile=str(D / f"{ca}.pem")) if ca else ssl.create_default_context()
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if ciphers or seclevel:
        ctx.set_ciphers((ciphers or "DEFAULT") + (f":@SECLEVEL={seclevel}" if seclevel is not None else ""))
    if minv:
        ctx.minimum_version = minv
    if maxv:
        ctx.maximum_version = maxv
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            with ctx.wrap_socket(s, server_hostname=host) as t:
                t.sendall(b"GET / HTTP/1.0\r\n\r\n")
                t.recv(100)
        return "OK"
    except Exception as e:  # noqa: BLE001 - we want the message, whatever it is
        return f"{type(e).__module__}.{type(e).__name__}: {e}".replace("builtins.", "")


def curl(port, host="localhost", ca="root", extra=()):
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "--max-time", "3", "--cacert", str(D / f"{ca}.pem"),
                        "--resolve", f"{host}:{port}:127.0.0.1", *extra, f"https://{host}:{port}/"],
                       capture_output=True, text=True)
    return r.stderr.strip() or "OK"


def s_client(port, host="localhost", ca="root", extra=()):
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", host,
                        "-CAfile", str(D / f"{ca}.pem"), "-verify_return_error", "-verify_hostname", host, *extra],
                       input="", capture_output=True, text=True, timeout=10)
    lines = [l for l in (r.stderr + r.stdout).splitlines() if "error" in l.lower()]
    return " || ".join(lines) or "OK"


def node(port, host="localhost", ca="root", extra=None):
    r = subprocess.run(["node", str(HERE / "client.js"), host, str(port), str(D / f"{ca}.pem") if ca else "",
                        json.dumps(extra) if extra else ""], capture_output=True, text=True, timeout=10)
    return (r.stdout + r.stderr).strip()


def java(port, host="localhost", protocols=""):
    r = subprocess.run(["java", "-cp", str(D), "-Djavax.net.ssl.trustStore=" + str(D / "root.p12"),
                        "-Djavax.net.ssl.trustStoreType=PKCS12", "-Djavax.net.ssl.trustStorePassword=changeit",
                        "Client", host, str(port), protocols], capture_output=True, text=True, timeout=20)
    return (r.stdout + r.stderr).strip()


def pymongo_client(port, ca="root", host="localhost"):
    try:
        import pymongo  # noqa: PLC0415
    except ImportError:
        return "pymongo not installed"
    try:
        c = pymongo.MongoClient(f"mongodb://{host}:{port}/", tls=True, tlsCAFile=str(D / f"{ca}.pem"),
                                serverSelectionTimeoutMS=1500, directConnection=True)
        c.admin.command("ping")
        return "OK"
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__module__}.{type(e).__name__}: {e}".split(", Timeout:")[0]


def out(scenario, client, msg):
    lines = msg.splitlines()
    # curl adds an explanatory paragraph and node a deprecation notice: keep the error itself.
    if client == "curl":
        lines = lines[:1]
    msg = " ".join(l.strip() for l in lines if l.strip() and not l.startswith("(node:") and "trace-deprecation" not in l)
    print(f"{scenario} | {client} | {msg}", flush=True)


def cert_scenario(name, certfile, ca="root", host="localhost", pyargs=None, do_java=True, mongo=False):
    p, port = s_server("-cert", str(D / f"{certfile}.pem"), "-key", str(D / f"{certfile}.key"),
                       "-cipher", "DEFAULT:@SECLEVEL=0")
    try:
        out(name, "python", py_client(port, host=host, ca=ca, **(pyargs or {})))
        out(name, "curl", curl(port, host=host, ca=ca))
        out(name, "openssl", s_client(port, host=host, ca=ca))
        out(name, "node", node(port, host=host, ca=ca))
        if do_java:
            out(name, "java", java(port, host=host))
        if mongo:
            out(name, "pymongo", pymongo_client(port, ca=ca, host=host))
    finally:
        stop(p)


def main():
    subprocess.run([sys.executable, str(HERE / "certs.py"), str(D)], check=True)
    subprocess.run(["openssl", "x509", "-x509toreq", "-in", str(D / "good_chain.pem"), "-signkey",
                    str(D / "good_chain.key"), "-out", str(D / "sha1.csr")], check=True, capture_output=True)
    (D / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    subprocess.run(["openssl", "x509", "-req", "-in", str(D / "sha1.csr"), "-CA", str(D / "rootca.pem"), "-CAkey",
                    str(D / "rootca.key"), "-CAcreateserial", "-sha1", "-days", "30", "-extfile", str(D / "san.ext"),
                    "-out", str(D / "sha1.pem")], check=True, capture_output=True)
    shutil.copy(D / "good_chain.key", D / "sha1.key")
    subprocess.run(["openssl", "dhparam", "-out", str(D / "dh1024.pem"), "1024"], check=True, capture_output=True)
    subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "root", "-file", str(D / "root.pem"),
                    "-keystore", str(D / "root.p12"), "-storetype", "PKCS12", "-storepass", "changeit"],
                   check=True, capture_output=True)
    subprocess.run(["javac", "-d", str(D), str(HERE / "Client.java")], check=True)

    cert_scenario("self-signed", "self_signed", mongo=True)
    cert_scenario("missing-intermediate", "leaf_only", mongo=True)
    cert_scenario("unknown-root", "good_chain", ca="self_signed", do_java=False)
    cert_scenario("untrusted-root-in-chain", "chain_with_root", ca="self_signed", do_java=False)
    cert_scenario("hostname-mismatch", "wrong_host", mongo=True)
    cert_scenario("hostname-mismatch-ip", "wrong_host", host="127.0.0.1")
    cert_scenario("expired", "expired", mongo=True)
    cert_scenario("not-yet-valid", "not_yet")
    cert_scenario("weak-key", "weak_key", pyargs={"seclevel": 2})
    cert_scenario("sha1-signature", "sha1", pyargs={"seclevel": 2})

    # Plain HTTP on the port.
    p, port = start([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "{port}"])
    try:
        out("plain-http", "python", py_client(port))
        out("plain-http", "curl", curl(port))
        out("plain-http", "openssl", s_client(port))
        out("plain-http", "node", node(port))
        out("plain-http", "java", java(port))
        out("plain-http", "pymongo", pymongo_client(port))
    finally:
        stop(p)

    # An SMTP-like banner (a port that wants STARTTLS).
    def smtp(c):
        with c:
            c.sendall(b"220 mail.localhost ESMTP ready\r\n")
            with contextlib.suppress(OSError):
                c.settimeout(2)
                c.recv(4096)
    srv, port = py_thread_server(smtp)
    out("smtp-banner", "python", py_client(port))
    out("smtp-banner", "curl", curl(port))
    out("smtp-banner", "openssl", s_client(port))
    out("smtp-banner", "node", node(port))
    out("smtp-banner", "java", java(port))
    srv.close()

    # Server closes the connection right after accept.
    def slam(c):
        with c:
            with contextlib.suppress(OSError):
                c.settimeout(1)
                c.recv(10)
    srv, port = py_thread_server(slam)
    out("eof", "python", py_client(port))
    out("eof", "curl", curl(port))
    out("eof", "openssl", s_client(port))
    out("eof", "node", node(port))
    out("eof", "java", java(port))
    srv.close()

    # Server that accepts and never answers.
    def silent(c):
        time.sleep(6)
        c.close()
    srv, port = py_thread_server(silent)
    out("silent", "python", py_client(port))
    out("silent", "curl", curl(port))
    srv.close()

    # Nothing listening.
    port = free_port()
    out("refused", "python", py_client(port))
    out("refused", "curl", curl(port))
    out("refused", "node", node(port))
    out("refused", "java", java(port))
    out("refused", "pymongo", pymongo_client(port))

    good = ["-cert", str(D / "good_chain.pem"), "-key", str(D / "good_chain.key"), "-cert_chain",
            str(D / "good_chain.pem")]

    # Server speaks only TLS 1.0.
    p, port = s_server(*good, "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0")
    try:
        out("server-tls10-only", "python", py_client(port))
        out("server-tls10-only", "curl", curl(port))
        out("server-tls10-only", "openssl", s_client(port))
        out("server-tls10-only", "node", node(port))
        out("server-tls10-only", "java", java(port))
        out("server-tls10-only", "pymongo", pymongo_client(port))
    finally:
        stop(p)

    # Server speaks only TLS 1.3, client tops out at TLS 1.2 / 1.1.
    p, port = s_server(*good, "-tls1_3")
    try:
        out("server-tls13-only", "python", py_client(port, maxv=ssl.TLSVersion.TLSv1_2))
        out("server-tls13-only", "curl", curl(port, extra=("--tls-max", "1.2")))
        out("server-tls13-only", "openssl", s_client(port, extra=("-tls1_2",)))
        out("server-tls13-only", "node", node(port, extra={"maxVersion": "TLSv1.2"}))
        out("server-tls13-only", "java", java(port, protocols="TLSv1.2"))
    finally:
        stop(p)

    # Client restricted to TLS 1.0 by its own security level: nothing left to offer.
    p, port = s_server(*good)
    try:
        out("client-no-protocols", "python", py_client(port, minv=ssl.TLSVersion.TLSv1, maxv=ssl.TLSVersion.TLSv1))
        out("client-no-protocols", "openssl", s_client(port, extra=("-tls1",)))
        out("client-no-protocols", "curl", curl(port, extra=("--tlsv1.0", "--tls-max", "1.0")))
        out("client-no-protocols", "java", java(port, protocols="TLSv1"))
        out("client-no-protocols", "node", node(port, extra={"maxVersion": "TLSv1", "minVersion": "TLSv1"}))
    finally:
        stop(p)

    # Client certificate required.
    for tag, extra in (("tls13", ()), ("tls12", ("-no_tls1_3",))):
        p, port = s_server(*good, "-Verify", "1", *extra)
        try:
            out(f"client-cert-{tag}", "python", py_client(port))
            out(f"client-cert-{tag}", "curl", curl(port))
            out(f"client-cert-{tag}", "openssl", s_client(port))
            out(f"client-cert-{tag}", "node", node(port))
            out(f"client-cert-{tag}", "java", java(port))
        finally:
            stop(p)

    # No cipher in common (server wants ECDSA suites but has an RSA key).
    p, port = s_server(*good, "-no_tls1_3", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
    try:
        out("no-shared-cipher", "python", py_client(port))
        out("no-shared-cipher", "curl", curl(port))
        out("no-shared-cipher", "openssl", s_client(port))
        out("no-shared-cipher", "node", node(port))
        out("no-shared-cipher", "java", java(port))
        out("no-shared-cipher", "pymongo", pymongo_client(port))
    finally:
        stop(p)

    # 1024-bit DH group, client at security level 2 (needs >= 2048 bits).
    p, port = s_server(*good, "-no_tls1_3", "-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0", "-dhparam",
                       str(D / "dh1024.pem"))
    try:
        out("dh-1024", "python", py_client(port, ciphers="DHE-RSA-AES128-GCM-SHA256", seclevel=2))
        out("dh-1024", "curl", curl(port, extra=("--ciphers", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=2")))
        out("dh-1024", "openssl", s_client(port, extra=("-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=2")))
        out("dh-1024", "node", node(port, extra={"ciphers": "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=2"}))
    finally:
        stop(p)

    # Server without secure renegotiation (RFC 5746) support: gnutls with it disabled.
    port = free_port()
    p = subprocess.Popen(["gnutls-serv", "-p", str(port), "--x509certfile", str(D / "good_chain.pem"),
                          "--x509keyfile", str(D / "good_chain.key"), "--priority",
                          "NORMAL:-VERS-TLS1.3:%DISABLE_SAFE_RENEGOTIATION"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    PROCS.append(p)
    wait_port(port)
    try:
        out("no-secure-renegotiation", "python", py_client(port))
        out("no-secure-renegotiation", "curl", curl(port))
        out("no-secure-renegotiation", "openssl", s_client(port))
        out("no-secure-renegotiation", "node", node(port))
        out("no-secure-renegotiation", "pymongo", pymongo_client(port))
    finally:
        stop(p)

    # SNI: the server knows only `localhost` and rejects other names with a fatal alert.
    p, port = s_server(*good, "-servername", "localhost", "-cert2", str(D / "good_chain.pem"), "-key2",
                       str(D / "good_chain.key"), "-servername_fatal")
    try:
        out("sni-unrecognized", "python", py_client(port, host="other.localhost", verify=False))
        out("sni-unrecognized", "curl", curl(port, host="other.localhost"))
        out("sni-unrecognized", "openssl", s_client(port, host="other.localhost"))
        out("sni-unrecognized", "node", node(port, host="other.localhost"))
        out("sni-unrecognized", "java", java(port, host="other.localhost"))
    finally:
        stop(p)


if __name__ == "__main__":
    try:
        main()
    finally:
        for pr in PROCS:
            if pr.poll() is None:
                pr.kill()
                pr.wait()
        shutil.rmtree(D, ignore_errors=True)
