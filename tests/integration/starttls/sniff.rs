//! "What does this port speak?": real servers with TLS off (or something else in front),
//! named by the not-tls finding with the fix.

use super::*;
use crate::common::starttls_servers::{
    Tls, mariadb, postgres, redis, slapd, sshd, tinyproxy, xrdp,
};

fn named(port: u16, want: &str, fix: &str) {
    let doc = check(&format!("127.0.0.1:{port}"), &["--timeout", "2"]);
    let f = finding(&doc, "not-tls");
    let title = f["title"].as_str().unwrap();
    assert!(title.contains(want), "{want}: {f:#}");
    assert!(f["fix_client"].to_string().contains(fix), "{fix}: {f:#}");
}

#[test]
fn servers_that_speak_first_or_answer_a_probe_are_named() {
    let ssh = sshd();
    let redis = redis();
    let proxy = tinyproxy();
    let pg = postgres(Tls::On);
    let ldap = slapd(Tls::On);
    let my = mariadb(Tls::On);
    named(ssh.port, "SSH", "ssh");
    named(redis.port, "Redis", "tls-port");
    named(proxy.port, "HTTP forward proxy", "https_proxy");
    named(pg.port, "PostgreSQL", "--starttls postgres");
    named(ldap.port, "LDAP", "--starttls ldap");
    named(my.port, "MySQL", "--starttls mysql");
}

#[test]
fn a_tls_port_that_wants_a_proxy_protocol_header_is_named() {
    let server = crate::common::servers::nginx(
        "server { listen 127.0.0.1:{port} ssl proxy_protocol; ssl_certificate {cert}; ssl_certificate_key {key}; return 200; }",
    );
    named(server.port, "PROXY protocol", "proxy_protocol");
}

#[test]
fn a_silent_port_is_named_silent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    named(port, "says nothing", "first");
}

#[test]
fn an_rdp_server_is_named_from_its_answer_to_a_tls_hello() {
    let server = xrdp();
    named(server.port, "RDP", "remote-desktop client");
}
