//! URLs of services that wrap TLS in their own protocol: `smtp://`, `imap://`, `pop3://`,
//! `ftp://`, `ldap://`, `postgres[ql]://`, `mysql://`, `xmpp://`, `nntp://`, `sieve://`,
//! `lmtp://` upgrade (STARTTLS and kin); `smtps://`, `imaps://`, `pop3s://`, `ldaps://`,
//! `ftps://`, `nntps://` speak TLS from the first byte. PostgreSQL's `sslmode` and MySQL's
//! `ssl-mode` are honoured: a mode without TLS is an error, since there is nothing to check.

use super::parse::{HostSyntax, parse_host_port};
use super::{Scheme, ServiceUrl, TargetError, TargetSpec};
use crate::starttls::Protocol;

/// What a scheme means: the port it defaults to and the upgrade it implies (none: direct TLS).
pub fn scheme(name: &str) -> Option<(u16, Option<Protocol>)> {
    Some(match name {
        "smtp" => (25, Some(Protocol::Smtp)),
        "submission" => (587, Some(Protocol::Smtp)),
        "lmtp" => (24, Some(Protocol::Lmtp)),
        "imap" => (143, Some(Protocol::Imap)),
        "pop3" | "pop" => (110, Some(Protocol::Pop3)),
        "ftp" => (21, Some(Protocol::Ftp)),
        "ldap" => (389, Some(Protocol::Ldap)),
        "postgres" | "postgresql" => (5432, Some(Protocol::Postgres)),
        "mysql" | "mariadb" => (3306, Some(Protocol::Mysql)),
        "xmpp" => (5222, Some(Protocol::Xmpp)),
        "nntp" | "news" => (119, Some(Protocol::Nntp)),
        "sieve" => (4190, Some(Protocol::Sieve)),
        "smtps" => (465, None),
        "imaps" => (993, None),
        "pop3s" => (995, None),
        "ldaps" => (636, None),
        "ftps" => (990, None),
        "nntps" => (563, None),
        _ => return None,
    })
}

/// Parse `rest` (after `name://`) for a scheme [`scheme`] knows.
pub fn parse(name: &str, shown: &str, rest: &str) -> Result<TargetSpec, TargetError> {
    let (default_port, mut upgrade) = scheme(name).expect("caller checked the scheme");
    let input = super::parse::redacted_url(shown, rest);
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(TargetError::MalformedUri {
            input,
            reason: "contains whitespace or control characters".into(),
        });
    }
    let (userinfo, after_user) = super::parse::split_url_userinfo(rest);
    let end = after_user.find(['/', '?', '#']).unwrap_or(after_user.len());
    let authority = &after_user[..end];
    // XMPP URIs name the account (xmpp:user@domain) more often than a host: the domain
    // after '@' is the host either way.
    if authority.is_empty() {
        return Err(TargetError::MalformedUri {
            input,
            reason: format!("no host after '{shown}://'"),
        });
    }
    let hp = parse_host_port(&input, authority, default_port, HostSyntax::Url)?;
    let mut notes = Vec::new();
    if userinfo.is_some() && name != "xmpp" {
        notes.push("credentials in the URL are ignored: tlsdoctor only looks at TLS".into());
    }
    let query = after_user[end..]
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(""))
        .unwrap_or("");
    let mut mode = None;
    for (k, v) in query.split('&').filter_map(|kv| kv.split_once('=')) {
        let key = k.to_ascii_lowercase();
        let value = v.to_ascii_lowercase();
        match (upgrade, key.as_str()) {
            (Some(Protocol::Postgres | Protocol::PostgresDirect), "sslmode") => {
                match value.as_str() {
                    "disable" => return Err(no_tls(&input, "sslmode=disable")),
                    "allow" | "prefer" => notes.push(format!(
                        "sslmode={value}: libpq falls back to plaintext when the upgrade fails; tlsdoctor checks the TLS it would get (sslmode=require insists on it)"
                    )),
                    "require" | "verify-ca" | "verify-full" => {}
                    _ => return Err(bad_option(&input, "sslmode", "one of disable, allow, prefer, require, verify-ca, verify-full")),
                }
                mode = Some(format!("sslmode={value}"));
            }
            (Some(Protocol::Postgres | Protocol::PostgresDirect), "sslnegotiation") => {
                match value.as_str() {
                    "postgres" => {}
                    "direct" => {
                        // PostgreSQL 17: TLS from the first byte, ALPN "postgresql".
                        upgrade = Some(Protocol::PostgresDirect);
                        notes.push("sslnegotiation=direct: TLS from the first byte, as PostgreSQL 17 and later accept; every hello offers ALPN \"postgresql\", as libpq 17 does and the server requires".into());
                    }
                    _ => return Err(bad_option(&input, "sslnegotiation", "postgres or direct")),
                }
            }
            (Some(Protocol::Mysql), "ssl-mode" | "sslmode") => {
                match value.as_str() {
                    "disabled" => return Err(no_tls(&input, "ssl-mode=DISABLED")),
                    "preferred" => notes.push("ssl-mode=PREFERRED: the mysql client falls back to plaintext when the server has no TLS; tlsdoctor checks the TLS it would get".into()),
                    "required" | "verify_ca" | "verify_identity" => {}
                    _ => return Err(bad_option(&input, k, "one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY")),
                }
                mode = Some(format!("ssl-mode={}", v.to_ascii_uppercase()));
            }
            _ => {}
        }
    }
    // libpq 17 takes direct TLS only with a mode that insists on TLS; without sslmode it
    // uses prefer, and refuses the combination before connecting.
    let strict = mode.as_deref().is_some_and(|m| {
        [
            "sslmode=require",
            "sslmode=verify-ca",
            "sslmode=verify-full",
        ]
        .contains(&m)
    });
    if upgrade == Some(Protocol::PostgresDirect) && !strict {
        notes.push(format!(
            "sslnegotiation=direct with {}: libpq 17 refuses to connect at all (it allows direct TLS only with sslmode=require, verify-ca or verify-full); tlsdoctor checks the TLS all the same",
            mode.as_deref().unwrap_or("no sslmode (libpq's default, prefer)")
        ));
    }
    Ok(TargetSpec {
        input,
        scheme: Scheme::Service,
        hosts: vec![hp],
        mongo: None,
        upgrade: None,
        service: Some(ServiceUrl {
            scheme: name.to_string(),
            upgrade,
            mode,
        }),
        notes,
    })
}

fn no_tls(input: &str, mode: &str) -> TargetError {
    TargetError::InvalidOption {
        input: input.to_string(),
        option: mode.to_string(),
        reason: "this connection would not use TLS, so there is nothing to check; remove it or use a mode that requires TLS".into(),
    }
}

fn bad_option(input: &str, option: &str, valid: &str) -> TargetError {
    TargetError::InvalidOption {
        input: input.to_string(),
        option: option.to_string(),
        reason: format!("expected {valid}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::starttls::Protocol;

    fn upgrade_of(input: &str) -> (u16, Option<Protocol>) {
        let spec = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        let s = spec.service.expect("a service URL");
        (spec.hosts[0].port, s.upgrade)
    }

    #[test]
    fn schemes_imply_port_and_upgrade() {
        assert_eq!(upgrade_of("smtp://mail.test"), (25, Some(Protocol::Smtp)));
        assert_eq!(
            upgrade_of("smtp://mail.test:587"),
            (587, Some(Protocol::Smtp))
        );
        assert_eq!(
            upgrade_of("IMAP://mail.test/INBOX"),
            (143, Some(Protocol::Imap))
        );
        assert_eq!(
            upgrade_of("pop3://u:pw@mail.test"),
            (110, Some(Protocol::Pop3))
        );
        assert_eq!(
            upgrade_of("ftp://files.test/pub"),
            (21, Some(Protocol::Ftp))
        );
        assert_eq!(
            upgrade_of("ldap://dir.test/dc=x"),
            (389, Some(Protocol::Ldap))
        );
        assert_eq!(
            upgrade_of("postgresql://db.test/app?sslmode=require"),
            (5432, Some(Protocol::Postgres))
        );
        assert_eq!(
            upgrade_of("postgres://u@db.test:6543"),
            (6543, Some(Protocol::Postgres))
        );
        assert_eq!(upgrade_of("mysql://db.test"), (3306, Some(Protocol::Mysql)));
        assert_eq!(upgrade_of("xmpp://chat.test"), (5222, Some(Protocol::Xmpp)));
        assert_eq!(upgrade_of("smtps://mail.test"), (465, None));
        assert_eq!(upgrade_of("imaps://mail.test"), (993, None));
        assert_eq!(upgrade_of("pop3s://mail.test"), (995, None));
        assert_eq!(upgrade_of("ldaps://dir.test"), (636, None));
        assert_eq!(upgrade_of("ftps://files.test"), (990, None));
        assert_eq!(
            upgrade_of("postgres://db.test?sslnegotiation=direct"),
            (5432, Some(Protocol::PostgresDirect))
        );
    }

    #[test]
    fn modes_without_tls_are_refused_and_secrets_hidden() {
        for (input, want) in [
            ("postgres://db.test/x?sslmode=disable", "sslmode=disable"),
            ("mysql://db.test?ssl-mode=DISABLED", "ssl-mode=DISABLED"),
            ("postgres://db.test?sslmode=bogus", "sslmode"),
            ("smtp://", "no host"),
        ] {
            let e = parse(input).unwrap_err().to_string();
            assert!(e.contains(want), "{input}: {e}");
        }
        let direct = parse("postgres://db.test/app?sslnegotiation=direct").unwrap();
        assert!(
            direct.notes.iter().any(|n| n.contains("libpq 17 refuses")),
            "{:?}",
            direct.notes
        );
        let direct = parse("postgres://db.test/app?sslnegotiation=direct&sslmode=verify-full");
        assert!(!direct.unwrap().notes.iter().any(|n| n.contains("refuses")));
        let spec = parse("postgres://alice:s3cret@db.test/app?sslmode=prefer").unwrap();
        assert!(!format!("{spec:?}{spec}").contains("s3cret"));
        assert!(
            spec.notes
                .iter()
                .any(|n| n.contains("falls back to plaintext"))
        );
    }
}
