//! Client error wording, from data/client-errors.toml.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// A failure as OpenSSL knows it: what happened, its error code, function and reason.
#[derive(Debug, Clone, Deserialize)]
pub struct Failure {
    pub what: String,
    pub code: String,
    pub function: String,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Style {
    #[allow(dead_code)]
    client: String,
    template: String,
    verify_template: String,
    /// Exact texts for failures this client words in its own way (not from OpenSSL's
    /// error table): failure key → text; `{alert}` is the alert's registry name.
    #[serde(default)]
    texts: BTreeMap<String, String>,
    /// Certificate problems, for clients the chain analysis has no label for: doctor
    /// finding id (e.g. `cert-untrusted-root`) → the text the client prints.
    #[serde(default)]
    cert_texts: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Catalogue {
    failure: BTreeMap<String, Failure>,
    style: BTreeMap<String, Style>,
}

fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| {
        toml::from_str(include_str!("../../data/client-errors.toml")).unwrap_or(Catalogue {
            failure: BTreeMap::new(),
            style: BTreeMap::new(),
        })
    })
}

/// The failure entry for `key` (e.g. `dh_key_too_small`).
pub fn failure(key: &str) -> Option<&'static Failure> {
    catalogue().failure.get(key)
}

fn style(name: &str) -> &'static Style {
    let cat = catalogue();
    cat.style
        .get(name)
        .or_else(|| cat.style.get("generic"))
        .expect("data/client-errors.toml has a generic style")
}

/// The text a client of `style` prints for failure `key`; `alert` fills `{alert}`.
pub fn render_failure(style_name: &str, key: &str, alert: Option<&str>) -> String {
    let st = style(style_name);
    if let Some(text) = st.texts.get(key) {
        return text.replace("{alert}", alert.unwrap_or("unknown"));
    }
    let Some(f) = failure(key) else {
        return key.replace('_', " ");
    };
    let reason = f.reason.replace("{alert}", alert.unwrap_or("unknown"));
    st.template
        .replace("{code}", &f.code)
        .replace("{function}", &f.function)
        .replace("{REASON}", &reason.to_ascii_uppercase().replace(' ', "_"))
        .replace("{reason}", &reason)
}

/// The text a client of `style` prints for the certificate problem behind doctor finding
/// `finding_id`, when the style records one (clients outside the chain analysis's labels).
pub fn render_cert_failure(style_name: &str, finding_id: &str) -> Option<String> {
    catalogue()
        .style
        .get(style_name)?
        .cert_texts
        .get(finding_id)
        .cloned()
}

/// The text a client of `style` prints when certificate verification fails with OpenSSL
/// verify error `num` and text `detail` (e.g. 10, "certificate has expired").
pub fn render_verify_failure(style_name: &str, num: u32, detail: &str, node_code: &str) -> String {
    style(style_name)
        .verify_template
        .replace("{verify_num}", &num.to_string())
        .replace("{detail}", detail)
        .replace("{node_code}", node_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_parses() {
        assert!(
            catalogue().failure.len() >= 15,
            "data/client-errors.toml did not parse"
        );
        assert!(catalogue().style.contains_key("generic"));
    }

    /// The texts below were printed by the real clients on Debian 12 (OpenSSL 3.0.19).
    #[test]
    fn renders_measured_texts() {
        assert_eq!(
            render_failure("python", "protocol_version_alert", None),
            "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version"
        );
        assert_eq!(
            render_failure("python", "unsafe_legacy_renegotiation", None),
            "[SSL: UNSAFE_LEGACY_RENEGOTIATION_DISABLED] unsafe legacy renegotiation disabled"
        );
        assert_eq!(
            render_failure("openssl-cli", "legacy_sigalg", None),
            "error:0A00014D:SSL routines:tls_process_key_exchange:legacy sigalg disallowed or unsupported"
        );
        assert_eq!(
            render_failure("curl", "handshake_failure_alert", None),
            "OpenSSL/3.0: error:0A000410:SSL routines::sslv3 alert handshake failure"
        );
        assert_eq!(
            render_failure("node", "wrong_version_number", None),
            "ERR_SSL_WRONG_VERSION_NUMBER"
        );
        assert_eq!(
            render_verify_failure("python", 10, "certificate has expired", "CERT_HAS_EXPIRED"),
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired"
        );
    }
}
