//! Refusals with a specific cause that clients only see as an alert:
//! - an enforced ALPN list (s_server -alpn h2): clients offering only http/1.1 get
//!   no_application_protocol, clients offering no ALPN connect;
//! - no shared ECDHE group (a brainpool-only server): every client gets handshake_failure,
//!   although it shares cipher suites with the server.

use super::{check, leaf_of_size, mismatches, rsa_root, simulated};
use crate::common::clients::{FIVE, RealClients, Tweaks};
use crate::common::servers::openssl_s_server_with;

fn finding<'a>(diag: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    diag["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {:#}", diag["findings"]))
}

#[test]
fn an_enforced_alpn_list_refuses_http11_only_clients() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    leaf_of_size(d, "leaf", 1500);
    let server = openssl_s_server_with(
        &["-www", "-alpn", "h2"],
        &d.join("leaf.pem"),
        &d.join("leaf.key"),
        None,
    );
    let clients = RealClients::new(&root, "localhost");

    // Without ALPN (the clients' defaults) the handshake succeeds, as simulated. curl offers
    // h2 by default and then speaks HTTP/2 to a server that does not, so it is left out.
    let defaults = ["python", "openssl", "node", "java", "gnutls"];
    let real = clients.run_all(&defaults, server.port);
    let problems = mismatches(
        "default ALPN",
        &real,
        &simulated(server.port, &root, &defaults),
    );
    assert!(problems.is_empty(), "{problems:#?}");

    // Offering only http/1.1, every client is refused, and the finding quotes each one.
    let ids = [FIVE.as_slice(), &["gnutls"]].concat();
    let http11 = Tweaks {
        alpn: Some("http/1.1".into()),
        ..Tweaks::default()
    };
    let real = clients.run_all_with(&ids, server.port, &http11);
    let diag = check(server.port, &root);
    let f = finding(&diag, "alpn-required");
    assert_eq!(
        diag["findings"][0]["id"], "alpn-required",
        "{:#}",
        diag["findings"]
    );
    assert_eq!(
        f["title"],
        "The server refuses clients whose ALPN list lacks h2 (no_application_protocol)"
    );
    let breaks = f["breaks"].as_array().unwrap();
    let mut problems = Vec::new();
    for (id, r) in &real {
        let listed = breaks.iter().any(|b| {
            let t = b["error"].as_str().unwrap();
            match id.as_str() {
                "curl" => r.text.contains(t.trim_start_matches("OpenSSL/3.0: ")),
                "node" => r.text.starts_with(t),
                _ => r.text == t,
            }
        });
        if r.connects || !listed {
            problems.push(format!("{id}: {r:?} not among {breaks:#?}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    let python = &real.iter().find(|(i, _)| i == "python").unwrap().1;
    assert_eq!(python.text, "[SSL] tlsv1 alert no application protocol");
}

#[test]
fn a_brainpool_only_server_is_named_for_its_groups_not_its_suites() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    leaf_of_size(d, "leaf", 1500);
    let server = openssl_s_server_with(
        &[
            "-www",
            "-no_tls1_3",
            "-cipher",
            "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
            "-groups",
            "brainpoolP256r1:brainpoolP384r1",
        ],
        &d.join("leaf.pem"),
        &d.join("leaf.key"),
        None,
    );
    let clients = RealClients::new(&root, "localhost");
    let ids = [FIVE.as_slice(), &["gnutls"]].concat();
    let real = clients.run_all(&ids, server.port);
    assert!(real.iter().all(|(_, r)| !r.connects), "{real:#?}");
    let problems = mismatches("brainpool", &real, &simulated(server.port, &root, &ids));
    assert!(problems.is_empty(), "{problems:#?}");

    let diag = check(server.port, &root);
    let f = finding(&diag, "no-shared-group");
    assert_eq!(diag["findings"][0]["id"], "no-shared-group");
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("brainpoolP256r1, brainpoolP384r1"),
        "{f}"
    );
    assert!(
        diag["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != "no-shared-cipher"),
        "{:#}",
        diag["findings"]
    );
    let breaks = f["breaks"].to_string();
    for (id, r) in &real {
        if ["python", "openssl", "java"].contains(&id.as_str()) {
            let quoted = serde_json::to_string(&r.text).unwrap();
            assert!(breaks.contains(&quoted), "{id}: {quoted} not in {breaks}");
        }
    }
}
