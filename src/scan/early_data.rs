//! TLS 1.3 early data (0-RTT): whether the server accepts data a client sends with its first
//! flight when it resumes a session. Such data can be replayed by anyone who recorded it, so
//! a server that accepts it must only act on requests that are safe to repeat.
//!
//! One job, two full handshakes (rustls): the first collects a session ticket and reads how
//! much early data it allows; the second resumes with that ticket and offers early data. The
//! server's EncryptedExtensions says whether it accepted; tlsdoctor sends no early data bytes,
//! so nothing reaches the application.

use super::ScanContext;
use super::check::{Basis, Check, Job, SummaryLine};
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};
use crate::probe::{HandshakeError, ProbeOutcome};
use crate::wire::ProtocolVersion;
use rustls::client::{ClientSessionMemoryCache, ClientSessionStore, Resumption};
use rustls::pki_types::ServerName;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

/// The check `early-data`.
pub struct EarlyData;

/// What the server does with early data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlyDataSupport {
    /// Whether a resumed TLS 1.3 handshake offering early data had it accepted; `None` when
    /// that could not be tried (no TLS 1.3, or a handshake failed).
    pub accepted: Option<bool>,
    /// How many bytes of early data the server's session ticket allows, when one came.
    pub max_early_data_size: Option<u32>,
    pub evidence: String,
}

/// How long to wait for the session ticket after the first handshake: servers send it right
/// after the client's Finished, so a second is plenty even far away.
const TICKET_WAIT: Duration = Duration::from_secs(1);

impl Check for EarlyData {
    const NAME: &'static str = "early-data";
    const TITLE: &'static str = "Early data (0-RTT)";
    // It takes two more handshakes; asked for by name.
    const BY_DEFAULT: bool = false;
    type Answer = Result<Attempt, String>;
    type Evidence = EarlyDataSupport;

    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, Self::Answer>> {
        if !basis.accepts(ProtocolVersion::Tls13) {
            return Vec::new();
        }
        vec![Box::pin(attempt(basis.ctx))]
    }

    fn fold(&self, _: &Basis<'_>, answers: Vec<Self::Answer>) -> EarlyDataSupport {
        let support = |accepted, max, evidence: String| EarlyDataSupport {
            accepted,
            max_early_data_size: max,
            evidence,
        };
        match answers.into_iter().next() {
            None => support(
                None,
                None,
                "TLS 1.3 not accepted: early data exists only in TLS 1.3".into(),
            ),
            Some(Err(e)) => support(None, None, e),
            Some(Ok(Attempt::NoTicket)) => support(
                Some(false),
                None,
                format!(
                    "no TLS 1.3 session ticket came within {}s of a full handshake: without one a client cannot send early data",
                    TICKET_WAIT.as_secs()
                ),
            ),
            Some(Ok(Attempt::NotAllowed)) => support(
                Some(false),
                Some(0),
                "the server's TLS 1.3 session ticket allows no early data (max_early_data_size 0)"
                    .into(),
            ),
            Some(Ok(Attempt::Resumed {
                max,
                resumed,
                accepted,
            })) => {
                let evidence = match (resumed, accepted) {
                    (_, true) => format!(
                        "a resumed TLS 1.3 handshake offering early data had it accepted (the ticket allows {max} bytes; tlsdoctor sent none)"
                    ),
                    (true, false) => format!(
                        "a resumed TLS 1.3 handshake offering early data had it rejected, although the ticket allows {max} bytes"
                    ),
                    (false, false) => format!(
                        "the ticket allows {max} bytes of early data, but the handshake presenting it was not resumed, so its early data was rejected"
                    ),
                };
                support(Some(accepted), Some(max), evidence)
            }
        }
    }

    fn findings(&self, e: &EarlyDataSupport) -> Vec<Finding> {
        if e.accepted != Some(true) {
            return Vec::new();
        }
        vec![finding(FindingId::EarlyDataAccepted, &[]).evidence(e.evidence.clone())]
    }

    fn summary(&self, e: &EarlyDataSupport) -> Vec<SummaryLine> {
        let value = match e.accepted {
            Some(true) => "accepted",
            Some(false) => "not accepted",
            None => "unknown",
        };
        vec![SummaryLine {
            label: "TLS 1.3 early data",
            value: value.into(),
            evidence: e.evidence.clone(),
        }]
    }
}

/// How the attempt went, when both handshakes could be made (or the second was pointless).
pub enum Attempt {
    /// The first handshake brought no ticket.
    NoTicket,
    /// The ticket allows no early data: rustls does not offer it then.
    NotAllowed,
    /// The second handshake: whether it resumed, and whether the early data was accepted.
    Resumed {
        max: u32,
        resumed: bool,
        accepted: bool,
    },
}

/// rustls's session cache, noting the early-data allowance of the last TLS 1.3 ticket and
/// waking whoever waits for one.
#[derive(Debug)]
struct TicketWatch {
    cache: ClientSessionMemoryCache,
    max_early_data: Mutex<Option<u32>>,
    arrived: Notify,
}

impl TicketWatch {
    fn max_early_data(&self) -> Option<u32> {
        *self
            .max_early_data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

impl ClientSessionStore for TicketWatch {
    fn set_kx_hint(&self, name: ServerName<'static>, group: rustls::NamedGroup) {
        self.cache.set_kx_hint(name, group)
    }
    fn kx_hint(&self, name: &ServerName<'_>) -> Option<rustls::NamedGroup> {
        self.cache.kx_hint(name)
    }
    fn set_tls12_session(
        &self,
        name: ServerName<'static>,
        value: rustls::client::Tls12ClientSessionValue,
    ) {
        self.cache.set_tls12_session(name, value)
    }
    fn tls12_session(
        &self,
        name: &ServerName<'_>,
    ) -> Option<rustls::client::Tls12ClientSessionValue> {
        self.cache.tls12_session(name)
    }
    fn remove_tls12_session(&self, name: &ServerName<'static>) {
        self.cache.remove_tls12_session(name)
    }
    fn insert_tls13_ticket(
        &self,
        name: ServerName<'static>,
        value: rustls::client::Tls13ClientSessionValue,
    ) {
        *self
            .max_early_data
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(value.max_early_data_size());
        self.cache.insert_tls13_ticket(name, value);
        self.arrived.notify_one();
    }
    fn take_tls13_ticket(
        &self,
        name: &ServerName<'static>,
    ) -> Option<rustls::client::Tls13ClientSessionValue> {
        self.cache.take_tls13_ticket(name)
    }
}

/// Collect a ticket, then resume with it offering early data.
async fn attempt(ctx: &ScanContext) -> Result<Attempt, String> {
    let watch = Arc::new(TicketWatch {
        cache: ClientSessionMemoryCache::new(4),
        max_early_data: Mutex::new(None),
        arrived: Notify::new(),
    });
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(crate::cert::fetch::evidence_only_verifier())
        .with_no_client_auth();
    config.resumption = Resumption::store(watch.clone());
    config.enable_early_data = true;
    let config = Arc::new(config);
    let name = match &ctx.sni {
        Some(n) => ServerName::try_from(n.clone()).map_err(|e| e.to_string())?,
        None => ServerName::IpAddress(ctx.prober.addr().ip().into()),
    };
    // Through the engine: slot, count, deadlines and prelude as for every connection.
    let handshake = |what: &'static str| {
        let (config, name) = (config.clone(), name.clone());
        async move {
            ctx.prober
                .tls_handshake(config, name)
                .await
                .map_err(|e| match e {
                    HandshakeError::Connect(c) => ProbeOutcome::from(c).describe(),
                    HandshakeError::Failed(f) => format!("{what} failed: {f}"),
                })
        }
    };

    // First: a full handshake, then read until the ticket is in the cache. The session
    // (and its connection slot) ends before the second handshake asks for one.
    {
        let mut first = handshake("a full TLS 1.3 handshake (needed to test early data)").await?;
        let mut buf = [0u8; 512];
        let wait = async {
            loop {
                tokio::select! {
                    _ = watch.arrived.notified() => return,
                    // Reading is what lets rustls process the ticket; application data
                    // (which a server has no reason to send) and errors end the wait.
                    r = first.stream.read(&mut buf) => if !matches!(r, Ok(n) if n > 0) { return },
                }
            }
        };
        let _ = tokio::time::timeout(TICKET_WAIT, wait).await;
        let _ = tokio::time::timeout_at(first.deadline, first.stream.shutdown()).await;
    }
    let max = match watch.max_early_data() {
        None => return Ok(Attempt::NoTicket),
        Some(0) => return Ok(Attempt::NotAllowed),
        Some(max) => max,
    };

    // Then: resume with the ticket, offering early data.
    let mut second = handshake("the resumed TLS 1.3 handshake offering early data").await?;
    let conn = second.stream.get_ref().1;
    let resumed = conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
    let accepted = conn.is_early_data_accepted();
    let _ = tokio::time::timeout_at(second.deadline, second.stream.shutdown()).await;
    Ok(Attempt::Resumed {
        max,
        resumed,
        accepted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{ProbeConfig, Prober};

    fn folded(answers: Vec<<EarlyData as Check>::Answer>) -> EarlyDataSupport {
        // The fold reads nothing from the basis; no connection is made.
        let ctx = ScanContext::new(
            Prober::new(([127, 0, 0, 1], 9).into(), ProbeConfig::default()),
            None,
        );
        EarlyData.fold(&Basis::empty(&ctx), answers)
    }

    #[test]
    fn acceptance_is_the_one_finding() {
        let e = folded(vec![Ok(Attempt::Resumed {
            max: 16384,
            resumed: true,
            accepted: true,
        })]);
        assert_eq!(
            (e.accepted, e.max_early_data_size),
            (Some(true), Some(16384))
        );
        let f = EarlyData.findings(&e);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, FindingId::EarlyDataAccepted);
        assert_eq!(f[0].evidence, vec![e.evidence.clone()]);
        assert_eq!(EarlyData.summary(&e)[0].value, "accepted");
    }

    #[test]
    fn every_other_answer_reports_no_finding() {
        let cases = [
            (vec![], None, "TLS 1.3 not accepted"),
            (
                vec![Err("connect timed out".into())],
                None,
                "connect timed out",
            ),
            (
                vec![Ok(Attempt::NoTicket)],
                Some(false),
                "no TLS 1.3 session ticket",
            ),
            (
                vec![Ok(Attempt::NotAllowed)],
                Some(false),
                "allows no early data",
            ),
            (
                vec![Ok(Attempt::Resumed {
                    max: 100,
                    resumed: true,
                    accepted: false,
                })],
                Some(false),
                "had it rejected, although the ticket allows 100 bytes",
            ),
            (
                vec![Ok(Attempt::Resumed {
                    max: 100,
                    resumed: false,
                    accepted: false,
                })],
                Some(false),
                "was not resumed",
            ),
        ];
        for (answers, accepted, says) in cases {
            let e = folded(answers);
            assert_eq!(e.accepted, accepted, "{e:?}");
            assert!(e.evidence.contains(says), "{e:?}");
            assert!(EarlyData.findings(&e).is_empty(), "{e:?}");
        }
    }
}
