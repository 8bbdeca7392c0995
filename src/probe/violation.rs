//! What a server may not answer to the ClientHello it was sent (RFC 8446 §4.1.3, §4.1.4,
//! RFC 5246 §7.4.1.3): a version or cipher suite the hello did not offer, a
//! HelloRetryRequest to a hello without TLS 1.3, or one that asks for a group not offered
//! or already shared. Such an answer is not evidence that the server supports anything: the
//! probe reports it as a protocol violation.

use crate::wire::extension::ClientExtension;
use crate::wire::{ClientHello, ProtocolVersion, ServerFlight, suites};

/// TLS 1.3 supported_versions value.
const TLS13: u16 = 0x0304;

/// RFC 8701 GREASE values (0x0a0a, 0x1a1a, … 0xfafa) never name a real version or suite.
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

fn offered_versions(hello: &ClientHello) -> Option<&[u16]> {
    hello.extensions.iter().find_map(|e| match e {
        ClientExtension::SupportedVersions(v) => Some(v.as_slice()),
        _ => None,
    })
}

fn version_name(wire: u16) -> String {
    ProtocolVersion::from_wire(wire).name()
}

/// Why `flight` cannot be an answer to `hello`, if it cannot.
pub fn check(hello: &ClientHello, flight: &ServerFlight) -> Option<String> {
    let sh = flight.server_hello.as_ref()?;
    let offered = offered_versions(hello);
    let chosen_by_extension = sh.extensions.iter().find_map(|e| match e {
        crate::wire::ServerExtension::SupportedVersions(v) => Some(*v),
        _ => None,
    });
    match (offered, chosen_by_extension) {
        (None, Some(v)) => {
            return Some(format!(
                "the server chose {} through supported_versions, which the ClientHello did not send",
                version_name(v)
            ));
        }
        (Some(list), Some(v)) if is_grease(v) || !list.contains(&v) => {
            return Some(format!(
                "the server chose {}, a version the ClientHello did not offer",
                version_name(v)
            ));
        }
        (_, None) if sh.legacy_version > hello.legacy_version.min(0x0303) => {
            return Some(format!(
                "the server chose {}, above the highest version offered ({})",
                version_name(sh.legacy_version),
                version_name(hello.legacy_version.min(0x0303))
            ));
        }
        _ => {}
    }
    let suite = sh.cipher_suite;
    if is_grease(suite.0) || !hello.cipher_suites.contains(&suite) {
        return Some(format!(
            "the server chose cipher suite {}, which the ClientHello did not offer",
            suites::name_of(suite)
        ));
    }
    // RFC 8446 §B.4: TLS 1.3 suites exist only in TLS 1.3, and TLS 1.3 has no other suites.
    let tls13 = sh.negotiated_version() == ProtocolVersion::Tls13;
    let tls13_suite =
        suites::by_id(suite.0 as u32).is_some_and(|s| s.protocol == suites::SuiteProtocol::Tls13);
    if tls13 != tls13_suite {
        return Some(format!(
            "the server chose {} with cipher suite {}, which does not exist in that version",
            sh.negotiated_version().name(),
            suites::name_of(suite)
        ));
    }
    if sh.is_hello_retry_request {
        if !offered.is_some_and(|l| l.contains(&TLS13)) {
            return Some("a HelloRetryRequest to a ClientHello that did not offer TLS 1.3".into());
        }
        if let Some(group) = sh.selected_group() {
            let groups = hello.extensions.iter().find_map(|e| match e {
                ClientExtension::SupportedGroups(g) => Some(g.as_slice()),
                _ => None,
            });
            if !groups.is_some_and(|g| g.contains(&group)) {
                return Some(format!(
                    "a HelloRetryRequest for group 0x{:04x}, which the ClientHello did not offer",
                    group.0
                ));
            }
            let shared = hello.extensions.iter().any(
                |e| matches!(e, ClientExtension::KeyShare(s) if s.iter().any(|(g, _)| *g == group)),
            );
            if shared {
                return Some(format!(
                    "a HelloRetryRequest for group 0x{:04x}, for which the ClientHello already sent a key share",
                    group.0
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ServerExtension;
    use crate::wire::groups::NamedGroup;
    use crate::wire::handshake::{HRR_RANDOM, ServerHello};
    use crate::wire::suites::CipherSuiteId;

    fn hello(v: ProtocolVersion) -> ClientHello {
        ClientHello::for_probe(
            v,
            Some("example.com"),
            &[CipherSuiteId(0x1301), CipherSuiteId(0xc02f)],
        )
    }

    fn flight(legacy: u16, suite: u16, ext: Vec<ServerExtension>, hrr: bool) -> ServerFlight {
        ServerFlight {
            server_hello: Some(ServerHello {
                legacy_version: legacy,
                random: if hrr { HRR_RANDOM } else { [7; 32] },
                session_id: Vec::new(),
                cipher_suite: CipherSuiteId(suite),
                compression: 0,
                extensions: ext,
                is_hello_retry_request: hrr,
            }),
            ..ServerFlight::default()
        }
    }

    #[test]
    fn honest_answers_pass() {
        let h12 = hello(ProtocolVersion::Tls12);
        assert_eq!(check(&h12, &flight(0x0303, 0xc02f, vec![], false)), None);
        // a lower version is a refusal to judge elsewhere, not a violation
        assert_eq!(check(&h12, &flight(0x0301, 0xc02f, vec![], false)), None);
        let h13 = hello(ProtocolVersion::Tls13);
        let sv = ServerExtension::SupportedVersions(TLS13);
        assert_eq!(
            check(&h13, &flight(0x0303, 0x1301, vec![sv.clone()], false)),
            None
        );
        let ask = ServerExtension::KeyShareHrr(NamedGroup::SECP384R1);
        assert_eq!(
            check(&h13, &flight(0x0303, 0x1301, vec![sv, ask], true)),
            None
        );
    }

    #[test]
    fn answers_to_what_was_never_offered_are_violations() {
        let h10 = hello(ProtocolVersion::Tls10);
        let v = check(&h10, &flight(0x0303, 0xc02f, vec![], false)).unwrap();
        assert!(v.contains("above the highest version offered"), "{v}");
        let h12 = hello(ProtocolVersion::Tls12);
        let v = check(&h12, &flight(0x0303, 0x0005, vec![], false)).unwrap();
        assert!(v.contains("did not offer"), "{v}");
        let sv = ServerExtension::SupportedVersions(TLS13);
        let v = check(&h12, &flight(0x0303, 0x1301, vec![sv.clone()], false)).unwrap();
        assert!(v.contains("did not send"), "{v}");
        let v = check(&h12, &flight(0x0303, 0xc02f, vec![], true)).unwrap();
        assert!(v.contains("did not offer TLS 1.3"), "{v}");
        // a suite offered, but one of the other protocol generation
        let both = ClientHello::for_probe(
            ProtocolVersion::Tls13,
            None,
            &[CipherSuiteId(0x1301), CipherSuiteId(0xc02f)],
        );
        let v = check(&both, &flight(0x0303, 0x1301, vec![], false)).unwrap();
        assert!(v.contains("does not exist in that version"), "{v}");
        let v = check(&both, &flight(0x0303, 0xc02f, vec![sv.clone()], false)).unwrap();
        assert!(v.contains("does not exist in that version"), "{v}");
        let h13 = hello(ProtocolVersion::Tls13);
        let bad = ServerExtension::SupportedVersions(0x0305);
        assert!(check(&h13, &flight(0x0303, 0x1301, vec![bad], false)).is_some());
        let shared = ServerExtension::KeyShareHrr(NamedGroup::X25519);
        let v = check(
            &h13,
            &flight(0x0303, 0x1301, vec![sv.clone(), shared], true),
        )
        .unwrap();
        assert!(v.contains("already sent a key share"), "{v}");
        let unknown = ServerExtension::KeyShareHrr(NamedGroup(0x7777));
        let v = check(&h13, &flight(0x0303, 0x1301, vec![sv, unknown], true)).unwrap();
        assert!(v.contains("did not offer"), "{v}");
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && !is_grease(0x0a1a));
    }
}
