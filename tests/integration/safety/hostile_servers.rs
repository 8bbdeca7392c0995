//! The hostile-server suite (issue 14): in-process servers on 127.0.0.1 that misbehave right
//! after the ClientHello or at a later step of the handshake, some of them in front of a real
//! `openssl s_server` so that only part of a scan meets the misbehaviour. Every case runs the
//! real tlsdoctor binary and asserts three things: the outcome it reports, that it ended
//! within its time bound, and that its peak resident memory (the child's own `ru_maxrss`,
//! from `wait4`) stayed under [`PEAK_RSS_LIMIT_KIB`].
//!
//! The memory bound: whatever a server sends, tlsdoctor buffers at most 512 KiB of one
//! probe's first flight (`probe::MAX_FLIGHT_BYTES`), one handshake message of 256 KiB
//! (`wire::handshake::MAX_HANDSHAKE_MESSAGE`) and 4 records of unread data, and rustls at most
//! one 64 KiB handshake message, for at most `--max-connections` connections at a time:
//! about 8 MiB above what tlsdoctor needs anyway. The suite holds it to 64 MiB of peak RSS
//! (`PEAK_RSS_LIMIT_KIB`); measured, the cases peak at 17–23 MiB (debug build), as a plain
//! scan of a healthy server does (`peak_rss_of_a_plain_scan_for_comparison`).

use crate::common::cli::{MeasuredRun, tlsdoctor_measured};
use crate::common::servers::openssl_s_server;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tlsdoctor::wire::codec::Codec;
use tlsdoctor::wire::extension::ClientExtension;
use tlsdoctor::wire::groups::NamedGroup;
use tlsdoctor::wire::handshake::{HRR_RANDOM, ServerHello};
use tlsdoctor::wire::suites::CipherSuiteId;
use tlsdoctor::wire::{ClientHello, ServerExtension};

/// Peak RSS tlsdoctor may reach against any hostile server of this suite.
pub const PEAK_RSS_LIMIT_KIB: u64 = 64 * 1024;

/// The per-probe timeout every case runs with.
const TIMEOUT: u64 = 2;

// ---------------------------------------------------------------------------------------
// Servers

/// One accepted connection and the ClientHello it opened with (if it parses).
struct Peer {
    stream: TcpStream,
    /// The first record as received.
    first: Vec<u8>,
    hello: Option<ClientHello>,
}

impl Peer {
    fn send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }
}

/// A server on 127.0.0.1 that hands every connection, after reading its first record, to
/// `behave` on a thread of its own. Stops accepting when dropped.
struct Hostile {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Hostile {
    fn start(behave: impl Fn(Peer) + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let behave = Arc::new(behave);
        let stopping = stop.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                let behave = behave.clone();
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
                    let _ = stream.set_write_timeout(Some(Duration::from_secs(20)));
                    let first = read_record(&mut stream).unwrap_or_default();
                    let hello = ClientHello::parse_record(&first).ok();
                    behave(Peer {
                        stream,
                        first,
                        hello,
                    });
                });
            }
        });
        Hostile { addr, stop }
    }

    fn target(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// One whole TLS record (header included), or None on EOF, error or a record over 64 KiB.
fn read_record(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = [0u8; 5];
    s.read_exact(&mut head).ok()?;
    let len = u16::from_be_bytes([head[3], head[4]]) as usize;
    let mut rec = head.to_vec();
    rec.resize(5 + len, 0);
    s.read_exact(&mut rec[5..]).ok()?;
    Some(rec)
}

/// A server in front of `upstream` (a real TLS server) that passes each connection through,
/// except that `divert` may take a connection over once its ClientHello is known (returning
/// true when it did). `shape` rewrites each chunk of the upstream's answer before it goes to
/// the client (identity: pass it on).
fn proxy(
    upstream: SocketAddr,
    divert: impl Fn(&mut Peer) -> bool + Send + Sync + 'static,
    shape: fn(&mut ShapeState, &[u8]) -> Vec<u8>,
) -> Hostile {
    Hostile::start(move |mut peer| {
        if divert(&mut peer) {
            return;
        }
        let Ok(mut up) = TcpStream::connect(upstream) else {
            return;
        };
        let _ = up.write_all(&peer.first);
        let (mut down_r, mut up_w) = (peer.stream.try_clone().unwrap(), up.try_clone().unwrap());
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut down_r, &mut up_w);
            let _ = up_w.shutdown(std::net::Shutdown::Write);
        });
        let mut state = ShapeState::default();
        let mut buf = [0u8; 16384];
        let _ = up.set_read_timeout(Some(Duration::from_secs(20)));
        loop {
            let n = match up.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let out = shape(&mut state, &buf[..n]);
            if peer.stream.write_all(&out).is_err() {
                break;
            }
        }
        let _ = peer.stream.shutdown(std::net::Shutdown::Write);
    })
}

/// What a shaping proxy remembers across chunks: bytes of an incomplete record, and whether
/// the server has started encrypting (after which records pass unchanged).
#[derive(Default)]
struct ShapeState {
    pending: Vec<u8>,
    encrypted: bool,
}

fn pass(_: &mut ShapeState, chunk: &[u8]) -> Vec<u8> {
    chunk.to_vec()
}

/// Every cleartext handshake record re-sent as records of one byte each (RFC 5246 §6.2.1
/// allows a handshake message to be fragmented over any number of records).
fn one_byte_records(st: &mut ShapeState, chunk: &[u8]) -> Vec<u8> {
    st.pending.extend_from_slice(chunk);
    let mut out = Vec::new();
    while st.pending.len() >= 5 {
        let len = u16::from_be_bytes([st.pending[3], st.pending[4]]) as usize;
        if st.pending.len() < 5 + len {
            break;
        }
        let rec: Vec<u8> = st.pending.drain(..5 + len).collect();
        if rec[0] != 22 || st.encrypted {
            st.encrypted |= rec[0] == 20 || rec[0] == 23;
            out.extend_from_slice(&rec);
            continue;
        }
        for b in &rec[5..] {
            out.extend_from_slice(&[22, rec[1], rec[2], 0, 1, *b]);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Server messages

fn record(typ: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() <= 0xffff);
    let mut r = vec![typ, 3, 3];
    r.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    r.extend_from_slice(payload);
    r
}

/// `data` in handshake records of at most 2^14 bytes each.
fn handshake_records(data: &[u8]) -> Vec<u8> {
    data.chunks(1 << 14).flat_map(|c| record(22, c)).collect()
}

/// A handshake message: type, 24-bit length (`claimed`, or the body's), body.
fn handshake(typ: u8, claimed: Option<u32>, body: &[u8]) -> Vec<u8> {
    let len = claimed.unwrap_or(body.len() as u32);
    let mut m = vec![typ];
    m.extend_from_slice(&len.to_be_bytes()[1..]);
    m.extend_from_slice(body);
    m
}

fn offers_tls13(h: &ClientHello) -> bool {
    h.extensions
        .iter()
        .any(|e| matches!(e, ClientExtension::SupportedVersions(v) if v.contains(&0x0304)))
}

/// The first suite the hello offers for TLS 1.2 and below (no SCSV, no TLS 1.3 suite).
fn legacy_suite(h: &ClientHello) -> Option<CipherSuiteId> {
    h.cipher_suites
        .iter()
        .copied()
        .find(|s| s.0 >> 8 != 0x13 && s.0 != 0x00ff && s.0 != 0x5600 && s.0 & 0x0f0f != 0x0a0a)
}

fn server_hello(
    h: &ClientHello,
    version: u16,
    suite: CipherSuiteId,
    ext: Vec<ServerExtension>,
) -> Vec<u8> {
    let sh = ServerHello {
        legacy_version: version,
        random: [0x42; 32],
        session_id: h.session_id.clone(),
        cipher_suite: suite,
        compression: 0,
        extensions: ext,
        is_hello_retry_request: false,
    };
    handshake(2, None, &sh.to_bytes())
}

fn hello_retry_request(h: &ClientHello) -> Vec<u8> {
    let suite = h
        .cipher_suites
        .iter()
        .copied()
        .find(|s| s.0 >> 8 == 0x13)
        .unwrap_or(CipherSuiteId(0x1301));
    let hrr = ServerHello {
        legacy_version: 0x0303,
        random: HRR_RANDOM,
        session_id: h.session_id.clone(),
        cipher_suite: suite,
        compression: 0,
        extensions: vec![
            ServerExtension::SupportedVersions(0x0304),
            ServerExtension::KeyShareHrr(NamedGroup::SECP384R1),
        ],
        is_hello_retry_request: true,
    };
    handshake(2, None, &hrr.to_bytes())
}

/// A believable first step: a TLS 1.2 (or the hello's lower version) ServerHello for a suite
/// it offered, in one record. None when the hello offers nothing below TLS 1.3.
fn plausible_server_hello(h: &ClientHello) -> Option<Vec<u8>> {
    let suite = legacy_suite(h)?;
    let version = h.legacy_version.min(0x0303);
    Some(record(22, &server_hello(h, version, suite, Vec::new())))
}

/// A small real certificate (DER), made once.
fn small_cert() -> Vec<u8> {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}

/// A certificate message (TLS 1.2 form) carrying `certs`.
fn certificate_message(certs: &[Vec<u8>]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in certs {
        list.extend_from_slice(&(c.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(c);
    }
    let mut body = (list.len() as u32).to_be_bytes()[1..].to_vec();
    body.extend_from_slice(&list);
    handshake(11, None, &body)
}

/// Answer with the plausible ServerHello, then `later` (whole records) in 64 KiB writes.
fn after_server_hello(later: Vec<u8>) -> impl Fn(Peer) + Send + Sync + 'static {
    let later = Arc::new(later);
    move |mut p: Peer| {
        let Some(sh) = p.hello.as_ref().and_then(plausible_server_hello) else {
            return;
        };
        if !p.send(&sh) {
            return;
        }
        for chunk in later.chunks(64 * 1024) {
            if !p.send(chunk) {
                return;
            }
        }
        std::thread::sleep(Duration::from_secs(3));
    }
}

// ---------------------------------------------------------------------------------------
// Running tlsdoctor against them

/// Run tlsdoctor, then assert: no panic, the exit code, `want` in its output, the time bound
/// and the memory bound. Prints the measurements (`--nocapture` shows them).
fn assert_case(name: &str, args: &[&str], code: i32, want: &str, within: Duration) -> MeasuredRun {
    let mut full: Vec<&str> = args.to_vec();
    let t = TIMEOUT.to_string();
    full.extend(["--timeout", &t]);
    assert_run(name, &full, code, want, within)
}

/// [`assert_case`] with the arguments as given (no `--timeout` added).
fn assert_run(name: &str, args: &[&str], code: i32, want: &str, within: Duration) -> MeasuredRun {
    let m = tlsdoctor_measured(args, within + Duration::from_secs(30));
    let r = &m.run;
    let all = format!("{}\n{}", r.stdout, r.stderr);
    println!(
        "hostile case {name}: exit {} in {:.2}s, peak RSS {} KiB",
        r.code,
        r.elapsed.as_secs_f64(),
        m.peak_rss_kib
    );
    assert!(!all.contains("panicked"), "{name}: {all}");
    assert_eq!(r.code, code, "{name}: {all}");
    assert!(all.contains(want), "{name}: want {want:?} in:\n{all}");
    assert!(
        r.elapsed <= within,
        "{name}: took {:?} (bound {within:?})",
        r.elapsed
    );
    assert!(
        m.peak_rss_kib <= PEAK_RSS_LIMIT_KIB,
        "{name}: peak RSS {} KiB over the bound of {PEAK_RSS_LIMIT_KIB} KiB",
        m.peak_rss_kib
    );
    m
}

/// The bound for a run that ends after the versions stage: every version probe at once,
/// each cut at the timeout, plus a second for start-up and the report.
fn one_stage() -> Duration {
    Duration::from_secs(2 * TIMEOUT + 1)
}

/// The documented bound on any run without `--deadline`:
/// `timeout × (2 + ⌈256 / max_connections⌉)`.
fn documented_bound(max_connections: u64) -> Duration {
    Duration::from_secs(TIMEOUT * (2 + 256u64.div_ceil(max_connections)))
}

/// The version probe's outcome kind for `version` (`TLSv1.2`) in a scan's JSON.
fn outcome_of(json: &serde_json::Value, version: &str) -> String {
    json["servers"][0]["protocols"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == version))
        .map(|p| {
            p["outcome"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default()
}

fn accepted(json: &serde_json::Value, version: &str) -> bool {
    json["servers"][0]["protocols"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == version))
        .is_some_and(|p| p["accepted"] == true)
}

// ---------------------------------------------------------------------------------------
// Right after the ClientHello

#[test]
fn closes_at_once() {
    let s = Hostile::start(drop);
    assert_case(
        "close",
        &["scan", &s.target()],
        2,
        "without answering",
        one_stage(),
    );
}

#[test]
fn resets_at_once() {
    let s = Hostile::start(|p| {
        use std::os::fd::AsRawFd;
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid socket and a valid linger value of the right size.
        unsafe {
            libc::setsockopt(
                p.stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                &linger as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    });
    assert_case(
        "reset",
        &["scan", &s.target()],
        2,
        "reset the connection",
        one_stage(),
    );
}

#[test]
fn answers_garbage() {
    let s = Hostile::start(|mut p| {
        let mut x = 0x2545_f491_u32;
        let junk: Vec<u8> = (0..100_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x as u8) | 0x80
            })
            .collect();
        p.send(&junk);
    });
    assert_case(
        "garbage",
        &["scan", &s.target()],
        2,
        "does not speak TLS",
        one_stage(),
    );
}

#[test]
fn answers_an_http_banner() {
    let s = Hostile::start(|mut p| {
        p.send(b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n");
    });
    assert_case("http", &["scan", &s.target()], 2, "HTTP", one_stage());
    let m = assert_case(
        "http/check",
        &["check", &s.target()],
        1,
        "not-tls",
        one_stage(),
    );
    assert!(m.run.stdout.contains("HTTP"), "{}", m.run.stdout);
}

#[test]
fn answers_an_ssh_banner() {
    let s = Hostile::start(|mut p| {
        p.send(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n");
        std::thread::sleep(Duration::from_secs(3));
    });
    assert_case("ssh", &["scan", &s.target()], 2, "SSH", one_stage());
}

#[test]
fn never_answers() {
    let s = Hostile::start(|mut p| {
        let mut sink = [0u8; 1024];
        while matches!(p.stream.read(&mut sink), Ok(n) if n > 0) {}
    });
    assert_case(
        "silent",
        &["scan", &s.target()],
        2,
        "no answer before the timeout",
        one_stage(),
    );
}

#[test]
fn trickles_one_byte_per_second() {
    let trickle = |mut p: Peer| {
        let Some(sh) = p.hello.as_ref().and_then(plausible_server_hello) else {
            return;
        };
        for b in sh {
            if !p.send(&[b]) {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    };
    let s = Hostile::start(trickle);
    assert_case(
        "trickle/scan",
        &["scan", &s.target()],
        2,
        "before the timeout",
        one_stage(),
    );
    // `check` adds full handshakes, the chain fetch and a plaintext probe: still the bound.
    assert_case(
        "trickle/check",
        &["check", &s.target()],
        1,
        "before the timeout",
        documented_bound(10),
    );
}

#[test]
fn record_length_at_the_maximum_then_16_mib() {
    // A record header announcing 65535 bytes, then 16 MiB of them.
    let s = Hostile::start(|mut p| {
        if !p.send(&[22, 3, 3, 0xff, 0xff]) {
            return;
        }
        let chunk = vec![0u8; 1 << 16];
        for _ in 0..256 {
            if !p.send(&chunk) {
                return;
            }
        }
    });
    assert_case(
        "record-16MiB",
        &["scan", &s.target()],
        2,
        "record payload too large",
        one_stage(),
    );
}

// ---------------------------------------------------------------------------------------
// At a later step: after a ServerHello for what the client offered

#[test]
fn handshake_length_2_24_minus_1_then_16_mib_of_records() {
    let mut later = handshake(11, Some(0xff_ffff), &[]);
    later.resize(16 << 20, 0x30);
    let s = Hostile::start(after_server_hello(handshake_records(&later)));
    assert_case(
        "handshake-2^24-1",
        &["scan", &s.target()],
        2,
        "handshake message too large",
        one_stage(),
    );
    // `check` turns it into a finding (exit 1) whose evidence names the cause.
    assert_case(
        "handshake-2^24-1/check",
        &["check", &s.target()],
        1,
        "too large",
        documented_bound(10),
    );
}

#[test]
fn a_chain_of_thousands_of_certificates() {
    let cert = small_cert();
    let chain: Vec<Vec<u8>> = std::iter::repeat_n(cert, 3000).collect();
    let s = Hostile::start(after_server_hello(handshake_records(&certificate_message(
        &chain,
    ))));
    assert_case(
        "chain-3000",
        &["scan", &s.target()],
        2,
        "handshake message too large",
        one_stage(),
    );
}

#[test]
fn one_enormous_certificate() {
    // One "certificate" of 1 MiB: a real one with a huge unknown extension would be no
    // different to the parsers, which refuse the message by its length first.
    let mut cert = small_cert();
    cert.resize(1 << 20, 0);
    let s = Hostile::start(after_server_hello(handshake_records(&certificate_message(
        &[cert],
    ))));
    assert_case(
        "cert-1MiB",
        &["scan", &s.target()],
        2,
        "handshake message too large",
        one_stage(),
    );
}

#[test]
fn a_certificate_with_10000_sans() {
    let key = rcgen::KeyPair::generate().unwrap();
    let names: Vec<String> = (0..10_000).map(|i| format!("h{i}.t")).collect();
    let cert = rcgen::CertificateParams::new(names)
        .unwrap()
        .self_signed(&key)
        .unwrap()
        .der()
        .to_vec();
    let mut later = handshake_records(&certificate_message(&[cert]));
    later.extend(record(22, &handshake(14, None, &[])));
    let s = Hostile::start(after_server_hello(later));
    // The flight is within the raw parser's limits: the version is accepted, and the scan
    // goes on to meet the same certificate in every later probe.
    let m = assert_case(
        "sans-10000",
        &["scan", &s.target(), "--json"],
        0,
        "\"protocols\"",
        documented_bound(10),
    );
    assert!(accepted(&m.run.json(), "TLSv1.2"), "{}", m.run.stdout);
}

#[test]
fn every_record_split_into_one_byte_fragments() {
    let real = openssl_s_server(&[]);
    let s = proxy(real.addr(), |_| false, one_byte_records);
    let m = assert_case(
        "1-byte-records",
        &["scan", &s.target(), "--json"],
        0,
        "\"protocols\"",
        documented_bound(10),
    );
    let j = m.run.json();
    assert!(
        accepted(&j, "TLSv1.2") && accepted(&j, "TLSv1.3"),
        "{}",
        m.run.stdout
    );
    assert!(
        j["servers"][0]["certificate_chain"]["certificates"][0]["subject"]
            .as_str()
            .is_some_and(|s| s.contains("localhost")),
        "the chain came through the fragments too: {}",
        m.run.stdout
    );
    drop(real);
}

#[test]
fn hello_retry_request_forever() {
    let s = Hostile::start(|mut p| {
        // Every ClientHello on the connection (the first and each retry) gets another HRR.
        let mut hello = p.hello.take();
        while let Some(h) = hello {
            if !p.send(&record(22, &hello_retry_request(&h))) {
                return;
            }
            hello = loop {
                match read_record(&mut p.stream) {
                    None => break None,
                    Some(r) if r[0] == 20 => continue, // the compatibility CCS
                    Some(r) => break ClientHello::parse_record(&r).ok(),
                }
            };
        }
    });
    let m = assert_case(
        "hrr-forever",
        &["scan", &s.target(), "--json"],
        2,
        "second HelloRetryRequest",
        one_stage(),
    );
    assert!(
        !m.run.stderr.contains("TLSv1.3: HelloRetryRequest"),
        "{}",
        m.run.stderr
    );
    // `check`'s rustls handshakes meet the same server: still a violation, never support.
    let m = assert_case(
        "hrr-forever/check",
        &["check", &s.target()],
        1,
        "second HelloRetryRequest",
        documented_bound(10),
    );
    assert!(
        !m.run.stdout.contains("TLSv1.3: HelloRetryRequest"),
        "{}",
        m.run.stdout
    );
}

#[test]
fn hello_retry_request_forever_only_for_tls13_the_rest_of_the_scan_goes_on() {
    let real = openssl_s_server(&["-no_tls1_3"]);
    let s = proxy(
        real.addr(),
        |p| {
            let Some(h) = p.hello.take() else { return true };
            if !offers_tls13(&h) {
                p.hello = Some(h);
                return false;
            }
            let mut next = Some(h);
            while let Some(h) = next {
                if !p.send(&record(22, &hello_retry_request(&h))) {
                    return true;
                }
                next = loop {
                    match read_record(&mut p.stream) {
                        None => break None,
                        Some(r) if r[0] == 20 => continue,
                        Some(r) => break ClientHello::parse_record(&r).ok(),
                    }
                };
            }
            true
        },
        pass,
    );
    let m = assert_case(
        "hrr-tls13-only",
        &["scan", &s.target(), "--json"],
        0,
        "\"protocols\"",
        documented_bound(10),
    );
    let j = m.run.json();
    assert!(accepted(&j, "TLSv1.2"), "{}", m.run.stdout);
    assert!(!accepted(&j, "TLSv1.3"), "{}", m.run.stdout);
    assert_eq!(
        outcome_of(&j, "TLSv1.3"),
        "protocol_violation",
        "{}",
        m.run.stdout
    );
    drop(real);
}

#[test]
fn server_hello_for_a_suite_never_offered() {
    let s = Hostile::start(|mut p| {
        let Some(h) = p.hello.take() else { return };
        let version = h.legacy_version.min(0x0303);
        p.send(&record(
            22,
            &server_hello(&h, version, CipherSuiteId(0x1337), Vec::new()),
        ));
        std::thread::sleep(Duration::from_secs(3));
    });
    let m = assert_case(
        "suite-not-offered",
        &["scan", &s.target()],
        2,
        "did not offer",
        one_stage(),
    );
    assert!(
        m.run.stderr.contains("protocol violation"),
        "{}",
        m.run.stderr
    );
}

#[test]
fn server_hello_for_tls12_with_a_tls13_suite() {
    // The suite was offered, but in a TLS 1.3 hello: a TLS 1.2 ServerHello cannot choose it.
    let s = Hostile::start(|mut p| {
        let Some(h) = p.hello.take() else { return };
        let Some(suite) = h.cipher_suites.iter().copied().find(|s| s.0 >> 8 == 0x13) else {
            return;
        };
        p.send(&record(22, &server_hello(&h, 0x0303, suite, Vec::new())));
        std::thread::sleep(Duration::from_secs(3));
    });
    let m = assert_case(
        "tls13-suite-in-tls12",
        &["scan", &s.target()],
        2,
        "protocol violation",
        one_stage(),
    );
    assert!(
        m.run.stderr.contains("does not exist in that version"),
        "{}",
        m.run.stderr
    );
}

#[test]
fn server_hello_for_a_version_never_offered() {
    let s = Hostile::start(|mut p| {
        let Some(h) = p.hello.take() else { return };
        let Some(suite) = legacy_suite(&h).or(h.cipher_suites.first().copied()) else {
            return;
        };
        // One above the highest version the hello offered.
        let version = if offers_tls13(&h) {
            0x0305
        } else {
            h.legacy_version + 1
        };
        p.send(&record(22, &server_hello(&h, version, suite, Vec::new())));
        std::thread::sleep(Duration::from_secs(3));
    });
    let m = assert_case(
        "version-not-offered",
        &["scan", &s.target()],
        2,
        "protocol violation",
        one_stage(),
    );
    assert!(
        m.run.stderr.contains("above the highest version offered"),
        "{}",
        m.run.stderr
    );
}

#[test]
fn an_alert_then_data() {
    let s = Hostile::start(|mut p| {
        let mut out = record(21, &[2, 40]);
        for _ in 0..64 {
            out.extend(record(23, &[0x17; 16384]));
        }
        p.send(&out);
    });
    assert_case(
        "alert-then-data",
        &["scan", &s.target()],
        2,
        "handshake_failure",
        one_stage(),
    );
}

// ---------------------------------------------------------------------------------------
// Part of the scan meets a hostile server; the rest goes on

#[test]
fn trickling_for_old_versions_only_the_rest_of_the_scan_goes_on() {
    let real = openssl_s_server(&[]);
    let s = proxy(
        real.addr(),
        |p| {
            let old = p
                .hello
                .as_ref()
                .is_some_and(|h| h.legacy_version < 0x0303 && !offers_tls13(h));
            if old {
                for b in [22u8, 3, 1, 0, 40] {
                    if !p.send(&[b]) {
                        break;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
            old
        },
        pass,
    );
    let m = assert_case(
        "trickle-old",
        &["scan", &s.target(), "--json"],
        0,
        "\"protocols\"",
        documented_bound(10),
    );
    let j = m.run.json();
    assert!(
        accepted(&j, "TLSv1.2") && accepted(&j, "TLSv1.3"),
        "{}",
        m.run.stdout
    );
    assert_eq!(outcome_of(&j, "TLSv1.0"), "timeout", "{}", m.run.stdout);
    drop(real);
}

/// What a plain scan of a healthy server costs, for the bound's headroom (printed).
#[test]
fn peak_rss_of_a_plain_scan_for_comparison() {
    let real = openssl_s_server(&[]);
    let m = assert_case(
        "plain",
        &["scan", &real.target()],
        0,
        "TLSv1.2",
        documented_bound(10),
    );
    assert!(m.peak_rss_kib > 0);
}

// ---------------------------------------------------------------------------------------
// The whole run's deadline

/// A server that answers every hello offering a suite below TLS 1.3 with a ServerHello for
/// it, a certificate and ServerHelloDone, 1.5 s late: each probe takes that long, within
/// the timeout, and the suite enumeration (one probe per accepted suite, in turn) would take
/// minutes: only the run's deadline keeps the scan short.
fn slow_server() -> Hostile {
    let cert = small_cert();
    let mut rest = handshake_records(&certificate_message(&[cert]));
    rest.extend(record(22, &handshake(14, None, &[])));
    Hostile::start(move |mut p| {
        let Some(sh) = p.hello.as_ref().and_then(plausible_server_hello) else {
            return;
        };
        std::thread::sleep(Duration::from_millis(1500));
        let _ = p.send(&sh) && p.send(&rest);
        std::thread::sleep(Duration::from_secs(1));
    })
}

#[test]
fn a_deadline_cuts_a_slow_scan_and_keeps_what_was_learned() {
    let s = slow_server();
    let deadline = Duration::from_secs(6);
    let m = assert_run(
        "deadline/scan",
        &[
            "scan",
            &s.target(),
            "--json",
            "--timeout",
            "4",
            "--deadline",
            "6",
        ],
        3,
        "the results are partial",
        deadline + Duration::from_secs(2),
    );
    let j = m.run.json();
    assert_eq!(j["partial"], true, "{}", m.run.stdout);
    assert!(
        accepted(&j, "TLSv1.2"),
        "learned before the deadline: {}",
        m.run.stdout
    );
    assert!(m.run.stderr.contains("deadline (6.0s)"), "{}", m.run.stderr);
    let m = assert_run(
        "deadline/check",
        &[
            "check",
            &s.target(),
            "--json",
            "--timeout",
            "4",
            "--deadline",
            "6",
        ],
        3,
        "the results are partial",
        deadline + Duration::from_secs(2),
    );
    let j = m.run.json();
    assert_eq!(j["partial"], true, "{}", m.run.stdout);
    assert!(j["diagnoses"][0]["findings"].is_array(), "{}", m.run.stdout);
}

#[test]
fn a_deadline_shorter_than_the_timeout_cuts_a_trickling_server() {
    let s = Hostile::start(|mut p| {
        let Some(sh) = p.hello.as_ref().and_then(plausible_server_hello) else {
            return;
        };
        for b in sh {
            if !p.send(&[b]) {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let target = s.target();
    let args = ["scan", &target, "--deadline", "2", "--timeout", "5"];
    let m = tlsdoctor_measured(&args, Duration::from_secs(30));
    println!(
        "hostile case deadline/trickle: exit {} in {:.2}s, peak RSS {} KiB",
        m.run.code,
        m.run.elapsed.as_secs_f64(),
        m.peak_rss_kib
    );
    assert_eq!(m.run.code, 3, "{}", m.run.stderr);
    assert!(
        m.run
            .stderr
            .contains("before any protocol version was confirmed"),
        "{}",
        m.run.stderr
    );
    assert!(
        m.run.elapsed < Duration::from_secs(4),
        "{:?}",
        m.run.elapsed
    );
    assert!(m.peak_rss_kib <= PEAK_RSS_LIMIT_KIB);
}

#[test]
fn without_a_deadline_the_documented_default_caps_a_slow_scan() {
    // Every suite of every version is "accepted", each answer 1.5 s late: the enumeration
    // alone would take many minutes. The default deadline, T × (2 + ⌈256 / C⌉) with T = 2 s
    // and C = 64 connections, is 12 s.
    let s = slow_server();
    let bound = Duration::from_secs(TIMEOUT * (2 + 256u64.div_ceil(64)));
    let m = assert_case(
        "default-deadline/scan",
        &["scan", &s.target(), "--json", "--max-connections", "64"],
        3,
        "deadline (12.0s)",
        bound + Duration::from_secs(2),
    );
    assert!(
        m.run.elapsed >= bound - Duration::from_millis(500),
        "{:?}",
        m.run.elapsed
    );
    let j = m.run.json();
    assert_eq!(j["partial"], true);
    assert!(accepted(&j, "TLSv1.2"), "{}", m.run.stdout);
}
