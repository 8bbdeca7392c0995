//! PostgreSQL: the SSLRequest upgrade, and `postgres://` URLs with `sslmode`.

use super::*;
use crate::common::starttls_servers::{Tls, postgres};

#[test]
fn a_postgres_scan_through_sslrequest_agrees_with_s_client() {
    let server = postgres(Tls::On);
    let doc = scan(
        &format!(
            "postgresql://app@127.0.0.1:{}/app?sslmode=require",
            server.port
        ),
        &[],
    );
    assert!(
        doc["notes"].to_string().contains("PostgreSQL SSLRequest"),
        "{doc}"
    );
    assert_scan_agrees_with_s_client(server.port, "postgres", &doc["servers"][0]);
}

#[test]
fn postgres_without_ssl_is_named_with_psqls_real_text() {
    let server = postgres(Tls::Off);
    let doc = check(
        &format!("127.0.0.1:{}", server.port),
        &["--starttls", "postgres"],
    );
    let f = finding(&doc, "starttls-failed");
    assert!(f["fix_server"].to_string().contains("ssl = on"), "{f:#}");
    assert_upgrade_texts("postgres", "not_offered", server.port, f);
}
