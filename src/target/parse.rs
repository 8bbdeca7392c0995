//! Syntax of targets: plain `host[:port]`, bracketed IPv6, bare IPv6, `https://` URLs.
//! MongoDB connection strings are handled in `mongo.rs`, which reuses the host/port rules here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{DEFAULT_PORT, Host, HostPort, Scheme, TargetError, TargetSpec, mongo, service};

/// Parse a target as typed by the user. Pure: no DNS, no files, no network.
pub fn parse(input: &str) -> Result<TargetSpec, TargetError> {
    let raw = input.trim();
    if raw.is_empty() {
        return Err(TargetError::Empty);
    }
    if let Some(pos) = raw.find("://") {
        let scheme_text = &raw[..pos];
        let rest = &raw[pos + 3..];
        let scheme = scheme_text.to_ascii_lowercase();
        return match scheme.as_str() {
            "https" => parse_https(rest),
            "http" => {
                let (_, after_user) = split_url_userinfo(rest);
                Err(TargetError::PlainHttp {
                    input: redacted_url("http", rest),
                    suggestion: format!("https://{after_user}"),
                })
            }
            "mongodb" => mongo::parse_uri(rest, Scheme::Mongodb),
            "mongodb+srv" => mongo::parse_uri(rest, Scheme::MongodbSrv),
            s if service::scheme(s).is_some() => service::parse(s, scheme_text, rest),
            _ if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
            {
                Err(TargetError::UnsupportedScheme {
                    input: redacted_url(scheme_text, rest),
                    scheme: scheme_text.to_string(),
                })
            }
            _ => Err(TargetError::MalformedUri {
                input: redacted_url(scheme_text, rest),
                reason: format!("'{scheme_text}' is not a URI scheme"),
            }),
        };
    }
    if let Some(bad) = raw.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(TargetError::InvalidHost {
            input: raw.to_string(),
            host: raw.to_string(),
            reason: format!("contains the character {bad:?}"),
        });
    }
    let hp = parse_host_port(raw, raw, DEFAULT_PORT, HostSyntax::Plain)?;
    Ok(TargetSpec {
        input: raw.to_string(),
        scheme: Scheme::Plain,
        hosts: vec![hp],
        mongo: None,
        service: None,
        upgrade: None,
        notes: Vec::new(),
    })
}

/// `https://[userinfo@]host[:port][/path][?query][#fragment]`.
fn parse_https(rest: &str) -> Result<TargetSpec, TargetError> {
    let input = redacted_url("https", rest);
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(TargetError::MalformedUri {
            input,
            reason: "contains whitespace or control characters".into(),
        });
    }
    let (userinfo, after_user) = split_url_userinfo(rest);
    let end = after_user.find(['/', '?', '#']).unwrap_or(after_user.len());
    let authority = &after_user[..end];
    if authority.is_empty() {
        return Err(TargetError::MalformedUri {
            input,
            reason: "no host after 'https://'".into(),
        });
    }
    let hp = parse_host_port(&input, authority, DEFAULT_PORT, HostSyntax::Url)?;
    let mut notes = Vec::new();
    if userinfo.is_some() {
        notes.push("credentials in the URL are ignored: tlsdoctor only looks at TLS".into());
    }
    Ok(TargetSpec {
        input,
        scheme: Scheme::Https,
        hosts: vec![hp],
        mongo: None,
        service: None,
        upgrade: None,
        notes,
    })
}

/// Split `user:pass@rest` at the last `@` of the authority (before the first `/`, `?`, `#`).
pub(super) fn split_url_userinfo(rest: &str) -> (Option<&str>, &str) {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    }
}

/// `scheme://rest` with any URL userinfo replaced by `****`.
pub(super) fn redacted_url(scheme: &str, rest: &str) -> String {
    match split_url_userinfo(rest) {
        (Some(_), after) => format!("{scheme}://****@{after}"),
        (None, _) => format!("{scheme}://{rest}"),
    }
}

/// Where a host[:port] appears, which decides what is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HostSyntax {
    /// Command-line target: a bare IPv6 literal (`::1`) is accepted, a missing port after `:` is not.
    Plain,
    /// Inside a URL: IPv6 must be bracketed, `host:` means the default port.
    Url,
    /// Inside a MongoDB host list: IPv6 must be bracketed, `host:` is an error.
    MongoHostList,
}

/// Parse `host`, `host:port`, `[v6]`, `[v6]:port` (and `v6` for [`HostSyntax::Plain`]).
/// `input` is the (redacted) whole target, used in error messages.
pub(super) fn parse_host_port(
    input: &str,
    text: &str,
    default_port: u16,
    syntax: HostSyntax,
) -> Result<HostPort, TargetError> {
    let invalid = |host: &str, reason: &str| TargetError::InvalidHost {
        input: input.to_string(),
        host: host.to_string(),
        reason: reason.to_string(),
    };
    if let Some(after) = text.strip_prefix('[') {
        let Some(close) = after.find(']') else {
            return Err(invalid(text, "missing ']' after the IPv6 address"));
        };
        let inner = &after[..close];
        let ip: Ipv6Addr = inner.parse().map_err(|_| {
            invalid(
                inner,
                "not an IPv6 address (brackets are only for IPv6 literals)",
            )
        })?;
        let tail = &after[close + 1..];
        let port = if tail.is_empty() {
            default_port
        } else if let Some(p) = tail.strip_prefix(':') {
            parse_port(input, p, default_port, syntax)?
        } else {
            return Err(invalid(
                text,
                "unexpected text after ']' (expected ':port')",
            ));
        };
        return Ok(HostPort {
            host: Host::Ip(IpAddr::V6(ip)),
            port,
        });
    }
    if text.matches(':').count() > 1 {
        return match (text.parse::<Ipv6Addr>(), syntax) {
            (Ok(ip), HostSyntax::Plain) => Ok(HostPort {
                host: Host::Ip(IpAddr::V6(ip)),
                port: default_port,
            }),
            (Ok(_), _) => Err(invalid(
                text,
                "IPv6 addresses must be bracketed here, e.g. [2001:db8::1]:443",
            )),
            (Err(_), _) => Err(invalid(
                text,
                "not an IPv6 address; an IPv6 address with a port must be bracketed, e.g. [2001:db8::1]:443",
            )),
        };
    }
    let (host_text, port) = match text.split_once(':') {
        Some((h, p)) => (h, parse_port(input, p, default_port, syntax)?),
        None => (text, default_port),
    };
    let host = parse_host(input, host_text)?;
    Ok(HostPort { host, port })
}

/// A port: decimal digits only, 1..=65535.
fn parse_port(
    input: &str,
    p: &str,
    default_port: u16,
    syntax: HostSyntax,
) -> Result<u16, TargetError> {
    if p.is_empty() {
        if syntax == HostSyntax::Url {
            return Ok(default_port);
        }
        return Err(TargetError::PortNotNumeric {
            input: input.to_string(),
            port: String::new(),
        });
    }
    if !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TargetError::PortNotNumeric {
            input: input.to_string(),
            port: p.to_string(),
        });
    }
    let out_of_range = || TargetError::PortOutOfRange {
        input: input.to_string(),
        port: p.to_string(),
    };
    let digits = p.trim_start_matches('0');
    if digits.len() > 5 {
        return Err(out_of_range());
    }
    let value: u32 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| out_of_range())?
    };
    match u16::try_from(value) {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(out_of_range()),
    }
}

/// A host name or IPv4 literal. Names are lower-cased and lose a trailing dot.
pub(super) fn parse_host(input: &str, h: &str) -> Result<Host, TargetError> {
    let invalid = |reason: &str| TargetError::InvalidHost {
        input: input.to_string(),
        host: h.to_string(),
        reason: reason.to_string(),
    };
    if h.is_empty() {
        return Err(invalid("empty host name"));
    }
    if let Ok(v4) = h.parse::<Ipv4Addr>() {
        return Ok(Host::Ip(IpAddr::V4(v4)));
    }
    if !h.is_ascii() {
        return Err(invalid(
            "non-ASCII host names must be written in punycode (xn--…)",
        ));
    }
    let name = h.strip_suffix('.').unwrap_or(h).to_ascii_lowercase();
    if name.is_empty() {
        return Err(invalid("empty host name"));
    }
    if name.len() > 253 {
        return Err(invalid("longer than 253 characters"));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(invalid("empty label (leading or double dot)"));
        }
        if label.len() > 63 {
            return Err(invalid("a label is longer than 63 characters"));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(invalid(&format!(
                "the character {c:?} is not allowed in a host name"
            )));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(invalid("a label starts or ends with '-'"));
        }
    }
    let last = name.rsplit('.').next().unwrap_or("");
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("looks like an IPv4 address but is not a valid one"));
    }
    Ok(Host::Name(name))
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    fn name(n: &str, port: u16) -> HostPort {
        HostPort {
            host: Host::Name(n.into()),
            port,
        }
    }
    fn ip(s: &str, port: u16) -> HostPort {
        HostPort {
            host: Host::Ip(s.parse().unwrap()),
            port,
        }
    }

    #[test]
    fn valid_plain_and_https() {
        let cases: &[(&str, Scheme, HostPort)] = &[
            ("example.com", Scheme::Plain, name("example.com", 443)),
            ("  Example.COM.  ", Scheme::Plain, name("example.com", 443)),
            ("example.com:8443", Scheme::Plain, name("example.com", 8443)),
            ("localhost:1", Scheme::Plain, name("localhost", 1)),
            (
                "_srv-x.test:65535",
                Scheme::Plain,
                name("_srv-x.test", 65535),
            ),
            ("127.0.0.1", Scheme::Plain, ip("127.0.0.1", 443)),
            ("127.0.0.1:4433", Scheme::Plain, ip("127.0.0.1", 4433)),
            ("::1", Scheme::Plain, ip("::1", 443)),
            ("2001:db8::1", Scheme::Plain, ip("2001:db8::1", 443)),
            ("[::1]", Scheme::Plain, ip("::1", 443)),
            ("[::1]:8443", Scheme::Plain, ip("::1", 8443)),
            ("host:0443", Scheme::Plain, name("host", 443)),
            (
                "https://example.com",
                Scheme::Https,
                name("example.com", 443),
            ),
            (
                "HTTPS://example.com/",
                Scheme::Https,
                name("example.com", 443),
            ),
            (
                "https://example.com:8443/a/b?c=d#e",
                Scheme::Https,
                name("example.com", 8443),
            ),
            (
                "https://example.com:/x",
                Scheme::Https,
                name("example.com", 443),
            ),
            ("https://[::1]:4443/", Scheme::Https, ip("::1", 4443)),
            ("https://10.0.0.1?x", Scheme::Https, ip("10.0.0.1", 443)),
            (
                "https://u:secret@h.test/",
                Scheme::Https,
                name("h.test", 443),
            ),
        ];
        for (input, scheme, hp) in cases {
            let spec = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(spec.scheme, *scheme, "{input}");
            assert_eq!(spec.hosts, vec![hp.clone()], "{input}");
            assert!(spec.mongo.is_none(), "{input}");
        }
    }

    #[test]
    fn invalid_plain_and_https() {
        // (input, substring the one-line message must contain)
        let cases: &[(&str, &str)] = &[
            ("", "empty target"),
            ("   ", "empty target"),
            ("host:0", "port out of range in 'host:0': 0"),
            ("host:65536", "port out of range in 'host:65536': 65536"),
            ("host:99999999999999999999", "port out of range"),
            ("host:abc", "invalid port 'abc' in 'host:abc': not a number"),
            ("host:-1", "invalid port '-1'"),
            ("host:", "invalid port ''"),
            ("[::1]:0", "port out of range in '[::1]:0'"),
            ("[::1]:x", "invalid port 'x'"),
            ("2001:db8::1:443x", "must be bracketed"),
            ("[::1", "missing ']'"),
            ("[127.0.0.1]:443", "brackets are only for IPv6"),
            ("[::1]443", "unexpected text after ']'"),
            ("bad host", "contains the character ' '"),
            ("a..b", "empty label"),
            ("-a.test", "starts or ends with '-'"),
            ("a/b", "'/' is not allowed"),
            ("999.1.1.1", "not a valid one"),
            ("bücher.test", "punycode"),
            ("https://", "malformed URI 'https://': no host"),
            ("https:///path", "no host"),
            ("https://[::1", "missing ']'"),
            ("https://::1/", "must be bracketed"),
            (
                "https://h:70000/",
                "port out of range in 'https://h:70000/'",
            ),
            ("http://example.com", "not a TLS endpoint"),
            ("http://example.com", "try 'https://example.com'"),
            ("gopher://example.com", "unsupported scheme 'gopher://'"),
            ("a b://x", "not a URI scheme"),
        ];
        for (input, want) in cases {
            let err = parse(input).expect_err(input).to_string();
            assert!(err.contains(want), "{input:?}: got {err:?}, want {want:?}");
            assert!(!err.contains('\n'), "{input:?}: multi-line error {err:?}");
        }
    }

    #[test]
    fn https_and_http_credentials_are_redacted() {
        let spec = parse("https://alice:s3cr3t@h.test:8443/x").unwrap();
        assert_eq!(spec.input, "https://****@h.test:8443/x");
        assert!(!format!("{spec:?}{spec}").contains("s3cr3t"));
        assert!(spec.notes[0].contains("credentials"));
        let err = parse("http://alice:s3cr3t@h.test/")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
        assert!(err.contains("https://h.test/"), "{err}");
        let err = parse("https://alice:s3cr3t@h.test:0/")
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("s3cr3t") && err.contains("port out of range"),
            "{err}"
        );
    }

    #[test]
    fn labels_and_display() {
        let v6 = HostPort {
            host: Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            port: 443,
        };
        assert_eq!(v6.to_string(), "[::1]:443");
        let v4 = HostPort {
            host: Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            port: 1,
        };
        assert_eq!(v4.to_string(), "127.0.0.1:1");
        let spec = parse("Example.com:8443").unwrap();
        assert_eq!(spec.to_string(), "Example.com:8443");
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["hosts"][0]["host"], "example.com");
        assert_eq!(json["scheme"], "plain");
    }
}
