//! Ports that do not speak TLS are named for what they speak.

use crate::common::cli::tlsdoctor;
use crate::common::servers::{banner_server, free_port, spawn_listening};

#[test]
fn mongodb_without_tls_is_recognised() {
    let port = free_port();
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/peers/fake_mongod.py"
    ))
    .arg(port.to_string());
    let _mongod = spawn_listening("fake-mongod", cmd, port, None);
    let run = tlsdoctor(&[
        "check",
        &format!("mongodb://localhost:{port}/?tls=true"),
        "--json",
        "--timeout",
        "3",
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let f = &doc["diagnoses"][0]["findings"][0];
    assert_eq!(f["id"], "not-tls", "{doc:#}");
    assert!(
        f["title"].as_str().unwrap().contains("MongoDB"),
        "{}",
        f["title"]
    );
    assert!(
        f["fix_client"].to_string().contains("net.tls.mode"),
        "{}",
        f["fix_client"]
    );
}

#[test]
fn smtp_port_needs_starttls() {
    let addr = banner_server(
        b"220 mail.example.test ESMTP Postfix\r\n",
        b"500 5.5.2 Error\r\n",
    );
    let run = tlsdoctor(&["check", &addr.to_string(), "--json", "--timeout", "3"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let f = &doc["diagnoses"][0]["findings"][0];
    assert_eq!(f["id"], "not-tls");
    assert!(
        f["title"].as_str().unwrap().contains("SMTP"),
        "{}",
        f["title"]
    );
    assert!(
        f["fix_client"].to_string().contains("STARTTLS"),
        "{}",
        f["fix_client"]
    );
}
