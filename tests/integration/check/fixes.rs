//! `check --write-fixes`: the artefacts really fix the problem when applied.

use crate::common::cli::tlsdoctor;
use crate::common::clients::{python, python_with};
use crate::common::pki::Pki;
use crate::common::servers::{gnutls_serv, nginx_with, openssl_s_server_with};

#[test]
fn full_chain_bundle_fixes_a_missing_intermediate() {
    let pki = Pki::build();
    let root = pki.path("root.pem");
    let root = root.to_str().unwrap();
    // The server sends only its leaf.
    let broken = openssl_s_server_with(&[], &pki.path("good.pem"), &pki.path("good.key"), None);
    assert!(python(broken.port, "localhost", Some(root)).is_err());
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("fixes");
    let run = tlsdoctor(&[
        "check",
        &format!("localhost:{}", broken.port),
        "--cafile",
        root,
        "--write-fixes",
        dir.to_str().unwrap(),
        "--intermediate",
        pki.path("int.pem").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("fullchain.pem"), "{}", run.stdout);
    let bundle = dir.join("fullchain.pem");
    let text = std::fs::read_to_string(&bundle).unwrap();
    assert_eq!(
        text.matches("BEGIN CERTIFICATE").count(),
        2,
        "leaf + intermediate, no root"
    );
    // Serve the written bundle: the same client now connects.
    let fixed = nginx_with(
        "server { listen 127.0.0.1:{port} ssl; server_name localhost;\n\
           ssl_certificate {cert}; ssl_certificate_key {key}; location / { return 200 'ok'; } }",
        &bundle,
        &pki.path("good.key"),
        tempfile::tempdir().unwrap(),
    );
    assert!(
        python(fixed.port, "localhost", Some(root)).is_ok(),
        "the written chain must verify"
    );
    let run = tlsdoctor(&[
        "check",
        &format!("localhost:{}", fixed.port),
        "--cafile",
        root,
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn legacy_connect_config_lets_the_client_through() {
    let server = gnutls_serv("NORMAL:-VERS-TLS1.3:%DISABLE_SAFE_RENEGOTIATION", &[]);
    let cafile = server_cert(&server);
    let err =
        python(server.port, "localhost", Some(&cafile)).expect_err("must fail before the fix");
    assert!(
        err.contains("UNSAFE_LEGACY_RENEGOTIATION_DISABLED"),
        "{err}"
    );
    let out = tempfile::tempdir().unwrap();
    let run = tlsdoctor(&[
        "check",
        &format!("localhost:{}", server.port),
        "--cafile",
        &cafile,
        "--write-fixes",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1);
    let cnf = out.path().join("openssl-legacy-server-connect.cnf");
    let text = std::fs::read_to_string(&cnf).unwrap();
    assert!(text.contains("WARNING"), "the config carries its warning");
    for snippet in [
        "nginx-tls.conf",
        "apache-tls.conf",
        "haproxy-tls.cfg",
        "README.txt",
    ] {
        assert!(out.path().join(snippet).exists(), "{snippet}");
    }
    let ok = python_with(
        server.port,
        "localhost",
        Some(&cafile),
        &[("OPENSSL_CONF", cnf.to_str().unwrap())],
    );
    assert!(
        ok.is_ok(),
        "with the written OPENSSL_CONF the client connects: {ok:?}"
    );
}

/// gnutls_serv's fixture certificate, as a CA file for clients.
fn server_cert(server: &crate::common::servers::ServerProcess) -> String {
    server
        .cert
        .as_ref()
        .expect("fixture certificate")
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn missing_intermediate_is_fetched_from_the_aia_url_when_asked() {
    let pki = Pki::build();
    let root = pki.path("root.pem");
    let root = root.to_str().unwrap();
    // Serve the intermediate (DER, as CAs publish it) over plain HTTP on loopback.
    let www = tempfile::tempdir().unwrap();
    let der = www.path().join("int.der");
    let ok = std::process::Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(pki.path("int.pem"))
        .arg("-out")
        .arg(&der)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let port = crate::common::servers::free_port();
    let mut cmd = std::process::Command::new("python3");
    cmd.args([
        "-m",
        "http.server",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--directory",
    ])
    .arg(www.path());
    let _http = crate::common::servers::spawn_listening("http.server", cmd, port, None);
    pki.leaf_with_aia("aia", &format!("http://127.0.0.1:{port}/int.der"));
    let server = openssl_s_server_with(&[], &pki.path("aia.pem"), &pki.path("aia.key"), None);
    let out = tempfile::tempdir().unwrap();
    let run = tlsdoctor(&[
        "check",
        &format!("localhost:{}", server.port),
        "--cafile",
        root,
        "--write-fixes",
        out.path().to_str().unwrap(),
        "--fetch-intermediate",
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("fetched the issuer"), "{}", run.stdout);
    let text = std::fs::read_to_string(out.path().join("fullchain.pem")).unwrap();
    assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 2, "{text}");
    assert!(
        !std::fs::read_to_string(out.path().join("README.txt"))
            .unwrap()
            .contains("INCOMPLETE")
    );
}
