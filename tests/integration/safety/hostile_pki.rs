//! A PKI whose every name is hostile, made with rcgen (certificates) and `openssl ocsp`
//! (the staple), and an `openssl s_server` on 127.0.0.1 that serves it.
//!
//! The leaf's subject is issue 14's `CN=evil<ESC>[2J<ESC>]0;pwned<BEL>name`, with
//! `<script>` and C1 controls in other attributes; its SANs carry a right-to-left override
//! (U+202E), an ESC and bytes that are not UTF-8; its AIA OCSP URL an OSC sequence. The CA's
//! name carries an SGR sequence; the staple is signed by a delegated responder whose name
//! carries another title-setting sequence, so it shows as the responder ID, the included
//! certificate and the signer.

use crate::common::servers::{ServerProcess, openssl_s_server_with};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use time::{Duration, OffsetDateTime};

/// The leaf's common name (issue 14's hostile subject).
pub const EVIL_CN: &str = "evil\x1b[2J\x1b]0;pwned\x07name";

pub struct HostilePki {
    pub dir: tempfile::TempDir,
}

/// DER tag-length-value (lengths up to 65535).
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let n = content.len();
    let mut out = vec![tag];
    match n {
        0..=0x7f => out.push(n as u8),
        0x80..=0xff => out.extend([0x81, n as u8]),
        _ => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

/// subjectAltName with raw dNSName (tag 0x82) and URI (0x86) bytes, IA5 or not.
fn san_extension(names: &[(u8, &[u8])]) -> CustomExtension {
    let body: Vec<u8> = names.iter().flat_map(|(t, v)| tlv(*t, v)).collect();
    CustomExtension::from_oid_content(&[2, 5, 29, 17], tlv(0x30, &body))
}

/// authorityInfoAccess with one OCSP URI.
fn aia_ocsp_extension(url: &[u8]) -> CustomExtension {
    let ocsp = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01];
    let desc = tlv(0x30, &[tlv(0x06, &ocsp), tlv(0x86, url)].concat());
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], tlv(0x30, &desc))
}

/// The length of the whole TLV at the start of `der`, and its contents.
fn split_tlv(der: &[u8]) -> (usize, &[u8]) {
    let (len, head) = match der[1] {
        n if n < 0x80 => (n as usize, 2),
        0x81 => (der[2] as usize, 3),
        0x82 => (((der[2] as usize) << 8) | der[3] as usize, 4),
        n => panic!("DER length form {n:#x} not expected here"),
    };
    (head + len, &der[head..head + len])
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl HostilePki {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// ca.pem/.key, leaf.pem/.key (serial 0x1001), resp.pem/.key, staple.der.
    pub fn build() -> HostilePki {
        let pki = HostilePki {
            dir: tempfile::tempdir().unwrap(),
        };
        let write = |name: &str, body: String| std::fs::write(pki.path(name), body).unwrap();
        let now = OffsetDateTime::now_utc();

        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name
            .push(DnType::CommonName, "Hostile CA \x1b[31mred\x1b[0m");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.not_before = now - Duration::days(10);
        ca.not_after = now + Duration::days(100);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        write("ca.pem", ca_cert.pem());
        write("ca.key", ca_key.serialize_pem());
        let issuer = Issuer::new(ca, ca_key);

        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf.distinguished_name.push(DnType::CommonName, EVIL_CN);
        leaf.distinguished_name
            .push(DnType::OrganizationName, "<script>alert(1)</script>");
        leaf.distinguished_name.push(
            DnType::OrganizationalUnitName,
            "csi\u{9b}2J \u{202e}gnp.exe",
        );
        leaf.serial_number = Some(SerialNumber::from_slice(&[0x10, 0x01]));
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.not_before = now - Duration::days(1);
        leaf.not_after = now + Duration::days(30);
        leaf.custom_extensions.push(san_extension(&[
            (0x82, b"localhost"),
            (0x82, "\u{202e}moc.elpmaxe".as_bytes()),
            (0x82, b"esc\x1b[2J.test"),
            (0x82, b"not-utf8-\xff\xfe\xc3.test"),
            (0x86, b"https://x.test/\x1b]8;;http://evil/\x07link"),
        ]));
        leaf.custom_extensions.push(aia_ocsp_extension(
            b"http://127.0.0.1:9/\x1b]0;ocsp-title\x07",
        ));
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
        write("leaf.pem", leaf_cert.pem());
        write("leaf.key", leaf_key.serialize_pem());

        let resp_key = KeyPair::generate().unwrap();
        let mut resp = CertificateParams::new(Vec::<String>::new()).unwrap();
        resp.distinguished_name.push(
            DnType::CommonName,
            "responder\x1b]2;owned\x1b\\ \u{2066}x\u{2069}",
        );
        resp.extended_key_usages = vec![ExtendedKeyUsagePurpose::OcspSigning];
        resp.not_before = now - Duration::days(1);
        resp.not_after = now + Duration::days(30);
        let resp_cert = resp.signed_by(&resp_key, &issuer).unwrap();
        write("resp.pem", resp_cert.pem());
        write("resp.key", resp_key.serialize_pem());

        let d = pki.dir.path();
        openssl(
            d,
            &[
                "ocsp",
                "-issuer",
                "ca.pem",
                "-cert",
                "leaf.pem",
                "-no_nonce",
                "-reqout",
                "req.der",
            ],
        );
        write(
            "index.txt",
            "V\t301231000000Z\t\t1001\tunknown\t/CN=leaf\n".into(),
        );
        write("index.txt.attr", "unique_subject = no\n".into());
        openssl(
            d,
            &[
                "ocsp",
                "-index",
                "index.txt",
                "-rsigner",
                "resp.pem",
                "-rkey",
                "resp.key",
                "-CA",
                "ca.pem",
                "-reqin",
                "req.der",
                "-respout",
                "staple.der",
                "-ndays",
                "1",
            ],
        );
        pki.not_utf8_leaf(&issuer);
        pki
    }

    /// not-utf8.pem/.key: a leaf whose common name is a UTF8String holding bytes that are not
    /// UTF-8. rcgen only encodes valid strings, so the name is patched into the DER it makes
    /// and the certificate signed again with the CA's key.
    fn not_utf8_leaf(&self, issuer: &Issuer<'_, KeyPair>) {
        const PLACEHOLDER: &[u8] = b"PLACEHOLDER";
        const NOT_UTF8: &[u8] = b"bad\xff\xfe\xc3utf8!";
        assert_eq!(PLACEHOLDER.len(), NOT_UTF8.len());
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        p.distinguished_name.push(
            DnType::CommonName,
            std::str::from_utf8(PLACEHOLDER).unwrap(),
        );
        let der = p.signed_by(&key, issuer).unwrap().der().to_vec();
        // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
        let (_, body) = split_tlv(&der);
        let (tbs_len, _) = split_tlv(body);
        let (tbs, rest) = body.split_at(tbs_len);
        let (alg_len, _) = split_tlv(rest);
        let alg = &rest[..alg_len];
        let at = tbs
            .windows(PLACEHOLDER.len())
            .position(|w| w == PLACEHOLDER)
            .expect("placeholder in the TBS");
        let mut tbs = tbs.to_vec();
        tbs[at..at + NOT_UTF8.len()].copy_from_slice(NOT_UTF8);
        let ca_key =
            KeyPair::from_pem(&std::fs::read_to_string(self.path("ca.key")).unwrap()).unwrap();
        let signer = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &ca_key.serialize_der(),
            &ring::rand::SystemRandom::new(),
        )
        .unwrap();
        let sig = signer.sign(&ring::rand::SystemRandom::new(), &tbs).unwrap();
        let mut bits = vec![0u8];
        bits.extend_from_slice(sig.as_ref());
        let cert = tlv(0x30, &[tbs, alg.to_vec(), tlv(0x03, &bits)].concat());
        let pem = pem::encode(&pem::Pem::new("CERTIFICATE", cert));
        std::fs::write(self.path("not-utf8.pem"), pem).unwrap();
        std::fs::write(self.path("not-utf8.key"), key.serialize_pem()).unwrap();
    }

    /// A rustls server on 127.0.0.1 sending `name`.pem and the CA, for certificates OpenSSL
    /// refuses to load (it decodes names strictly). Runs until the test process ends.
    pub fn rustls_server(&self, name: &str) -> std::net::SocketAddr {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let mut chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(self.path(&format!("{name}.pem")))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
        chain.extend(
            CertificateDer::pem_file_iter(self.path("ca.pem"))
                .unwrap()
                .map(|c| c.unwrap()),
        );
        let key = PrivateKeyDer::from_pem_file(self.path(&format!("{name}.key"))).unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let config = std::sync::Arc::new(config);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let config = config.clone();
                std::thread::spawn(move || {
                    use std::io::Read;
                    let timeout = Some(std::time::Duration::from_secs(5));
                    let _ = stream.set_read_timeout(timeout);
                    let _ = stream.set_write_timeout(timeout);
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    let mut buf = [0u8; 1024];
                    while matches!(tls.read(&mut buf), Ok(n) if n > 0) {}
                });
            }
        });
        addr
    }

    /// `openssl s_server` sending leaf + CA and stapling the hostile response.
    pub fn server(&self) -> ServerProcess {
        let chain = self.path("ca.pem").display().to_string();
        let staple = self.path("staple.der").display().to_string();
        openssl_s_server_with(
            &["-cert_chain", &chain, "-status_file", &staple],
            &self.path("leaf.pem"),
            &self.path("leaf.key"),
            None,
        )
    }
}
