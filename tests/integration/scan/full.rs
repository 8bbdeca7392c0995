//! The full scan's suites, order, groups and properties match what real servers were
//! configured to do. Ground truth for OpenSSL comes from `openssl ciphers` on the same
//! cipher string.

use crate::common::cli::tlsdoctor;
use crate::common::servers::{gnutls_serv, nginx, openssl_s_server};
use serde_json::Value;
use std::process::Command;

fn scan(target: &str) -> Value {
    let run = tlsdoctor(&["scan", target, "--json", "--timeout", "5"]);
    assert_eq!(run.code, 0, "scan failed: {}\n{}", run.stdout, run.stderr);
    run.json()["servers"][0].clone()
}

fn suites_of(server: &Value, version: &str) -> (Vec<String>, Option<bool>) {
    let vs = server["cipher_suites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"] == version)
        .unwrap_or_else(|| panic!("no {version} suites in {server:#}"));
    let names = vs["suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["openssl"]
                .as_str()
                .unwrap_or(s["iana"].as_str().unwrap())
                .to_string()
        })
        .collect();
    (names, vs["server_preference"].as_bool())
}

/// What OpenSSL itself says `cipher_string` enables for `proto`, limited to suites an
/// RSA certificate can serve, in OpenSSL's order.
fn openssl_truth(cipher_string: &str, proto: &str) -> Vec<String> {
    let out = Command::new("openssl")
        .args(["ciphers", "-v", "-s", proto, cipher_string])
        .output()
        .expect("openssl ciphers");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("Au=RSA"))
        .filter(|l| !l.contains("TLSv1.3"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

fn group_names(server: &Value, key: &str) -> Vec<String> {
    server["key_exchange"][key]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn openssl_suites_order_and_preference() {
    let string = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA:AES128-GCM-SHA256:DHE-RSA-AES256-SHA256:AES256-SHA:CAMELLIA128-SHA";
    let truth = openssl_truth(&format!("{string}:@SECLEVEL=0"), "-tls1_2");
    assert_eq!(truth.len(), 6, "ground truth: {truth:?}");
    let pref = openssl_s_server(&[
        "-tls1_2",
        "-cipher",
        &format!("{string}:@SECLEVEL=0"),
        "-serverpref",
    ]);
    let nopref = openssl_s_server(&["-tls1_2", "-cipher", &format!("{string}:@SECLEVEL=0")]);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| scan(&pref.target()));
        let b = s.spawn(|| scan(&nopref.target()));
        (a.join().unwrap(), b.join().unwrap())
    });
    let (suites, server_pref) = suites_of(&a, "tls1_2");
    assert_eq!(suites, truth, "server order must equal OpenSSL's order");
    assert_eq!(server_pref, Some(true));
    let (mut suites, server_pref) = suites_of(&b, "tls1_2");
    assert_eq!(server_pref, Some(false));
    suites.sort();
    let mut t = truth.clone();
    t.sort();
    assert_eq!(suites, t);
    // DHE is offered: the default DH parameters of s_server are 2048 bits for an RSA-2048 key.
    assert_eq!(a["key_exchange"]["dh_bits"], 2048);
    assert_eq!(a["properties"]["secure_renegotiation"]["supported"], true);
}

#[test]
fn openssl_tls13_suites_and_groups() {
    let server = openssl_s_server(&[
        "-tls1_3",
        "-ciphersuites",
        "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256",
        "-groups",
        "secp384r1:x25519",
    ]);
    let s = scan(&server.target());
    let (mut suites, _) = suites_of(&s, "tls1_3");
    suites.sort();
    assert_eq!(
        suites,
        ["TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"]
    );
    let mut groups = group_names(&s, "tls13_groups");
    groups.sort();
    assert_eq!(groups, ["secp384r1", "x25519"]);
}

#[test]
fn openssl_ecdhe_curves_and_small_dh() {
    // Made with `openssl dhparam 1024` (X9.42 "-dsaparam" files are ignored by s_server).
    let dh = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dh1024.pem");
    let server = openssl_s_server(&[
        "-tls1_2",
        "-cipher",
        "ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
        "-groups",
        "P-521:P-256",
        "-dhparam",
        dh,
    ]);
    let s = scan(&server.target());
    let mut curves = group_names(&s, "ecdhe_curves");
    curves.sort();
    assert_eq!(curves, ["secp256r1", "secp521r1"]);
    assert_eq!(s["key_exchange"]["dh_bits"], 1024);
}

#[test]
fn gnutls_without_secure_renegotiation() {
    let server = gnutls_serv("NORMAL:-VERS-TLS1.3:%DISABLE_SAFE_RENEGOTIATION", &[]);
    let s = scan(&server.target());
    assert_eq!(
        s["properties"]["secure_renegotiation"]["supported"], false,
        "{:#}",
        s["properties"]
    );
    let run = tlsdoctor(&["scan", &server.target()]);
    assert!(
        run.stdout.contains("does not support RFC 5746"),
        "{}",
        run.stdout
    );
}

/// OpenSSL keeps one list for every version: TLS 1.0 and 1.1, confirmed from TLS 1.2's own
/// order (one round), come out in exactly the order `openssl ciphers -s` gives for them.
#[test]
fn older_versions_confirmed_from_tls12_order_match_openssl() {
    let server = openssl_s_server(&["-cipher", "ALL:@SECLEVEL=0", "-serverpref"]);
    let s = scan(&server.target());
    for (version, proto) in [("tls1_0", "-tls1"), ("tls1_1", "-tls1_1")] {
        let out = Command::new("openssl")
            .args(["ciphers", "-v", "-s", proto, "ALL:@SECLEVEL=0"])
            .output()
            .expect("openssl ciphers");
        // What an RSA key can serve without PSK or SRP callbacks: RSA-signed and anonymous.
        let truth: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("Au=RSA") || l.contains("Au=None"))
            .filter(|l| !["PSK", "SRP"].iter().any(|k| l.contains(k)))
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect();
        assert!(truth.len() > 10, "{proto}: {truth:?}");
        let (suites, pref) = suites_of(&s, version);
        assert_eq!(suites, truth, "{version}");
        assert_eq!(pref, Some(true), "{version}");
    }
}

#[test]
fn nginx_ciphers_preference_curves_and_alpn() {
    let server = nginx(
        "ssl_protocols TLSv1.2 TLSv1.3;\n\
         ssl_ciphers ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256;\n\
         ssl_prefer_server_ciphers on;\n\
         ssl_ecdh_curve secp384r1:prime256v1;\n\
         server { listen 127.0.0.1:{port} ssl http2; server_name localhost;\n\
           ssl_certificate {cert}; ssl_certificate_key {key}; location / { return 200 'ok'; } }",
    );
    let s = scan(&server.target());
    let (suites, pref) = suites_of(&s, "tls1_2");
    assert_eq!(
        suites,
        [
            "ECDHE-RSA-CHACHA20-POLY1305",
            "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-RSA-AES128-GCM-SHA256"
        ]
    );
    assert_eq!(pref, Some(true));
    assert_eq!(group_names(&s, "ecdhe_curves"), ["secp384r1", "secp256r1"]);
    let mut g13 = group_names(&s, "tls13_groups");
    g13.sort();
    assert_eq!(g13, ["secp256r1", "secp384r1"]);
    let alpn: Vec<&str> = s["properties"]["alpn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // nginx also selects http/1.0 when offered (its ALPN callback lists it).
    assert_eq!(alpn, ["h2", "http/1.1", "http/1.0"]);
    assert_eq!(s["properties"]["fallback_scsv"]["supported"], true);
    assert_eq!(s["properties"]["compression"]["supported"], false);
    // Every connection is some check's.
    let by_check = s["connections_by_check"].as_object().unwrap();
    // (Key order: serde_json sorts them.)
    let names: Vec<&str> = by_check.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["groups", "properties", "protocols", "resumption", "suites"]
    );
    let sum: u64 = by_check.values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(sum, s["connections"].as_u64().unwrap(), "{by_check:#?}");
}

#[test]
fn client_certificate_request_is_reported() {
    let server = openssl_s_server(&["-tls1_2", "-Verify", "1"]);
    let s = scan(&server.target());
    assert_eq!(
        s["properties"]["client_certificate"]["requested"], true,
        "{:#}",
        s["properties"]
    );
}

#[test]
fn session_resumption_by_id_and_ticket() {
    let tickets = openssl_s_server(&["-tls1_2"]);
    let no_tickets = openssl_s_server(&["-tls1_2", "-no_ticket"]);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| scan(&tickets.target()));
        let b = s.spawn(|| scan(&no_tickets.target()));
        (a.join().unwrap(), b.join().unwrap())
    });
    let p = &a["properties"];
    assert_eq!(p["resumption_session_id"]["supported"], true, "{p:#}");
    assert_eq!(p["resumption_ticket"]["supported"], true, "{p:#}");
    let p = &b["properties"];
    assert_eq!(p["session_ticket"]["supported"], false, "{p:#}");
    assert_eq!(p["resumption_ticket"]["supported"], false, "{p:#}");
    assert_eq!(p["resumption_session_id"]["supported"], true, "{p:#}");
}

#[test]
fn certificate_per_key_type_in_tls12_and_tls13_only() {
    let dir = tempfile::tempdir().unwrap();
    let (rsa_cert, rsa_key) = crate::common::servers::self_signed(dir.path(), "rsa", "rsa:2048");
    let (ec_cert, ec_key) = (dir.path().join("ec.crt"), dir.path().join("ec.key"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .args(["-days", "30", "-subj", "/CN=localhost", "-keyout"])
        .arg(&ec_key)
        .arg("-out")
        .arg(&ec_cert)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "EC certificate");
    for protocols in ["TLSv1.2 TLSv1.3", "TLSv1.3"] {
        let block = format!(
            "ssl_protocols {protocols};\n\
             server {{ listen 127.0.0.1:{{port}} ssl; server_name localhost;\n\
               ssl_certificate {}; ssl_certificate_key {};\n\
               ssl_certificate {{cert}}; ssl_certificate_key {{key}}; location / {{ return 200 'ok'; }} }}",
            ec_cert.display(),
            ec_key.display()
        );
        let server = crate::common::servers::nginx_with(
            &block,
            &rsa_cert,
            &rsa_key,
            tempfile::tempdir().unwrap(),
        );
        let s = scan(&server.target());
        let certs = s["properties"]["certificates"].as_array().unwrap();
        let kinds: Vec<&str> = certs
            .iter()
            .map(|c| c["key_type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["RSA", "ECDSA"], "{protocols}: {certs:#?}");
        assert_ne!(
            certs[0]["leaf_sha256"], certs[1]["leaf_sha256"],
            "{protocols}"
        );
        // TLS 1.2 and 1.3: one hello asks compression and the first ALPN choice, two more
        // offer what is left of ALPN, one carries the fallback SCSV, one asks the key type
        // the version probe's flight did not show. TLS 1.3 only: three ALPN handshakes,
        // the first of which shows one key type, and one handshake for the other.
        let properties = if protocols == "TLSv1.3" { 4 } else { 5 };
        assert_eq!(
            s["connections_by_check"]["properties"], properties,
            "{protocols}: {:#}",
            s["connections_by_check"]
        );
    }
}

#[test]
fn alpn_on_a_tls13_only_server() {
    let server = nginx(
        "ssl_protocols TLSv1.3;\n\
         server { listen 127.0.0.1:{port} ssl http2; server_name localhost;\n\
           ssl_certificate {cert}; ssl_certificate_key {key}; location / { return 200 'ok'; } }",
    );
    let s = scan(&server.target());
    let alpn: Vec<&str> = s["properties"]["alpn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        alpn,
        ["h2", "http/1.1", "http/1.0"],
        "{:#}",
        s["properties"]["alpn_evidence"]
    );
}

#[test]
fn certificate_chain_is_described_and_judged_per_store() {
    for flag in ["-tls1_2", "-tls1_3"] {
        let server = openssl_s_server(&[flag]);
        let s = scan(&server.target());
        let chain = &s["certificate_chain"];
        assert_eq!(
            chain["certificates"][0]["subject"], "CN=localhost",
            "{flag}: {chain:#}"
        );
        assert_eq!(chain["certificates"][0]["key_bits"], 2048, "{flag}");
        let stores: Vec<&str> = chain["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["store"].as_str().unwrap())
            .collect();
        assert_eq!(stores, ["mozilla", "system"], "{flag}");
        assert!(
            chain["findings"].to_string().contains("cert-self-signed"),
            "{flag}"
        );
    }
}

/// The `early-data` check, end to end through the CLI: `openssl s_server -early_data`
/// accepts early data on a resumed TLS 1.3 handshake; a default s_server's tickets allow
/// none. Only `check` judges, with the catalogue's finding; without `--extra-checks` the
/// check does not run and costs no connection.
#[test]
fn tls13_early_data_acceptance() {
    let accepting = openssl_s_server(&["-early_data"]);
    let refusing = openssl_s_server(&[]);
    let with_check = |target: &str, command: &str| {
        let run = tlsdoctor(&[
            command,
            target,
            "--extra-checks",
            "early-data",
            "--json",
            "--timeout",
            "5",
        ]);
        assert!(
            run.code <= 1,
            "{command} failed: {}\n{}",
            run.stdout,
            run.stderr
        );
        run.json()
    };
    let findings = |doc: &Value| -> Vec<(String, String)> {
        doc["diagnoses"][0]["findings"]
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
    };
    let plain = scan(&accepting.target());
    assert!(plain.get("early_data").is_none(), "{plain:#}");

    let yes = with_check(&accepting.target(), "scan")["servers"][0].clone();
    let ed = &yes["early_data"];
    assert_eq!(ed["accepted"], true, "{ed:#}\n{}", accepting.log());
    assert!(ed["max_early_data_size"].as_u64().unwrap() > 0, "{ed:#}");
    // One handshake for the ticket, one resuming with it: both counted.
    assert_eq!(
        yes["connections"].as_u64().unwrap(),
        plain["connections"].as_u64().unwrap() + 2,
        "{ed:#}"
    );

    let no = with_check(&refusing.target(), "scan")["servers"][0].clone();
    let ed = &no["early_data"];
    assert_eq!(ed["accepted"], false, "{ed:#}");
    assert_eq!(ed["max_early_data_size"], 0, "{ed:#}");
    assert!(
        ed["evidence"]
            .as_str()
            .unwrap()
            .contains("allows no early data"),
        "{ed:#}"
    );

    let judged = findings(&with_check(&accepting.target(), "check"));
    assert!(
        judged.contains(&("early-data-accepted".into(), "info".into())),
        "{judged:?}"
    );
    let judged = findings(&with_check(&refusing.target(), "check"));
    assert!(
        !judged.iter().any(|(id, _)| id == "early-data-accepted"),
        "{judged:?}"
    );
}
