//! Cipher suites that need a certificate the server does not have: openssl s_server with an
//! RSA certificate, TLS 1.2 only and `-cipher ECDHE-ECDSA-AES128-GCM-SHA256` can use none of
//! its suites and refuses every hello with handshake_failure. The real clients print their
//! handshake_failure texts; `check` must name the mismatch, not "no shared cipher" or "the
//! server accepts none of the hellos". The same server with an ECDHE-RSA suite serves them.

use super::{check, leaf_of_size, mismatches, rsa_root, simulations_of};
use crate::common::clients::{FIVE, RealClients};
use crate::common::servers::openssl_s_server_with;

#[test]
fn ecdsa_only_suites_with_an_rsa_certificate_are_named_as_the_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    leaf_of_size(d, "leaf", 1500);
    let (cert, key) = (d.join("leaf.pem"), d.join("leaf.key"));
    let clients = RealClients::new(&root, "localhost");
    let ids = [FIVE.as_slice(), &["gnutls"]].concat();

    let server = openssl_s_server_with(
        &[
            "-www",
            "-no_tls1_3",
            "-cipher",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
        ],
        &cert,
        &key,
        None,
    );
    let real = clients.run_all(&ids, server.port);
    assert!(real.iter().all(|(_, r)| !r.connects), "{real:#?}");
    let python = &real.iter().find(|(i, _)| i == "python").unwrap().1;
    assert_eq!(
        python.text,
        "[SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure"
    );
    let diag = check(server.port, &root);
    let problems = mismatches("ecdsa-only", &real, &simulations_of(&diag, &ids));
    assert!(problems.is_empty(), "{problems:#?}");
    let findings = diag["findings"].as_array().unwrap();
    let lead = &findings[0];
    assert_eq!(
        lead["id"], "suites-need-other-certificate",
        "{:#}",
        diag["findings"]
    );
    assert!(
        findings
            .iter()
            .all(|f| f["id"] != "server-closed" && f["id"] != "no-shared-cipher"),
        "{:#}",
        diag["findings"]
    );
    let fixes = lead["fix_server"].to_string();
    assert!(fixes.contains("ECDHE-RSA"), "{fixes}");
    assert!(fixes.contains("ECDSA certificate"), "{fixes}");
    let breaks = lead["breaks"].to_string();
    for (id, r) in &real {
        if ["python", "openssl", "java", "gnutls"].contains(&id.as_str()) {
            let quoted = serde_json::to_string(&r.text).unwrap();
            assert!(breaks.contains(&quoted), "{id}: {quoted} not in {breaks}");
        }
    }
    drop(server);

    // The control: an ECDHE-RSA suite for the RSA certificate, and everyone connects.
    let server = openssl_s_server_with(
        &[
            "-www",
            "-no_tls1_3",
            "-cipher",
            "ECDHE-RSA-AES128-GCM-SHA256",
        ],
        &cert,
        &key,
        None,
    );
    let real = clients.run_all(&ids, server.port);
    assert!(real.iter().all(|(_, r)| r.connects), "{real:#?}");
    let diag = check(server.port, &root);
    assert!(
        diag["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != "suites-need-other-certificate"),
        "{:#}",
        diag["findings"]
    );
}
