//! The wire codec against real peers.
//!
//! * ClientHellos captured from `openssl s_client` and `gnutls-cli` parse and re-encode byte
//!   for byte (stored vectors under tests/data/wire/, and a fresh capture on every run).
//! * Server flights captured from `openssl s_server` / `gnutls-serv` answering our
//!   `ClientHello::for_probe` hellos parse to the same `ServerFlight` however the bytes are
//!   chunked and however the handshake messages are spread over records.
//!
//! Set `TLSDOCTOR_WRITE_VECTORS=1` to overwrite the stored vectors with this run's captures
//! (see tests/data/wire/README.md).

use crate::common::servers::{self, ServerProcess, self_signed};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tlsdoctor::wire::Codec;
use tlsdoctor::wire::alert::AlertDescription;
use tlsdoctor::wire::flight::{fuzz_one, parse_all};
use tlsdoctor::wire::groups::NamedGroup;
use tlsdoctor::wire::handshake::ServerKeyExchange;
use tlsdoctor::wire::record::{ContentType, Deframer, Record, encode_fragmented};
use tlsdoctor::wire::sigalgs::SignatureScheme;
use tlsdoctor::wire::suites::CipherSuiteId;
use tlsdoctor::wire::{
    AlertLevel, ClientHello, FlightProgress, ProtocolVersion, ServerFlight, ServerFlightParser,
    WireError,
};

fn vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/wire")
}

fn load(name: &str) -> Vec<u8> {
    let text =
        std::fs::read_to_string(vector_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    hex::decode(text.trim()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn maybe_store(name: &str, bytes: &[u8]) {
    if std::env::var_os("TLSDOCTOR_WRITE_VECTORS").is_some() {
        std::fs::write(vector_dir().join(name), hex::encode(bytes) + "\n").unwrap();
    }
}

/// Kills (and reaps) a client process when dropped.
struct ChildGuard(Child);
impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------- client hellos

/// Listen on a free loopback port, start `client` (given the port), and return the first
/// ClientHello it sends (whole records).
fn capture_client_hello(client: impl FnOnce(u16) -> Command) -> Vec<u8> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut cmd = client(port);
    let _guard = ChildGuard(
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start client"),
    );
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut sock = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("client never connected: {e}"),
        }
    };
    sock.set_nonblocking(false).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while Instant::now() < deadline {
        // complete once the records hold a whole handshake message
        if let Some(total) = whole_records_len(&buf) {
            buf.truncate(total);
            return buf;
        }
        match sock.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => continue,
        }
    }
    panic!("no complete ClientHello; got {}", hex::encode(&buf));
}

/// Length of the leading handshake records once they carry one complete handshake message
/// (computed from record and handshake headers only, independent of the code under test).
fn whole_records_len(buf: &[u8]) -> Option<usize> {
    let mut pos = 0;
    let mut payload = Vec::new();
    while buf.len() >= pos + 5 {
        let len = u16::from_be_bytes([buf[pos + 3], buf[pos + 4]]) as usize;
        if buf.len() < pos + 5 + len {
            return None;
        }
        payload.extend_from_slice(&buf[pos + 5..pos + 5 + len]);
        pos += 5 + len;
        if payload.len() >= 4 {
            let hs = u32::from_be_bytes([0, payload[1], payload[2], payload[3]]) as usize;
            if payload.len() >= 4 + hs {
                return Some(pos);
            }
        }
    }
    None
}

fn openssl_s_client(port: u16) -> Command {
    let mut c = Command::new("openssl");
    c.args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-servername",
        "example.test",
    ]);
    c
}

fn gnutls_cli(port: u16) -> Command {
    let mut c = Command::new("gnutls-cli");
    c.args([
        "--insecure",
        "--sni-hostname",
        "example.test",
        "-p",
        &port.to_string(),
        "127.0.0.1",
    ]);
    c
}

fn assert_hello_round_trips(bytes: &[u8], who: &str) -> ClientHello {
    let hello = ClientHello::parse_record(bytes).unwrap_or_else(|e| panic!("{who}: {e}"));
    let record_version = u16::from_be_bytes([bytes[1], bytes[2]]);
    assert_eq!(
        hex::encode(hello.encode_records(record_version)),
        hex::encode(bytes),
        "{who}: re-encoding differs"
    );
    hello
}

#[test]
fn openssl_client_hello_round_trips_byte_identical() {
    let fresh = capture_client_hello(openssl_s_client);
    maybe_store("openssl-s_client-hello.hex", &fresh);
    for (who, bytes) in [
        ("live s_client", fresh),
        ("stored s_client", load("openssl-s_client-hello.hex")),
    ] {
        let h = assert_hello_round_trips(&bytes, who);
        use tlsdoctor::wire::ClientExtension as E;
        assert!(
            h.extensions.contains(&E::ServerName("example.test".into())),
            "{who}"
        );
        assert!(
            h.extensions
                .iter()
                .any(|e| matches!(e, E::SupportedVersions(v) if v.contains(&0x0304))),
            "{who}"
        );
        assert!(
            h.extensions.iter().any(
                |e| matches!(e, E::KeyShare(s) if s.iter().any(|k| k.0 == NamedGroup::X25519 && k.1.len() == 32))
            ),
            "{who}"
        );
        assert!(
            h.cipher_suites.contains(&CipherSuiteId(0x1302)),
            "{who}: TLS_AES_256_GCM_SHA384 offered"
        );
    }
}

#[test]
fn gnutls_client_hello_round_trips_byte_identical() {
    let fresh = capture_client_hello(gnutls_cli);
    maybe_store("gnutls-cli-hello.hex", &fresh);
    for (who, bytes) in [
        ("live gnutls-cli", fresh),
        ("stored gnutls-cli", load("gnutls-cli-hello.hex")),
    ] {
        let h = assert_hello_round_trips(&bytes, who);
        use tlsdoctor::wire::ClientExtension as E;
        assert!(
            h.extensions.contains(&E::ServerName("example.test".into())),
            "{who}"
        );
    }
}

// ---------------------------------------------------------------- server flights

/// Send `hello` to `addr` and return every byte the server sends until it goes quiet for
/// 400 ms after our parser saw a complete flight, closes, or 5 s pass.
fn exchange(addr: SocketAddr, hello: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(hello).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut p = ServerFlightParser::new();
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut done = false;
    while Instant::now() < deadline {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&chunk[..n]);
                done = !matches!(p.feed(&chunk[..n]), Ok(FlightProgress::NeedMore));
            }
            Err(_) if done => break,
            Err(_) => continue,
        }
    }
    out
}

fn probe_bytes(v: ProtocolVersion, suites: &[u16]) -> Vec<u8> {
    let suites: Vec<CipherSuiteId> = suites.iter().map(|&s| CipherSuiteId(s)).collect();
    ClientHello::for_probe(v, Some("localhost"), &suites)
        .encode_records(ClientHello::probe_record_version(v))
}

/// Re-frame the stream: consecutive handshake records are merged and re-split into records
/// of at most `frag` bytes (1 = every byte its own record; 2^14 = everything coalesced).
fn reframe(stream: &[u8], frag: usize) -> Vec<u8> {
    let mut d = Deframer::new();
    d.push(stream).unwrap();
    let mut records: Vec<Record> = Vec::new();
    while let Ok(Some(r)) = d.pop() {
        records.push(r);
    }
    let mut out = Vec::new();
    let mut pending: Option<(u16, Vec<u8>)> = None;
    let flush = |p: &mut Option<(u16, Vec<u8>)>, out: &mut Vec<u8>| {
        if let Some((v, data)) = p.take() {
            for c in data.chunks(frag) {
                encode_fragmented(ContentType::Handshake, v, c, out);
            }
        }
    };
    for r in records {
        if r.typ == ContentType::Handshake {
            pending
                .get_or_insert((r.version, Vec::new()))
                .1
                .extend_from_slice(&r.payload);
        } else {
            flush(&mut pending, &mut out);
            r.encode(&mut out);
        }
    }
    flush(&mut pending, &mut out);
    out.extend_from_slice(d.buffered());
    out
}

/// Parse `stream` whole, byte by byte, in pseudo-random chunks, and re-framed; all must agree.
fn parse_every_way(stream: &[u8], name: &str) -> (Result<FlightProgress, WireError>, ServerFlight) {
    let whole = parse_all(stream);
    let mut p = ServerFlightParser::new();
    let mut last = Ok(FlightProgress::NeedMore);
    for b in stream {
        last = p.feed(std::slice::from_ref(b));
    }
    assert_eq!(
        (last, p.into_flight()),
        whole,
        "{name}: byte-at-a-time differs"
    );
    let mut seed = 0x9e37_79b9_u32;
    for round in 0..50 {
        let mut p = ServerFlightParser::new();
        let mut i = 0;
        let mut last = Ok(FlightProgress::NeedMore);
        while i < stream.len() {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let n = 1 + seed as usize % 300;
            let end = (i + n).min(stream.len());
            last = p.feed(&stream[i..end]);
            i = end;
        }
        assert_eq!(
            (last, p.into_flight()),
            whole,
            "{name}: random split round {round} differs"
        );
    }
    if whole.0.is_ok() {
        for frag in [1, 3, 7, 100, 1 << 14] {
            let re = reframe(stream, frag);
            assert_eq!(parse_all(&re), whole, "{name}: re-framed at {frag} differs");
        }
    }
    for _ in 0..20 {
        fuzz_one(
            &[(seed >> 3) as u8, seed as u8]
                .iter()
                .chain(stream)
                .copied()
                .collect::<Vec<_>>(),
        );
        seed = seed.rotate_left(7) ^ 0x5bd1_e995;
    }
    whole
}

fn cn_of(der: &[u8]) -> String {
    let (_, cert) = x509_parser::parse_x509_certificate(der).expect("certificate DER");
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|c| c.as_str().ok())
        .unwrap_or("")
        .to_string()
}

const TLS12_RSA_SUITES: &[u16] = &[0xc02f, 0xc030, 0x009e, 0x009c, 0x003c, 0x002f, 0x0035];
const TLS12_ECDSA_SUITES: &[u16] = &[0xc02b, 0xc02c, 0xc009, 0xc00a];
const TLS13_SUITES: &[u16] = &[0x1301, 0x1302, 0x1303];

fn check_tls12_rsa(f: &ServerFlight, who: &str) {
    let sh = f.server_hello.as_ref().expect(who);
    assert_eq!(sh.negotiated_version(), ProtocolVersion::Tls12, "{who}");
    assert!(TLS12_RSA_SUITES.contains(&sh.cipher_suite.0), "{who}");
    assert!(
        sh.secure_renegotiation() && sh.extended_master_secret(),
        "{who}"
    );
    let certs = f.certificates.as_ref().expect(who);
    assert_eq!(cn_of(&certs[0]), "localhost", "{who}");
    assert!(
        matches!(
            f.server_key_exchange,
            Some(ServerKeyExchange::Ecdhe {
                curve: NamedGroup::X25519,
                public_len: 32
            })
        ),
        "{who}: {:?}",
        f.server_key_exchange
    );
    assert!(
        f.server_hello_done && f.alert.is_none() && f.encrypted_records == 0,
        "{who}"
    );
}

fn check_tls12_ecdsa_ocsp(f: &ServerFlight, who: &str) {
    let sh = f.server_hello.as_ref().expect(who);
    assert!(TLS12_ECDSA_SUITES.contains(&sh.cipher_suite.0), "{who}");
    assert!(sh.has_extension(5), "{who}: status_request acknowledged");
    let certs = f.certificates.as_ref().expect(who);
    assert_eq!(cn_of(&certs[0]), "localhost", "{who}");
    let ocsp = f.certificate_status.as_ref().expect("CertificateStatus");
    assert_eq!(ocsp[0], 0x30, "{who}: OCSP response is DER");
    assert!(f.server_hello_done, "{who}");
}

fn check_tls12_dhe_certreq(f: &ServerFlight, who: &str) {
    let sh = f.server_hello.as_ref().expect(who);
    assert_eq!(sh.cipher_suite, CipherSuiteId(0x009e), "{who}");
    assert!(
        matches!(&f.server_key_exchange, Some(ServerKeyExchange::Dhe { p_bits: 2048, g, public_len, .. }) if g == &[2] && *public_len > 200),
        "{who}: {:?}",
        f.server_key_exchange
    );
    let cr = f.certificate_request.as_ref().expect("CertificateRequest");
    assert!(cr.sig_algs.contains(&SignatureScheme(0x0804)), "{who}");
    assert_eq!(cr.ca_names.len(), 1, "{who}: the CA given with -CAfile");
    assert!(f.server_hello_done, "{who}");
}

fn check_tls13(f: &ServerFlight, who: &str) {
    let sh = f.server_hello.as_ref().expect(who);
    assert!(!sh.is_hello_retry_request, "{who}");
    assert_eq!(sh.negotiated_version(), ProtocolVersion::Tls13, "{who}");
    assert!(TLS13_SUITES.contains(&sh.cipher_suite.0), "{who}");
    assert_eq!(sh.selected_group(), Some(NamedGroup::X25519), "{who}");
    assert!(
        f.change_cipher_spec && f.encrypted_records >= 1,
        "{who}: {f:?}"
    );
    assert!(
        f.certificates.is_none(),
        "{who}: TLS 1.3 certificates are encrypted"
    );
}

fn check_hrr(f: &ServerFlight, who: &str) {
    let sh = f.server_hello.as_ref().expect(who);
    assert!(sh.is_hello_retry_request, "{who}");
    assert_eq!(
        sh.selected_group(),
        Some(NamedGroup::SECP384R1),
        "{who}: asks for secp384r1"
    );
    assert_eq!(sh.negotiated_version(), ProtocolVersion::Tls13, "{who}");
}

fn check_protocol_alert(f: &ServerFlight, who: &str) {
    assert!(f.server_hello.is_none(), "{who}");
    let a = f.alert.expect(who);
    assert_eq!(a.level, AlertLevel::Fatal, "{who}");
    assert_eq!(a.description, AlertDescription::ProtocolVersion, "{who}");
}

fn check_not_tls(r: &Result<FlightProgress, WireError>, prefix: &[u8], who: &str) {
    match r {
        Err(WireError::NotTls { first_bytes }) => {
            assert!(first_bytes.starts_with(prefix), "{who}: {first_bytes:?}")
        }
        other => panic!("{who}: {other:?}"),
    }
}

/// Run every stored vector through the chunking matrix and the per-vector expectations.
#[test]
fn stored_server_flights_parse_identically_in_any_chunking() {
    let (r, f) = parse_every_way(&load("flight-tls12-rsa.hex"), "tls12-rsa");
    assert_eq!(r, Ok(FlightProgress::Complete));
    check_tls12_rsa(&f, "stored tls12-rsa");
    let (r, f) = parse_every_way(&load("flight-tls12-ecdsa-ocsp.hex"), "tls12-ecdsa-ocsp");
    assert_eq!(r, Ok(FlightProgress::Complete));
    check_tls12_ecdsa_ocsp(&f, "stored ecdsa");
    let (r, f) = parse_every_way(&load("flight-tls12-dhe-certreq.hex"), "tls12-dhe-certreq");
    assert_eq!(r, Ok(FlightProgress::Complete));
    check_tls12_dhe_certreq(&f, "stored dhe");
    let (r, f) = parse_every_way(&load("flight-tls13.hex"), "tls13");
    assert_eq!(r, Ok(FlightProgress::Complete));
    check_tls13(&f, "stored tls13");
    let (r, f) = parse_every_way(&load("flight-tls13-hrr.hex"), "hrr");
    assert_eq!(r, Ok(FlightProgress::Complete));
    check_hrr(&f, "stored hrr");
    let (r, f) = parse_every_way(&load("flight-alert-protocol-version.hex"), "alert");
    assert_eq!(r, Ok(FlightProgress::Complete));
    check_protocol_alert(&f, "stored alert");
    let (r, _) = parse_every_way(&load("flight-http.hex"), "http");
    check_not_tls(&r, b"HTTP/1.1 400", "stored http");
    let (r, _) = parse_every_way(&load("flight-smtp.hex"), "smtp");
    check_not_tls(&r, b"220 ", "stored smtp");
}

/// Truncations of real flights never error and never claim completion too early; every
/// stored vector's prefixes and single-byte mutations go through the fuzz body.
#[test]
fn stored_flights_truncated_and_mutated() {
    let names = [
        "flight-tls12-rsa.hex",
        "flight-tls12-ecdsa-ocsp.hex",
        "flight-tls12-dhe-certreq.hex",
        "flight-tls13.hex",
        "flight-tls13-hrr.hex",
        "flight-alert-protocol-version.hex",
    ];
    let mut state = 0x2545_f491_u32;
    for name in names {
        let v = load(name);
        for n in 0..v.len() {
            let (r, f) = parse_all(&v[..n]);
            if r == Ok(FlightProgress::Complete) {
                // only possible once the completing message is in
                assert!(
                    f.server_hello_done || f.alert.is_some() || f.server_hello.is_some(),
                    "{name} prefix {n}"
                );
            } else {
                assert_eq!(r, Ok(FlightProgress::NeedMore), "{name} prefix {n}");
            }
        }
        for _ in 0..500 {
            let mut m = v.clone();
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let i = state as usize % m.len();
            m[i] ^= (state >> 24) as u8 | 1;
            let mut input = vec![(state >> 8) as u8, (state >> 16) as u8];
            input.extend_from_slice(&m);
            fuzz_one(&input);
        }
    }
}

fn ecdsa_ocsp_server() -> ServerProcess {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| {
        let st = Command::new("openssl")
            .args(args)
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "30",
        "-subj",
        "/CN=tlsdoctor test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "s.key",
        "-out",
        "s.csr",
    ]);
    std::fs::write(d.join("ext.cnf"), "subjectAltName=DNS:localhost\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "s.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        "ext.cnf",
        "-out",
        "s.crt",
    ]);
    let serial = Command::new("openssl")
        .args(["x509", "-in", "s.crt", "-noout", "-serial"])
        .current_dir(d)
        .output()
        .unwrap();
    let serial = String::from_utf8_lossy(&serial.stdout)
        .trim()
        .trim_start_matches("serial=")
        .to_string();
    std::fs::write(
        d.join("index.txt"),
        format!("V\t300101000000Z\t\t{serial}\tunknown\t/CN=localhost\n"),
    )
    .unwrap();
    run(&[
        "ocsp",
        "-index",
        "index.txt",
        "-rsigner",
        "ca.crt",
        "-rkey",
        "ca.key",
        "-CA",
        "ca.crt",
        "-issuer",
        "ca.crt",
        "-cert",
        "s.crt",
        "-respout",
        "resp.der",
        "-ndays",
        "1",
    ]);
    let (cert, key, resp) = (d.join("s.crt"), d.join("s.key"), d.join("resp.der"));
    let resp = resp.display().to_string();
    servers::openssl_s_server_with(&["-tls1_2", "-status_file", &resp], &cert, &key, Some(dir))
}

fn dhe_certreq_server() -> ServerProcess {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path(), "server", "rsa:2048");
    let ca = cert.display().to_string();
    servers::openssl_s_server_with(
        &["-tls1_2", "-verify", "1", "-CAfile", &ca],
        &cert,
        &key,
        Some(dir),
    )
}

/// Capture fresh flights from real servers, check them, and (with TLSDOCTOR_WRITE_VECTORS)
/// store them as the vectors the test above replays.
#[test]
fn live_servers_answer_probe_hellos() {
    let s = servers::openssl_s_server(&["-tls1_2"]);
    let bytes = exchange(
        s.addr(),
        &probe_bytes(ProtocolVersion::Tls12, TLS12_RSA_SUITES),
    );
    maybe_store("flight-tls12-rsa.hex", &bytes);
    check_tls12_rsa(
        &parse_every_way(&bytes, "live tls12-rsa").1,
        "live tls12-rsa",
    );

    let alert_bytes = exchange(
        s.addr(),
        &probe_bytes(ProtocolVersion::Tls10, &[0xc013, 0x002f]),
    );
    maybe_store("flight-alert-protocol-version.hex", &alert_bytes);
    check_protocol_alert(&parse_every_way(&alert_bytes, "live alert").1, "live alert");
    drop(s);

    let s = ecdsa_ocsp_server();
    let bytes = exchange(
        s.addr(),
        &probe_bytes(ProtocolVersion::Tls12, TLS12_ECDSA_SUITES),
    );
    maybe_store("flight-tls12-ecdsa-ocsp.hex", &bytes);
    check_tls12_ecdsa_ocsp(&parse_every_way(&bytes, "live ecdsa").1, "live ecdsa");
    drop(s);

    let s = dhe_certreq_server();
    let bytes = exchange(s.addr(), &probe_bytes(ProtocolVersion::Tls12, &[0x009e]));
    maybe_store("flight-tls12-dhe-certreq.hex", &bytes);
    check_tls12_dhe_certreq(&parse_every_way(&bytes, "live dhe").1, "live dhe");
    drop(s);

    let s = servers::openssl_s_server(&["-tls1_3"]);
    let bytes = exchange(s.addr(), &probe_bytes(ProtocolVersion::Tls13, TLS13_SUITES));
    maybe_store("flight-tls13.hex", &bytes);
    check_tls13(&parse_every_way(&bytes, "live tls13").1, "live tls13");
    drop(s);

    let s = servers::openssl_s_server(&["-tls1_3", "-groups", "secp384r1"]);
    let bytes = exchange(s.addr(), &probe_bytes(ProtocolVersion::Tls13, TLS13_SUITES));
    maybe_store("flight-tls13-hrr.hex", &bytes);
    check_hrr(&parse_every_way(&bytes, "live hrr").1, "live hrr");
    drop(s);

    let http = servers::banner_server(
        b"",
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let bytes = exchange(http, &probe_bytes(ProtocolVersion::Tls12, TLS12_RSA_SUITES));
    maybe_store("flight-http.hex", &bytes);
    check_not_tls(&parse_all(&bytes).0, b"HTTP/1.1 400", "live http");

    let smtp = servers::banner_server(
        b"220 smtp.localhost ESMTP ready\r\n",
        b"500 5.5.1 command unrecognized\r\n",
    );
    let bytes = exchange(smtp, &probe_bytes(ProtocolVersion::Tls12, TLS12_RSA_SUITES));
    maybe_store("flight-smtp.hex", &bytes);
    check_not_tls(&parse_all(&bytes).0, b"220 ", "live smtp");
}

/// gnutls-serv answers a TLS 1.2 DHE probe; its flight goes through the same matrix.
#[test]
fn live_gnutls_server_flight() {
    let s = servers::gnutls_serv("NORMAL:-VERS-ALL:+VERS-TLS1.2", &[]);
    let bytes = exchange(
        s.addr(),
        &probe_bytes(ProtocolVersion::Tls12, TLS12_RSA_SUITES),
    );
    let (r, f) = parse_every_way(&bytes, "gnutls");
    assert_eq!(r, Ok(FlightProgress::Complete), "{}", s.log());
    let sh = f.server_hello.as_ref().unwrap();
    assert_eq!(sh.negotiated_version(), ProtocolVersion::Tls12);
    assert!(TLS12_RSA_SUITES.contains(&sh.cipher_suite.0));
    assert_eq!(cn_of(&f.certificates.unwrap()[0]), "localhost");
    assert!(f.server_hello_done);
}

/// The OpenSSL reason strings in the alert table are exactly what the installed OpenSSL 3
/// prints for each received alert (its error code is SSL_AD_REASON_OFFSET + alert).
#[test]
fn openssl_reason_strings_match_installed_openssl() {
    for &a in AlertDescription::ALL {
        let code = (20u32 << 23) + 1000 + a.to_u8() as u32;
        let out = Command::new("openssl")
            .arg("errstr")
            .arg(format!("{code:X}"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let reason = text.trim().rsplit("::").next().unwrap_or("").to_string();
        match a.openssl_reason() {
            Some(r) => assert_eq!(reason, r, "{}", a.name()),
            None => assert!(
                reason.starts_with("reason("),
                "{}: OpenSSL knows '{reason}'",
                a.name()
            ),
        }
    }
}

/// for_probe hellos for every TLS version are accepted by real servers of two implementations
/// and answered with the version asked for.
#[test]
fn probe_hellos_accepted_for_each_version() {
    for (flag, version, suites) in [
        ("-tls1", ProtocolVersion::Tls10, &[0xc013u16, 0x002f][..]),
        ("-tls1_1", ProtocolVersion::Tls11, &[0xc013, 0x002f][..]),
        ("-tls1_2", ProtocolVersion::Tls12, TLS12_RSA_SUITES),
        ("-tls1_3", ProtocolVersion::Tls13, TLS13_SUITES),
    ] {
        let s = servers::openssl_s_server(&[flag, "-cipher", "ALL:@SECLEVEL=0"]);
        let (r, f) = parse_all(&exchange(s.addr(), &probe_bytes(version, suites)));
        assert_eq!(r, Ok(FlightProgress::Complete), "{flag}: {}", s.log());
        assert_eq!(f.version(), Some(version), "{flag}: {f:?}");
        assert!(f.alert.is_none(), "{flag}: {:?}", f.alert);
    }
    let s = servers::gnutls_serv("NORMAL:+VERS-TLS1.3", &[]);
    let (r, f) = parse_all(&exchange(
        s.addr(),
        &probe_bytes(ProtocolVersion::Tls13, TLS13_SUITES),
    ));
    assert_eq!(r, Ok(FlightProgress::Complete), "{}", s.log());
    assert_eq!(f.version(), Some(ProtocolVersion::Tls13));
    assert_eq!(
        f.server_hello.unwrap().selected_group(),
        Some(NamedGroup::X25519)
    );
}
