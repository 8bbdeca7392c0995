//! DROWN through the same key elsewhere (`--drown-peer`): a current OpenSSL that speaks no
//! SSLv2, and the SSLv2 stand-in of tests/peers/sslv2_server.py (nothing installed here speaks
//! SSLv2; the stand-in answers a CLIENT-HELLO with a real SERVER-HELLO, which is all the check
//! reads) serving the very certificate of that OpenSSL, or a certificate of its own.

use crate::common::cli::tlsdoctor;
use crate::common::servers::{ServerProcess, openssl_s_server, openssl_s_server_with, self_signed};
use crate::scan::legacy_versions::{sslv2_server, sslv2_server_with};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// RC4-128 and 3DES: SSLv2 cipher kinds.
const KINDS: &[u32] = &[0x010080, 0x0700c0];

fn der_of(pem: &Path, dir: &Path) -> std::path::PathBuf {
    let der = dir.join("shared.der");
    let st = Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(pem)
        .arg("-out")
        .arg(&der)
        .status()
        .unwrap();
    assert!(st.success());
    der
}

/// `scan --json` of `target` with these `--drown-peer`s: the server's document.
fn scan_with_peers(target: &str, peers: &[String]) -> Value {
    let mut args = vec!["scan", target, "--json", "--timeout", "5"];
    for p in peers {
        args.extend(["--drown-peer", p.as_str()]);
    }
    let run = tlsdoctor(&args);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    run.json()["servers"][0].clone()
}

fn audit_finding<'a>(s: &'a Value, id: &str) -> Option<&'a Value> {
    s["audit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
}

#[test]
fn an_sslv2_peer_with_the_same_key_is_drown() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path(), "shared", "rsa:2048");
    let tls = openssl_s_server_with(&[], &cert, &key, None);
    let (same, _) = sslv2_server_with(&der_of(&cert, dir.path()), KINDS, None);
    let (other, _) = sslv2_server(KINDS);
    let tls_only = openssl_s_server(&[]);
    let plain = scan_with_peers(&tls.target(), &[]);
    assert!(plain.get("drown_peers").is_none(), "{plain:#}");
    assert!(audit_finding(&plain, "drown").is_none());

    let peers: Vec<String> = [&same, &other, &tls_only]
        .iter()
        .map(|s: &&ServerProcess| s.target())
        .collect();
    let s = scan_with_peers(&tls.target(), &peers);
    let d = &s["drown_peers"];
    assert_eq!(d["vulnerable"], true, "{d:#}");
    assert_eq!(d["connections"], 3, "{d:#}");
    let got: Vec<(Value, Value)> = d["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["sslv2"].clone(), p["same_key"].clone()))
        .collect();
    assert_eq!(
        got,
        [
            (true.into(), true.into()),
            (true.into(), false.into()),
            (false.into(), false.into())
        ],
        "{d:#}"
    );
    // The peers' connections are not the server's.
    assert_eq!(s["connections"], plain["connections"], "{d:#}");
    let f = audit_finding(&s, "drown").expect("drown finding");
    let title = f["title"].as_str().unwrap();
    assert!(title.contains(&same.target()), "{title}");
    assert!(!title.contains(&other.target()), "{title}");
    assert!(f["evidence"].to_string().contains("CVE-2016-0800"), "{f}");
    assert!(
        f["fix_server"][0]
            .as_str()
            .unwrap()
            .contains(&same.target()),
        "{f}"
    );
    assert_eq!(
        s["audit"]["grade"]["letter"], "F",
        "{:#}",
        s["audit"]["grade"]
    );

    // check takes the same option; the finding joins the diagnosis.
    let run = tlsdoctor(&[
        "check",
        &tls.target(),
        "--json",
        "--timeout",
        "5",
        "--drown-peer",
        &same.target(),
    ]);
    let ids: Vec<String> = run.json()["diagnoses"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        ids.contains(&"drown".to_string()),
        "{ids:?}\n{}",
        run.stderr
    );

    // An SSLv2 server with a key of its own is no DROWN for this one.
    let s = scan_with_peers(&tls.target(), &peers[1..]);
    assert_eq!(
        s["drown_peers"]["vulnerable"], false,
        "{:#}",
        s["drown_peers"]
    );
    assert!(audit_finding(&s, "drown").is_none());
    drop(dir);
}

#[test]
fn a_peer_that_is_not_host_port_is_refused() {
    let run = tlsdoctor(&["scan", "127.0.0.1:1", "--drown-peer", "nohost"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is not HOST:PORT"), "{}", run.stderr);
}
