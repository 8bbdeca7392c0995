//! Session resumption in TLS 1.2, by session ID and by session ticket: two full handshakes
//! (rustls, evidence-only verifier), the second offering what the first left behind.

use super::ScanContext;
use super::check::{Basis, Check, Job};
use super::properties::Property;
use crate::probe::{HandshakeError, HandshakeFailure, ProbeOutcome};
use crate::wire::ProtocolVersion;
use rustls::client::{Resumption as RustlsResumption, Tls12Resumption};
use rustls::pki_types::ServerName;
use serde::Serialize;
use std::sync::Arc;

/// TLS 1.2 resumption by session ID and by session ticket.
pub struct Resumption;

/// The resumption check's evidence (in JSON: the `resumption_*` fields of `properties`).
#[derive(Debug, Clone, Serialize)]
pub struct ResumptionSupport {
    pub by_session_id: Property,
    pub by_ticket: Property,
}

/// One resumption attempt: by ticket or by session ID, and whether the second handshake
/// resumed (`None`: nothing to resume with).
pub struct Attempt {
    by_ticket: bool,
    resumed: Result<Option<bool>, String>,
}

impl Check for Resumption {
    const NAME: &'static str = "resumption";
    const TITLE: &'static str = "Session resumption";
    type Answer = Attempt;
    type Evidence = ResumptionSupport;

    /// By session ID whenever TLS 1.2 is accepted; by ticket when the server acknowledged
    /// session_ticket in the basis stage's flight.
    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, Attempt>> {
        if !basis.accepts(ProtocolVersion::Tls12) {
            return Vec::new();
        }
        let ctx = basis.ctx;
        let ticket_acked = basis
            .base()
            .and_then(|f| f.server_hello.as_ref())
            .is_some_and(|sh| sh.has_extension(0x0023));
        let ahead = basis.head_start().and_then(|h| h.resumed_by_id.clone());
        let mut jobs: Vec<Job<'a, Attempt>> = vec![Box::pin(async move {
            let by_id = resumed(ctx, Tls12Resumption::SessionIdOnly);
            Attempt {
                by_ticket: false,
                resumed: super::schedule::ahead_or(ahead, by_id).await,
            }
        })];
        if ticket_acked {
            jobs.push(Box::pin(async move {
                Attempt {
                    by_ticket: true,
                    resumed: resumed(ctx, Tls12Resumption::SessionIdOrTickets).await,
                }
            }));
        }
        jobs
    }

    fn fold(&self, basis: &Basis<'_>, answers: Vec<Attempt>) -> ResumptionSupport {
        if !basis.accepts(ProtocolVersion::Tls12) {
            let p = Property {
                supported: None,
                evidence: "TLS 1.2 not accepted: TLS 1.2 session resumption does not apply".into(),
            };
            return ResumptionSupport {
                by_session_id: p.clone(),
                by_ticket: p,
            };
        }
        let mut id = Ok(None);
        let mut ticket = Ok(None);
        for a in answers {
            if a.by_ticket {
                ticket = a.resumed;
            } else {
                id = a.resumed;
            }
        }
        let by_session_id = match id {
            Ok(Some(true)) => {
                yes("a second handshake offering the first one's session ID was resumed")
            }
            Ok(Some(false)) | Ok(None) => {
                no("a second handshake offering the first one's session ID got a full handshake")
            }
            Err(e) => unknown(e),
        };
        let by_ticket = match ticket {
            Ok(Some(true)) => {
                yes("a second handshake presenting the server's session ticket was resumed")
            }
            Ok(Some(false)) => no(
                "the server issues tickets, but a second handshake presenting one got a full handshake",
            ),
            Ok(None) => no("the server does not acknowledge the session_ticket extension"),
            Err(e) => unknown(e),
        };
        ResumptionSupport {
            by_session_id,
            by_ticket,
        }
    }
}

fn yes(e: &str) -> Property {
    Property {
        supported: Some(true),
        evidence: e.into(),
    }
}
fn no(e: &str) -> Property {
    Property {
        supported: Some(false),
        evidence: e.into(),
    }
}
fn unknown(e: String) -> Property {
    Property {
        supported: None,
        evidence: e,
    }
}

/// Two TLS 1.2 handshakes sharing a session cache; Some(true) when the second resumed.
pub(crate) async fn resumed(
    ctx: &ScanContext,
    mode: Tls12Resumption,
) -> Result<Option<bool>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(crate::cert::fetch::evidence_only_verifier())
        .with_no_client_auth();
    config.resumption = RustlsResumption::in_memory_sessions(8).tls12_resumption(mode);
    let config = Arc::new(config);
    let name = match &ctx.sni {
        Some(n) => ServerName::try_from(n.clone()).map_err(|e| e.to_string())?,
        None => ServerName::IpAddress(ctx.prober.addr().ip().into()),
    };
    // A server that may be far away: the second connection is opened while the first
    // handshake runs, so the second handshake does not wait for its TCP connect as well.
    let early = ctx.prober.may_be_far();
    let first = ctx.prober.tls_handshake(config.clone(), name.clone());
    let (first, second) = if early {
        let (first, second) = futures::join!(first, ctx.prober.open());
        (first, Some(second))
    } else {
        (first.await, None)
    };
    let mut session = first.map_err(why_not)?;
    // OpenSSL drops a session from its cache when the connection ends without close_notify,
    // so say goodbye properly or the ID could never resume.
    let _ = tokio::time::timeout_at(
        session.deadline,
        tokio::io::AsyncWriteExt::shutdown(&mut session.stream),
    )
    .await;
    drop(session);
    // The second handshake only as far as its ServerHello, which says whether it resumed.
    let conn = match second {
        Some(conn) => conn,
        None => ctx.prober.open().await,
    }
    .map_err(|e| why_not(HandshakeError::Connect(e)))?;
    let kind = ctx
        .prober
        .handshake_kind_on(conn, config, name)
        .await
        .map_err(why_not)?;
    Ok(Some(kind == rustls::HandshakeKind::Resumed))
}

/// The evidence line for a handshake that did not complete.
fn why_not(e: HandshakeError) -> String {
    match e {
        HandshakeError::Connect(c) => ProbeOutcome::from(c).describe(),
        HandshakeError::Failed(HandshakeFailure::Timeout { .. }) => "handshake timed out".into(),
        HandshakeError::Failed(f) => {
            let said = match f {
                // The wording rustls gives a received alert.
                HandshakeFailure::Alert { alert } => format!(
                    "received fatal alert: {:?}",
                    rustls::AlertDescription::from(alert.to_u8())
                ),
                other => other.to_string(),
            };
            format!("a full TLS 1.2 handshake (needed to test resumption) failed: {said}")
        }
    }
}
