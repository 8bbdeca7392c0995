//! What each client prints when a connection fails, from data/client-errors.toml: one
//! catalogue keyed by error style × failure, and the only place client wording comes from.

use super::keys::{CertCause, ErrorStyle, Failure, HandshakeFailure};
use crate::finding::{ClientBreak, FindingId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// A handshake failure as OpenSSL 3 knows it: its error code, function and reason.
#[derive(Debug, Clone, Deserialize)]
struct OpensslFailure {
    #[allow(dead_code)]
    what: String,
    /// Absent for failures no style's template was measured for (see the data file).
    code: Option<String>,
    #[serde(default)]
    function: String,
    reason: String,
}

#[derive(Debug, Clone, Deserialize)]
struct CauseEntry {
    #[allow(dead_code)]
    code: u32,
    /// Added to the evidence of the findings the chain analysis words with this cause.
    note: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct StyleEntry {
    #[allow(dead_code)]
    client: String,
    /// The name the chain analysis lists this style's certificate texts under.
    label: Option<String>,
    template: String,
    verify_template: Option<String>,
    /// Verifies certificates as this other style does.
    verifies_like: Option<ErrorStyle>,
    /// False when the client does not report OpenSSL's verify detail.
    #[serde(default = "yes")]
    verify_detail: bool,
    /// Exact texts for failures this client words in its own way.
    #[serde(default)]
    texts: BTreeMap<HandshakeFailure, String>,
    /// The text for each certificate cause this client fails on.
    #[serde(default)]
    certificate: BTreeMap<CertCause, String>,
    /// Where the client words its OCSP refusals by what is wrong: the text per finding id
    /// (others print the `invalid_status_response` failure).
    #[serde(default)]
    ocsp: BTreeMap<FindingId, String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct ChainAnalysisStyles {
    styles: Vec<ErrorStyle>,
}

#[derive(Debug, Deserialize)]
struct Catalogue {
    failure: BTreeMap<HandshakeFailure, OpensslFailure>,
    certificate: BTreeMap<CertCause, CauseEntry>,
    chain_analysis: ChainAnalysisStyles,
    style: BTreeMap<ErrorStyle, StyleEntry>,
}

fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| {
        // Compiled in: a file that does not load is a build bug, caught by the unit tests.
        toml::from_str(include_str!("../../data/client-errors.toml"))
            .unwrap_or_else(|e| panic!("data/client-errors.toml is invalid: {e}"))
    })
}

fn style(s: ErrorStyle) -> &'static StyleEntry {
    let cat = catalogue();
    cat.style
        .get(&s)
        .or_else(|| cat.style.get(&ErrorStyle::Generic))
        .expect("data/client-errors.toml has a generic style")
}

/// The typed identity of a client break, for code that matches breaks; the break's label
/// is for people only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakKey {
    /// The catalogue's text for this style and failure.
    Worded { style: ErrorStyle, failure: Failure },
    /// The failure of a simulated client profile, by profile id.
    Simulated { profile: String },
    /// The failure a real client on this machine printed when `check` ran it, by program
    /// (see `crate::live`).
    Observed { program: std::path::PathBuf },
}

/// The text a client of `style` prints for handshake failure `failure`; `alert` fills
/// `{alert}` (the alert's registry name).
pub fn failure_text(s: ErrorStyle, failure: HandshakeFailure, alert: Option<&str>) -> String {
    let alert = alert.unwrap_or("unknown");
    let st = style(s);
    if let Some(text) = st.texts.get(&failure) {
        return text.replace("{alert}", alert);
    }
    let Some(f) = catalogue().failure.get(&failure) else {
        return failure.key().replace('_', " ");
    };
    if f.code.is_none() && s != ErrorStyle::Generic {
        return failure_text(ErrorStyle::Generic, failure, Some(alert));
    }
    let reason = f.reason.replace("{alert}", alert);
    st.template
        .replace("{code}", f.code.as_deref().unwrap_or(""))
        .replace("{function}", &f.function)
        .replace("{REASON}", &reason.to_ascii_uppercase().replace(' ', "_"))
        .replace("{reason}", &reason)
}

/// What a client of `style` prints when its OCSP check refuses the handshake for the reason
/// finding `why` names (a revoked, expired or invalid staple, a missing must-staple one).
pub fn ocsp_failure_text(s: ErrorStyle, why: FindingId) -> String {
    match style(s).ocsp.get(&why) {
        Some(t) => t.clone(),
        None => failure_text(s, HandshakeFailure::InvalidStatusResponse, None),
    }
}

/// What the certificate texts need besides the cause.
#[derive(Debug, Clone, Copy)]
pub struct CertVars<'a> {
    /// The name the client asked for.
    pub host: &'a str,
    /// The certificate's subjectAltName as OpenSSL prints it (Node's hostname text).
    pub altnames: &'a str,
    /// The size of the key a key-size text names (Java's).
    pub bits: &'a str,
    /// The subject of the certificate a text names, as Java prints it.
    pub subject_dn: &'a str,
}

impl<'a> CertVars<'a> {
    /// Only the host name.
    pub fn host(host: &'a str) -> Self {
        CertVars {
            host,
            altnames: "",
            bits: "",
            subject_dn: "",
        }
    }
}

/// The chain analysis's wording of one cause: a break per listed style that fails on it,
/// and evidence lines (who accepts it, notes).
#[derive(Debug, Clone, Default)]
pub struct CertWording {
    pub breaks: Vec<ClientBreak>,
    pub evidence: Vec<String>,
}

/// The styles the chain analysis lists certificate texts for, in order.
pub fn chain_analysis_styles() -> &'static [ErrorStyle] {
    &catalogue().chain_analysis.styles
}

/// What the clients the chain analysis lists print for `cause`, leaving out the styles in
/// `leave_out` (unaffected, or their text unknown for this variant).
pub fn certificate_breaks(
    cause: CertCause,
    vars: CertVars<'_>,
    leave_out: &[ErrorStyle],
) -> CertWording {
    let cat = catalogue();
    let mut out = CertWording::default();
    for &s in cat
        .chain_analysis
        .styles
        .iter()
        .filter(|s| !leave_out.contains(s))
    {
        let st = style(s);
        let label = st.label.clone().unwrap_or_else(|| s.key().to_string());
        if let Some(text) = st.certificate.get(&cause) {
            out.breaks.push(ClientBreak {
                client: label.clone(),
                error: text
                    .replace("{host}", vars.host)
                    .replace("{altnames}", vars.altnames)
                    .replace("{bits}", vars.bits)
                    .replace("{subject_dn}", vars.subject_dn),
                key: Some(BreakKey::Worded {
                    style: s,
                    failure: Failure::Certificate(cause),
                }),
                unquoted: None,
                after: None,
            });
        }
    }
    if let Some(note) = cat.certificate.get(&cause).and_then(|c| c.note.as_ref()) {
        out.evidence.push(format!("note: {note}"));
    }
    out
}

/// What a client of `style` prints for certificate cause `cause` when no host name or
/// subjectAltName enters the text (a style without its own text prints the text of the
/// style it verifies like); empty when the catalogue has none.
pub fn certificate_text(s: ErrorStyle, cause: CertCause) -> String {
    let st = style(s);
    st.certificate
        .get(&cause)
        .or_else(|| {
            st.verifies_like
                .and_then(|l| style(l).certificate.get(&cause))
        })
        .cloned()
        .unwrap_or_default()
}

/// A certificate problem as the chain analysis worded it, by error style rather than by
/// display label: what the simulation judges with (and what recorded evidence keeps).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertTexts {
    /// The cause the texts word; None for a problem the analysis gave no client texts.
    pub cause: Option<CertCause>,
    /// The text each style listed by the chain analysis prints (a listed style that is
    /// absent accepts the certificate).
    pub by_style: BTreeMap<ErrorStyle, String>,
}

impl CertTexts {
    /// The catalogue-worded certificate breaks among a finding's `breaks`.
    pub fn from_breaks(breaks: &[ClientBreak]) -> CertTexts {
        let mut out = CertTexts::default();
        for b in breaks {
            if let Some(BreakKey::Worded {
                style,
                failure: Failure::Certificate(cause),
            }) = b.key
            {
                out.cause = Some(cause);
                out.by_style.insert(style, b.error.clone());
            }
        }
        out
    }
}

/// What a client of `style` prints when it refuses a certificate problem worded as `texts`,
/// whose finding is titled `title`; None when the client accepts it.
pub fn certificate_failure_text(s: ErrorStyle, texts: &CertTexts, title: &str) -> Option<String> {
    let st = style(s);
    let like = st.verifies_like.unwrap_or(s);
    if catalogue().chain_analysis.styles.contains(&like) {
        // Measured by the chain analysis: a style without a text accepts the certificate.
        let text = texts.by_style.get(&like)?;
        return Some(if st.verify_detail {
            text.clone()
        } else {
            verify_text(st, "")
        });
    }
    let own = texts.cause.and_then(|c| st.certificate.get(&c));
    Some(own.cloned().unwrap_or_else(|| verify_text(st, title)))
}

fn verify_text(st: &StyleEntry, detail: &str) -> String {
    match &st.verify_template {
        Some(t) => t.replace("{detail}", detail),
        None => detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_complete() {
        let cat = catalogue();
        for f in HandshakeFailure::ALL {
            assert!(cat.failure.contains_key(f), "no [failure.{f}]");
        }
        for c in CertCause::ALL {
            assert!(cat.certificate.contains_key(c), "no [certificate.{c}]");
        }
        for s in ErrorStyle::ALL {
            let st = cat.style.get(s).unwrap_or_else(|| panic!("no [style.{s}]"));
            let like = st.verifies_like.unwrap_or(*s);
            let measured = cat.chain_analysis.styles.contains(&like);
            if cat.chain_analysis.styles.contains(s) {
                assert!(
                    st.label.is_some(),
                    "{s}: listed by the chain analysis without a label"
                );
            }
            if !measured || !st.verify_detail {
                assert!(st.verify_template.is_some(), "{s}: needs a verify_template");
            }
            if !cat.chain_analysis.styles.contains(s) {
                // Only the listed styles are given the host and subjectAltName.
                for (c, text) in &st.certificate {
                    assert!(!text.contains('{'), "{s}.{c}: placeholder in {text}");
                }
            }
        }
    }

    /// The texts below were printed by the real clients on Debian 12 (OpenSSL 3.0.19).
    #[test]
    fn renders_measured_texts() {
        use HandshakeFailure as H;
        assert_eq!(
            failure_text(ErrorStyle::Python, H::ProtocolVersionAlert, None),
            "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version"
        );
        assert_eq!(
            failure_text(ErrorStyle::Python, H::UnsafeLegacyRenegotiation, None),
            "[SSL: UNSAFE_LEGACY_RENEGOTIATION_DISABLED] unsafe legacy renegotiation disabled"
        );
        assert_eq!(
            failure_text(ErrorStyle::OpensslCli, H::LegacySigalg, None),
            "error:0A00014D:SSL routines:tls_process_key_exchange:legacy sigalg disallowed or unsupported"
        );
        assert_eq!(
            failure_text(ErrorStyle::Curl, H::HandshakeFailureAlert, None),
            "OpenSSL/3.0: error:0A000410:SSL routines::sslv3 alert handshake failure"
        );
        assert_eq!(
            failure_text(ErrorStyle::Node, H::WrongVersionNumber, None),
            "ERR_SSL_WRONG_VERSION_NUMBER"
        );
        assert_eq!(
            failure_text(ErrorStyle::Java, H::OtherAlert, Some("access_denied")),
            "javax.net.ssl.SSLHandshakeException: Received fatal alert: access_denied"
        );
    }

    #[test]
    fn ocsp_refusals_are_measured_for_pymongo_and_bare_elsewhere() {
        assert_eq!(
            failure_text(
                ErrorStyle::Pymongo,
                HandshakeFailure::InvalidStatusResponse,
                None
            ),
            "SSL handshake failed: {address}: [('SSL routines', '', 'invalid status response')]"
        );
        for s in [
            ErrorStyle::Curl,
            ErrorStyle::Java,
            ErrorStyle::PyopensslOpenssl1,
        ] {
            assert_eq!(
                failure_text(s, HandshakeFailure::InvalidStatusResponse, None),
                "invalid status response"
            );
        }
    }

    #[test]
    fn certificate_text_for_one_style() {
        assert_eq!(
            certificate_text(ErrorStyle::Python, CertCause::NoLocalIssuer),
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate"
        );
        assert_eq!(
            certificate_text(ErrorStyle::Generic, CertCause::Expired),
            certificate_text(ErrorStyle::Python, CertCause::Expired)
        );
        assert_eq!(
            certificate_text(ErrorStyle::Node, CertCause::LeafNoDigitalSignature),
            ""
        );
    }

    #[test]
    fn certificate_texts_follow_the_chain_analysis() {
        let vars = CertVars {
            altnames: "DNS:other.example",
            ..CertVars::host("db.example")
        };
        let w = certificate_breaks(CertCause::HostnameMismatch, vars, &[]);
        let labels: Vec<&str> = w.breaks.iter().map(|b| b.client.as_str()).collect();
        assert_eq!(
            labels,
            [
                "OpenSSL 3 (openssl s_client, curl)",
                "Python ssl (OpenSSL 3)",
                "curl 7.88 (OpenSSL 3)",
                "Node.js 20 (tls)",
                "Java 17 (JSSE)",
                "gnutls-cli 3.7.9"
            ]
        );
        assert_eq!(
            w.breaks[1].error,
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for 'db.example'."
        );
        assert!(w.breaks[3].error.ends_with("altnames: DNS:other.example"));
        assert_eq!(
            w.breaks[4].error,
            "javax.net.ssl.SSLHandshakeException: No subject alternative DNS name matching db.example found."
        );
        assert_eq!(w.evidence.len(), 1, "the note");
        let texts = CertTexts::from_breaks(&w.breaks);
        assert_eq!(texts.cause, Some(CertCause::HostnameMismatch));
        assert_eq!(texts.by_style.len(), 6);
        // Recorded evidence keeps them: they survive a JSON round trip, unlike a break's key.
        let json = serde_json::to_string(&texts).expect("serialises");
        let back: CertTexts = serde_json::from_str(&json).expect("loads");
        assert_eq!(back, texts);

        // A listed style left out accepts; PyMongo fails where Python does, without the detail.
        let weak_breaks = certificate_breaks(
            CertCause::EeKeyTooWeak,
            CertVars {
                bits: "1024",
                subject_dn: "CN=w",
                ..vars
            },
            &[ErrorStyle::Node, ErrorStyle::Java, ErrorStyle::Gnutls],
        );
        let weak = CertTexts::from_breaks(&weak_breaks.breaks);
        assert_eq!(certificate_failure_text(ErrorStyle::Node, &weak, "t"), None);
        assert_eq!(certificate_failure_text(ErrorStyle::Java, &weak, "t"), None);
        assert_eq!(
            certificate_failure_text(ErrorStyle::Pymongo, &weak, "t").as_deref(),
            Some(
                "SSL handshake failed: {address}: [('SSL routines', '', 'certificate verify failed')]"
            )
        );
        assert_eq!(
            certificate_failure_text(ErrorStyle::Generic, &weak, "t").as_deref(),
            Some(
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: EE certificate key too weak"
            )
        );
        // Java's key-size text names the key and the certificate, never the finding's title.
        let java = certificate_breaks(
            CertCause::EeKeyTooWeak,
            CertVars {
                bits: "512",
                subject_dn: "CN=w.test",
                ..vars
            },
            &[],
        );
        let java = CertTexts::from_breaks(&java.breaks);
        assert_eq!(
            certificate_failure_text(ErrorStyle::Java, &java, "weak key").as_deref(),
            Some(
                "javax.net.ssl.SSLHandshakeException: PKIX path validation failed: java.security.cert.CertPathValidatorException: Algorithm constraints check failed on keysize limits: RSA 512 bit key used with certificate: CN=w.test"
            )
        );
        let no_node = certificate_breaks(CertCause::NoLocalIssuer, vars, &[ErrorStyle::Node]);
        assert_eq!(no_node.breaks.len(), 5);
        let no_node = CertTexts::from_breaks(&no_node.breaks);
        assert_eq!(
            certificate_failure_text(ErrorStyle::Node, &no_node, "t"),
            None
        );
        assert!(
            certificate_failure_text(ErrorStyle::Gnutls, &no_node, "t")
                .is_some_and(|t| t.ends_with("The certificate issuer is unknown."))
        );
    }
}
