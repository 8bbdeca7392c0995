//! Client texts for OCSP refusals, from data/ocsp/client-texts.toml.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
struct Entry {
    rejected: String,
}

#[derive(Debug, Deserialize)]
struct Texts {
    style: BTreeMap<String, Entry>,
}

fn texts() -> &'static BTreeMap<String, Entry> {
    static T: OnceLock<BTreeMap<String, Entry>> = OnceLock::new();
    T.get_or_init(|| {
        toml::from_str::<Texts>(include_str!("../../data/ocsp/client-texts.toml"))
            .map(|t| t.style)
            .unwrap_or_default()
    })
}

/// What a client of `style` prints when its OCSP check refuses the handshake; `{address}`
/// is left for the caller to fill.
pub fn rejected_text(style: &str) -> String {
    texts()
        .get(style)
        .or_else(|| texts().get("generic"))
        .map(|e| e.rejected.clone())
        .unwrap_or_else(|| "invalid status response".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_parse_and_pymongo_is_measured_text() {
        assert!(
            texts().contains_key("generic"),
            "client-texts.toml did not parse"
        );
        assert_eq!(
            rejected_text("pymongo"),
            "SSL handshake failed: {address}: [('SSL routines', '', 'invalid status response')]"
        );
        assert_eq!(rejected_text("curl"), "invalid status response");
    }
}
