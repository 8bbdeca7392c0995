# tlsdoctor env: describe this interpreter's TLS stack as one JSON object on stdout.
# Run with `python -c`. Must run unchanged on Python 2.7 (also before 2.7.9, which has no
# SSLContext), on every Python 3 from 3.4, and on PyPy: no f-strings, no annotations, and every
# attribute that appeared in a later release is looked up with getattr/hasattr. It only reads,
# never connects.
from __future__ import print_function
import json
import platform
import sys

out = {
    "version": sys.version.split()[0],
    "implementation": platform.python_implementation(),
    "executable": sys.executable,
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", getattr(sys, "real_prefix", sys.prefix)),
    "platform": sys.platform,
}
pypy = getattr(sys, "pypy_version_info", None)
if pypy is not None:
    out["implementation_version"] = "%d.%d.%d" % (pypy[0], pypy[1], pypy[2])


def describe(e):
    return "%s: %s" % (type(e).__name__, e)


try:
    import ssl
except Exception as e:  # a Python built without the ssl module
    out["ssl_error"] = describe(e)
    print(json.dumps(out))
    sys.exit(0)

out["openssl_version"] = getattr(ssl, "OPENSSL_VERSION", None)
out["openssl_version_info"] = list(getattr(ssl, "OPENSSL_VERSION_INFO", ()))

# HAS_SSLv3 ... HAS_TLSv1_3 exist from Python 3.7 (HAS_TLSv1_3 alone was backported to 2.7.15
# and 3.6.3); older interpreters only tell through which PROTOCOL_* constants exist, which is
# what the user sees too (`ssl.PROTOCOL_TLSv1_2` raising AttributeError).
has = {}
for name, attr in (("SSLv2", "HAS_SSLv2"), ("SSLv3", "HAS_SSLv3"), ("TLSv1", "HAS_TLSv1"),
                   ("TLSv1.1", "HAS_TLSv1_1"), ("TLSv1.2", "HAS_TLSv1_2"),
                   ("TLSv1.3", "HAS_TLSv1_3")):
    if hasattr(ssl, attr):
        has[name] = bool(getattr(ssl, attr))
out["has_protocols"] = has
out["protocol_constants"] = sorted(n for n in dir(ssl) if n.startswith("PROTOCOL_"))
op_no = {}
for name in ("OP_NO_SSLv2", "OP_NO_SSLv3", "OP_NO_TLSv1", "OP_NO_TLSv1_1", "OP_NO_TLSv1_2",
             "OP_NO_TLSv1_3"):
    if hasattr(ssl, name):
        op_no[name] = int(getattr(ssl, name))
out["op_no"] = op_no

try:
    p = ssl.get_default_verify_paths()
    out["verify_paths"] = {
        "cafile": p.cafile, "capath": p.capath,
        "openssl_cafile_env": p.openssl_cafile_env, "openssl_cafile": p.openssl_cafile,
        "openssl_capath_env": p.openssl_capath_env, "openssl_capath": p.openssl_capath,
    }
except Exception as e:
    out["verify_paths_error"] = describe(e)

try:
    c = ssl.create_default_context()
    d = {"options": int(c.options)}
    if hasattr(c, "minimum_version"):
        d["minimum_version"] = int(c.minimum_version)
        d["maximum_version"] = int(c.maximum_version)
    if hasattr(c, "security_level"):
        d["security_level"] = int(c.security_level)
    try:
        d["ca_certs_loaded"] = int(c.cert_store_stats().get("x509_ca", 0))
    except Exception:
        pass
    out["context"] = d
except Exception as e:
    out["context_error"] = describe(e)

try:
    import certifi
    out["certifi"] = {"where": certifi.where(), "version": getattr(certifi, "__version__", None)}
except ImportError:
    out["certifi"] = None
except Exception as e:
    out["certifi_error"] = describe(e)

print(json.dumps(out))
