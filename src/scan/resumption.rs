//! Session resumption in TLS 1.2, by session ID and by session ticket: two full handshakes
//! (rustls, evidence-only verifier), the second offering what the first left behind.

use super::ScanContext;
use super::properties::Property;
use crate::probe::{HandshakeError, HandshakeFailure, ProbeOutcome};
use rustls::client::{Resumption, Tls12Resumption};
use rustls::pki_types::ServerName;
use std::sync::Arc;

/// Resumption by session ID and by ticket.
pub async fn probe(ctx: &ScanContext, tls12: bool, ticket_acked: bool) -> (Property, Property) {
    if !tls12 {
        let p = Property {
            supported: None,
            evidence: "TLS 1.2 not accepted: TLS 1.2 session resumption does not apply".into(),
        };
        return (p.clone(), p);
    }
    let by_id = resumed(ctx, Tls12Resumption::SessionIdOnly);
    let by_ticket = async {
        if ticket_acked {
            resumed(ctx, Tls12Resumption::SessionIdOrTickets).await
        } else {
            Ok(None)
        }
    };
    let (id, ticket) = futures::join!(by_id, by_ticket);
    let id = match id {
        Ok(Some(true)) => yes("a second handshake offering the first one's session ID was resumed"),
        Ok(Some(false)) | Ok(None) => {
            no("a second handshake offering the first one's session ID got a full handshake")
        }
        Err(e) => unknown(e),
    };
    let ticket = match ticket {
        Ok(Some(true)) => {
            yes("a second handshake presenting the server's session ticket was resumed")
        }
        Ok(Some(false)) => no(
            "the server issues tickets, but a second handshake presenting one got a full handshake",
        ),
        Ok(None) => no("the server does not acknowledge the session_ticket extension"),
        Err(e) => unknown(e),
    };
    (id, ticket)
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
async fn resumed(ctx: &ScanContext, mode: Tls12Resumption) -> Result<Option<bool>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(crate::cert::fetch::evidence_only_verifier())
        .with_no_client_auth();
    config.resumption = Resumption::in_memory_sessions(8).tls12_resumption(mode);
    let config = Arc::new(config);
    let name = match &ctx.sni {
        Some(n) => ServerName::try_from(n.clone()).map_err(|e| e.to_string())?,
        None => ServerName::IpAddress(ctx.prober.addr().ip().into()),
    };
    let mut last = None;
    for _ in 0..2 {
        let mut session = ctx
            .prober
            .tls_handshake(config.clone(), name.clone())
            .await
            .map_err(why_not)?;
        last = session.stream.get_ref().1.handshake_kind();
        // OpenSSL drops a session from its cache when the connection ends without
        // close_notify, so say goodbye properly or the ID could never resume.
        let _ = tokio::time::timeout_at(
            session.deadline,
            tokio::io::AsyncWriteExt::shutdown(&mut session.stream),
        )
        .await;
    }
    Ok(Some(last == Some(rustls::HandshakeKind::Resumed)))
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
