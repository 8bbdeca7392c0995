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
    connections_by_check: ByCheck<'a>,
    rounds: usize,
    elapsed_ms: u64,
}

/// `connections_by_check`: an object from check name to count, in registry order.
struct ByCheck<'a>(&'a [(String, usize)]);

impl Serialize for ByCheck<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
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
            connections_by_check: ByCheck(&self.connections_by_check),
            rounds: self.rounds,
            elapsed_ms: self.elapsed_ms,
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Selection;

    fn keys(scan: &ServerScan) -> Vec<String> {
        let v = serde_json::to_value(scan).unwrap();
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn a_core_check_not_run_has_no_section_and_no_findings() {
        let mut scan = ServerScan::unmeasured("t:1".into(), "127.0.0.1:1".into(), Vec::new());
        let all = keys(&scan);
        for k in ["protocols", "cipher_suites", "key_exchange", "properties"] {
            assert!(all.iter().any(|x| x == k), "{k} missing by default");
        }
        scan.checks = Selection::parse("protocols").unwrap();
        let few = keys(&scan);
        assert!(few.iter().any(|x| x == "protocols"));
        for k in ["cipher_suites", "key_exchange", "properties"] {
            assert!(!few.iter().any(|x| x == k), "{k} present though not run");
        }
        // An empty suite list is evidence of nothing when the suites were not enumerated.
        assert!(<ciphers::Suites as super::super::Slot>::load(&scan).is_none());

        scan.checks = Selection::parse("resumption").unwrap();
        let v = serde_json::to_value(&scan).unwrap();
        let props: Vec<&String> = v["properties"].as_object().unwrap().keys().collect();
        assert_eq!(props, ["resumption_session_id", "resumption_ticket"]);
    }
}
