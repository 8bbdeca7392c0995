//! Refusals whose cause the measurement shows although the client only sees an alert. A
//! handshake_failure alert names no reason; when the server takes ECDHE (or TLS 1.3) suites
//! the client offers, but only with groups the client does not offer, the cause is the
//! groups, not the cipher suites. When its TLS ≤ 1.2 suites all need a certificate it does
//! not serve (ECDHE-ECDSA suites only, with an RSA certificate), it is that mismatch. And a
//! server that rejects the client certificate given (`--cert`) says why in its alert.

use super::{ServerFacts, SimFailure};
use crate::clients::{ClientProfile, HandshakeFailure, failure_text};
use crate::finding::FindingId;
use crate::wire::groups::{NamedGroup, group_name};
use crate::wire::{AlertDescription, ClientExtension, ClientHello, ProtocolVersion};
use serde::{Deserialize, Serialize};

/// The key exchange the scan measured, as far as a refusal's cause needs it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ServerKx {
    /// Groups accepted for ECDHE in TLS ≤1.2 and for TLS 1.3.
    pub groups: Vec<u16>,
    /// Accepted suites that need one of those groups (ECDHE, and every TLS 1.3 suite).
    pub suites_needing_group: Vec<u16>,
    /// Accepted suites that do not (RSA, DHE, …).
    pub other_suites: Vec<u16>,
}

/// The server refuses every TLS ≤ 1.2 hello with handshake_failure although tlsdoctor's
/// hellos offered suites for RSA and ECDSA certificates alike: its suites need a certificate
/// it does not serve (found by `doctor::handshake::suites_certificate`).
#[derive(Debug, Clone, Default)]
pub struct SuitesMismatch {
    /// TLS 1.3 works (its suites do not depend on the certificate's type): only hellos
    /// limited to TLS 1.2 and below are refused.
    pub tls13_works: bool,
    /// The key type of the certificate the server serves ("RSA", "ECDSA"), when a TLS 1.3
    /// handshake showed it.
    pub key_type: Option<String>,
}

/// Whether `profile`'s hello offers TLS 1.3 as RFC 8446 defines it (clients of 2017–2018
/// offered only its drafts, which a current server answers in TLS 1.2).
fn offers_tls13(profile: &ClientProfile) -> bool {
    let Ok(hello) = ClientHello::parse_record(&profile.hello_bytes()) else {
        return profile.policy.max() >= ProtocolVersion::Tls13;
    };
    hello.extensions.iter().any(|e| {
        matches!(e, ClientExtension::SupportedVersions(v)
            if v.iter().any(|x| ProtocolVersion::from_wire(*x) == ProtocolVersion::Tls13))
    })
}

/// Why `profile`'s hello was refused with handshake_failure, when the server's TLS ≤ 1.2
/// suites need a certificate it does not serve: None when the measurement does not show
/// that, or the client speaks TLS 1.3 to a server where TLS 1.3 works.
pub fn suites_need_other_certificate(
    profile: &ClientProfile,
    facts: &ServerFacts,
) -> Option<SimFailure> {
    let m = facts.suites_need_other_certificate.as_ref()?;
    if m.tls13_works && offers_tls13(profile) {
        return None;
    }
    let reason = match (&m.key_type, m.tls13_works) {
        (Some(t), true) if profile.policy.max() >= ProtocolVersion::Tls13 => format!(
            "this client offers TLS 1.3 only in a draft version, so it gets TLS 1.2, where every cipher suite the server enables needs a certificate other than the {t} one it serves"
        ),
        (Some(t), true) => format!(
            "this client offers only {} to {}, and every TLS 1.2 cipher suite the server enables needs a certificate other than the {t} one it serves (TLS 1.3 works, but this client does not speak it)",
            profile.policy.min(),
            profile.policy.max()
        ),
        _ => "every cipher suite the server enables needs a certificate of a type it does not serve (such as ECDHE-ECDSA suites with an RSA certificate), so it refuses this client's offer, as it would any offer, with handshake_failure".to_string(),
    };
    let key = HandshakeFailure::HandshakeFailureAlert;
    Some(SimFailure {
        key: key.key().to_string(),
        error: failure_text(profile.style, key, None),
        reason,
        finding: Some(FindingId::SuitesNeedOtherCertificate),
    })
}

/// Why `profile`'s hello was refused with handshake_failure, when the scan shows it is the
/// groups: None when the suites (or nothing measured) explain it.
pub fn no_shared_group(profile: &ClientProfile, facts: &ServerFacts) -> Option<SimFailure> {
    let kx = facts.server_kx.as_ref()?;
    if kx.groups.is_empty() || kx.suites_needing_group.is_empty() {
        return None;
    }
    let hello = ClientHello::parse_record(&profile.hello_bytes()).ok()?;
    let offered_groups: Vec<u16> = hello
        .extensions
        .iter()
        .find_map(|e| match e {
            ClientExtension::SupportedGroups(g) => Some(g.iter().map(|g| g.0).collect()),
            _ => None,
        })
        .unwrap_or_default();
    let suites: Vec<u16> = hello.cipher_suites.iter().map(|s| s.0).collect();
    let shares = |list: &[u16]| list.iter().any(|s| suites.contains(s));
    if offered_groups.iter().any(|g| kx.groups.contains(g))
        || shares(&kx.other_suites)
        || !shares(&kx.suites_needing_group)
    {
        return None;
    }
    let names: Vec<String> = kx
        .groups
        .iter()
        .map(|g| {
            group_name(NamedGroup(*g))
                .map(str::to_string)
                .unwrap_or_else(|| format!("0x{g:04x}"))
        })
        .collect();
    let key = HandshakeFailure::HandshakeFailureAlert;
    Some(SimFailure {
        key: key.key().to_string(),
        error: failure_text(profile.style, key, None),
        reason: format!(
            "the server takes cipher suites this client offers, but only with the groups {}, none of which this client offers",
            names.join(", ")
        ),
        finding: Some(FindingId::NoSharedGroup),
    })
}

/// The client presents the user's certificate in `v` and the server rejects it with `alert`.
pub fn client_cert_rejected(
    profile: &ClientProfile,
    alert: AlertDescription,
    v: ProtocolVersion,
) -> SimFailure {
    let key = match alert {
        AlertDescription::UnknownCa => HandshakeFailure::UnknownCaAlert,
        AlertDescription::CertificateExpired if v == ProtocolVersion::Tls13 => {
            HandshakeFailure::CertificateExpiredAlert
        }
        AlertDescription::CertificateExpired => HandshakeFailure::CertificateExpiredAlertTls12,
        _ => HandshakeFailure::OtherAlert,
    };
    SimFailure {
        key: key.key().to_string(),
        error: failure_text(profile.style, key, Some(alert.name())),
        reason: format!(
            "the server rejects the client certificate this client presents, with alert {}",
            alert.name()
        ),
        finding: Some(FindingId::ClientCertRejected),
    }
}

/// A client presenting the user's certificate where tlsdoctor could not (`--cert`, TLS ≤ 1.2
/// suites rustls cannot negotiate): when the certificate's issuer is not among the CAs the
/// server lists, a server that verifies against that list rejects it with unknown_ca, which
/// is predicted; otherwise nothing is known against it (None: judged as accepted).
pub fn client_cert_untested(
    profile: &ClientProfile,
    facts: &ServerFacts,
    v: ProtocolVersion,
) -> Option<SimFailure> {
    if facts.client_cert_issuer_listed != Some(false) {
        return None;
    }
    let mut f = client_cert_rejected(profile, AlertDescription::UnknownCa, v);
    f.reason = "the client certificate this client presents was issued by a CA the server does not list; a server that verifies against that list rejects it with alert unknown_ca (not tested: tlsdoctor could not present it)".into();
    f.finding = Some(FindingId::ClientCertUnverified);
    Some(f)
}
