//! What a server answered to a vulnerability probe's follow-up message (a heartbeat request,
//! an early ChangeCipherSpec): the header of its next record and, for an alert or a heartbeat
//! message, the few bytes that say what it is — never more. Shared by the `vuln_*` checks.

use crate::probe::{Held, Step};
use crate::wire::codec::Codec;
use crate::wire::heartbeat::HeartbeatHeader;
use crate::wire::{Alert, ContentType, RecordHeader};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The server's next record after a follow-up, as far as it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Reply {
    /// An alert record.
    Alert { alert: Alert },
    /// A heartbeat record: its length and the message's type and declared payload length
    /// (what follows was not read).
    Heartbeat {
        record_length: u16,
        message_type: u8,
        payload_length: u16,
    },
    /// Another record (its payload was not read).
    Record { content_type: u8, length: u16 },
    /// The server closed or reset the connection.
    Closed,
    /// Nothing within the wait.
    Silent,
    /// The follow-up could not be written: the server had closed the connection.
    NotSent,
    /// Bytes that are not a TLS record header.
    Malformed,
    /// The run's deadline cut the probe short.
    DeadlineReached,
}

impl Reply {
    /// One line of evidence.
    pub fn describe(&self) -> String {
        match self {
            Reply::Alert { alert } => format!(
                "{} alert {} ({})",
                alert.level.name(),
                alert.description.name(),
                alert.description.to_u8()
            ),
            Reply::Heartbeat {
                record_length,
                message_type,
                payload_length,
            } => format!(
                "a {record_length}-byte heartbeat record (message type {message_type}, declaring a {payload_length}-byte payload)"
            ),
            Reply::Record {
                content_type,
                length,
            } => format!("a {length}-byte record of content type {content_type}"),
            Reply::Closed => "the server closed the connection".into(),
            Reply::Silent => "no answer within the wait".into(),
            Reply::NotSent => "the server had closed the connection before it".into(),
            Reply::Malformed => "bytes that are not a TLS record".into(),
            Reply::DeadlineReached => "not finished: the run's deadline was reached".into(),
        }
    }
}

/// Send `message`, then read the header of the server's next record within `wait` (and an
/// alert's two bytes, or a heartbeat message's three-byte header).
pub async fn send_and_read(held: &mut Held, message: &[u8], wait: Duration) -> Reply {
    if !held.send(message, wait).await {
        return Reply::NotSent;
    }
    next_reply(held, wait).await
}

/// Read the header of the server's next record within `wait`, and the few bytes after it
/// that say what it is.
pub async fn next_reply(held: &mut Held, wait: Duration) -> Reply {
    let header = match held.read_exact(RecordHeader::LEN, wait).await {
        Step::Bytes(b) => b,
        other => return ended(other),
    };
    let Ok(header) = RecordHeader::from_bytes(&header) else {
        return Reply::Malformed;
    };
    if header.version >> 8 != 3 {
        return Reply::Malformed;
    }
    match header.typ {
        ContentType::Alert if header.length == 2 => match held.read_exact(2, wait).await {
            Step::Bytes(b) => match Alert::from_bytes(&b) {
                Ok(alert) => Reply::Alert { alert },
                Err(_) => Reply::Malformed,
            },
            other => ended(other),
        },
        ContentType::Heartbeat if usize::from(header.length) >= HeartbeatHeader::LEN => {
            match held.read_exact(HeartbeatHeader::LEN, wait).await {
                Step::Bytes(b) => match HeartbeatHeader::from_bytes(&b) {
                    Ok(h) => Reply::Heartbeat {
                        record_length: header.length,
                        message_type: h.typ.to_u8(),
                        payload_length: h.payload_length,
                    },
                    Err(_) => Reply::Malformed,
                },
                other => ended(other),
            }
        }
        typ => Reply::Record {
            content_type: typ.to_u8(),
            length: header.length,
        },
    }
}

fn ended(step: Step) -> Reply {
    match step {
        Step::Closed { .. } => Reply::Closed,
        Step::DeadlineReached => Reply::DeadlineReached,
        // A partial header is as good as silence: nothing we can read.
        Step::Silent { .. } | Step::Bytes(_) => Reply::Silent,
    }
}
