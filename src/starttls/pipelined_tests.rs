//! The pipelined dialogues against scripted stand-ins on 127.0.0.1: what is sent before the
//! greeting and in which write, that the go-ahead is read exactly, and that the prelude
//! learns on its first connection, pipelines on the next, and falls back to the full
//! dialogue (on a fresh connection) when a server does not take the shortcut.

use super::*;
use crate::probe::{ProbeConfig, Prober};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What a stand-in does with a client that speaks before the greeting.
#[derive(Clone, Copy, PartialEq)]
enum Early {
    Fine,
    /// Close the connection, as a pregreet check does.
    Close,
    /// Read it and throw it away, then greet and answer what follows.
    Drop,
}

/// One read of the stand-in: what arrived in it, and whether before the greeting went out.
#[derive(Debug, Clone, PartialEq)]
struct Segment {
    early: bool,
    text: String,
}

type Log = Arc<Mutex<Vec<Vec<Segment>>>>;

/// A line server on 127.0.0.1: waits a moment (so what a client sends at once is there
/// before it greets), greets, then answers each line with `answer(line)`; after a go-ahead
/// ([`is_go_ahead`]) it reads nothing more. Every connection's segments are logged.
async fn stand_in(
    greeting: &'static str,
    early: Early,
    answer: fn(&str) -> Option<&'static str>,
) -> (std::net::SocketAddr, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let all = log.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let all = all.clone();
            tokio::spawn(async move {
                let i = {
                    let mut l = all.lock().unwrap();
                    l.push(Vec::new());
                    l.len() - 1
                };
                let record = |early: bool, b: &[u8]| {
                    all.lock().unwrap()[i].push(Segment {
                        early,
                        text: String::from_utf8_lossy(b).into_owned(),
                    })
                };
                tokio::time::sleep(Duration::from_millis(40)).await;
                let mut pending = Vec::new();
                if let Some(b) = reply::buffered(&s).filter(|b| !b.is_empty()) {
                    let mut buf = vec![0u8; b.len()];
                    s.read_exact(&mut buf).await.unwrap();
                    record(true, &buf);
                    match early {
                        Early::Close => return,
                        Early::Drop => {}
                        Early::Fine => pending = buf,
                    }
                }
                if s.write_all(greeting.as_bytes()).await.is_err() {
                    return;
                }
                let mut buf = [0u8; 1024];
                loop {
                    while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = pending.drain(..=end).collect();
                        let line = String::from_utf8_lossy(&line).trim_end().to_string();
                        if let Some(reply) = answer(&line) {
                            let _ = s.write_all(reply.as_bytes()).await;
                            if is_go_ahead(reply) {
                                // Hold the connection as a TLS server would, reading no more.
                                tokio::time::sleep(Duration::from_secs(5)).await;
                                return;
                            }
                        }
                    }
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            record(false, &buf[..n]);
                            pending.extend_from_slice(&buf[..n]);
                        }
                    }
                }
            });
        }
    });
    (addr, log)
}

/// The replies after which TLS would start, in the scripts below.
fn is_go_ahead(reply: &str) -> bool {
    [
        "a1 OK",
        "a2 OK",
        "+OK Begin",
        "234 ",
        "220 2.0.0",
        "OK \"Begin",
    ]
    .iter()
    .any(|p| reply.starts_with(p))
}

fn imap(line: &str) -> Option<&'static str> {
    match line {
        "a1 CAPABILITY" => Some("* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n"),
        "a1 STARTTLS" => Some("a1 OK Begin TLS\r\n"),
        "a2 STARTTLS" => Some("a2 OK Begin TLS\r\n"),
        _ => Some("* BAD what\r\n"),
    }
}

async fn connect(addr: std::net::SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.unwrap()
}

/// The optimistic shortcut of `protocol` on `s`: what every connection of a scan tries.
async fn early(protocol: Protocol, s: &mut TcpStream) -> Result<(), PreludeError> {
    Upgrade::new(protocol, "localhost".into(), true)
        .optimistic(s, soon())
        .await
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

fn log_of(log: &Log, conn: usize) -> Vec<Segment> {
    log.lock().unwrap()[conn].clone()
}

#[tokio::test]
async fn imap_pipelined_sends_starttls_before_the_greeting_and_reads_exactly_the_ok() {
    let (addr, log) = stand_in("* OK ready\r\n", Early::Fine, imap).await;
    let mut s = connect(addr).await;
    early(Protocol::Imap, &mut s).await.unwrap();
    assert_eq!(
        log_of(&log, 0),
        [Segment {
            early: true,
            text: "a1 STARTTLS\r\n".into()
        }]
    );
    // The full dialogue asks CAPABILITY when the greeting does not list them...
    let mut s = connect(addr).await;
    imap::upgrade(&mut s, soon()).await.unwrap();
    let texts: Vec<String> = log_of(&log, 1).into_iter().map(|s| s.text).collect();
    assert_eq!(texts, ["a1 CAPABILITY\r\n", "a2 STARTTLS\r\n"]);
    // ... and not when they are in it.
    let (addr, log) = stand_in(
        "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
        Early::Fine,
        imap,
    )
    .await;
    let mut s = connect(addr).await;
    imap::upgrade(&mut s, soon()).await.unwrap();
    assert_eq!(
        log_of(&log, 0),
        [Segment {
            early: false,
            text: "a2 STARTTLS\r\n".into()
        }]
    );
}

#[tokio::test]
async fn bytes_after_the_go_ahead_are_named_not_fed_into_tls() {
    fn chatty(line: &str) -> Option<&'static str> {
        match line {
            "a1 STARTTLS" => Some("a1 OK Begin TLS\r\n* 1 EXISTS\r\n"),
            _ => imap(line),
        }
    }
    let (addr, _) = stand_in("* OK ready\r\n", Early::Fine, chatty).await;
    let mut s = connect(addr).await;
    match early(Protocol::Imap, &mut s).await {
        Err(PreludeError::Malformed { reason }) => {
            assert!(
                reason.contains("more after its go-ahead") && reason.contains("* 1 EXISTS"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    fn smtp_chatty(line: &str) -> Option<&'static str> {
        match line {
            "STARTTLS" => Some("220 2.0.0 Ready\r\n250 injected\r\n"),
            _ => smtp_server(line),
        }
    }
    let (addr, _) = stand_in("220 mx ESMTP\r\n", Early::Fine, smtp_chatty).await;
    let mut s = connect(addr).await;
    let e = smtp::upgrade(&mut s, soon(), "EHLO").await.unwrap_err();
    assert!(e.to_string().contains("250 injected"), "{e}");
}

#[tokio::test]
async fn pop3_ftp_and_sieve_pipelined_speak_first() {
    fn pop3(line: &str) -> Option<&'static str> {
        (line == "STLS").then_some("+OK Begin TLS negotiation\r\n")
    }
    let (addr, log) = stand_in("+OK POP3 ready\r\n", Early::Fine, pop3).await;
    let mut s = connect(addr).await;
    early(Protocol::Pop3, &mut s).await.unwrap();
    assert_eq!(
        log_of(&log, 0),
        [Segment {
            early: true,
            text: "STLS\r\n".into()
        }]
    );
    fn ftp(line: &str) -> Option<&'static str> {
        (line == "AUTH TLS").then_some("234 Proceed with negotiation.\r\n")
    }
    let (addr, log) = stand_in("220-hello\r\n220 (vsFTPd 3.0.5)\r\n", Early::Fine, ftp).await;
    let mut s = connect(addr).await;
    early(Protocol::Ftp, &mut s).await.unwrap();
    assert_eq!(
        log_of(&log, 0),
        [Segment {
            early: true,
            text: "AUTH TLS\r\n".into()
        }]
    );
    fn sieve(line: &str) -> Option<&'static str> {
        (line == "STARTTLS").then_some("OK \"Begin TLS negotiation now.\"\r\n")
    }
    let (addr, log) = stand_in(
        "\"IMPLEMENTATION\" \"Dovecot\"\r\n\"STARTTLS\"\r\nOK \"ready.\"\r\n",
        Early::Fine,
        sieve,
    )
    .await;
    let mut s = connect(addr).await;
    early(Protocol::Sieve, &mut s).await.unwrap();
    assert_eq!(
        log_of(&log, 0),
        [Segment {
            early: true,
            text: "STARTTLS\r\n".into()
        }]
    );
    // A refusal of the pipelined form is the server's answer, as in the full dialogue.
    fn no_ftp(_: &str) -> Option<&'static str> {
        Some("530 Please login with USER and PASS.\r\n")
    }
    let (addr, _) = stand_in("220 ftp\r\n", Early::Fine, no_ftp).await;
    let mut s = connect(addr).await;
    assert!(matches!(
        early(Protocol::Ftp, &mut s).await,
        Err(PreludeError::Refused { .. })
    ));
}

fn smtp_server(line: &str) -> Option<&'static str> {
    if line.starts_with("EHLO") {
        Some("250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
    } else if line == "STARTTLS" {
        Some("220 2.0.0 Ready to start TLS\r\n")
    } else {
        Some("500 what\r\n")
    }
}

#[tokio::test]
async fn smtp_learns_pipelining_and_then_sends_ehlo_and_starttls_in_one_write_after_the_greeting() {
    let (addr, log) = stand_in("220 mx ESMTP\r\n", Early::Fine, smtp_server).await;
    let mut s = connect(addr).await;
    assert!(smtp::upgrade(&mut s, soon(), "EHLO").await.unwrap());
    let mut s = connect(addr).await;
    smtp::pipelined(&mut s, soon(), "EHLO").await.unwrap();
    // Never before the greeting; both commands in one segment.
    assert_eq!(
        log_of(&log, 1),
        [Segment {
            early: false,
            text: smtp::pipelined_group("EHLO")
        }]
    );
    fn no_pipelining(line: &str) -> Option<&'static str> {
        if line.starts_with("EHLO") {
            Some("250-mx\r\n250 STARTTLS\r\n")
        } else {
            smtp_server(line)
        }
    }
    let (addr, _) = stand_in("220 mx ESMTP\r\n", Early::Fine, no_pipelining).await;
    let mut s = connect(addr).await;
    assert!(!smtp::upgrade(&mut s, soon(), "EHLO").await.unwrap());
}

fn prober(addr: std::net::SocketAddr, protocol: Protocol, pipelining: bool) -> Prober {
    let mut cfg = ProbeConfig::with_timeout(Duration::from_secs(5));
    cfg.prelude = Some(Arc::new(Upgrade::new(
        protocol,
        "localhost".into(),
        pipelining,
    )));
    Prober::new(addr, cfg)
}

#[tokio::test]
async fn the_prelude_speaks_first_from_its_first_connection() {
    let (addr, log) = stand_in("* OK ready\r\n", Early::Fine, imap).await;
    let p = prober(addr, Protocol::Imap, true);
    for _ in 0..3 {
        p.open().await.unwrap();
    }
    assert_eq!(p.connections_opened(), 3);
    let firsts: Vec<Segment> = (0..3).map(|i| log_of(&log, i)[0].clone()).collect();
    for s in &firsts {
        assert_eq!(
            s,
            &Segment {
                early: true,
                text: "a1 STARTTLS\r\n".into()
            }
        );
    }
    // --starttls-full: the full dialogue every time.
    let (addr, log) = stand_in("* OK ready\r\n", Early::Fine, imap).await;
    let p = prober(addr, Protocol::Imap, false);
    for _ in 0..2 {
        p.open().await.unwrap();
    }
    for i in 0..2 {
        assert_eq!(log_of(&log, i)[0].text, "a1 CAPABILITY\r\n");
    }
}

#[tokio::test]
async fn a_server_that_refuses_the_shortcut_gets_the_full_dialogue_on_a_fresh_connection() {
    let (addr, log) = stand_in("* OK ready\r\n", Early::Close, imap).await;
    let p = prober(addr, Protocol::Imap, true);
    for _ in 0..3 {
        p.open().await.expect("every connection reaches TLS");
    }
    // Pipelined at once (closed by the server), its full retry, then full for good.
    assert_eq!(p.connections_opened(), 4);
    let firsts: Vec<(bool, String)> = (0..4)
        .map(|i| {
            let s = log_of(&log, i)[0].clone();
            (s.early, s.text)
        })
        .collect();
    assert_eq!(
        firsts,
        [
            (true, "a1 STARTTLS\r\n".to_string()),
            (false, "a1 CAPABILITY\r\n".to_string()),
            (false, "a1 CAPABILITY\r\n".to_string()),
            (false, "a1 CAPABILITY\r\n".to_string()),
        ]
    );
    // An SMTP server that does not advertise PIPELINING is never sent the group.
    fn plain_smtp(line: &str) -> Option<&'static str> {
        if line.starts_with("EHLO") {
            Some("250-mx\r\n250 STARTTLS\r\n")
        } else {
            smtp_server(line)
        }
    }
    let (addr, log) = stand_in("220 mx ESMTP\r\n", Early::Fine, plain_smtp).await;
    let p = prober(addr, Protocol::Smtp, true);
    for _ in 0..2 {
        p.open().await.unwrap();
    }
    for i in 0..2 {
        let texts: Vec<String> = log_of(&log, i).into_iter().map(|s| s.text).collect();
        assert_eq!(
            texts,
            ["EHLO tlsdoctor.invalid\r\n", "STARTTLS\r\n"],
            "connection {i}"
        );
    }
}

#[tokio::test]
async fn a_server_that_drops_early_speech_costs_a_second_not_the_deadline() {
    let (addr, log) = stand_in("* OK ready\r\n", Early::Drop, imap).await;
    let p = prober(addr, Protocol::Imap, true);
    let started = Instant::now();
    p.open().await.expect("the full dialogue reaches TLS");
    // The greeting came, the answer never: the shortcut gave up a second after the
    // greeting (shortcut::after_first_byte), not at the 5 s probe deadline.
    let took = started.elapsed();
    assert!(took < Duration::from_millis(2500), "{took:?}");
    assert_eq!(p.connections_opened(), 2);
    assert_eq!(log_of(&log, 0)[0].text, "a1 STARTTLS\r\n");
    assert_eq!(log_of(&log, 1)[0].text, "a1 CAPABILITY\r\n");
}

#[tokio::test]
async fn a_refusal_that_the_full_dialogue_meets_too_is_its_finding() {
    // STARTTLS works once, then is refused: the shortcut's refusal is retried in full,
    // and the full dialogue's refusal is what the engine reports.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    fn once(line: &str) -> Option<&'static str> {
        if line.ends_with("STARTTLS") && CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0
        {
            return Some(if line.starts_with("a1") {
                "a1 NO [UNAVAILABLE] TLS not now\r\n"
            } else {
                "a2 NO [UNAVAILABLE] TLS not now\r\n"
            });
        }
        imap(line)
    }
    let (addr, _) = stand_in("* OK ready\r\n", Early::Fine, once).await;
    let p = prober(addr, Protocol::Imap, true);
    p.open().await.unwrap();
    match p.open().await {
        Err(crate::probe::ConnectError::Prelude {
            error: PreludeError::Refused { reply },
            ..
        }) => assert_eq!(reply, "a2 NO [UNAVAILABLE] TLS not now"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("refused, yet it connected"),
    }
    assert_eq!(p.connections_opened(), 3);
}
