//! Trust store files and directories: how many certificates each holds, how many are expired,
//! when it was last changed. Parsed here (rustls-pki-types for PEM, x509-parser for dates),
//! so the answer does not depend on which TLS library the user has.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Files bigger than this are not trust stores; we refuse to read them whole.
const MAX_BUNDLE_BYTES: u64 = 64 << 20;
/// A hashed directory with more entries than this is only partly read.
const MAX_DIR_ENTRIES: usize = 20_000;

/// What a CA bundle file or certificate directory contains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleInfo {
    pub path: PathBuf,
    /// `file` or `dir`.
    pub kind: String,
    pub exists: bool,
    /// Certificates that parsed.
    pub certificates: usize,
    /// Of those, how many are past notAfter now.
    pub expired: usize,
    /// PEM CERTIFICATE blocks whose DER did not parse.
    pub unparsable: usize,
    /// Earliest and latest notAfter among the certificates, `YYYY-MM-DD`.
    pub oldest_not_after: Option<String>,
    pub newest_not_after: Option<String>,
    /// Last modification of the file (for a directory: of its newest entry), `YYYY-MM-DD`.
    pub modified: Option<String>,
    pub modified_days_ago: Option<u64>,
    /// Why it could not be read, if it could not.
    pub error: Option<String>,
}

impl BundleInfo {
    fn empty(path: &Path, kind: &str) -> Self {
        BundleInfo {
            path: path.to_path_buf(),
            kind: kind.to_string(),
            exists: false,
            certificates: 0,
            expired: 0,
            unparsable: 0,
            oldest_not_after: None,
            newest_not_after: None,
            modified: None,
            modified_days_ago: None,
            error: None,
        }
    }
}

/// Running totals while reading certificates.
#[derive(Default)]
struct Tally {
    certificates: usize,
    expired: usize,
    unparsable: usize,
    oldest: Option<i64>,
    newest: Option<i64>,
}

impl Tally {
    fn add_pem(&mut self, bytes: &[u8], now: i64) {
        for der in CertificateDer::pem_slice_iter(bytes) {
            match der {
                Ok(der) => self.add_der(der.as_ref(), now),
                Err(_) => self.unparsable += 1,
            }
        }
    }

    fn add_der(&mut self, der: &[u8], now: i64) {
        match x509_parser::parse_x509_certificate(der) {
            Ok((_, cert)) => {
                let not_after = cert.validity().not_after.timestamp();
                self.certificates += 1;
                if not_after < now {
                    self.expired += 1;
                }
                self.oldest = Some(self.oldest.map_or(not_after, |o| o.min(not_after)));
                self.newest = Some(self.newest.map_or(not_after, |n| n.max(not_after)));
            }
            Err(_) => self.unparsable += 1,
        }
    }

    fn fill(self, info: &mut BundleInfo) {
        info.certificates = self.certificates;
        info.expired = self.expired;
        info.unparsable = self.unparsable;
        info.oldest_not_after = self.oldest.map(ymd);
        info.newest_not_after = self.newest.map(ymd);
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `YYYY-MM-DD` for a Unix timestamp (UTC).
pub fn ymd(ts: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ts) {
        Ok(t) => format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
        Err(_) => format!("@{ts}"),
    }
}

fn set_modified(info: &mut BundleInfo, modified: Option<SystemTime>) {
    let Some(m) = modified else { return };
    let Ok(secs) = m.duration_since(SystemTime::UNIX_EPOCH) else {
        return;
    };
    info.modified = Some(ymd(secs.as_secs() as i64));
    info.modified_days_ago = SystemTime::now()
        .duration_since(m)
        .ok()
        .map(|d| d.as_secs() / 86_400);
}

/// Inspect a PEM bundle file.
pub fn inspect_file(path: &Path) -> BundleInfo {
    let mut info = BundleInfo::empty(path, "file");
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                info.error = Some(e.to_string());
            }
            return info;
        }
    };
    info.exists = true;
    if meta.is_dir() {
        info.error = Some("is a directory, not a PEM file".into());
        return info;
    }
    if meta.len() > MAX_BUNDLE_BYTES {
        info.error = Some(format!("{} bytes: too large for a CA bundle", meta.len()));
        return info;
    }
    set_modified(&mut info, meta.modified().ok());
    match std::fs::read(path) {
        Ok(bytes) => {
            let mut tally = Tally::default();
            tally.add_pem(&bytes, unix_now());
            tally.fill(&mut info);
        }
        Err(e) => info.error = Some(e.to_string()),
    }
    info
}

/// Inspect a hashed certificate directory: every regular file (symlinks followed, each target
/// counted once) that holds PEM certificates.
pub fn inspect_dir(path: &Path) -> BundleInfo {
    let mut info = BundleInfo::empty(path, "dir");
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) => {
            match e.kind() {
                std::io::ErrorKind::NotFound => {}
                _ if path.is_file() => {
                    info.exists = true;
                    info.error = Some("is a file, not a directory".into());
                }
                _ => info.error = Some(e.to_string()),
            }
            return info;
        }
    };
    info.exists = true;
    let now = unix_now();
    let mut seen = HashSet::new();
    let mut tally = Tally::default();
    let mut newest_mtime: Option<SystemTime> = None;
    for entry in entries.flatten().take(MAX_DIR_ENTRIES) {
        let p = entry.path();
        let Ok(real) = std::fs::canonicalize(&p) else {
            continue;
        };
        if !seen.insert(real.clone()) {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&real) else {
            continue;
        };
        if !meta.is_file() || meta.len() > MAX_BUNDLE_BYTES {
            continue;
        }
        if let Ok(m) = meta.modified() {
            newest_mtime = Some(newest_mtime.map_or(m, |n| n.max(m)));
        }
        if let Ok(bytes) = std::fs::read(&real) {
            tally.add_pem(&bytes, now);
        }
    }
    set_modified(&mut info, newest_mtime);
    tally.fill(&mut info);
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_pem(days_valid: i64) -> String {
        let mut params = rcgen::CertificateParams::new(vec!["example.test".to_string()]).unwrap();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(400);
        params.not_after = now + time::Duration::days(days_valid);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn counts_certificates_and_expired_ones() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bundle.pem");
        let text = format!("{}{}{}", cert_pem(30), cert_pem(-3), cert_pem(90));
        std::fs::write(&file, text).unwrap();
        let info = inspect_file(&file);
        assert!(info.exists);
        assert_eq!(info.certificates, 3);
        assert_eq!(info.expired, 1);
        assert_eq!(info.unparsable, 0);
        assert!(info.oldest_not_after < info.newest_not_after);
        assert_eq!(info.modified_days_ago, Some(0));
    }

    #[test]
    fn missing_empty_and_garbage_files() {
        let dir = tempfile::tempdir().unwrap();
        let missing = inspect_file(&dir.path().join("nope.pem"));
        assert!(!missing.exists && missing.error.is_none());
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let e = inspect_file(&empty);
        assert!(e.exists && e.certificates == 0);
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(
            &garbage,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let g = inspect_file(&garbage);
        assert_eq!((g.certificates, g.unparsable), (0, 1));
        assert!(inspect_file(dir.path()).error.is_some());
    }

    #[test]
    fn directory_counts_each_target_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.pem");
        std::fs::write(&a, cert_pem(10)).unwrap();
        std::os::unix::fs::symlink(&a, dir.path().join("abcd1234.0")).unwrap();
        std::fs::write(dir.path().join("b.pem"), cert_pem(-1)).unwrap();
        std::fs::write(dir.path().join("README"), "not a cert").unwrap();
        let info = inspect_dir(dir.path());
        assert_eq!((info.certificates, info.expired), (2, 1));
    }
}
