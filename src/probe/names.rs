//! Typed values serialised by their names, so JSON keeps the strings it always had, and
//! read back from those names (recorded evidence).

use crate::wire::AlertDescription;
use serde::{Deserialize, Deserializer, Serializer};

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

/// The alert a name stands for. `unknown_alert` does not say which code it was, so it is
/// refused rather than guessed.
fn alert_named<E: serde::de::Error>(name: &str) -> Result<AlertDescription, E> {
    AlertDescription::ALL
        .iter()
        .copied()
        .find(|a| a.name() == name)
        .ok_or_else(|| E::custom(format!("no registered alert is named {name:?}")))
}

/// Read what [`alert`] wrote.
pub fn alert_from<'de, D: Deserializer<'de>>(d: D) -> Result<AlertDescription, D::Error> {
    alert_named(&String::deserialize(d)?)
}

/// Read what [`alert_opt`] wrote.
pub fn alert_opt_from<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<AlertDescription>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|n| alert_named(&n))
        .transpose()
}

/// The error kinds a connection or a read reports, by their Rust names.
const IO_KINDS: &[std::io::ErrorKind] = {
    use std::io::ErrorKind as K;
    &[
        K::NotFound,
        K::PermissionDenied,
        K::ConnectionRefused,
        K::ConnectionReset,
        K::HostUnreachable,
        K::NetworkUnreachable,
        K::ConnectionAborted,
        K::NotConnected,
        K::AddrInUse,
        K::AddrNotAvailable,
        K::NetworkDown,
        K::BrokenPipe,
        K::AlreadyExists,
        K::WouldBlock,
        K::InvalidInput,
        K::InvalidData,
        K::TimedOut,
        K::WriteZero,
        K::Interrupted,
        K::Unsupported,
        K::UnexpectedEof,
        K::OutOfMemory,
        K::Other,
    ]
};

/// Read what [`io_kind`] wrote; a kind not listed above reads back as `Other`.
pub fn io_kind_from<'de, D: Deserializer<'de>>(d: D) -> Result<std::io::ErrorKind, D::Error> {
    let name = String::deserialize(d)?;
    Ok(IO_KINDS
        .iter()
        .copied()
        .find(|k| format!("{k:?}") == name)
        .unwrap_or(std::io::ErrorKind::Other))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Named {
        #[serde(serialize_with = "alert", deserialize_with = "alert_from")]
        alert: AlertDescription,
        #[serde(serialize_with = "alert_opt", deserialize_with = "alert_opt_from")]
        maybe: Option<AlertDescription>,
        #[serde(serialize_with = "io_kind", deserialize_with = "io_kind_from")]
        kind: std::io::ErrorKind,
    }

    #[test]
    fn names_read_back() {
        for a in AlertDescription::ALL {
            for kind in IO_KINDS {
                let n = Named {
                    alert: *a,
                    maybe: Some(*a),
                    kind: *kind,
                };
                let json = serde_json::to_string(&n).unwrap();
                assert_eq!(serde_json::from_str::<Named>(&json).unwrap(), n, "{json}");
            }
        }
        let unknown = r#"{"alert":"unknown_alert","maybe":null,"kind":"Other"}"#;
        assert!(serde_json::from_str::<Named>(unknown).is_err());
    }
}
