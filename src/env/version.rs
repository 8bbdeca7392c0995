//! TLS library version strings (`OpenSSL 1.0.2k-fips  26 Jan 2017`, `LibreSSL 2.8.3`,
//! `3.7.9` for GnuTLS) and what each release line can speak (data/env/tls_libraries.toml).

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A parsed library version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LibVersion(pub u32, pub u32, pub u32);

/// Which library a version string belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    OpenSsl,
    LibreSsl,
    GnuTls,
}

impl Family {
    fn key(self) -> &'static str {
        match self {
            Family::OpenSsl => "openssl",
            Family::LibreSsl => "libressl",
            Family::GnuTls => "gnutls",
        }
    }
}

/// `1.0.2k` -> 1.0.2, `3.0.19` -> 3.0.19, `3.7` -> 3.7.0.
pub fn parse_numbers(s: &str) -> Option<LibVersion> {
    let mut parts = s.split('.').map(|p| {
        let digits: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse::<u32>().ok()
    });
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some(LibVersion(major, minor, patch))
}

/// Parse `OpenSSL 3.0.19 27 Jan 2026` or `LibreSSL 3.3.6`; the version token is the word after
/// the library name.
pub fn parse_banner(s: &str) -> Option<(Family, LibVersion, String)> {
    let mut words = s.split_whitespace();
    let name = words.next()?;
    let family = match name {
        "OpenSSL" => Family::OpenSsl,
        "LibreSSL" => Family::LibreSsl,
        "GnuTLS" => Family::GnuTls,
        _ => return None,
    };
    let token = words.next()?;
    Some((family, parse_numbers(token)?, token.to_string()))
}

#[derive(Deserialize)]
struct Rule {
    from: String,
    max: String,
}

fn rules() -> &'static HashMap<String, Vec<Rule>> {
    static R: OnceLock<HashMap<String, Vec<Rule>>> = OnceLock::new();
    R.get_or_init(|| {
        toml::from_str(include_str!("../../data/env/tls_libraries.toml"))
            .expect("data/env/tls_libraries.toml is valid (checked by a unit test)")
    })
}

/// Highest TLS version this library release can speak, if the data file knows.
pub fn max_tls(family: Family, v: LibVersion) -> Option<String> {
    rules()
        .get(family.key())?
        .iter()
        .find(|r| parse_numbers(&r.from).is_some_and(|from| v >= from))
        .map(|r| r.max.clone())
}

/// Order of protocol names as OpenSSL writes them; `None` for names we do not rank.
pub fn protocol_rank(name: &str) -> Option<u8> {
    match name {
        "SSLv3" => Some(0),
        "TLSv1" | "TLSv1.0" => Some(1),
        "TLSv1.1" => Some(2),
        "TLSv1.2" => Some(3),
        "TLSv1.3" => Some(4),
        _ => None,
    }
}

/// Protocol name for a wire value as Python's `TLSVersion` reports it.
pub fn python_tls_version(v: i64) -> String {
    match v {
        -2 => "library minimum".into(),
        -1 => "library maximum".into(),
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1".into(),
        0x0302 => "TLSv1.1".into(),
        0x0303 => "TLSv1.2".into(),
        0x0304 => "TLSv1.3".into(),
        other => format!("0x{other:04x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners() {
        let (f, v, t) = parse_banner("OpenSSL 1.0.2k-fips  26 Jan 2017").unwrap();
        assert_eq!(
            (f, v, t.as_str()),
            (Family::OpenSsl, LibVersion(1, 0, 2), "1.0.2k-fips")
        );
        let (f, v, _) = parse_banner("LibreSSL 2.8.3").unwrap();
        assert_eq!((f, v), (Family::LibreSsl, LibVersion(2, 8, 3)));
        assert!(parse_banner("BoringSSL").is_none());
    }

    #[test]
    fn max_versions_from_data() {
        assert_eq!(
            max_tls(Family::OpenSsl, LibVersion(3, 0, 19)).as_deref(),
            Some("TLSv1.3")
        );
        assert_eq!(
            max_tls(Family::OpenSsl, LibVersion(1, 1, 0)).as_deref(),
            Some("TLSv1.2")
        );
        assert_eq!(
            max_tls(Family::OpenSsl, LibVersion(1, 0, 1)).as_deref(),
            Some("TLSv1.2")
        );
        assert_eq!(
            max_tls(Family::OpenSsl, LibVersion(0, 9, 8)).as_deref(),
            Some("TLSv1")
        );
        assert_eq!(
            max_tls(Family::GnuTls, LibVersion(3, 7, 9)).as_deref(),
            Some("TLSv1.3")
        );
        assert_eq!(max_tls(Family::GnuTls, LibVersion(2, 12, 0)), None);
        assert_eq!(
            max_tls(Family::LibreSsl, LibVersion(2, 8, 3)).as_deref(),
            Some("TLSv1.2")
        );
    }

    #[test]
    fn ranks_and_python_values() {
        assert!(protocol_rank("TLSv1.3") > protocol_rank("TLSv1.2"));
        assert_eq!(protocol_rank("None"), None);
        assert_eq!(python_tls_version(771), "TLSv1.2");
        assert_eq!(python_tls_version(-2), "library minimum");
    }
}
