//! The Certificate message size limit of the two Python-library profiles, measured against
//! the real clients at their boundary: PyMongo with its `ocsp` extra (pyOpenSSL on the
//! OpenSSL 4.0 bundled with cryptography) and pyOpenSSL 19 on the OpenSSL 1.1.0j bundled with
//! cryptography 2.4.2 (`pyopenssl-openssl110`). Each client meets an openssl s_server whose
//! only certificate has a DER size one byte either side of its limit; `tlsdoctor simulate`
//! with the profile must say what the real client did, with the real client's text. The
//! limits are the profiles' `max_certificate_message` (data/clients/).

use crate::common::servers::{ServerProcess, openssl_s_server_with};
use crate::handshake::{leaf_of_size, rsa_root, simulated};
use std::path::Path;
use std::process::{Command, Stdio};

/// s_server with the leaf `name` from `dir`, answering HTTP; `extra` its other options.
fn serve(dir: &Path, name: &str, extra: &[&str]) -> ServerProcess {
    let mut args = vec!["-www"];
    args.extend_from_slice(extra);
    openssl_s_server_with(
        &args,
        &dir.join(format!("{name}.pem")),
        &dir.join(format!("{name}.key")),
        None,
    )
}

/// What a client did: connected (TLS completed), or the text it failed with.
#[derive(Debug)]
struct Outcome {
    connects: bool,
    text: String,
}

/// PyMongo's error connecting to localhost:`port` over TLS, trusting `root`. s_server is not
/// MongoDB, so a completed handshake still ends in an error, but not in an SSL one.
fn pymongo(port: u16, root: &Path) -> Outcome {
    let script = format!(
        r#"
import pymongo
from pymongo.ssl_support import HAVE_PYSSL
assert HAVE_PYSSL, "PyMongo is not using pyOpenSSL: the ocsp extra is missing"
c = pymongo.MongoClient("mongodb://localhost:{port}/?tls=true&tlsCAFile={ca}&serverSelectionTimeoutMS=3000&connectTimeoutMS=3000&directConnection=true")
try:
    c.admin.command("ping")
    print("OK")
except Exception as e:
    print(str(e))
"#,
        ca = root.display()
    );
    let out = Command::new("timeout")
        .arg("30")
        .arg(crate::common::venv::pymongo())
        .arg("-c")
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .expect("run PyMongo");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // ServerSelectionTimeoutError appends the timeouts and the topology description; the
    // error is before them.
    let text = text
        .split(", Timeout:")
        .next()
        .and_then(|t| t.split(" (configured timeouts").next())
        .unwrap_or("")
        .to_string();
    Outcome {
        connects: !text.contains("SSL handshake failed") && !text.contains("SSL routines"),
        text,
    }
}

/// pyOpenSSL 19 on OpenSSL 1.1.0j (the venv of tests/integration/simulate/old_openssl.rs):
/// a default Context verifying against `root`, with SNI localhost.
fn pyopenssl_110(port: u16, root: &Path) -> Outcome {
    const CLIENT: &str = r#"
import socket, sys
from OpenSSL import SSL
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = SSL.Context(SSL.SSLv23_METHOD)
ctx.set_verify(SSL.VERIFY_PEER, lambda conn, cert, errno, depth, ok: ok)
ctx.load_verify_locations(cafile)
try:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.settimeout(None)
    conn = SSL.Connection(ctx, sock)
    conn.set_tlsext_host_name(b"localhost")
    conn.set_connect_state()
    conn.do_handshake()
    print("OK")
except Exception as e:
    print("ERR", e)
"#;
    let out = Command::new("timeout")
        .arg("15")
        .arg(super::old_openssl::python())
        .arg("-c")
        .arg(CLIENT)
        .arg(port.to_string())
        .arg(root)
        .stdin(Stdio::null())
        .output()
        .expect("run pyOpenSSL");
    let line = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    Outcome {
        connects: line == "OK",
        text: line.trim_start_matches("ERR ").to_string(),
    }
}

#[test]
fn python_library_profiles_read_certificate_messages_up_to_their_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    // (profile, leaf DER size, TLS 1.2 only, connects). The leaf is sent alone: its
    // Certificate message is DER + 9 bytes in TLS 1.3, DER + 6 in TLS 1.2; both OpenSSL
    // builds read at most 102400 bytes (their default max_cert_list).
    let cases: &[(&str, usize, bool, bool)] = &[
        ("pymongo", 102391, false, true),
        ("pymongo", 102392, false, false),
        ("pymongo", 102394, true, true),
        ("pymongo", 102395, true, false),
        ("pyopenssl-openssl110", 102394, false, true),
        ("pyopenssl-openssl110", 102395, false, false),
    ];
    let mut problems = Vec::new();
    for (i, (id, size, tls12, connects)) in cases.iter().enumerate() {
        let name = format!("leaf{i}");
        leaf_of_size(d, &name, *size);
        let server = serve(d, &name, if *tls12 { &["-no_tls1_3"] } else { &[] });
        let real = match *id {
            "pymongo" => pymongo(server.port, &root),
            _ => pyopenssl_110(server.port, &root),
        };
        let case = format!("{id} with a {size}-byte leaf (TLS 1.2 only: {tls12})");
        println!("{case}: {real:?}");
        if real.connects != *connects {
            problems.push(format!("{case}: real client: {real:?}"));
        }
        let sims = simulated(server.port, &root, &[id]);
        let (_, sim_connects, sim_text) = &sims[0];
        if *sim_connects != real.connects {
            problems.push(format!(
                "{case}: simulated connects={sim_connects} ({sim_text}), real: {real:?}"
            ));
        } else if !real.connects {
            // The address in PyMongo's text is the one it was given (localhost:PORT); the
            // simulation words it for the target it probed. The rest must be the same.
            let tail = |t: &str| t.rsplit(": [").next().unwrap_or("").to_string();
            if tail(sim_text) != tail(&real.text) || !sim_text.contains("excessive message size") {
                problems.push(format!(
                    "{case}: simulated text {sim_text:?}, real {:?}",
                    real.text
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// PyMongo's key-size and digest limits (its profile's, OpenSSL 3 at level 1 with pyOpenSSL
/// on the OpenSSL that cryptography bundles) against the real PyMongo: RSA-512, RSA-1024 and
/// MD5- and SHA-1-signed leaves refused, RSA-2048 accepted, each served over TLS 1.2 with
/// PKCS#1 signatures at security level 0 so only the client can refuse; the simulation must
/// say the same, with PyMongo's text.
#[test]
fn pymongo_key_and_digest_limits_match_the_real_client() {
    let pki = crate::common::broken_pki::BrokenPki::build();
    let root = pki.root();
    let mut problems = Vec::new();
    let mut refused = Vec::new();
    for name in ["rsa512", "rsa1024", "sha1", "md5", "rsa2048"] {
        let server = pki.serve_to_judge_the_client(name, "pymongo");
        let real = pymongo(server.port, &root);
        let sims = simulated(server.port, &root, &["pymongo"]);
        let (_, sim_connects, sim_text) = &sims[0];
        // The address in PyMongo's text is the one it was given (localhost:PORT); the
        // simulation words it for the target it probed. The rest must be the same.
        let tail = |t: &str| t.rsplit(": [").next().unwrap_or("").to_string();
        if *sim_connects != real.connects || (!real.connects && tail(sim_text) != tail(&real.text))
        {
            problems.push(format!(
                "{name}: simulated connects={sim_connects} ({sim_text}), real: {real:?}"
            ));
        }
        if !real.connects {
            refused.push(name);
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(refused, ["rsa512", "rsa1024", "sha1", "md5"]);
}
