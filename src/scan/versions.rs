//! Protocol-version support: one probe per version, SSL 2.0 to TLS 1.3, all concurrent.
//! A version is accepted only when the server answers with exactly that version.

use super::check::{Basis, Check, Job, Stage};
use super::{ScanError, plaintext};
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};
use crate::probe::{OutcomeSummary, ProbeOutcome};
use crate::wire::{ClientHello, Codec, ProtocolVersion, Sslv2ClientHello, suites};
use serde::Serialize;

/// The verdict for one protocol version.
#[derive(Debug, Clone, Serialize)]
pub struct VersionResult {
    pub version: ProtocolVersion,
    /// Human name (`TLSv1.2`).
    pub name: String,
    pub accepted: bool,
    /// One line saying why: the ServerHello seen, the alert, or how the connection ended.
    pub evidence: String,
    /// The negotiated cipher suite when accepted (display name).
    pub cipher_suite: Option<String>,
    pub outcome: OutcomeSummary,
    #[serde(skip)]
    pub raw: ProbeOutcome,
}

/// Results for every version, oldest first.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct ProtocolSupport {
    pub results: Vec<VersionResult>,
}

impl ProtocolSupport {
    pub fn accepted(&self) -> Vec<ProtocolVersion> {
        self.results
            .iter()
            .filter(|r| r.accepted)
            .map(|r| r.version)
            .collect()
    }

    pub fn get(&self, v: ProtocolVersion) -> Option<&VersionResult> {
        self.results.iter().find(|r| r.version == v)
    }

    /// Every probe ended with the server closing or resetting the connection without a byte.
    pub fn all_closed_silently(&self) -> bool {
        self.results.iter().all(|r| {
            matches!(
                r.raw,
                ProbeOutcome::Closed { bytes_received: 0 }
                    | ProbeOutcome::Reset { bytes_received: 0 }
            )
        })
    }

    /// Turn "nothing usable" into the error the user should see: unreachable, not TLS, or
    /// TLS that accepted no version we offer.
    pub fn ensure_usable(&self, address: &str) -> Result<(), ScanError> {
        if self.results.iter().any(|r| r.accepted) {
            return Ok(());
        }
        if let Some(r) = self.results.iter().find(|r| r.raw.is_unreachable()) {
            let reason = match &r.raw {
                ProbeOutcome::ConnectFailed { message, .. } => message.clone(),
                _ => "connect timed out".to_string(),
            };
            return Err(ScanError::Unreachable {
                address: address.to_string(),
                reason,
            });
        }
        if self
            .results
            .iter()
            .any(|r| matches!(r.raw, ProbeOutcome::DeadlineReached))
        {
            return Err(ScanError::Deadline {
                address: address.to_string(),
            });
        }
        if let Some((prelude, error)) = self.results.iter().find_map(|r| match &r.raw {
            ProbeOutcome::PreludeFailed { prelude, error } => Some((prelude, error)),
            _ => None,
        }) {
            return Err(ScanError::Upgrade {
                address: address.to_string(),
                prelude: prelude.clone(),
                error: error.clone(),
            });
        }
        if let Some(first_bytes) = self.results.iter().find_map(|r| match &r.raw {
            ProbeOutcome::NotTls { first_bytes } => Some(first_bytes.clone()),
            _ => None,
        }) {
            let hint = plaintext::identify(&first_bytes)
                .map(|p| format!(" — looks like {}: {}", p.name, p.hint))
                .unwrap_or_default();
            return Err(ScanError::NotTls {
                address: address.to_string(),
                first_bytes: crate::wire::printable_prefix(&first_bytes),
                hint,
            });
        }
        let reason = self
            .results
            .iter()
            .map(|r| format!("{}: {}", r.name, r.evidence))
            .collect::<Vec<_>>()
            .join("; ");
        Err(ScanError::NoTls {
            address: address.to_string(),
            reason,
        })
    }
}

/// The bytes of the probe for `version`: every suite the registry allows in that version
/// (so any server configuration finds one it likes), plus the modern extensions.
pub fn probe_hello(version: ProtocolVersion, sni: Option<&str>) -> Vec<u8> {
    match probe_client_hello(version, sni) {
        Some(hello) => hello.encode_probe(),
        None => Sslv2ClientHello::for_probe().to_bytes(),
    }
}

/// The hello [`probe_hello`] sends, for every version but SSLv2 (whose hello has its own
/// format).
pub fn probe_client_hello(version: ProtocolVersion, sni: Option<&str>) -> Option<ClientHello> {
    match version {
        ProtocolVersion::Ssl2 => None,
        v => {
            // Every suite the registry allows in `v`, so any configuration finds one it likes.
            let mut ids = super::ciphers::candidates(v);
            if v != ProtocolVersion::Tls13 {
                ids.push(suites::TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
            }
            Some(ClientHello::for_probe(v, sni, &ids))
        }
    }
}

/// The basis stage: one probe per version, all concurrent.
pub struct Protocols;

impl Check for Protocols {
    const NAME: &'static str = "protocols";
    const TITLE: &'static str = "Protocol versions";
    const STAGE: Stage = Stage::Basis;
    type Answer = (ProtocolVersion, ProbeOutcome);
    type Evidence = ProtocolSupport;

    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, Self::Answer>> {
        let ctx = basis.ctx;
        ProtocolVersion::ALL
            .into_iter()
            .map(|v| -> Job<'a, Self::Answer> {
                if v == ProtocolVersion::Tls13 {
                    // A HelloRetryRequest is followed through, so that a server that only
                    // ever asks again is not taken for one that accepts TLS 1.3.
                    if let Some(hello) = probe_client_hello(v, ctx.sni.as_deref()) {
                        return Box::pin(async move {
                            (
                                v,
                                ctx.prober.send_hello_following_retry(&hello).await.outcome,
                            )
                        });
                    }
                }
                let hello = probe_hello(v, ctx.sni.as_deref());
                Box::pin(async move { (v, ctx.prober.send_hello(&hello).await.outcome) })
            })
            .collect()
    }

    fn fold(&self, _: &Basis<'_>, answers: Vec<Self::Answer>) -> ProtocolSupport {
        ProtocolSupport {
            results: answers
                .into_iter()
                .map(|(v, outcome)| judge(v, outcome))
                .collect(),
        }
    }

    /// Versions older than TLS 1.2 next to a current one: weak, though it breaks nobody.
    fn findings(&self, protocols: &ProtocolSupport) -> Vec<Finding> {
        let accepted = protocols.accepted();
        let legacy: Vec<ProtocolVersion> = accepted
            .iter()
            .copied()
            .filter(|v| *v < ProtocolVersion::Tls12)
            .collect();
        if legacy.is_empty() || !accepted.iter().any(|v| *v >= ProtocolVersion::Tls12) {
            return Vec::new();
        }
        vec![
            finding(
                FindingId::LegacyProtocolsEnabled,
                &[("legacy_versions", names(&legacy))],
            )
            .evidence(format!("accepted: {}", names(&accepted))),
        ]
    }
}

/// "TLSv1, TLSv1.1".
pub fn names(vs: &[ProtocolVersion]) -> String {
    vs.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
}

/// Decide whether `version` was accepted from the server's answer to its probe.
pub fn judge(version: ProtocolVersion, outcome: ProbeOutcome) -> VersionResult {
    let (accepted, evidence, cipher_suite) = match &outcome {
        ProbeOutcome::Accepted(flight) => match (&flight.server_hello, &flight.sslv2) {
            (_, Some(v2)) if version == ProtocolVersion::Ssl2 => (
                true,
                format!(
                    "SSLv2 ServerHello with {} cipher kind(s)",
                    v2.cipher_specs.len()
                ),
                v2.cipher_specs
                    .first()
                    .map(|id| suites::by_id(*id).map(|s| s.display_name().to_string()))
                    .unwrap_or(None),
            ),
            (Some(sh), _) => {
                let got = sh.negotiated_version();
                let suite = suites::name_of(sh.cipher_suite);
                if got == version {
                    let what = if sh.is_hello_retry_request {
                        "HelloRetryRequest"
                    } else {
                        "ServerHello"
                    };
                    (true, format!("{what} {got} with {suite}"), Some(suite))
                } else {
                    (
                        false,
                        format!("server answered with {got} instead (ServerHello with {suite})"),
                        None,
                    )
                }
            }
            _ => (false, outcome.describe(), None),
        },
        other => (false, other.describe(), None),
    };
    VersionResult {
        version,
        name: version.name(),
        accepted,
        evidence,
        cipher_suite,
        outcome: OutcomeSummary::from(&outcome),
        raw: outcome,
    }
}
