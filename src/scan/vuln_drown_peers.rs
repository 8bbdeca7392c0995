//! DROWN with the key elsewhere (CVE-2016-0800): a TLS server that never speaks SSLv2 is still
//! exposed when another server holding the same RSA key does, because an attacker who can talk
//! SSLv2 to that other server can use it as an oracle to decrypt the TLS server's recorded RSA
//! key exchanges. Which other servers share the key only the operator knows (mail, FTP, an
//! appliance), so the user names them: `--drown-peer HOST:PORT`, repeatable, which also
//! selects this check. (testssl.sh answers this question with a link to a certificate search
//! engine; sslyze has no DROWN test.)
//!
//! For each peer: one connection through the probe engine, an SSLv2 CLIENT-HELLO. An SSLv2
//! SERVER-HELLO carries the peer's certificate; its SubjectPublicKeyInfo is compared with the
//! one in the scanned server's cleartext certificate (the TLS 1.2-or-older version probe's
//! flight, so no connection is added to the server). The same key over SSLv2 on any peer is
//! the `drown` finding's `shared-key` variant, naming the peer. A peer is always probed
//! directly (no STARTTLS upgrade, whatever the scanned target uses).

use super::ScanContext;
use super::check::{Basis, Check, Job, SummaryLine};
use crate::finding::catalogue::finding;
use crate::finding::{Finding, variant};
use crate::probe::{ProbeOutcome, Prober};
use crate::wire::{Codec, ProtocolVersion, Sslv2ClientHello};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The check `drown-peers`.
pub struct DrownPeers;

/// The most peers one scan probes (each costs a connection; the option is for a handful).
pub const MAX_PEERS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrownPeersResult {
    /// `Some(true)`: a peer speaks SSLv2 with the server's public key; `Some(false)`: every
    /// peer was tested and none does; `None`: not tested (no cleartext certificate, or no
    /// peer could be tested).
    pub vulnerable: Option<bool>,
    /// SHA-256 of the scanned server's SubjectPublicKeyInfo (hex), when seen.
    pub server_key_sha256: Option<String>,
    pub peers: Vec<DrownPeer>,
    pub connections: u32,
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrownPeer {
    /// As the user named it (`HOST:PORT`).
    pub peer: String,
    /// The address probed, once resolved.
    pub address: Option<String>,
    /// `Some(true)`: it answered the SSLv2 hello with a SERVER-HELLO; `None`: unreachable.
    pub sslv2: Option<bool>,
    /// SHA-256 of the SubjectPublicKeyInfo in its SSLv2 certificate (hex).
    pub key_sha256: Option<String>,
    /// Whether that key is the scanned server's (`None`: not compared).
    pub same_key: Option<bool>,
    pub evidence: String,
}

/// What one peer's probe saw.
#[derive(Debug)]
pub enum Answer {
    Unresolved(String, String),
    Probed {
        peer: String,
        address: SocketAddr,
        outcome: ProbeOutcome,
    },
}

impl Check for DrownPeers {
    const NAME: &'static str = "drown-peers";
    const TITLE: &'static str = "DROWN (same key elsewhere)";
    const BY_DEFAULT: bool = false;
    type Answer = Answer;
    type Evidence = DrownPeersResult;

    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, Answer>> {
        // Without the server's certificate in clear there is nothing to compare with.
        if server_spki(basis).is_none() {
            return Vec::new();
        }
        basis
            .ctx
            .drown_peers
            .iter()
            .take(MAX_PEERS)
            .map(|p| -> Job<'a, Answer> { Box::pin(probe_peer(basis.ctx, p.clone())) })
            .collect()
    }

    fn fold(&self, basis: &Basis<'_>, answers: Vec<Answer>) -> DrownPeersResult {
        fold_answers(
            server_spki(basis).as_deref(),
            &basis.ctx.drown_peers,
            basis.accepted() == [ProtocolVersion::Tls13],
            answers,
        )
    }

    fn findings(&self, e: &DrownPeersResult) -> Vec<Finding> {
        let shared: Vec<&DrownPeer> = e
            .peers
            .iter()
            .filter(|p| p.same_key == Some(true))
            .collect();
        if shared.is_empty() {
            return Vec::new();
        }
        let names: Vec<&str> = shared.iter().map(|p| p.peer.as_str()).collect();
        let mut f = finding(variant::drown::SHARED_KEY, &[("peers", names.join(", "))]);
        f.evidence.extend(shared.iter().map(|p| p.evidence.clone()));
        f.evidence.push("CVE-2016-0800".into());
        vec![f]
    }

    fn summary(&self, e: &DrownPeersResult) -> Vec<SummaryLine> {
        let value = match e.vulnerable {
            Some(true) => "VULNERABLE",
            Some(false) => "not vulnerable",
            None => "not tested",
        };
        let mut lines = vec![SummaryLine {
            label: DrownPeers::TITLE,
            value: value.into(),
            evidence: e.evidence.clone(),
        }];
        lines.extend(e.peers.iter().map(|p| SummaryLine {
            label: "  peer",
            value: p.peer.clone(),
            evidence: p.evidence.clone(),
        }));
        lines
    }
}

/// The scanned server's SubjectPublicKeyInfo (DER), from its cleartext certificate.
fn server_spki(basis: &Basis<'_>) -> Option<Vec<u8>> {
    let leaf = basis.base()?.certificates.as_ref()?.first()?;
    spki_of(leaf)
}

fn spki_of(cert_der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).ok()?;
    Some(cert.public_key().raw.to_vec())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// `HOST:PORT`, resolved within the connect deadline; the first address is probed.
async fn resolve(ctx: &ScanContext, peer: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = peer.parse::<SocketAddr>() {
        return Ok(a);
    }
    let wait = ctx.prober.config().connect_timeout;
    match tokio::time::timeout(wait, tokio::net::lookup_host(peer)).await {
        Err(_) => Err(format!("resolving {peer} timed out")),
        Ok(Err(e)) => Err(format!("{peer} does not resolve: {e}")),
        Ok(Ok(mut addrs)) => addrs
            .next()
            .ok_or_else(|| format!("{peer} resolves to no address")),
    }
}

async fn probe_peer(ctx: &ScanContext, peer: String) -> Answer {
    let address = match resolve(ctx, &peer).await {
        Ok(a) => a,
        Err(e) => return Answer::Unresolved(peer, e),
    };
    // The scan's deadlines, pacing and progress, but the peer's own address, cap and count,
    // and no upgrade: the peer is asked for SSLv2 directly.
    let mut cfg = ctx.prober.config().clone();
    cfg.prelude = None;
    cfg.backoff = None;
    let prober = Prober::new(address, cfg);
    let hello = Sslv2ClientHello::for_probe().to_bytes();
    let outcome = prober.send_hello(&hello).await.outcome;
    Answer::Probed {
        peer,
        address,
        outcome,
    }
}

/// One peer's evidence from its answer, against the server's key `ours`.
fn judge_peer(ours: &[u8], answer: Answer) -> DrownPeer {
    let (peer, address, outcome) = match answer {
        Answer::Unresolved(peer, e) => {
            return DrownPeer {
                peer,
                address: None,
                sslv2: None,
                key_sha256: None,
                same_key: None,
                evidence: format!("not tested: {e}"),
            };
        }
        Answer::Probed {
            peer,
            address,
            outcome,
        } => (peer, address, outcome),
    };
    // The peer as named, with the address probed when the name was not already one.
    let who = if address.to_string() == peer {
        peer.clone()
    } else {
        format!("{peer} ({address})")
    };
    let mut p = DrownPeer {
        peer: peer.clone(),
        address: Some(address.to_string()),
        sslv2: None,
        key_sha256: None,
        same_key: None,
        evidence: String::new(),
    };
    let hello = match &outcome {
        ProbeOutcome::Accepted(f) => f.sslv2.as_ref(),
        _ => None,
    };
    match hello {
        Some(h) => {
            p.sslv2 = Some(true);
            match spki_of(&h.certificate) {
                Some(theirs) => {
                    let same = theirs == ours;
                    p.key_sha256 = Some(sha256_hex(&theirs));
                    p.same_key = Some(same);
                    p.evidence = if same {
                        format!(
                            "{who} accepts SSLv2 and its SSLv2 certificate holds this server's public key (SHA-256 {})",
                            sha256_hex(ours)
                        )
                    } else {
                        format!(
                            "{who} accepts SSLv2, with another public key (SHA-256 {}): not this server's",
                            sha256_hex(&theirs)
                        )
                    };
                }
                None => {
                    p.evidence = format!(
                        "{who} accepts SSLv2, but its certificate could not be parsed: keys not compared"
                    );
                }
            }
        }
        None => {
            let reachable = !matches!(
                outcome,
                ProbeOutcome::ConnectFailed { .. }
                    | ProbeOutcome::ConnectTimeout
                    | ProbeOutcome::DeadlineReached
            );
            if reachable {
                p.sslv2 = Some(false);
                p.same_key = Some(false);
                p.evidence = format!("{who} refuses SSLv2: {}", outcome.describe());
            } else {
                p.evidence = format!("not tested: {who}: {}", outcome.describe());
            }
        }
    }
    p
}

/// The evidence from every peer's answer (none: no cleartext certificate to compare with).
pub fn fold_answers(
    ours: Option<&[u8]>,
    named: &[String],
    tls13_only: bool,
    answers: Vec<Answer>,
) -> DrownPeersResult {
    let Some(ours) = ours else {
        let evidence = if tls13_only {
            "not applicable: the server speaks only TLS 1.3, which has no RSA key exchange for DROWN to decrypt".into()
        } else {
            "not tested: the server's certificate was not seen in clear".into()
        };
        return DrownPeersResult {
            vulnerable: None,
            server_key_sha256: None,
            peers: Vec::new(),
            connections: 0,
            evidence,
        };
    };
    let connections = answers
        .iter()
        .filter(|a| matches!(a, Answer::Probed { .. }))
        .count() as u32;
    let peers: Vec<DrownPeer> = answers.into_iter().map(|a| judge_peer(ours, a)).collect();
    let shared: Vec<&str> = peers
        .iter()
        .filter(|p| p.same_key == Some(true))
        .map(|p| p.peer.as_str())
        .collect();
    let untested = peers.iter().filter(|p| p.same_key.is_none()).count();
    let skipped = named.len().saturating_sub(peers.len());
    let (vulnerable, mut evidence) = if !shared.is_empty() {
        (
            Some(true),
            format!(
                "VULNERABLE: this server's RSA key is served over SSLv2 by {}",
                shared.join(", ")
            ),
        )
    } else if peers.is_empty() || untested == peers.len() {
        (None, "not tested: no peer could be tested".to_string())
    } else {
        let tested = peers.len() - untested;
        (
            (untested == 0).then_some(false),
            format!(
                "no SSLv2 server with this key among the {tested} peer(s) tested{}",
                if untested > 0 {
                    format!("; {untested} could not be tested")
                } else {
                    String::new()
                }
            ),
        )
    };
    if skipped > 0 {
        evidence.push_str(&format!(
            "; {skipped} peer(s) beyond the first {MAX_PEERS} not probed"
        ));
    }
    DrownPeersResult {
        vulnerable,
        server_key_sha256: Some(sha256_hex(ours)),
        peers,
        connections,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ServerFlight, Sslv2ServerHello, sslv2};

    fn cert(seed: &str) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec![seed.to_string()]).unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    fn sslv2_answer(peer: &str, cert: Vec<u8>) -> Answer {
        let flight = ServerFlight {
            sslv2: Some(Sslv2ServerHello {
                session_id_hit: false,
                certificate: cert,
                cipher_specs: sslv2::CIPHER_KINDS.to_vec(),
                version: 2,
                connection_id: vec![0; 16],
            }),
            ..ServerFlight::default()
        };
        Answer::Probed {
            peer: peer.into(),
            address: "127.0.0.1:2000".parse().unwrap(),
            outcome: ProbeOutcome::Accepted(Box::new(flight)),
        }
    }

    #[test]
    fn only_the_same_key_over_sslv2_is_the_finding() {
        let ours = cert("a.test");
        let ours_key = spki_of(&ours).unwrap();
        // The same key in another certificate counts: DROWN is about the key.
        let named = vec!["mail:25".to_string(), "other:443".into(), "tls:443".into()];
        let answers = vec![
            sslv2_answer("mail:25", ours.clone()),
            sslv2_answer("other:443", cert("b.test")),
            Answer::Probed {
                peer: "tls:443".into(),
                address: "127.0.0.1:2001".parse().unwrap(),
                outcome: ProbeOutcome::Closed { bytes_received: 0 },
            },
        ];
        let e = fold_answers(Some(&ours_key), &named, false, answers);
        assert_eq!(e.vulnerable, Some(true), "{e:#?}");
        assert_eq!(e.connections, 3);
        let same: Vec<Option<bool>> = e.peers.iter().map(|p| p.same_key).collect();
        assert_eq!(same, [Some(true), Some(false), Some(false)]);
        assert_eq!(e.peers[2].sslv2, Some(false));
        let f = DrownPeers.findings(&e);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, crate::finding::FindingId::Drown);
        assert!(f[0].title.contains("mail:25"), "{}", f[0].title);
        assert!(!f[0].title.contains("other:443"), "{}", f[0].title);
        assert!(f[0].evidence.iter().any(|l| l.contains("CVE-2016-0800")));
    }

    #[test]
    fn unreachable_peers_leave_the_verdict_open() {
        let ours = spki_of(&cert("a.test")).unwrap();
        let named = vec!["gone:443".to_string(), "nosuch:1".into()];
        let answers = vec![
            Answer::Probed {
                peer: "gone:443".into(),
                address: "127.0.0.1:2002".parse().unwrap(),
                outcome: ProbeOutcome::ConnectFailed {
                    kind: std::io::ErrorKind::ConnectionRefused,
                    message: "refused".into(),
                },
            },
            Answer::Unresolved("nosuch:1".into(), "nosuch:1 does not resolve".into()),
        ];
        let e = fold_answers(Some(&ours), &named, false, answers);
        assert_eq!(e.vulnerable, None, "{e:#?}");
        assert!(DrownPeers.findings(&e).is_empty());
        let e = fold_answers(None, &named, true, Vec::new());
        assert!(e.evidence.starts_with("not applicable"), "{e:?}");
    }
}
