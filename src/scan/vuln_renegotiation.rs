//! Client-initiated renegotiation (TLS 1.2 and older): whether the server starts a new
//! handshake when the client asks for one on an established connection. Each renegotiation
//! makes the server do a new key exchange's public-key work for a client that does little, so
//! a server that allows it can be worn down from few connections (THC's ssl-dos showed it).
//!
//! One connection, only when TLS 1.2 is accepted: a full TLS 1.2 handshake by rustls (ECDHE
//! with AES-GCM or ChaCha20-Poly1305: every AEAD suite rustls speaks, so a server restricted
//! to ChaCha20 is tested too), its keys taken out of rustls afterwards
//! (`dangerous_extract_secrets`), and the bytes it wrote recorded. rustls does not
//! renegotiate, so the probe sends the new ClientHello itself: encrypted with the
//! connection's client key (AES-GCM, RFC 5288, with its explicit nonce; ChaCha20-Poly1305,
//! RFC 7905, its nonce the IV XORed with the sequence number), carrying the client's Finished
//! verify_data in
//! renegotiation_info (RFC 5746 §3.5; read back by decrypting the client's own Finished). The
//! answer decides: an encrypted handshake record is the server's new ServerHello (allowed);
//! an alert (decrypted to name it: `no_renegotiation`, `handshake_failure`) or a close is a
//! refusal. The new handshake is never completed.
//!
//! A server whose TLS 1.2 pick (in the version probe) is a CBC suite, which rustls does not
//! speak, gets the same request after the hand-written CBC handshake instead, on its one
//! connection too (`vuln_renegotiation_cbc.rs`).

use super::ScanContext;
use super::check::{Basis, Check, Job, SummaryLine};
use super::vuln_recording::{Recording, tls12_config, tls12_handshake};
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};
use crate::wire::codec::Codec;
use crate::wire::extension::ClientExtension;
use crate::wire::record::{ContentType, Deframer, RecordHeader};
use crate::wire::{Alert, ClientHello, ProtocolVersion};
use ring::aead;
use rustls::ConnectionTrafficSecrets;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The check `client-renegotiation`.
pub struct ClientRenegotiation;

/// How long to wait for the server's answer to the new ClientHello.
pub(super) const ANSWER_WAIT: Duration = Duration::from_secs(3);
/// The AEAD tag after a TLS 1.2 record's ciphertext.
const TAG_LEN: usize = 16;
/// The explicit nonce before a TLS 1.2 AES-GCM record's ciphertext (ChaCha20 has none).
const GCM_EXPLICIT: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRenegotiationResult {
    /// `Some(true)`: the server answered a client's renegotiation request with a new handshake;
    /// `Some(false)`: it refused; `None`: not tested.
    pub allowed: Option<bool>,
    /// Whether the first handshake negotiated RFC 5746 secure renegotiation.
    pub secure_renegotiation: Option<bool>,
    /// The suite of the first handshake.
    pub suite: Option<String>,
    /// What the server answered with: `handshake`, an alert's name, `closed`, `silent`.
    pub answer: Option<String>,
    pub connections: u32,
    pub evidence: String,
}

#[derive(Debug)]
pub enum Answer {
    NotTested(String),
    Answered {
        suite: String,
        secure: bool,
        reply: Reply,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// An encrypted handshake record: the new ServerHello.
    Handshake,
    Alert(Alert),
    /// An alert that could not be decrypted.
    UnreadableAlert,
    Other(u8),
    Closed,
    Silent,
}

impl Reply {
    fn describe(&self) -> String {
        match self {
            Reply::Handshake => "an encrypted handshake record (the new ServerHello)".into(),
            Reply::Alert(a) => format!(
                "{} alert {} ({})",
                a.level.name(),
                a.description.name(),
                a.description.to_u8()
            ),
            Reply::UnreadableAlert => "an alert".into(),
            Reply::Other(t) => format!("a record of content type {t}"),
            Reply::Closed => "a closed connection".into(),
            Reply::Silent => format!("silence for {}s", ANSWER_WAIT.as_secs()),
        }
    }
}

impl Check for ClientRenegotiation {
    const NAME: &'static str = "client-renegotiation";
    const TITLE: &'static str = "Client-initiated renegotiation";
    const BY_DEFAULT: bool = false;
    const GROUP: Option<&'static str> = Some("vulns");
    type Answer = Answer;
    type Evidence = ClientRenegotiationResult;

    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, Answer>> {
        if !basis.accepts(ProtocolVersion::Tls12) {
            return Vec::new();
        }
        // The TLS 1.2 version probe's pick says which handshake can be had: a CBC suite
        // (rustls speaks none) goes to the hand-written CBC handshake.
        let pick = match basis.version_probe(ProtocolVersion::Tls12) {
            Some(crate::probe::ProbeOutcome::Accepted(f)) => {
                f.server_hello.as_ref().map(|sh| sh.cipher_suite)
            }
            _ => None,
        };
        if pick.is_some_and(super::vuln_renegotiation_cbc::wants_cbc) {
            return vec![Box::pin(super::vuln_renegotiation_cbc::probe(basis.ctx))];
        }
        vec![Box::pin(probe(basis.ctx))]
    }

    fn fold(&self, basis: &Basis<'_>, answers: Vec<Answer>) -> ClientRenegotiationResult {
        let tls13_only = basis.accepted() == [ProtocolVersion::Tls13];
        fold_answer(answers.into_iter().next(), tls13_only)
    }

    fn findings(&self, e: &ClientRenegotiationResult) -> Vec<Finding> {
        if e.allowed != Some(true) {
            return Vec::new();
        }
        vec![finding(FindingId::ClientRenegotiationAllowed, &[]).evidence(e.evidence.clone())]
    }

    fn summary(&self, e: &ClientRenegotiationResult) -> Vec<SummaryLine> {
        let value = match e.allowed {
            Some(true) => "ALLOWED",
            Some(false) => "refused",
            None => "not tested",
        };
        vec![SummaryLine {
            label: ClientRenegotiation::TITLE,
            value: value.into(),
            evidence: e.evidence.clone(),
        }]
    }
}

/// How one direction of a TLS 1.2 AEAD suite makes its nonces.
enum NonceRule {
    /// AES-GCM (RFC 5288): a 4-byte salt from the key block, then 8 explicit bytes carried
    /// in each record (here: the sequence number, as most implementations do).
    Explicit([u8; 4]),
    /// ChaCha20-Poly1305 (RFC 7905): the 12-byte IV XORed with the sequence number; nothing
    /// carried in the record.
    Xor([u8; 12]),
}

/// The record protection of one direction: its AEAD key and nonce rule.
struct RecordKey {
    key: aead::LessSafeKey,
    nonce: NonceRule,
}

impl RecordKey {
    fn from_secrets(secrets: &ConnectionTrafficSecrets) -> Option<RecordKey> {
        let (alg, key, nonce) = match secrets {
            ConnectionTrafficSecrets::Aes128Gcm { key, iv } => (
                &aead::AES_128_GCM,
                key,
                NonceRule::Explicit(iv.as_ref().get(..4)?.try_into().ok()?),
            ),
            ConnectionTrafficSecrets::Aes256Gcm { key, iv } => (
                &aead::AES_256_GCM,
                key,
                NonceRule::Explicit(iv.as_ref().get(..4)?.try_into().ok()?),
            ),
            ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => (
                &aead::CHACHA20_POLY1305,
                key,
                NonceRule::Xor(iv.as_ref().try_into().ok()?),
            ),
            _ => return None,
        };
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(alg, key.as_ref()).ok()?);
        Some(RecordKey { key, nonce })
    }

    /// The bytes carried before the ciphertext in each record.
    fn explicit_len(&self) -> usize {
        match self.nonce {
            NonceRule::Explicit(_) => GCM_EXPLICIT,
            NonceRule::Xor(_) => 0,
        }
    }

    /// The nonce of record `seq`, from its explicit part (AES-GCM) or the sequence number.
    fn nonce(&self, seq: u64, explicit: &[u8]) -> Option<aead::Nonce> {
        let mut n = [0u8; 12];
        match &self.nonce {
            NonceRule::Explicit(salt) => {
                n[..4].copy_from_slice(salt);
                n[4..].copy_from_slice(explicit.get(..GCM_EXPLICIT)?);
            }
            NonceRule::Xor(iv) => {
                n = *iv;
                for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
                    *b ^= s;
                }
            }
        }
        Some(aead::Nonce::assume_unique_for_key(n))
    }
}

fn aad(seq: u64, typ: ContentType, len: usize) -> aead::Aad<[u8; 13]> {
    let mut a = [0u8; 13];
    a[..8].copy_from_slice(&seq.to_be_bytes());
    a[8] = typ.to_u8();
    a[9..11].copy_from_slice(&0x0303u16.to_be_bytes());
    a[11..].copy_from_slice(&(len as u16).to_be_bytes());
    aead::Aad::from(a)
}

/// Decrypt one TLS 1.2 AEAD record payload (explicit nonce if any, ciphertext, tag).
fn open(key: &RecordKey, seq: u64, typ: ContentType, payload: &[u8]) -> Option<Vec<u8>> {
    let explicit = key.explicit_len();
    let len = payload.len().checked_sub(explicit + TAG_LEN)?;
    let nonce = key.nonce(seq, &payload[..explicit])?;
    let mut buf = payload[explicit..].to_vec();
    let plain = key
        .key
        .open_in_place(nonce, aad(seq, typ, len), &mut buf)
        .ok()?;
    Some(plain.to_vec())
}

/// Encrypt `plain` as one TLS 1.2 AEAD record of `typ` with sequence number `seq`.
fn seal(key: &RecordKey, seq: u64, typ: ContentType, plain: &[u8]) -> Option<Vec<u8>> {
    let explicit = &seq.to_be_bytes()[..key.explicit_len()];
    let nonce = key.nonce(seq, &seq.to_be_bytes())?;
    let mut buf = plain.to_vec();
    let tag = key
        .key
        .seal_in_place_separate_tag(nonce, aad(seq, typ, plain.len()), &mut buf)
        .ok()?;
    let mut payload = explicit.to_vec();
    payload.extend_from_slice(&buf);
    payload.extend_from_slice(tag.as_ref());
    let mut out = Vec::new();
    RecordHeader {
        typ,
        version: 0x0303,
        length: payload.len() as u16,
    }
    .encode(&mut out);
    out.extend_from_slice(&payload);
    Some(out)
}

/// The payload of the first handshake record after the ChangeCipherSpec in `bytes`: the
/// encrypted Finished.
fn finished_record(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut d = Deframer::new();
    let mut after_ccs = false;
    for chunk in bytes.chunks(4096) {
        d.push(chunk).ok()?;
        while let Some(rec) = d.pop().ok()? {
            match rec.typ {
                ContentType::ChangeCipherSpec => after_ccs = true,
                ContentType::Handshake if after_ccs => return Some(rec.payload),
                _ => {}
            }
        }
    }
    None
}

/// The new ClientHello (handshake message) of a renegotiation: the client's Finished
/// verify_data in renegotiation_info after an RFC 5746 handshake, none after a legacy one.
pub(super) fn renegotiation_hello(ctx: &ScanContext, secure: bool, verify_data: &[u8]) -> Vec<u8> {
    let mut hello = ClientHello::for_probe(
        ProtocolVersion::Tls12,
        ctx.sni.as_deref(),
        &super::ciphers::candidates(ProtocolVersion::Tls12),
    );
    for e in hello.extensions.iter_mut() {
        if let ClientExtension::RenegotiationInfo(ri) = e {
            *ri = verify_data.to_vec();
        }
    }
    if !secure {
        // A legacy renegotiation carries no renegotiation_info.
        hello
            .extensions
            .retain(|e| !matches!(e, ClientExtension::RenegotiationInfo(_)));
    }
    hello.encode_handshake()
}

async fn probe(ctx: &ScanContext) -> Answer {
    use rustls::crypto::ring::cipher_suite as cs;
    let Ok(mut config) = tls12_config(&[
        cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]) else {
        return Answer::NotTested("no TLS 1.2 configuration could be built".into());
    };
    config.enable_secret_extraction = true;
    config.resumption = rustls::client::Resumption::disabled();
    let (mut rec, conn, deadline) = match tls12_handshake(
        ctx,
        config,
        "a full TLS 1.2 handshake with an ECDHE AES-GCM or ChaCha20-Poly1305 suite (needed to renegotiate)",
    )
    .await
    {
        Ok(x) => x,
        Err(e) => return Answer::NotTested(e),
    };
    let suite = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_default();
    let secure = crate::wire::flight::parse_all(&rec.from_server)
        .1
        .server_hello
        .is_some_and(|sh| sh.secure_renegotiation());
    let Ok(secrets) = conn.dangerous_extract_secrets() else {
        return Answer::NotTested("the connection's keys could not be read from rustls".into());
    };
    let (Some(tx), Some(rx)) = (
        RecordKey::from_secrets(&secrets.tx.1),
        RecordKey::from_secrets(&secrets.rx.1),
    ) else {
        return Answer::NotTested(format!("{suite} is not an AEAD suite the probe can seal"));
    };
    let (tx_seq, rx_seq) = (secrets.tx.0, secrets.rx.0);
    // The client's Finished went out with the sequence number before the current one.
    let verify_data = finished_record(&rec.to_server)
        .and_then(|p| open(&tx, tx_seq.checked_sub(1)?, ContentType::Handshake, &p))
        .filter(|m| m.len() == 16 && m[0] == 20)
        .map(|m| m[4..].to_vec());
    let Some(verify_data) = verify_data else {
        return Answer::NotTested("the client's Finished could not be read back".into());
    };
    let hello = renegotiation_hello(ctx, secure, &verify_data);
    let Some(record) = seal(&tx, tx_seq, ContentType::Handshake, &hello) else {
        return Answer::NotTested("the new ClientHello could not be encrypted".into());
    };
    let reply = send_and_read(&mut rec, &record, &rx, rx_seq, deadline).await;
    Answer::Answered {
        suite,
        secure,
        reply,
    }
}

async fn send_and_read(
    rec: &mut Recording,
    record: &[u8],
    rx: &RecordKey,
    rx_seq: u64,
    deadline: tokio::time::Instant,
) -> Reply {
    let by = (tokio::time::Instant::now() + ANSWER_WAIT).min(deadline);
    let exchange = async {
        let stream = rec.stream();
        if stream.write_all(record).await.is_err() {
            return Reply::Closed;
        }
        // Application data the server may have had in flight comes first: a few records at most.
        for seq in rx_seq..rx_seq + 4 {
            let mut header = [0u8; RecordHeader::LEN];
            if stream.read_exact(&mut header).await.is_err() {
                return Reply::Closed;
            }
            let Ok(h) = RecordHeader::from_bytes(&header) else {
                return Reply::Other(header[0]);
            };
            let len = usize::from(h.length);
            if len > crate::wire::record::MAX_PAYLOAD {
                return Reply::Other(h.typ.to_u8());
            }
            let mut payload = vec![0u8; len];
            if stream.read_exact(&mut payload).await.is_err() {
                return Reply::Closed;
            }
            let plain = open(rx, seq, h.typ, &payload);
            match h.typ {
                ContentType::ApplicationData => continue,
                // Decrypted, to be sure it is the new ServerHello (handshake type 2).
                ContentType::Handshake => {
                    return match plain {
                        Some(p) if p.first() == Some(&2) => Reply::Handshake,
                        _ => Reply::Other(h.typ.to_u8()),
                    };
                }
                ContentType::Alert => {
                    return plain
                        .and_then(|p| Alert::from_bytes(&p).ok())
                        .map_or(Reply::UnreadableAlert, Reply::Alert);
                }
                other => return Reply::Other(other.to_u8()),
            }
        }
        Reply::Other(ContentType::ApplicationData.to_u8())
    };
    match tokio::time::timeout_at(by, exchange).await {
        Ok(r) => r,
        Err(_) => Reply::Silent,
    }
}

/// The evidence from the probe's answer (none: TLS 1.2 not accepted).
pub fn fold_answer(answer: Option<Answer>, tls13_only: bool) -> ClientRenegotiationResult {
    let result =
        |allowed, secure, suite, answer, connections, evidence| ClientRenegotiationResult {
            allowed,
            secure_renegotiation: secure,
            suite,
            answer,
            connections,
            evidence,
        };
    let Some(answer) = answer else {
        let evidence = if tls13_only {
            "not applicable: the server speaks only TLS 1.3, which has no renegotiation".into()
        } else {
            "not tested: the server does not accept TLS 1.2 (the probe's handshake needs it)".into()
        };
        return result(None, None, None, None, 0, evidence);
    };
    match answer {
        Answer::NotTested(e) => result(None, None, None, None, 1, format!("not tested: {e}")),
        Answer::Answered {
            suite,
            secure,
            reply,
        } => {
            let said = reply.describe();
            let kind = match &reply {
                Reply::Handshake => "handshake".to_string(),
                Reply::Alert(a) => a.description.name().to_string(),
                Reply::UnreadableAlert => "alert".into(),
                Reply::Other(t) => format!("record type {t}"),
                Reply::Closed => "closed".into(),
                Reply::Silent => "silent".into(),
            };
            let how = if secure {
                "with the client's verify_data in renegotiation_info (RFC 5746)"
            } else {
                "without renegotiation_info (the first handshake was not RFC 5746 secure)"
            };
            let allowed = matches!(reply, Reply::Handshake);
            let evidence = if allowed {
                format!(
                    "ALLOWED: after a full TLS 1.2 handshake ({suite}), a new ClientHello sent by the client {how} was answered with {said}"
                )
            } else {
                format!(
                    "refused: after a full TLS 1.2 handshake ({suite}), a new ClientHello sent by the client {how} was answered with {said}"
                )
            };
            result(
                Some(allowed),
                Some(secure),
                Some(suite),
                Some(kind),
                1,
                evidence,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::AlertDescription;

    fn keys() -> [(RecordKey, usize); 2] {
        let gcm = aead::UnboundKey::new(&aead::AES_128_GCM, &[7u8; 16]).unwrap();
        let chacha = aead::UnboundKey::new(&aead::CHACHA20_POLY1305, &[9u8; 32]).unwrap();
        [
            (
                RecordKey {
                    key: aead::LessSafeKey::new(gcm),
                    nonce: NonceRule::Explicit([1, 2, 3, 4]),
                },
                GCM_EXPLICIT + TAG_LEN,
            ),
            (
                RecordKey {
                    key: aead::LessSafeKey::new(chacha),
                    nonce: NonceRule::Xor([5; 12]),
                },
                TAG_LEN,
            ),
        ]
    }

    #[test]
    fn sealed_records_open_with_the_same_key_and_sequence_only() {
        for (k, overhead) in keys() {
            let rec = seal(&k, 5, ContentType::Handshake, b"hello").unwrap();
            assert_eq!(&rec[..3], &[22, 3, 3]);
            assert_eq!(rec.len(), 5 + 5 + overhead);
            let payload = &rec[5..];
            assert_eq!(
                open(&k, 5, ContentType::Handshake, payload).unwrap(),
                b"hello"
            );
            assert!(open(&k, 6, ContentType::Handshake, payload).is_none());
            assert!(open(&k, 5, ContentType::Alert, payload).is_none());
            assert!(open(&k, 5, ContentType::Handshake, &payload[..10]).is_none());
            assert!(open(&k, 5, ContentType::Handshake, &[]).is_none());
        }
    }

    /// RFC 7905 §2: the ChaCha20 nonce is the IV with the sequence number XORed into its
    /// last 8 bytes; AES-GCM's is the salt and the record's explicit bytes.
    #[test]
    fn nonces_follow_each_suites_rule() {
        let [(gcm, _), (chacha, _)] = keys();
        let n = |k: &RecordKey, seq, explicit: &[u8]| *k.nonce(seq, explicit).unwrap().as_ref();
        assert_eq!(
            n(&chacha, 0x0102, &[]),
            [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5 ^ 1, 5 ^ 2]
        );
        assert_eq!(
            n(&gcm, 99, &[9, 8, 7, 6, 5, 4, 3, 2]),
            [1, 2, 3, 4, 9, 8, 7, 6, 5, 4, 3, 2]
        );
        assert!(gcm.nonce(0, &[1, 2]).is_none());
    }

    #[test]
    fn only_a_new_handshake_is_the_finding() {
        let answered = |reply| {
            fold_answer(
                Some(Answer::Answered {
                    suite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into(),
                    secure: true,
                    reply,
                }),
                false,
            )
        };
        let e = answered(Reply::Handshake);
        assert_eq!(e.allowed, Some(true));
        assert_eq!(
            ClientRenegotiation.findings(&e)[0].id,
            FindingId::ClientRenegotiationAllowed
        );
        for reply in [
            Reply::Alert(Alert {
                level: crate::wire::AlertLevel::Warning,
                description: AlertDescription::NoRenegotiation,
            }),
            Reply::Closed,
            Reply::Silent,
            Reply::UnreadableAlert,
        ] {
            let e = answered(reply);
            assert_eq!(e.allowed, Some(false), "{e:?}");
            assert!(ClientRenegotiation.findings(&e).is_empty());
        }
        let e = fold_answer(None, true);
        assert!(e.evidence.starts_with("not applicable"), "{e:?}");
        assert_eq!(e.connections, 0);
    }
}
