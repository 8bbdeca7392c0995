//! TLS failures behind an upgrade are quoted with what the protocol's own clients print
//! (`[upgrade_tls]` of data/client-errors.toml): psql and psycopg, the mariadb client,
//! Python's smtplib and curl, each run here against the real misconfigured server.

use super::*;
use crate::common::servers::ServerProcess;
use crate::common::starttls_clients::{Trust, run_checking};
use crate::common::starttls_servers::{Tls, dovecot, mariadb, postfix, postgres, slapd, vsftpd};

/// The `[upgrade_tls.PROTOCOL.FINDING]` texts.
fn tls_texts(protocol: &str, finding: &str) -> Vec<(String, String)> {
    let cat: toml::Value =
        toml::from_str(include_str!("../../../data/client-errors.toml")).unwrap();
    cat["upgrade_tls"][protocol][finding]
        .as_table()
        .unwrap_or_else(|| panic!("no [upgrade_tls.{protocol}.{finding}]"))
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

/// `check` through `protocol` with `args` shows `finding`, and lists every client the
/// catalogue names for it with the text that client really prints here.
fn assert_quoted(
    server: &ServerProcess,
    protocol: &str,
    finding_id: &str,
    args: &[&str],
    trust: Trust,
    host: Option<&str>,
) {
    let mut all = vec!["--starttls", protocol];
    all.extend_from_slice(args);
    let doc = check(&server.target(), &all);
    let f = finding(&doc, finding_id);
    let texts = tls_texts(protocol, finding_id);
    assert!(!texts.is_empty());
    let outputs = parallel(&texts, |(client, _)| {
        run_checking(client, server.port, trust, host)
    });
    for ((client, text), out) in texts.iter().zip(outputs) {
        assert!(
            out.contains(text.as_str()),
            "{protocol} {finding_id}: {client}: the catalogue says {text:?}, it printed:\n{out}"
        );
        let listed = f["breaks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["client"] == client.as_str() && b["error"] == text.as_str());
        assert!(listed, "{client} is not in the finding's breaks: {f:#}");
    }
}

/// Expired (the certificate trusted as the CA), self-signed (only the system's roots
/// trusted) and, with `tls10`, TLS 1.0 only, for one protocol's server.
fn faults(protocol: &str, start: fn(Tls) -> ServerProcess, tls10: bool) {
    let expired = start(Tls::Expired);
    let ca = expired.cert.as_ref().unwrap().display().to_string();
    assert_quoted(
        &expired,
        protocol,
        "cert-expired",
        &["--cafile", &ca],
        Trust::Server(&ca),
        None,
    );
    drop(expired);
    let on = start(Tls::On);
    assert_quoted(&on, protocol, "cert-self-signed", &[], Trust::System, None);
    drop(on);
    if !tls10 {
        return;
    }
    let old = start(Tls::Tls10Only);
    let ca = old.cert.as_ref().unwrap().display().to_string();
    assert_quoted(
        &old,
        protocol,
        "proto-server-too-old",
        &["--cafile", &ca],
        Trust::Server(&ca),
        None,
    );
}

fn three_faults(protocol: &str, start: fn(Tls) -> ServerProcess) {
    faults(protocol, start, true)
}

#[test]
fn postgres_failures_behind_sslrequest_quote_psql_and_psycopg() {
    three_faults("postgres", postgres);
    let on = postgres(Tls::On);
    let ca = on.cert.as_ref().unwrap().display().to_string();
    assert_quoted(
        &on,
        "postgres",
        "cert-hostname-mismatch",
        &["--cafile", &ca, "--sni", "wrong.test"],
        Trust::Server(&ca),
        Some("wrong.test"),
    );
}

#[test]
fn mysql_failures_behind_the_ssl_request_quote_the_mariadb_client() {
    three_faults("mysql", mariadb);
}

#[test]
fn smtp_failures_behind_starttls_quote_smtplib_and_curl() {
    three_faults("smtp", postfix);
}

#[test]
fn imap_ftp_and_ldap_certificate_failures_quote_imaplib_ftplib_curl_and_ldapsearch() {
    // Dovecot's and slapd's "TLS 1.0" variants only lower the minimum, so no version fault.
    faults("imap", |t| dovecot(t).0, false);
    faults("ftp", vsftpd, false);
    faults("ldap", slapd, false);
}
