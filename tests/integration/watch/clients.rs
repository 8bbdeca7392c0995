//! Real clients through the relay in front of misconfigured servers: the reading names the
//! cause, the side that gave up and the alert, and the real client failed accordingly.

use super::{Relay, cause};
use crate::common::clients::{python, python_with};
use crate::common::servers::{nginx, openssl_s_server};
use serde_json::Value;
use std::process::Command;

/// curl to https://HOST:PORT/ with HOST resolved to 127.0.0.1; what it printed.
fn curl(port: u16, host: &str, args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--resolve"])
        .arg(format!("{host}:{port}:127.0.0.1"))
        .args(args)
        .arg(format!("https://{host}:{port}/"))
        .output()
        .expect("run curl");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// PyMongo (the real one, from its venv) pinging `host:port` with TLS; its error text.
fn pymongo(port: u16, host: &str, options: &str) -> String {
    let script = format!(
        r#"
import pymongo
c = pymongo.MongoClient("mongodb://{host}:{port}/?tls=true&serverSelectionTimeoutMS=1500&connectTimeoutMS=1500&directConnection=true{options}")
try:
    c.admin.command("ping")
    print("OK")
except Exception as e:
    print(type(e).__name__ + ": " + str(e))
"#
    );
    let out = Command::new(crate::common::venv::pymongo())
        .arg("-c")
        .arg(&script)
        .output()
        .expect("run pymongo");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The only connection of a `--count 1` run.
fn only(relay: Relay) -> Value {
    let (conns, summary, code) = relay.finish();
    assert_eq!(conns.len(), 1, "{conns:#?}");
    assert_eq!(summary["connections"], 1, "{summary}");
    let c = conns.into_iter().next().unwrap();
    assert_eq!(code, if c["outcome"] == "failed" { 1 } else { 0 }, "{c:#}");
    c
}

fn assert_reading(c: &Value, id: &str, gave_up: &str, alert: Option<&str>) {
    assert_eq!(c["outcome"], "failed", "{c:#}");
    assert_eq!(cause(c), id, "{c:#}");
    assert_eq!(c["gave_up"], gave_up, "{c:#}");
    match alert {
        Some(a) => assert_eq!(c["alert"]["name"], a, "{c:#}"),
        None => assert!(c["alert"]["name"].is_null(), "{c:#}"),
    }
}

/// The application was recognised as `profile` and the text the reading says it prints is
/// the one the real client printed.
fn assert_prints(c: &Value, profile: &str, real: &str) {
    let recognised = c["recognised_as"].as_str().unwrap_or("");
    assert!(recognised.ends_with(&format!("({profile})")), "{c:#}");
    let said = c["finding"]["breaks"][0]["error"].as_str().unwrap_or("");
    assert!(
        !said.is_empty() && real.contains(said),
        "said {said:?}, real {real:?}"
    );
}

/// Every connection PyMongo made (it retries within its server-selection timeout) reads the
/// same; with `real`, the hello is the recorded PyMongo's and the reading says what PyMongo
/// printed.
fn assert_every(conns: &[Value], id: &str, gave_up: &str, real: Option<&str>) {
    assert!(!conns.is_empty(), "PyMongo made no connection");
    for c in conns {
        assert_eq!(cause(c), id, "{c:#}");
        assert_eq!(c["gave_up"], gave_up, "{c:#}");
        if let Some(real) = real {
            assert_prints(c, "pymongo", real);
        }
    }
}

#[test]
fn tls10_only_server_and_modern_clients() {
    let server = openssl_s_server(&["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    let relay = Relay::start(server.port, &["--count", "1"]);
    let err = python(
        relay.port,
        "localhost",
        server.cert.as_ref().unwrap().to_str(),
    )
    .unwrap_err();
    assert!(err.contains("protocol version"), "{err}");
    let c = only(relay);
    assert_reading(
        &c,
        "proto-server-too-old",
        "server",
        Some("protocol_version"),
    );
    assert_eq!(
        c["hello"]["versions"],
        serde_json::json!(["TLSv1.3", "TLSv1.2"])
    );
    assert_eq!(
        c["server_probe"]["accepted"],
        serde_json::json!(["TLSv1.0"])
    );

    let relay = Relay::start(server.port, &[]);
    let text = pymongo(relay.port, "localhost", "");
    assert!(text.contains("protocol version"), "{text}");
    let (conns, _, _) = relay.interrupt();
    assert_every(&conns, "proto-server-too-old", "server", Some(&text));
}

#[test]
fn client_that_requires_tls13_and_a_tls12_server() {
    let server = openssl_s_server(&["-tls1_2"]);
    let ca = server.cert.as_ref().unwrap().to_str().unwrap().to_string();
    let relay = Relay::start(server.port, &["--count", "1"]);
    let err = python_with(
        relay.port,
        "localhost",
        Some(&ca),
        &[("TLSDOCTOR_TEST_MIN_TLS", "TLSv1_3")],
    )
    .unwrap_err();
    assert!(err.contains("protocol version"), "{err}");
    let c = only(relay);
    assert_reading(
        &c,
        "proto-client-too-strict",
        "server",
        Some("protocol_version"),
    );
    assert_eq!(c["hello"]["versions"], serde_json::json!(["TLSv1.3"]));
    assert!(
        c["finding"]["title"]
            .as_str()
            .unwrap()
            .contains("it offers only TLSv1.3, the server speaks TLSv1.2"),
        "{c:#}"
    );

    let relay = Relay::start(server.port, &["--count", "1"]);
    let out = curl(relay.port, "localhost", &["--tlsv1.3", "--cacert", &ca]);
    assert!(out.contains("protocol version"), "{out}");
    assert_reading(
        &only(relay),
        "proto-client-too-strict",
        "server",
        Some("protocol_version"),
    );
}

/// The client's own alert: `unknown ca`, in clear in TLS 1.2 with the certificate visible;
/// in TLS 1.3 OpenSSL clients still send it in clear (before their handshake keys are in
/// use), but the certificate is encrypted, so the relay fetches the chain itself.
#[test]
fn untrusted_certificate_is_the_clients_unknown_ca() {
    for flag in ["-tls1_2", "-tls1_3"] {
        let server = openssl_s_server(&[flag]);
        let relay = Relay::start(server.port, &["--count", "1"]);
        let err = python(relay.port, "localhost", None).unwrap_err();
        assert!(
            err.contains("certificate verify failed: self-signed certificate"),
            "{err}"
        );
        let c = only(relay);
        assert_reading(&c, "cert-self-signed", "client", Some("unknown_ca"));
        assert_prints(&c, "python", &err);
        assert_eq!(c["alert"]["openssl_reason"], "tlsv1 alert unknown ca");
        if flag == "-tls1_3" {
            assert_eq!(c["answer"]["certificates"], serde_json::json!([]), "{c:#}");
            assert!(
                c["unseen"][0].as_str().unwrap().contains("encrypted"),
                "{c:#}"
            );
            assert_eq!(c["fetched_chain"][0]["subject"], "CN=localhost", "{c:#}");
        } else {
            assert_eq!(c["answer"]["certificates"][0]["subject"], "CN=localhost");
        }

        let relay = Relay::start(server.port, &["--count", "1"]);
        let out = curl(relay.port, "localhost", &[]);
        assert!(out.contains("self-signed certificate"), "{out}");
        assert_reading(
            &only(relay),
            "cert-self-signed",
            "client",
            Some("unknown_ca"),
        );

        let relay = Relay::start(server.port, &[]);
        let text = pymongo(relay.port, "localhost", "");
        // PyMongo verifies through pyOpenSSL, which gives no verify detail.
        assert!(text.contains("certificate verify failed"), "{text}");
        let (conns, _, _) = relay.interrupt();
        assert_every(&conns, "cert-self-signed", "client", Some(&text));
    }
}

/// A front end that refuses clients without SNI (nginx `ssl_reject_handshake` as default):
/// clients told an IP address send no server name.
#[test]
fn sni_required_and_clients_that_connect_by_ip() {
    let server = nginx(
        "server { listen 127.0.0.1:{port} ssl default_server; ssl_reject_handshake on; }\n\
         server { listen 127.0.0.1:{port} ssl; server_name localhost;\n\
           ssl_certificate {cert}; ssl_certificate_key {key}; location / { return 200 'ok'; } }",
    );
    let relay = Relay::start(server.port, &["--count", "1"]);
    let err = python(relay.port, "127.0.0.1", None).unwrap_err();
    assert!(err.contains("unrecognized name"), "{err}");
    let c = only(relay);
    assert_reading(&c, "sni-required", "server", Some("unrecognized_name"));
    assert_prints(&c, "python", &err);
    assert!(c["hello"]["sni"].is_null(), "{c:#}");

    let relay = Relay::start(server.port, &["--count", "1"]);
    let out = curl(relay.port, "127.0.0.1", &["-k"]);
    assert!(out.contains("unrecognized name"), "{out}");
    assert_reading(
        &only(relay),
        "sni-required",
        "server",
        Some("unrecognized_name"),
    );

    let relay = Relay::start(server.port, &[]);
    let text = pymongo(relay.port, "127.0.0.1", "&tlsAllowInvalidCertificates=true");
    assert!(text.contains("unrecognized name"), "{text}");
    let (conns, _, _) = relay.interrupt();
    // tlsAllowInvalidCertificates changes PyMongo's hello (no OCSP status request), so it is
    // not the recorded one and no text is claimed for it.
    assert_every(&conns, "sni-required", "server", None);
    assert!(
        conns.iter().all(|c| c["recognised_as"].is_null()),
        "{conns:#?}"
    );
}
