//! `tlsdoctor scan` against servers that still speak SSL 3.0 and SSL 2.0.
//!
//! No OpenSSL or GnuTLS here speaks either, so:
//! - SSL 3.0: tlslite-ng (pure Python, from PyPI, in a virtual environment under
//!   target/test-venv/tlslite made on first use and reused), its `tls.py server`. What it
//!   accepts is asked from tlslite-ng itself (tests/peers/tlslite_suites.py runs the suite
//!   selection of its server code), and the scan must report exactly that.
//! - SSL 2.0: tests/peers/sslv2_server.py, a standard-library stand-in that answers a real
//!   SSL 2.0 CLIENT-HELLO with a SERVER-HELLO (real certificate, chosen cipher kinds).

use crate::common::cli::tlsdoctor;
use crate::common::servers::{ServerProcess, free_port, self_signed, spawn_listening};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use tlsdoctor::wire::codec::{Codec, Reader};
use tlsdoctor::wire::sslv2::{self, Sslv2Message};

fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// The venv's python with tlslite-ng installed (`pip install tlslite-ng` once).
fn tlslite_python() -> &'static PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        crate::common::venv::python_venv("tlslite", &["tlslite-ng"], "import tlslite")
    })
}

/// `tls.py server --ssl3 --max-ver MAX` (SSL 3.0 up to MAX) with a fresh RSA-2048 certificate.
fn tlslite_server(max_ver: &str) -> ServerProcess {
    let py = tlslite_python();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path(), "server", "rsa:2048");
    let port = free_port();
    let mut cmd = Command::new(py);
    cmd.arg(py.with_file_name("tls.py"))
        .arg("server")
        .arg("-c")
        .arg(&cert)
        .arg("-k")
        .arg(&key)
        .args(["--ssl3", "--max-ver", max_ver])
        .arg(format!("127.0.0.1:{port}"))
        // tls.py serves files from its working directory: give it the empty temp dir.
        .current_dir(dir.path());
    let mut p = spawn_listening("tlslite-ng", cmd, port, Some(dir));
    p.cert = Some(cert);
    p
}

/// The suites (hex ids, in tlslite-ng's preference order) that tlslite-ng's server code
/// selects in `version` when started with `--ssl3 --max-ver MAX`.
fn tlslite_truth(cert: &Path, version: &str, max_ver: &str) -> Vec<String> {
    let out = Command::new(tlslite_python())
        .arg(peers_dir().join("tlslite_suites.py"))
        .arg(cert)
        .args([version, max_ver])
        .output()
        .expect("run tlslite_suites.py");
    assert!(
        out.status.success(),
        "tlslite_suites.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    // Whatever else the installed tlslite-ng enables, plain RSA AES128-SHA is in every
    // version up to TLS 1.2: a list without it means the helper is broken, not the scan.
    assert!(
        ids.iter().any(|id| id == "0x002f"),
        "tlslite_suites.py {version}: {ids:?}"
    );
    ids
}

/// `tlsdoctor scan --json TARGET`, the one server object.
fn scan(target: &str) -> Value {
    let run = tlsdoctor(&["scan", target, "--json", "--timeout", "5"]);
    assert_eq!(run.code, 0, "scan failed: {}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let servers = doc["servers"].as_array().expect("servers array");
    assert_eq!(servers.len(), 1);
    servers[0].clone()
}

fn accepted_versions(server: &Value) -> Vec<String> {
    server["protocols"]
        .as_array()
        .expect("protocols")
        .iter()
        .filter(|p| p["accepted"].as_bool() == Some(true))
        .map(|p| p["version"].as_str().unwrap().to_string())
        .collect()
}

/// The suites the scan reports for `version`, in the reported order, and its preference verdict.
fn suites_of(server: &Value, version: &str) -> (Vec<String>, Value) {
    let vs = server["cipher_suites"]
        .as_array()
        .expect("cipher_suites")
        .iter()
        .find(|v| v["version"] == version)
        .unwrap_or_else(|| panic!("no cipher_suites entry for {version}"));
    let ids = vs["suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    (ids, vs["server_preference"].clone())
}

/// Version names as tls.py and tlslite_suites.py spell them, by tlsdoctor's JSON key.
const TLSLITE_NAMES: [(&str, &str); 4] = [
    ("ssl3", "ssl3"),
    ("tls1_0", "tls1.0"),
    ("tls1_1", "tls1.1"),
    ("tls1_2", "tls1.2"),
];

/// Check the scan of a tlslite-ng server started with `--ssl3 --max-ver max_ver`.
fn check_tlslite(server: &ServerProcess, max_ver: &str, want_versions: &[&str]) {
    let got = scan(&server.target());
    assert_eq!(
        accepted_versions(&got),
        want_versions,
        "tlslite-ng --ssl3 --max-ver {max_ver}\n{}",
        server.log()
    );
    let cert = server.cert.as_ref().unwrap();
    for (key, name) in TLSLITE_NAMES {
        if !want_versions.contains(&key) {
            continue;
        }
        let want = tlslite_truth(cert, name, max_ver);
        let (ids, preference) = suites_of(&got, key);
        // tlslite-ng picks the first suite of its own list that the client offers: the scan
        // must see a server order, and recover that list in that order.
        assert_eq!(ids, want, "{key} suites of tlslite-ng --max-ver {max_ver}");
        assert_eq!(preference, Value::Bool(true), "{key} server preference");
    }
}

#[test]
fn tlslite_sslv3_only() {
    let server = tlslite_server("ssl3");
    check_tlslite(&server, "ssl3", &["ssl3"]);
    let got = scan(&server.target());
    // The TLS probes are answered with an SSLv3 ServerHello, which is not acceptance.
    let tls10 = got["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["version"] == "tls1_0")
        .unwrap();
    let evidence = tls10["evidence"].as_str().unwrap();
    assert!(
        evidence.starts_with("server answered with SSLv3 instead"),
        "{evidence}"
    );
}

#[test]
fn tlslite_sslv3_to_tls12() {
    let server = tlslite_server("tls1.2");
    check_tlslite(&server, "tls1.2", &["ssl3", "tls1_0", "tls1_1", "tls1_2"]);
}

#[test]
fn tlslite_sslv3_human_output() {
    let server = tlslite_server("ssl3");
    let run = tlsdoctor(&["scan", &server.target(), "--timeout", "5"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("SSLv3     accepted"), "{}", run.stdout);
    assert!(run.stdout.contains("TLSv1.2   refused"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Cipher suites, SSLv3"),
        "{}",
        run.stdout
    );
}

/// A fresh self-signed RSA certificate in DER (openssl CLI), in `dir`.
fn der_certificate(dir: &Path) -> PathBuf {
    let (pem, _key) = self_signed(dir, "sslv2", "rsa:2048");
    let der = dir.join("sslv2.der");
    let st = Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(&pem)
        .arg("-out")
        .arg(&der)
        .status()
        .expect("openssl x509");
    assert!(st.success(), "openssl x509 -outform DER failed");
    der
}

/// The SSLv2 stand-in serving a fresh certificate with these cipher kinds. Returns the server
/// and the DER certificate it sends.
pub(crate) fn sslv2_server(kinds: &[u32]) -> (ServerProcess, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let der = der_certificate(dir.path());
    sslv2_server_with(&der, kinds, Some(dir))
}

/// The SSLv2 stand-in serving the DER certificate at `der` (e.g. another server's, to share
/// its key), with these cipher kinds; `dir` is kept until the server stops.
pub(crate) fn sslv2_server_with(
    der: &Path,
    kinds: &[u32],
    dir: Option<tempfile::TempDir>,
) -> (ServerProcess, Vec<u8>) {
    let cert = std::fs::read(der).unwrap();
    let port = free_port();
    let kinds = kinds
        .iter()
        .map(|k| format!("{k:06x}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut cmd = Command::new("python3");
    cmd.arg(peers_dir().join("sslv2_server.py"))
        .arg(port.to_string())
        .arg(der)
        .arg(kinds);
    (spawn_listening("sslv2-stand-in", cmd, port, dir), cert)
}

#[test]
fn sslv2_stand_in_kinds_are_reported_insecure() {
    let cases: [&[u32]; 2] = [&[0x010080, 0x0700c0], &[0x060040, 0x040080, 0x020080]];
    let servers: Vec<_> = cases.iter().map(|k| sslv2_server(k).0).collect();
    for (kinds, server) in cases.iter().zip(&servers) {
        let got = scan(&server.target());
        assert_eq!(accepted_versions(&got), ["ssl2"], "{}", server.log());
        let (ids, _) = suites_of(&got, "ssl2");
        let want: Vec<String> = kinds.iter().map(|k| format!("0x{k:06x}")).collect();
        assert_eq!(ids, want);
        let suites = got["cipher_suites"][0]["suites"].as_array().unwrap();
        for s in suites {
            assert_eq!(s["strength"]["level"], "insecure", "{s}");
        }
        assert_eq!(
            got["cipher_suites"].as_array().unwrap().len(),
            1,
            "suites listed for versions other than SSLv2"
        );
        // Nothing but SSLv2: the properties must not pretend the server is TLS 1.3.
        let compression = got["properties"]["compression"]["evidence"]
            .as_str()
            .unwrap();
        assert_eq!(compression, "SSLv2 only: SSLv2 has no compression");
        let alpn = got["properties"]["alpn_evidence"].as_str().unwrap();
        assert!(alpn.starts_with("SSLv2 only"), "{alpn}");
    }
    let run = tlsdoctor(&["scan", &servers[0].target(), "--timeout", "5"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("SSLv2     accepted"), "{}", run.stdout);
    assert!(run.stdout.contains("SSLv3     refused"), "{}", run.stdout);
    assert!(run.stdout.contains("RC4-MD5"), "{}", run.stdout);
}

/// Send `bytes` to the stand-in and decode its one answer record.
fn sslv2_exchange(server: &ServerProcess, bytes: &[u8]) -> Sslv2Message {
    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    Sslv2Message::decode(&mut Reader::new(&answer))
        .unwrap_or_else(|e| panic!("{e}: {answer:02x?}\n{}", server.log()))
}

/// A CLIENT-HELLO offering `kinds`, in a record with the 3-byte header and 2 padding bytes.
fn three_byte_header_hello(kinds: &[u32]) -> Vec<u8> {
    let mut body = vec![sslv2::MSG_CLIENT_HELLO, 0x00, 0x02];
    for n in [kinds.len() * 3, 0, 16] {
        body.extend_from_slice(&(n as u16).to_be_bytes());
    }
    for k in kinds {
        body.extend_from_slice(&k.to_be_bytes()[1..]);
    }
    body.extend_from_slice(&[0x5a; 16]);
    body.extend_from_slice(&[0, 0]); // padding
    let mut out = vec![(body.len() >> 8) as u8 & 0x3f, body.len() as u8, 2];
    out.extend_from_slice(&body);
    out
}

/// The stand-in itself: it must follow the SSL 2.0 record rules the scan does not exercise
/// (3-byte headers with padding) and answer "no shared cipher" with an ERROR.
#[test]
fn sslv2_stand_in_follows_the_spec() {
    let (server, cert) = sslv2_server(&[0x0700c0, 0x010080]);
    match sslv2_exchange(&server, &three_byte_header_hello(&[0x010080, 0x030080])) {
        Sslv2Message::ServerHello(h) => {
            assert_eq!(h.version, 2);
            assert!(!h.session_id_hit);
            assert_eq!(
                h.certificate, cert,
                "the DER certificate from the openssl CLI"
            );
            assert_eq!(h.cipher_specs, [0x010080], "only the kind both sides share");
            assert_eq!(h.connection_id.len(), 16);
        }
        other => panic!("expected SERVER-HELLO, got {other:?}"),
    }
    assert_eq!(
        sslv2_exchange(&server, &three_byte_header_hello(&[0x050080])),
        Sslv2Message::Error(1),
        "NO-CIPHER-ERROR"
    );
    // A TLS hello is closed without an answer.
    let tls = tlsdoctor::scan::versions::probe_hello(tlsdoctor::wire::ProtocolVersion::Tls12, None);
    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&tls).unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    assert!(answer.is_empty(), "{answer:02x?}");
}
