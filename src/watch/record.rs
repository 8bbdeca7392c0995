//! What the relay sees of one connection, recorded sans-IO: bytes of each direction are fed
//! as they pass, and only the clear-text handshake is interpreted — the client's hello and
//! alerts, the server's flight (through [`ServerFlightParser`]) and alerts, and the type and
//! size of every record after that. Nothing is decrypted.
//!
//! Memory is bounded whatever the peers send: interpretation stops after
//! [`RECORD_BYTES_CAP`] bytes per direction or once both sides are encrypting and past the
//! handshake, the record log keeps at most [`LOG_CAP`] entries per direction, and the byte
//! counters are plain integers.

use crate::wire::alert::{Alert, AlertLevel};
use crate::wire::codec::Codec;
use crate::wire::handshake::{HandshakeJoiner, HandshakeType};
use crate::wire::record::{ContentType, Deframer};
use crate::wire::{ClientHello, ServerFlight, ServerFlightParser, WireError};
use serde::Serialize;
use std::time::Duration;

/// Bytes per direction that are interpreted; the rest is only counted. A server flight with
/// a long chain is a few tens of KiB.
pub const RECORD_BYTES_CAP: usize = 256 * 1024;
/// Records per direction kept in the log.
pub const LOG_CAP: usize = 64;
/// Encrypted records per direction after which the handshake is surely over and nothing
/// more is logged.
const ENCRYPTED_ENOUGH: usize = 8;

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The application (what connected to the relay).
    Client,
    /// The upstream server.
    Server,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// One record as it passed, in the order of both directions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedRecord {
    /// Position among the records of both directions.
    pub seq: usize,
    pub from: Side,
    /// `handshake`, `alert`, `change_cipher_spec`, `application_data`, `heartbeat`, or the
    /// type number.
    pub content_type: String,
    pub length: usize,
    /// Whether this record was already under encryption (its content cannot be read).
    pub encrypted: bool,
    /// Milliseconds since the connection was accepted.
    pub at_ms: u64,
}

/// How one direction ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "how")]
pub enum Ending {
    /// The peer closed its side (FIN).
    Closed { at_ms: u64 },
    /// The connection was reset or broke (RST, broken pipe).
    Reset { at_ms: u64, error: String },
}

impl Ending {
    pub fn at_ms(&self) -> u64 {
        match self {
            Ending::Closed { at_ms } | Ending::Reset { at_ms, .. } => *at_ms,
        }
    }
}

/// The client's side of the clear-text handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSide {
    /// The ClientHello as the application sent it.
    pub hello: Option<ClientHello>,
    /// The application sent an SSLv2-format hello.
    pub sslv2_hello: bool,
    /// The first bytes, when they are not TLS at all (up to 64).
    pub not_tls: Option<Vec<u8>>,
    /// Alerts sent in clear.
    pub alerts: Vec<Alert>,
    /// The client switched to encryption (its ChangeCipherSpec in TLS ≤ 1.2).
    pub change_cipher_spec: bool,
    /// Clear handshake messages after the hello (Certificate, ClientKeyExchange, …).
    pub handshake: Vec<HandshakeType>,
    /// Certificates in the client's clear Certificate message (TLS ≤ 1.2).
    pub certificates_sent: Option<usize>,
    /// Why interpretation stopped early (malformed or oversized input).
    pub error: Option<String>,
}

/// Everything recorded about one relayed connection.
#[derive(Debug, Clone)]
pub struct Recording {
    pub client: ClientSide,
    client_deframer: Deframer,
    client_joiner: HandshakeJoiner,
    /// The HelloRetryRequest, when the server sent one before its ServerHello.
    pub hello_retry: Option<crate::wire::ServerHello>,
    server_parser: ServerFlightParser,
    /// Why the server's bytes stopped being interpreted early.
    pub server_error: Option<String>,
    /// The server's first bytes, when they are not TLS (up to 64).
    pub server_not_tls: Option<Vec<u8>>,
    pub log: Vec<LoggedRecord>,
    server_deframer: Deframer,
    logged: [usize; 2],
    encrypted: [usize; 2],
    interpreted: [usize; 2],
    pub bytes: [u64; 2],
    pub endings: [Option<Ending>; 2],
    seq: usize,
}

impl Default for Recording {
    fn default() -> Self {
        Self::new()
    }
}

fn idx(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

fn type_name(t: ContentType) -> String {
    match t {
        ContentType::ChangeCipherSpec => "change_cipher_spec".into(),
        ContentType::Alert => "alert".into(),
        ContentType::Handshake => "handshake".into(),
        ContentType::ApplicationData => "application_data".into(),
        ContentType::Heartbeat => "heartbeat".into(),
        ContentType::Unknown(v) => v.to_string(),
    }
}

impl Recording {
    pub fn new() -> Self {
        Recording {
            client: ClientSide::default(),
            client_deframer: Deframer::new(),
            client_joiner: HandshakeJoiner::new(),
            hello_retry: None,
            server_parser: ServerFlightParser::new().with_kx_hint(crate::wire::suites::kx_hint),
            server_error: None,
            server_not_tls: None,
            log: Vec::new(),
            server_deframer: Deframer::new(),
            logged: [0; 2],
            encrypted: [0; 2],
            interpreted: [0; 2],
            bytes: [0; 2],
            endings: [None, None],
            seq: 0,
        }
    }

    /// The server's flight as far as it was seen in clear.
    pub fn server(&self) -> &ServerFlight {
        self.server_parser.flight()
    }

    /// Records of `side` seen under encryption.
    pub fn encrypted_records(&self, side: Side) -> usize {
        self.encrypted[idx(side)]
    }

    /// Both sides are past the handshake: nothing more worth interpreting will come.
    pub fn handshake_over(&self) -> bool {
        self.encrypted.iter().all(|&n| n >= ENCRYPTED_ENOUGH)
    }

    /// Whether the negotiated version is TLS 1.3 (everything after the ServerHello is
    /// encrypted).
    pub fn is_tls13(&self) -> bool {
        self.server().server_hello.as_ref().is_some_and(|sh| {
            !sh.is_hello_retry_request
                && sh.negotiated_version() == crate::wire::ProtocolVersion::Tls13
        })
    }

    /// Record that `side` ended.
    pub fn end(&mut self, side: Side, ending: Ending) {
        let e = &mut self.endings[idx(side)];
        if e.is_none() {
            *e = Some(ending);
        }
    }

    /// Bytes that `side` sent, `elapsed` after the connection was accepted.
    pub fn feed(&mut self, side: Side, bytes: &[u8], elapsed: Duration) {
        let i = idx(side);
        self.bytes[i] = self.bytes[i].saturating_add(bytes.len() as u64);
        let room = RECORD_BYTES_CAP.saturating_sub(self.interpreted[i]);
        if room == 0 || self.handshake_over() {
            return;
        }
        let bytes = &bytes[..bytes.len().min(room)];
        self.interpreted[i] += bytes.len();
        let at_ms = elapsed.as_millis().min(u64::MAX as u128) as u64;
        match side {
            Side::Client => self.feed_client(bytes, at_ms),
            Side::Server => self.feed_server(bytes, at_ms),
        }
    }

    fn log(&mut self, from: Side, typ: ContentType, length: usize, encrypted: bool, at_ms: u64) {
        let i = idx(from);
        self.seq += 1;
        if encrypted {
            self.encrypted[i] += 1;
        }
        if self.logged[i] < LOG_CAP {
            self.logged[i] += 1;
            self.log.push(LoggedRecord {
                seq: self.seq,
                from,
                content_type: type_name(typ),
                length,
                encrypted,
                at_ms,
            });
        }
    }

    fn feed_server(&mut self, bytes: &[u8], at_ms: u64) {
        if self.server_deframer.buffered().is_empty() && self.log_is_empty(Side::Server) {
            // Not TLS (or an SSLv2 answer): the flight parser says what it is.
            if bytes
                .first()
                .is_some_and(|b| !crate::wire::record::is_tls_content_type(*b))
            {
                match self.server_parser.feed(bytes) {
                    Err(WireError::NotTls { first_bytes }) => {
                        self.server_error = Some("the server does not speak TLS".into());
                        self.server_not_tls = Some(first_bytes);
                    }
                    Err(e) => self.server_error = Some(e.to_string()),
                    Ok(_) => {}
                }
                return;
            }
        }
        if self.server_deframer.push(bytes).is_err() {
            self.server_error = Some("more unread record data than a record can hold".into());
            return;
        }
        loop {
            let rec = match self.server_deframer.pop() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    self.server_error.get_or_insert(e.to_string());
                    return;
                }
            };
            let encrypted = self.server_encrypting(&rec.typ);
            if !encrypted {
                self.server_clear_record(&rec);
            }
            self.log(Side::Server, rec.typ, rec.payload.len(), encrypted, at_ms);
        }
    }

    /// Hand a clear server record to the flight parser. After a HelloRetryRequest the
    /// server's second ServerHello starts a new flight: the parser starts over for it.
    fn server_clear_record(&mut self, rec: &crate::wire::record::Record) {
        let after_hrr = self
            .server()
            .server_hello
            .as_ref()
            .is_some_and(|sh| sh.is_hello_retry_request);
        if after_hrr
            && rec.typ == ContentType::Handshake
            && rec.payload.first() == Some(&HandshakeType::ServerHello.to_u8())
        {
            self.hello_retry = self.server().server_hello.clone();
            self.server_parser =
                ServerFlightParser::new().with_kx_hint(crate::wire::suites::kx_hint);
            self.server_error = None;
        }
        if self.server_error.is_none() {
            if let Err(e) = self.server_parser.feed(&rec.to_bytes()) {
                self.server_error = Some(e.to_string());
            }
        }
    }

    fn log_is_empty(&self, side: Side) -> bool {
        self.logged[idx(side)] == 0
    }

    /// Whether a server record of this type, arriving now, is under encryption: everything but
    /// a ChangeCipherSpec or a clear alert once TLS 1.3 is negotiated (the ServerHello is the
    /// last clear handshake record), and everything after the server's own ChangeCipherSpec
    /// in TLS ≤ 1.2.
    fn server_encrypting(&self, typ: &ContentType) -> bool {
        if *typ == ContentType::ChangeCipherSpec {
            return false;
        }
        if self.is_tls13() {
            return *typ != ContentType::Alert;
        }
        self.server().server_hello.is_some()
            && self
                .log
                .iter()
                .any(|r| r.from == Side::Server && r.content_type == "change_cipher_spec")
            && !self.after_hrr_only()
    }

    /// The only ServerHello so far is a HelloRetryRequest (its CCS starts no encryption).
    fn after_hrr_only(&self) -> bool {
        self.server()
            .server_hello
            .as_ref()
            .is_some_and(|sh| sh.is_hello_retry_request)
    }

    /// A TLS ≤ 1.2 ServerHello was seen: the client's ChangeCipherSpec then starts its
    /// encryption (in TLS 1.3 it is only the middlebox-compatibility record).
    fn negotiated_tls12_or_lower(&self) -> bool {
        self.server().server_hello.as_ref().is_some_and(|sh| {
            !sh.is_hello_retry_request
                && sh.negotiated_version() != crate::wire::ProtocolVersion::Tls13
        })
    }

    fn feed_client(&mut self, bytes: &[u8], at_ms: u64) {
        if self.client.error.is_some() || self.client.not_tls.is_some() {
            return;
        }
        if self.log_is_empty(Side::Client)
            && self.client_deframer.buffered().is_empty()
            && bytes.first().is_some_and(|b| b & 0x80 != 0)
        {
            // An SSLv2-format hello (two-byte header with the high bit set).
            self.client.sslv2_hello = true;
            self.client.error = Some("SSLv2-format hello: not interpreted".into());
            return;
        }
        if let Err(e) = self.client_deframer.push(bytes) {
            self.client.error = Some(e.to_string());
            return;
        }
        loop {
            let rec = match self.client_deframer.pop() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(WireError::NotTls { first_bytes }) => {
                    self.client.not_tls = Some(first_bytes);
                    return;
                }
                Err(e) => {
                    self.client.error = Some(e.to_string());
                    return;
                }
            };
            let encrypted = self.client_record(&rec.typ, &rec.payload);
            self.log(Side::Client, rec.typ, rec.payload.len(), encrypted, at_ms);
            if self.client.error.is_some() {
                return;
            }
        }
    }

    /// Interpret one client record; returns whether it was under encryption.
    fn client_record(&mut self, typ: &ContentType, payload: &[u8]) -> bool {
        let after_ccs = self.client.change_cipher_spec && self.negotiated_tls12_or_lower();
        match typ {
            ContentType::ChangeCipherSpec => {
                // In TLS 1.3 this is the middlebox-compatibility CCS; encryption starts anyway.
                self.client.change_cipher_spec = true;
                false
            }
            ContentType::Alert if !after_ccs && payload.len() == 2 => {
                if let Ok(a) = Alert::from_bytes(payload) {
                    if self.client.alerts.len() < 8 {
                        self.client.alerts.push(a);
                    }
                }
                false
            }
            ContentType::Alert => true,
            ContentType::Handshake if after_ccs => true,
            ContentType::Handshake => {
                if self.client.hello.is_some() && self.is_tls13() {
                    // A TLS 1.3 client sends no clear handshake message after its hello.
                    return true;
                }
                if let Err(e) = self.client_handshake(payload) {
                    self.client.error = Some(e.to_string());
                }
                false
            }
            ContentType::ApplicationData => true,
            ContentType::Heartbeat | ContentType::Unknown(_) => after_ccs || self.is_tls13(),
        }
    }

    fn client_handshake(&mut self, payload: &[u8]) -> Result<(), WireError> {
        self.client_joiner.push(payload)?;
        while let Some(m) = self.client_joiner.pop()? {
            match m.typ {
                HandshakeType::ClientHello if self.client.hello.is_none() => {
                    self.client.hello = Some(m.read::<ClientHello>()?);
                }
                HandshakeType::Certificate => {
                    self.client.certificates_sent = Some(
                        m.read::<crate::wire::handshake::CertificateList>()
                            .map(|l| l.0.len())
                            .unwrap_or(0),
                    );
                    self.push_handshake(m.typ);
                }
                t => self.push_handshake(t),
            }
        }
        Ok(())
    }

    fn push_handshake(&mut self, t: HandshakeType) {
        if self.client.handshake.len() < 16 {
            self.client.handshake.push(t);
        }
    }

    /// The last record `side` sent, if it was logged.
    pub fn last_record(&self, side: Side) -> Option<&LoggedRecord> {
        self.log.iter().rev().find(|r| r.from == side)
    }

    /// A fatal clear alert from the client, else its first clear alert.
    pub fn client_alert(&self) -> Option<Alert> {
        self.client
            .alerts
            .iter()
            .find(|a| a.level == AlertLevel::Fatal)
            .or(self.client.alerts.first())
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::alert::AlertDescription;
    use crate::wire::record::Record;

    fn rec(typ: ContentType, payload: &[u8]) -> Vec<u8> {
        Record {
            typ,
            version: 0x0303,
            payload: payload.to_vec(),
        }
        .to_bytes()
    }

    fn hello() -> Vec<u8> {
        crate::scan::versions::probe_hello(crate::wire::ProtocolVersion::Tls13, Some("db.test"))
    }

    #[test]
    fn hello_and_server_alert_in_any_split() {
        let c = hello();
        let s = rec(ContentType::Alert, &[2, 70]);
        for split in [1, 5, 7, c.len() / 2, c.len()] {
            let mut r = Recording::new();
            r.feed(Side::Client, &c[..split], Duration::ZERO);
            r.feed(Side::Client, &c[split..], Duration::ZERO);
            r.feed(Side::Server, &s, Duration::from_millis(3));
            let h = r.client.hello.as_ref().expect("hello");
            assert!(!h.cipher_suites.is_empty());
            assert_eq!(
                r.server().alert.map(|a| a.description),
                Some(AlertDescription::ProtocolVersion)
            );
            assert_eq!(r.bytes, [c.len() as u64, s.len() as u64]);
            assert_eq!(r.log.len(), 2);
        }
    }

    #[test]
    fn not_tls_and_garbage_are_bounded() {
        let mut r = Recording::new();
        r.feed(Side::Client, b"GET / HTTP/1.1\r\n", Duration::ZERO);
        assert!(r.client.not_tls.as_ref().unwrap().starts_with(b"GET"));
        let mut r = Recording::new();
        let junk = vec![0x17u8; 100_000];
        for _ in 0..20 {
            r.feed(Side::Server, &junk, Duration::ZERO);
            r.feed(Side::Client, &junk, Duration::ZERO);
        }
        assert_eq!(r.bytes, [2_000_000, 2_000_000]);
        assert!(r.log.len() <= 2 * LOG_CAP);
        assert!(r.interpreted.iter().all(|&n| n <= RECORD_BYTES_CAP));
    }

    #[test]
    fn client_alert_in_clear_and_encrypted_after_ccs() {
        let mut r = Recording::new();
        r.feed(Side::Client, &hello(), Duration::ZERO);
        r.feed(
            Side::Client,
            &rec(ContentType::Alert, &[2, 48]),
            Duration::ZERO,
        );
        assert_eq!(
            r.client_alert().map(|a| a.description),
            Some(AlertDescription::UnknownCa)
        );
        let mut r = Recording::new();
        r.feed(Side::Client, &hello(), Duration::ZERO);
        r.feed(
            Side::Client,
            &rec(ContentType::ChangeCipherSpec, &[1]),
            Duration::ZERO,
        );
        r.feed(
            Side::Client,
            &rec(ContentType::Alert, &[9; 26]),
            Duration::ZERO,
        );
        assert!(r.client_alert().is_none());
        assert!(r.last_record(Side::Client).unwrap().encrypted);
    }
}
