//! Mail servers: Dovecot (IMAP STARTTLS, POP3 STLS) and Postfix (SMTP STARTTLS).

use super::*;
use crate::common::starttls_servers::{Tls, dovecot, postfix};

fn notes(doc: &Value) -> String {
    doc["notes"].to_string()
}

#[test]
fn dovecot_scans_through_the_upgrade_agree_with_s_client() {
    let (_server, imap, pop3) = dovecot(Tls::On);
    let doc = scan(&format!("127.0.0.1:{imap}"), &["--starttls", "imap"]);
    assert!(notes(&doc).contains("IMAP STARTTLS"), "{}", notes(&doc));
    assert_scan_agrees_with_s_client(imap, "imap", &doc["servers"][0]);
    // The URL scheme implies the upgrade, and the report says so.
    let doc = scan(&format!("pop3://127.0.0.1:{pop3}"), &[]);
    assert!(
        notes(&doc).contains("POP3 STLS") && notes(&doc).contains("URL scheme"),
        "{}",
        notes(&doc)
    );
    assert_versions_agree_with_s_client(pop3, "pop3", &doc["servers"][0]);
}

#[test]
fn postfix_scan_through_starttls_agrees_with_s_client() {
    let server = postfix(Tls::On);
    let doc = scan(&format!("smtp://127.0.0.1:{}", server.port), &[]);
    let s = &doc["servers"][0];
    assert!(s["connections"].as_u64().unwrap() > 20, "{s}");
    assert_scan_agrees_with_s_client(server.port, "smtp", s);
}

#[test]
fn an_expired_certificate_behind_starttls_is_named_with_the_real_clients_texts() {
    let (server, imap, _) = dovecot(Tls::Expired);
    let ca = server.cert.as_ref().unwrap().display().to_string();
    let doc = check(&format!("imap://127.0.0.1:{imap}"), &["--cafile", &ca]);
    let f = finding(&doc, "cert-expired");
    let breaks = f["breaks"].to_string();
    let s_client = crate::common::clients::s_client(
        imap,
        &["-starttls", "imap", "-CAfile", &ca, "-verify_return_error"],
    );
    let curl = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "8", "--ssl-reqd", "--cacert", &ca])
        .arg(format!("imap://127.0.0.1:{imap}/"))
        .output()
        .unwrap();
    let curl = String::from_utf8_lossy(&curl.stderr).into_owned();
    for (real, text) in [
        (&s_client, "verify error:num=10:certificate has expired"),
        (&curl, "SSL certificate problem: certificate has expired"),
    ] {
        assert!(real.contains(text), "the real client printed {real}");
        assert!(breaks.contains(text), "{text} not in {breaks}");
    }
}

#[test]
fn a_tls10_only_postfix_is_named_with_pythons_real_text() {
    let server = postfix(Tls::Tls10Only);
    let doc = check(
        &format!("127.0.0.1:{}", server.port),
        &["--starttls", "smtp", "--client", "python"],
    );
    let f = finding(&doc, "proto-server-too-old");
    let real = crate::common::starttls_clients::run("Python smtplib starttls()", server.port);
    let listed: Vec<String> = f["breaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["error"].as_str().unwrap().to_string())
        .collect();
    assert!(
        listed.iter().any(|t| real.contains(t.as_str())),
        "Python printed {real}, the finding lists {listed:?}"
    );
}

#[test]
fn starttls_disabled_is_a_finding_with_each_clients_real_text() {
    let (_dovecot, imap, pop3) = dovecot(Tls::Off);
    let smtp = postfix(Tls::Off);
    for (protocol, port) in [("imap", imap), ("pop3", pop3), ("smtp", smtp.port)] {
        let doc = check(&format!("127.0.0.1:{port}"), &["--starttls", protocol]);
        let f = finding(&doc, "starttls-failed");
        assert!(
            f["title"].as_str().unwrap().contains("does not offer"),
            "{f:#}"
        );
        assert_upgrade_texts(protocol, "not_offered", port, f);
    }
}
