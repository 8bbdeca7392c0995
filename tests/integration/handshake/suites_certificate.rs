//! Cipher suites that need a certificate the server does not have: openssl s_server with an
//! RSA certificate, TLS 1.2 only and `-cipher ECDHE-ECDSA-AES128-GCM-SHA256` can use none of
//! its suites and refuses every hello with handshake_failure. The real clients print their
//! handshake_failure texts; `check` must name the mismatch, not "no shared cipher" or "the
//! server accepts none of the hellos". The same server with an ECDHE-RSA suite serves them.

use super::{check, leaf_of_size, mismatches, rsa_root, simulated, simulations_of};
use crate::common::cli::{tlsdoctor, tlsdoctor_env};
use crate::common::clients::{FIVE, RealClients, Tweaks};
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
    // Each simulated client is refused for the mismatch too, not for "no shared cipher".
    for s in diag["simulations"].as_array().unwrap() {
        assert_eq!(
            s["failure"]["finding"], "suites-need-other-certificate",
            "{s:#}"
        );
    }
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

/// The same suites with TLS 1.3 on: TLS 1.3 suites do not depend on the certificate, so
/// clients that speak TLS 1.3 connect and only those limited to TLS 1.2 are refused. Under an
/// OPENSSL_CONF with MaxProtocol TLSv1.2 (read by Python and s_client only, measured in
/// openssl_conf.rs) `check` must predict exactly who fails and name the mismatch for them,
/// not "no shared cipher"; without it, the mismatch is a warning for TLS 1.2-only clients.
/// curl, Node 20 and Java 17 capped at TLS 1.2 by their own settings (.curlrc, NODE_OPTIONS,
/// JDK_JAVA_OPTIONS) print the texts tlsdoctor gives them for this refusal.
#[test]
fn with_tls13_on_only_clients_limited_to_tls12_are_refused_and_told_why() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    leaf_of_size(d, "leaf", 1500);
    let (cert, key) = (d.join("leaf.pem"), d.join("leaf.key"));
    let clients = RealClients::new(&root, "localhost");
    let ids = [FIVE.as_slice(), &["gnutls"]].concat();
    let ecdsa_only = ["-www", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"];
    let server = openssl_s_server_with(&ecdsa_only, &cert, &key, None);
    let target = server.target();
    let root_s = root.to_str().unwrap();
    let args = [
        "check",
        &target,
        "--sni",
        "localhost",
        "--cafile",
        root_s,
        "--json",
    ];
    let of = |diag: &serde_json::Value, id: &str| {
        diag["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
    };

    // Plain: every client speaks TLS 1.3 and connects; the mismatch is a warning.
    let real = clients.run_all(&ids, server.port);
    assert!(real.iter().all(|(_, r)| r.connects), "{real:#?}");
    let run = tlsdoctor(&args);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let diag = run.json()["diagnoses"][0].clone();
    let problems = mismatches("tls13 on", &real, &simulations_of(&diag, &ids));
    assert!(problems.is_empty(), "{problems:#?}");
    let f = of(&diag, "suites-need-other-certificate").unwrap_or_else(|| panic!("{diag:#}"));
    assert_eq!(f["severity"], "warning", "{f:#}");
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("other than the RSA one it serves"),
        "{f:#}"
    );

    // Every recorded client refused here (TLS 1.2-only ones, and those that offer only a
    // draft of TLS 1.3) is refused for the mismatch, not for "no shared cipher".
    let all = tlsdoctor(&[
        "simulate",
        &target,
        "--sni",
        "localhost",
        "--cafile",
        root_s,
        "--client",
        "all",
        "--json",
    ]);
    let sims = all.json()["servers"][0]["simulations"].clone();
    let refused: Vec<&serde_json::Value> = sims
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["connects"] == false)
        .collect();
    assert!(refused.len() > 10, "{sims:#}");
    for s in refused {
        assert_eq!(
            s["failure"]["finding"], "suites-need-other-certificate",
            "{s:#}"
        );
    }

    // Under MaxProtocol TLSv1.2: Python and s_client are refused, the rest connect.
    let conf = d.join("max-tls12.cnf");
    std::fs::write(
        &conf,
        "openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n[ssl_sect]\n\
         system_default = system_default_sect\n[system_default_sect]\nMaxProtocol = TLSv1.2\n",
    )
    .unwrap();
    let conf = conf.to_str().unwrap().to_string();
    let under = Tweaks {
        env: vec![("OPENSSL_CONF".into(), conf.clone())],
        ..Tweaks::default()
    };
    let real = clients.run_all_with(&ids, server.port, &under);
    for (id, r) in &real {
        assert_eq!(r.connects, id != "python" && id != "openssl", "{id}: {r:?}");
    }
    let run = tlsdoctor_env(&args, &[("OPENSSL_CONF", &conf)]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let diag = run.json()["diagnoses"][0].clone();
    let problems = mismatches("MaxProtocol TLSv1.2", &real, &simulations_of(&diag, &ids));
    assert!(problems.is_empty(), "{problems:#?}");
    let lead = &diag["findings"][0];
    assert_eq!(
        lead["id"], "suites-need-other-certificate",
        "{:#}",
        diag["findings"]
    );
    assert_eq!(lead["severity"], "error");
    assert!(
        of(&diag, "no-shared-cipher").is_none(),
        "{:#}",
        diag["findings"]
    );
    let breaks = lead["breaks"].to_string();
    for id in ["python", "openssl"] {
        let r = &real.iter().find(|(i, _)| i == id).unwrap().1;
        let quoted = serde_json::to_string(&r.text).unwrap();
        assert!(breaks.contains(&quoted), "{id}: {quoted} not in {breaks}");
        let sim = diag["simulations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["client"] == id)
            .unwrap();
        assert_eq!(
            sim["failure"]["finding"], "suites-need-other-certificate",
            "{sim:#}"
        );
    }

    // curl, Node and Java capped at TLS 1.2 by their own settings: each is refused, with
    // the text tlsdoctor predicts for it on the same suites without TLS 1.3.
    let curl_home = d.join("curl-home");
    std::fs::create_dir_all(&curl_home).unwrap();
    std::fs::write(curl_home.join(".curlrc"), "tls-max = 1.2\n").unwrap();
    let capped = Tweaks {
        env: vec![
            ("CURL_HOME".into(), curl_home.to_str().unwrap().into()),
            ("NODE_OPTIONS".into(), "--tls-max-v1.2".into()),
            (
                "JDK_JAVA_OPTIONS".into(),
                "-Djdk.tls.client.protocols=TLSv1.2".into(),
            ),
        ],
        ..Tweaks::default()
    };
    let others = ["curl", "node", "java"];
    let real = clients.run_all_with(&others, server.port, &capped);
    drop(server);
    let tls12_only = [&ecdsa_only[..], &["-no_tls1_3"]].concat();
    let server = openssl_s_server_with(&tls12_only, &cert, &key, None);
    let predicted = simulated(server.port, &root, &others);
    let problems = mismatches("capped at TLS 1.2", &real, &predicted);
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(real.iter().all(|(_, r)| !r.connects), "{real:#?}");
}
