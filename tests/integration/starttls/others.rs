//! FTP (vsftpd, AUTH TLS), LDAP (slapd, StartTLS), MySQL (MariaDB, the SSL request) and XMPP
//! (Prosody, STARTTLS): the scan through each upgrade agrees with `openssl s_client
//! -starttls`, and each server without TLS is named with its clients' real texts.

use super::*;
use crate::common::starttls_servers::{Tls, mariadb, prosody, slapd, vsftpd};

#[test]
fn scans_through_auth_tls_starttls_and_the_ssl_request_agree_with_s_client() {
    let ftp = vsftpd(Tls::On);
    let ldap = slapd(Tls::On);
    let my = mariadb(Tls::On);
    let xmpp = prosody(Tls::On);
    let cases = [
        (
            ftp.port,
            "ftp",
            format!("ftp://127.0.0.1:{}", ftp.port),
            vec![],
        ),
        (
            ldap.port,
            "ldap",
            format!("ldap://127.0.0.1:{}", ldap.port),
            vec![],
        ),
        (
            my.port,
            "mysql",
            format!("mysql://127.0.0.1:{}", my.port),
            vec![],
        ),
        (
            xmpp.port,
            "xmpp",
            format!("127.0.0.1:{}", xmpp.port),
            vec!["--starttls", "xmpp", "--xmpp-host", "localhost"],
        ),
    ];
    for (port, proto, target, args) in &cases {
        let doc = scan(target, args);
        assert_versions_agree_with_s_client(*port, proto, &doc["servers"][0]);
    }
}

#[test]
fn servers_without_tls_are_named_with_their_clients_real_texts() {
    let ftp = vsftpd(Tls::Off);
    let ldap = slapd(Tls::Off);
    let my = mariadb(Tls::Off);
    let xmpp = prosody(Tls::Off);
    for (port, protocol, failure, wording) in [
        (ftp.port, "ftp", "auth_first", "wants authentication"),
        (ldap.port, "ldap", "not_offered", "does not offer"),
        (my.port, "mysql", "not_offered", "does not offer"),
    ] {
        let doc = check(&format!("127.0.0.1:{port}"), &["--starttls", protocol]);
        let f = finding(&doc, "starttls-failed");
        assert!(f["title"].as_str().unwrap().contains(wording), "{f:#}");
        assert_upgrade_texts(protocol, failure, port, f);
    }
    // openssl s_client -starttls xmpp waits for ever on such a server, so there is no
    // client text to claim; the finding still names the cause.
    let doc = check(
        &format!("127.0.0.1:{}", xmpp.port),
        &["--starttls", "xmpp", "--xmpp-host", "localhost"],
    );
    let f = finding(&doc, "starttls-failed");
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("does not offer XMPP STARTTLS"),
        "{f:#}"
    );
}
