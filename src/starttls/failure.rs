//! A failed upgrade as a finding of its own: what kind of failure it was, the server's
//! answer quoted (escaped), where to fix it per protocol (data/plaintext-protocols.toml) and
//! what the protocol's own clients print (data/client-errors.toml, `[upgrade]`).

use super::Protocol;
use crate::finding::catalogue::finding as build;
use crate::finding::{Finding, FindingId, variant};
use crate::probe::PreludeError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// What went wrong in the plaintext dialogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpgradeFailure {
    /// The server does not offer the upgrade.
    NotOffered,
    /// It offered the upgrade and refused it, or refused the dialogue.
    Refused,
    /// It wants authentication first.
    AuthFirst,
    /// The reply breaks the protocol (garbage, endless lines).
    Malformed,
    /// No complete reply before the deadline.
    NoAnswer,
    /// The connection was closed or reset during the dialogue.
    Closed,
}

impl UpgradeFailure {
    pub fn classify(error: &PreludeError) -> UpgradeFailure {
        match error {
            PreludeError::NotOffered { .. } => UpgradeFailure::NotOffered,
            PreludeError::Refused { reply } if wants_auth(reply) => UpgradeFailure::AuthFirst,
            PreludeError::Refused { .. } => UpgradeFailure::Refused,
            // Only seen when the full dialogue after it failed the same way (the engine
            // retries once): what went wrong is in the reason.
            PreludeError::Malformed { .. } | PreludeError::Shortcut { .. } => {
                UpgradeFailure::Malformed
            }
            PreludeError::Timeout => UpgradeFailure::NoAnswer,
            PreludeError::Io { .. } => UpgradeFailure::Closed,
        }
    }
}

/// Replies that mean "log in first": SMTP/FTP 530, LDAP strongerAuthRequired.
fn wants_auth(reply: &str) -> bool {
    reply.starts_with("530") || reply.starts_with("resultCode 8 ")
}

/// The server's words, fit to quote: control characters escaped, at most 200 characters.
pub fn quote(reply: &str) -> String {
    let mut out = String::from("\"");
    for (i, c) in reply.chars().enumerate() {
        if i >= 200 {
            out.push('…');
            break;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32 & 0xff)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Debug, Deserialize)]
struct Hints {
    starttls: BTreeMap<Protocol, ProtocolHints>,
}

#[derive(Debug, Deserialize)]
struct ProtocolHints {
    server: String,
    client: String,
}

fn hints(p: Protocol) -> Option<&'static ProtocolHints> {
    static H: OnceLock<BTreeMap<Protocol, ProtocolHints>> = OnceLock::new();
    H.get_or_init(|| {
        toml::from_str::<Hints>(include_str!("../../data/plaintext-protocols.toml"))
            .map(|h| h.starttls)
            .unwrap_or_default()
    })
    .get(&p)
}

#[derive(Debug, Default, Deserialize)]
struct Wording {
    upgrade: BTreeMap<Protocol, BTreeMap<UpgradeFailure, BTreeMap<String, String>>>,
    /// `[upgrade_tls.PROTOCOL.FINDING]`: what the protocol's own clients print for a TLS
    /// failure (a finding id) behind the upgrade.
    #[serde(default)]
    upgrade_tls: BTreeMap<Protocol, BTreeMap<String, BTreeMap<String, String>>>,
}

fn wording() -> &'static Wording {
    static W: OnceLock<Wording> = OnceLock::new();
    W.get_or_init(|| {
        toml::from_str::<Wording>(include_str!("../../data/client-errors.toml")).unwrap_or_default()
    })
}

/// What each client of `p` prints for the TLS failure `finding` behind the upgrade,
/// measured (client name → text).
pub fn tls_client_texts(p: Protocol, finding: FindingId) -> Vec<(String, String)> {
    wording()
        .upgrade_tls
        .get(&p)
        .and_then(|f| f.get(finding.as_str()))
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Add to each finding of a diagnosis made through `p`'s upgrade what `p`'s own clients
/// print for it (psql, the mariadb client, smtplib…), beside the generic TLS clients.
pub fn quote_upgrade_clients(p: Protocol, findings: &mut [Finding]) {
    for f in findings.iter_mut() {
        for (client, text) in tls_client_texts(p, f.id) {
            if !f.breaks.iter().any(|b| b.client == client) {
                f.breaks.push(crate::finding::ClientBreak {
                    client,
                    error: text,
                    key: None,
                    unquoted: None,
                    after: None,
                });
            }
        }
    }
}

/// What each client of `p` prints for `failure`, measured (client name → text).
pub fn client_texts(p: Protocol, failure: UpgradeFailure) -> Vec<(String, String)> {
    let w = wording();
    w.upgrade
        .get(&p)
        .and_then(|f| f.get(&failure))
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The finding for an upgrade named `upgrade` (a [`Protocol::upgrade_name`]) that failed
/// with `error` on every connection.
pub fn finding(upgrade: &str, error: &PreludeError) -> Finding {
    let protocol = Protocol::ALL
        .into_iter()
        .find(|p| p.upgrade_name() == upgrade);
    let failure = UpgradeFailure::classify(error);
    let reply = match error {
        PreludeError::NotOffered { reply } | PreludeError::Refused { reply } => quote(reply),
        PreludeError::Malformed { reason } | PreludeError::Shortcut { reason } => quote(reason),
        other => quote(&other.to_string()),
    };
    let h = protocol.and_then(hints);
    let vars = [
        ("upgrade", upgrade.to_string()),
        ("reply", reply.clone()),
        (
            "server_hint",
            h.map(|h| h.server.clone())
                .unwrap_or_else(|| "see its TLS settings".into()),
        ),
        (
            "client_hint",
            h.map(|h| h.client.clone()).unwrap_or_default(),
        ),
    ];
    use variant::starttls_failed as v;
    let form = match failure {
        UpgradeFailure::NotOffered => v::NOT_OFFERED,
        UpgradeFailure::Refused => v::REFUSED,
        UpgradeFailure::AuthFirst => v::AUTH_FIRST,
        UpgradeFailure::Malformed => v::MALFORMED,
        UpgradeFailure::NoAnswer => v::NO_ANSWER,
        UpgradeFailure::Closed => v::CLOSED,
    };
    let mut f = build(form, &vars).evidence(format!(
        "every connection failed in the plaintext {upgrade} dialogue, before any TLS byte"
    ));
    f = f.evidence(match error {
        PreludeError::NotOffered { .. } => format!("the server's announcement: {reply}"),
        PreludeError::Refused { .. } => format!("the server answered {reply}"),
        PreludeError::Malformed { .. } | PreludeError::Shortcut { .. } => {
            format!("what was wrong: {reply}")
        }
        PreludeError::Timeout => "no complete answer before the timeout".to_string(),
        PreludeError::Io { message, .. } => format!("the connection ended: {}", quote(message)),
    });
    if let Some(p) = protocol {
        for (client, text) in client_texts(p, failure) {
            f = f.breaks(client, text);
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::FindingId;

    #[test]
    fn classify_and_quote() {
        let r = |s: &str| PreludeError::Refused { reply: s.into() };
        assert_eq!(
            UpgradeFailure::classify(&r("530 Please login with USER and PASS.")),
            UpgradeFailure::AuthFirst
        );
        assert_eq!(
            UpgradeFailure::classify(&r("454 4.7.0 TLS not available")),
            UpgradeFailure::Refused
        );
        assert_eq!(
            UpgradeFailure::classify(&PreludeError::Timeout),
            UpgradeFailure::NoAnswer
        );
        assert_eq!(quote("a\x1b[31m\"b"), "\"a\\x1b[31m\\\"b\"");
        assert!(quote(&"x".repeat(500)).ends_with("…\""));
    }

    #[test]
    fn upgrade_tls_texts_name_real_findings() {
        let w = wording();
        assert!(
            !w.upgrade.is_empty(),
            "data/client-errors.toml [upgrade] failed to parse"
        );
        assert!(!w.upgrade_tls.is_empty());
        for (p, by_finding) in &w.upgrade_tls {
            for id in by_finding.keys() {
                assert!(
                    id.parse::<FindingId>().is_ok(),
                    "[upgrade_tls.{p}.{id}]: no such finding in data/findings.toml"
                );
            }
        }
    }

    #[test]
    fn every_protocol_has_hints() {
        for p in Protocol::ALL {
            assert!(
                hints(p).is_some(),
                "data/plaintext-protocols.toml has no [starttls.{p}]"
            );
        }
    }

    #[test]
    fn the_finding_quotes_the_reply() {
        let f = finding(
            "SMTP STARTTLS",
            &PreludeError::Refused {
                reply: "454 4.7.0 TLS not available\x07".into(),
            },
        );
        assert_eq!(f.id, FindingId::StarttlsFailed);
        assert!(
            f.title.contains("\"454 4.7.0 TLS not available\\x07\""),
            "{}",
            f.title
        );
        assert!(
            f.fix_server.iter().any(|l| l.contains("smtpd_tls")),
            "{:?}",
            f.fix_server
        );
    }
}
