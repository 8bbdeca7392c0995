//! Typed outcomes of one probe.

use super::connection::ConnectError;
use super::prelude::PreludeError;
use crate::wire::{Alert, ServerFlight};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How one probe ended. Every variant is evidence a check can fold into its result; it
/// serialises (peer bytes as hex) so recorded outcomes can be judged again offline.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeOutcome {
    /// The server answered with a ServerHello (or an SSLv2 server hello); the parsed flight.
    Accepted(Box<ServerFlight>),
    /// The server answered with an alert and no ServerHello.
    Alert(Alert),
    /// The server closed the connection cleanly without answering.
    Closed { bytes_received: usize },
    /// The connection was reset (RST) before an answer.
    Reset { bytes_received: usize },
    /// No complete answer before the deadline.
    Timeout { bytes_received: usize },
    /// The peer answered, but not with TLS. The first bytes say what it speaks.
    NotTls {
        #[serde(with = "crate::serde_hex")]
        first_bytes: Vec<u8>,
    },
    /// The peer sent TLS-looking bytes that break the format.
    Malformed(String),
    /// The TCP connect failed (refused, unreachable, ...).
    ConnectFailed {
        #[serde(
            serialize_with = "super::names::io_kind",
            deserialize_with = "super::names::io_kind_from"
        )]
        kind: std::io::ErrorKind,
        message: String,
    },
    /// The TCP connect did not complete before its deadline.
    ConnectTimeout,
    /// Connected, but the prelude (e.g. STARTTLS) did not bring the server to where TLS
    /// starts.
    PreludeFailed {
        prelude: String,
        error: PreludeError,
    },
    /// Any other I/O failure after connecting.
    IoError(String),
    /// The server answered with something no server may send in answer to that hello (a
    /// version or suite not offered, a second HelloRetryRequest, ...); the string says what.
    ProtocolViolation(String),
    /// The run's deadline (`--deadline`) cut this probe short or came before it started.
    DeadlineReached,
}

impl ProbeOutcome {
    pub(crate) fn from_flight(flight: ServerFlight) -> ProbeOutcome {
        if flight.server_hello.is_some() || flight.sslv2.is_some() {
            ProbeOutcome::Accepted(Box::new(flight))
        } else if let Some(alert) = flight.alert {
            ProbeOutcome::Alert(alert)
        } else {
            ProbeOutcome::Malformed("server flight ended without a ServerHello or alert".into())
        }
    }

    pub fn flight(&self) -> Option<&ServerFlight> {
        match self {
            ProbeOutcome::Accepted(f) => Some(f),
            _ => None,
        }
    }

    /// True when the server could not be reached at all (as opposed to refusing a hello).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ProbeOutcome::ConnectFailed { .. } | ProbeOutcome::ConnectTimeout
        )
    }

    /// A short, stable machine key: `accepted`, `alert`, `closed`, `reset`, `timeout`,
    /// `not_tls`, `malformed`, `connect_failed`, `connect_timeout`, `prelude_failed`,
    /// `io_error`, `protocol_violation`, `deadline`.
    pub fn kind(&self) -> &'static str {
        match self {
            ProbeOutcome::Accepted(_) => "accepted",
            ProbeOutcome::Alert(_) => "alert",
            ProbeOutcome::Closed { .. } => "closed",
            ProbeOutcome::Reset { .. } => "reset",
            ProbeOutcome::Timeout { .. } => "timeout",
            ProbeOutcome::NotTls { .. } => "not_tls",
            ProbeOutcome::Malformed(_) => "malformed",
            ProbeOutcome::ConnectFailed { .. } => "connect_failed",
            ProbeOutcome::ConnectTimeout => "connect_timeout",
            ProbeOutcome::PreludeFailed { .. } => "prelude_failed",
            ProbeOutcome::IoError(_) => "io_error",
            ProbeOutcome::ProtocolViolation(_) => "protocol_violation",
            ProbeOutcome::DeadlineReached => "deadline",
        }
    }

    /// One line of evidence for humans.
    pub fn describe(&self) -> String {
        match self {
            ProbeOutcome::Accepted(f) => match (&f.server_hello, &f.sslv2) {
                (Some(sh), _) => format!(
                    "ServerHello {} with {}",
                    sh.negotiated_version(),
                    crate::wire::suites::name_of(sh.cipher_suite)
                ),
                (None, Some(_)) => "SSLv2 ServerHello".to_string(),
                _ => "answered".to_string(),
            },
            ProbeOutcome::Alert(a) => format!(
                "alert {} ({}) from server",
                a.description.name(),
                a.description.to_u8()
            ),
            ProbeOutcome::Closed { bytes_received: 0 } => {
                "server closed the connection without answering".into()
            }
            ProbeOutcome::Closed { bytes_received } => {
                format!("server closed the connection after {bytes_received} bytes")
            }
            ProbeOutcome::Reset { .. } => "server reset the connection".into(),
            ProbeOutcome::Timeout { bytes_received: 0 } => "no answer before the timeout".into(),
            ProbeOutcome::Timeout { bytes_received } => {
                format!("incomplete answer ({bytes_received} bytes) before the timeout")
            }
            ProbeOutcome::NotTls { first_bytes } => format!(
                "peer does not speak TLS; it sent \"{}\"",
                crate::wire::printable_prefix(first_bytes)
            ),
            ProbeOutcome::Malformed(m) => format!("malformed answer: {m}"),
            ProbeOutcome::ConnectFailed { message, .. } => format!("connect failed: {message}"),
            ProbeOutcome::ConnectTimeout => "connect timed out".into(),
            ProbeOutcome::PreludeFailed { prelude, error } => format!("{prelude} failed: {error}"),
            ProbeOutcome::IoError(m) => format!("I/O error: {m}"),
            ProbeOutcome::ProtocolViolation(m) => format!("protocol violation: {m}"),
            ProbeOutcome::DeadlineReached => "not finished: the run's deadline was reached".into(),
        }
    }
}

impl From<ConnectError> for ProbeOutcome {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::Timeout { .. } => ProbeOutcome::ConnectTimeout,
            ConnectError::Failed { kind, message } => ProbeOutcome::ConnectFailed { kind, message },
            ConnectError::Prelude { prelude, error } => {
                ProbeOutcome::PreludeFailed { prelude, error }
            }
            ConnectError::Deadline => ProbeOutcome::DeadlineReached,
        }
    }
}

/// A probe's outcome and how long it took.
#[derive(Debug, Clone)]
pub struct ProbeResult {
    pub outcome: ProbeOutcome,
    pub elapsed: Duration,
}

/// JSON form of an outcome: `{"kind": "...", "detail": "..."}`.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeSummary {
    pub kind: &'static str,
    pub detail: String,
}

impl From<&ProbeOutcome> for OutcomeSummary {
    fn from(o: &ProbeOutcome) -> Self {
        OutcomeSummary {
            kind: o.kind(),
            detail: o.describe(),
        }
    }
}
