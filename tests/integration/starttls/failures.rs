//! Upgrade failures that real servers rarely show on demand, from small stand-ins on
//! loopback: a refused STARTTLS (reply quoted and escaped), a reply that never ends, a
//! server that never answers, one that closes mid-dialogue. Each is a finding of its own,
//! and none makes tlsdoctor wait longer than its deadline.

use super::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A line server: writes `greeting`, then answers each line it reads with `answer(line)`
/// (None: say nothing more, keep the connection open until the client leaves; an empty
/// answer: close the connection).
fn stand_in(greeting: &'static [u8], answer: fn(&str) -> Option<Vec<u8>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
                if s.write_all(greeting).is_err() {
                    return;
                }
                let mut line = Vec::new();
                let mut b = [0u8; 1];
                while let Ok(1) = s.read(&mut b) {
                    if b[0] != b'\n' {
                        line.push(b[0]);
                        continue;
                    }
                    let text = String::from_utf8_lossy(&line).trim_end().to_string();
                    line.clear();
                    match answer(&text) {
                        Some(reply) => {
                            if reply.is_empty() || s.write_all(&reply).is_err() {
                                return;
                            }
                        }
                        None => {
                            let _ = s.read(&mut [0u8; 1]);
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

fn ehlo_with_starttls(line: &str) -> Option<Vec<u8>> {
    if line.starts_with("EHLO") {
        Some(b"250-stand-in\r\n250 STARTTLS\r\n".to_vec())
    } else {
        // A refusal with a terminal escape in it: the report must not pass it through.
        Some(b"454 4.7.0 TLS not available \x1b[31mdue to local problem\r\n".to_vec())
    }
}

#[test]
fn a_refused_starttls_is_quoted_escaped() {
    let port = stand_in(b"220 stand-in ESMTP\r\n", ehlo_with_starttls);
    let doc = check(&format!("127.0.0.1:{port}"), &["--starttls", "smtp"]);
    let f = finding(&doc, "starttls-failed");
    let title = f["title"].as_str().unwrap();
    assert!(title.contains("refuses SMTP STARTTLS"), "{title}");
    assert!(title.contains("\\x1b[31m"), "{title}");
    assert!(!title.contains('\x1b'), "{title}");
    let human = crate::common::cli::tlsdoctor(&[
        "check",
        &format!("127.0.0.1:{port}"),
        "--starttls",
        "smtp",
    ]);
    assert!(!human.stdout.contains('\x1b'), "{}", human.stdout);
    assert!(
        human.stdout.contains("454 4.7.0 TLS not available"),
        "{}",
        human.stdout
    );
}

#[test]
fn endless_and_missing_replies_end_within_the_deadline() {
    // An EHLO answer that never ends: 250- lines forever.
    let endless = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(mut s) = s else { continue };
                std::thread::spawn(move || {
                    let _ = s.write_all(b"220 stand-in\r\n");
                    let _ = s.read(&mut [0u8; 64]);
                    while s.write_all(b"250-again\r\n").is_ok() {}
                });
            }
        });
        port
    };
    let silent = stand_in(b"220 stand-in ESMTP\r\n", |_| None);
    let closing = stand_in(b"220 stand-in ESMTP\r\n", |l| {
        Some(if l.starts_with("EHLO") {
            b"250-stand-in\r\n250 STARTTLS\r\n".to_vec()
        } else {
            Vec::new()
        })
    });
    for (port, want) in [
        (endless, "breaks the protocol"),
        (silent, "before the timeout"),
        (closing, "ends the connection"),
    ] {
        let start = Instant::now();
        let doc = check(
            &format!("127.0.0.1:{port}"),
            &["--starttls", "smtp", "--timeout", "2"],
        );
        let f = finding(&doc, "starttls-failed");
        assert!(f["title"].as_str().unwrap().contains(want), "{want}: {f:#}");
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}",
            start.elapsed()
        );
    }
}
