//! The TLS wire layer: sans-IO. Bytes in, typed messages out; typed messages in, bytes out.
//! Nothing here touches a socket, so every part is unit-testable and fuzzable.
//!
//! Every length read from the peer is checked against the bytes actually present and against
//! fixed ceilings; nothing the peer sends can panic or make us allocate without bound.

pub mod alert;
pub mod cbc;
pub mod cbc_client;
pub mod client_hello;
pub mod codec;
pub mod extension;
pub mod flight;
pub mod groups;
pub mod handshake;
pub mod heartbeat;
pub mod keyshare;
pub mod prf;
pub mod record;
pub mod rsa_premaster;
pub mod sigalgs;
pub mod sslv2;
pub mod suites;
pub mod ticket;
pub mod version;

pub use alert::{Alert, AlertDescription, AlertLevel};
pub use client_hello::ClientHello;
pub use codec::Codec;
pub use extension::{ClientExtension, ServerExtension};
pub use flight::{FlightProgress, ServerFlight, ServerFlightParser};
pub use handshake::{CertificateRequest, KxHint, ServerHello, ServerKeyExchange};
pub use record::{ContentType, Deframer, Record, RecordHeader};
pub use sslv2::{Sslv2ClientHello, Sslv2ServerHello};
pub use version::ProtocolVersion;

/// Why bytes from the peer could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The peer's first bytes are not a TLS (or SSLv2) record at all. Carries up to 64 of them,
    /// so the caller can say what the port speaks instead (HTTP, SMTP banner, ...).
    #[error(
        "peer does not speak TLS (first bytes: {})",
        crate::wire::printable_prefix(first_bytes)
    )]
    NotTls { first_bytes: Vec<u8> },
    /// A TLS record or message that breaks the format; the string says what and where.
    #[error("malformed {0}")]
    Malformed(String),
    /// A length field beyond what the protocol allows or what we are prepared to buffer.
    #[error("{0} too large")]
    TooLarge(&'static str),
}

/// Render bytes for humans: printable ASCII as is, the rest as `\xNN`. Used for not-TLS evidence.
pub fn printable_prefix(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes.iter().take(64) {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}
