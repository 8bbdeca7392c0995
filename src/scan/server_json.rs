//! The JSON form of a [`ServerScan`]: every field as `tlsdoctor scan --json` has always
//! written it, except that the field of a core check that did not run (`scan --checks`) is
//! left out rather than written with its empty default. With the default checks the output
//! is exactly the derived form (the golden files hold it).

use super::server::{ServerScan, ran};
use super::{ExtraEvidence, ciphers, groups, properties, resumption, versions};
use serde::{Serialize, Serializer};

#[derive(Serialize)]
struct ServerScanJson<'a> {
    target: &'a str,
    address: &'a str,
    resolved: &'a [String],
    sni: &'a Option<String>,
    protocols: &'a versions::ProtocolSupport,
    #[serde(skip_serializing_if = "Option::is_none")]
    cipher_suites: Option<&'a Vec<ciphers::VersionSuites>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_exchange: Option<&'a groups::KeyExchange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<Properties<'a>>,
    #[serde(flatten)]
    extra: &'a ExtraEvidence,
    connections: usize,
    elapsed_ms: u64,
}

/// The `properties` section: the properties check's fields with the resumption check's
/// two inside; either check's part is left out when it did not run.
enum Properties<'a> {
    All(&'a properties::HandshakeProperties),
    /// Only the resumption check ran: its two fields alone.
    Resumption(&'a properties::HandshakeProperties),
    /// Only the properties check ran: everything but the resumption fields.
    Rest(&'a properties::HandshakeProperties),
}

impl Serialize for Properties<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (p, keep_resumption, keep_rest) = match self {
            Properties::All(p) => return p.serialize(s),
            Properties::Resumption(p) => (p, true, false),
            Properties::Rest(p) => (p, false, true),
        };
        let value = serde_json::to_value(p).map_err(serde::ser::Error::custom)?;
        let serde_json::Value::Object(map) = value else {
            return value.serialize(s);
        };
        let resumption_keys = ["resumption_session_id", "resumption_ticket"];
        let kept: serde_json::Map<String, serde_json::Value> = map
            .into_iter()
            .filter(|(k, _)| {
                if resumption_keys.contains(&k.as_str()) {
                    keep_resumption
                } else {
                    keep_rest
                }
            })
            .collect();
        kept.serialize(s)
    }
}

impl Serialize for ServerScan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let props = ran::<properties::Properties>(self);
        let resumed = ran::<resumption::Resumption>(self);
        let p = &self.properties;
        ServerScanJson {
            target: &self.target,
            address: &self.address,
            resolved: &self.resolved,
            sni: &self.sni,
            protocols: &self.protocols,
            cipher_suites: ran::<ciphers::Suites>(self).then_some(&self.cipher_suites),
            key_exchange: ran::<groups::Groups>(self).then_some(&self.key_exchange),
            properties: match (props, resumed) {
                (true, true) => Some(Properties::All(p)),
                (true, false) => Some(Properties::Rest(p)),
                (false, true) => Some(Properties::Resumption(p)),
                (false, false) => None,
            },
            extra: &self.extra,
            connections: self.connections,
            elapsed_ms: self.elapsed_ms,
        }
        .serialize(s)
    }
}
