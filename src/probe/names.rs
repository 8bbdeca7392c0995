//! Typed values serialised by their names, so JSON keeps the strings it always had.

use crate::wire::AlertDescription;
use serde::Serializer;

/// An alert by its RFC name (`handshake_failure`).
pub fn alert<S: Serializer>(a: &AlertDescription, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(a.name())
}

/// An optional alert by its RFC name, or `null`.
pub fn alert_opt<S: Serializer>(a: &Option<AlertDescription>, s: S) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => s.serialize_some(a.name()),
        None => s.serialize_none(),
    }
}

/// An I/O error kind by its Rust name (`ConnectionReset`).
pub fn io_kind<S: Serializer>(k: &std::io::ErrorKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{k:?}"))
}
