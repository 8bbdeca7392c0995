//! MongoDB connection strings (`mongodb://`, `mongodb+srv://`), following the drivers'
//! connection-string and DNS seed-list rules as far as they matter for TLS.

use std::collections::HashSet;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;

use super::parse::{HostSyntax, parse_host_port};
use super::{Host, MONGODB_DEFAULT_PORT, MongoTlsOptions, Scheme, TargetError, TargetSpec};

/// Query keys (lower-case) whose values are secret and never echoed.
const SECRET_KEYS: &[&str] = &[
    "tlscertificatekeyfilepassword",
    "sslpemkeypassword",
    "authmechanismproperties",
];

/// Option pairs that drivers refuse to see together (by presence, whatever the values).
const CONFLICTS: &[(&str, &str)] = &[
    ("tlsinsecure", "tlsallowinvalidcertificates"),
    ("tlsinsecure", "tlsallowinvalidhostnames"),
    ("tlsinsecure", "tlsdisableocspendpointcheck"),
    ("tlsinsecure", "tlsdisablecertificaterevocationcheck"),
    ("tlsallowinvalidcertificates", "tlsdisableocspendpointcheck"),
    (
        "tlsallowinvalidcertificates",
        "tlsdisablecertificaterevocationcheck",
    ),
    (
        "tlsdisableocspendpointcheck",
        "tlsdisablecertificaterevocationcheck",
    ),
];

/// Options a mongodb+srv seed's TXT record may set.
const TXT_ALLOWED: &[&str] = &["authsource", "replicaset", "loadbalanced"];

/// Parse the part of a MongoDB URI after `mongodb://` or `mongodb+srv://`.
pub(super) fn parse_uri(rest: &str, scheme: Scheme) -> Result<TargetSpec, TargetError> {
    let prefix = scheme.as_str();
    // The user info ends at the last '@' before the options; a '?' in a password would have
    // to be percent-encoded, so an '@' after the '?' that is not inside a key=value pair
    // means an unescaped '?' in the credentials.
    let qpos = rest.find('?').unwrap_or(rest.len());
    let (userinfo, after_user) = match rest[..qpos].rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => {
            let query = &rest[qpos..];
            if let Some(at) = query.find('@')
                && !query[..at].contains('=')
            {
                return Err(TargetError::MalformedUri {
                    input: format!("{prefix}://****@{}", redact_query(&query[at + 1..])),
                    reason: "the user name or password contains an unescaped '?'; percent-encode it as %3F".into(),
                });
            }
            (None, rest)
        }
    };
    let input = format!(
        "{prefix}://{}{}",
        userinfo.map(redact_userinfo).unwrap_or_default(),
        redact_query(after_user)
    );
    let malformed = |reason: &str| TargetError::MalformedUri {
        input: input.clone(),
        reason: reason.to_string(),
    };
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(malformed(
            "contains whitespace or control characters (percent-encode them)",
        ));
    }
    if let Some(ui) = userinfo {
        check_userinfo(ui).map_err(|r| malformed(&r))?;
    }

    // hosts [/ [db] [? options]]
    let slash = after_user.find('/');
    let question = after_user.find('?');
    // The connection-string spec wants "host/?opts", but drivers such as pymongo 4 also
    // accept "host?opts"; accept both.
    let (host_list, tail) = match (slash, question) {
        (Some(s), Some(q)) if q < s => (&after_user[..q], &after_user[q..]),
        (None, Some(q)) => (&after_user[..q], &after_user[q..]),
        (Some(s), _) => (&after_user[..s], &after_user[s + 1..]),
        (None, None) => (after_user, ""),
    };
    let query = tail.split_once('?').map(|(_, q)| q).unwrap_or("");
    if host_list.is_empty() {
        return Err(malformed(&format!("no host after '{prefix}://'")));
    }

    let entries: Vec<&str> = host_list.split(',').collect();
    if scheme == Scheme::MongodbSrv {
        if entries.len() != 1 {
            return Err(malformed(&format!(
                "mongodb+srv:// takes exactly one host name, got {}",
                entries.len()
            )));
        }
        if entries[0].contains(':') {
            return Err(malformed(&format!(
                "mongodb+srv:// does not allow a port ('{}'): ports come from the SRV records",
                entries[0]
            )));
        }
    }
    let mut hosts = Vec::with_capacity(entries.len());
    for entry in entries {
        if entry.is_empty() {
            return Err(malformed("empty host in the host list"));
        }
        let decoded = decode(entry).map_err(|r| malformed(&format!("host '{entry}': {r}")))?;
        if decoded.contains('/') || decoded.ends_with(".sock") {
            return Err(TargetError::InvalidHost {
                input: input.clone(),
                host: decoded,
                reason: "a Unix domain socket is not a TLS endpoint".into(),
            });
        }
        let hp = parse_host_port(
            &input,
            &decoded,
            MONGODB_DEFAULT_PORT,
            HostSyntax::MongoHostList,
        )?;
        if scheme == Scheme::MongodbSrv && matches!(hp.host, Host::Ip(_)) {
            return Err(TargetError::InvalidHost {
                input: input.clone(),
                host: decoded,
                reason: "mongodb+srv:// needs a DNS name with SRV records, not an IP address"
                    .into(),
            });
        }
        hosts.push(hp);
    }

    let (mongo, mut notes) = parse_options(&input, query)?;
    notes.extend(tls_notes(&mongo, scheme));
    Ok(TargetSpec {
        input,
        scheme,
        hosts,
        mongo: Some(mongo),
        service: None,
        upgrade: None,
        notes,
    })
}

/// `user:****@` (or `user@` when there is no password); the user name is not secret.
fn redact_userinfo(ui: &str) -> String {
    match ui.split_once(':') {
        Some((user, _)) => format!("{user}:****@"),
        None => format!("{ui}@"),
    }
}

/// Replace the values of secret options in `hosts/db?query` with `****`.
fn redact_query(s: &str) -> String {
    let Some((head, query)) = s.split_once('?') else {
        return s.to_string();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_secret_key(k) => format!("{k}=****"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{head}?{}", pairs.join("&"))
}

fn is_secret_key(raw_key: &str) -> bool {
    let key = decode(raw_key).unwrap_or_default().to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str())
}

/// The drivers' rule: user name and password must percent-encode `: / ? # [ ] @`.
fn check_userinfo(ui: &str) -> Result<(), String> {
    let (user, password) = match ui.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (ui, None),
    };
    const RESERVED: &[char] = &[':', '/', '?', '#', '[', ']', '@'];
    if let Some(c) = user.chars().find(|c| RESERVED.contains(c)) {
        return Err(format!(
            "the user name contains an unescaped '{c}'; percent-encode it"
        ));
    }
    if user.is_empty() {
        return Err("empty user name before '@'".into());
    }
    decode(user).map_err(|r| format!("the user name: {r}"))?;
    if let Some(p) = password {
        if let Some(c) = p.chars().find(|c| RESERVED.contains(c)) {
            return Err(format!(
                "the password contains an unescaped '{c}'; percent-encode it"
            ));
        }
        decode(p).map_err(|r| format!("the password: {r}"))?;
    }
    Ok(())
}

/// Percent-decode to UTF-8 (`+` stays `+`: connection strings are not form-encoded).
fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit())
        {
            return Err("a '%' is not followed by two hex digits".into());
        }
    }
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| "percent-encoding does not decode to UTF-8".into())
}

fn parse_bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Parse `k=v&k=v` connection-string options into the typed TLS options.
fn parse_options(input: &str, query: &str) -> Result<(MongoTlsOptions, Vec<String>), TargetError> {
    let mut opts = MongoTlsOptions::default();
    let mut notes = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut tls_by_key: Vec<(String, bool)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let Some((raw_key, raw_value)) = pair.split_once('=') else {
            return Err(TargetError::InvalidOption {
                input: input.to_string(),
                option: pair.to_string(),
                reason: "expected key=value".into(),
            });
        };
        let original_key = decode(raw_key).unwrap_or_else(|_| raw_key.to_string());
        let key = original_key.to_ascii_lowercase();
        let bad = |reason: String| TargetError::InvalidOption {
            input: input.to_string(),
            option: original_key.clone(),
            reason,
        };
        let secret = SECRET_KEYS.contains(&key.as_str());
        let value = decode(raw_value).map_err(|r| {
            if secret {
                bad("the value is not valid percent-encoding".into())
            } else {
                bad(format!("value '{raw_value}': {r}"))
            }
        })?;
        if !seen.insert(key.clone()) {
            notes.push(format!(
                "option '{original_key}' is given more than once; the last value wins"
            ));
        }
        let want_bool =
            || parse_bool(&value).ok_or_else(|| bad(format!("'{value}' is not true or false")));
        let want_path = || {
            if value.is_empty() {
                Err(bad("empty file name".into()))
            } else {
                Ok(PathBuf::from(&value))
            }
        };
        let want_text = || {
            if value.is_empty() {
                Err(bad("empty value".into()))
            } else {
                Ok(value.clone())
            }
        };
        match key.as_str() {
            "tls" | "ssl" => {
                let b = want_bool()?;
                tls_by_key.retain(|(k, _)| *k != key);
                tls_by_key.push((key.clone(), b));
                opts.tls = Some(b);
            }
            "tlscafile" => opts.ca_file = Some(want_path()?),
            "tlscertificatekeyfile" => opts.cert_key_file = Some(want_path()?),
            "tlscertificatekeyfilepassword" => opts.cert_key_password_set = true,
            "tlsallowinvalidhostnames" => opts.allow_invalid_hostnames = want_bool()?,
            "tlsallowinvalidcertificates" => opts.allow_invalid_certificates = want_bool()?,
            "tlsinsecure" => opts.insecure = want_bool()?,
            "tlsdisableocspendpointcheck" => opts.disable_ocsp_endpoint_check = want_bool()?,
            "tlsdisablecertificaterevocationcheck" => opts.disable_revocation_check = want_bool()?,
            "replicaset" => opts.replica_set = Some(want_text()?),
            "authsource" => opts.auth_source = Some(want_text()?),
            "loadbalanced" => opts.load_balanced = Some(want_bool()?),
            "srvservicename" => {
                if value.is_empty()
                    || value.len() > 62
                    || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    return Err(bad(format!("'{value}' is not a valid SRV service name")));
                }
                opts.srv_service_name = Some(value.clone());
            }
            "srvmaxhosts" => notes.push(
                "srvMaxHosts is ignored: tlsdoctor checks every host the SRV record lists".into(),
            ),
            k if k.starts_with("tls") || k.starts_with("ssl") => notes.push(format!(
                "unknown TLS option '{original_key}' ignored (a driver would warn or refuse it)"
            )),
            // Other driver options (w, retryWrites, appName, …) do not affect TLS.
            _ => {}
        }
    }
    if let [(k1, v1), (k2, v2)] = tls_by_key.as_slice()
        && v1 != v2
    {
        return Err(TargetError::InvalidOption {
            input: input.to_string(),
            option: k2.clone(),
            reason: format!("{k1}={v1} and {k2}={v2} contradict each other"),
        });
    }
    for (a, b) in CONFLICTS {
        if seen.contains(*a) && seen.contains(*b) {
            return Err(TargetError::InvalidOption {
                input: input.to_string(),
                option: b.to_string(),
                reason: format!("drivers refuse {a} together with {b}: use one of them"),
            });
        }
    }
    Ok((opts, notes))
}

/// What the TLS setting means for a driver connecting with this URI.
fn tls_notes(opts: &MongoTlsOptions, scheme: Scheme) -> Vec<String> {
    let mut notes = Vec::new();
    match (scheme, opts.tls) {
        (Scheme::MongodbSrv, None) => {
            notes.push("mongodb+srv:// implies tls=true".to_string());
        }
        (Scheme::MongodbSrv, Some(false)) => notes.push(
            "tls=false overrides mongodb+srv://'s TLS default: a driver would connect without TLS"
                .to_string(),
        ),
        (_, None) => notes.push(
            "the URI has no tls=true (or ssl=true): a driver would connect without TLS; add tls=true to use TLS"
                .to_string(),
        ),
        (_, Some(false)) => notes.push(
            "the URI sets tls=false: a driver would connect without TLS; use tls=true".to_string(),
        ),
        (_, Some(true)) => {}
    }
    let has_tls_settings = opts.ca_file.is_some()
        || opts.cert_key_file.is_some()
        || opts.cert_key_password_set
        || opts.allow_invalid_hostnames
        || opts.allow_invalid_certificates
        || opts.insecure
        || opts.disable_ocsp_endpoint_check
        || opts.disable_revocation_check;
    if !opts.tls_enabled(scheme) && has_tls_settings {
        notes.push("TLS options are set but have no effect while TLS is off".to_string());
    }
    notes
}

/// Whether an SRV target may be used for `seed`, per the drivers' seed-list rule: the target
/// must lie inside the seed's parent domain (the seed minus its first label); for seeds of
/// fewer than three labels, inside the seed itself. Returns the required domain on refusal.
pub(super) fn srv_target_domain_check(seed: &str, target: &str) -> Result<(), String> {
    let seed = seed.trim_end_matches('.').to_ascii_lowercase();
    let target = target.trim_end_matches('.').to_ascii_lowercase();
    let domain = if seed.split('.').count() >= 3 {
        seed.split_once('.')
            .map(|(_, d)| d.to_string())
            .unwrap_or_default()
    } else {
        seed.clone()
    };
    if target.ends_with(&format!(".{domain}")) {
        Ok(())
    } else {
        Err(domain)
    }
}

/// Merge a seed's TXT record (`authSource=…&replicaSet=…`) into the URI options; URI options
/// win. `name` is the TXT owner name, for messages.
pub(crate) fn apply_txt(
    name: &str,
    txt: &str,
    uri: &MongoTlsOptions,
) -> Result<(MongoTlsOptions, Vec<String>), TargetError> {
    let invalid = |reason: String| TargetError::SrvTxtInvalid {
        name: name.to_string(),
        reason,
    };
    let mut merged = uri.clone();
    let mut notes = Vec::new();
    for pair in txt.split('&').filter(|p| !p.is_empty()) {
        let Some((raw_key, raw_value)) = pair.split_once('=') else {
            return Err(invalid(format!("'{pair}' is not key=value")));
        };
        let key = decode(raw_key).map_err(&invalid)?.to_ascii_lowercase();
        let value = decode(raw_value).map_err(&invalid)?;
        if !TXT_ALLOWED.contains(&key.as_str()) {
            return Err(invalid(format!(
                "option '{raw_key}' is not allowed in a TXT record (only authSource, replicaSet, loadBalanced)"
            )));
        }
        if value.is_empty() {
            return Err(invalid(format!("option '{raw_key}' has an empty value")));
        }
        let (slot_taken, what) = match key.as_str() {
            "authsource" => (uri.auth_source.is_some(), "authSource"),
            "replicaset" => (uri.replica_set.is_some(), "replicaSet"),
            _ => (uri.load_balanced.is_some(), "loadBalanced"),
        };
        if slot_taken {
            notes.push(format!(
                "{what}={value} from the TXT record is overridden by the URI"
            ));
            continue;
        }
        match key.as_str() {
            "authsource" => merged.auth_source = Some(value.clone()),
            "replicaset" => merged.replica_set = Some(value.clone()),
            _ => {
                merged.load_balanced = Some(parse_bool(&value).ok_or_else(|| {
                    invalid(format!("loadBalanced '{value}' is not true or false"))
                })?)
            }
        }
        notes.push(format!("{what}={value} comes from the TXT record"));
    }
    Ok((merged, notes))
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::{apply_txt, srv_target_domain_check};
    use std::path::PathBuf;

    fn names(spec: &TargetSpec) -> Vec<String> {
        spec.hosts.iter().map(|h| h.to_string()).collect()
    }

    #[test]
    fn host_lists_and_defaults() {
        let cases: &[(&str, &[&str])] = &[
            ("mongodb://h1.test/?tls=true", &["h1.test:27017"]),
            ("mongodb://h1.test", &["h1.test:27017"]),
            ("mongodb://h1.test/", &["h1.test:27017"]),
            ("mongodb://h1.test/db", &["h1.test:27017"]),
            ("mongodb://h1.test?tls=true", &["h1.test:27017"]),
            (
                "mongodb://u:p@h1:27017,h2,h3:27018/db?replicaSet=rs0&tls=true",
                &["h1:27017", "h2:27017", "h3:27018"],
            ),
            (
                "mongodb://[::1]:27018,127.0.0.1/?ssl=true",
                &["[::1]:27018", "127.0.0.1:27017"],
            ),
            ("MONGODB://H1.TEST:1/", &["h1.test:1"]),
            ("mongodb://h%2Etest/", &["h.test:27017"]),
            (
                "mongodb+srv://cluster0.example.test/?tls=true",
                &["cluster0.example.test:27017"],
            ),
            (
                "mongodb+srv://u:p@cluster0.example.test/db",
                &["cluster0.example.test:27017"],
            ),
        ];
        for (input, want) in cases {
            let spec = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(names(&spec), *want, "{input}");
            assert!(spec.mongo.is_some());
        }
    }

    #[test]
    fn tls_options_typed_case_insensitive_and_decoded() {
        let spec = parse(
            "mongodb://h.test/?TLS=true&tlscafile=%2Fetc%2Fssl%2Fca%20x.pem&TLSCertificateKeyFile=/k.pem\
             &tlsCertificateKeyFilePassword=hunter2&tlsAllowInvalidHostnames=TRUE\
             &tlsDisableOCSPEndpointCheck=true&replicaSet=rs0&authSource=admin&w=majority",
        )
        .unwrap();
        let m = spec.mongo.clone().unwrap();
        assert_eq!(m.tls, Some(true));
        assert_eq!(m.ca_file, Some(PathBuf::from("/etc/ssl/ca x.pem")));
        assert_eq!(m.cert_key_file, Some(PathBuf::from("/k.pem")));
        assert!(m.cert_key_password_set);
        assert!(m.allow_invalid_hostnames);
        assert!(!m.allow_invalid_certificates);
        assert!(m.disable_ocsp_endpoint_check);
        assert_eq!(m.replica_set.as_deref(), Some("rs0"));
        assert_eq!(m.auth_source.as_deref(), Some("admin"));
        assert!(spec.notes.is_empty(), "{:?}", spec.notes);

        let m = parse(
            "mongodb://h/?ssl=true&tlsInsecure=true&tlsDisableCertificateRevocationCheck=false",
        )
        .map(|s| s.mongo.unwrap());
        assert!(
            m.is_err(),
            "tlsInsecure with revocation option must conflict"
        );
        let m = parse("mongodb://h/?ssl=true&tlsInsecure=true")
            .unwrap()
            .mongo
            .unwrap();
        assert!(m.insecure && m.effective_allow_invalid_certificates());
        assert!(m.effective_allow_invalid_hostnames());
        let m = parse(
            "mongodb://h/?tls=true&tlsAllowInvalidCertificates=true&tlsDisableCertificateRevocationCheck=true",
        );
        assert!(m.is_err());
    }

    #[test]
    fn notes_about_tls() {
        let has = |input: &str, want: &str| {
            let spec = parse(input).unwrap();
            assert!(
                spec.notes.iter().any(|n| n.contains(want)),
                "{input}: notes {:?} lack {want:?}",
                spec.notes
            );
        };
        has("mongodb://h.test/", "no tls=true");
        has("mongodb://h.test/?tls=false", "tls=false");
        has(
            "mongodb://h.test/?ssl=false&tlsCAFile=/ca.pem",
            "no effect while TLS is off",
        );
        has("mongodb+srv://c.example.test/", "implies tls=true");
        has("mongodb+srv://c.example.test/?tls=false", "overrides");
        has("mongodb://h/?tls=true&tls=true", "more than once");
        has(
            "mongodb://h/?tls=true&tlsFrobnicate=1",
            "unknown TLS option 'tlsFrobnicate'",
        );
        let spec = parse("mongodb://h.test/?tls=true").unwrap();
        assert!(spec.notes.is_empty());
        let spec = parse("mongodb://h.test?tls=true").unwrap();
        assert_eq!(
            spec.mongo.as_ref().unwrap().tls,
            Some(true),
            "{:?}",
            spec.notes
        );
        assert!(spec.mongo.unwrap().tls_enabled(Scheme::Mongodb));
        let spec = parse("mongodb+srv://c.example.test/").unwrap();
        assert!(spec.mongo.unwrap().tls_enabled(Scheme::MongodbSrv));
    }

    #[test]
    fn invalid_mongodb_uris() {
        let cases: &[(&str, &str)] = &[
            ("mongodb://", "malformed URI 'mongodb://': no host"),
            ("mongodb:///db", "no host"),
            ("mongodb://u:p@/db", "no host"),
            ("mongodb+srv://", "no host"),
            ("mongodb+srv://a:1", "does not allow a port ('a:1')"),
            (
                "mongodb+srv://a.test,b.test/",
                "exactly one host name, got 2",
            ),
            ("mongodb+srv://127.0.0.1/", "not an IP address"),
            ("mongodb://h1,,h2/", "empty host"),
            (
                "mongodb://h1:0/",
                "port out of range in 'mongodb://h1:0/': 0",
            ),
            ("mongodb://h1:65536/", "port out of range"),
            ("mongodb://h1:x/", "invalid port 'x'"),
            ("mongodb://h1:/", "invalid port ''"),
            ("mongodb://::1/", "must be bracketed"),
            ("mongodb://h/?tls=yes", "'yes' is not true or false"),
            ("mongodb://h/?tls", "expected key=value"),
            ("mongodb://h/?tls=true&ssl=false", "contradict"),
            ("mongodb://h/?tlsCAFile=", "empty file name"),
            (
                "mongodb://h/?tlsInsecure=true&tlsAllowInvalidHostnames=true",
                "drivers refuse",
            ),
            (
                "mongodb://h/?tlsDisableOCSPEndpointCheck=true&tlsDisableCertificateRevocationCheck=true",
                "drivers refuse",
            ),
            (
                "mongodb://%2Ftmp%2Fmongodb-27017.sock/",
                "Unix domain socket",
            ),
            ("mongodb://h%zz/", "'%' is not followed"),
            ("mongodb://u:p/w@h/", "password contains an unescaped '/'"),
            ("mongodb://u:p:w@h/", "password contains an unescaped ':'"),
            ("mongodb://u:p?w@h/", "unescaped '?'"),
            ("mongodb://:p@h/", "empty user name"),
            (
                "mongodb://h/?srvServiceName=a.b",
                "not a valid SRV service name",
            ),
        ];
        for (input, want) in cases {
            let err = parse(input).expect_err(input).to_string();
            assert!(err.contains(want), "{input:?}: got {err:?}, want {want:?}");
            assert!(!err.contains('\n'));
        }
    }

    #[test]
    fn credentials_never_shown() {
        let inputs = [
            "mongodb://alice:S3cr%40t@h1:27017,h2/db?tls=true&tlsCertificateKeyFilePassword=K3yPw",
            "mongodb+srv://alice:S3cr%40t@c.example.test/?TLSCERTIFICATEKEYFILEPASSWORD=K3yPw",
        ];
        for input in inputs {
            let spec = parse(input).unwrap();
            let shown = format!(
                "{spec} {spec:?} {} {:?}",
                serde_json::to_string(&spec).unwrap(),
                spec.mongo
            );
            assert!(!shown.contains("S3cr"), "{shown}");
            assert!(!shown.contains("K3yPw"), "{shown}");
            assert!(spec.input.contains("alice:****@"), "{}", spec.input);
            assert!(
                spec.input.to_ascii_lowercase().contains("password=****"),
                "{}",
                spec.input
            );
        }
        // Errors for inputs with credentials do not leak them either.
        let bad = [
            "mongodb://alice:S3cret@h1:99999/",
            "mongodb://alice:S3cret@h1/?tls=maybe",
            "mongodb://alice:S3c/ret@h1/",
            "mongodb://alice:S3c?ret@h1/",
            "mongodb://h1/?tls=true&tlsCertificateKeyFilePassword=%zzS3cret",
            "mongodb+srv://alice:S3cret@a.test:1/",
        ];
        for input in bad {
            let err = parse(input).expect_err(input);
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("S3c"), "{input}: {shown}");
        }
    }

    #[test]
    fn srv_domain_rule() {
        let ok = [
            ("cluster0.example.test", "host1.example.test"),
            ("cluster0.example.test", "a.b.example.test."),
            ("Cluster0.Example.Test", "HOST1.example.test"),
            ("example.test", "db.example.test"),
            ("localhost", "db.localhost"),
        ];
        for (seed, target) in ok {
            assert_eq!(
                srv_target_domain_check(seed, target),
                Ok(()),
                "{seed} {target}"
            );
        }
        let bad = [
            ("cluster0.example.test", "host1.evil.test", "example.test"),
            ("cluster0.example.test", "example.test", "example.test"),
            ("cluster0.example.test", "xexample.test", "example.test"),
            ("example.test", "example.test", "example.test"),
            ("example.test", "other.test", "example.test"),
        ];
        for (seed, target, domain) in bad {
            assert_eq!(
                srv_target_domain_check(seed, target),
                Err(domain.to_string()),
                "{seed} {target}"
            );
        }
    }

    #[test]
    fn txt_records() {
        let uri = MongoTlsOptions {
            replica_set: Some("fromuri".into()),
            ..Default::default()
        };
        let (m, notes) = apply_txt(
            "c.test",
            "authSource=admin&replicaSet=rs0&loadBalanced=false",
            &uri,
        )
        .unwrap();
        assert_eq!(m.auth_source.as_deref(), Some("admin"));
        assert_eq!(m.replica_set.as_deref(), Some("fromuri"));
        assert_eq!(m.load_balanced, Some(false));
        assert!(notes.iter().any(|n| n.contains("overridden by the URI")));
        let e = apply_txt("c.test", "authSource=admin&tls=false", &uri).unwrap_err();
        assert!(e.to_string().contains("option 'tls' is not allowed"), "{e}");
        assert!(apply_txt("c.test", "loadBalanced=maybe", &uri).is_err());
        assert!(apply_txt("c.test", "replicaSet", &uri).is_err());
    }
}
