//! The doctor's finding texts (data/findings.toml): titles and fixes by id.

use crate::finding::{Finding, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
struct Entry {
    severity: String,
    title: String,
    #[serde(default)]
    fix_server: Vec<String>,
    #[serde(default)]
    fix_client: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Catalogue {
    finding: BTreeMap<String, Entry>,
}

fn catalogue() -> &'static BTreeMap<String, Entry> {
    static CAT: OnceLock<BTreeMap<String, Entry>> = OnceLock::new();
    CAT.get_or_init(|| {
        toml::from_str::<Catalogue>(include_str!("../../data/findings.toml"))
            .map(|c| c.finding)
            .unwrap_or_default()
    })
}

fn fill(text: &str, vars: &[(&str, String)]) -> String {
    vars.iter().fold(text.to_string(), |t, (k, v)| {
        t.replace(&format!("{{{k}}}"), v)
    })
}

/// A finding with the catalogue's title, severity and fixes; `{name}` placeholders in the
/// texts are replaced from `vars`.
pub fn finding(id: &str, vars: &[(&str, String)]) -> Finding {
    match catalogue().get(id) {
        Some(e) => {
            let severity = match e.severity.as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                _ => Severity::Info,
            };
            let mut f = Finding::new(id, severity, fill(&e.title, vars));
            f.fix_server = e.fix_server.iter().map(|l| fill(l, vars)).collect();
            f.fix_client = e.fix_client.iter().map(|l| fill(l, vars)).collect();
            f
        }
        None => Finding::new(id, Severity::Error, id.replace('-', " ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_parses_and_has_fixes() {
        assert!(catalogue().len() >= 10, "data/findings.toml did not parse");
        for (id, e) in catalogue() {
            assert!(
                ["error", "warning", "info"].contains(&e.severity.as_str()),
                "{id}: severity"
            );
            assert!(!e.fix_server.is_empty(), "{id}: no server fix");
        }
    }

    #[test]
    fn placeholders_are_filled() {
        let f = finding(
            "proto-server-too-old",
            &[("server_versions", "TLSv1.0".into())],
        );
        assert!(f.fix_server[0].contains("TLSv1.0 today"));
        assert_eq!(f.severity, Severity::Error);
    }
}
