//! No vulnerability finding above information on the healthy servers of the suite: OpenSSL's
//! and GnuTLS's defaults and a default nginx (the lab's healthy endpoint is checked on its
//! recorded evidence, src/audit/tests.rs). LUCKY13 stays as information where CBC suites are
//! accepted, as testssl.sh reports it.

use super::{VULNERABILITY_IDS, scan};
use crate::common::servers::{gnutls_serv, nginx_default, openssl_s_server};

fn assert_no_vulnerability(name: &str, server: &serde_json::Value) {
    for f in server["audit"]["findings"].as_array().unwrap() {
        let id = f["id"].as_str().unwrap();
        if VULNERABILITY_IDS.contains(&id) {
            assert_eq!(f["severity"], "info", "{name}: {f}");
        }
    }
    let caps = super::caps(server);
    let letter_caps: Vec<&String> = caps.iter().filter(|c| !c.starts_with('T')).collect();
    assert!(letter_caps.is_empty(), "{name}: {caps:?}");
    assert_eq!(server["audit"]["grade"]["letter"], "A", "{name}");
}

#[test]
fn healthy_servers_show_no_vulnerability() {
    let openssl = openssl_s_server(&[]);
    let gnutls = gnutls_serv("NORMAL:-VERS-TLS1.0:-VERS-TLS1.1", &[]);
    let nginx = nginx_default();
    for (name, server) in [
        ("openssl", &openssl),
        ("gnutls", &gnutls),
        ("nginx", &nginx),
    ] {
        let (run, s) = scan(&server.target(), &[]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert_no_vulnerability(name, &s);
    }
}
