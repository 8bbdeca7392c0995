//! A deliberately old-fashioned TLS server for the lab's faults that rustls refuses to
//! produce: TLS 1.0, no RFC 5746 renegotiation_info, RSA key exchange only, 1024-bit DHE, an
//! RSA-1024 certificate key. It completes genuine handshakes (TLS 1.0–1.2, AES-128-CBC with
//! HMAC-SHA1/SHA256, RSA or DHE_RSA key exchange), reads one request and answers it.
//!
//! Lab-only: this module is private to `crate::lab` and nothing in the scanner can reach it.
//! Every read is bounded and every connection runs under a deadline; a peer that misbehaves
//! gets an alert or a closed socket, never a panic.

use std::sync::Arc;
use std::time::Duration;

use num_bigint::BigUint;
use ring::rand::{SecureRandom, SystemRandom};
use rsa::RsaPrivateKey;
use rustls_pki_types::{CertificateDer, UnixTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::pki::{HashAlg, sign_pkcs1};
use crate::wire::cbc::{CipherState, RecordMac, key_block};
use crate::wire::prf::{self as crypto, TLS10, TLS11, TLS12};

/// Key exchange of a cipher suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kx {
    Rsa,
    DheRsa,
}

/// A cipher suite the legacy server can complete.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Suite {
    pub id: u16,
    /// IANA name, as `data/lab/endpoints.toml` writes it.
    pub name: &'static str,
    pub kx: Kx,
    mac: RecordMac,
    /// SHA-256 MAC suites exist only in TLS 1.2.
    tls12_only: bool,
}

impl Suite {
    /// The suite with this IANA name, if the legacy server can complete it.
    pub fn by_name(name: &str) -> Option<Suite> {
        SUITES.iter().find(|s| s.name == name).copied()
    }
}

/// Every suite the legacy server can complete.
pub(crate) const SUITES: [Suite; 4] = [
    Suite {
        id: 0x002f,
        name: "TLS_RSA_WITH_AES_128_CBC_SHA",
        kx: Kx::Rsa,
        mac: RecordMac::Sha1,
        tls12_only: false,
    },
    Suite {
        id: 0x003c,
        name: "TLS_RSA_WITH_AES_128_CBC_SHA256",
        kx: Kx::Rsa,
        mac: RecordMac::Sha256,
        tls12_only: true,
    },
    Suite {
        id: 0x0033,
        name: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        kx: Kx::DheRsa,
        mac: RecordMac::Sha1,
        tls12_only: false,
    },
    Suite {
        id: 0x0067,
        name: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
        kx: Kx::DheRsa,
        mac: RecordMac::Sha256,
        tls12_only: true,
    },
];

/// A finite-field DH group (generator and prime).
#[derive(Clone, Debug)]
pub(crate) struct DhGroup {
    pub p: BigUint,
    pub g: BigUint,
}

/// What one legacy endpoint negotiates and serves.
pub(crate) struct LegacyConfig {
    /// Versions this endpoint accepts (wire values).
    pub versions: Vec<u16>,
    /// Suites in server preference order.
    pub suites: Vec<Suite>,
    /// Answer RFC 5746 renegotiation_info when the client signals it.
    pub secure_renegotiation: bool,
    /// Certificate chain, leaf first (DER).
    pub chain: Vec<Vec<u8>>,
    pub key: Arc<RsaPrivateKey>,
    /// Group for DHE suites; required if any suite is DHE.
    pub dh: Option<DhGroup>,
    /// Bytes written back as application data after the first request line.
    pub response: Vec<u8>,
    /// Require a client certificate (TLS 1.2 only), as OpenSSL-based servers do.
    pub client_auth: Option<ClientAuth>,
}

/// The CA a client certificate must chain to.
pub(crate) struct ClientAuth {
    root: CertificateDer<'static>,
    /// DER of the root's subject, sent in CertificateRequest.certificate_authorities.
    subject: Vec<u8>,
}

impl ClientAuth {
    pub fn new(root: CertificateDer<'static>) -> Result<ClientAuth, String> {
        let (_, cert) = x509_parser::parse_x509_certificate(&root).map_err(|e| e.to_string())?;
        let subject = cert.tbs_certificate.subject.as_raw().to_vec();
        Ok(ClientAuth { root, subject })
    }

    /// Verify a client chain (leaf first) for clientAuth against the root.
    fn verify(&self, chain: &[CertificateDer<'static>]) -> Result<(), webpki::Error> {
        let anchor = webpki::anchor_from_trusted_cert(&self.root)?;
        let leaf = webpki::EndEntityCert::try_from(&chain[0])?;
        leaf.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &[anchor],
            &chain[1..],
            UnixTime::now(),
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )?;
        Ok(())
    }
}

/// Why a legacy connection ended early. Only for diagnostics; the lab drops these.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LegacyError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("peer too slow")]
    Timeout,
    #[error("peer sent alert {0}")]
    PeerAlert(u8),
    #[error("{0} (sent alert {1})")]
    Protocol(&'static str, u8),
    #[error("peer closed the connection")]
    Closed,
}

const READ_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_RECORD: usize = 16384 + 2048;
const MAX_HANDSHAKE_MSG: usize = 65536;
const MAX_REQUEST: usize = 16384;

// Alert descriptions (RFC 5246 7.2).
const UNEXPECTED_MESSAGE: u8 = 10;
const BAD_RECORD_MAC: u8 = 20;
const BAD_CERTIFICATE: u8 = 42;
const HANDSHAKE_FAILURE: u8 = 40;
const ILLEGAL_PARAMETER: u8 = 47;
const DECODE_ERROR: u8 = 50;
const DECRYPT_ERROR: u8 = 51;
const PROTOCOL_VERSION: u8 = 70;
const INTERNAL_ERROR: u8 = 80;

const CT_CCS: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APPDATA: u8 = 23;

const HS_CLIENT_HELLO: u8 = 1;
const HS_SERVER_HELLO: u8 = 2;
const HS_CERTIFICATE: u8 = 11;
const HS_SERVER_KEY_EXCHANGE: u8 = 12;
const HS_CERTIFICATE_REQUEST: u8 = 13;
const HS_SERVER_HELLO_DONE: u8 = 14;
const HS_CERTIFICATE_VERIFY: u8 = 15;
const HS_CLIENT_KEY_EXCHANGE: u8 = 16;
const HS_FINISHED: u8 = 20;

const EXT_SIGNATURE_ALGORITHMS: u16 = 0x000d;
const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;
const EXT_RENEGOTIATION_INFO: u16 = 0xff01;
const SCSV_RENEGOTIATION: u16 = 0x00ff;

/// Serve one connection to completion (or failure).
pub(crate) async fn serve(cfg: Arc<LegacyConfig>, stream: TcpStream) -> Result<(), LegacyError> {
    let mut conn = Conn::new(stream);
    let result = handshake_and_answer(&cfg, &mut conn).await;
    if let Err(LegacyError::Protocol(_, alert)) = &result {
        let _ = conn.write_alert(*alert).await;
    }
    let _ = conn.stream.shutdown().await;
    result
}

async fn handshake_and_answer(cfg: &LegacyConfig, conn: &mut Conn) -> Result<(), LegacyError> {
    let rng = SystemRandom::new();
    let ch_raw = conn.read_handshake(HS_CLIENT_HELLO).await?;
    conn.transcript.extend_from_slice(&ch_raw);
    let ch = ClientHello::parse(&ch_raw[4..])
        .ok_or(LegacyError::Protocol("malformed ClientHello", DECODE_ERROR))?;

    let version = negotiate_version(&cfg.versions, &ch).ok_or(LegacyError::Protocol(
        "no common protocol version",
        PROTOCOL_VERSION,
    ))?;
    conn.version = version;
    let suite = cfg
        .suites
        .iter()
        .find(|s| {
            ch.suites.contains(&s.id)
                && (!s.tls12_only || version >= TLS12)
                && (s.kx == Kx::Rsa || cfg.dh.is_some())
        })
        .copied()
        .ok_or(LegacyError::Protocol(
            "no shared cipher suite",
            HANDSHAKE_FAILURE,
        ))?;
    let client_signals_5746 = ch.suites.contains(&SCSV_RENEGOTIATION) || ch.reneg_info;

    // ServerHello
    let server_random = random::<32>(&rng)?;
    let mut sh = Vec::new();
    sh.extend_from_slice(&version.to_be_bytes());
    sh.extend_from_slice(&server_random);
    sh.push(0); // no session id: nothing is resumable
    sh.extend_from_slice(&suite.id.to_be_bytes());
    sh.push(0); // null compression
    if cfg.secure_renegotiation && client_signals_5746 {
        sh.extend_from_slice(&[0x00, 0x05, 0xff, 0x01, 0x00, 0x01, 0x00]);
    }
    let mut flight = handshake_msg(HS_SERVER_HELLO, &sh);

    // Certificate
    let mut list = Vec::new();
    for cert in &cfg.chain {
        list.extend_from_slice(&u24(cert.len()));
        list.extend_from_slice(cert);
    }
    let mut body = u24(list.len()).to_vec();
    body.extend_from_slice(&list);
    flight.extend_from_slice(&handshake_msg(HS_CERTIFICATE, &body));

    // ServerKeyExchange for DHE
    let mut dh_secret = None;
    if suite.kx == Kx::DheRsa {
        let group = cfg.dh.as_ref().ok_or(LegacyError::Protocol(
            "DHE without a group",
            HANDSHAKE_FAILURE,
        ))?;
        let x = BigUint::from_bytes_be(&random::<32>(&rng)?);
        let ys = group.g.modpow(&x, &group.p);
        let mut params = Vec::new();
        for v in [&group.p, &group.g, &ys] {
            let b = v.to_bytes_be();
            params.extend_from_slice(&(b.len() as u16).to_be_bytes());
            params.extend_from_slice(&b);
        }
        let signed = [&ch.random[..], &server_random[..], &params[..]].concat();
        let mut ske = params;
        let alg = if version >= TLS12 {
            let (code, alg) = if ch.sigalgs.is_empty() || ch.sigalgs.contains(&0x0401) {
                (0x0401u16, HashAlg::Sha256)
            } else if ch.sigalgs.contains(&0x0201) {
                (0x0201, HashAlg::Sha1)
            } else {
                return Err(LegacyError::Protocol(
                    "no usable signature algorithm",
                    HANDSHAKE_FAILURE,
                ));
            };
            ske.extend_from_slice(&code.to_be_bytes());
            alg
        } else {
            HashAlg::Md5Sha1
        };
        let sig = sign_pkcs1(&cfg.key, alg, &signed)
            .map_err(|_| LegacyError::Protocol("signing failed", HANDSHAKE_FAILURE))?;
        ske.extend_from_slice(&(sig.len() as u16).to_be_bytes());
        ske.extend_from_slice(&sig);
        flight.extend_from_slice(&handshake_msg(HS_SERVER_KEY_EXCHANGE, &ske));
        dh_secret = Some((group.clone(), x));
    }
    if let Some(auth) = &cfg.client_auth {
        if version < TLS12 {
            return Err(LegacyError::Protocol(
                "client authentication is implemented for TLS 1.2 only",
                HANDSHAKE_FAILURE,
            ));
        }
        // certificate_types rsa_sign(1), ecdsa_sign(64); signature algorithms
        // ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256; one CA name.
        let mut body = vec![2, 1, 64, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01];
        body.extend_from_slice(&((auth.subject.len() + 2) as u16).to_be_bytes());
        body.extend_from_slice(&(auth.subject.len() as u16).to_be_bytes());
        body.extend_from_slice(&auth.subject);
        flight.extend_from_slice(&handshake_msg(HS_CERTIFICATE_REQUEST, &body));
    }
    flight.extend_from_slice(&handshake_msg(HS_SERVER_HELLO_DONE, &[]));
    conn.transcript.extend_from_slice(&flight);
    conn.write_record(CT_HANDSHAKE, &flight, &rng).await?;

    // The client's Certificate, if we asked for one: none at all is a handshake_failure,
    // as OpenSSL-based servers answer with SSL_VERIFY_FAIL_IF_NO_PEER_CERT.
    let mut client_chain = None;
    if let Some(auth) = &cfg.client_auth {
        let raw = conn.read_handshake(HS_CERTIFICATE).await?;
        conn.transcript.extend_from_slice(&raw);
        let chain = parse_certificate_list(&raw[4..]).ok_or(LegacyError::Protocol(
            "malformed client Certificate",
            DECODE_ERROR,
        ))?;
        if chain.is_empty() {
            return Err(LegacyError::Protocol(
                "client sent no certificate",
                HANDSHAKE_FAILURE,
            ));
        }
        auth.verify(&chain).map_err(|_| {
            LegacyError::Protocol("client certificate does not verify", BAD_CERTIFICATE)
        })?;
        client_chain = Some(chain);
    }

    // ClientKeyExchange
    let cke_raw = conn.read_handshake(HS_CLIENT_KEY_EXCHANGE).await?;
    conn.transcript.extend_from_slice(&cke_raw);
    let mut r = Reader::new(&cke_raw[4..]);
    let exchange = r
        .vec16()
        .filter(|_| r.is_empty())
        .ok_or(LegacyError::Protocol(
            "malformed ClientKeyExchange",
            DECODE_ERROR,
        ))?;
    if let Some(chain) = client_chain {
        let signed = conn.transcript.clone();
        let raw = conn.read_handshake(HS_CERTIFICATE_VERIFY).await?;
        verify_certificate_verify(&chain[0], &raw[4..], &signed)?;
        conn.transcript.extend_from_slice(&raw);
    }
    let premaster = match dh_secret {
        None => {
            // RSA: on any decryption defect continue with a random secret (RFC 5246 7.4.7.1),
            // so the client learns nothing until Finished fails.
            let fallback = random::<48>(&rng)?.to_vec();
            match cfg.key.decrypt(rsa::Pkcs1v15Encrypt, exchange) {
                Ok(pms) if pms.len() == 48 && pms[..2] == ch.legacy_version.to_be_bytes() => pms,
                _ => fallback,
            }
        }
        Some((group, x)) => {
            let yc = BigUint::from_bytes_be(exchange);
            let one = BigUint::from(1u8);
            if yc <= one || yc >= &group.p - &one {
                return Err(LegacyError::Protocol(
                    "bad DH public value",
                    ILLEGAL_PARAMETER,
                ));
            }
            yc.modpow(&x, &group.p).to_bytes_be()
        }
    };
    let master = crypto::prf(
        version,
        &premaster,
        "master secret",
        &[&ch.random, &server_random],
        48,
    );
    let (client_state, server_state) =
        key_block(version, suite.mac, 16, &master, &ch.random, &server_random)
            .map_err(|_| LegacyError::Protocol("key block too short", INTERNAL_ERROR))?;

    // Client ChangeCipherSpec, then its Finished under the new keys.
    let (ct, payload) = conn.read_record().await?;
    if ct != CT_CCS || payload != [1] {
        return Err(LegacyError::Protocol(
            "expected ChangeCipherSpec",
            UNEXPECTED_MESSAGE,
        ));
    }
    conn.read_state = Some(client_state);
    let expected_client = crypto::prf(
        version,
        &master,
        "client finished",
        &[&crypto::transcript_hash(version, &conn.transcript)],
        12,
    );
    let fin_raw = conn.read_handshake(HS_FINISHED).await?;
    if !crypto::ct_eq(&fin_raw[4..], &expected_client) {
        return Err(LegacyError::Protocol(
            "client Finished does not verify",
            DECRYPT_ERROR,
        ));
    }
    conn.transcript.extend_from_slice(&fin_raw);

    // Our ChangeCipherSpec and Finished.
    conn.write_record(CT_CCS, &[1], &rng).await?;
    conn.write_state = Some(server_state);
    let server_verify = crypto::prf(
        version,
        &master,
        "server finished",
        &[&crypto::transcript_hash(version, &conn.transcript)],
        12,
    );
    conn.write_record(
        CT_HANDSHAKE,
        &handshake_msg(HS_FINISHED, &server_verify),
        &rng,
    )
    .await?;

    // One request (up to its first line), one answer, close_notify.
    let mut request = Vec::new();
    while !request.contains(&b'\n') {
        let (ct, data) = conn.read_record().await?;
        match ct {
            CT_APPDATA => request.extend_from_slice(&data),
            CT_HANDSHAKE => {
                // A renegotiation attempt: refuse it politely (no_renegotiation, warning).
                conn.write_record(CT_ALERT, &[1, 100], &rng).await?;
            }
            _ => {
                return Err(LegacyError::Protocol(
                    "unexpected record after handshake",
                    UNEXPECTED_MESSAGE,
                ));
            }
        }
        if request.len() > MAX_REQUEST {
            break;
        }
    }
    conn.write_record(CT_APPDATA, &cfg.response, &rng).await?;
    conn.write_record(CT_ALERT, &[1, 0], &rng).await?;
    Ok(())
}

/// Certificate message body: u24 list of u24-length DER certificates (at most 10).
fn parse_certificate_list(body: &[u8]) -> Option<Vec<CertificateDer<'static>>> {
    let mut r = Reader::new(body);
    let mut list = Reader::new(r.vec24()?);
    if !r.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    while !list.is_empty() {
        if out.len() == 10 {
            return None;
        }
        out.push(CertificateDer::from(list.vec24()?.to_vec()));
    }
    Some(out)
}

/// Check a TLS 1.2 CertificateVerify (algorithm, signature over the transcript so far).
fn verify_certificate_verify(
    leaf: &CertificateDer<'static>,
    body: &[u8],
    signed: &[u8],
) -> Result<(), LegacyError> {
    let bad = LegacyError::Protocol("client CertificateVerify does not verify", DECRYPT_ERROR);
    let mut r = Reader::new(body);
    let (Some(alg), Some(sig)) = (r.u16(), r.vec16()) else {
        return Err(LegacyError::Protocol(
            "malformed CertificateVerify",
            DECODE_ERROR,
        ));
    };
    let alg: &dyn rustls_pki_types::SignatureVerificationAlgorithm = match alg {
        0x0403 => webpki::ring::ECDSA_P256_SHA256,
        0x0804 => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        0x0401 => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
        _ => return Err(bad),
    };
    let cert = webpki::EndEntityCert::try_from(leaf)
        .map_err(|_| LegacyError::Protocol("client certificate does not parse", BAD_CERTIFICATE))?;
    cert.verify_signature(alg, signed, sig).map_err(|_| bad)
}

fn negotiate_version(versions: &[u16], ch: &ClientHello) -> Option<u16> {
    if let Some(offered) = &ch.supported_versions {
        return versions
            .iter()
            .filter(|v| offered.contains(v))
            .max()
            .copied();
    }
    let max = *versions.iter().max()?;
    let v = ch.legacy_version.min(max);
    versions.contains(&v).then_some(v)
}

fn random<const N: usize>(rng: &SystemRandom) -> Result<[u8; N], LegacyError> {
    let mut b = [0u8; N];
    rng.fill(&mut b)
        .map_err(|_| LegacyError::Protocol("no randomness", HANDSHAKE_FAILURE))?;
    Ok(b)
}

fn u24(n: usize) -> [u8; 3] {
    [(n >> 16) as u8, (n >> 8) as u8, n as u8]
}

fn handshake_msg(typ: u8, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(body.len() + 4);
    m.push(typ);
    m.extend_from_slice(&u24(body.len()));
    m.extend_from_slice(body);
    m
}

/// The ClientHello fields the legacy server acts on.
struct ClientHello {
    legacy_version: u16,
    random: [u8; 32],
    suites: Vec<u16>,
    supported_versions: Option<Vec<u16>>,
    sigalgs: Vec<u16>,
    reneg_info: bool,
}

impl ClientHello {
    fn parse(body: &[u8]) -> Option<ClientHello> {
        let mut r = Reader::new(body);
        let legacy_version = r.u16()?;
        let mut random = [0u8; 32];
        random.copy_from_slice(r.take(32)?);
        let session_id = r.vec8()?;
        if session_id.len() > 32 {
            return None;
        }
        let suites_raw = r.vec16()?;
        if suites_raw.len() % 2 != 0 {
            return None;
        }
        let suites = u16_list(suites_raw);
        r.vec8()?; // compression methods
        let mut ch = ClientHello {
            legacy_version,
            random,
            suites,
            supported_versions: None,
            sigalgs: Vec::new(),
            reneg_info: false,
        };
        if r.is_empty() {
            return Some(ch);
        }
        let mut exts = Reader::new(r.vec16()?);
        while !exts.is_empty() {
            let typ = exts.u16()?;
            let data = exts.vec16()?;
            let mut d = Reader::new(data);
            match typ {
                EXT_SUPPORTED_VERSIONS => {
                    let list = d.vec8()?;
                    ch.supported_versions = Some(u16_list(list));
                }
                EXT_SIGNATURE_ALGORITHMS => ch.sigalgs = u16_list(d.vec16()?),
                EXT_RENEGOTIATION_INFO => ch.reneg_info = d.vec8()?.is_empty(),
                _ => {}
            }
        }
        Some(ch)
    }
}

fn u16_list(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// A bounds-checked cursor: every accessor returns None instead of reading past the end.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }
    fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()? as usize;
        self.take(n)
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.take(n)
    }
    fn vec24(&mut self) -> Option<&'a [u8]> {
        let b = self.take(3)?;
        let n = ((b[0] as usize) << 16) | ((b[1] as usize) << 8) | b[2] as usize;
        self.take(n)
    }
}

/// Record layer and handshake reassembly over one TCP stream.
struct Conn {
    stream: TcpStream,
    /// Version written in record headers (TLS 1.0 until negotiated).
    version: u16,
    read_state: Option<CipherState>,
    write_state: Option<CipherState>,
    /// Handshake bytes received but not yet consumed as whole messages.
    hs_buf: Vec<u8>,
    transcript: Vec<u8>,
}

impl Conn {
    fn new(stream: TcpStream) -> Self {
        Conn {
            stream,
            version: TLS10,
            read_state: None,
            write_state: None,
            hs_buf: Vec::new(),
            transcript: Vec::new(),
        }
    }

    async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), LegacyError> {
        match tokio::time::timeout(READ_TIMEOUT, self.stream.read_exact(buf)).await {
            Err(_) => Err(LegacyError::Timeout),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(LegacyError::Closed),
            Ok(Err(e)) => Err(e.into()),
            Ok(Ok(_)) => Ok(()),
        }
    }

    /// One record, decrypted if a read cipher is active. Alerts from the peer end the connection.
    async fn read_record(&mut self) -> Result<(u8, Vec<u8>), LegacyError> {
        let mut header = [0u8; 5];
        self.read_exact(&mut header).await?;
        let ct = header[0];
        if !(CT_CCS..=CT_APPDATA).contains(&ct) || header[1] != 3 {
            // Not TLS (or SSLv2): nothing sensible to answer.
            return Err(LegacyError::Closed);
        }
        let len = u16::from_be_bytes([header[3], header[4]]) as usize;
        if len > MAX_RECORD {
            return Err(LegacyError::Protocol("record too long", DECODE_ERROR));
        }
        let mut body = vec![0u8; len];
        self.read_exact(&mut body).await?;
        let body = match self.read_state.as_mut() {
            Some(state) => state
                .open(ct, &body)
                .map_err(|_| LegacyError::Protocol("bad record MAC", BAD_RECORD_MAC))?,
            None => body,
        };
        if ct == CT_ALERT {
            return Err(LegacyError::PeerAlert(body.get(1).copied().unwrap_or(0)));
        }
        Ok((ct, body))
    }

    /// The next whole handshake message (header included), which must be of type `want`.
    async fn read_handshake(&mut self, want: u8) -> Result<Vec<u8>, LegacyError> {
        loop {
            if self.hs_buf.len() >= 4 {
                let len = ((self.hs_buf[1] as usize) << 16)
                    | ((self.hs_buf[2] as usize) << 8)
                    | self.hs_buf[3] as usize;
                if len > MAX_HANDSHAKE_MSG {
                    return Err(LegacyError::Protocol(
                        "handshake message too long",
                        DECODE_ERROR,
                    ));
                }
                if self.hs_buf.len() >= 4 + len {
                    let msg: Vec<u8> = self.hs_buf.drain(..4 + len).collect();
                    if msg[0] != want {
                        return Err(LegacyError::Protocol(
                            "unexpected handshake message",
                            UNEXPECTED_MESSAGE,
                        ));
                    }
                    return Ok(msg);
                }
            }
            let (ct, data) = self.read_record().await?;
            if ct != CT_HANDSHAKE {
                return Err(LegacyError::Protocol(
                    "expected a handshake record",
                    UNEXPECTED_MESSAGE,
                ));
            }
            if self.hs_buf.len() + data.len() > MAX_HANDSHAKE_MSG + 4 {
                return Err(LegacyError::Protocol("handshake too long", DECODE_ERROR));
            }
            self.hs_buf.extend_from_slice(&data);
        }
    }

    async fn write_record(
        &mut self,
        ct: u8,
        data: &[u8],
        rng: &SystemRandom,
    ) -> Result<(), LegacyError> {
        let mut out = Vec::new();
        let chunks: Vec<&[u8]> = if data.is_empty() {
            vec![data]
        } else {
            data.chunks(16384).collect()
        };
        for chunk in chunks {
            let body = match self.write_state.as_mut() {
                Some(state) => state.seal(ct, chunk, random::<16>(rng)?),
                None => chunk.to_vec(),
            };
            out.push(ct);
            out.extend_from_slice(&self.version.to_be_bytes());
            out.extend_from_slice(&(body.len() as u16).to_be_bytes());
            out.extend_from_slice(&body);
        }
        match tokio::time::timeout(READ_TIMEOUT, self.stream.write_all(&out)).await {
            Err(_) => Err(LegacyError::Timeout),
            Ok(r) => Ok(r?),
        }
    }

    async fn write_alert(&mut self, desc: u8) -> Result<(), LegacyError> {
        let rng = SystemRandom::new();
        self.write_record(CT_ALERT, &[2, desc], &rng).await
    }
}

/// Protocol versions the legacy server speaks, by the names the lab catalogue uses.
pub(crate) const VERSIONS: [(&str, u16); 3] =
    [("TLSv1.0", TLS10), ("TLSv1.1", TLS11), ("TLSv1.2", TLS12)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_parser_rejects_truncation_everywhere() {
        // A minimal valid ClientHello body with one extension (supported_versions: 1.2).
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[0xaa; 32]);
        body.push(0);
        body.extend_from_slice(&[0x00, 0x02, 0x00, 0x2f]);
        body.extend_from_slice(&[0x01, 0x00]);
        body.extend_from_slice(&[0x00, 0x07, 0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x03]);
        let ch = ClientHello::parse(&body).expect("valid hello");
        assert_eq!(ch.suites, vec![0x002f]);
        assert_eq!(ch.supported_versions, Some(vec![TLS12]));
        for cut in 0..body.len() {
            // Any strict prefix is either rejected or (if cut at the extensions) parsed without
            // them; nothing panics.
            let _ = ClientHello::parse(&body[..cut]);
        }
        assert!(ClientHello::parse(&body[..40]).is_none());
    }

    #[test]
    fn version_negotiation_follows_supported_versions_then_legacy_version() {
        let hello = |legacy, sv: Option<Vec<u16>>| ClientHello {
            legacy_version: legacy,
            random: [0; 32],
            suites: vec![],
            supported_versions: sv,
            sigalgs: vec![],
            reneg_info: false,
        };
        let only10 = [TLS10];
        let only12 = [TLS12];
        // Modern client offering 1.3..1.0: the TLS 1.0-only endpoint picks 1.0.
        let all = Some(vec![0x0304, TLS12, TLS11, TLS10]);
        assert_eq!(
            negotiate_version(&only10, &hello(TLS12, all.clone())),
            Some(TLS10)
        );
        // Python-style client (1.3, 1.2 only): no overlap, protocol_version alert.
        let modern = Some(vec![0x0304, TLS12]);
        assert_eq!(negotiate_version(&only10, &hello(TLS12, modern)), None);
        // No supported_versions: min(client, server max) if the endpoint has it.
        assert_eq!(negotiate_version(&only10, &hello(TLS12, None)), Some(TLS10));
        assert_eq!(negotiate_version(&only12, &hello(TLS10, None)), None);
        assert_eq!(
            negotiate_version(&only12, &hello(0x0304, None)),
            Some(TLS12)
        );
    }
}
