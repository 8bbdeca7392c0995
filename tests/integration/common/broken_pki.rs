//! Certificates for the classes of broken chains real servers serve, made fresh with the
//! openssl CLI (rcgen cannot make RSA keys, MD5 signatures or arbitrary critical extensions):
//! issuers that are not CAs or may not sign certificates, an unknown critical extension, an
//! RSA leaf whose keyUsage cannot sign, a CN-only leaf, a wildcard for the apex, a re-keyed
//! intermediate, a chain file in reverse order, MD5, SHA-1 and RSA-512/1024/2048 leaves, a cross-signed chain whose
//! old root has expired, an interception product's root and an unknown private root.
//!
//! Every leaf is for `localhost` (and `example.test` where a case needs a DNS name with a
//! dot), served with its issuer as `NAME-chain.pem` (leaf first) and `NAME.key`.

use std::path::PathBuf;

use super::openssl_certs::{Issued, SelfSigned, openssl};
use super::servers::{ServerProcess, openssl_s_server_with};

pub struct BrokenPki {
    pub dir: tempfile::TempDir,
}

const CA_EXT: &str = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
                      subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";
const LEAF_EXT: &str = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
                        extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,DNS:example.test\n\
                        authorityKeyIdentifier=keyid\n";

impl BrokenPki {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The trust anchor every case but the expired-root one is checked against.
    pub fn root(&self) -> PathBuf {
        self.path("root.pem")
    }

    /// An s_server serving case `name` (leaf, then its issuers) over TLS 1.2 at security
    /// level 0 with an RSA+SHA256 signature, so that only the client can refuse the key or
    /// digest. `tag` keeps the split files of different tests apart.
    pub fn serve_to_judge_the_client(&self, name: &str, tag: &str) -> ServerProcess {
        let pem = std::fs::read_to_string(self.path(&format!("{name}-chain.pem"))).unwrap();
        let end = "-----END CERTIFICATE-----\n";
        let cut = pem.find(end).unwrap() + end.len();
        let (leaf, rest) = pem.split_at(cut);
        let leaf_file = self.path(&format!("{name}-{tag}-leaf.pem"));
        let rest_file = self.path(&format!("{name}-{tag}-rest.pem"));
        std::fs::write(&leaf_file, leaf).unwrap();
        std::fs::write(&rest_file, rest).unwrap();
        let rest_s = rest_file.display().to_string();
        openssl_s_server_with(
            &[
                "-www",
                "-no_tls1_3",
                "-sigalgs",
                "RSA+SHA256",
                "-cipher",
                "DEFAULT:@SECLEVEL=0",
                "-cert_chain",
                &rest_s,
            ],
            &leaf_file,
            &self.path(&format!("{name}.key")),
            None,
        )
    }

    fn write(&self, name: &str, body: &str) {
        std::fs::write(self.path(name), body).unwrap();
    }

    fn bundle(&self, out: &str, parts: &[&str]) {
        let mut s = String::new();
        for p in parts {
            s.push_str(&std::fs::read_to_string(self.path(p)).unwrap());
        }
        self.write(out, &s);
    }

    /// `NAME.pem`/`NAME.key` issued by `ca` with extensions `ext`.
    fn issue(&self, name: &str, key_spec: &str, subject: &str, ca: &str, ext: &str, digest: &str) {
        let extfile = format!("{name}.ext");
        self.write(&extfile, ext);
        Issued {
            name,
            cert: &format!("{name}.pem"),
            key_spec,
            subject,
            ca_cert: &format!("{ca}.pem"),
            ca_key: &format!("{ca}.key"),
            serial: None,
            days: 90,
            digest: Some(digest),
            extfile: &extfile,
        }
        .make(self.dir.path());
    }

    /// `NAME.pem`/`NAME.key` for localhost issued by `ca`, valid from 100 to 10 days ago
    /// (signed with the clock shifted by faketime).
    fn issue_expired(&self, name: &str, key_spec: &str, ca: &str) {
        let d = self.dir.path();
        let mut req: Vec<String> = vec!["req".into(), "-new".into()];
        match key_spec.split_once(':') {
            Some(("ec", curve)) => req.extend(
                [
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    &format!("ec_paramgen_curve:{curve}"),
                ]
                .map(String::from),
            ),
            _ => req.extend(["-newkey".to_string(), key_spec.to_string()]),
        }
        req.extend(
            [
                "-nodes",
                "-subj",
                &format!("/CN={name}.test"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ]
            .map(String::from),
        );
        openssl(d, &req.iter().map(String::as_str).collect::<Vec<_>>());
        self.write(&format!("{name}.ext"), LEAF_EXT);
        let (ca_cert, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
        let (csr, ext, out) = (
            format!("{name}.csr"),
            format!("{name}.ext"),
            format!("{name}.pem"),
        );
        super::openssl_certs::run(
            std::process::Command::new("faketime")
                .current_dir(d)
                .args([
                    "-f", "-100d", "openssl", "x509", "-req", "-in", &csr, "-CA", &ca_cert,
                ])
                .args([
                    "-CAkey",
                    &ca_key,
                    "-CAcreateserial",
                    "-days",
                    "90",
                    "-extfile",
                    &ext,
                    "-out",
                    &out,
                ]),
            "faketime openssl x509 (expired leaf)",
        );
    }

    fn self_signed_ca(&self, name: &str, subject: &str, shift: Option<&str>, days: u32) {
        SelfSigned {
            cert: &format!("{name}.pem"),
            key: &format!("{name}.key"),
            key_spec: "ec:P-256",
            subject,
            days,
            extensions: &[
                "basicConstraints=critical,CA:TRUE",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
            clock_shift: shift,
        }
        .make(self.dir.path());
    }

    pub fn build() -> BrokenPki {
        let pki = BrokenPki {
            dir: tempfile::tempdir().unwrap(),
        };
        let ec = "ec:P-256";
        pki.self_signed_ca("root", "/CN=tlsdoctor Classes Root", None, 3650);
        pki.issue(
            "int",
            ec,
            "/CN=tlsdoctor Classes Intermediate",
            "root",
            CA_EXT,
            "sha256",
        );
        pki.issue(
            "intrsa",
            "rsa:2048",
            "/CN=tlsdoctor Classes RSA Intermediate",
            "root",
            CA_EXT,
            "sha256",
        );
        pki.issue("good", ec, "/CN=good.test", "int", LEAF_EXT, "sha256");

        // Issuers that may not issue.
        let no_ca = CA_EXT.replace("critical,CA:TRUE", "critical,CA:FALSE");
        pki.issue(
            "intnoca",
            ec,
            "/CN=tlsdoctor Not-CA Intermediate",
            "root",
            &no_ca,
            "sha256",
        );
        let no_bc = CA_EXT.replace("basicConstraints=critical,CA:TRUE\n", "");
        pki.issue(
            "intnobc",
            ec,
            "/CN=tlsdoctor No-basicConstraints Intermediate",
            "root",
            &no_bc,
            "sha256",
        );
        let no_kcs = CA_EXT.replace("keyCertSign,cRLSign", "cRLSign,digitalSignature");
        pki.issue(
            "intnokcs",
            ec,
            "/CN=tlsdoctor No-keyCertSign Intermediate",
            "root",
            &no_kcs,
            "sha256",
        );
        for (leaf, ca) in [
            ("noca", "intnoca"),
            ("nobc", "intnobc"),
            ("nokcs", "intnokcs"),
        ] {
            pki.issue(
                leaf,
                ec,
                &format!("/CN={leaf}.test"),
                ca,
                LEAF_EXT,
                "sha256",
            );
            pki.bundle(
                &format!("{leaf}-chain.pem"),
                &[&format!("{leaf}.pem"), &format!("{ca}.pem")],
            );
        }

        // Leaves with extensions clients enforce.
        let crit = format!("{LEAF_EXT}1.3.6.1.4.1.55555.1=critical,DER:05:00\n");
        pki.issue("crit", ec, "/CN=crit.test", "int", &crit, "sha256");
        let no_ds = LEAF_EXT.replace("digitalSignature,keyEncipherment", "keyEncipherment");
        pki.issue(
            "rsanods",
            "rsa:2048",
            "/CN=rsanods.test",
            "int",
            &no_ds,
            "sha256",
        );
        let cn_only = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                       extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\n";
        pki.issue("cnonly", ec, "/CN=localhost", "int", cn_only, "sha256");
        let wild = LEAF_EXT.replace("DNS:localhost,DNS:example.test", "DNS:*.example.test");
        pki.issue("wild", ec, "/CN=*.example.test", "int", &wild, "sha256");
        pki.issue(
            "rsa512",
            "rsa:512",
            "/CN=rsa512.test",
            "int",
            LEAF_EXT,
            "sha256",
        );
        pki.issue("md5", "rsa:2048", "/CN=md5.test", "intrsa", LEAF_EXT, "md5");
        // A weak CA key: an RSA-512 intermediate issuing an ECDSA leaf.
        pki.issue(
            "int512",
            "rsa:512",
            "/CN=tlsdoctor RSA-512 Intermediate",
            "root",
            CA_EXT,
            "sha256",
        );
        pki.issue(
            "under512",
            ec,
            "/CN=under512.test",
            "int512",
            LEAF_EXT,
            "sha256",
        );
        pki.bundle("under512-chain.pem", &["under512.pem", "int512.pem"]);
        pki.issue(
            "sha1",
            "rsa:2048",
            "/CN=sha1.test",
            "intrsa",
            LEAF_EXT,
            "sha1",
        );
        pki.issue(
            "rsa1024",
            "rsa:1024",
            "/CN=rsa1024.test",
            "int",
            LEAF_EXT,
            "sha256",
        );
        pki.issue(
            "rsa2048",
            "rsa:2048",
            "/CN=rsa2048.test",
            "int",
            LEAF_EXT,
            "sha256",
        );
        for (leaf, ca) in [
            ("crit", "int"),
            ("rsanods", "int"),
            ("cnonly", "int"),
            ("wild", "int"),
            ("rsa512", "int"),
            ("md5", "intrsa"),
            ("sha1", "intrsa"),
            ("rsa1024", "int"),
            ("rsa2048", "int"),
        ] {
            pki.bundle(
                &format!("{leaf}-chain.pem"),
                &[&format!("{leaf}.pem"), &format!("{ca}.pem")],
            );
        }

        // Expired leaves of both key types, for a server with two certificates.
        for (name, spec) in [("expiredec", ec), ("expiredrsa", "rsa:2048")] {
            pki.issue_expired(name, spec, "int");
            pki.bundle(
                &format!("{name}-chain.pem"),
                &[&format!("{name}.pem"), "int.pem"],
            );
        }
        pki.bundle("good-chain.pem", &["good.pem", "int.pem"]);

        // Re-keyed intermediate: same name as int, another key; the server sends the old one.
        pki.issue(
            "int2",
            ec,
            "/CN=tlsdoctor Classes Intermediate",
            "root",
            CA_EXT,
            "sha256",
        );
        pki.issue(
            "rekeyed",
            ec,
            "/CN=rekeyed.test",
            "int2",
            LEAF_EXT,
            "sha256",
        );
        pki.bundle("rekeyed-chain.pem", &["rekeyed.pem", "int.pem"]);

        // A chain file in reverse order, served with the intermediate's key.
        pki.bundle("reversed-chain.pem", &["int.pem", "good.pem"]);

        // Cross-signed chain: the old root expired; the client's store holds only it.
        pki.self_signed_ca("oldroot", "/CN=tlsdoctor Old Root", Some("-400d"), 300);
        pki.issue(
            "cross",
            ec,
            "/CN=tlsdoctor New Root",
            "oldroot",
            CA_EXT,
            "sha256",
        );
        pki.write("newroot.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n");
        openssl(
            pki.dir.path(),
            &[
                "x509",
                "-req",
                "-in",
                "cross.csr",
                "-signkey",
                "cross.key",
                "-days",
                "3650",
                "-extfile",
                "newroot.ext",
                "-out",
                "newroot.pem",
            ],
        );
        std::fs::copy(pki.path("cross.key"), pki.path("newroot.key")).unwrap();
        pki.issue(
            "xint",
            ec,
            "/CN=tlsdoctor Cross Intermediate",
            "newroot",
            CA_EXT,
            "sha256",
        );
        pki.issue("xleaf", ec, "/CN=xleaf.test", "xint", LEAF_EXT, "sha256");
        pki.bundle("xleaf-chain.pem", &["xleaf.pem", "xint.pem", "cross.pem"]);

        // Roots no store holds, issuing the leaf directly, not sent: an interception
        // product's (by its name) and an unknown private one. Neither leaf has AIA.
        SelfSigned {
            cert: "mitm-root.pem",
            key: "mitm-root.key",
            key_spec: ec,
            subject: "/O=mitmproxy/CN=mitmproxy",
            days: 3650,
            extensions: &[
                "basicConstraints=critical,CA:TRUE",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
            clock_shift: None,
        }
        .make(pki.dir.path());
        pki.issue("mitm", ec, "/CN=localhost", "mitm-root", LEAF_EXT, "sha256");
        pki.self_signed_ca("private-root", "/CN=Acme Private Root", None, 3650);
        pki.issue(
            "private",
            ec,
            "/CN=private.test",
            "private-root",
            LEAF_EXT,
            "sha256",
        );
        pki.bundle("mitm-chain.pem", &["mitm.pem"]);
        pki.bundle("private-chain.pem", &["private.pem"]);
        pki
    }
}
