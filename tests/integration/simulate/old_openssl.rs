//! The OpenSSL 1.1.0 client profile (`pyopenssl-openssl110`) checked against the real client
//! it was captured from: pyOpenSSL 19.0.0 on cryptography 2.4.2, whose manylinux1 abi3 wheel
//! bundles OpenSSL 1.1.0j and still installs on Python 3.11. Both the real client and
//! `tlsdoctor simulate` meet the same misconfigured local servers and must agree on the
//! outcome and on the exact error text.
//!
//! The stack lives in target/test-venv/oldssl, created with pip on first use and reused.

use crate::common::cli::tlsdoctor;
use crate::common::pki::Pki;
use crate::common::servers::{ServerProcess, banner_server, free_port, spawn_listening};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const PROFILE: &str = "pyopenssl-openssl110";

/// The venv's python, with `cryptography==2.4.2` and `pyOpenSSL==19.0.0` from wheels.
pub(super) fn python() -> &'static PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        // Wheels only: a source build of cryptography 2.4 would link the system's OpenSSL 3
        // (and fail), which is not the stack this profile describes.
        crate::common::venv::python_venv(
            "oldssl",
            &[
                "--only-binary=:all:",
                "cryptography==2.4.2",
                "pyOpenSSL==19.0.0",
            ],
            "import OpenSSL, cryptography",
        )
    })
}

/// The old client: a default pyOpenSSL Context that verifies the peer against `cafile` and
/// sends SNI, as an application of the OpenSSL 1.1.0 era wrote it. Prints "OK <version>" or
/// "ERR <str(exception)>".
const CLIENT: &str = r#"
import socket, sys
from OpenSSL import SSL
port, host, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = SSL.Context(SSL.SSLv23_METHOD)
ctx.set_verify(SSL.VERIFY_PEER, lambda conn, cert, errno, depth, ok: ok)
if cafile:
    ctx.load_verify_locations(cafile)
try:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.settimeout(None)  # pyOpenSSL wants a blocking socket; `timeout` bounds the run
    conn = SSL.Connection(ctx, sock)
    conn.set_tlsext_host_name(host.encode())
    conn.set_connect_state()
    conn.do_handshake()
    conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
    conn.recv(16)
    print("OK", conn.get_protocol_version_name())
except Exception as e:
    print("ERR", e)
"#;

#[derive(Debug, Clone)]
struct Real {
    connects: bool,
    version: String,
    text: String,
}

fn old_client(port: u16, cafile: Option<&Path>) -> Real {
    let out = Command::new("timeout")
        .arg("15")
        .arg(python())
        .arg("-c")
        .arg(CLIENT)
        .arg(port.to_string())
        .arg("localhost")
        .arg(cafile.unwrap_or(Path::new("")))
        .stdin(Stdio::null())
        .output()
        .expect("run the old client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("").to_string();
    match line.strip_prefix("OK ") {
        Some(v) => Real {
            connects: true,
            version: v.to_string(),
            text: String::new(),
        },
        None => Real {
            connects: false,
            version: String::new(),
            text: line.trim_start_matches("ERR ").to_string(),
        },
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let st = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(st.success(), "openssl {args:?}");
}

/// The PKI's RSA-2048 leaf (rsa.pem/rsa.key), and a 512-bit DH group as dh512.pem.
fn rsa_leaf_and_dh512(pki: &Pki) {
    pki.rsa_leaf();
    openssl(
        pki.dir.path(),
        &[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DH",
            "-pkeyopt",
            "dh_paramgen_prime_len:512",
            "-out",
            "dh512.pem",
        ],
    );
}

/// `openssl s_server -www` with `leaf` and the intermediate.
fn s_server(pki: &Pki, leaf: &str, extra: &[&str]) -> ServerProcess {
    let chain = pki.path("int.pem");
    let mut args = vec!["-www", "-cert_chain", chain.to_str().unwrap()];
    args.extend_from_slice(extra);
    crate::common::servers::openssl_s_server_with(
        &args,
        &pki.path(&format!("{leaf}.pem")),
        &pki.path(&format!("{leaf}.key")),
        None,
    )
}

/// `gnutls-serv --http` with the RSA leaf and chain and a priority string.
fn gnutls_serv(pki: &Pki, priority: &str, extra: &[&str]) -> ServerProcess {
    let port = free_port();
    let chain = pki.bundle("rsa-chain.pem", &["rsa.pem", "int.pem"]);
    let mut cmd = Command::new("gnutls-serv");
    cmd.args(["--http", "--port", &port.to_string()])
        .arg("--x509certfile")
        .arg(chain)
        .arg("--x509keyfile")
        .arg(pki.path("rsa.key"))
        .args(["--priority", priority])
        .args(extra);
    spawn_listening("gnutls-serv", cmd, port, None)
}

/// What `tlsdoctor simulate` says for this profile and for Python's (the contrast).
fn simulate(addr: SocketAddr, root: &Path) -> (serde_json::Value, serde_json::Value) {
    let target = addr.to_string();
    let r = tlsdoctor(&[
        "simulate",
        &target,
        "--sni",
        "localhost",
        "--cafile",
        root.to_str().unwrap(),
        "--client",
        PROFILE,
        "--client",
        "python",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{target}: {}", r.stderr);
    let doc = r.json();
    let sims = doc["servers"][0]["simulations"].as_array().unwrap().clone();
    let by = |id: &str| {
        sims.iter()
            .find(|s| s["client"] == id)
            .unwrap_or_else(|| panic!("{target}: no simulation of {id}: {doc}"))
            .clone()
    };
    (by(PROFILE), by("python"))
}

/// Servers and what the old client is expected to do there: `None` connects, `Some(text)`
/// fails with that text. The expectations are the measurements the profile was filled from;
/// the test checks them against the real client and the simulation against both.
fn expectations() -> Vec<(&'static str, Option<&'static str>)> {
    vec![
        ("tls10-only", None),
        ("no-secure-renegotiation", None),
        ("rsa-kx-only", None),
        ("dh1024", None),
        (
            "dh512",
            Some("[('SSL routines', 'tls_process_ske_dhe', 'dh key too small')]"),
        ),
        ("rsa1024-leaf", None),
        ("sha1-leaf", None),
        ("wrong-host", None),
        (
            "expired",
            Some(
                "[('SSL routines', 'tls_process_server_certificate', 'certificate verify failed')]",
            ),
        ),
        (
            "client-cert-required",
            Some("[('SSL routines', 'ssl3_read_bytes', 'sslv3 alert handshake failure')]"),
        ),
        (
            "tls13-only",
            Some("[('SSL routines', 'ssl3_read_bytes', 'tlsv1 alert protocol version')]"),
        ),
        (
            "plaintext-banner",
            Some("[('SSL routines', 'ssl3_get_record', 'wrong version number')]"),
        ),
        ("closes-after-hello", Some("(-1, 'Unexpected EOF')")),
        ("healthy", None),
    ]
}

#[test]
fn old_openssl_client_and_simulation_agree() {
    let py = python();
    let version = Command::new(py)
        .args([
            "-c",
            "from OpenSSL import SSL; print(SSL.SSLeay_version(SSL.SSLEAY_VERSION).decode())",
        ])
        .output()
        .expect("python");
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    assert_eq!(
        version, "OpenSSL 1.1.0j  20 Nov 2018",
        "the venv does not run the bundled OpenSSL 1.1.0j"
    );

    let pki = Pki::build();
    rsa_leaf_and_dh512(&pki);
    let root = pki.path("root.pem");
    let dh1024 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dh1024.pem");
    let dh512 = pki.path("dh512.pem");
    let low = "DEFAULT:@SECLEVEL=0";
    let servers: Vec<(&str, ServerProcess)> = vec![
        (
            "tls10-only",
            s_server(&pki, "good", &["-tls1", "-cipher", low]),
        ),
        (
            "no-secure-renegotiation",
            gnutls_serv(&pki, "NORMAL:-VERS-TLS1.3:%DISABLE_SAFE_RENEGOTIATION", &[]),
        ),
        (
            "rsa-kx-only",
            s_server(
                &pki,
                "rsa",
                &[
                    "-no_tls1_3",
                    "-cipher",
                    "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA",
                ],
            ),
        ),
        (
            "dh1024",
            s_server(
                &pki,
                "rsa",
                &[
                    "-no_tls1_3",
                    "-cipher",
                    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0",
                    "-dhparam",
                    dh1024.to_str().unwrap(),
                ],
            ),
        ),
        (
            // OpenSSL 3's s_server refuses to load a 512-bit group; GnuTLS serves it to
            // clients that offer no RFC 7919 group (this one offers none).
            "dh512",
            gnutls_serv(
                &pki,
                "NORMAL:-VERS-TLS1.3:-KX-ALL:+DHE-RSA",
                &["--dhparams", dh512.to_str().unwrap()],
            ),
        ),
        ("rsa1024-leaf", s_server(&pki, "weak", &["-cipher", low])),
        ("sha1-leaf", s_server(&pki, "sha1", &["-cipher", low])),
        ("wrong-host", s_server(&pki, "wronghost", &[])),
        ("expired", s_server(&pki, "expired", &[])),
        (
            "client-cert-required",
            s_server(
                &pki,
                "good",
                &["-Verify", "1", "-CAfile", root.to_str().unwrap()],
            ),
        ),
        ("tls13-only", s_server(&pki, "good", &["-tls1_3"])),
        ("healthy", s_server(&pki, "good", &[])),
    ];
    let mut addrs: Vec<(&str, SocketAddr)> = servers.iter().map(|(c, s)| (*c, s.addr())).collect();
    addrs.push((
        "plaintext-banner",
        banner_server(b"220 mail.test ESMTP ready\r\n", b"500 what?\r\n"),
    ));
    addrs.push(("closes-after-hello", banner_server(b"", b"")));

    // The real client and the simulation, every server at once.
    let results: Vec<(&str, Real, serde_json::Value, serde_json::Value)> =
        std::thread::scope(|sc| {
            let handles: Vec<_> = addrs
                .iter()
                .map(|&(case, addr)| {
                    let root = &root;
                    sc.spawn(move || {
                        let real = old_client(addr.port(), Some(root));
                        let (sim, python_sim) = simulate(addr, root);
                        (case, real, sim, python_sim)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });

    let mut problems = Vec::new();
    for (case, expected) in expectations() {
        let (_, real, sim, _) = results.iter().find(|r| r.0 == case).unwrap();
        let sim_connects = sim["connects"].as_bool().unwrap_or(false);
        let sim_text = sim["failure"]["error"].as_str().unwrap_or("");
        match expected {
            None if !real.connects => problems.push(format!(
                "{case}: the real client failed ({}), the profile says it connects",
                real.text
            )),
            Some(t) if real.connects || real.text != t => problems.push(format!(
                "{case}: the real client gave {real:?}, measured before: {t:?}"
            )),
            _ => {}
        }
        if real.connects != sim_connects || (!real.connects && real.text != sim_text) {
            problems.push(format!(
                "{case}: real connects={} {:?}, simulated connects={sim_connects} {sim_text:?}",
                real.connects, real.text
            ));
        }
        if real.connects {
            let v = sim["version"].as_str().unwrap_or("");
            let want = match real.version.as_str() {
                "TLSv1" => "tls1_0",
                "TLSv1.1" => "tls1_1",
                "TLSv1.2" => "tls1_2",
                other => other,
            };
            if v != want {
                problems.push(format!(
                    "{case}: real version {}, simulated {v}",
                    real.version
                ));
            }
        }
    }
    assert!(problems.is_empty(), "mismatches:\n{}", problems.join("\n"));

    // The old profile must not just copy a modern one: where OpenSSL 1.1.0 connects, the
    // Python 3.11 (OpenSSL 3) simulation fails on the same server.
    for case in [
        "tls10-only",
        "no-secure-renegotiation",
        "rsa-kx-only",
        "dh1024",
        "rsa1024-leaf",
        "sha1-leaf",
        "wrong-host",
    ] {
        let (_, _, _, py) = results.iter().find(|r| r.0 == case).unwrap();
        assert_eq!(
            py["connects"], false,
            "{case}: Python's simulation connects too, so the case shows nothing: {py}"
        );
    }
    let (_, _, _, py) = results.iter().find(|r| r.0 == "tls13-only").unwrap();
    assert_eq!(py["connects"], true, "tls13-only: {py}");
}

/// The profile's hello is what the installed client sends: capture-client against the real
/// client yields the same cipher suites and extensions in the same order (only the random,
/// session id and SNI name differ between runs).
/// Kills the child process when dropped (also when an assertion fails first).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn profile_hello_matches_a_fresh_capture() {
    use tlsdoctor::wire::ClientHello;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("captured.toml");
    let child = Command::new(env!("CARGO_BIN_EXE_tlsdoctor"))
        .args(["capture-client", "--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--id", "fresh", "--style", "generic", "--wait", "20", "--out",
        ])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start capture-client");
    let mut capture = Killed(child);
    // It says when it listens (a probe connection would be taken for the client).
    let mut err = BufReader::new(capture.0.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        let n = err.read_line(&mut line).expect("read capture-client");
        assert!(n > 0, "capture-client ended before listening");
    }
    // The capture listener answers with no TLS, so the client fails; only its hello matters.
    let real = old_client(port, None);
    let st = capture.0.wait().expect("wait capture-client");
    assert!(st.success(), "capture-client failed; client said {real:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    let fresh: toml::Value = toml::from_str(&text).unwrap();
    let fresh = hex::decode(fresh["hello"].as_str().unwrap()).unwrap();
    let fresh = ClientHello::parse_record(&fresh).unwrap();
    let profile = tlsdoctor::clients::find_profile(PROFILE).expect("profile is built in");
    let stored = ClientHello::parse_record(&profile.hello_bytes()).unwrap();
    assert_eq!(fresh.cipher_suites, stored.cipher_suites);
    let types = |h: &ClientHello| h.extensions.iter().map(|e| e.typ()).collect::<Vec<_>>();
    assert_eq!(types(&fresh), types(&stored));
    assert!(
        !stored
            .cipher_suites
            .contains(&tlsdoctor::wire::suites::CipherSuiteId(0x1301)),
        "OpenSSL 1.1.0 has no TLS 1.3"
    );
}

/// The profile's key-size and digest limits at their edges, against the real OpenSSL 1.1.0
/// client: an RSA-512 leaf and an MD5-signed leaf (tests/integration/cert/limits.rs does the
/// same for the six clients of this machine), each served over TLS 1.2 with PKCS#1
/// signatures at security level 0, so only the client can refuse.
#[test]
fn old_openssl_key_and_digest_limits_match_the_real_client() {
    let pki = crate::common::broken_pki::BrokenPki::build();
    let root = pki.root();
    let mut problems = Vec::new();
    let mut refused = Vec::new();
    for name in ["rsa512", "md5", "rsa2048"] {
        let srv = pki.serve_to_judge_the_client(name, "old");
        let real = old_client(srv.port, Some(&root));
        let (sim, _) = simulate(srv.addr(), &root);
        let sim_connects = sim["connects"].as_bool().unwrap();
        let sim_text = sim["failure"]["error"].as_str().unwrap_or("");
        if real.connects != sim_connects || (!real.connects && real.text != sim_text) {
            problems.push(format!(
                "{name}: real connects={} {:?}, simulated connects={sim_connects} {sim_text:?}",
                real.connects, real.text
            ));
        }
        if !real.connects {
            refused.push(name);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // OpenSSL 1.1.0 at its default level refuses both; the 2048-bit control connects.
    assert_eq!(refused, ["rsa512", "md5"]);
}
