//! The fleet results store through the real binary: real scans of local servers recorded
//! with `--db`, the fleet changed and scanned again, and `fleet summary` / `fleet diff`
//! held to exact JSON; JSON Lines (shard files) imported and compared with the runs
//! recorded live.

mod changed_fleet;
mod fleet_input;
mod import;

use crate::common::cli::{Run, tlsdoctor};
use crate::common::openssl_certs::SelfSigned;
use crate::common::servers::{ServerProcess, openssl_s_server_at};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Suites every healthy server of the fleet offers: one per version.
const MODERN: &[&str] = &[
    "-cipher",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "-ciphersuites",
    "TLS_AES_128_GCM_SHA256",
];
/// The legacy server: TLS 1.0 and 1.1 too, with one CBC suite.
const LEGACY: &[&str] = &[
    "-cipher",
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA:@SECLEVEL=0",
    "-ciphersuites",
    "TLS_AES_128_GCM_SHA256",
];

/// A self-signed certificate for localhost, made 12 hours in the past so that the days left
/// a scan reports are a stable whole number (29 for 30 days).
pub struct Cert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Cert {
    pub fn new(dir: &Path, name: &str, days: u32) -> Cert {
        let (cert, key) = (format!("{name}.crt"), format!("{name}.key"));
        SelfSigned {
            cert: &cert,
            key: &key,
            key_spec: "rsa:2048",
            subject: "/CN=localhost",
            days,
            extensions: &["subjectAltName=DNS:localhost,IP:127.0.0.1"],
            clock_shift: Some("-12h"),
        }
        .make(dir);
        Cert {
            cert: dir.join(cert),
            key: dir.join(key),
        }
    }

    fn openssl(&self, what: &str, extra: &[&str]) -> String {
        let out = Command::new("openssl")
            .args(["x509", "-noout", what])
            .args(extra)
            .arg("-in")
            .arg(&self.cert)
            .output()
            .expect("run openssl x509");
        let text = String::from_utf8_lossy(&out.stdout);
        let (_, value) = text
            .trim()
            .split_once('=')
            .unwrap_or_else(|| panic!("openssl x509 {what}: {text}"));
        value.to_string()
    }

    /// The SHA-256 fingerprint as openssl prints it (AA:BB:…).
    pub fn fingerprint(&self) -> String {
        self.openssl("-fingerprint", &["-sha256"])
    }

    /// notAfter in RFC 3339, from openssl.
    pub fn not_after(&self) -> String {
        // "2026-12-31 07:58:46Z"
        self.openssl("-enddate", &["-dateopt", "iso_8601"])
            .replacen(' ', "T", 1)
    }

    pub fn serve_at(&self, port: u16, extra: &[&str]) -> ServerProcess {
        openssl_s_server_at(port, extra, &self.cert, &self.key, None)
    }
}

/// `tlsdoctor ARGS`, asserting the exit code.
pub fn run(args: &[&str], code: i32) -> Run {
    let r = tlsdoctor(args);
    assert_eq!(
        r.code, code,
        "tlsdoctor {args:?}: exit {}\nstdout:\n{}\nstderr:\n{}",
        r.code, r.stdout, r.stderr
    );
    r
}

/// `scan TARGET --json --db DB --run-label LABEL`: exit 0 for a server, 2 for a dead port.
/// Returns the printed document.
pub fn scan_into(db: &Path, label: &str, target: &str, alive: bool) -> Value {
    let db = db.to_str().unwrap();
    let args = ["scan", target, "--json", "--db", db, "--run-label", label];
    run(&args, if alive { 0 } else { 2 }).json()
}

/// A `scan -i`-style JSON line for `doc`: the fleet envelope beside the document's keys
/// (docs/json.md, "Fleet runs").
pub fn fleet_line(number: u64, doc: &Value) -> String {
    let mut line = doc.as_object().unwrap().clone();
    let target = doc["input"].as_str().unwrap().to_string();
    let failed = doc["servers"].as_array().unwrap().is_empty();
    line.insert("fleet_line".into(), json!(1));
    line.insert("command".into(), json!("scan"));
    line.insert("line".into(), json!(number));
    line.insert("key".into(), json!(target.to_ascii_lowercase()));
    line.insert("target".into(), json!(target));
    line.insert("status".into(), json!(if failed { "error" } else { "ok" }));
    if failed {
        let message = doc["errors"][0]["error"].clone();
        line.insert(
            "error".into(),
            json!({"kind": "connect", "message": message}),
        );
    }
    line.insert("finished_at".into(), json!(1_800_000_000u64));
    line.insert("elapsed_ms".into(), json!(100));
    Value::Object(line).to_string()
}

/// The `--json` output of a `fleet` subcommand.
pub fn fleet_json(args: &[&str]) -> Value {
    let mut all = vec!["fleet"];
    all.extend_from_slice(args);
    all.push("--json");
    run(&all, 0).json()
}

/// Check that `v[key]` is an RFC 3339 time of today and take it out, so the rest of the
/// document can be compared exactly.
pub fn take_time(v: &mut Value, key: &str) {
    let t = v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
        .to_string();
    let bytes = t.as_bytes();
    assert!(
        t.len() == 20 && bytes[10] == b'T' && t.ends_with('Z'),
        "{key} = {t} is not RFC 3339 UTC"
    );
    v[key] = json!("<time>");
}

/// `"127.0.0.1:PORT"` for a port.
pub fn target(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// What `scan` says of a port where nothing listens.
pub fn refused(port: u16) -> String {
    format!("cannot connect to 127.0.0.1:{port}: Connection refused (os error 111)")
}
