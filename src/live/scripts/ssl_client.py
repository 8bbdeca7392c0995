# tlsdoctor check: one TLS handshake with this interpreter's ssl module, then close.
# Runs on Python 2.7 and 3.x. Argument: a JSON object (see src/live/clients.rs). Prints one
# JSON line: {"ok": true, "version": ...} or {"ok": false, "error": str(exception)}.
import json
import socket
import ssl
import sys

c = json.loads(sys.argv[1])
result = {"ok": False}
sock = None
try:
    ctx = ssl.create_default_context(cafile=c.get("cafile"))
    if c.get("cert"):
        ctx.load_cert_chain(c["cert"], c.get("key"))
    raw = socket.create_connection(("127.0.0.1", c["port"]), timeout=c["timeout"])
    # The name the application would connect to: its certificate check and (unless SNI is
    # off) the SNI it sends.
    if c["sni"]:
        sock = ctx.wrap_socket(raw, server_hostname=c["host"])
    else:
        ctx.check_hostname = False
        sock = ctx.wrap_socket(raw)
        if hasattr(ssl, "match_hostname"):
            ssl.match_hostname(sock.getpeercert(), c["host"])
    version = sock.version()
    # Listen a moment without sending anything: a TLS 1.3 server that refuses the client
    # (no client certificate) says so only after the client's Finished.
    sock.settimeout(c["settle_ms"] / 1000.0)
    try:
        sock.recv(1)
    except socket.timeout:
        pass
    except ssl.SSLError as e:
        if "timed out" not in str(e):
            raise
    result = {"ok": True, "version": version}
except Exception as e:
    result = {"ok": False, "error": str(e), "type": type(e).__name__}
finally:
    if sock is not None:
        try:
            sock.close()
        except Exception:
            pass
print(json.dumps(result))
