//! The client error texts and signature algorithm names, loaded from `data/cert-errors.toml`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
pub(crate) struct Cause {
    #[allow(dead_code)]
    pub code: u32,
    pub openssl: String,
    pub python: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub node: Option<String>,
    #[serde(default)]
    pub node_accepts: bool,
    #[serde(default)]
    pub curl: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SigAlg {
    name: String,
    hash: String,
}

#[derive(Debug, Deserialize)]
struct File {
    causes: BTreeMap<String, Cause>,
    signature_algorithms: BTreeMap<String, SigAlg>,
}

fn file() -> &'static File {
    static FILE: OnceLock<File> = OnceLock::new();
    FILE.get_or_init(|| {
        // The file is compiled in; a syntax error is a build-time bug caught by the unit test below.
        toml::from_str(include_str!("../../data/cert-errors.toml"))
            .unwrap_or_else(|e| panic!("data/cert-errors.toml is invalid: {e}"))
    })
}

/// The client texts for a cause key such as `expired`. Unknown keys are a programming error
/// caught by the unit test that walks every key used.
pub(crate) fn cause(key: &str) -> Option<&'static Cause> {
    file().causes.get(key)
}

pub(crate) fn signature_algorithm(oid: &str) -> Option<(String, String)> {
    file()
        .signature_algorithms
        .get(oid)
        .map(|s| (s.name.clone(), s.hash.clone()))
}

/// Every cause key the analysis code uses; the test checks that each is in the data file.
#[cfg(test)]
pub(crate) const USED_CAUSES: [&str; 16] = [
    "expired",
    "no_local_issuer_leaf_only",
    "not_yet_valid",
    "hostname_mismatch",
    "ip_mismatch",
    "self_signed_leaf",
    "self_signed_in_chain",
    "no_local_issuer",
    "ee_key_too_weak",
    "ca_key_too_weak",
    "ca_md_too_weak",
    "unsuitable_purpose",
    "invalid_ca",
    "path_length",
    "permitted_subtree",
    "excluded_subtree",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_file_has_every_cause_used() {
        for key in USED_CAUSES {
            let c = cause(key).unwrap_or_else(|| panic!("cause {key} missing"));
            assert!(c.openssl.starts_with("verify error:num="), "{key}");
            assert!(
                c.python.starts_with("[SSL: CERTIFICATE_VERIFY_FAILED]"),
                "{key}"
            );
        }
        assert_eq!(
            signature_algorithm("1.2.840.113549.1.1.5").map(|s| s.1),
            Some("sha1".to_string())
        );
    }
}
