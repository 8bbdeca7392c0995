//! Test certificates made with the openssl CLI, in one directory: self-signed ones
//! (`openssl req -x509`) and ones issued by a CA whose files are in the same directory
//! (`openssl req` then `openssl x509 -req`). The test PKI (RSA and SHA-1 leaves rcgen cannot
//! make), the OCSP PKI and the servers' own certificates are all made here.
//!
//! Key specs are "rsa:BITS" or "ec:CURVE" (e.g. "ec:P-256").

use std::path::Path;
use std::process::{Command, Stdio};

/// Run `cmd` (in `dir`); panic with its output, naming `what`, if it fails.
pub fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl ARGS` in `dir`.
pub fn openssl(dir: &Path, args: &[&str]) {
    run(
        Command::new("openssl").current_dir(dir).args(args),
        &format!("openssl {}", args.join(" ")),
    );
}

/// `-newkey` arguments for a key spec.
fn new_key(spec: &str) -> Vec<String> {
    match spec.split_once(':') {
        Some(("ec", curve)) => vec![
            "-newkey".into(),
            "ec".into(),
            "-pkeyopt".into(),
            format!("ec_paramgen_curve:{curve}"),
        ],
        _ => vec!["-newkey".into(), spec.into()],
    }
}

/// A self-signed certificate with a fresh key.
pub struct SelfSigned<'a> {
    /// File names (in the directory) of the certificate and its key.
    pub cert: &'a str,
    pub key: &'a str,
    pub key_spec: &'a str,
    /// e.g. "/CN=localhost".
    pub subject: &'a str,
    pub days: u32,
    /// `-addext` values, e.g. "subjectAltName=DNS:localhost".
    pub extensions: &'a [&'a str],
    /// Make it with the clock shifted by this faketime offset (e.g. "-12h").
    pub clock_shift: Option<&'a str>,
}

impl SelfSigned<'_> {
    pub fn make(&self, dir: &Path) {
        let mut cmd = match self.clock_shift {
            Some(offset) => {
                let mut c = Command::new("faketime");
                c.args(["-f", offset, "openssl"]);
                c
            }
            None => Command::new("openssl"),
        };
        cmd.current_dir(dir)
            .args(["req", "-x509"])
            .args(new_key(self.key_spec))
            .args([
                "-nodes",
                "-days",
                &self.days.to_string(),
                "-subj",
                self.subject,
            ])
            .args(["-keyout", self.key, "-out", self.cert]);
        for ext in self.extensions {
            cmd.args(["-addext", ext]);
        }
        run(&mut cmd, &format!("openssl req -x509 ({})", self.subject));
    }
}

/// A certificate with a fresh key, issued by a CA whose certificate and key are in the
/// directory. Writes NAME.key, NAME.csr and the certificate.
pub struct Issued<'a> {
    pub name: &'a str,
    /// File name of the certificate to write.
    pub cert: &'a str,
    pub key_spec: &'a str,
    pub subject: &'a str,
    /// File names of the CA's certificate and key.
    pub ca_cert: &'a str,
    pub ca_key: &'a str,
    /// Serial number; None lets openssl pick one (-CAcreateserial).
    pub serial: Option<&'a str>,
    pub days: u32,
    /// Signature digest, e.g. "sha1"; None is openssl's default (SHA-256).
    pub digest: Option<&'a str>,
    /// File name of the extensions file (`openssl x509 -extfile`).
    pub extfile: &'a str,
}

impl Issued<'_> {
    pub fn make(&self, dir: &Path) {
        let (key, csr) = (format!("{}.key", self.name), format!("{}.csr", self.name));
        let mut req: Vec<String> = vec!["req".into(), "-new".into()];
        req.extend(new_key(self.key_spec));
        req.extend(["-nodes", "-subj", self.subject].map(String::from));
        req.extend(["-keyout".into(), key, "-out".into(), csr.clone()]);
        openssl(dir, &req.iter().map(String::as_str).collect::<Vec<_>>());

        let days = self.days.to_string();
        let mut x509 = vec!["x509", "-req", "-in", &csr, "-CA", self.ca_cert];
        x509.extend(["-CAkey", self.ca_key]);
        match self.serial {
            Some(s) => x509.extend(["-set_serial", s]),
            None => x509.push("-CAcreateserial"),
        }
        x509.extend(["-days", &days]);
        let digest = self.digest.map(|d| format!("-{d}"));
        if let Some(d) = &digest {
            x509.push(d);
        }
        x509.extend(["-extfile", self.extfile, "-out", self.cert]);
        openssl(dir, &x509);
    }
}
