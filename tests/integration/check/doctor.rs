//! `tlsdoctor check` end to end, one test per finding family: a real misconfigured server on
//! 127.0.0.1, the real client's actual error (Python ssl, openssl s_client) taken in the same
//! test, and the finding that must name it, with a fix.

use crate::common::cli::tlsdoctor;
use crate::common::clients::{openssl_reason, python, s_client, stable};
use crate::common::pki::Pki;
use crate::common::servers::{gnutls_serv, nginx_with, openssl_s_server, openssl_s_server_with};
use serde_json::Value;

/// `openssl s_server` with a leaf for localhost under the test PKI (intermediate sent), so
/// clients given `root.pem` trust it and fail only on the fault under test.
fn trusted_s_server(pki: &Pki, extra: &[&str]) -> crate::common::servers::ServerProcess {
    let int = pki.path("int.pem");
    let mut args = vec!["-cert_chain", int.to_str().unwrap()];
    args.extend_from_slice(extra);
    openssl_s_server_with(&args, &pki.path("good.pem"), &pki.path("good.key"), None)
}

fn check(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", "--timeout", "5"]);
    let run = tlsdoctor(&all);
    assert!(
        run.code == 0 || run.code == 1,
        "check could not run ({}): {}\n{}",
        run.code,
        run.stdout,
        run.stderr
    );
    (run.code, run.json())
}

fn findings(doc: &Value) -> Vec<Value> {
    doc["diagnoses"][0]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn finding(doc: &Value, id: &str) -> Value {
    findings(doc)
        .into_iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id} in {:#}", doc["diagnoses"][0]["findings"]))
}

fn assert_names_error(f: &Value, text: &str) {
    let breaks = f["breaks"].as_array().cloned().unwrap_or_default();
    assert!(
        breaks
            .iter()
            .any(|b| b["error"].as_str().is_some_and(|e| e.contains(text))),
        "finding {} does not carry the real client's text {text:?}: {:#}",
        f["id"],
        f["breaks"]
    );
    assert!(
        !f["fix_server"].as_array().unwrap().is_empty(),
        "no server fix in {}",
        f["id"]
    );
}

fn error_ids(doc: &Value) -> Vec<String> {
    findings(doc)
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn server_too_old_tls10_only() {
    let server = openssl_s_server(&["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    let py = python(server.port, "localhost", None).expect_err("python must fail");
    let sc = openssl_reason(&s_client(server.port, &["-servername", "localhost"]))
        .expect("s_client error");
    let (code, doc) = check(&[&format!("localhost:{}", server.port)]);
    assert_eq!(code, 1);
    let f = finding(&doc, "proto-server-too-old");
    assert_names_error(&f, &stable(&py));
    assert_names_error(&f, &sc);
    assert_eq!(sc, "legacy sigalg disallowed or unsupported");
}

#[test]
fn no_shared_cipher_rsa_kx_only() {
    let server = openssl_s_server(&["-tls1_2", "-cipher", "AES128-SHA:AES256-GCM-SHA384"]);
    let py = python(server.port, "localhost", None).expect_err("python must fail");
    let (_, doc) = check(&[&format!("localhost:{}", server.port), "--client", "python"]);
    let f = finding(&doc, "no-shared-cipher");
    assert_names_error(&f, &stable(&py));
    assert!(
        f["evidence"]
            .to_string()
            .contains("static RSA key exchange"),
        "{:#}",
        f["evidence"]
    );
}

#[test]
fn client_certificate_required_tls12_and_tls13() {
    for (flag, alert_text) in [
        ("-tls1_2", "sslv3 alert handshake failure"),
        ("-tls1_3", "tlsv13 alert certificate required"),
    ] {
        let pki = Pki::build();
        let root = pki.path("root.pem");
        let root = root.to_str().unwrap();
        let server = trusted_s_server(&pki, &[flag, "-Verify", "1", "-verify_return_error"]);
        let py = python(server.port, "localhost", Some(root)).expect_err("python must fail");
        assert!(py.contains(alert_text), "{py}");
        let (code, doc) = check(&[
            &format!("localhost:{}", server.port),
            "--client",
            "python",
            "--cafile",
            root,
        ]);
        assert_eq!(code, 1, "{flag}");
        let f = finding(&doc, "client-cert-required");
        assert_names_error(&f, &stable(&py));
    }
}

#[test]
fn missing_secure_renegotiation() {
    let server = gnutls_serv("NORMAL:-VERS-TLS1.3:%DISABLE_SAFE_RENEGOTIATION", &[]);
    let py = python(server.port, "localhost", None).expect_err("python must fail");
    let sc = openssl_reason(&s_client(server.port, &["-servername", "localhost"]))
        .expect("s_client error");
    let (code, doc) = check(&[&format!("localhost:{}", server.port)]);
    assert_eq!(code, 1);
    let f = finding(&doc, "no-secure-renegotiation");
    assert_eq!(f["severity"], "error");
    assert_names_error(&f, &stable(&py));
    assert_names_error(&f, &sc);
    assert!(
        f["fix_client"]
            .to_string()
            .contains("UnsafeLegacyServerConnect")
    );
}

#[test]
fn dh_parameters_too_small() {
    let dh = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dh1024.pem");
    // DHE-RSA needs an RSA certificate: the fixture's self-signed one, trusted as the CA file.
    let server = openssl_s_server(&[
        "-tls1_2",
        "-cipher",
        "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
        "-dhparam",
        dh,
    ]);
    let root = server.cert.clone().unwrap();
    let root = root.to_str().unwrap();
    let py = python(server.port, "localhost", Some(root)).expect_err("python must fail");
    let (_, doc) = check(&[&format!("localhost:{}", server.port), "--cafile", root]);
    let f = finding(&doc, "dh-too-small");
    assert_eq!(f["severity"], "error");
    assert_names_error(&f, &stable(&py));
    assert!(f["evidence"].to_string().contains("1024 bits"));
}

#[test]
fn port_speaking_plain_http() {
    let port = crate::common::servers::free_port();
    let mut child = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "http.server did not start"
        );
        if let Ok(Some(_)) = child.try_wait() {
            panic!("http.server exited");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _guard = Kill(child);
    let py = python(port, "localhost", None).expect_err("python must fail");
    let (code, doc) = check(&[&format!("localhost:{port}")]);
    assert_eq!(code, 1);
    let f = finding(&doc, "not-tls");
    assert!(
        f["title"].as_str().unwrap().contains("HTTP"),
        "{}",
        f["title"]
    );
    assert_names_error(&f, &stable(&py));
}

#[test]
fn certificate_causes_through_the_doctor() {
    let pki = Pki::build();
    let root = pki.path("root.pem");
    let root = root.to_str().unwrap();
    for (leaf, chain, want) in [
        ("expired", true, "cert-expired"),
        ("good", false, "cert-missing-intermediate"),
        ("selfsigned", false, "cert-self-signed"),
    ] {
        let cert = pki.path(&format!("{leaf}.pem"));
        let key = pki.path(&format!("{leaf}.key"));
        let int = pki.path("int.pem");
        let mut extra: Vec<&str> = Vec::new();
        if chain {
            extra.extend(["-cert_chain", int.to_str().unwrap()]);
        }
        let server = openssl_s_server_with(&extra, &cert, &key, None);
        let py = python(server.port, "localhost", Some(root)).expect_err("python must fail");
        let (code, doc) = check(&[&format!("localhost:{}", server.port), "--cafile", root]);
        assert_eq!(code, 1, "{leaf}");
        let f = finding(&doc, want);
        assert_names_error(&f, &stable(&py));
    }
}

#[test]
fn error_text_leads_the_report() {
    let server = gnutls_serv("NORMAL:-VERS-TLS1.3:%DISABLE_SAFE_RENEGOTIATION", &[]);
    let (_, doc) = check(&[
        &format!("localhost:{}", server.port),
        "--error",
        "ssl.SSLError: [SSL: UNSAFE_LEGACY_RENEGOTIATION_DISABLED] unsafe legacy renegotiation disabled (_ssl.c:1006)",
    ]);
    assert_eq!(findings(&doc)[0]["id"], "no-secure-renegotiation");
    assert_eq!(
        doc["diagnoses"][0]["error_match"]["explained_by"],
        "no-secure-renegotiation"
    );
}

#[test]
fn healthy_servers_raise_no_error() {
    let pki = Pki::build();
    let root = pki.path("root.pem");
    let root = root.to_str().unwrap().to_string();
    let cert = pki.path("good.pem");
    let key = pki.path("good.key");
    let int = pki.path("int.pem");
    let chain = pki.bundle("good-chain.pem", &["good.pem", "int.pem"]);

    let s1 = openssl_s_server_with(&["-cert_chain", int.to_str().unwrap()], &cert, &key, None);
    let s2 = nginx_with(
        "ssl_protocols TLSv1.2 TLSv1.3;\n\
         server { listen 127.0.0.1:{port} ssl; server_name localhost;\n\
           ssl_certificate {cert}; ssl_certificate_key {key}; location / { return 200 'ok'; } }",
        &chain,
        &key,
        tempfile::tempdir().unwrap(),
    );
    let s3 = {
        let port = crate::common::servers::free_port();
        let mut cmd = std::process::Command::new("gnutls-serv");
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--x509certfile")
            .arg(&chain)
            .arg("--x509keyfile")
            .arg(&key)
            .arg("--priority")
            .arg("NORMAL:-VERS-TLS1.0:-VERS-TLS1.1");
        crate::common::servers::spawn_listening("gnutls-serv", cmd, port, None)
    };
    for server in [&s1, &s2, &s3] {
        assert!(
            python(server.port, "localhost", Some(&root)).is_ok(),
            "{} must be healthy",
            server.name
        );
        let (code, doc) = check(&[&format!("localhost:{}", server.port), "--cafile", &root]);
        assert_eq!(
            error_ids(&doc),
            Vec::<String>::new(),
            "{}: {:#}",
            server.name,
            doc["diagnoses"][0]["findings"]
        );
        assert_eq!(code, 0, "{}", server.name);
        for sim in doc["diagnoses"][0]["simulations"].as_array().unwrap() {
            assert_eq!(sim["connects"], true, "{}: {sim:#}", server.name);
        }
    }
}

#[test]
fn sni_required() {
    let pki = Pki::build();
    let root = pki.path("root.pem");
    let root = root.to_str().unwrap();
    let chain = pki.bundle("good-chain-sni.pem", &["good.pem", "int.pem"]);
    let server = nginx_with(
        "ssl_protocols TLSv1.2 TLSv1.3;\n\
         server { listen 127.0.0.1:{port} ssl default_server; ssl_reject_handshake on; }\n\
         server { listen 127.0.0.1:{port} ssl; server_name localhost;\n\
           ssl_certificate {cert}; ssl_certificate_key {key}; location / { return 200 'ok'; } }",
        &chain,
        &pki.path("good.key"),
        tempfile::tempdir().unwrap(),
    );
    let no_sni =
        openssl_reason(&s_client(server.port, &["-noservername"])).expect("s_client error");
    assert!(python(server.port, "localhost", Some(root)).is_ok());
    let (code, doc) = check(&[&format!("localhost:{}", server.port), "--cafile", root]);
    assert_eq!(code, 0, "clients that send SNI connect");
    let f = finding(&doc, "sni-required");
    assert_eq!(f["severity"], "warning");
    assert_names_error(&f, &no_sni);
}

#[test]
fn client_certificate_given_with_cert_and_key() {
    let pki = Pki::build();
    let root = pki.path("root.pem");
    let root = root.to_str().unwrap();
    let mine = pki.bundle("client-chain.pem", &["clientonly.pem", "int.pem"]);
    let mine = mine.to_str().unwrap();
    let my_key = pki.path("clientonly.key");
    let stranger = pki.path("selfsigned.pem");
    let stranger_key = pki.path("selfsigned.key");
    for flag in ["-tls1_2", "-tls1_3"] {
        let server = trusted_s_server(
            &pki,
            &[
                flag,
                "-Verify",
                "1",
                "-verify_return_error",
                "-CAfile",
                root,
            ],
        );
        let target = format!("localhost:{}", server.port);
        // Accepted: the check passes, and says so.
        let (code, doc) = check(&[
            &target,
            "--cafile",
            root,
            "--cert",
            mine,
            "--key",
            my_key.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{flag}: {:#}", doc["diagnoses"][0]["findings"]);
        finding(&doc, "client-cert-accepted");
        // A certificate the server does not trust is reported as rejected.
        let (code, doc) = check(&[
            &target,
            "--cafile",
            root,
            "--cert",
            stranger.to_str().unwrap(),
            "--key",
            stranger_key.to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{flag}");
        let f = finding(&doc, "client-cert-rejected");
        assert!(
            f["evidence"].to_string().contains("alert"),
            "{flag}: {:#}",
            f["evidence"]
        );
    }
}
