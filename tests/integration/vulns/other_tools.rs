//! Are the stand-ins faithful? testssl.sh (Debian package `testssl.sh`) and sslyze (from PyPI,
//! in a venv) must flag each stand-in's bug and report the healthy servers clean, as tlsdoctor
//! does. A measurement for the closing note, slow (testssl.sh takes tens of seconds a run), so
//! ignored by default:
//!
//! `cargo test --test integration vulns::other_tools -- --ignored --nocapture`

use super::standin::{Bug, Vulnerable};
use crate::common::servers::{gnutls_serv, nginx, openssl_s_server};
use crate::common::venv::python_venv;
use serde_json::Value;
use std::process::Command;

/// The server behind the stand-ins: TLS 1.2 at most and SHA-1 signatures allowed, as the
/// affected OpenSSL releases had (testssl.sh's CCS and Ticketbleed hellos carry no
/// signature_algorithms, which OpenSSL 3 refuses at its default security level), serving HTTP
/// (testssl.sh tests Ticketbleed on HTTP servers only).
const BACKEND: &[&str] = &["-no_tls1_3", "-www", "-cipher", "DEFAULT:@SECLEVEL=0"];

/// Every boolean under `key` anywhere in `doc`.
fn find_bools(doc: &Value, key: &str, out: &mut Vec<bool>) {
    match doc {
        Value::Object(m) => {
            for (k, v) in m {
                if k == key {
                    if let Some(b) = v.as_bool() {
                        out.push(b);
                    }
                }
                find_bools(v, key, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| find_bools(v, key, out)),
        _ => {}
    }
}

/// The vulnerabilities compared, in this order: testssl.sh's test id, sslyze's result key
/// (sslyze has no Ticketbleed test).
const VULNS: [(&str, Option<&str>); 3] = [
    ("heartbleed", Some("is_vulnerable_to_heartbleed")),
    ("CCS", Some("is_vulnerable_to_ccs_injection")),
    ("ticketbleed", None),
];

/// testssl.sh's verdict per test: its severity and finding text.
fn testssl(target: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let out = Command::new("testssl")
        .args([
            "--quiet",
            "--color",
            "0",
            "--warnings",
            "off",
            "-H",
            "-I",
            "-T",
        ])
        .arg("--jsonfile")
        .arg(&json)
        .arg(target)
        .output()
        .expect("run testssl (apt-get install testssl.sh)");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default())
        .unwrap_or_else(|e| {
            panic!(
                "testssl JSON: {e}\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
    VULNS
        .iter()
        .map(|(id, _)| {
            doc.as_array()
                .and_then(|a| a.iter().find(|f| f["id"] == *id))
                .map(|f| {
                    format!(
                        "{} ({})",
                        f["severity"].as_str().unwrap_or("?"),
                        f["finding"].as_str().unwrap_or("?")
                    )
                })
                .unwrap_or_else(|| "absent".into())
        })
        .collect()
}

/// sslyze's verdict per test (None where it has no such test).
fn sslyze(target: &str) -> Vec<Option<bool>> {
    let py = python_venv("sslyze", &["sslyze"], "import sslyze");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let out = Command::new(&py)
        .args(["-m", "sslyze", "--heartbleed", "--openssl_ccs"])
        .arg(format!("--json_out={}", json.display()))
        .arg(target)
        .output()
        .expect("run sslyze");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default())
        .unwrap_or_else(|e| panic!("sslyze JSON: {e}\n{}", String::from_utf8_lossy(&out.stdout)));
    VULNS
        .iter()
        .map(|(_, key)| {
            let mut v = Vec::new();
            if let Some(key) = key {
                find_bools(&doc, key, &mut v);
            }
            v.first().copied()
        })
        .collect()
}

#[test]
#[ignore = "a measurement: runs testssl.sh and sslyze (slow)"]
fn testssl_and_sslyze_agree_on_the_stand_ins() {
    let backend = openssl_s_server(BACKEND);
    let stand_ins = [
        (Bug::Heartbleed, 0),
        (Bug::EarlyCcs, 1),
        (Bug::Ticketbleed, 2),
    ]
    .map(|(bug, i)| (Vulnerable::start(backend.addr(), bug), i));
    let healthy = [
        ("openssl", openssl_s_server(&[])),
        ("gnutls-heartbeat", gnutls_serv("NORMAL", &["--heartbeat"])),
        (
            "nginx",
            nginx(
                "ssl_protocols TLSv1.2 TLSv1.3;\n\
                 server { listen 127.0.0.1:{port} ssl; server_name localhost;\n\
                   ssl_certificate {cert}; ssl_certificate_key {key}; location / { return 200 'ok'; } }",
            ),
        ),
    ];
    let mut targets: Vec<(String, String, Option<usize>)> = stand_ins
        .iter()
        .map(|(s, i)| (format!("stand-in {}", VULNS[*i].0), s.target(), Some(*i)))
        .collect();
    for (name, s) in &healthy {
        targets.push((name.to_string(), s.target(), None));
    }
    let mut wrong = Vec::new();
    for (name, target, bug) in &targets {
        let t = testssl(target);
        let s = sslyze(target);
        for (i, (id, key)) in VULNS.iter().enumerate() {
            let expect = *bug == Some(i);
            println!("{name}: {id}: testssl {}; sslyze {:?}", t[i], s[i]);
            let flagged = t[i].starts_with("CRITICAL") || t[i].starts_with("HIGH");
            // testssl.sh 3.0.8's Ticketbleed hello (a 6-byte session ID, the ticket, its own
            // extensions) is refused by the OpenSSL 3 behind the stand-in with decode_error
            // before any resumption (seen with --debug 4), so it cannot see the bug there.
            if *id == "ticketbleed" && expect && !flagged {
                println!("  (known: testssl.sh's Ticketbleed hello is refused by OpenSSL 3)");
                continue;
            }
            if flagged != expect {
                wrong.push(format!("testssl {id} on {name}: {}", t[i]));
            }
            if key.is_some() && s[i] != Some(expect) {
                wrong.push(format!("sslyze {id} on {name}: {:?}", s[i]));
            }
        }
    }
    assert!(wrong.is_empty(), "disagreements: {wrong:#?}");
}

/// Keeps the stand-ins up for a manual run of another tool against them: prints their
/// addresses and waits `VULNS_SERVE_SECS` seconds (default 60).
///
/// `VULNS_SERVE_SECS=600 cargo test --test integration vulns::other_tools::serve -- --ignored --nocapture`
#[test]
#[ignore = "a tool for manual comparisons, not a test"]
fn serve_stand_ins() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = crate::common::servers::self_signed(dir.path(), "server", "rsa:2048");
    let backend = crate::common::servers::openssl_s_server_with(BACKEND, &cert, &key, None);
    let oracle = Vulnerable::start_with_key(backend.addr(), Bug::RobotOracle, Some(&key));
    println!("RobotOracle {}", oracle.target());
    let stand_ins = [
        Bug::Heartbleed,
        Bug::EarlyCcs,
        Bug::Ticketbleed,
        Bug::GreaseIntolerant,
    ]
    .map(|bug| (bug, Vulnerable::start(backend.addr(), bug)));
    for (bug, s) in &stand_ins {
        println!("{bug:?} {}", s.target());
    }
    println!("backend {}", backend.target());
    let secs = std::env::var("VULNS_SERVE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    std::thread::sleep(std::time::Duration::from_secs(secs));
}
