//! The ClientStack fields are checked against the real clients: each Python found here (and
//! the openssl CLI) connects to real servers on 127.0.0.1 under the same OPENSSL_CONF /
//! SSL_CERT_FILE, and the outcome must match what `local_client` reported.

use crate::common::servers::{gnutls_serv, openssl_s_server, self_signed};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tlsdoctor::env::{ClientStack, EnvOptions, local_client};

const CONNECT: &str = r#"
import socket, ssl, sys
ctx = ssl.create_default_context()
if sys.argv[2] == "noverify":
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
try:
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10), server_hostname="localhost")
    print("CONNECTED " + str(s.version()))
except Exception as e:
    print("FAILED " + str(e))
"#;

fn write_conf(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!("openssl_conf = init\n[init]\nssl_conf = ssl_sect\n[ssl_sect]\nsystem_default = sysdef\n[sysdef]\n{body}\n"),
    )
    .unwrap();
    p
}

/// Distinct Python interpreters to test with: python3 on PATH (may be a pyenv build) and the
/// distribution's /usr/bin/python3.
fn pythons() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let env: HashMap<String, String> = std::env::vars().collect();
    if let Some(p) = tlsdoctor::env::exec::which("python3", &env) {
        out.push(p);
    }
    let sys = PathBuf::from("/usr/bin/python3");
    if sys.exists() && !out.contains(&sys) {
        out.push(sys);
    }
    assert!(!out.is_empty(), "no python3 to test with");
    out
}

fn opts_with(vars: &[(&str, &str)]) -> EnvOptions {
    let mut env: HashMap<String, String> = std::env::vars().collect();
    env.remove("OPENSSL_CONF");
    env.remove("SSL_CERT_FILE");
    env.remove("SSL_CERT_DIR");
    for (k, v) in vars {
        env.insert(k.to_string(), v.to_string());
    }
    EnvOptions {
        pythons: Vec::new(),
        timeout: Duration::from_secs(20),
        env: Some(env),
    }
}

fn run_python(py: &Path, opts: &EnvOptions, port: u16, verify: &str) -> String {
    let out = Command::new(py)
        .args(["-c", CONNECT, &port.to_string(), verify])
        .env_clear()
        .envs(opts.env.as_ref().unwrap())
        .output()
        .expect("run python");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn run_s_client(opts: &EnvOptions, port: u16) -> String {
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .env_clear()
        .envs(opts.env.as_ref().unwrap())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run openssl s_client");
    child.stdout.extend_from_slice(&child.stderr);
    String::from_utf8_lossy(&child.stdout).to_string()
}

fn rank(p: &str) -> u8 {
    match p {
        "TLSv1" => 1,
        "TLSv1.1" => 2,
        "TLSv1.2" => 3,
        "TLSv1.3" => 4,
        other => panic!("unexpected protocol {other}"),
    }
}

async fn stack(name: &str, opts: &EnvOptions) -> ClientStack {
    local_client(name, opts)
        .await
        .unwrap_or_else(|| panic!("no ClientStack for {name}"))
}

#[tokio::test]
async fn min_protocol_matches_real_python_and_openssl_against_tls12_only_server() {
    let dir = tempfile::tempdir().unwrap();
    let min13 = write_conf(dir.path(), "min13.cnf", "MinProtocol = TLSv1.3");
    let server = openssl_s_server(&["-tls1_2"]);
    for conf in [Some(min13.to_str().unwrap()), None] {
        let opts = match conf {
            Some(c) => opts_with(&[("OPENSSL_CONF", c)]),
            None => opts_with(&[]),
        };
        for py in pythons() {
            let s = stack(py.to_str().unwrap(), &opts).await;
            let min = s.min_protocol.clone().expect("min protocol known");
            let outcome = run_python(&py, &opts, server.port, "noverify");
            let expect_connect = rank(&min) <= rank("TLSv1.2");
            assert_eq!(
                outcome.starts_with("CONNECTED"),
                expect_connect,
                "{} conf={conf:?}: reported min {min}, real client said {outcome:?}; basis {:?}",
                s.name,
                s.basis
            );
            if !expect_connect {
                assert!(outcome.contains("protocol version"), "{outcome}");
            }
        }
        let s = stack("openssl", &opts).await;
        let out = run_s_client(&opts, server.port);
        let connected = out.contains("Protocol  : TLSv1.2") || out.contains("Protocol: TLSv1.2");
        assert_eq!(
            connected,
            rank(s.min_protocol.as_deref().unwrap()) <= 3,
            "openssl conf={conf:?}: {s:?}\n{out}"
        );
        if conf.is_some() {
            assert_eq!(s.min_protocol.as_deref(), Some("TLSv1.3"));
        }
    }
}

#[tokio::test]
async fn unsafe_legacy_server_connect_matches_real_clients_against_gnutls() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = write_conf(
        dir.path(),
        "legacy.cnf",
        "Options = UnsafeLegacyServerConnect",
    );
    let server = gnutls_serv("NORMAL:-VERS-TLS1.3:%DISABLE_SAFE_RENEGOTIATION", &[]);
    for conf in [Some(legacy.to_str().unwrap()), None] {
        let opts = match conf {
            Some(c) => opts_with(&[("OPENSSL_CONF", c)]),
            None => opts_with(&[]),
        };
        for py in pythons() {
            let s = stack(py.to_str().unwrap(), &opts).await;
            let allowed = s.unsafe_legacy_server_connect.expect("known for Python");
            assert_eq!(allowed, conf.is_some(), "{}: {:?}", s.name, s.basis);
            let outcome = run_python(&py, &opts, server.port, "noverify");
            assert_eq!(
                outcome.starts_with("CONNECTED"),
                allowed,
                "{} conf={conf:?}: {outcome}",
                s.name
            );
            if !allowed {
                assert!(
                    outcome.contains("unsafe legacy renegotiation disabled"),
                    "{outcome}"
                );
            }
        }
        let s = stack("openssl", &opts).await;
        let out = run_s_client(&opts, server.port);
        let refused = out.contains("unsafe legacy renegotiation disabled");
        assert_eq!(
            s.unsafe_legacy_server_connect,
            Some(!refused),
            "openssl conf={conf:?}\n{out}"
        );
        assert_eq!(refused, conf.is_none());
    }
}

#[tokio::test]
async fn cafile_from_ssl_cert_file_is_what_python_verifies_with() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path(), "srv", "rsa:2048");
    let server = crate::common::servers::openssl_s_server_with(&[], &cert, &key, None);
    let missing = dir.path().join("missing.pem");
    for (bundle, should_verify) in [(cert.clone(), true), (missing.clone(), false)] {
        let opts = opts_with(&[("SSL_CERT_FILE", bundle.to_str().unwrap())]);
        for py in pythons() {
            let s = stack(py.to_str().unwrap(), &opts).await;
            assert_eq!(s.cafile.as_deref(), Some(bundle.as_path()), "{}", s.name);
            let outcome = run_python(&py, &opts, server.port, "verify");
            assert_eq!(
                outcome.starts_with("CONNECTED"),
                should_verify,
                "{} with {}: {outcome}",
                s.name,
                bundle.display()
            );
            if !should_verify {
                assert!(outcome.contains("CERTIFICATE_VERIFY_FAILED"), "{outcome}");
            }
        }
    }
}
