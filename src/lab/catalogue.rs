//! The lab catalogue, `data/lab/endpoints.toml`: every endpoint with what is wrong, what clients
//! get, the finding the doctor should report, and the server that produces it (which server
//! implementation, certificate, versions, suites, DH group, options). Each entry is checked
//! and turned into a typed [`ServerPlan`] when the catalogue is first read, without the PKI,
//! so a bad entry fails the unit tests rather than a lab start.

use std::collections::HashMap;
use std::sync::OnceLock;

use num_bigint::BigUint;
use rustls::SupportedProtocolVersion;
use serde::Deserialize;

use super::LabError;
use super::legacy::{self, DhGroup, Kx, Suite};
use super::pki::{CertName, Staple};

/// One endpoint as the catalogue describes it, its server checked and typed.
pub(crate) struct EndpointSpec {
    pub name: String,
    pub fault: String,
    pub expected_openssl3: String,
    pub expected_python: Option<String>,
    pub expected_curl: Option<String>,
    pub expect_finding: Option<String>,
    pub sni: Option<String>,
    pub server: ServerPlan,
}

/// Which server runs behind an endpoint, and how it is configured.
pub(crate) enum ServerPlan {
    Rustls(RustlsPlan),
    Legacy(LegacyPlan),
    /// Plain HTTP on a port clients expect TLS on.
    PlainHttp,
    /// Reads the hello and hangs up without a byte, as an SNI router without a route.
    HangsUp,
}

/// A rustls server.
pub(crate) struct RustlsPlan {
    pub certificate: CertName,
    pub versions: Vec<&'static SupportedProtocolVersion>,
    pub ocsp_staple: Option<Staple>,
    /// Require a client certificate issued by the lab root.
    pub client_auth: bool,
    /// Present the certificate only to clients that send SNI.
    pub requires_sni: bool,
    /// A plaintext dialogue that must come first (STARTTLS).
    pub starttls: Option<Starttls>,
    /// The only TLS 1.2 suites served (all of rustls's when `None`); TLS 1.3 keeps its own.
    pub tls12_suites: Option<Vec<rustls::SupportedCipherSuite>>,
    /// Ask for a client certificate, finish the handshake without one, and answer the
    /// request with HTTP 400 (nginx `ssl_verify_client on`).
    pub client_cert_http_400: bool,
}

/// The lab's own old-fashioned TLS server, for faults rustls refuses to produce.
pub(crate) struct LegacyPlan {
    pub certificate: CertName,
    /// Wire values.
    pub versions: Vec<u16>,
    /// In server preference order.
    pub suites: Vec<Suite>,
    pub dh: Option<DhGroup>,
    pub secure_renegotiation: bool,
    /// Require a client certificate issued by the lab root (TLS 1.2 style: a
    /// handshake_failure alert when none comes, as OpenSSL-based servers send).
    pub client_auth: bool,
}

/// Plaintext protocols that upgrade to TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Starttls {
    Smtp,
}

// ---------------------------------------------------------------- the file as written

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    endpoint: Vec<EndpointEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointEntry {
    name: String,
    fault: String,
    expected_openssl3: String,
    expected_python: Option<String>,
    expected_curl: Option<String>,
    expect_finding: Option<String>,
    sni: Option<String>,
    server: ServerEntry,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum ServerEntry {
    Rustls(RustlsEntry),
    Legacy(LegacyEntry),
    PlainHttp(NoOptions),
    HangsUp(NoOptions),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RustlsEntry {
    certificate: CertName,
    versions: Vec<String>,
    ocsp_staple: Option<Staple>,
    #[serde(default)]
    client_auth: bool,
    #[serde(default)]
    requires_sni: bool,
    starttls: Option<Starttls>,
    tls12_suites: Option<Vec<String>>,
    #[serde(default)]
    client_cert_http_400: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyEntry {
    certificate: CertName,
    versions: Vec<String>,
    suites: Vec<String>,
    dh_group: Option<String>,
    #[serde(default = "yes")]
    secure_renegotiation: bool,
    #[serde(default)]
    client_auth: bool,
}

/// A server kind that takes no options: any key besides `kind` is an error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoOptions {}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct DhEntry {
    generator: u32,
    prime: String,
}

// ---------------------------------------------------------------- reading and checking

/// The catalogue, read and checked once.
pub(crate) fn catalogue() -> Result<&'static [EndpointSpec], LabError> {
    static CAT: OnceLock<Result<Vec<EndpointSpec>, String>> = OnceLock::new();
    CAT.get_or_init(|| {
        parse(
            include_str!("../../data/lab/endpoints.toml"),
            include_str!("../../data/lab/dh_groups.toml"),
        )
    })
    .as_deref()
    .map_err(|e| LabError::Catalogue(e.clone()))
}

fn parse(endpoints: &str, dh_groups: &str) -> Result<Vec<EndpointSpec>, String> {
    let groups = parse_dh_groups(dh_groups)?;
    let file: CatalogueFile = toml::from_str(endpoints).map_err(|e| e.to_string())?;
    let mut specs: Vec<EndpointSpec> = Vec::with_capacity(file.endpoint.len());
    for e in file.endpoint {
        if specs.iter().any(|s| s.name == e.name) {
            return Err(format!("endpoint {:?} is listed twice", e.name));
        }
        let server =
            plan(e.server, &groups).map_err(|why| format!("endpoint {}: {why}", e.name))?;
        specs.push(EndpointSpec {
            name: e.name,
            fault: e.fault,
            expected_openssl3: e.expected_openssl3,
            expected_python: e.expected_python,
            expected_curl: e.expected_curl,
            expect_finding: e.expect_finding,
            sni: e.sni,
            server,
        });
    }
    Ok(specs)
}

fn parse_dh_groups(text: &str) -> Result<HashMap<String, DhGroup>, String> {
    let raw: HashMap<String, DhEntry> =
        toml::from_str(text).map_err(|e| format!("dh_groups.toml: {e}"))?;
    raw.into_iter()
        .map(|(name, g)| {
            let hex: String = g.prime.chars().filter(|c| !c.is_whitespace()).collect();
            let p = BigUint::parse_bytes(hex.as_bytes(), 16)
                .ok_or_else(|| format!("dh_groups.toml: bad prime {name}"))?;
            let group = DhGroup {
                p,
                g: BigUint::from(g.generator),
            };
            Ok((name, group))
        })
        .collect()
}

fn plan(entry: ServerEntry, groups: &HashMap<String, DhGroup>) -> Result<ServerPlan, String> {
    Ok(match entry {
        ServerEntry::Rustls(r) => {
            // rustls (ring) signs with RSA keys of 2048 bits and more.
            if r.certificate.is_rsa() && r.certificate != CertName::Rsa2048 {
                return Err(format!(
                    "certificate {:?} has an RSA key too small for rustls; the legacy server serves it",
                    r.certificate
                ));
            }
            let versions = r
                .versions
                .iter()
                .map(|v| rustls_version(v))
                .collect::<Result<Vec<_>, _>>()?;
            if versions.is_empty() {
                return Err("no versions".into());
            }
            ServerPlan::Rustls(RustlsPlan {
                certificate: r.certificate,
                versions,
                ocsp_staple: r.ocsp_staple,
                client_auth: r.client_auth,
                requires_sni: r.requires_sni,
                starttls: r.starttls,
                tls12_suites: r
                    .tls12_suites
                    .as_deref()
                    .map(rustls_tls12_suites)
                    .transpose()?,
                client_cert_http_400: r.client_cert_http_400,
            })
        }
        ServerEntry::Legacy(l) => {
            if !l.certificate.is_rsa() {
                return Err(format!(
                    "the legacy server signs with RSA; certificate {:?} has an ECDSA key",
                    l.certificate
                ));
            }
            let versions = l
                .versions
                .iter()
                .map(|v| legacy_version(v))
                .collect::<Result<Vec<_>, _>>()?;
            let suites = l
                .suites
                .iter()
                .map(|s| {
                    Suite::by_name(s).ok_or_else(|| {
                        format!("the legacy server cannot complete cipher suite {s}")
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if versions.is_empty() || suites.is_empty() {
                return Err("the legacy server needs at least one version and one suite".into());
            }
            let dhe = suites.iter().any(|s| s.kx == Kx::DheRsa);
            let dh = match (&l.dh_group, dhe) {
                (Some(name), true) => Some(
                    groups
                        .get(name)
                        .cloned()
                        .ok_or_else(|| format!("no DH group {name:?} in dh_groups.toml"))?,
                ),
                (None, false) => None,
                (Some(_), false) => return Err("dh_group given but no DHE suite uses it".into()),
                (None, true) => return Err("DHE suites need a dh_group".into()),
            };
            ServerPlan::Legacy(LegacyPlan {
                certificate: l.certificate,
                versions,
                suites,
                dh,
                secure_renegotiation: l.secure_renegotiation,
                client_auth: l.client_auth,
            })
        }
        ServerEntry::PlainHttp(NoOptions {}) => ServerPlan::PlainHttp,
        ServerEntry::HangsUp(NoOptions {}) => ServerPlan::HangsUp,
    })
}

fn rustls_version(name: &str) -> Result<&'static SupportedProtocolVersion, String> {
    match name {
        "TLSv1.2" => Ok(&rustls::version::TLS12),
        "TLSv1.3" => Ok(&rustls::version::TLS13),
        other => Err(format!(
            "rustls serves TLSv1.2 and TLSv1.3 only, not {other:?}; older versions need the legacy server"
        )),
    }
}

/// rustls's TLS 1.2 suites by IANA name.
fn rustls_tls12_suites(names: &[String]) -> Result<Vec<rustls::SupportedCipherSuite>, String> {
    let all = rustls::crypto::ring::ALL_CIPHER_SUITES;
    let suites = names
        .iter()
        .map(|n| {
            all.iter()
                .copied()
                .find(|s| s.tls13().is_none() && format!("{:?}", s.suite()) == *n)
                .ok_or_else(|| format!("rustls has no TLS 1.2 cipher suite {n:?}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if suites.is_empty() {
        return Err("tls12_suites is empty".into());
    }
    Ok(suites)
}

fn legacy_version(name: &str) -> Result<u16, String> {
    legacy::VERSIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("the legacy server speaks TLSv1.0 to TLSv1.2 only, not {name:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DH: &str = include_str!("../../data/lab/dh_groups.toml");

    #[test]
    fn catalogue_parses_and_names_are_unique() {
        let specs = catalogue().unwrap();
        assert!(specs.len() >= 23);
        let groups = parse_dh_groups(DH).unwrap();
        assert_eq!(groups["ffdhe2048"].p.bits(), 2048);
        assert_eq!(groups["weak1024"].p.bits(), 1024);
    }

    fn one(server: &str) -> Result<Vec<EndpointSpec>, String> {
        let text = format!(
            "[[endpoint]]\nname = \"x\"\nfault = \"f\"\nexpected_openssl3 = \"ok\"\n\
             [endpoint.server]\n{server}\n"
        );
        parse(&text, DH)
    }

    #[test]
    fn entries_that_cannot_be_served_are_rejected() {
        let ok = "kind = \"legacy\"\ncertificate = \"rsa-2048\"\nversions = [\"TLSv1.2\"]\n\
                  suites = [\"TLS_DHE_RSA_WITH_AES_128_CBC_SHA\"]\ndh_group = \"ffdhe2048\"";
        assert!(one(ok).is_ok());
        for (bad, why) in [
            (ok.replace("rsa-2048", "healthy"), "ECDSA"),
            (
                ok.replace("\ndh_group = \"ffdhe2048\"", ""),
                "need a dh_group",
            ),
            (ok.replace("ffdhe2048", "ffdhe9999"), "no DH group"),
            (ok.replace("TLSv1.2", "TLSv1.3"), "TLSv1.0 to TLSv1.2"),
            (
                ok.replace("DHE_RSA_WITH_AES_128_CBC_SHA", "RSA_WITH_RC4_128_MD5"),
                "cannot complete",
            ),
            (
                ok.replace(
                    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
                    "TLS_RSA_WITH_AES_128_CBC_SHA",
                ),
                "no DHE suite",
            ),
            (format!("{ok}\nocsp_staple = \"revoked\""), "unknown field"),
            (
                "kind = \"rustls\"\ncertificate = \"rsa-1024\"\nversions = [\"TLSv1.3\"]".into(),
                "RSA key too small",
            ),
            (
                "kind = \"rustls\"\ncertificate = \"healthy\"\nversions = [\"TLSv1.2\"]\ntls12_suites = [\"TLS_RSA_WITH_RC4\"]".into(),
                "no TLS 1.2 cipher suite",
            ),
            (
                "kind = \"rustls\"\ncertificate = \"healthy\"\nversions = [\"TLSv1.0\"]".into(),
                "legacy server",
            ),
            (
                "kind = \"rustls\"\ncertificate = \"no-such-cert\"\nversions = [\"TLSv1.3\"]"
                    .into(),
                "unknown variant",
            ),
            (
                "kind = \"plain-http\"\ncertificate = \"healthy\"".into(),
                "unknown field",
            ),
            ("kind = \"gopher\"".into(), "unknown variant"),
        ] {
            let err = one(&bad)
                .err()
                .unwrap_or_else(|| panic!("accepted:\n{bad}"));
            assert!(err.contains(why), "{bad}\n=> {err}");
        }
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let entry = "[[endpoint]]\nname = \"x\"\nfault = \"f\"\nexpected_openssl3 = \"ok\"\n\
                     [endpoint.server]\nkind = \"plain-http\"\n";
        let err = parse(&format!("{entry}{entry}"), DH).err().unwrap();
        assert!(err.contains("twice"), "{err}");
    }
}
