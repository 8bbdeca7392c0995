//! Signature algorithm names, loaded from `data/x509-signature-algorithms.toml`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
struct SigAlg {
    name: String,
    hash: String,
}

#[derive(Debug, Deserialize)]
struct File {
    signature_algorithms: BTreeMap<String, SigAlg>,
}

fn file() -> &'static File {
    static FILE: OnceLock<File> = OnceLock::new();
    FILE.get_or_init(|| {
        // The file is compiled in; a syntax error is a build-time bug caught by the unit test below.
        toml::from_str(include_str!("../../data/x509-signature-algorithms.toml"))
            .unwrap_or_else(|e| panic!("data/x509-signature-algorithms.toml is invalid: {e}"))
    })
}

pub(crate) fn signature_algorithm(oid: &str) -> Option<(String, String)> {
    file()
        .signature_algorithms
        .get(oid)
        .map(|s| (s.name.clone(), s.hash.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_file_loads() {
        assert_eq!(
            signature_algorithm("1.2.840.113549.1.1.5").map(|s| s.1),
            Some("sha1".to_string())
        );
    }
}
