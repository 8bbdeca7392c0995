//! `tlsdoctor scan` reports exactly the protocol versions real servers were configured for.

use crate::common::cli::tlsdoctor;
use crate::common::servers::{gnutls_serv, openssl_s_server};

fn accepted(target: &str) -> Vec<String> {
    let run = tlsdoctor(&["scan", target, "--json", "--timeout", "5"]);
    assert_eq!(run.code, 0, "scan failed: {}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let servers = doc["servers"].as_array().expect("servers array");
    assert_eq!(servers.len(), 1);
    servers[0]["protocols"]
        .as_array()
        .expect("protocols")
        .iter()
        .filter(|p| p["accepted"].as_bool() == Some(true))
        .map(|p| p["version"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn openssl_single_versions() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"], &["tls1_0"]),
        (&["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], &["tls1_1"]),
        (&["-tls1_2"], &["tls1_2"]),
        (&["-tls1_3"], &["tls1_3"]),
        (&["-min_protocol", "TLSv1.2"], &["tls1_2", "tls1_3"]),
        (
            &["-min_protocol", "TLSv1", "-cipher", "DEFAULT@SECLEVEL=0"],
            &["tls1_0", "tls1_1", "tls1_2", "tls1_3"],
        ),
    ];
    // s_server handles one connection at a time; start all servers first, scan concurrently.
    let servers: Vec<_> = cases
        .iter()
        .map(|(args, _)| openssl_s_server(args))
        .collect();
    std::thread::scope(|s| {
        for ((args, want), server) in cases.iter().zip(&servers) {
            s.spawn(move || {
                let got = accepted(&server.target());
                assert_eq!(got, *want, "openssl s_server {args:?}");
            });
        }
    });
}

/// The versions GnuTLS itself says a priority string enables (`gnutls-cli -l`).
fn gnutls_truth(priority: &str) -> Vec<String> {
    let out = std::process::Command::new("gnutls-cli")
        .args(["--priority", priority, "-l"])
        .output()
        .expect("gnutls-cli -l");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("Protocols:"))
        .expect("Protocols line");
    let mut v: Vec<String> = ["TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"]
        .iter()
        .filter(|p| line.contains(&format!("VERS-{p},")) || line.ends_with(&format!("VERS-{p}")))
        .map(|p| format!("tls{}", p[3..].replace('.', "_")))
        .collect();
    v.sort();
    v
}

#[test]
fn gnutls_priority_strings() {
    let cases = [
        "NORMAL:-VERS-ALL:+VERS-TLS1.2",
        "NORMAL:-VERS-ALL:+VERS-TLS1.3",
        "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.2",
        "NORMAL:-VERS-TLS1.3",
        "NORMAL",
    ];
    let servers: Vec<_> = cases.iter().map(|p| gnutls_serv(p, &[])).collect();
    std::thread::scope(|s| {
        for (prio, server) in cases.iter().zip(&servers) {
            s.spawn(move || {
                let want = gnutls_truth(prio);
                assert!(!want.is_empty());
                let got = accepted(&server.target());
                assert_eq!(got, want, "gnutls-serv --priority {prio}");
            });
        }
    });
}

#[test]
fn human_output_names_versions_and_evidence() {
    let server = openssl_s_server(&["-tls1_2"]);
    let run = tlsdoctor(&["scan", &server.target()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("TLSv1.2   accepted"), "{}", run.stdout);
    assert!(run.stdout.contains("ServerHello TLSv1.2"), "{}", run.stdout);
    assert!(run.stdout.contains("TLSv1.3   refused"), "{}", run.stdout);
    assert!(
        !run.stdout.contains('\x1b'),
        "no colour when not a terminal"
    );
}
