//! What the chain analysis knows as data: the critical extensions OpenSSL implements
//! (data/x509-critical-extensions.toml) and the roots that identify TLS interception
//! (data/interception-roots.toml).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
struct CriticalFile {
    supported: BTreeMap<String, String>,
}

/// A root that identifies interception, and how to confirm it.
#[derive(Debug, Deserialize)]
pub(crate) struct InterceptionRoot {
    names: Vec<String>,
    pub product: String,
    /// "proxy", "debugging" or "leaked".
    pub kind: String,
    pub confirm: String,
}

#[derive(Debug, Deserialize)]
struct InterceptionFile {
    root: Vec<InterceptionRoot>,
}

fn critical() -> &'static CriticalFile {
    static F: OnceLock<CriticalFile> = OnceLock::new();
    F.get_or_init(|| {
        // Compiled in: a file that does not load is a build bug, caught by the unit test.
        toml::from_str(include_str!("../../../data/x509-critical-extensions.toml"))
            .unwrap_or_else(|e| panic!("data/x509-critical-extensions.toml is invalid: {e}"))
    })
}

fn interception() -> &'static InterceptionFile {
    static F: OnceLock<InterceptionFile> = OnceLock::new();
    F.get_or_init(|| {
        toml::from_str(include_str!("../../../data/interception-roots.toml"))
            .unwrap_or_else(|e| panic!("data/interception-roots.toml is invalid: {e}"))
    })
}

/// Whether OpenSSL implements the extension `oid` (dotted) when it is critical.
pub(super) fn critical_supported(oid: &str) -> bool {
    critical().supported.contains_key(oid)
}

/// The interception product whose root has one of `names` (the issuer's CN and O values).
pub(super) fn interception_root(names: &[String]) -> Option<&'static InterceptionRoot> {
    let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    interception().root.iter().find(|r| {
        r.names
            .iter()
            .any(|m| lower.iter().any(|n| n.contains(&m.to_lowercase())))
    })
}

/// The interception product whose root name appears anywhere in `text` (an error message
/// that quotes the issuer, or a user who names the product), case-insensitively.
pub(crate) fn interception_root_named_in(text: &str) -> Option<&'static InterceptionRoot> {
    let lower = text.to_lowercase();
    interception()
        .root
        .iter()
        .find(|r| r.names.iter().any(|m| lower.contains(&m.to_lowercase())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_files_load_and_match() {
        assert!(critical_supported("2.5.29.19"));
        assert!(!critical_supported("1.3.6.1.4.1.55555.1"));
        let r = interception_root(&["mitmproxy".to_string()]).expect("listed");
        assert_eq!(r.product, "mitmproxy");
        assert!(interception_root(&["DO_NOT_TRUST_FiddlerRoot".into()]).is_some());
        assert!(interception_root(&["tlsdoctor Test Intermediate".into()]).is_none());
        let r =
            interception_root_named_in("issuer `CN=Cisco Umbrella Secondary SubCA fra-SG,O=Cisco'")
                .expect("named in the text");
        assert_eq!(r.kind, "proxy");
        assert!(interception_root_named_in("issuer: CN=R3,O=Let's Encrypt").is_none());
    }
}
