//! OCSP responder queries against `openssl ocsp -port` (and a broken HTTP responder) on
//! 127.0.0.1: the URL comes from the leaf's AIA, which the test PKI points at 127.0.0.1.

use crate::common::cli::tlsdoctor;
use crate::common::ocsp::{OcspPki, Staple};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;

fn check(p: &OcspPki, cert: &str, staple: Option<Staple>, extra_args: &[&str]) -> Value {
    let staple = staple.map(|k| p.staple(k));
    let srv = p.server(cert, staple.as_deref(), &[]);
    let target = format!("localhost:{}", srv.port);
    let ca = p.path("ca.crt");
    let mut args = vec!["check", &target, "--cafile", ca.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra_args);
    tlsdoctor(&args).json()["diagnoses"][0].clone()
}

fn ids(d: &Value) -> Vec<String> {
    d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .filter(|id| id.starts_with("ocsp-") || *id == "cert-revoked")
        .map(str::to_string)
        .collect()
}

fn finding<'a>(d: &'a Value, id: &str) -> &'a Value {
    d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id}: {:#}", d["findings"]))
}

fn pymongo(d: &Value) -> &Value {
    d["simulations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["client"] == "pymongo")
        .unwrap()
}

#[test]
fn no_staple_asks_the_responder_named_in_the_certificate() {
    let p = OcspPki::build();
    let _responder = p.responder("index-good.txt");
    let d = check(&p, "leaf", None, &[]);
    assert_eq!(ids(&d), ["ocsp-stapling-absent"], "{:#}", d["ocsp"]);
    assert_eq!(finding(&d, "ocsp-stapling-absent")["severity"], "info");
    let q = &d["ocsp"]["responder"];
    assert_eq!(q["url"], format!("http://127.0.0.1:{}/", p.responder_port));
    assert_eq!(q["address"], format!("127.0.0.1:{}", p.responder_port));
    assert_eq!(q["http_status"], 200);
    assert!(q["latency_ms"].as_u64().unwrap() < 5000);
    assert_eq!(q["outcome"]["result"], "answered");
    let r = &q["outcome"]["response"];
    assert_eq!(r["responder_id"]["name"], "CN=tlsdoctor OCSP Responder");
    assert_eq!(r["responses"][0]["cert_status"]["status"], "good");
    let v = &q["outcome"]["verdict"];
    assert_eq!(v["signer"]["kind"], "delegated");
    assert_eq!(v["signature_valid"], true);
    assert!(v["problems"].as_array().unwrap().is_empty(), "{v:#}");
    assert_eq!(pymongo(&d)["connects"], true);
}

#[test]
fn responder_says_revoked() {
    let p = OcspPki::build();
    let _responder = p.responder("index-revoked.txt");
    let d = check(&p, "leaf", None, &[]);
    let ids = ids(&d);
    assert!(ids.contains(&"cert-revoked".to_string()), "{ids:?}");
    let f = finding(&d, "cert-revoked");
    let ev = f["evidence"].to_string();
    assert!(ev.contains("keyCompromise"), "{ev}");
    // PyMongo asks the responder when nothing is stapled and fails on revoked.
    let sim = pymongo(&d);
    assert_eq!(sim["connects"], false);
    assert_eq!(sim["failure"]["finding"], "cert-revoked");
    assert!(
        f["breaks"].as_array().unwrap().iter().any(|b| b["error"]
            .as_str()
            .unwrap()
            .ends_with("'invalid status response')]")),
        "{f:#}"
    );
}

#[test]
fn ocsp_query_asks_the_responder_even_with_a_staple() {
    let p = OcspPki::build();
    let _responder = p.responder("index-good.txt");
    let without = check(&p, "leaf", Some(Staple::Good), &[]);
    assert!(without["ocsp"]["responder"].is_null());
    assert!(
        without["ocsp"]["responder_skipped"]
            .as_str()
            .unwrap()
            .contains("--ocsp-query")
    );
    let with = check(&p, "leaf", Some(Staple::Good), &["--ocsp-query"]);
    assert_eq!(with["ocsp"]["responder"]["outcome"]["result"], "answered");
    assert!(ids(&with).is_empty(), "{:#}", with["findings"]);
}

#[test]
fn unreachable_responder() {
    let p = OcspPki::build();
    // Nothing listens on the responder port.
    let d = check(&p, "leaf", None, &[]);
    let f = finding(&d, "ocsp-responder-unreachable");
    assert_eq!(f["severity"], "warning");
    let ev = f["evidence"].to_string();
    assert!(ev.contains("Connection refused"), "{ev}");
    assert!(
        f["fix_client"]
            .to_string()
            .contains("tlsDisableOCSPEndpointCheck")
    );
    assert!(
        f["fix_server"]
            .to_string()
            .contains(&format!("http://127.0.0.1:{}/", p.responder_port))
    );
    // PyMongo soft-fails.
    assert_eq!(pymongo(&d)["connects"], true);
}

/// A listener on the responder port that answers every request with `answer`, or holds the
/// connection open without answering when `answer` is None.
fn fake_responder(port: u16, answer: Option<&'static [u8]>) -> std::thread::JoinHandle<()> {
    let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().take(4) {
            let Ok(mut s) = s else { return };
            let mut buf = [0u8; 4096];
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let _ = s.read(&mut buf);
            match answer {
                Some(a) => {
                    let _ = s.write_all(a);
                }
                None => held.push(s),
            }
        }
    })
}

#[test]
fn responder_http_error() {
    let p = OcspPki::build();
    let _t = fake_responder(
        p.responder_port,
        Some(b"HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"),
    );
    let d = check(&p, "leaf", None, &["--timeout", "2"]);
    let f = finding(&d, "ocsp-responder-error");
    assert!(f["evidence"].to_string().contains("HTTP 500"), "{f:#}");
    assert_eq!(pymongo(&d)["connects"], true);
}

#[test]
fn responder_answering_garbage() {
    let p = OcspPki::build();
    let _t = fake_responder(
        p.responder_port,
        Some(b"HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: 5\r\n\r\nhello"),
    );
    let d = check(&p, "leaf", None, &["--timeout", "2"]);
    let f = finding(&d, "ocsp-responder-error");
    assert!(
        f["evidence"].to_string().contains("not an OCSP response"),
        "{f:#}"
    );
}

#[test]
fn silent_responder_times_out() {
    let p = OcspPki::build();
    let _t = fake_responder(p.responder_port, None);
    let start = std::time::Instant::now();
    let d = check(&p, "leaf", None, &["--timeout", "1"]);
    let f = finding(&d, "ocsp-responder-unreachable");
    assert!(
        f["evidence"]
            .to_string()
            .contains("sent no complete answer within 1.0s"),
        "{f:#}"
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn scan_with_ocsp_query_reports_staple_and_responder() {
    let p = OcspPki::build();
    let _responder = p.responder("index-good.txt");
    let staple = p.staple(Staple::Revoked);
    let srv = p.server("leaf", Some(&staple), &[]);
    let target = format!("localhost:{}", srv.port);
    let run = tlsdoctor(&["scan", &target, "--ocsp-query", "--json"]);
    let doc = run.json();
    let o = &doc["servers"][0]["ocsp"];
    assert_eq!(o["staples"][0]["stapled"], true, "{o:#}");
    assert_eq!(
        o["staples"][0]["response"]["responses"][0]["cert_status"]["status"],
        "revoked"
    );
    // The scan trusts Mozilla's and the system's roots only; the issuer is sent by the server.
    assert_eq!(o["issuer"]["source"], "sent by the server");
    assert_eq!(o["responder"]["outcome"]["result"], "answered");
    let human = tlsdoctor(&["scan", &target, "--ocsp-query"]);
    assert!(human.stdout.contains("OCSP ("), "{}", human.stdout);
    assert!(
        human
            .stdout
            .contains("cert status: revoked at 2026-11-01T00:00:00Z (reason: keyCompromise)"),
        "{}",
        human.stdout
    );
}
