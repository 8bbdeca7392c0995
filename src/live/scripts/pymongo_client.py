# tlsdoctor check: PyMongo's TLS connection to the server, then close. The client is built
# here from the host and port alone (never from the user's URI, so no credentials are sent);
# name resolution for that host and port is pointed at tlsdoctor's relay. The only command
# sent is "ping" (after the driver's own "hello"). Argument: a JSON object (see
# src/live/clients.rs). Prints one JSON line: {"ok": ..., "error": ..., "tls": ...}.
import json
import socket
import sys

c = json.loads(sys.argv[1])
try:
    import pymongo
except Exception as e:
    print(json.dumps({"ok": False, "absent": True, "error": "PyMongo is not installed: %s" % e}))
    sys.exit(0)

real_getaddrinfo = socket.getaddrinfo


def relay_getaddrinfo(host, port, *args, **kwargs):
    if host == c["host"] and int(port) == c["server_port"]:
        return real_getaddrinfo("127.0.0.1", c["port"], *args, **kwargs)
    return real_getaddrinfo(host, port, *args, **kwargs)


socket.getaddrinfo = relay_getaddrinfo

options = {
    "tls": True,
    "directConnection": True,
    "serverSelectionTimeoutMS": int(min(c["timeout"], 5) * 1000),
    "connectTimeoutMS": int(c["timeout"] * 1000),
    "socketTimeoutMS": int(c["timeout"] * 1000),
    "retryReads": False,
}
if c.get("cafile"):
    options["tlsCAFile"] = c["cafile"]
if c.get("cert_and_key"):
    options["tlsCertificateKeyFile"] = c["cert_and_key"]
result = {"ok": True}
client = None
try:
    client = pymongo.MongoClient(host=c["host"], port=c["server_port"], **options)
    client.admin.command("ping")
except Exception as e:
    text = "%s: %s" % (type(e).__name__, e)
    result = {"ok": False, "error": text}
finally:
    if client is not None:
        client.close()
print(json.dumps(result))
