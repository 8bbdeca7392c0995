//! LMTP and ManageSieve (Dovecot's lmtp and managesieve), and XMPP server-to-server
//! (Prosody's s2s port): the scan through each upgrade agrees with `openssl s_client
//! -starttls`, and each without TLS is a finding with its clients' real texts.

use super::*;
use crate::common::starttls_servers::{Tls, dovecot_lmtp_sieve, nntp_stand_in, prosody_with_s2s};

#[test]
fn lmtp_and_sieve_scans_through_starttls_agree_with_s_client() {
    let (_dovecot, lmtp, sieve) = dovecot_lmtp_sieve(Tls::On);
    let doc = scan(&format!("lmtp://127.0.0.1:{lmtp}"), &[]);
    assert!(
        doc["notes"].to_string().contains("LMTP STARTTLS"),
        "{}",
        doc["notes"]
    );
    assert_scan_agrees_with_s_client(lmtp, "lmtp", &doc["servers"][0]);
    let doc = scan(&format!("sieve://127.0.0.1:{sieve}"), &[]);
    assert!(
        doc["notes"].to_string().contains("ManageSieve STARTTLS"),
        "{}",
        doc["notes"]
    );
    assert_versions_agree_with_s_client(sieve, "sieve", &doc["servers"][0]);
}

#[test]
fn lmtp_and_sieve_without_tls_are_named_with_their_clients_real_texts() {
    let (_dovecot, lmtp, sieve) = dovecot_lmtp_sieve(Tls::Off);
    for (protocol, port) in [("lmtp", lmtp), ("sieve", sieve)] {
        let doc = check(&format!("127.0.0.1:{port}"), &["--starttls", protocol]);
        let f = finding(&doc, "starttls-failed");
        assert!(
            f["title"].as_str().unwrap().contains("does not offer"),
            "{protocol}: {f:#}"
        );
        assert_upgrade_texts(protocol, "not_offered", port, f);
    }
}

#[test]
fn an_xmpp_server_to_server_scan_agrees_with_s_client() {
    let (_prosody, s2s) = prosody_with_s2s(Tls::On);
    let doc = scan(
        &format!("127.0.0.1:{s2s}"),
        &["--starttls", "xmpp-server", "--xmpp-host", "localhost"],
    );
    assert!(
        doc["notes"]
            .to_string()
            .contains("XMPP server-to-server STARTTLS"),
        "{}",
        doc["notes"]
    );
    assert_versions_agree_with_s_client(s2s, "xmpp-server", &doc["servers"][0]);
}

#[test]
fn an_nntp_scan_through_starttls_agrees_with_s_client_and_a_refusal_is_named() {
    let server = nntp_stand_in(Tls::On);
    let doc = scan(&format!("nntp://127.0.0.1:{}", server.port), &[]);
    assert!(
        doc["notes"].to_string().contains("NNTP STARTTLS"),
        "{}",
        doc["notes"]
    );
    assert_scan_agrees_with_s_client(server.port, "nntp", &doc["servers"][0]);
    let off = nntp_stand_in(Tls::Off);
    let doc = check(&format!("127.0.0.1:{}", off.port), &["--starttls", "nntp"]);
    let f = finding(&doc, "starttls-failed");
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("580 Can not initiate TLS negotiation"),
        "{f:#}"
    );
}
