//! The active vulnerability probes (`--extra-checks vulns`, src/scan/vuln_*.rs) against
//! stand-ins that re-create one bug each in front of a real server (standin.rs), and against
//! healthy real servers (OpenSSL, nginx, GnuTLS with and without heartbeat), which must show
//! no false positive.

mod drown_peers;
mod other_tools;
mod poodle;
mod renegotiation;
mod standin;

use crate::common::cli::tlsdoctor;
use crate::common::servers::{
    ServerProcess, gnutls_serv, nginx, openssl_s_server, openssl_s_server_with, self_signed,
};
use serde_json::Value;
use standin::{Bug, MEMORY_FILLER, Vulnerable};

pub(super) fn scan_with(target: &str, checks: &str) -> Value {
    let run = tlsdoctor(&[
        "scan",
        target,
        "--extra-checks",
        checks,
        "--json",
        "--timeout",
        "5",
    ]);
    assert_eq!(run.code, 0, "scan failed: {}\n{}", run.stdout, run.stderr);
    run.json()["servers"][0].clone()
}

pub(super) fn plain_scan(target: &str) -> Value {
    let run = tlsdoctor(&["scan", target, "--json", "--timeout", "5"]);
    assert_eq!(run.code, 0, "scan failed: {}\n{}", run.stdout, run.stderr);
    run.json()["servers"][0].clone()
}

fn accepted_versions(scan: &Value) -> Vec<String> {
    scan["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["accepted"] == true)
        .map(|v| v["version"].as_str().unwrap().to_string())
        .collect()
}

pub(super) fn check_findings(target: &str, checks: &str) -> Vec<(String, String)> {
    let run = tlsdoctor(&[
        "check",
        target,
        "--extra-checks",
        checks,
        "--json",
        "--timeout",
        "5",
    ]);
    assert!(
        run.code <= 4,
        "check failed: {}\n{}",
        run.stdout,
        run.stderr
    );
    run.json()["diagnoses"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().into(),
                f["severity"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// Heartbleed's over-read is seen from its lengths alone: tlsdoctor reports the answer's size
/// and keeps none of the "memory" (the stand-in's filler appears nowhere in the document).
#[test]
fn heartbleed_stand_in_is_found_without_keeping_its_memory() {
    let backend = openssl_s_server(&["-no_tls1_3"]);
    let bleeding = Vulnerable::start(backend.addr(), Bug::Heartbleed);
    let plain = plain_scan(&bleeding.target());
    let s = scan_with(&bleeding.target(), "heartbleed");
    let hb = &s["heartbleed"];
    assert_eq!(hb["vulnerable"], true, "{hb:#}");
    assert_eq!(hb["extension_negotiated"], true, "{hb:#}");
    assert_eq!(hb["reply"]["kind"], "heartbeat", "{hb:#}");
    // 3 header bytes + the 32 declared + 16 padding, against the 19 sent.
    assert_eq!(hb["reply"]["record_length"], 51, "{hb:#}");
    assert_eq!(hb["request_length"], 19, "{hb:#}");
    let filler = format!("{MEMORY_FILLER:02x}{MEMORY_FILLER:02x}");
    let doc = s.to_string();
    assert!(!doc.contains(&filler), "memory bytes kept: {doc}");
    // One connection, and only the check's key is new.
    assert_eq!(
        s["connections"].as_u64().unwrap(),
        plain["connections"].as_u64().unwrap() + 1,
        "{hb:#}"
    );
    assert!(s.get("ccs_injection").is_none() && plain.get("heartbleed").is_none());
    // The relay passes the real server's handshake through: the scan sees the versions it
    // serves (the relay drops SSLv2 hellos, which the server refuses anyway).
    assert_eq!(
        accepted_versions(&plain),
        accepted_versions(&plain_scan(&backend.target()))
    );

    let judged = check_findings(&bleeding.target(), "heartbleed");
    assert!(
        judged.contains(&("heartbleed-vulnerable".into(), "error".into())),
        "{judged:?}"
    );
    // The Heartbleed stand-in has no other bug.
    let other = scan_with(&bleeding.target(), "ccs-injection");
    assert_eq!(other["ccs_injection"]["vulnerable"], false, "{other:#}");
}

#[test]
fn ccs_injection_stand_in_is_found() {
    let backend = openssl_s_server(&["-no_tls1_3"]);
    let accepting = Vulnerable::start(backend.addr(), Bug::EarlyCcs);
    let plain = plain_scan(&accepting.target());
    let s = scan_with(&accepting.target(), "ccs-injection");
    let ccs = &s["ccs_injection"];
    assert_eq!(ccs["vulnerable"], true, "{ccs:#}");
    assert_eq!(ccs["after_first"]["kind"], "silent", "{ccs:#}");
    assert_eq!(ccs["after_second"]["alert"]["description"], 20, "{ccs:#}");
    assert_eq!(
        s["connections"].as_u64().unwrap(),
        plain["connections"].as_u64().unwrap() + 1,
        "{ccs:#}"
    );
    let judged = check_findings(&accepting.target(), "ccs-injection");
    assert!(
        judged.contains(&("ccs-injection-vulnerable".into(), "error".into())),
        "{judged:?}"
    );
    let other = scan_with(&accepting.target(), "heartbleed");
    assert_eq!(other["heartbleed"]["vulnerable"], false, "{other:#}");
}

/// Ticketbleed: a full TLS 1.2 handshake for the ticket, then the ticket with a 16-byte
/// session ID; the stand-in echoes it padded to 32 bytes, the real s_server behind it echoes
/// exactly the 16 (it resumed from the ticket: the probe's second half is tested for real).
#[test]
fn ticketbleed_stand_in_is_found() {
    let backend = openssl_s_server(&["-no_tls1_3"]);
    let bleeding = Vulnerable::start(backend.addr(), Bug::Ticketbleed);
    let plain = plain_scan(&bleeding.target());
    let s = scan_with(&bleeding.target(), "ticketbleed");
    let tb = &s["ticketbleed"];
    assert_eq!(tb["vulnerable"], true, "{tb:#}");
    assert_eq!(tb["session_id_sent"], 16, "{tb:#}");
    assert_eq!(tb["session_id_echoed"], 32, "{tb:#}");
    let filler = format!("{MEMORY_FILLER:02x}{MEMORY_FILLER:02x}");
    assert!(!s.to_string().contains(&filler), "memory bytes kept: {s}");
    assert_eq!(
        s["connections"].as_u64().unwrap(),
        plain["connections"].as_u64().unwrap() + 2,
        "{tb:#}"
    );
    let judged = check_findings(&bleeding.target(), "ticketbleed");
    assert!(
        judged.contains(&("ticketbleed-vulnerable".into(), "error".into())),
        "{judged:?}"
    );
    let real = scan_with(&backend.target(), "ticketbleed");
    let tb = &real["ticketbleed"];
    assert_eq!(tb["vulnerable"], false, "{tb:#}");
    assert_eq!(tb["ticket_issued"], true, "{tb:#}");
    assert_eq!(
        tb["session_id_echoed"], 16,
        "resumed from the ticket: {tb:#}"
    );
}

/// A server that fails on GREASE: the four GREASE properties fail, the others pass, one
/// finding each. The hello with every change fails, so each is asked alone: one connection
/// for the shared hello, then one per property.
#[test]
fn grease_intolerant_stand_in_is_found() {
    let backend = openssl_s_server(&[]);
    let intolerant = Vulnerable::start(backend.addr(), Bug::GreaseIntolerant);
    let plain = plain_scan(&intolerant.target());
    let s = scan_with(&intolerant.target(), "intolerance");
    let props = s["intolerance"]["properties"].as_array().unwrap();
    let by: Vec<(&str, bool)> = props
        .iter()
        .map(|p| (p["variation"].as_str().unwrap(), p["tolerated"] == true))
        .collect();
    assert_eq!(
        by,
        [
            ("grease_suite", false),
            ("grease_extension", false),
            ("grease_group", false),
            ("grease_version", false),
            ("large_hello", true),
            ("unknown_extension", true),
            ("tls13_legacy_version", true),
        ],
        "{props:#?}"
    );
    assert_eq!(
        s["connections"].as_u64().unwrap(),
        plain["connections"].as_u64().unwrap() + 8
    );
    assert_eq!(s["intolerance"]["connections"], 8, "{:#}", s["intolerance"]);
    let judged = check_findings(&intolerant.target(), "intolerance");
    assert!(
        judged.contains(&("hello-intolerance".into(), "error".into())),
        "{judged:?}"
    );
}

/// ROBOT: the stand-in's padding oracle is found (the same differences twice: ten
/// connections); the real OpenSSL behind it answers all five layouts alike (five).
#[test]
fn robot_oracle_stand_in_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path(), "server", "rsa:2048");
    let backend = openssl_s_server_with(&["-no_tls1_3"], &cert, &key, None);
    let oracle = Vulnerable::start_with_key(backend.addr(), Bug::RobotOracle, Some(&key));
    let plain = plain_scan(&oracle.target());
    let s = scan_with(&oracle.target(), "robot");
    let r = &s["robot"];
    assert_eq!(r["vulnerable"], true, "{r:#}");
    assert_eq!(r["connections"], 10, "{r:#}");
    assert_eq!(
        s["connections"].as_u64().unwrap(),
        plain["connections"].as_u64().unwrap() + 10
    );
    let judged = check_findings(&oracle.target(), "robot");
    assert!(
        judged.contains(&("robot-vulnerable".into(), "error".into())),
        "{judged:?}"
    );
    let real = scan_with(&backend.target(), "robot");
    let r = &real["robot"];
    assert_eq!(r["vulnerable"], false, "{r:#}");
    assert_eq!(r["connections"], 5, "{r:#}");
    drop(dir);
}

/// Client-initiated renegotiation against real servers both ways: OpenSSL 3 refuses it unless
/// `-client_renegotiation`, nginx refuses it, GnuTLS allows it (its default).
#[test]
fn client_renegotiation_on_real_servers() {
    let cases: Vec<(&str, ServerProcess, bool)> = vec![
        (
            "openssl -client_renegotiation",
            openssl_s_server(&["-client_renegotiation"]),
            true,
        ),
        ("openssl", openssl_s_server(&[]), false),
        ("gnutls", gnutls_serv("NORMAL", &[]), true),
        (
            "nginx",
            nginx(
                "ssl_protocols TLSv1.2 TLSv1.3;\n\
                 server { listen 127.0.0.1:{port} ssl; server_name localhost;\n\
                   ssl_certificate {cert}; ssl_certificate_key {key}; location / { return 200 'ok'; } }",
            ),
            false,
        ),
    ];
    for (name, server, allowed) in &cases {
        let plain = plain_scan(&server.target());
        let s = scan_with(&server.target(), "client-renegotiation");
        let r = &s["client_renegotiation"];
        assert_eq!(r["allowed"], *allowed, "{name}: {r:#}\n{}", server.log());
        assert_eq!(r["secure_renegotiation"], true, "{name}: {r:#}");
        let answer = r["answer"].as_str().unwrap();
        if *allowed {
            assert_eq!(answer, "handshake", "{name}: {r:#}");
        } else {
            assert!(
                ["no_renegotiation", "handshake_failure", "closed"].contains(&answer),
                "{name}: {r:#}"
            );
        }
        assert_eq!(
            s["connections"].as_u64().unwrap(),
            plain["connections"].as_u64().unwrap() + 1,
            "{name}"
        );
        let judged = check_findings(&server.target(), "client-renegotiation");
        assert_eq!(
            judged.contains(&("client-renegotiation-allowed".into(), "warning".into())),
            *allowed,
            "{name}: {judged:?}"
        );
    }
}

/// Healthy servers: nothing found, through the `vulns` group; a GnuTLS server that takes up
/// the heartbeat extension is tested for real and is not vulnerable.
#[test]
fn healthy_servers_show_no_vulnerability() {
    let servers: Vec<(&str, ServerProcess)> = vec![
        ("openssl", openssl_s_server(&[])),
        (
            "openssl-tls1.0",
            openssl_s_server(&["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"]),
        ),
        ("gnutls", gnutls_serv("NORMAL", &[])),
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
    for (name, server) in &servers {
        let s = scan_with(&server.target(), "vulns");
        // Ticketbleed is not tested on the TLS 1.0-only server (null); never true.
        assert_ne!(
            s["ticketbleed"]["vulnerable"], true,
            "{name}: {:#}",
            s["ticketbleed"]
        );
        for key in ["heartbleed", "ccs_injection"] {
            assert_eq!(
                s[key]["vulnerable"],
                false,
                "{name}: {key}: {:#}\n{}",
                s[key],
                server.log()
            );
        }
        let props = s["intolerance"]["properties"].as_array().unwrap();
        assert!(
            props.len() >= 6 && props.iter().all(|p| p["tolerated"] == true),
            "{name}: {props:#?}"
        );
        // One hello with every change of the highest version, one with TLS 1.3 in the
        // legacy field.
        assert_eq!(
            s["intolerance"]["connections"], 2,
            "{name}: {:#}",
            s["intolerance"]
        );
        let negotiated = s["heartbleed"]["extension_negotiated"].as_bool();
        assert_eq!(
            negotiated,
            Some(*name == "gnutls-heartbeat"),
            "{name}: {:#}",
            s["heartbleed"]
        );
        let judged = check_findings(&server.target(), "vulns");
        assert!(
            !judged.iter().any(|(id, _)| id.ends_with("-vulnerable")),
            "{name}: {judged:?}"
        );
    }
}
