//! Limits the clients apply while reading the server's flight, measured at each client's own
//! boundary and then on one misconfigured server with all clients:
//! - the Certificate message: Java 17 reads 32768 bytes (jdk.tls.maxHandshakeMessageSize),
//!   OpenSSL 3 clients 102400 (max_cert_list), GnuTLS 3.7 about 128 KiB of handshake data;
//! - the DHE prime: Java 17 cannot use a 2050-bit prime (not a multiple of 64 bits).
//!
//! The profiles (data/clients/*.toml) keep these limits; the simulation must say what the real
//! client did, with its text.

use super::{check, leaf_of_size, mismatches, rsa_root, simulated};
use crate::common::clients::{FIVE, RealClients};
use crate::common::servers::{ServerProcess, openssl_s_server_with};
use std::path::Path;

/// s_server with the leaf `name` (and its key) from `dir`, answering HTTP.
fn serve(dir: &Path, name: &str, extra: &[&str]) -> ServerProcess {
    let mut args = vec!["-www"];
    args.extend_from_slice(extra);
    openssl_s_server_with(
        &args,
        &dir.join(format!("{name}.pem")),
        &dir.join(format!("{name}.key")),
        None,
    )
}

#[test]
fn each_clients_certificate_message_limit_at_its_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    let clients = RealClients::new(&root, "localhost");
    // (client, leaf DER size, TLS 1.2 only, connects). The leaf is sent alone: its
    // Certificate message is DER + 9 bytes in TLS 1.3, DER + 6 in TLS 1.2.
    let cases: &[(&str, usize, bool, bool)] = &[
        ("java", 32759, false, true),
        ("java", 32760, false, false),
        ("python", 102391, false, true),
        ("python", 102392, false, false),
        ("python", 102394, true, true),
        ("python", 102395, true, false),
        ("gnutls", 130118, false, true),
        ("gnutls", 130119, false, false),
    ];
    let mut problems = Vec::new();
    for (i, (id, size, tls12, connects)) in cases.iter().enumerate() {
        let name = format!("leaf{i}");
        leaf_of_size(d, &name, *size);
        let server = serve(d, &name, if *tls12 { &["-no_tls1_3"] } else { &[] });
        let real = clients.run(id, server.port);
        let case = format!("{id} with a {size}-byte leaf (TLS 1.2 only: {tls12})");
        if real.connects != *connects {
            problems.push(format!("{case}: real client: {real:?}"));
        }
        problems.extend(mismatches(
            &case,
            &[(id.to_string(), real)],
            &simulated(server.port, &root, &[id]),
        ));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_certificate_with_thousands_of_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    let clients = RealClients::new(&root, "localhost");
    let ids = [FIVE.as_slice(), &["gnutls"]].concat();
    // About 1000 names: only Java refuses. About 3000: every OpenSSL client too.
    let mut problems = Vec::new();
    for (name, size, failing) in [
        ("thousand", 37_000, &["java"][..]),
        (
            "three-thousand",
            110_000,
            &["python", "openssl", "curl", "node", "java"][..],
        ),
    ] {
        leaf_of_size(d, name, size);
        let server = serve(d, name, &[]);
        let real = clients.run_all(&ids, server.port);
        for (id, r) in &real {
            if r.connects == failing.contains(&id.as_str()) {
                problems.push(format!("{name}: {id}: {r:?}"));
            }
        }
        let texts: Vec<(&str, &str)> = real
            .iter()
            .filter(|(_, r)| !r.connects)
            .map(|(id, r)| (id.as_str(), r.text.as_str()))
            .collect();
        if name == "three-thousand" {
            // The texts the issue names, from the real clients.
            let text = |id: &str| texts.iter().find(|(i, _)| *i == id).map(|t| t.1);
            assert_eq!(
                text("python"),
                Some("[SSL: EXCESSIVE_MESSAGE_SIZE] excessive message size")
            );
            assert!(
                text("java").is_some_and(|t| t.starts_with(
                    "javax.net.ssl.SSLProtocolException: The size of the handshake message ("
                ) && t
                    .ends_with(") exceeds the maximum allowed size (32768)")),
                "{texts:?}"
            );
        }
        problems.extend(mismatches(
            name,
            &real,
            &simulated(server.port, &root, &ids),
        ));

        // The diagnosis names the cause, with every failing client's own text.
        let diag = check(server.port, &root);
        let findings = diag["findings"].as_array().unwrap();
        let f = findings
            .iter()
            .find(|f| f["id"] == "cert-message-too-large")
            .unwrap_or_else(|| panic!("{name}: no cert-message-too-large in {findings:#?}"));
        assert_eq!(findings[0]["id"], f["id"], "{name}: it leads");
        for id in failing {
            let real_text = &real.iter().find(|(i, _)| i == id).unwrap().1.text;
            let listed = f["breaks"].as_array().unwrap().iter().any(|b| {
                let t = b["error"].as_str().unwrap_or("");
                b["key"]["profile"] == *id
                    || (!t.is_empty() && real_text.contains(t.trim_start_matches("OpenSSL/3.0: ")))
            });
            assert!(
                listed,
                "{name}: {id} ({real_text}) not among {:#?}",
                f["breaks"]
            );
        }
        let evidence = f["evidence"].to_string();
        assert!(evidence.contains("subjectAltNames"), "{evidence}");
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn java_cannot_use_a_dhe_prime_of_2050_bits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    leaf_of_size(d, "leaf", 1500);
    let clients = RealClients::new(&root, "localhost");
    // A 2050-bit prime (tests/data/dh2050.pem: `openssl dhparam -dsaparam 2050`, rewritten as
    // PKCS#3 parameters, which s_server loads) and DHE suites only.
    let dh = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dh2050.pem");
    let dh = dh.to_str().unwrap();
    let dhe = "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";
    let server = serve(d, "leaf", &["-no_tls1_3", "-cipher", dhe, "-dhparam", dh]);
    let ids = [FIVE.as_slice(), &["gnutls"]].concat();
    let real = clients.run_all(&ids, server.port);
    for (id, r) in &real {
        assert_eq!(r.connects, id != "java", "{id}: {r:?}");
    }
    let java = &real.iter().find(|(i, _)| i == "java").unwrap().1;
    assert_eq!(
        java.text,
        "javax.net.ssl.SSLException: Could not generate DH keypair"
    );
    let problems = mismatches("dh2050", &real, &simulated(server.port, &root, &ids));
    assert!(problems.is_empty(), "{problems:#?}");

    let diag = check(server.port, &root);
    let f = diag["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "dh-prime-size-unsupported")
        .unwrap_or_else(|| panic!("{:#}", diag["findings"]))
        .clone();
    assert!(f["title"].as_str().unwrap().contains("2050 bits"), "{f}");
    assert_eq!(f["breaks"][0]["error"], java.text.as_str());
}
