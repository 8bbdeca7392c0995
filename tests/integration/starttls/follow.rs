//! A port that is not what the target implied: `check` on a port that speaks a STARTTLS
//! protocol in plaintext names it and goes on through the upgrade (a second diagnosis, the
//! TLS behind it), and a well-known upgrade port that speaks TLS from the first byte is
//! examined as direct TLS.

use super::*;
use crate::common::starttls_servers::{
    Tls, TlsFirstServer, dovecot, postfix, postgres, random_loopback_ip,
};

/// The document's diagnoses: the first names what the port speaks, the second is the TLS
/// behind `upgrade`.
fn two_diagnoses<'a>(doc: &'a Value, upgrade: &str) -> (&'a Value, &'a Value) {
    let ds = doc["diagnoses"].as_array().unwrap();
    assert_eq!(ds.len(), 2, "{doc:#}");
    let f = &ds[0]["findings"][0];
    assert_eq!(f["id"], "not-tls", "{doc:#}");
    let target = ds[1]["target"].as_str().unwrap();
    assert!(target.ends_with(&format!("through {upgrade}")), "{target}");
    assert!(
        doc["notes"]
            .to_string()
            .contains(&format!("went on through {upgrade}")),
        "{}",
        doc["notes"]
    );
    (&ds[0], &ds[1])
}

#[test]
fn check_goes_on_through_the_sniffed_upgrade() {
    let smtp = postfix(Tls::On);
    let pg = postgres(Tls::On);
    for (port, upgrade, proto, ca) in [
        (smtp.port, "SMTP STARTTLS", "smtp", &smtp.cert),
        (pg.port, "PostgreSQL SSLRequest", "postgres", &pg.cert),
    ] {
        let ca = ca.as_ref().unwrap().display().to_string();
        let doc = check(
            &format!("127.0.0.1:{port}"),
            &["--cafile", &ca, "--sni", "localhost"],
        );
        let (first, second) = two_diagnoses(&doc, upgrade);
        assert!(first["scan"].is_null());
        assert_eq!(second["verdict"], "healthy", "{second:#}");
        assert!(
            second["checked"][0]
                .to_string()
                .contains(&format!("--starttls {proto}")),
            "{second:#}"
        );
        assert_versions_agree_with_s_client(port, proto, &second["scan"]);
    }
}

#[test]
fn the_tls_diagnosis_behind_a_sniffed_upgrade_names_an_expired_certificate() {
    let (server, imap, _) = dovecot(Tls::Expired);
    let ca = server.cert.as_ref().unwrap().display().to_string();
    let doc = check(&format!("127.0.0.1:{imap}"), &["--cafile", &ca]);
    let (_, second) = two_diagnoses(&doc, "IMAP STARTTLS");
    let ids = second["findings"].to_string();
    assert!(ids.contains("\"cert-expired\""), "{second:#}");
}

#[test]
fn a_well_known_upgrade_port_that_speaks_tls_first_is_examined_as_direct_tls() {
    let ip = random_loopback_ip();
    let server = TlsFirstServer::start(&ip, 587, &[]);
    let doc = check(&server.addr, &["--timeout", "3"]);
    let ds = doc["diagnoses"].as_array().unwrap();
    assert_eq!(ds.len(), 1, "{doc:#}");
    assert!(!ds[0]["scan"].is_null(), "{doc:#}");
    assert!(
        !ds[0]["findings"].to_string().contains("starttls-failed"),
        "{doc:#}"
    );
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("SMTP STARTTLS failed") && notes.contains("examined as direct TLS"),
        "{notes}"
    );
    let doc = scan(&server.addr, &["--timeout", "3"]);
    let s = &doc["servers"][0];
    assert!(s["protocols"].to_string().contains("TLSv1.3"), "{s}");
    assert!(
        doc["notes"].to_string().contains("examined as direct TLS"),
        "{}",
        doc["notes"]
    );
    // The user's word stands: --starttls smtp on the same port is a failed upgrade.
    let doc = check(&server.addr, &["--starttls", "smtp", "--timeout", "3"]);
    finding(&doc, "starttls-failed");
}

#[test]
fn a_sniffed_port_without_tls_behind_it_gets_the_failed_upgrade_with_its_clients_texts() {
    let smtp = postfix(Tls::Off);
    let (_dovecot, imap, pop3) = dovecot(Tls::Off);
    for (port, upgrade, protocol) in [
        (smtp.port, "SMTP STARTTLS", "smtp"),
        (imap, "IMAP STARTTLS", "imap"),
        (pop3, "POP3 STLS", "pop3"),
    ] {
        let doc = check(&format!("127.0.0.1:{port}"), &["--timeout", "3"]);
        let (_, second) = two_diagnoses(&doc, upgrade);
        let f = second["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "starttls-failed")
            .unwrap_or_else(|| panic!("{protocol}: {second:#}"));
        assert!(
            f["title"].as_str().unwrap().contains("does not offer"),
            "{f:#}"
        );
        assert_upgrade_texts(protocol, "not_offered", port, f);
    }
}

#[test]
fn nntp_and_managesieve_greetings_are_named_and_followed() {
    use crate::common::starttls_servers::{dovecot_lmtp_sieve, nntp_stand_in};
    let nntp = nntp_stand_in(Tls::On);
    let (_dovecot, _, sieve) = dovecot_lmtp_sieve(Tls::On);
    for (port, upgrade, name) in [
        (nntp.port, "NNTP STARTTLS", "NNTP"),
        (sieve, "ManageSieve STARTTLS", "ManageSieve"),
    ] {
        let doc = check(&format!("127.0.0.1:{port}"), &["--timeout", "3"]);
        let (first, second) = two_diagnoses(&doc, upgrade);
        let title = first["findings"][0]["title"].as_str().unwrap();
        assert!(title.contains(name), "{title}");
        assert!(!second["scan"].is_null(), "{second:#}");
    }
}

#[test]
fn an_asked_for_upgrade_on_a_tls_first_port_says_to_use_tls_at_once() {
    let ip = random_loopback_ip();
    let server = TlsFirstServer::start(&ip, 2465, &[]);
    let doc = check(&format!("smtp://{}", server.addr), &["--timeout", "2"]);
    assert_eq!(doc["diagnoses"].as_array().unwrap().len(), 1, "{doc:#}");
    let f = finding(&doc, "starttls-failed");
    assert!(
        f["evidence"]
            .to_string()
            .contains("answers a TLS hello from the first byte"),
        "{f:#}"
    );
    assert!(f["fix_client"][0].to_string().contains("smtps://"), "{f:#}");
}

#[test]
fn simulate_goes_on_through_the_sniffed_upgrade_too() {
    let smtp = postfix(Tls::On);
    let ca = smtp.cert.as_ref().unwrap().display().to_string();
    let run = crate::common::cli::tlsdoctor(&[
        "simulate",
        &format!("127.0.0.1:{}", smtp.port),
        "--cafile",
        &ca,
        "--json",
    ]);
    let doc = run.json();
    let servers = doc["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 2, "{doc:#}");
    assert_eq!(servers[0]["connects"], 0, "{doc:#}");
    assert!(
        servers[1]["target"]
            .as_str()
            .unwrap()
            .ends_with("through SMTP STARTTLS"),
        "{doc:#}"
    );
    assert!(servers[1]["connects"].as_u64().unwrap() > 0, "{doc:#}");
}
