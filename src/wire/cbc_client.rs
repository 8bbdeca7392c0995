//! A TLS 1.0–1.2 client handshake with an AES-CBC suite, written out by hand and sans-IO
//! (bytes in, typed progress out), for the POODLE-on-TLS probe: no TLS library sends a
//! Finished whose MAC is right but whose padding bytes are wrong, so this one can.
//!
//! It speaks RSA key exchange (the premaster encrypted with the certificate's key, as
//! [`super::rsa_premaster`] lays it out) and ECDHE over X25519, P-256 and P-384, with
//! HMAC-SHA1 or HMAC-SHA256 and AES-128 or AES-256, the extended master secret when the
//! server agrees to it, and an empty Certificate when the server asks for one. It does not
//! authenticate the server (the ServerKeyExchange signature and the certificate are not
//! checked): the probe learns how the server treats a record, never a secret worth
//! protecting. Every byte from the server is bounded by the record and handshake parsers.

use super::cbc::{CipherState, Padding, RecordMac, key_block};
use super::client_hello::ClientHello;
use super::codec::Codec;
use super::extension::ClientExtension;
use super::groups::NamedGroup;
use super::handshake::{CertificateList, HandshakeJoiner, HandshakeMessage, HandshakeType};
use super::prf::{self, TLS10};
use super::record::{ContentType, Deframer, encode_fragmented};
use super::rsa_premaster::{Layout, block, encrypt, premaster_of, rsa_key};
use super::suites::CipherSuiteId;
use super::{Alert, ProtocolVersion, ServerHello, WireError};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
use ring::rand::SystemRandom;

/// How the premaster secret is agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kx {
    Rsa,
    Ecdhe,
}

/// A CBC suite this client can complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CbcSuite {
    pub id: CipherSuiteId,
    pub kx: Kx,
    pub mac: RecordMac,
    pub key_len: usize,
}

const fn suite(id: u16, kx: Kx, mac: RecordMac, key_len: usize) -> CbcSuite {
    CbcSuite {
        id: CipherSuiteId(id),
        kx,
        mac,
        key_len,
    }
}

/// Every suite this client speaks, ECDHE first (what most servers prefer).
pub const SUITES: [CbcSuite; 12] = [
    suite(0xc013, Kx::Ecdhe, RecordMac::Sha1, 16),
    suite(0xc014, Kx::Ecdhe, RecordMac::Sha1, 32),
    suite(0xc027, Kx::Ecdhe, RecordMac::Sha256, 16),
    suite(0xc009, Kx::Ecdhe, RecordMac::Sha1, 16),
    suite(0xc00a, Kx::Ecdhe, RecordMac::Sha1, 32),
    suite(0xc023, Kx::Ecdhe, RecordMac::Sha256, 16),
    suite(0x002f, Kx::Rsa, RecordMac::Sha1, 16),
    suite(0x0035, Kx::Rsa, RecordMac::Sha1, 32),
    suite(0x003c, Kx::Rsa, RecordMac::Sha256, 16),
    suite(0x003d, Kx::Rsa, RecordMac::Sha256, 32),
    // The ECDHE SHA-384 suites use the SHA-384 PRF, which this client does not have; the
    // SHA-256 MAC suites of ECDHE with AES-256 do not exist.
    suite(0xc028, Kx::Ecdhe, RecordMac::Sha256, 0),
    suite(0xc024, Kx::Ecdhe, RecordMac::Sha256, 0),
];

/// The suite with this id, if this client can complete it.
pub fn speakable(id: CipherSuiteId) -> Option<CbcSuite> {
    SUITES.iter().copied().find(|s| s.id == id && s.key_len > 0)
}

/// The groups offered for ECDHE, each one this client can compute with.
const GROUPS: [NamedGroup; 3] = [
    NamedGroup::X25519,
    NamedGroup::SECP256R1,
    NamedGroup::SECP384R1,
];

/// Ceiling on the server's whole first flight kept for the transcript.
const MAX_TRANSCRIPT: usize = 512 * 1024;

/// Where the handshake stands after the bytes fed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// More bytes are needed.
    NeedMore,
    /// The server's first flight is complete (ServerHelloDone): send [`CbcHandshake::client_flight`].
    FlightDone,
    /// The server sent its ChangeCipherSpec and a Finished under the new keys; `verified`
    /// says whether its verify_data is the one our keys predict.
    ServerFinished { verified: bool },
    /// An alert, in clear (before the server's ChangeCipherSpec) or decrypted after it.
    Alert { alert: Alert, encrypted: bool },
    /// After its ChangeCipherSpec, a record that did not decrypt under the agreed keys.
    Undecryptable,
}

/// Why the handshake cannot go on on our side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unspeakable {
    #[error("the server chose suite {0}, which this probe cannot complete")]
    Suite(CipherSuiteId),
    #[error("the server chose version 0x{0:04x}, which this probe did not offer")]
    Version(u16),
    #[error("the server's certificate has no RSA key to encrypt a premaster with")]
    NoRsaKey,
    #[error("the server's ECDHE key exchange is not on a curve this probe offered")]
    Curve,
    #[error("the server's key exchange did not compute")]
    KeyExchange,
    #[error("the server's flight is incomplete")]
    Incomplete,
    #[error("{0}")]
    Wire(#[from] WireError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    ServerFlight,
    AwaitClientFlight,
    AwaitServerCcs,
    AwaitServerFinished,
    Done,
}

/// The client side of one handshake.
pub struct CbcHandshake {
    offered: u16,
    client_random: [u8; 32],
    phase: Phase,
    deframer: Deframer,
    joiner: HandshakeJoiner,
    /// Every handshake message so far, as sent: what Finished is computed over.
    transcript: Vec<u8>,
    server_hello: Option<ServerHello>,
    suite: Option<CbcSuite>,
    leaf: Option<Vec<u8>>,
    /// The server's ECDHE (curve, public point).
    ecdhe: Option<(NamedGroup, Vec<u8>)>,
    certificate_requested: bool,
    master: Vec<u8>,
    read: Option<CipherState>,
    /// The client's record protection after its Finished, and that Finished's verify_data:
    /// what [`CbcHandshake::established`] hands on.
    write: Option<CipherState>,
    client_verify: Vec<u8>,
}

/// A completed handshake's state for a probe that goes on talking on the connection
/// (client-initiated renegotiation): each direction's record protection as it stands for
/// the next record, the client's Finished verify_data and whether the server agreed to
/// RFC 5746 secure renegotiation.
pub struct Established {
    pub write: CipherState,
    pub read: CipherState,
    pub client_verify_data: Vec<u8>,
    pub secure_renegotiation: bool,
}

impl CbcHandshake {
    /// A handshake offering `suites` (those of [`SUITES`] this client speaks; others are
    /// dropped) at `version` (TLS 1.0–1.2), and its ClientHello record.
    pub fn start(
        version: ProtocolVersion,
        sni: Option<&str>,
        suites: &[CipherSuiteId],
    ) -> (CbcHandshake, Vec<u8>) {
        let offer: Vec<CipherSuiteId> = suites
            .iter()
            .copied()
            .filter(|s| speakable(*s).is_some())
            .collect();
        let mut hello = ClientHello::for_probe(version, sni, &offer);
        // No session ticket or OCSP staple: fewer messages to read, nothing else changes.
        hello.extensions.retain(|e| {
            !matches!(
                e,
                ClientExtension::SessionTicket(_)
                    | ClientExtension::StatusRequest
                    | ClientExtension::Padding(_)
            )
        });
        for e in hello.extensions.iter_mut() {
            if let ClientExtension::SupportedGroups(g) = e {
                *g = GROUPS.to_vec();
            }
        }
        let bytes = hello.encode_records(ClientHello::probe_record_version(version));
        let handshake = CbcHandshake {
            offered: hello.legacy_version,
            client_random: hello.random,
            phase: Phase::ServerFlight,
            deframer: Deframer::new(),
            joiner: HandshakeJoiner::new(),
            transcript: hello.encode_handshake(),
            server_hello: None,
            suite: None,
            leaf: None,
            ecdhe: None,
            certificate_requested: false,
            master: Vec::new(),
            read: None,
            write: None,
            client_verify: Vec::new(),
        };
        (handshake, bytes)
    }

    /// The suite the server chose, once its ServerHello is in.
    pub fn suite(&self) -> Option<CbcSuite> {
        self.suite
    }

    /// The version the server chose, once its ServerHello is in.
    pub fn version(&self) -> Option<u16> {
        self.server_hello.as_ref().map(|s| s.legacy_version)
    }

    /// Feed bytes from the server.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Progress, WireError> {
        self.deframer.push(bytes)?;
        while let Some(record) = self.deframer.pop()? {
            let progress = self.record(record.typ, &record.payload)?;
            if progress != Progress::NeedMore {
                return Ok(progress);
            }
        }
        Ok(Progress::NeedMore)
    }

    fn record(&mut self, typ: ContentType, payload: &[u8]) -> Result<Progress, WireError> {
        let malformed = |what: &str| Err(WireError::Malformed(what.to_string()));
        if self.phase == Phase::AwaitServerFinished {
            let Some(read) = self.read.as_mut() else {
                return malformed("no read keys after ChangeCipherSpec");
            };
            let Ok(plain) = read.open(typ.to_u8(), payload) else {
                self.phase = Phase::Done;
                return Ok(Progress::Undecryptable);
            };
            self.phase = Phase::Done;
            return match typ {
                ContentType::Alert => match Alert::from_bytes(&plain) {
                    Ok(alert) => Ok(Progress::Alert {
                        alert,
                        encrypted: true,
                    }),
                    Err(_) => malformed("encrypted alert"),
                },
                ContentType::Handshake => {
                    let expected =
                        prf::finished(self.negotiated(), &self.master, false, &self.transcript);
                    let mut want = vec![HandshakeType::Finished.to_u8(), 0, 0, 12];
                    want.extend_from_slice(&expected);
                    Ok(Progress::ServerFinished {
                        verified: prf::ct_eq(&plain, &want),
                    })
                }
                _ => malformed("record after ChangeCipherSpec"),
            };
        }
        match typ {
            ContentType::Alert => {
                self.phase = Phase::Done;
                match Alert::from_bytes(payload) {
                    Ok(alert) => Ok(Progress::Alert {
                        alert,
                        encrypted: false,
                    }),
                    Err(_) => malformed("alert"),
                }
            }
            ContentType::ChangeCipherSpec if self.phase == Phase::AwaitServerCcs => {
                if payload != [1] {
                    return malformed("ChangeCipherSpec");
                }
                self.phase = Phase::AwaitServerFinished;
                Ok(Progress::NeedMore)
            }
            ContentType::Handshake
                if matches!(self.phase, Phase::ServerFlight | Phase::AwaitServerCcs) =>
            {
                self.joiner.push(payload)?;
                while let Some(m) = self.joiner.pop()? {
                    if let Some(p) = self.message(m)? {
                        return Ok(p);
                    }
                }
                Ok(Progress::NeedMore)
            }
            _ => malformed("record out of order in the CBC handshake"),
        }
    }

    fn message(&mut self, m: HandshakeMessage) -> Result<Option<Progress>, WireError> {
        let raw = m.to_bytes();
        if self.transcript.len() + raw.len() > MAX_TRANSCRIPT {
            return Err(WireError::TooLarge("server flight"));
        }
        if self.phase == Phase::AwaitServerCcs {
            // A NewSessionTicket before the ChangeCipherSpec (none was asked for) is part
            // of the transcript like any other message.
            self.transcript.extend_from_slice(&raw);
            return Ok(None);
        }
        self.transcript.extend_from_slice(&raw);
        match m.typ {
            HandshakeType::ServerHello => {
                let sh: ServerHello = m.read()?;
                self.suite = SUITES.iter().copied().find(|s| s.id == sh.cipher_suite);
                self.server_hello = Some(sh);
            }
            HandshakeType::Certificate => {
                let list: CertificateList = m.read()?;
                self.leaf = list.0.into_iter().next();
            }
            HandshakeType::ServerKeyExchange => self.ecdhe = ecdhe_params(&m.body),
            HandshakeType::CertificateRequest => self.certificate_requested = true,
            HandshakeType::ServerHelloDone => {
                self.phase = Phase::AwaitClientFlight;
                return Ok(Some(Progress::FlightDone));
            }
            _ => {}
        }
        Ok(None)
    }

    fn negotiated(&self) -> u16 {
        self.version().unwrap_or(self.offered)
    }

    /// After [`Progress::FlightDone`]: the client's ClientKeyExchange, ChangeCipherSpec and
    /// Finished, the Finished record's padding written as `padding` says (its MAC is right
    /// either way). The keys it derives read the server's answer.
    pub fn client_flight(&mut self, padding: Padding) -> Result<Vec<u8>, Unspeakable> {
        if self.phase != Phase::AwaitClientFlight {
            return Err(Unspeakable::Incomplete);
        }
        let sh = self.server_hello.clone().ok_or(Unspeakable::Incomplete)?;
        let version = sh.legacy_version;
        if !(TLS10..=prf::TLS12).contains(&version) || version > self.offered {
            return Err(Unspeakable::Version(version));
        }
        let suite = self
            .suite
            .filter(|s| s.key_len > 0)
            .ok_or(Unspeakable::Suite(sh.cipher_suite))?;
        let (premaster, exchange) = match suite.kx {
            Kx::Rsa => self.rsa_exchange()?,
            Kx::Ecdhe => self.ecdhe_exchange()?,
        };
        let mut out = Vec::new();
        if self.certificate_requested {
            let empty = HandshakeMessage {
                typ: HandshakeType::Certificate,
                body: vec![0, 0, 0],
            }
            .to_bytes();
            self.transcript.extend_from_slice(&empty);
            encode_fragmented(ContentType::Handshake, version, &empty, &mut out);
        }
        let cke = HandshakeMessage {
            typ: HandshakeType::ClientKeyExchange,
            body: exchange,
        }
        .to_bytes();
        self.transcript.extend_from_slice(&cke);
        encode_fragmented(ContentType::Handshake, version, &cke, &mut out);
        self.master = prf::master_secret(
            version,
            &premaster,
            &self.client_random,
            &sh.random,
            sh.extended_master_secret().then_some(&self.transcript[..]),
        );
        let (mut write, read) = key_block(
            version,
            suite.mac,
            suite.key_len,
            &self.master,
            &self.client_random,
            &sh.random,
        )
        .map_err(|_| Unspeakable::KeyExchange)?;
        self.read = Some(read);
        encode_fragmented(ContentType::ChangeCipherSpec, version, &[1], &mut out);
        let verify = prf::finished(version, &self.master, true, &self.transcript);
        self.client_verify = verify.clone();
        let fin = HandshakeMessage {
            typ: HandshakeType::Finished,
            body: verify,
        }
        .to_bytes();
        // The server's Finished covers ours as we meant it, whatever its padding.
        self.transcript.extend_from_slice(&fin);
        let mut explicit_iv = [0u8; 16];
        super::keyshare::random_bytes(&mut explicit_iv);
        let sealed = write.seal_with(ContentType::Handshake.to_u8(), &fin, explicit_iv, padding);
        encode_fragmented(ContentType::Handshake, version, &sealed, &mut out);
        self.write = Some(write);
        self.phase = Phase::AwaitServerCcs;
        Ok(out)
    }

    /// After [`Progress::ServerFinished`] (the caller checks it was verified): the state to
    /// go on with; none before the handshake got that far.
    pub fn established(self) -> Option<Established> {
        if self.phase != Phase::Done {
            return None;
        }
        Some(Established {
            secure_renegotiation: self.server_hello.as_ref()?.secure_renegotiation(),
            write: self.write?,
            read: self.read?,
            client_verify_data: self.client_verify,
        })
    }

    /// The premaster and the ClientKeyExchange body for RSA key exchange.
    fn rsa_exchange(&self) -> Result<(Vec<u8>, Vec<u8>), Unspeakable> {
        let (n, e, k) = self
            .leaf
            .as_deref()
            .and_then(rsa_key)
            .ok_or(Unspeakable::NoRsaKey)?;
        let m = block(Layout::Correct, k, self.offered).ok_or(Unspeakable::NoRsaKey)?;
        let premaster = premaster_of(&m).ok_or(Unspeakable::NoRsaKey)?.to_vec();
        let c = encrypt(&m, &n, &e, k);
        let mut body = (c.len() as u16).to_be_bytes().to_vec();
        body.extend_from_slice(&c);
        Ok((premaster, body))
    }

    /// The premaster and the ClientKeyExchange body for ECDHE.
    fn ecdhe_exchange(&self) -> Result<(Vec<u8>, Vec<u8>), Unspeakable> {
        let (group, point) = self.ecdhe.as_ref().ok_or(Unspeakable::Curve)?;
        let alg = match *group {
            NamedGroup::X25519 => &agreement::X25519,
            NamedGroup::SECP256R1 => &agreement::ECDH_P256,
            NamedGroup::SECP384R1 => &agreement::ECDH_P384,
            _ => return Err(Unspeakable::Curve),
        };
        let private = EphemeralPrivateKey::generate(alg, &SystemRandom::new())
            .map_err(|_| Unspeakable::KeyExchange)?;
        let public = private
            .compute_public_key()
            .map_err(|_| Unspeakable::KeyExchange)?;
        let premaster =
            agreement::agree_ephemeral(private, &UnparsedPublicKey::new(alg, point), |k| {
                k.to_vec()
            })
            .map_err(|_| Unspeakable::KeyExchange)?;
        let mut body = vec![public.as_ref().len() as u8];
        body.extend_from_slice(public.as_ref());
        Ok((premaster, body))
    }
}

/// The (curve, point) of an ECDHE ServerKeyExchange on a named curve (RFC 8422 §5.4); the
/// signature after it is not read.
fn ecdhe_params(body: &[u8]) -> Option<(NamedGroup, Vec<u8>)> {
    let (&curve_type, rest) = body.split_first()?;
    if curve_type != 3 || rest.len() < 3 {
        return None;
    }
    let group = NamedGroup(u16::from_be_bytes([rest[0], rest[1]]));
    let len = usize::from(rest[2]);
    let point = rest.get(3..3 + len)?;
    Some((group, point.to_vec()))
}

/// Body of the `cbc_handshake` fuzz target: arbitrary bytes as a server's answer to a fresh
/// CBC handshake, fed in chunks whose sizes the first byte chooses; after a complete first
/// flight, a client flight and the rest as the server's answer. Invariant: no panic, and the
/// same first outcome whatever the chunking.
pub fn fuzz_one(data: &[u8]) {
    let (chunk, stream) = match data {
        [a, rest @ ..] => (usize::from(*a % 61) + 1, &rest[..rest.len().min(60_000)]),
        [] => return,
    };
    let run = |size: usize| -> Vec<Result<Progress, WireError>> {
        let (mut hs, _) = CbcHandshake::start(
            ProtocolVersion::Tls12,
            Some("fuzz.example"),
            &SUITES.map(|s| s.id),
        );
        let mut seen = Vec::new();
        for part in stream.chunks(size) {
            let p = hs.feed(part);
            let stop = p.is_err();
            if matches!(p, Ok(Progress::FlightDone)) {
                let _ = hs.client_flight(Padding::WrongBytes);
            }
            if !matches!(p, Ok(Progress::NeedMore)) {
                seen.push(p);
            }
            if stop {
                break;
            }
        }
        seen
    };
    let whole = run(stream.len().max(1));
    let parts = run(chunk);
    // The first outcome (a progress, or that the bytes were refused) must not depend on how
    // the bytes arrived.
    let first = |seen: &[Result<Progress, WireError>]| seen.first().map(|p| p.clone().ok());
    assert_eq!(
        first(&whole),
        first(&parts),
        "the first outcome depends on chunking"
    );
}

#[cfg(test)]
mod tests;
