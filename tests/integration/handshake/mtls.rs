//! mTLS where the client presents a certificate the server rejects (s_server -Verify with
//! -verify_return_error): one from a CA the server does not trust, and an expired one from
//! the CA it does. The real clients print the server's alert (unknown_ca,
//! certificate_expired), except Java, which sends no certificate at all when its issuer is not
//! among the CAs the server lists. `check --cert` must lead with the rejection and quote them.

use super::{leaf_of_size, mismatches, rsa_root, simulations_of};
use crate::common::cli::check_localhost;
use crate::common::clients::{FIVE, RealClients, Tweaks};
use crate::common::openssl_certs::{SelfSigned, openssl, run};
use crate::common::servers::openssl_s_server_with;
use std::path::Path;
use std::process::Command;

/// A CA (NAME.pem, NAME.key) in `dir`.
fn ca(dir: &Path, name: &str) {
    let (cert, key) = (format!("{name}.pem"), format!("{name}.key"));
    SelfSigned {
        cert: &cert,
        key: &key,
        key_spec: "rsa:2048",
        subject: &format!("/CN=tlsdoctor {name}"),
        days: 30,
        extensions: &[
            "basicConstraints=critical,CA:TRUE",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
        clock_shift: None,
    }
    .make(dir);
}

/// A client certificate NAME.pem / NAME.key (and NAME.p12 for Java) issued by `ca`, made
/// with the clock shifted by `shift` (faketime) and valid for `days`.
fn client_cert(dir: &Path, name: &str, ca: &str, shift: Option<&str>, days: u32) {
    std::fs::write(
        dir.join("client.cnf"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
    )
    .unwrap();
    let (key, csr, cert) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &key,
            "-out",
            &csr,
        ],
    );
    let mut x509 = match shift {
        Some(s) => {
            let mut c = Command::new("faketime");
            c.args(["-f", s, "openssl"]);
            c
        }
        None => Command::new("openssl"),
    };
    x509.current_dir(dir)
        .args(["x509", "-req", "-in", &csr, "-CA", &format!("{ca}.pem")])
        .args(["-CAkey", &format!("{ca}.key"), "-CAcreateserial"])
        .args([
            "-days",
            &days.to_string(),
            "-extfile",
            "client.cnf",
            "-out",
            &cert,
        ]);
    run(&mut x509, "openssl x509 -req (client certificate)");
    openssl(
        dir,
        &[
            "pkcs12",
            "-export",
            "-in",
            &cert,
            "-inkey",
            &key,
            "-out",
            &format!("{name}.p12"),
            "-passout",
            "pass:changeit",
        ],
    );
}

#[test]
fn a_rejected_client_certificate_leads_with_the_servers_alert() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    leaf_of_size(d, "leaf", 1500);
    ca(d, "client-ca");
    ca(d, "stranger-ca");
    client_cert(d, "stranger", "stranger-ca", None, 10);
    client_cert(d, "expired", "client-ca", Some("-20d"), 5);
    let clients = RealClients::new(&root, "localhost");
    let ids = [FIVE.as_slice(), &["gnutls"]].concat();
    let client_ca = d.join("client-ca.pem");
    let mut problems = Vec::new();
    // (server flags, certificate, the alert, Java sends none)
    for (versions, cert, alert, java_sends_none) in [
        (&[][..], "stranger", "unknown_ca", true),
        (&[][..], "expired", "certificate_expired", false),
        (&["-no_tls1_3"][..], "stranger", "unknown_ca", true),
        (&["-no_tls1_3"][..], "expired", "certificate_expired", false),
    ] {
        let case = format!("{cert} {versions:?}");
        let mut args = vec!["-www", "-Verify", "1", "-verify_return_error", "-CAfile"];
        args.push(client_ca.to_str().unwrap());
        args.extend_from_slice(versions);
        let server = openssl_s_server_with(&args, &d.join("leaf.pem"), &d.join("leaf.key"), None);
        let (pem, key) = (d.join(format!("{cert}.pem")), d.join(format!("{cert}.key")));
        let tweaks = Tweaks {
            cert: Some((pem.clone(), key.clone())),
            java_keystore: Some(d.join(format!("{cert}.p12"))),
            ..Tweaks::default()
        };
        let real = clients.run_all_with(&ids, server.port, &tweaks);
        assert!(real.iter().all(|(_, r)| !r.connects), "{case}: {real:#?}");

        let target = server.target();
        let r = check_localhost(
            &target,
            root.to_str().unwrap(),
            &[
                "--cert",
                pem.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
                "--json",
            ],
        );
        assert!(r.code <= 1, "{case}: {}", r.stderr);
        let diag = r.json()["diagnoses"][0].clone();
        problems.extend(mismatches(&case, &real, &simulations_of(&diag, &ids)));

        let lead = &diag["findings"][0];
        assert_eq!(
            lead["id"], "client-cert-rejected",
            "{case}: {:#}",
            diag["findings"]
        );
        let evidence = lead["evidence"].to_string();
        assert!(
            evidence.contains(&format!("with alert {alert}")),
            "{case}: {evidence}"
        );
        let breaks = lead["breaks"].to_string();
        for (id, r) in &real {
            let quoted = serde_json::to_string(&r.text).unwrap();
            if ["python", "openssl", "java", "gnutls"].contains(&id.as_str()) {
                assert!(
                    breaks.contains(&quoted),
                    "{case}: {id}: {quoted} not in {breaks}"
                );
            }
        }
        let java = &real.iter().find(|(i, _)| i == "java").unwrap().1.text;
        // Java's text is the server's answer to a client without a certificate.
        assert_eq!(
            java.ends_with(": certificate_required") || java.ends_with(": handshake_failure"),
            java_sends_none,
            "{case}: {java}"
        );
        if java_sends_none {
            assert!(evidence.contains("send none at all"), "{case}: {evidence}");
        } else {
            assert!(
                diag["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|f| f["id"] != "client-cert-required"),
                "{case}: the no-certificate finding stays only for clients that send none: {:#}",
                diag["findings"]
            );
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A TLS 1.2 server that requires a client certificate, with only a DHE suite, which rustls
/// (tlsdoctor's full handshakes) cannot negotiate: `check --cert` cannot present the user's
/// certificate there. It must not predict the no-certificate failure: with a certificate from
/// a CA the server lists, every real client connects and the diagnosis says the certificate
/// could not be tested (a warning); with one from a CA it does not list, every real client is
/// refused (unknown_ca; Java sends none) and the diagnosis leads with that likely rejection,
/// predicting each client's text.
#[test]
fn a_certificate_tlsdoctor_cannot_present_is_not_called_missing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    leaf_of_size(d, "leaf", 1500);
    ca(d, "client-ca");
    ca(d, "stranger-ca");
    client_cert(d, "listed", "client-ca", None, 10);
    client_cert(d, "stranger", "stranger-ca", None, 10);
    let clients = RealClients::new(&root, "localhost");
    let ids = [FIVE.as_slice(), &["gnutls"]].concat();
    let client_ca = d.join("client-ca.pem");
    let server = openssl_s_server_with(
        &[
            "-www",
            "-no_tls1_3",
            "-cipher",
            "DHE-RSA-AES128-GCM-SHA256",
            "-Verify",
            "1",
            "-verify_return_error",
            "-CAfile",
            client_ca.to_str().unwrap(),
        ],
        &d.join("leaf.pem"),
        &d.join("leaf.key"),
        None,
    );
    let target = server.target();
    let findings = |diag: &serde_json::Value| -> Vec<String> {
        diag["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    for (cert, accepted) in [("listed", true), ("stranger", false)] {
        let (pem, key) = (d.join(format!("{cert}.pem")), d.join(format!("{cert}.key")));
        let tweaks = Tweaks {
            cert: Some((pem.clone(), key.clone())),
            java_keystore: Some(d.join(format!("{cert}.p12"))),
            ..Tweaks::default()
        };
        let mut real = clients.run_all_with(&ids[..ids.len() - 2], server.port, &tweaks);
        real.push((
            "gnutls".into(),
            clients.run_with("gnutls", server.port, &tweaks),
        ));
        // Java, which sends no certificate here, writes the rest of its flight while the
        // server answers the empty one with its alert and closes: when the close overtakes
        // those writes (a loaded machine), Java reports the broken pipe instead of the alert.
        // It runs alone, and once more in that case.
        let mut java = clients.run_with("java", server.port, &tweaks);
        if java.text.ends_with("Broken pipe") {
            java = clients.run_with("java", server.port, &tweaks);
        }
        real.push(("java".into(), java));
        assert!(
            real.iter().all(|(_, r)| r.connects == accepted),
            "{cert}: {real:#?}"
        );
        let r = check_localhost(
            &target,
            root.to_str().unwrap(),
            &[
                "--cert",
                pem.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
                "--json",
            ],
        );
        assert_eq!(r.code, if accepted { 0 } else { 1 }, "{cert}: {}", r.stdout);
        let diag = r.json()["diagnoses"][0].clone();
        let problems = mismatches(cert, &real, &simulations_of(&diag, &ids));
        assert!(problems.is_empty(), "{problems:#?}");
        let ids_found = findings(&diag);
        let f = diag["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "client-cert-unverified")
            .unwrap_or_else(|| panic!("{cert}: {ids_found:?}"))
            .clone();
        let evidence = f["evidence"].to_string();
        assert!(evidence.contains("DHE-RSA-AES128-GCM-SHA256"), "{evidence}");
        if accepted {
            assert_eq!(f["severity"], "warning");
            assert!(
                !ids_found.iter().any(|i| i == "client-cert-required"),
                "{cert}: the user's clients present a certificate: {ids_found:?}"
            );
            assert!(
                evidence.contains("your certificate's issuer is among them"),
                "{evidence}"
            );
        } else {
            assert_eq!(ids_found[0], "client-cert-unverified", "{ids_found:?}");
            assert_eq!(f["severity"], "error");
            assert!(evidence.contains("not among them"), "{evidence}");
            let breaks = f["breaks"].to_string();
            for (id, r) in &real {
                if ["python", "openssl", "java", "gnutls"].contains(&id.as_str()) {
                    let quoted = serde_json::to_string(&r.text).unwrap();
                    assert!(breaks.contains(&quoted), "{id}: {quoted} not in {breaks}");
                }
            }
        }
    }
}
