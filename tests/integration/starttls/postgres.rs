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

/// What the PostgreSQL 17 server logged for a direct TLS hello without ALPN.
const NO_ALPN: &str = "received direct SSL connection request without ALPN";

#[test]
fn postgres_17_direct_tls_offers_alpn_postgresql_on_every_connection() {
    use crate::common::starttls_servers::postgres17;
    let server = postgres17(Tls::On);
    // The real psql 17 connects that way, over TLS.
    let psql = crate::common::starttls_clients::run("psql 17 sslnegotiation=direct", server.port);
    assert_eq!(psql.trim(), "t", "{psql}");
    let doc = scan(
        &format!(
            "postgres://127.0.0.1:{}/?sslmode=require&sslnegotiation=direct",
            server.port
        ),
        &[],
    );
    assert!(
        doc["notes"].to_string().contains("ALPN"),
        "{}",
        doc["notes"]
    );
    let s = &doc["servers"][0];
    assert_eq!(
        s["properties"]["alpn"],
        serde_json::json!(["postgresql"]),
        "{s}"
    );
    // The same TLS as behind the SSLRequest, which s_client speaks.
    assert_versions_agree_with_s_client(server.port, "postgres", s);
    assert!(!server.log().contains(NO_ALPN), "{}", server.log());
    // Control: the same scan without the ALPN is what the server complains about.
    let doc = scan(
        &format!("127.0.0.1:{}", server.port),
        &["--starttls", "none"],
    );
    assert!(doc["servers"][0]["connections"].as_u64().unwrap() > 0);
    assert!(server.log().contains(NO_ALPN), "{}", server.log());
}

#[test]
fn direct_tls_against_postgres_15_goes_on_through_the_sslrequest_with_psqls_text() {
    let server = postgres(Tls::On);
    let ca = server.cert.as_ref().unwrap().display().to_string();
    let doc = check(
        &format!(
            "postgres://127.0.0.1:{}/?sslmode=require&sslnegotiation=direct",
            server.port
        ),
        &["--cafile", &ca],
    );
    let ds = doc["diagnoses"].as_array().unwrap();
    assert_eq!(ds.len(), 2, "{doc:#}");
    let f = finding(&doc, "not-tls");
    assert!(
        f["evidence"].to_string().contains("before PostgreSQL 17"),
        "{f:#}"
    );
    assert_upgrade_texts("postgres-direct", "closed", server.port, f);
    assert!(
        ds[1]["target"]
            .as_str()
            .unwrap()
            .ends_with("through PostgreSQL SSLRequest"),
        "{doc:#}"
    );
    assert_eq!(ds[1]["verdict"], "healthy", "{:#}", ds[1]);
}

#[test]
fn port_5432_speaking_direct_tls_only_is_examined_with_alpn_postgresql() {
    // A TLS-first listener on 5432 that answers no SSLRequest (a stand-in for a pooler or
    // proxy in front of PostgreSQL 17 that only takes direct TLS): s_server choosing ALPN
    // "postgresql" when offered.
    use crate::common::starttls_servers::{TlsFirstServer, random_loopback_ip};
    let ip = random_loopback_ip();
    let server = TlsFirstServer::start(&ip, 5432, &["-alpn", "postgresql"]);
    let doc = scan(&server.addr, &["--timeout", "3"]);
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("PostgreSQL SSLRequest failed") && notes.contains("PostgreSQL 17"),
        "{notes}"
    );
    let s = &doc["servers"][0];
    assert_eq!(
        s["properties"]["alpn"],
        serde_json::json!(["postgresql"]),
        "{s}"
    );
}

#[test]
fn direct_tls_without_a_strict_sslmode_is_refused_by_psql_17_and_the_note_says_so() {
    use crate::common::starttls_servers::{pg17_bin_dir, postgres17};
    let server = postgres17(Tls::On);
    let psql = std::process::Command::new(pg17_bin_dir().join("psql"))
        .arg(format!(
            "host=127.0.0.1 port={} user=postgres sslnegotiation=direct connect_timeout=5",
            server.port
        ))
        .args(["-c", "select 1"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&psql.stderr).into_owned();
    assert!(!psql.status.success(), "{said}");
    assert!(said.contains("sslnegotiation=direct"), "{said}");
    let doc = scan(
        &format!(
            "postgres://127.0.0.1:{}/?sslnegotiation=direct",
            server.port
        ),
        &[],
    );
    assert!(
        doc["notes"]
            .to_string()
            .contains("libpq 17 refuses to connect"),
        "{}",
        doc["notes"]
    );
}
