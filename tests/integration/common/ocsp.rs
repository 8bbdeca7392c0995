//! Test PKI and OCSP responses for the OCSP tests, all made with the openssl CLI in a temp
//! dir: a CA (RSA), a leaf (P-256, serial 1001) whose AIA names a responder on 127.0.0.1, a
//! must-staple leaf, a delegated responder (with and without the OCSP-signing EKU), a rogue
//! CA (RSA too) with the real CA's name but another key, and a second leaf (serial 1002). Responses
//! come from `openssl ocsp` in its offline mode (-reqin/-respout); `faketime` shifts the
//! clock for the expired and not-yet-valid ones. The certificates come from the same builder
//! as the other test PKIs (`common::openssl_certs`).

use super::openssl_certs::{Issued, SelfSigned, openssl, run};
use super::servers::{ServerProcess, free_port, openssl_s_server_with};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct OcspPki {
    pub dir: tempfile::TempDir,
    /// The port the leaves' AIA OCSP URL names (nothing listens until `responder`).
    pub responder_port: u16,
}

/// The staples the tests use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staple {
    Good,
    Revoked,
    /// nextUpdate two days in the past.
    Expired,
    /// thisUpdate two days in the future.
    Future,
    /// Signed by a key that is not the issuer's (rogue CA with the issuer's name).
    WrongKey,
    /// A valid response about serial 1002.
    OtherSerial,
    Unknown,
    /// Good, signed by a delegated responder with the OCSP-signing EKU.
    Delegated,
    /// Good, signed by a responder certificate from the CA but without the EKU.
    DelegatedNoEku,
}

impl OcspPki {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn build() -> OcspPki {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let port = free_port();
        for (name, extensions) in [
            (
                "ca",
                &[
                    "basicConstraints=critical,CA:TRUE",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ][..],
            ),
            // The same name as the CA, another key.
            ("rogue", &[][..]),
        ] {
            SelfSigned {
                cert: &format!("{name}.crt"),
                key: &format!("{name}.key"),
                key_spec: "rsa:2048",
                subject: "/CN=tlsdoctor OCSP Test CA",
                days: 30,
                extensions,
                clock_shift: None,
            }
            .make(d);
        }
        let leaf_ext = format!(
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nauthorityInfoAccess=OCSP;URI:http://127.0.0.1:{port}/\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n"
        );
        std::fs::write(d.join("leaf.ext"), &leaf_ext).unwrap();
        std::fs::write(
            d.join("must.ext"),
            format!("{leaf_ext}tlsfeature=status_request\n"),
        )
        .unwrap();
        std::fs::write(
            d.join("other.ext"),
            "subjectAltName=DNS:other.test\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        std::fs::write(d.join("resp.ext"), "extendedKeyUsage=OCSPSigning\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n").unwrap();
        std::fs::write(
            d.join("noeku.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n",
        )
        .unwrap();
        for (name, cn, serial, ext) in [
            ("leaf", "localhost", "0x1001", "leaf.ext"),
            ("must", "localhost", "0x1003", "must.ext"),
            ("other", "other.test", "0x1002", "other.ext"),
            ("resp", "tlsdoctor OCSP Responder", "0x2001", "resp.ext"),
            (
                "noeku",
                "tlsdoctor OCSP Responder without EKU",
                "0x2002",
                "noeku.ext",
            ),
        ] {
            Issued {
                name,
                cert: &format!("{name}.crt"),
                key_spec: "ec:P-256",
                subject: &format!("/CN={cn}"),
                ca_cert: "ca.crt",
                ca_key: "ca.key",
                serial: Some(serial),
                days: 20,
                digest: None,
                extfile: ext,
            }
            .make(d);
        }
        // Requests, as a client would build them (SHA-1 CertID, no nonce).
        for (cert, req) in [
            ("leaf.crt", "req-leaf.der"),
            ("other.crt", "req-other.der"),
            ("must.crt", "req-must.der"),
        ] {
            openssl(
                d,
                &[
                    "ocsp",
                    "-issuer",
                    "ca.crt",
                    "-cert",
                    cert,
                    "-no_nonce",
                    "-reqout",
                    req,
                ],
            );
        }
        // Responder databases (openssl ca index format).
        let row = |status: &str, revoked: &str, serial: &str, cn: &str| {
            format!("{status}\t301231000000Z\t{revoked}\t{serial}\tunknown\t/CN={cn}\n")
        };
        std::fs::write(
            d.join("index-good.txt"),
            row("V", "", "1001", "localhost")
                + &row("V", "", "1002", "other.test")
                + &row("V", "", "1003", "localhost"),
        )
        .unwrap();
        for index in ["index-good.txt", "index-revoked.txt", "index-empty.txt"] {
            // Two leaves share CN=localhost.
            std::fs::write(d.join(format!("{index}.attr")), "unique_subject = no\n").unwrap();
        }
        std::fs::write(
            d.join("index-revoked.txt"),
            row("R", "261101000000Z,keyCompromise", "1001", "localhost"),
        )
        .unwrap();
        std::fs::write(d.join("index-empty.txt"), "").unwrap();
        OcspPki {
            dir,
            responder_port: port,
        }
    }

    /// Make (once) and return the DER response file for `kind`.
    pub fn staple(&self, kind: Staple) -> PathBuf {
        // Tests sharing one PKI ask for the same files concurrently.
        static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = MAKING.lock().unwrap_or_else(|e| e.into_inner());
        let name = format!("staple-{kind:?}.der");
        let out = self.path(&name);
        if out.exists() {
            return out;
        }
        let (index, signer, key, req, shift) = match kind {
            Staple::Good => ("index-good.txt", "ca", "ca", "req-leaf.der", None),
            Staple::Revoked => ("index-revoked.txt", "ca", "ca", "req-leaf.der", None),
            Staple::Expired => ("index-good.txt", "ca", "ca", "req-leaf.der", Some("-3d")),
            Staple::Future => ("index-good.txt", "ca", "ca", "req-leaf.der", Some("+2d")),
            Staple::WrongKey => ("index-good.txt", "rogue", "rogue", "req-leaf.der", None),
            Staple::OtherSerial => ("index-good.txt", "ca", "ca", "req-other.der", None),
            Staple::Unknown => ("index-empty.txt", "ca", "ca", "req-leaf.der", None),
            Staple::Delegated => ("index-good.txt", "resp", "resp", "req-leaf.der", None),
            Staple::DelegatedNoEku => ("index-good.txt", "noeku", "noeku", "req-leaf.der", None),
        };
        let args = [
            "ocsp",
            "-index",
            index,
            "-rsigner",
            &format!("{signer}.crt"),
            "-rkey",
            &format!("{key}.key"),
            "-CA",
            "ca.crt",
            "-reqin",
            req,
            "-respout",
            &name,
            "-ndays",
            "1",
        ];
        match shift {
            None => openssl(self.dir.path(), &args),
            Some(s) => {
                let mut cmd = Command::new("faketime");
                cmd.current_dir(self.dir.path())
                    .args(["-f", s, "openssl"])
                    .args(args);
                run(&mut cmd, "faketime openssl ocsp (apt-get install faketime)");
            }
        }
        out
    }

    /// `openssl s_server` on 127.0.0.1 with `cert` (leaf or must) and the CA as chain,
    /// stapling `staple` when given; `extra` adds s_server options.
    pub fn server(&self, cert: &str, staple: Option<&Path>, extra: &[&str]) -> ServerProcess {
        let chain = self.path("ca.crt");
        let mut args: Vec<String> = vec!["-cert_chain".into(), chain.display().to_string()];
        if let Some(s) = staple {
            args.push("-status_file".into());
            args.push(s.display().to_string());
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        openssl_s_server_with(
            &refs,
            &self.path(&format!("{cert}.crt")),
            &self.path(&format!("{cert}.key")),
            None,
        )
    }

    /// `openssl ocsp -port` answering from `index`, signed by the delegated responder.
    /// openssl 3.0 takes only a port number here, so it listens on every interface; the tests
    /// only ever connect to it through 127.0.0.1. Readiness is read from its log, not probed
    /// with a connection: an empty connection leaves `openssl ocsp` unable to answer the next.
    pub fn responder(&self, index: &str) -> Responder {
        let log = self.path(&format!("ocsp-responder-{}.log", self.responder_port));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new("openssl")
            .current_dir(self.dir.path())
            .args([
                "ocsp",
                "-index",
                index,
                "-port",
                &self.responder_port.to_string(),
                "-rsigner",
                "resp.crt",
                "-rkey",
                "resp.key",
                "-CA",
                "ca.crt",
                "-ndays",
                "1",
            ])
            .stdin(Stdio::piped())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start openssl ocsp");
        let mut r = Responder { child, log };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&r.log).unwrap_or_default();
            if text.contains("waiting for OCSP client connections") {
                return r;
            }
            if let Ok(Some(status)) = r.child.try_wait() {
                panic!("openssl ocsp exited ({status}): {text}");
            }
            assert!(
                Instant::now() < deadline,
                "openssl ocsp not ready in 10 s: {text}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }
}

/// A running `openssl ocsp` responder; killed and reaped on drop.
pub struct Responder {
    child: Child,
    pub log: PathBuf,
}

impl Responder {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
