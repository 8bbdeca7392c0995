//! STARTTLS (`--starttls`, URL schemes, well-known ports) against real servers from Debian
//! packages on 127.0.0.1: a scan through the upgrade agrees with `openssl s_client
//! -starttls`, misconfigured servers are named with the real clients' texts, and upgrade
//! failures are findings of their own.

mod client_texts;
mod failures;
mod follow;
mod mail;
mod more;
mod others;
mod pipelined;
mod postgres;
mod sniff;
mod wrong_version;

use crate::common::cli::tlsdoctor;
use crate::common::starttls_clients;
use serde_json::Value;
use std::collections::BTreeSet;

/// `openssl s_client -brief -starttls PROTO` with `args`: the version and suite it
/// negotiated, or None.
fn s_client_session(port: u16, proto: &str, args: &[&str]) -> Option<(String, String)> {
    let mut all = vec!["-brief", "-starttls", proto];
    if proto.starts_with("xmpp") {
        // The test servers serve the XMPP domain `localhost`.
        all.extend_from_slice(&["-xmpphost", "localhost"]);
    }
    all.extend_from_slice(args);
    let out = crate::common::clients::s_client(port, &all);
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    Some((field("Protocol version:")?, field("Ciphersuite:")?))
}

/// The TLS 1.2-and-older suites OpenSSL knows (at security level 0), by OpenSSL name.
fn openssl_suites(version_flag: &str) -> Vec<String> {
    let out = std::process::Command::new("openssl")
        .args(["ciphers", version_flag, "ALL:COMPLEMENTOFALL:@SECLEVEL=0"])
        .output()
        .expect("openssl ciphers");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .split(':')
        .filter(|s| !s.starts_with("TLS_"))
        .map(str::to_string)
        .collect()
}

/// In parallel (a few at a time), for each item: `f(item)`.
fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    std::thread::scope(|s| {
        items
            .chunks(items.len().div_ceil(6).max(1))
            .map(|chunk| s.spawn(|| chunk.iter().map(&f).collect::<Vec<R>>()))
            .collect::<Vec<_>>()
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// The scan document's versions and suites agree with what `openssl s_client -starttls`
/// gets from the same server: every version, the TLS 1.2 suites (each one found and a sample
/// of the others) and every TLS 1.3 suite.
pub fn assert_scan_agrees_with_s_client(port: u16, proto: &str, server: &Value) {
    assert_versions_agree_with_s_client(port, proto, server);
    assert_suites_agree_with_s_client(port, proto, server);
}

fn accepted(server: &Value, name: &str) -> bool {
    server["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .map(|r| r["accepted"] == true)
        .unwrap_or(false)
}

/// Every version TLS 1.0 to 1.3: accepted by the scan exactly when s_client gets it, and
/// s_client's default session uses a suite the scan found.
pub fn assert_versions_agree_with_s_client(port: u16, proto: &str, server: &Value) {
    let accepted = |name: &str| accepted(server, name);
    // (tlsdoctor's name, s_client's flag, the name s_client prints)
    for (name, flag, theirs) in [
        ("TLSv1.0", "-tls1", "TLSv1"),
        ("TLSv1.1", "-tls1_1", "TLSv1.1"),
        ("TLSv1.2", "-tls1_2", "TLSv1.2"),
        ("TLSv1.3", "-tls1_3", "TLSv1.3"),
    ] {
        let got = s_client_session(port, proto, &[flag, "-cipher", "ALL:@SECLEVEL=0"]);
        assert_eq!(
            accepted(name),
            got.as_ref().is_some_and(|(v, _)| v == theirs),
            "{proto} {name}: tlsdoctor says {}, s_client got {got:?}",
            accepted(name)
        );
    }
    let all_suites = server["cipher_suites"].to_string();
    let default = s_client_session(port, proto, &[]);
    let (_, suite) = default.unwrap_or_else(|| panic!("{proto}: s_client did not connect"));
    assert!(
        all_suites.contains(&format!("\"{suite}\"")),
        "{proto}: s_client's {suite} is not among {all_suites}"
    );
}

fn assert_suites_agree_with_s_client(port: u16, proto: &str, server: &Value) {
    let accepted = |name: &str| accepted(server, name);
    let scanned = |version: &str| -> BTreeSet<String> {
        server["cipher_suites"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["version"] == version)
            .flat_map(|v| v["suites"].as_array().unwrap().iter())
            .filter_map(|s| s["openssl"].as_str().map(str::to_string))
            .collect()
    };
    if accepted("TLSv1.2") {
        let known = openssl_suites("-tls1_2");
        // Every suite tlsdoctor found, and every eighth of the others (a full sweep costs
        // a connection per suite OpenSSL knows, ~140, for little more evidence).
        let ours_known: BTreeSet<String> = scanned("tls1_2")
            .into_iter()
            .filter(|s| known.contains(s))
            .collect();
        let probe: Vec<String> = known
            .iter()
            .filter(|s| !ours_known.contains(*s))
            .step_by(8)
            .chain(ours_known.iter())
            .cloned()
            .collect();
        let by_s_client: BTreeSet<String> = parallel(&probe, |suite| {
            let cipher = format!("{suite}:@SECLEVEL=0");
            s_client_session(port, proto, &["-tls1_2", "-cipher", &cipher])
                .filter(|(_, s)| s == suite)
                .map(|(_, s)| s)
        })
        .into_iter()
        .flatten()
        .collect();
        assert_eq!(ours_known, by_s_client, "{proto}: TLS 1.2 suites");
    }
    if accepted("TLSv1.3") {
        let tls13 = [
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_AES_128_CCM_SHA256",
            "TLS_AES_128_CCM_8_SHA256",
        ];
        let by_s_client: BTreeSet<String> = parallel(&tls13, |suite| {
            s_client_session(port, proto, &["-tls1_3", "-ciphersuites", suite]).map(|(_, s)| s)
        })
        .into_iter()
        .flatten()
        .collect();
        let ours: BTreeSet<String> = server["cipher_suites"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["version"] == "tls1_3")
            .flat_map(|v| v["suites"].as_array().unwrap().iter())
            .filter_map(|s| s["iana"].as_str().map(str::to_string))
            .collect();
        assert_eq!(ours, by_s_client, "{proto}: TLS 1.3 suites");
    }
}

/// `tlsdoctor scan TARGET ARGS --json`: the one server's document (no errors allowed).
pub fn scan(target: &str, args: &[&str]) -> Value {
    let mut all = vec!["scan", target, "--json"];
    all.extend_from_slice(args);
    let run = tlsdoctor(&all);
    let doc = run.json();
    assert_eq!(doc["errors"], serde_json::json!([]), "{}", run.stdout);
    doc
}

/// `tlsdoctor check TARGET ARGS --json`: the document.
pub fn check(target: &str, args: &[&str]) -> Value {
    let mut all = vec!["check", target, "--json"];
    all.extend_from_slice(args);
    tlsdoctor(&all).json()
}

/// The finding `id` of the first diagnosis.
pub fn finding<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["diagnoses"][0]["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings: {doc}"))
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id}: {doc:#}"))
}

/// The `[upgrade.PROTOCOL.FAILURE]` texts of data/client-errors.toml.
fn upgrade_texts(protocol: &str, failure: &str) -> Vec<(String, String)> {
    let cat: toml::Value =
        toml::from_str(include_str!("../../../data/client-errors.toml")).unwrap();
    cat["upgrade"][protocol][failure]
        .as_table()
        .unwrap_or_else(|| panic!("no [upgrade.{protocol}.{failure}]"))
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

/// Every client text the catalogue claims for this protocol and failure is what the real
/// client prints against `port`, and the finding lists each of them.
pub fn assert_upgrade_texts(protocol: &str, failure: &str, port: u16, finding: &Value) {
    let texts = upgrade_texts(protocol, failure);
    assert!(!texts.is_empty());
    let outputs = parallel(&texts, |(client, _)| starttls_clients::run(client, port));
    for ((client, text), out) in texts.iter().zip(outputs) {
        assert!(
            out.contains(text.as_str()),
            "{client}: the catalogue says {text:?}, the real client printed:\n{out}"
        );
        let listed = finding["breaks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["client"] == client.as_str() && b["error"] == text.as_str());
        assert!(
            listed,
            "{client} is not in the finding's breaks: {finding:#}"
        );
    }
}
