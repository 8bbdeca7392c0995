//! The engine against real peers on 127.0.0.1: a stand-in server that insists on a plaintext
//! STARTTLS exchange before its (rustls) TLS, servers that stall or send an alert, and an
//! HTTP server standing in for an OCSP URL that points at the scanned server.

use super::*;
use crate::cert::fetch::{FetchError, fetch_chain};
use crate::wire::{AlertDescription, ProtocolVersion};
use std::sync::atomic::AtomicUsize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::time::Instant as TokioInstant;

/// A self-signed `localhost` certificate and a rustls server configuration serving it.
fn tls_server_config() -> (Vec<u8>, Arc<rustls::ServerConfig>) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let der = ck.cert.der().to_vec();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(der.clone())], key)
        .unwrap();
    (der, Arc::new(config))
}

/// What the stand-in server saw.
#[derive(Default)]
struct Seen {
    accepted: AtomicUsize,
    starttls: AtomicUsize,
    tls_done: AtomicUsize,
}

/// An SMTP-like stand-in: greets with `220`, answers `STARTTLS` with `220` and then speaks
/// TLS (rustls) on the same socket; anything else before STARTTLS gets `530` and a close.
/// With `refuse`, it answers STARTTLS with `454` instead.
async fn starttls_server(refuse: bool) -> (SocketAddr, Vec<u8>, Arc<Seen>) {
    let (der, config) = tls_server_config();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            s.accepted.fetch_add(1, Ordering::SeqCst);
            let (acceptor, s) = (acceptor.clone(), s.clone());
            tokio::spawn(async move {
                if sock.write_all(b"220 stand-in ESMTP\r\n").await.is_err() {
                    return;
                }
                let mut line = Vec::new();
                let mut reader = BufReader::new(&mut sock);
                if reader.read_until(b'\n', &mut line).await.is_err() {
                    return;
                }
                // Nothing may follow STARTTLS before the server's answer, so the buffer
                // holds no TLS bytes yet.
                drop(reader);
                if line != b"STARTTLS\r\n" {
                    let _ = sock.write_all(b"530 must issue STARTTLS first\r\n").await;
                    return;
                }
                s.starttls.fetch_add(1, Ordering::SeqCst);
                if refuse {
                    let _ = sock.write_all(b"454 TLS not available\r\n").await;
                    return;
                }
                if sock.write_all(b"220 ready to start TLS\r\n").await.is_err() {
                    return;
                }
                if let Ok(mut tls) = acceptor.accept(sock).await {
                    s.tls_done.fetch_add(1, Ordering::SeqCst);
                    let mut buf = [0u8; 64];
                    let _ = tls.read(&mut buf).await;
                }
            });
        }
    });
    (addr, der, seen)
}

/// The client side: read the greeting, send STARTTLS, expect a 2xx answer.
#[derive(Debug)]
struct LineStartTls;

impl Prelude for LineStartTls {
    fn name(&self) -> &str {
        "test STARTTLS"
    }

    fn run<'a>(
        &'a self,
        stream: &'a mut TcpStream,
        deadline: TokioInstant,
    ) -> futures::future::BoxFuture<'a, Result<(), PreludeError>> {
        Box::pin(async move {
            let greeting = prelude::read_line(stream, deadline, 512).await?;
            if !greeting.starts_with("220") {
                return Err(PreludeError::Refused { reply: greeting });
            }
            stream.write_all(b"STARTTLS\r\n").await?;
            let answer = prelude::read_line(stream, deadline, 512).await?;
            if !answer.starts_with('2') {
                return Err(PreludeError::Refused { reply: answer });
            }
            Ok(())
        })
    }
}

fn prober_with_prelude(addr: SocketAddr) -> Prober {
    let mut cfg = ProbeConfig::with_timeout(Duration::from_secs(5));
    cfg.prelude = Some(Arc::new(LineStartTls));
    Prober::new(addr, cfg)
}

#[tokio::test]
async fn raw_probes_and_full_handshakes_run_through_the_prelude() {
    let (addr, der, seen) = starttls_server(false).await;

    // Without the prelude the server's greeting is all a ClientHello gets.
    let plain = Prober::new(addr, ProbeConfig::with_timeout(Duration::from_secs(5)));
    let hello = crate::scan::versions::probe_hello(ProtocolVersion::Tls13, Some("localhost"));
    let got = plain.send_hello(&hello).await.outcome;
    assert!(matches!(got, ProbeOutcome::NotTls { .. }), "{got:?}");

    let prober = prober_with_prelude(addr);
    let raw = prober.send_hello(&hello).await.outcome;
    let sh = raw.flight().and_then(|f| f.server_hello.as_ref());
    assert_eq!(
        sh.map(|s| s.negotiated_version()),
        Some(ProtocolVersion::Tls13),
        "{}",
        raw.describe()
    );
    let full = fetch_chain(&prober, Some("localhost"), ProtocolVersion::Tls13)
        .await
        .unwrap();
    assert_eq!(full.chain, vec![der]);
    assert_eq!(full.handshake_error, None);

    // Two connections through the prelude, both counted; the server saw them too.
    assert_eq!(prober.connections_opened(), 2);
    assert_eq!(seen.starttls.load(Ordering::SeqCst), 2);
    // The server finishes its side after the client's Finished arrives.
    for _ in 0..50 {
        if seen.tls_done.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        seen.tls_done.load(Ordering::SeqCst),
        1,
        "the full handshake"
    );
    assert_eq!(
        seen.accepted.load(Ordering::SeqCst),
        3,
        "plain probe included"
    );
}

#[tokio::test]
async fn a_refused_prelude_is_a_typed_outcome() {
    let (addr, _, _) = starttls_server(true).await;
    let prober = prober_with_prelude(addr);
    let hello = crate::scan::versions::probe_hello(ProtocolVersion::Tls12, None);
    match prober.send_hello(&hello).await.outcome {
        ProbeOutcome::PreludeFailed {
            error: PreludeError::Refused { reply },
            ..
        } => assert_eq!(reply, "454 TLS not available"),
        other => panic!("{other:?}"),
    }
    let e = fetch_chain(&prober, None, ProtocolVersion::Tls12)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &e,
            FetchError::Connect {
                error: ConnectError::Prelude { .. },
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("454 TLS not available"), "{e}");
}

/// A server that reads the ClientHello, then answers with `answer` (or nothing) and waits.
async fn answering_server(answer: Option<&'static [u8]>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                if let Some(a) = answer {
                    let _ = sock.write_all(a).await;
                }
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn full_handshake_errors_are_typed() {
    // A fatal handshake_failure alert in answer to rustls's ClientHello.
    let addr = answering_server(Some(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])).await;
    let prober = Prober::new(addr, ProbeConfig::with_timeout(Duration::from_secs(5)));
    let e = fetch_chain(&prober, None, ProtocolVersion::Tls12)
        .await
        .unwrap_err();
    assert_eq!(e.alert(), Some(AlertDescription::HandshakeFailure), "{e:?}");
    assert_eq!(
        e.to_string(),
        "the server sent the TLS alert HandshakeFailure during the TLSv1.2 handshake"
    );

    // Nothing listens: the I/O kind is kept.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = closed.local_addr().unwrap();
    drop(closed);
    let prober = Prober::new(gone, ProbeConfig::with_timeout(Duration::from_secs(5)));
    match fetch_chain(&prober, None, ProtocolVersion::Tls13).await {
        Err(FetchError::Connect {
            error: ConnectError::Failed { kind, .. },
            ..
        }) => assert_eq!(kind, std::io::ErrorKind::ConnectionRefused),
        other => panic!("{other:?}"),
    }
    let hello = crate::scan::versions::probe_hello(ProtocolVersion::Tls12, None);
    match prober.send_hello(&hello).await.outcome {
        ProbeOutcome::ConnectFailed { kind, .. } => {
            assert_eq!(kind, std::io::ErrorKind::ConnectionRefused)
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_handshake_kind_question_ends_at_the_server_hello_or_a_typed_failure() {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(crate::cert::fetch::evidence_only_verifier())
            .with_no_client_auth(),
    );
    let ask = |answer: Option<&'static [u8]>| {
        let config = config.clone();
        async move {
            let addr = answering_server(answer).await;
            let mut cfg = ProbeConfig::with_timeout(Duration::from_secs(5));
            cfg.read_timeout = Duration::from_millis(300);
            let prober = Prober::new(addr, cfg);
            let conn = prober.open().await.unwrap();
            let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
            prober.handshake_kind_on(conn, config, name).await
        }
    };
    // A TLS 1.2 ServerHello with a session ID of its own (the client offered none to resume):
    // a full handshake, known without the rest of the flight.
    let mut body = vec![0x03, 0x03];
    body.extend([7u8; 32]);
    body.push(32);
    body.extend([9u8; 32]);
    body.extend([0xc0, 0x2f, 0x00]);
    let mut record = vec![
        0x16,
        0x03,
        0x03,
        0x00,
        body.len() as u8 + 4,
        0x02,
        0x00,
        0x00,
    ];
    record.push(body.len() as u8);
    record.extend(body);
    let server_hello: &'static [u8] = Box::leak(record.into_boxed_slice());
    assert_eq!(
        ask(Some(server_hello)).await.ok(),
        Some(rustls::HandshakeKind::Full)
    );
    match ask(Some(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])).await {
        Err(HandshakeError::Failed(HandshakeFailure::Alert { alert })) => {
            assert_eq!(alert, AlertDescription::HandshakeFailure)
        }
        other => panic!("{other:?}"),
    }
    match ask(Some(b"HTTP/1.1 400 Bad Request\r\n\r\n")).await {
        Err(HandshakeError::Failed(HandshakeFailure::Tls { .. })) => {}
        other => panic!("{other:?}"),
    }
    // Silence: the read deadline ends it.
    match ask(None).await {
        Err(HandshakeError::Failed(
            HandshakeFailure::Timeout { .. } | HandshakeFailure::Io { .. },
        )) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_full_handshake_has_the_read_deadline() {
    // The server reads the ClientHello and says nothing: the read deadline (0.3 s) ends the
    // handshake long before the whole-probe deadline (20 s).
    let addr = answering_server(None).await;
    let mut cfg = ProbeConfig::with_timeout(Duration::from_secs(20));
    cfg.read_timeout = Duration::from_millis(300);
    let prober = Prober::new(addr, cfg);
    let start = std::time::Instant::now();
    let e = fetch_chain(&prober, None, ProtocolVersion::Tls13)
        .await
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(5), "{e}");
    assert!(
        matches!(
            e,
            FetchError::Handshake {
                failure: HandshakeFailure::Timeout { .. },
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn the_connection_cap_holds_for_full_handshakes() {
    // Server side: count connections open at once.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (open, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (o, p) = (open.clone(), peak.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let now = o.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            let o = o.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                o.fetch_sub(1, Ordering::SeqCst);
                // Dropping the socket closes it: the handshake fails, the slot frees.
            });
        }
    });
    let mut cfg = ProbeConfig::with_timeout(Duration::from_secs(5));
    cfg.max_connections = 2;
    let prober = Prober::new(addr, cfg);
    let jobs = (0..6).map(|_| fetch_chain(&prober, None, ProtocolVersion::Tls13));
    let results = futures::future::join_all(jobs).await;
    assert!(results.iter().all(|r| r.is_err()));
    assert_eq!(prober.connections_opened(), 6);
    assert!(peak.load(Ordering::SeqCst) <= 2, "peak {peak:?}");
}

#[tokio::test]
async fn own_counts_add_up_to_the_servers_total() {
    let addr = answering_server(Some(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])).await;
    let prober = Prober::new(addr, ProbeConfig::with_timeout(Duration::from_secs(5)));
    let part = prober.with_own_count();
    let hello = crate::scan::versions::probe_hello(ProtocolVersion::Tls12, None);
    let _ = part.send_hello(&hello).await;
    let _ = prober.send_hello(&hello).await;
    let _ = fetch_chain(&part, None, ProtocolVersion::Tls12).await;
    assert_eq!(part.connections_opened(), 2);
    assert_eq!(prober.connections_opened(), 3);
}

/// An HTTP server that answers every request with `200` and a short body.
async fn http_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn an_http_fetch_from_the_server_itself_is_counted() {
    let addr = http_server().await;
    let url = format!("http://{addr}/ocsp");
    let req = crate::http::Request {
        method: "GET",
        content_type: None,
        accept: "*/*",
        body: &[],
    };
    let t = Duration::from_secs(5);
    let server = Prober::new(addr, ProbeConfig::with_timeout(t));
    let a = crate::http::exchange(&url, &req, t, Some(&server), 1024)
        .await
        .unwrap();
    assert_eq!((a.status, a.body.as_slice()), (200, &b"ok"[..]));
    assert_eq!(server.connections_opened(), 1);
    // Another server's prober does not count a fetch that goes elsewhere.
    let other = Prober::new(answering_server(None).await, ProbeConfig::with_timeout(t));
    crate::http::exchange(&url, &req, t, Some(&other), 1024)
        .await
        .unwrap();
    assert_eq!(other.connections_opened(), 0);
}

/// A server that answers each hello with a handshake_failure alert `delay` after reading it,
/// counting the connections open at once; from connection `reset_from` on (counted from 1)
/// it resets instead of answering.
async fn slow_server(delay: Duration, reset_from: usize) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (open, peak, seen) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let p = peak.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
            let now = open.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            let o = open.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                if n >= reset_from {
                    // SO_LINGER 0: the close below is a reset (blocking on drop is no
                    // concern with nothing left to send).
                    #[allow(deprecated)]
                    let _ = sock.set_linger(Some(Duration::ZERO));
                } else {
                    tokio::time::sleep(delay).await;
                    let _ = sock
                        .write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
                        .await;
                }
                o.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (addr, peak)
}

fn auto_config(base: usize, far: usize) -> ProbeConfig {
    let mut cfg = ProbeConfig::with_timeout(Duration::from_secs(5));
    cfg.max_connections = base;
    cfg.far_max_connections = Some(far);
    cfg.loopback_may_be_far = true;
    cfg
}

#[tokio::test]
async fn the_automatic_cap_rises_for_a_far_server() {
    // Every answer takes 40 ms: the server is far, so after the first six answers up to 6
    // probes overlap, never more.
    let (addr, peak) = slow_server(Duration::from_millis(40), usize::MAX).await;
    let prober = Prober::new(addr, auto_config(2, 6));
    let hello = crate::scan::versions::probe_hello(ProtocolVersion::Tls12, None);
    let probes = (0..24).map(|_| prober.send_hello(&hello));
    futures::future::join_all(probes).await;
    let peak = peak.load(Ordering::SeqCst);
    assert!((3..=6).contains(&peak), "peak {peak}");
    assert_eq!(
        prober.cap_report(),
        CapReport {
            mode: CapMode::Auto,
            max: 6,
            state: Some(CapState::Far)
        }
    );

    // The same server under a fixed cap: never more than it.
    let (addr, peak) = slow_server(Duration::from_millis(40), usize::MAX).await;
    let mut cfg = ProbeConfig::with_timeout(Duration::from_secs(5));
    cfg.max_connections = 2;
    let prober = Prober::new(addr, cfg);
    futures::future::join_all((0..12).map(|_| prober.send_hello(&hello))).await;
    assert!(peak.load(Ordering::SeqCst) <= 2);
    assert_eq!(prober.cap_report().mode, CapMode::Fixed);
}

#[tokio::test]
async fn a_reset_brings_the_automatic_cap_back_down() {
    // Far (40 ms answers) for the first six connections, then every connection is reset.
    let (addr, _) = slow_server(Duration::from_millis(40), 7).await;
    let prober = Prober::new(addr, auto_config(2, 6));
    let hello = crate::scan::versions::probe_hello(ProtocolVersion::Tls12, None);
    futures::future::join_all((0..6).map(|_| prober.send_hello(&hello))).await;
    assert_eq!(prober.cap_report().state, Some(CapState::Far));
    let reset = prober.send_hello(&hello).await;
    assert!(
        matches!(reset.outcome, ProbeOutcome::Reset { .. }),
        "{:?}",
        reset.outcome
    );
    assert_eq!(
        prober.cap_report(),
        CapReport {
            mode: CapMode::Auto,
            max: 6,
            state: Some(CapState::FellBack)
        }
    );
    assert_eq!(prober.with_cap(|c| c.limit()), 2);
}

#[tokio::test]
async fn warm_connections_serve_the_next_probes_and_are_all_counted() {
    // A far server (40 ms answers): a chain of probes, each sent when the one before it was
    // answered, finds connections dialled ahead.
    let (addr, peak) = slow_server(Duration::from_millis(40), usize::MAX).await;
    let prober = Prober::new(addr, auto_config(4, 8));
    let hello = crate::scan::versions::probe_hello(ProtocolVersion::Tls12, None);
    // Six at once make the server far; then the chain.
    futures::future::join_all((0..6).map(|_| prober.send_hello(&hello))).await;
    assert!(prober.with_cap(|c| c.is_far()));
    for _ in 0..6 {
        let r = prober.send_hello(&hello).await;
        assert!(matches!(r.outcome, ProbeOutcome::Alert(_)), "{r:?}");
    }
    prober.close_warm();
    let warm = prober.warm_report();
    assert!(warm.used >= 4, "{warm:?}");
    assert!(warm.dialled >= warm.used);
    // Every connection dialled ahead is one the server saw, used or not, and no more were
    // open at once than the cap allows.
    assert_eq!(prober.connections_opened(), 12 + warm.dialled - warm.used);
    assert!(peak.load(Ordering::SeqCst) <= 8);
    // At most MOST_AHEAD are ever left over.
    assert!(warm.dialled - warm.used <= warm::MOST_AHEAD, "{warm:?}");

    // Off, or under a fixed cap: none.
    let mut cfg = auto_config(4, 8);
    cfg.warm_connections = false;
    let (addr, _) = slow_server(Duration::from_millis(40), usize::MAX).await;
    let prober = Prober::new(addr, cfg);
    for _ in 0..8 {
        prober.send_hello(&hello).await;
    }
    assert_eq!(prober.warm_report().dialled, 0);
    assert_eq!(prober.connections_opened(), 8);
}

#[tokio::test]
async fn an_opening_stock_serves_the_second_round_of_a_far_server_only() {
    // A far server (40 ms answers): the stock is dialled while the first round waits, beyond
    // the opening cap, and the second round's probes take it.
    let (addr, peak) = slow_server(Duration::from_millis(40), usize::MAX).await;
    let prober = Prober::new(addr, auto_config(2, 16));
    let opening = prober.with_cap(|c| c.limit());
    let hello = crate::scan::versions::probe_hello(ProtocolVersion::Tls12, None);
    prober.stock_up(5);
    futures::future::join_all((0..6).map(|_| prober.send_hello(&hello))).await;
    assert!(prober.with_cap(|c| c.is_far()));
    assert!(
        peak.load(Ordering::SeqCst) > opening.min(6),
        "the stock is beyond the cap"
    );
    let second = futures::future::join_all((0..5).map(|_| prober.send_hello(&hello))).await;
    assert!(
        second
            .iter()
            .all(|r| matches!(r.outcome, ProbeOutcome::Alert(_)))
    );
    prober.close_warm();
    let warm = prober.warm_report();
    assert_eq!(warm.opening_stock, 5, "{warm:?}");
    assert!(warm.used >= 5, "{warm:?}");
    assert_eq!(prober.connections_opened(), 11 + warm.dialled - warm.used);
    // Once per prober.
    prober.stock_up(5);
    tokio::time::sleep(warm::STOCK_AFTER * 3).await;
    assert_eq!(prober.warm_report().opening_stock, 5);

    // A server found close by, or a fixed cap: no stock.
    let near = crate::scan::versions::probe_hello(ProtocolVersion::Tls12, None);
    let (addr, _) = slow_server(Duration::ZERO, usize::MAX).await;
    let prober = Prober::new(addr, auto_config(2, 16));
    futures::future::join_all((0..6).map(|_| prober.send_hello(&near))).await;
    assert_eq!(prober.cap_report().state, Some(CapState::Near));
    let (addr2, _) = slow_server(Duration::from_millis(40), usize::MAX).await;
    let mut fixed = ProbeConfig::with_timeout(Duration::from_secs(5));
    fixed.max_connections = 4;
    let fixed = Prober::new(addr2, fixed);
    // Nor through a STARTTLS prelude.
    let (addr3, _) = slow_server(Duration::from_millis(40), usize::MAX).await;
    let mut upgraded = auto_config(2, 16);
    upgraded.prelude = Some(Arc::new(LineStartTls));
    let upgraded = Prober::new(addr3, upgraded);
    prober.stock_up(5);
    fixed.stock_up(5);
    upgraded.stock_up(5);
    tokio::time::sleep(warm::STOCK_AFTER * 3).await;
    for p in [&prober, &fixed, &upgraded] {
        assert_eq!(p.warm_report().dialled, 0);
    }
    assert_eq!(
        fixed.connections_opened() + upgraded.connections_opened(),
        0
    );
}

#[tokio::test]
async fn a_warm_connection_carries_the_prelude() {
    // The STARTTLS stand-in, far away behind a delaying relay: warm connections arrive
    // upgraded, and a full handshake on one completes.
    let (upstream, der, seen) = starttls_server(false).await;
    let relay = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = relay.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = relay.accept().await {
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                // 30 ms on every answer from the server.
                let down = async move {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = sr.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        if cw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                };
                let up = async move {
                    let _ = tokio::io::copy(&mut cr, &mut sw).await;
                };
                futures::join!(down, up);
            });
        }
    });
    let mut cfg = auto_config(4, 8);
    cfg.prelude = Some(Arc::new(LineStartTls));
    let prober = Prober::new(addr, cfg);
    let hello = crate::scan::versions::probe_hello(ProtocolVersion::Tls13, Some("localhost"));
    futures::future::join_all((0..6).map(|_| prober.send_hello(&hello))).await;
    assert!(prober.with_cap(|c| c.is_far()));
    for _ in 0..3 {
        let r = prober.send_hello(&hello).await;
        assert!(r.outcome.flight().is_some(), "{}", r.outcome.describe());
    }
    let full = fetch_chain(&prober, Some("localhost"), ProtocolVersion::Tls13)
        .await
        .unwrap();
    assert_eq!(full.chain, vec![der]);
    prober.close_warm();
    let warm = prober.warm_report();
    assert!(warm.used >= 3, "{warm:?}");
    // Every connection went through the upgrade, those dialled ahead included (one may
    // still be in it: let it finish).
    assert_eq!(prober.connections_opened(), 10 + warm.dialled - warm.used);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        seen.starttls.load(Ordering::SeqCst),
        prober.connections_opened()
    );
}
