//! Every client text tlsdoctor quotes for a certificate finding (data/client-errors.toml, the
//! `[style.S.certificate]` and `[style.S.ocsp]` tables, measured against the real clients) is
//! recognised by `explain`, and the candidates it gives (what `check --error` ranks the
//! server's findings by) include the finding that quotes it. A user who pastes what their
//! client printed gets back the finding tlsdoctor would have shown for that client. The same
//! for the handshake failures' texts (`[style.S.texts]`): each is recognised and lists one of
//! the findings its failure stands for.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use tlsdoctor::explain::{explain, finding_ids_for};
use tlsdoctor::finding::FindingId;

#[derive(Deserialize)]
struct Catalogue {
    style: BTreeMap<String, Style>,
}

#[derive(Deserialize)]
struct Style {
    #[serde(default)]
    texts: BTreeMap<String, String>,
    #[serde(default)]
    certificate: BTreeMap<String, String>,
    #[serde(default)]
    ocsp: BTreeMap<String, String>,
}

fn catalogue() -> Catalogue {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/client-errors.toml");
    let text = std::fs::read_to_string(&path).expect("read the client catalogue");
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The findings whose client texts a certificate cause words (src/cert/analyze/rules/: each
/// rule attaches the cause's texts to the finding it raises). A cause raised by several rules
/// lists each of them.
fn findings_of(cause: &str) -> &'static [&'static str] {
    match cause {
        "expired" => &["cert-expired"],
        "not_yet_valid" => &["cert-not-yet-valid"],
        "hostname_mismatch" => &["cert-hostname-mismatch", "cert-wildcard-apex"],
        "ip_mismatch" => &["cert-hostname-mismatch"],
        "self_signed_leaf" => &["cert-self-signed"],
        "self_signed_in_chain" => &[
            "cert-untrusted-root",
            "cert-root-missing-locally",
            "cert-interception-root",
        ],
        "no_local_issuer" => &[
            "cert-missing-intermediate",
            "cert-untrusted-root",
            "cert-root-missing-locally",
            "cert-interception-root",
        ],
        "no_local_issuer_leaf_only" => &["cert-missing-intermediate", "cert-root-missing-locally"],
        "ee_key_too_weak" | "ca_key_too_weak" => &["cert-weak-key"],
        "ca_md_too_weak" => &["cert-sha1-signature"],
        "md5_signature" => &["cert-md5-signature"],
        "unsuitable_purpose" => &["cert-usage-forbids-server"],
        "invalid_ca" | "ca_false" => &["cert-issuer-not-ca"],
        "ca_no_key_cert_sign" => &["cert-issuer-no-keycertsign"],
        "path_length" => &["cert-path-length"],
        "permitted_subtree" | "excluded_subtree" => &["cert-name-constraints"],
        "unhandled_critical_extension" => &["cert-unknown-critical-extension"],
        "ca_as_leaf" => &["cert-chain-reversed"],
        "leaf_no_digital_signature" => &["cert-rsa-key-usage-no-signature"],
        "rekeyed_issuer" => &["cert-intermediate-rekeyed"],
        "expired_anchor" => &["cert-trust-anchor-expired"],
        other => panic!("certificate cause {other:?} has no finding here: add it"),
    }
}

/// The findings a handshake failure's text can stand for (the simulation and the doctor
/// name one of them for it, by what else they saw): the text must list at least one.
fn findings_of_failure(failure: &str) -> &'static [&'static str] {
    match failure {
        "protocol_version_alert" => &[
            "proto-mismatch",
            "proto-server-too-old",
            "proto-client-too-old",
        ],
        "handshake_failure_alert" => &["no-shared-cipher", "client-cert-required"],
        "certificate_required_alert" => &["client-cert-required"],
        "unrecognized_name_alert" => &["sni-required", "closed-on-server-name"],
        "internal_error_alert" => &["server-internal-error"],
        "insufficient_security_alert" => &["no-shared-cipher"],
        "decode_error_alert" => &["server-decode-error", "client-cert-required"],
        "no_application_protocol_alert" => &["alpn-required"],
        "unknown_ca_alert" | "certificate_expired_alert" | "certificate_expired_alert_tls12" => {
            &["client-cert-rejected"]
        }
        "other_alert" => &["server-alert"],
        "unsupported_protocol" => &["proto-server-too-old", "proto-mismatch"],
        "legacy_sigalg" => &["proto-server-too-old", "no-shared-cipher"],
        "unsafe_legacy_renegotiation" => &["no-secure-renegotiation"],
        "dh_key_too_small" => &["dh-too-small"],
        "wrong_version_number" => &["not-tls"],
        "unexpected_eof" | "connection_reset" => &["server-closed", "connect-failed", "not-tls"],
        "excessive_message_size" => &["cert-message-too-large"],
        "dh_keypair_failed" => &["dh-prime-size-unsupported"],
        "certificate_verify_failed" => &["cert-untrusted-root", "cert-self-signed"],
        "invalid_status_response" => &["ocsp-staple-invalid", "ocsp-staple-revoked"],
        other => panic!("handshake failure {other:?} has no finding here: add it"),
    }
}

#[test]
fn every_measured_handshake_text_is_explained() {
    let cat = catalogue();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (style, s) in &cat.style {
        for (failure, text) in &s.texts {
            checked += 1;
            let text = filled(text).replace("{alert}", "bad_record_mac");
            let want = findings_of_failure(failure);
            let candidates: Vec<&str> = finding_ids_for(&text).iter().map(|f| f.as_str()).collect();
            if candidates.is_empty() {
                wrong.push(format!("[{style}/{failure}] not recognised: {text}"));
            } else if !want.iter().any(|w| candidates.contains(w)) {
                wrong.push(format!(
                    "[{style}/{failure}] none of {want:?} among {candidates:?}: {text}"
                ));
            }
        }
    }
    assert!(checked >= 40, "only {checked} texts in the catalogue");
    assert!(
        wrong.is_empty(),
        "{} of {checked} texts:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Fill the catalogue's placeholders the way a real run would.
fn filled(text: &str) -> String {
    text.replace("{host}", "db.example.net")
        .replace("{size}", "110009")
        .replace("{limit}", "32768")
        .replace("{altnames}", "DNS:other.example.net")
        .replace("{bits}", "1024")
        .replace("{subject_dn}", "CN=db.example.net")
        .replace("{address}", "db.example.net:443")
}

/// Every catalogue text that quotes `finding`, filled, with the style and cause it is for
/// (`check --error` with these against a lab endpoint with that fault must lead with it).
pub(crate) fn client_texts_for(finding: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (style, s) in catalogue().style {
        for (cause, text) in &s.certificate {
            if findings_of(cause).contains(&finding) {
                out.push((format!("{style}/{cause}"), filled(text)));
            }
        }
        if let Some(text) = s.ocsp.get(finding) {
            out.push((format!("{style}/ocsp"), filled(text)));
        }
    }
    out
}

#[test]
fn every_certificate_text_is_explained_by_its_finding() {
    let cat = catalogue();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (style, s) in &cat.style {
        let certificate = s.certificate.iter().map(|(cause, text)| {
            let want: Vec<String> = findings_of(cause).iter().map(|f| f.to_string()).collect();
            (cause, want, text)
        });
        // An OCSP text is keyed by the finding itself.
        let ocsp = s.ocsp.iter().map(|(finding, text)| {
            assert!(
                FindingId::ALL.iter().any(|f| f.as_str() == finding),
                "ocsp key {finding:?} is not a finding"
            );
            (finding, vec![finding.clone()], text)
        });
        for (cause, want, text) in certificate.chain(ocsp) {
            checked += 1;
            let text = filled(text);
            let e = explain(&text);
            let Some(best) = e.matches.first() else {
                wrong.push(format!("[{style}/{cause}] not recognised: {text}"));
                continue;
            };
            let candidates: Vec<&str> = finding_ids_for(&text).iter().map(|f| f.as_str()).collect();
            let missing: Vec<&String> = want
                .iter()
                .filter(|w| !candidates.contains(&w.as_str()))
                .collect();
            if !missing.is_empty() {
                wrong.push(format!(
                    "[{style}/{cause}] via {}: {missing:?} not among {candidates:?}: {text}",
                    best.id
                ));
            }
        }
    }
    assert!(checked >= 100, "only {checked} texts in the catalogue");
    assert!(
        wrong.is_empty(),
        "{} of {checked} texts:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_new_certificate_texts_lead_with_their_entry() {
    // The texts the issue names, as the clients print them, lead with a certificate entry
    // whose first causes are the findings that quote them.
    for (text, first) in [
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unsuitable certificate purpose (_ssl.c:1006)",
            &["cert-usage-forbids-server", "cert-chain-reversed"][..],
        ),
        (
            "curl: (60) SSL certificate problem: invalid CA certificate",
            &["cert-issuer-not-ca", "cert-issuer-no-keycertsign"][..],
        ),
        (
            "verify error:num=34:unhandled critical extension",
            &["cert-unknown-critical-extension"][..],
        ),
        (
            "javax.net.ssl.SSLHandshakeException: KeyUsage does not allow digital signatures",
            &["cert-rsa-key-usage-no-signature", "cert-chain-reversed"][..],
        ),
    ] {
        let e = explain(text);
        let best = e
            .matches
            .first()
            .unwrap_or_else(|| panic!("not recognised: {text}"));
        let got: Vec<&str> = best.finding_ids.iter().map(|f| f.as_str()).collect();
        assert!(got.starts_with(first), "{text}: {got:?} via {}", best.id);
    }
}
