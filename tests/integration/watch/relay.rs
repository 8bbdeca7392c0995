//! The relay itself: bytes pass untouched, healthy handshakes read as completed, stopping by
//! count and duration, loopback only, the connection cap, deadlines, and what is not TLS.

use super::{Relay, cause};
use crate::common::cli::tlsdoctor;
use crate::common::clients::python;
use crate::common::servers::{banner_server, free_port, openssl_s_server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn healthy_servers_complete_and_bytes_pass_untouched() {
    for (flag, version) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
        let server = openssl_s_server(&[flag, "-www"]);
        let ca = server.cert.as_ref().unwrap().to_str().unwrap().to_string();
        let relay = Relay::start(server.port, &["--count", "1"]);
        // The client's GET goes through and s_server's page comes back.
        let got = python(relay.port, "localhost", Some(&ca));
        assert_eq!(got.as_deref(), Ok(version), "{got:?}");
        let (conns, summary, code) = relay.finish();
        assert_eq!(code, 0, "{conns:#?}");
        let c = &conns[0];
        assert_eq!(c["outcome"], "completed", "{c:#}");
        assert!(c["finding"].is_null(), "{c:#}");
        assert_eq!(c["answer"]["version"], version);
        assert_eq!(summary["completed"], 1);
        assert_eq!(summary["stopped_by"], "count");
        // s_server -www answers with a page several KiB long, all of it relayed.
        assert!(c["bytes_from_server"].as_u64().unwrap() > 2000, "{c:#}");
        if version == "TLSv1.3" {
            assert!(
                c["unseen"][0].as_str().unwrap().contains("encrypted"),
                "{c:#}"
            );
        }
    }
}

#[test]
fn stops_after_its_duration_and_refuses_non_loopback() {
    let server = openssl_s_server(&["-tls1_2"]);
    let start = Instant::now();
    let relay = Relay::start(server.port, &["--duration", "1"]);
    let (conns, summary, code) = relay.finish();
    assert!(conns.is_empty());
    assert_eq!(code, 0);
    assert_eq!(summary["stopped_by"], "duration");
    assert!(start.elapsed() < Duration::from_secs(10));

    let r = tlsdoctor(&[
        "watch",
        "--listen",
        "0.0.0.0:0",
        "--upstream",
        &server.target(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("loopback only"), "{}", r.stderr);
}

/// A client that speaks plaintext to a TLS port (PyMongo without tls=true would).
#[test]
fn plaintext_client_and_unreachable_upstream() {
    let server = openssl_s_server(&["-tls1_2"]);
    let relay = Relay::start(server.port, &["--count", "1"]);
    let mut s = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut sink = Vec::new();
    let _ = s.read_to_end(&mut sink);
    drop(s);
    let (conns, _, _) = relay.finish();
    assert_eq!(cause(&conns[0]), "client-not-tls", "{:#}", conns[0]);
    assert!(
        conns[0]["finding"]["title"]
            .as_str()
            .unwrap()
            .contains("GET / HTTP/1.1"),
        "{:#}",
        conns[0]
    );

    let closed = free_port();
    let relay = Relay::start(closed, &["--count", "1"]);
    let _ = python(relay.port, "localhost", None);
    let (conns, _, code) = relay.finish();
    assert_eq!(code, 1);
    assert_eq!(
        cause(&conns[0]),
        "watch-upstream-unreachable",
        "{:#}",
        conns[0]
    );
}

/// With --max-connections 1 a second application connection waits until the first ends;
/// a connection that never sends its hello ends at the handshake deadline.
#[test]
fn connection_cap_and_handshake_deadline() {
    let server = openssl_s_server(&["-tls1_2", "-www"]);
    let ca = server.cert.as_ref().unwrap().to_str().unwrap().to_string();
    let relay = Relay::start(
        server.port,
        &["--count", "2", "--max-connections", "1", "--timeout", "2"],
    );
    let silent = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    let got = python(relay.port, "localhost", Some(&ca));
    assert_eq!(got.as_deref(), Ok("TLSv1.2"));
    // The Python client was held in the backlog until the silent one timed out.
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    drop(silent);
    let (conns, summary, _) = relay.finish();
    assert_eq!(summary["connections"], 2);
    let first = conns.iter().find(|c| c["number"] == 1).unwrap();
    assert_eq!(first["ended_by"], "handshake deadline (2 s)", "{first:#}");
    let second = conns.iter().find(|c| c["number"] == 2).unwrap();
    assert_eq!(second["outcome"], "completed", "{second:#}");
}

/// What the application sends is peer text too: a server name with terminal escapes is shown
/// escaped in the human report.
#[test]
fn hostile_server_name_is_escaped() {
    let server = openssl_s_server(&["-tls1_2"]);
    let relay = Relay::spawn(server.port, &["--count", "1"]);
    let hello = tlsdoctor::scan::versions::probe_hello(
        tlsdoctor::wire::ProtocolVersion::Tls12,
        Some("evil\u{1b}[2Jname"),
    );
    let mut s = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
    s.write_all(&hello).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = [0u8; 4096];
    let _ = s.read(&mut answer);
    drop(s);
    let (text, _) = relay.finish_raw();
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.contains("SNI evil\\x1b[2Jname"), "{text}");
}

/// A HelloRetryRequest (the server wants P-256, Python's key share is X25519) is followed
/// through to the second ServerHello.
#[test]
fn hello_retry_request_then_completed() {
    let server = openssl_s_server(&["-tls1_3", "-groups", "P-256", "-www"]);
    let ca = server.cert.as_ref().unwrap().to_str().unwrap().to_string();
    let relay = Relay::start(server.port, &["--count", "1"]);
    assert_eq!(
        python(relay.port, "localhost", Some(&ca)).as_deref(),
        Ok("TLSv1.3")
    );
    let (conns, _, code) = relay.finish();
    let c = &conns[0];
    assert_eq!(code, 0, "{c:#}");
    assert_eq!(c["outcome"], "completed", "{c:#}");
    assert_eq!(c["answer"]["hello_retry_group"], "secp256r1", "{c:#}");
    assert_eq!(c["answer"]["group"], "secp256r1", "{c:#}");
}

/// An upstream that answers the hello in plain HTTP.
#[test]
fn upstream_that_does_not_speak_tls() {
    let http = banner_server(
        b"",
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    );
    let relay = Relay::start(http.port(), &["--count", "1"]);
    let err = python(relay.port, "localhost", None).unwrap_err();
    assert!(err.contains("wrong version number"), "{err}");
    let (conns, _, _) = relay.finish();
    let c = &conns[0];
    assert_eq!(cause(c), "not-tls", "{c:#}");
    assert!(
        c["finding"]["title"].as_str().unwrap().contains("HTTP"),
        "{c:#}"
    );
    assert_eq!(c["gave_up"], "server", "{c:#}");
}
