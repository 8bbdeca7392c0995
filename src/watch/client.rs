//! Which known client the application is, from the shape of its ClientHello, and what that
//! client prints for the failure the reading found (the client-wording catalogue).
//!
//! The shape is what a client's TLS library and settings fix and a connection does not change:
//! the cipher suites, the extension types in order, the groups and the ALPN list. The server
//! name, padding, key shares and anything GREASE are left out.

use crate::clients::{
    CertCause, CertTexts, CertVars, ClientProfile, HandshakeFailure, all_profiles,
    certificate_breaks, certificate_failure_text, failure_text, recorded_profiles,
};
use crate::finding::{Finding, FindingId};
use crate::wire::ClientHello;
use crate::wire::alert::AlertDescription;
use crate::wire::extension::{ClientExtension, typ};

use super::diagnose::SeenAlert;
use super::record::Side;

/// RFC 8701 GREASE values: 0x?a?a.
fn grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

#[derive(Debug, PartialEq, Eq)]
struct Shape {
    suites: Vec<u16>,
    extensions: Vec<u16>,
    groups: Vec<u16>,
    alpn: Vec<String>,
}

fn shape(h: &ClientHello) -> Shape {
    let mut s = Shape {
        suites: h
            .cipher_suites
            .iter()
            .map(|c| c.0)
            .filter(|v| !grease(*v))
            .collect(),
        extensions: Vec::new(),
        groups: Vec::new(),
        alpn: Vec::new(),
    };
    for e in &h.extensions {
        let t = e.typ();
        if grease(t) || t == typ::SERVER_NAME || t == typ::PADDING {
            continue;
        }
        s.extensions.push(t);
        match e {
            ClientExtension::SupportedGroups(g) => {
                s.groups = g.iter().map(|g| g.0).filter(|v| !grease(*v)).collect()
            }
            ClientExtension::Alpn(p) => s.alpn = p.clone(),
            _ => {}
        }
    }
    s
}

/// The client profile (captured here first, then recorded ones) whose hello has the same
/// shape as `h`.
pub fn recognise(h: &ClientHello) -> Option<&'static ClientProfile> {
    let want = shape(h);
    all_profiles()
        .iter()
        .chain(recorded_profiles())
        .find(|p| ClientHello::parse_record(&p.hello_bytes()).is_ok_and(|ph| shape(&ph) == want))
}

/// The failure a client's TLS library reports for an alert it received.
fn received(d: AlertDescription) -> HandshakeFailure {
    use AlertDescription as D;
    match d {
        D::ProtocolVersion => HandshakeFailure::ProtocolVersionAlert,
        D::HandshakeFailure => HandshakeFailure::HandshakeFailureAlert,
        D::UnrecognizedName => HandshakeFailure::UnrecognizedNameAlert,
        D::InternalError => HandshakeFailure::InternalErrorAlert,
        D::InsufficientSecurity => HandshakeFailure::InsufficientSecurityAlert,
        D::DecodeError => HandshakeFailure::DecodeErrorAlert,
        D::CertificateRequired => HandshakeFailure::CertificateRequiredAlert,
        _ => HandshakeFailure::OtherAlert,
    }
}

/// The verification cause behind a certificate finding, where it has one.
fn cert_cause(f: &Finding, chain_sent_root: bool) -> Option<CertCause> {
    Some(match f.id {
        FindingId::CertSelfSigned => CertCause::SelfSignedLeaf,
        FindingId::CertExpired => CertCause::Expired,
        FindingId::CertNotYetValid => CertCause::NotYetValid,
        FindingId::CertHostnameMismatch => CertCause::HostnameMismatch,
        FindingId::CertUntrustedRoot if chain_sent_root => CertCause::SelfSignedInChain,
        FindingId::CertUntrustedRoot => CertCause::NoLocalIssuer,
        _ => return None,
    })
}

/// What `profile` prints for this reading: a server alert it received, or the certificate
/// refusal behind its own alert. `address` is `host:port` as the application was told to
/// reach the server (here: the relay). `None` where the catalogue has no text for it.
pub fn its_text(
    profile: &ClientProfile,
    alert: &SeenAlert,
    finding: &Finding,
    host: Option<&str>,
    address: &str,
    chain_sent_root: bool,
) -> Option<String> {
    let code = alert.code?;
    let text = match alert.from {
        Side::Server => {
            let d = AlertDescription::from_u8(code);
            failure_text(profile.style, received(d), Some(d.name()))
        }
        Side::Client => {
            let cause = cert_cause(finding, chain_sent_root)?;
            let vars = CertVars::host(host.unwrap_or(""));
            // Worded as the chain analysis words it, so a style that verifies like another
            // (PyMongo through pyOpenSSL) gets its own form of the text.
            let texts = CertTexts::from_breaks(&certificate_breaks(cause, vars, &[]).breaks);
            certificate_failure_text(profile.style, &texts, &finding.title)?
        }
    };
    (!text.is_empty()).then(|| text.replace("{address}", address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_captured_profile_recognises_its_own_hello_and_grease_is_ignored() {
        for p in all_profiles() {
            let h = ClientHello::parse_record(&p.hello_bytes()).unwrap();
            let found = recognise(&h).map(|f| f.id.as_str());
            // Two profiles may share a shape (same library and settings); the first wins.
            let same = all_profiles()
                .iter()
                .find(|q| {
                    ClientHello::parse_record(&q.hello_bytes())
                        .is_ok_and(|qh| shape(&qh) == shape(&h))
                })
                .map(|q| q.id.as_str());
            assert_eq!(found, same, "{}", p.id);
        }
        assert!(grease(0x1a1a) && grease(0xfafa) && !grease(0x1a2a) && !grease(0x0a0b));
    }
}
