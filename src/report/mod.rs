//! Rendering only: human (terminal), JSON, Markdown and HTML output of results computed
//! elsewhere.

pub mod audit;
pub mod cert;
pub mod check;
pub mod demo;
pub mod env;
pub mod explain;
pub mod fleet_store;
pub mod html;
pub mod live;
pub mod markdown;
pub mod ocsp;
pub mod scan;
pub mod simulate;
pub mod style;
mod verdict;
pub mod watch;

pub use crate::document::JSON_SCHEMA_VERSION;

/// Pretty JSON with the schema stamp merged in at the top level (for documents that do not
/// carry one themselves, such as `env` and `explain`).
pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    let mut v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(map) = &mut v {
        if !map.contains_key("schema_version") {
            map.insert("schema_version".into(), JSON_SCHEMA_VERSION.into());
        }
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// What a connecting client verdict negotiated: from its simulation when the verdict is a
/// prediction (version, suite, group), else the version the real client reported.
pub(crate) fn verdict_detail(
    d: &crate::doctor::Diagnosis,
    v: &crate::live::reconcile::ClientVerdict,
) -> String {
    use crate::live::reconcile::VerdictSource;
    d.simulations
        .iter()
        .find(|s| v.source == VerdictSource::Predicted && s.client == v.client)
        .map(|s| s.negotiated(" "))
        .unwrap_or_else(|| v.version.clone().unwrap_or_default())
}
