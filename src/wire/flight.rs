//! The server's first flight, parsed incrementally: the prober's main entry point.
//!
//! Feed whatever bytes arrive; the parser tells when it has seen enough to stop reading
//! (`Complete`). Records and handshake messages may be split or coalesced arbitrarily; the
//! result only depends on the byte stream, never on how it was chunked.

use super::WireError;
use super::alert::{Alert, AlertDescription, AlertLevel};
use super::codec::{Codec, Reader};
use super::handshake::{
    CertificateList, CertificateRequest, CertificateStatus, HandshakeJoiner, HandshakeMessage,
    HandshakeType, KxHint, PreTls12CertificateRequest, ServerHello, ServerKeyExchange,
};
use super::record::{ContentType, Deframer, Record, is_tls_content_type};
use super::sslv2::{self, Sslv2Message};
use super::suites::CipherSuiteId;
use super::version::ProtocolVersion;

/// Everything the server said before we stop listening. Serialisable (peer bytes as hex),
/// so a recorded flight can be judged again without the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServerFlight {
    pub server_hello: Option<ServerHello>,
    #[serde(with = "crate::serde_hex")]
    pub certificates: Option<Vec<Vec<u8>>>,
    #[serde(with = "crate::serde_hex")]
    pub certificate_status: Option<Vec<u8>>,
    pub server_key_exchange: Option<ServerKeyExchange>,
    pub certificate_request: Option<CertificateRequest>,
    pub server_hello_done: bool,
    /// The decisive alert: the first fatal one, else the latest warning.
    pub alert: Option<Alert>,
    pub change_cipher_spec: bool,
    /// Records after the point where the server started encrypting (TLS 1.3 ServerHello, or
    /// a TLS <= 1.2 ChangeCipherSpec).
    pub encrypted_records: usize,
    pub sslv2: Option<sslv2::Sslv2ServerHello>,
    /// SSLv2 ERROR code, when the server answered an SSLv2 hello with an error.
    pub sslv2_error: Option<u16>,
    /// Types of cleartext handshake messages we do not interpret (e.g. HelloRequest,
    /// NewSessionTicket), in arrival order.
    pub other_handshake: Vec<HandshakeType>,
}

impl ServerFlight {
    /// The negotiated version, if a (non-HRR or HRR) ServerHello or SSLv2 hello arrived.
    pub fn version(&self) -> Option<ProtocolVersion> {
        if self.sslv2.is_some() {
            return Some(ProtocolVersion::Ssl2);
        }
        self.server_hello.as_ref().map(|h| h.negotiated_version())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlightProgress {
    NeedMore,
    Complete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// Nothing decided yet: holds the first bytes until we know TLS vs SSLv2 vs other.
    Start(Vec<u8>),
    Tls,
    Sslv2(Vec<u8>),
}

/// Incremental parser for a server's answer to one ClientHello.
#[derive(Debug, Clone)]
pub struct ServerFlightParser {
    mode: Mode,
    deframer: Deframer,
    joiner: HandshakeJoiner,
    flight: ServerFlight,
    complete: bool,
    /// Set once the server switched to encrypted records.
    encrypted: bool,
    failed: Option<WireError>,
    kx_hint: Option<fn(CipherSuiteId) -> KxHint>,
}

impl Default for ServerFlightParser {
    fn default() -> Self {
        Self::new()
    }
}

const FEED_CHUNK: usize = 16 * 1024;

impl ServerFlightParser {
    /// Expects TLS records; also recognises an SSLv2 SERVER-HELLO or ERROR.
    pub fn new() -> Self {
        ServerFlightParser {
            mode: Mode::Start(Vec::new()),
            deframer: Deframer::new(),
            joiner: HandshakeJoiner::new(),
            flight: ServerFlight::default(),
            complete: false,
            encrypted: false,
            failed: None,
            kx_hint: None,
        }
    }

    /// Tell the parser how to map the negotiated suite to its key exchange, so the
    /// ServerKeyExchange is decoded without guessing (the suite registry lives elsewhere).
    pub fn with_kx_hint(mut self, f: fn(CipherSuiteId) -> KxHint) -> Self {
        self.kx_hint = Some(f);
        self
    }

    pub fn flight(&self) -> &ServerFlight {
        &self.flight
    }

    pub fn into_flight(self) -> ServerFlight {
        self.flight
    }

    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Feed the next bytes from the peer. After an error every later call returns the same
    /// error — except `NotTls`, whose evidence keeps growing (up to 64 bytes) as bytes arrive.
    /// Bytes fed after `Complete` are still parsed (to count encrypted records).
    pub fn feed(&mut self, bytes: &[u8]) -> Result<FlightProgress, WireError> {
        if let Some(e) = &mut self.failed {
            if let WireError::NotTls { first_bytes } = e {
                let room = 64usize.saturating_sub(first_bytes.len());
                first_bytes.extend_from_slice(&bytes[..bytes.len().min(room)]);
            }
            return Err(e.clone());
        }
        match self.feed_inner(bytes) {
            Ok(()) => Ok(if self.complete {
                FlightProgress::Complete
            } else {
                FlightProgress::NeedMore
            }),
            Err(e) => {
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }

    fn feed_inner(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        match &mut self.mode {
            Mode::Start(head) => {
                head.extend_from_slice(bytes);
                let head = std::mem::take(head);
                let Some(&first) = head.first() else {
                    self.mode = Mode::Start(head);
                    return Ok(());
                };
                if is_tls_content_type(first) {
                    self.mode = Mode::Tls;
                    self.feed_tls(&head)
                } else if first & 0x80 != 0 {
                    match sslv2::is_sslv2_record_start(&head) {
                        None => {
                            self.mode = Mode::Start(head);
                            Ok(())
                        }
                        Some(true) => {
                            self.mode = Mode::Sslv2(Vec::new());
                            self.feed_sslv2(&head)
                        }
                        Some(false) => Err(not_tls(&head)),
                    }
                } else {
                    Err(not_tls(&head))
                }
            }
            Mode::Tls => self.feed_tls(bytes),
            Mode::Sslv2(_) => self.feed_sslv2(bytes),
        }
    }

    fn feed_sslv2(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        let Mode::Sslv2(buf) = &mut self.mode else {
            return Ok(());
        };
        if self.complete {
            return Ok(());
        }
        let need = sslv2::record_len(buf).or_else(|| {
            let mut t = buf.clone();
            t.extend_from_slice(&bytes[..bytes.len().min(2)]);
            sslv2::record_len(&t)
        });
        let want = need.unwrap_or(2).saturating_sub(buf.len());
        buf.extend_from_slice(&bytes[..bytes.len().min(want)]);
        if let Some(n) = sslv2::record_len(buf)
            && buf.len() >= n
        {
            match Sslv2Message::decode(&mut Reader::new(&buf[..n]))? {
                Sslv2Message::ServerHello(h) => self.flight.sslv2 = Some(h),
                Sslv2Message::Error(code) => self.flight.sslv2_error = Some(code),
            }
            self.complete = true;
        }
        Ok(())
    }

    fn feed_tls(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        for chunk in bytes.chunks(FEED_CHUNK) {
            self.deframer.push(chunk)?;
            while let Some(rec) = self.deframer.pop()? {
                self.on_record(rec)?;
            }
        }
        Ok(())
    }

    fn on_record(&mut self, rec: Record) -> Result<(), WireError> {
        if self.encrypted {
            match rec.typ {
                ContentType::ChangeCipherSpec => self.flight.change_cipher_spec = true,
                _ => self.flight.encrypted_records += 1,
            }
            return Ok(());
        }
        if rec.typ != ContentType::Handshake && self.joiner.is_partial() {
            return Err(WireError::Malformed(format!(
                "record of type {} inside a fragmented handshake message",
                rec.typ.to_u8()
            )));
        }
        match rec.typ {
            ContentType::Handshake => {
                self.joiner.push(&rec.payload)?;
                while let Some(m) = self.joiner.pop()? {
                    self.on_handshake(&m)?;
                    if self.encrypted {
                        // TLS 1.3: whatever follows the ServerHello in this record is not ours
                        // to read in clear; the server never coalesces it, so stop here.
                        break;
                    }
                }
            }
            ContentType::Alert => {
                if rec.payload.is_empty() || rec.payload.len() % 2 != 0 {
                    return Err(WireError::Malformed(format!(
                        "alert record of {} bytes",
                        rec.payload.len()
                    )));
                }
                for pair in rec.payload.chunks(2) {
                    let a = Alert::from_bytes(pair)?;
                    let decisive = !matches!(
                        self.flight.alert,
                        Some(Alert {
                            level: AlertLevel::Fatal,
                            ..
                        })
                    );
                    if decisive {
                        self.flight.alert = Some(a);
                    }
                    let final_alert = a.level != AlertLevel::Warning
                        || a.description == AlertDescription::CloseNotify;
                    if final_alert {
                        self.complete = true;
                    }
                }
            }
            ContentType::ChangeCipherSpec => {
                if rec.payload != [1] {
                    return Err(WireError::Malformed(
                        "ChangeCipherSpec payload is not [1]".into(),
                    ));
                }
                self.flight.change_cipher_spec = true;
                if self.flight.server_hello.is_some() {
                    // abbreviated (resumed) handshake, or the TLS 1.3 compatibility CCS after
                    // a HelloRetryRequest: either way the rest is encrypted or not for us.
                    self.encrypted = true;
                    self.complete = true;
                }
            }
            ContentType::ApplicationData => {
                return Err(WireError::Malformed(
                    "application data before the handshake finished".into(),
                ));
            }
            ContentType::Heartbeat => {}
            ContentType::Unknown(t) => {
                return Err(WireError::Malformed(format!(
                    "record of unknown content type {t}"
                )));
            }
        }
        Ok(())
    }

    fn on_handshake(&mut self, m: &HandshakeMessage) -> Result<(), WireError> {
        if is_flight_message(m.typ) && self.flight.server_hello.is_none() {
            return Err(WireError::Malformed(format!(
                "{} before ServerHello",
                m.typ.name()
            )));
        }
        match m.typ {
            HandshakeType::ServerHello => {
                if self.flight.server_hello.is_some() {
                    return Err(WireError::Malformed("second ServerHello".into()));
                }
                let sh = m.read::<ServerHello>()?;
                let tls13 = sh.negotiated_version() == ProtocolVersion::Tls13;
                if sh.is_hello_retry_request {
                    self.complete = true;
                } else if tls13 {
                    self.complete = true;
                    self.encrypted = true;
                }
                self.flight.server_hello = Some(sh);
            }
            HandshakeType::Certificate => {
                self.flight.certificates = Some(m.read::<CertificateList>()?.0);
            }
            HandshakeType::CertificateStatus => {
                self.flight.certificate_status = Some(m.read::<CertificateStatus>()?.0);
            }
            HandshakeType::ServerKeyExchange => {
                let suite = self
                    .flight
                    .server_hello
                    .as_ref()
                    .map(|h| h.cipher_suite)
                    .unwrap_or(CipherSuiteId(0));
                let hint = self.kx_hint.map(|f| f(suite)).unwrap_or(KxHint::Unknown);
                self.flight.server_key_exchange = Some(ServerKeyExchange::interpret(&m.body, hint));
            }
            HandshakeType::CertificateRequest => {
                let request = if self.flight.version() == Some(ProtocolVersion::Tls12) {
                    m.read::<CertificateRequest>()?
                } else {
                    m.read::<PreTls12CertificateRequest>()?.0
                };
                self.flight.certificate_request = Some(request);
            }
            HandshakeType::ServerHelloDone => {
                if !m.body.is_empty() {
                    return Err(WireError::Malformed("ServerHelloDone with a body".into()));
                }
                self.flight.server_hello_done = true;
                self.complete = true;
            }
            other => {
                if self.flight.other_handshake.len() < 64 {
                    self.flight.other_handshake.push(other);
                }
            }
        }
        Ok(())
    }
}

/// The messages of a server's first flight that only make sense after its ServerHello.
fn is_flight_message(t: HandshakeType) -> bool {
    matches!(
        t,
        HandshakeType::Certificate
            | HandshakeType::CertificateStatus
            | HandshakeType::ServerKeyExchange
            | HandshakeType::CertificateRequest
            | HandshakeType::ServerHelloDone
    )
}

fn not_tls(head: &[u8]) -> WireError {
    WireError::NotTls {
        first_bytes: head.iter().take(64).copied().collect(),
    }
}

/// Parse `data` completely in one call; convenience for tests and offline analysis.
pub fn parse_all(data: &[u8]) -> (Result<FlightProgress, WireError>, ServerFlight) {
    let mut p = ServerFlightParser::new();
    let r = p.feed(data);
    (r, p.into_flight())
}

/// Body of the `server_flight` fuzz target. The first two bytes choose a chunking; the rest
/// is fed in those chunks, and the outcome must equal feeding everything at once. Panics only
/// if the parser's result depends on chunking (or if parsing itself panics).
pub fn fuzz_one(data: &[u8]) {
    let (seed, stream) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]) as u32 | 1, rest),
        _ => (1, data),
    };
    let whole = parse_all(stream);
    let mut p = ServerFlightParser::new();
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    let mut i = 0;
    let mut last = Ok(FlightProgress::NeedMore);
    while i < stream.len() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = 1 + (state as usize % 97);
        let end = (i + n).min(stream.len());
        last = p.feed(&stream[i..end]);
        i = end;
    }
    if stream.is_empty() {
        last = p.feed(&[]);
    }
    assert_eq!(
        last, whole.0,
        "chunked result differs from whole-buffer result"
    );
    assert_eq!(
        p.flight(),
        &whole.1,
        "chunked flight differs from whole-buffer flight"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::alert::AlertDescription as D;
    use crate::wire::extension::ServerExtension;
    use crate::wire::groups::NamedGroup;
    use crate::wire::handshake::HRR_RANDOM;
    use crate::wire::record::encode_fragmented;
    use crate::wire::sslv2::Sslv2ServerHello;

    fn encode_handshake(typ: HandshakeType, body: &[u8], out: &mut Vec<u8>) {
        HandshakeMessage {
            typ,
            body: body.to_vec(),
        }
        .encode(out);
    }

    fn sh(version: u16, exts: Vec<ServerExtension>, random: [u8; 32]) -> Vec<u8> {
        let h = ServerHello {
            legacy_version: version,
            random,
            session_id: vec![1; 32],
            cipher_suite: CipherSuiteId(0xc02f),
            compression: 0,
            extensions: exts,
            is_hello_retry_request: random == HRR_RANDOM,
        };
        let mut m = Vec::new();
        HandshakeMessage::of(&h).encode(&mut m);
        m
    }

    fn records(typ: ContentType, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_fragmented(typ, 0x0303, payload, &mut out);
        out
    }

    fn tls12_flight() -> Vec<u8> {
        let mut hs = sh(
            0x0303,
            vec![ServerExtension::RenegotiationInfo(vec![])],
            [5; 32],
        );
        HandshakeMessage::of(&CertificateList(vec![vec![0x30, 0, 1]])).encode(&mut hs);
        encode_handshake(HandshakeType::ServerHelloDone, &[], &mut hs);
        records(ContentType::Handshake, &hs)
    }

    #[test]
    fn synthetic_tls12_flight() {
        let (r, f) = parse_all(&tls12_flight());
        assert_eq!(r, Ok(FlightProgress::Complete));
        assert_eq!(f.version(), Some(ProtocolVersion::Tls12));
        assert_eq!(f.certificates, Some(vec![vec![0x30, 0, 1]]));
        assert!(f.server_hello_done);
        // anything short of the last byte is not complete and not an error
        let b = tls12_flight();
        assert_eq!(parse_all(&b[..b.len() - 1]).0, Ok(FlightProgress::NeedMore));
    }

    #[test]
    fn warning_alert_before_hello_is_not_final() {
        let mut b = records(ContentType::Alert, &[1, 112]);
        let (r, f) = parse_all(&b);
        assert_eq!(r, Ok(FlightProgress::NeedMore));
        assert_eq!(f.alert.unwrap().description, D::UnrecognizedName);
        b.extend_from_slice(&tls12_flight());
        let (r, f) = parse_all(&b);
        assert_eq!(r, Ok(FlightProgress::Complete));
        assert!(f.server_hello_done);
        // a fatal alert ends it, and stays the decisive alert over later warnings
        let mut b = records(ContentType::Alert, &[2, 40]);
        b.extend_from_slice(&records(ContentType::Alert, &[1, 0]));
        let (r, f) = parse_all(&b);
        assert_eq!(r, Ok(FlightProgress::Complete));
        assert_eq!(f.alert, Some(Alert::fatal(D::HandshakeFailure)));
        // close_notify warning is final too
        assert_eq!(
            parse_all(&records(ContentType::Alert, &[1, 0])).0,
            Ok(FlightProgress::Complete)
        );
    }

    #[test]
    fn resumption_ccs_and_tls13_count_encrypted_records() {
        let mut b = records(ContentType::Handshake, &sh(0x0303, vec![], [5; 32]));
        b.extend_from_slice(&records(ContentType::ChangeCipherSpec, &[1]));
        b.extend_from_slice(&records(ContentType::Handshake, &[0xaa; 40]));
        let (r, f) = parse_all(&b);
        assert_eq!(r, Ok(FlightProgress::Complete));
        assert!(f.change_cipher_spec);
        assert_eq!(f.encrypted_records, 1);

        let mut b = records(
            ContentType::Handshake,
            &sh(
                0x0303,
                vec![
                    ServerExtension::SupportedVersions(0x0304),
                    ServerExtension::KeyShare {
                        group: NamedGroup::X25519,
                        key_exchange: vec![2; 32],
                    },
                ],
                [5; 32],
            ),
        );
        b.extend_from_slice(&records(ContentType::ChangeCipherSpec, &[1]));
        for _ in 0..3 {
            b.extend_from_slice(&records(ContentType::ApplicationData, &[9; 50]));
        }
        let (r, f) = parse_all(&b);
        assert_eq!(r, Ok(FlightProgress::Complete));
        assert_eq!(f.version(), Some(ProtocolVersion::Tls13));
        assert_eq!(f.encrypted_records, 3);
    }

    #[test]
    fn hello_retry_request_completes() {
        let b = records(
            ContentType::Handshake,
            &sh(
                0x0303,
                vec![
                    ServerExtension::SupportedVersions(0x0304),
                    ServerExtension::KeyShareHrr(NamedGroup::SECP384R1),
                ],
                HRR_RANDOM,
            ),
        );
        let (r, f) = parse_all(&b);
        assert_eq!(r, Ok(FlightProgress::Complete));
        assert!(f.server_hello.as_ref().unwrap().is_hello_retry_request);
        assert_eq!(
            f.server_hello.unwrap().selected_group(),
            Some(NamedGroup::SECP384R1)
        );
    }

    #[test]
    fn sslv2_answers() {
        let h = Sslv2ServerHello {
            session_id_hit: false,
            certificate: vec![0x30, 1, 2],
            cipher_specs: vec![0x010080],
            version: 2,
            connection_id: vec![7; 16],
        };
        let bytes = Sslv2Message::ServerHello(h.clone()).to_bytes();
        for cut in 0..bytes.len() {
            let mut p = ServerFlightParser::new();
            assert_eq!(p.feed(&bytes[..cut]), Ok(FlightProgress::NeedMore));
            assert_eq!(p.feed(&bytes[cut..]), Ok(FlightProgress::Complete));
            assert_eq!(p.flight().sslv2.as_ref(), Some(&h));
            assert_eq!(p.flight().version(), Some(ProtocolVersion::Ssl2));
        }
        let (r, f) = parse_all(&[0x80, 3, 0, 0, 1]);
        assert_eq!(r, Ok(FlightProgress::Complete));
        assert_eq!(f.sslv2_error, Some(1));
        assert!(matches!(
            parse_all(&[0x80, 3, 9]).0,
            Err(WireError::NotTls { .. })
        ));
    }

    #[test]
    fn protocol_violations_are_errors() {
        // Certificate before ServerHello
        let hs = HandshakeMessage::of(&CertificateList(vec![vec![1]])).to_bytes();
        assert!(matches!(
            parse_all(&records(ContentType::Handshake, &hs)).0,
            Err(WireError::Malformed(_))
        ));
        // alert in the middle of a fragmented handshake message
        let f = tls12_flight();
        let mut b = f[..20].to_vec();
        b[3..5].copy_from_slice(&15u16.to_be_bytes());
        b.extend_from_slice(&records(ContentType::Alert, &[2, 40]));
        assert!(matches!(parse_all(&b).0, Err(WireError::Malformed(_))));
        // application data before any handshake, odd alert, bad CCS, unknown type later
        assert!(
            parse_all(&records(ContentType::ApplicationData, &[1]))
                .0
                .is_err()
        );
        assert!(parse_all(&records(ContentType::Alert, &[2])).0.is_err());
        assert!(
            parse_all(&records(ContentType::ChangeCipherSpec, &[2]))
                .0
                .is_err()
        );
        let mut b = records(ContentType::Alert, &[1, 112]);
        b.extend_from_slice(&[0x30, 3, 3, 0, 0]);
        assert!(matches!(parse_all(&b).0, Err(WireError::Malformed(_))));
        // two ServerHellos
        let mut hs = sh(0x0303, vec![], [5; 32]);
        hs.extend_from_slice(&sh(0x0303, vec![], [5; 32]));
        assert!(parse_all(&records(ContentType::Handshake, &hs)).0.is_err());
        // a huge declared handshake length
        assert_eq!(
            parse_all(&records(ContentType::Handshake, &[2, 0x7f, 0xff, 0xff])).0,
            Err(WireError::TooLarge("handshake message"))
        );
    }

    #[test]
    fn errors_are_sticky_and_not_tls_evidence_grows() {
        let mut p = ServerFlightParser::new();
        let e = p.feed(b"H").unwrap_err();
        assert_eq!(
            e,
            WireError::NotTls {
                first_bytes: b"H".to_vec()
            }
        );
        let e = p.feed(b"TTP/1.1 400 Bad Request").unwrap_err();
        assert_eq!(
            e,
            WireError::NotTls {
                first_bytes: b"HTTP/1.1 400 Bad Request".to_vec()
            }
        );
        p.feed(&[b'x'; 100]).unwrap_err();
        match p.feed(b"").unwrap_err() {
            WireError::NotTls { first_bytes } => assert_eq!(first_bytes.len(), 64),
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("HTTP/1.1 400"));
    }

    #[test]
    fn empty_feeds_need_more() {
        let mut p = ServerFlightParser::new();
        assert_eq!(p.feed(&[]), Ok(FlightProgress::NeedMore));
        assert_eq!(p.feed(&[0x16]), Ok(FlightProgress::NeedMore));
        assert_eq!(p.feed(&[]), Ok(FlightProgress::NeedMore));
        assert!(!p.is_complete());
    }

    /// The fuzz target body on thousands of deterministic pseudo-random inputs, biased toward
    /// TLS-looking bytes so the deeper parsers are reached.
    #[test]
    fn fuzz_body_on_pseudo_random_inputs() {
        let mut s = 0x853c_49e6_748f_ea9b_u64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let base = tls12_flight();
        for i in 0..4000 {
            let len = (next() % 600) as usize;
            let mut data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            match i % 4 {
                0 => {}
                1 => {
                    // plausible record headers with random bodies
                    if data.len() > 7 {
                        data[2] = 0x16;
                        data[3] = 3;
                        data[4] = 3;
                    }
                }
                2 => {
                    // mutated valid flight
                    data = base.clone();
                    for _ in 0..1 + next() % 4 {
                        let j = (next() as usize) % data.len();
                        data[j] = next() as u8;
                    }
                    data.splice(0..0, [next() as u8, next() as u8]);
                }
                _ => {
                    // SSLv2-looking
                    if data.len() > 5 {
                        data[2] = 0x80;
                        data[4] = 4;
                    }
                }
            }
            fuzz_one(&data);
            crate::wire::client_hello::fuzz_parse(&data);
        }
    }
}
