//! Trust stores as clients see them: the Mozilla set (bundled), the operating system's store
//! (the files OpenSSL and Python read, honouring `SSL_CERT_FILE`/`SSL_CERT_DIR`), and a CA file
//! the user names.

use std::path::Path;

use x509_parser::prelude::*;

use super::CertError;
use super::describe::{colon_hex, parse};

/// One trusted root: its name and key (enough to match issuers and check signatures), and the
/// whole certificate when the store has it (Mozilla's bundled set holds only name and key).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Anchor {
    /// Subject DN as printed, e.g. `CN=ISRG Root X1, O=Internet Security Research Group, C=US`.
    pub subject: String,
    /// Subject Name, full DER (with its SEQUENCE header).
    #[serde(with = "crate::serde_hex")]
    pub subject_der: Vec<u8>,
    /// SubjectPublicKeyInfo, full DER.
    #[serde(with = "crate::serde_hex")]
    pub spki_der: Vec<u8>,
    /// Subject key identifier, colon hex, when the certificate has one.
    pub ski: Option<String>,
    /// The certificate itself, when known.
    #[serde(with = "crate::serde_hex")]
    pub der: Option<Vec<u8>>,
}

/// A named set of trusted roots.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrustStore {
    /// `mozilla`, `system` or `cafile`.
    pub name: String,
    /// Where the roots came from (paths, or the bundled crate).
    pub source: String,
    pub roots: Vec<Anchor>,
    /// Problems met while loading (unreadable files, unparsable certificates), one per line.
    pub load_errors: Vec<String>,
}

/// Wrap DER contents in a SEQUENCE header (webpki-roots stores Name and SPKI without it).
fn wrap_sequence(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn anchor_from_cert(der: &[u8]) -> Result<Anchor, CertError> {
    let cert = parse(der)?;
    let ski = cert
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(colon_hex(k.0)),
            _ => None,
        });
    Ok(Anchor {
        subject: super::name::name_text(cert.subject()),
        subject_der: cert.subject().as_raw().to_vec(),
        spki_der: cert.public_key().raw.to_vec(),
        ski,
        der: Some(der.to_vec()),
    })
}

/// The Mozilla root set bundled with tlsdoctor (webpki-roots).
pub fn mozilla() -> TrustStore {
    let mut roots = Vec::with_capacity(webpki_roots::TLS_SERVER_ROOTS.len());
    for ta in webpki_roots::TLS_SERVER_ROOTS {
        let subject_der = wrap_sequence(ta.subject.as_ref());
        let subject = match X509Name::from_der(&subject_der) {
            Ok((_, n)) => super::name::name_text(&n),
            Err(_) => continue,
        };
        roots.push(Anchor {
            subject,
            subject_der,
            spki_der: wrap_sequence(ta.subject_public_key_info.as_ref()),
            ski: None,
            der: None,
        });
    }
    TrustStore {
        name: "mozilla".to_string(),
        source: format!(
            "Mozilla root set bundled with tlsdoctor (webpki-roots, {} roots)",
            roots.len()
        ),
        roots,
        load_errors: Vec::new(),
    }
}

/// Well-known bundle files and directories OpenSSL-based clients read on common systems, in
/// the order openssl-probe tries them; only used to name the source.
const BUNDLE_FILES: [&str; 6] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/usr/local/share/certs/ca-root-nss.crt",
];

fn system_source() -> String {
    let file = std::env::var_os("SSL_CERT_FILE");
    let dir = std::env::var_os("SSL_CERT_DIR");
    if file.is_some() || dir.is_some() {
        let mut parts = Vec::new();
        if let Some(f) = file {
            parts.push(format!("SSL_CERT_FILE={}", f.to_string_lossy()));
        }
        if let Some(d) = dir {
            parts.push(format!("SSL_CERT_DIR={}", d.to_string_lossy()));
        }
        return parts.join(" ");
    }
    let mut parts: Vec<String> = BUNDLE_FILES
        .iter()
        .filter(|p| Path::new(p).exists())
        .take(1)
        .map(|p| p.to_string())
        .collect();
    if Path::new("/etc/ssl/certs").is_dir() {
        parts.push("/etc/ssl/certs/".to_string());
    }
    if parts.is_empty() {
        "no system CA bundle found".to_string()
    } else {
        parts.join(" + ")
    }
}

fn from_loaded(
    name: &str,
    source: String,
    result: rustls_native_certs::CertificateResult,
) -> TrustStore {
    let mut roots: Vec<Anchor> = Vec::new();
    let mut load_errors: Vec<String> = result.errors.iter().map(|e| e.to_string()).collect();
    for (i, der) in result.certs.iter().enumerate() {
        match anchor_from_cert(der.as_ref()) {
            Ok(a) => {
                if !roots.iter().any(|r| r.der == a.der) {
                    roots.push(a);
                }
            }
            Err(e) => load_errors.push(format!("certificate #{}: {e}", i + 1)),
        }
    }
    TrustStore {
        name: name.to_string(),
        source,
        roots,
        load_errors,
    }
}

/// The operating system's store: what OpenSSL and Python load by default. Honours
/// `SSL_CERT_FILE` and `SSL_CERT_DIR` like they do. Never fails: problems are in `load_errors`
/// and an empty store simply trusts nothing.
pub fn system() -> TrustStore {
    from_loaded(
        "system",
        system_source(),
        rustls_native_certs::load_native_certs(),
    )
}

/// A store from explicit paths (a bundle file and/or a hashed directory), named `name`.
pub fn from_paths(name: &str, file: Option<&Path>, dir: Option<&Path>) -> TrustStore {
    let mut parts = Vec::new();
    if let Some(f) = file {
        parts.push(f.display().to_string());
    }
    if let Some(d) = dir {
        parts.push(d.display().to_string());
    }
    from_loaded(
        name,
        parts.join(" + "),
        rustls_native_certs::load_certs_from_paths(file, dir),
    )
}

/// A user CA file (`--cafile`, or `tlsCAFile` from a mongodb:// URI): PEM certificates.
/// An unreadable file, one larger than [`crate::files::MAX_INPUT_BYTES`], a file with no PEM
/// certificate or a broken certificate is an error that names the path.
pub fn from_file(path: &Path) -> Result<TrustStore, CertError> {
    let shown = path.display().to_string();
    let bytes = crate::files::read_input(path).map_err(|reason| CertError::Unreadable {
        path: shown.clone(),
        reason,
    })?;
    let mut roots = Vec::new();
    let mut index = 0;
    for item in x509_parser::pem::Pem::iter_from_buffer(&bytes) {
        let pem = match item {
            Ok(p) => p,
            Err(e) => {
                return Err(CertError::BadCertificate {
                    path: shown,
                    index: index + 1,
                    reason: format!("PEM: {e}"),
                });
            }
        };
        if pem.label != "CERTIFICATE" && pem.label != "TRUSTED CERTIFICATE" {
            continue;
        }
        index += 1;
        let anchor = anchor_from_cert(&pem.contents).map_err(|e| CertError::BadCertificate {
            path: shown.clone(),
            index,
            reason: e.to_string(),
        })?;
        roots.push(anchor);
    }
    if roots.is_empty() {
        return Err(CertError::NoCertificates { path: shown });
    }
    Ok(TrustStore {
        name: "cafile".to_string(),
        source: shown,
        roots,
        load_errors: Vec::new(),
    })
}

/// The CA file named in a `mongodb://` or `mongodb+srv://` URI (`tlsCAFile`, or the legacy
/// `sslCA`; option names are case-insensitive as in the MongoDB URI spec), percent-decoded.
pub fn cafile_from_mongodb_uri(uri: &str) -> Option<std::path::PathBuf> {
    let lower = uri.to_ascii_lowercase();
    if !(lower.starts_with("mongodb://") || lower.starts_with("mongodb+srv://")) {
        return None;
    }
    let query = uri.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        let k = k.to_ascii_lowercase();
        if k == "tlscafile" || k == "sslca" {
            let v = percent_encoding::percent_decode_str(v).decode_utf8().ok()?;
            (!v.is_empty()).then(|| std::path::PathBuf::from(v.into_owned()))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mongodb_uri_cafile() {
        assert_eq!(
            cafile_from_mongodb_uri(
                "mongodb://u:p@db1:27017,db2/app?replicaSet=rs0&tls=true&tlsCAFile=%2Fetc%2Fssl%2Fmy%20ca.pem"
            ),
            Some(std::path::PathBuf::from("/etc/ssl/my ca.pem"))
        );
        assert_eq!(
            cafile_from_mongodb_uri("mongodb+srv://h/?TLSCAFILE=/a.pem"),
            Some(std::path::PathBuf::from("/a.pem"))
        );
        assert_eq!(cafile_from_mongodb_uri("mongodb://h/?tls=true"), None);
        assert_eq!(cafile_from_mongodb_uri("https://h/?tlsCAFile=/a.pem"), None);
    }

    #[test]
    fn mozilla_roots_parse() {
        let m = mozilla();
        assert!(m.roots.len() > 100, "{}", m.roots.len());
        assert!(m.roots.iter().any(|r| r.subject.contains("ISRG Root X1")));
    }

    #[test]
    fn cafile_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let e = from_file(&missing).unwrap_err().to_string();
        assert!(e.contains("nope.pem") && e.contains("cannot read"), "{e}");

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "hello\n").unwrap();
        let e = from_file(&empty).unwrap_err().to_string();
        assert!(
            e.contains("empty.pem") && e.contains("no PEM certificates"),
            "{e}"
        );

        let bad = dir.path().join("bad.pem");
        std::fs::write(
            &bad,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = from_file(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.pem") && e.contains("#1"), "{e}");
    }

    #[test]
    fn system_store_from_explicit_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "Only Root");
        let c = p.self_signed(&key).unwrap();
        let f = dir.path().join("bundle.pem");
        std::fs::write(&f, c.pem()).unwrap();
        let s = from_paths("system", Some(&f), None);
        assert_eq!(s.roots.len(), 1);
        assert_eq!(s.roots[0].subject, "CN=Only Root");
        assert!(s.source.contains("bundle.pem"));
    }
}
