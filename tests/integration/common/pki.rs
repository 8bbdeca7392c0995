//! A test PKI made fresh for each test run: a root, an intermediate and leaves that are valid,
//! expired, not yet valid, for the wrong host, self-signed, RSA-1024, SHA-1 signed, for client
//! use only, and under a second root that clients are not given.
//!
//! rcgen makes the EC certificates (it allows arbitrary validity dates); the openssl CLI
//! (`common::openssl_certs`, which the OCSP PKI uses too) makes the RSA-2048, RSA-1024 and
//! SHA-1 leaves, because ring can neither generate RSA keys nor sign with SHA-1.

use std::path::PathBuf;

use super::openssl_certs::Issued;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType,
};
use time::{Duration, OffsetDateTime};

/// URL put in every leaf's AIA caIssuers (a loopback discard port: never fetched).
pub const AIA_URL: &str = "http://127.0.0.1:9/tlsdoctor-test-intermediate.der";

pub struct Pki {
    pub dir: tempfile::TempDir,
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        out.push(0x81);
        out.push(n as u8);
    }
    out.extend_from_slice(content);
    out
}

/// AuthorityInfoAccess with one caIssuers URI.
fn aia_extension(url: &str) -> CustomExtension {
    let oid = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    let desc = tlv(0x30, &[tlv(0x06, &oid), tlv(0x86, url.as_bytes())].concat());
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], tlv(0x30, &desc))
}

fn ca_params(cn: &str, pathlen: Option<u8>) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name
        .push(DnType::OrganizationName, "tlsdoctor tests");
    p.is_ca = IsCa::Ca(match pathlen {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = OffsetDateTime::now_utc() - Duration::days(30);
    p.not_after = OffsetDateTime::now_utc() + Duration::days(3650);
    p.use_authority_key_identifier_extension = true;
    p
}

fn leaf_params(cn: &str, names: &[&str]) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    for n in names {
        p.subject_alt_names
            .push(match n.parse::<std::net::IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*n).try_into().unwrap()),
            });
    }
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.not_before = OffsetDateTime::now_utc() - Duration::days(1);
    p.not_after = OffsetDateTime::now_utc() + Duration::days(90);
    p.use_authority_key_identifier_extension = true;
    p.custom_extensions.push(aia_extension(AIA_URL));
    p
}

impl Pki {
    /// A leaf for localhost under the test intermediate whose AIA caIssuers URL is `url`
    /// (written as `{name}.pem` / `{name}.key`), for tests that serve the intermediate.
    pub fn leaf_with_aia(&self, name: &str, url: &str) {
        let int_key =
            KeyPair::from_pem(&std::fs::read_to_string(self.path("int.key")).unwrap()).unwrap();
        // Same name and key as the intermediate `build` made, so the leaf chains to it.
        let int = Issuer::new(ca_params("tlsdoctor Test Intermediate", Some(0)), int_key);
        let mut params = leaf_params("aia.test", &["localhost", "127.0.0.1"]);
        params
            .custom_extensions
            .retain(|e| e.oid_components().collect::<Vec<_>>() != [1, 3, 6, 1, 5, 5, 7, 1, 1]);
        params.custom_extensions.push(aia_extension(url));
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &int).unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(self.path(&format!("{name}.key")), key.serialize_pem()).unwrap();
    }

    /// An RSA-2048 leaf for localhost under the test intermediate, as rsa.pem/rsa.key: the
    /// other leaves are ECDSA, which cannot serve RSA key-exchange or DHE-RSA suites.
    pub fn rsa_leaf(&self) {
        let d = self.dir.path();
        std::fs::write(
            d.join("rsa-ext.cnf"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .unwrap();
        Issued {
            name: "rsa",
            cert: "rsa.pem",
            key_spec: "rsa:2048",
            subject: "/CN=localhost",
            ca_cert: "int.pem",
            ca_key: "int.key",
            serial: None,
            days: 30,
            digest: Some("sha256"),
            extfile: "rsa-ext.cnf",
        }
        .make(d);
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Concatenate PEM files (in this PKI's dir) into `out`.
    pub fn bundle(&self, out: &str, parts: &[&str]) -> PathBuf {
        let mut s = String::new();
        for p in parts {
            s.push_str(&std::fs::read_to_string(self.path(p)).unwrap());
        }
        std::fs::write(self.path(out), s).unwrap();
        self.path(out)
    }

    /// DER of a PEM certificate file in the dir.
    pub fn der(&self, name: &str) -> Vec<u8> {
        let pem = std::fs::read(self.path(name)).unwrap();
        let (_, p) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        p.contents
    }

    /// Build every file:
    /// root.pem, int.pem (pathlen 0, issued by root), other-root.pem, other-int.pem,
    /// and for each leaf NAME.pem + NAME.key: good, expired, notyet, wronghost, selfsigned,
    /// clientonly, untrusted (under other-int), weak (RSA-1024), sha1 (ecdsa-with-SHA1),
    /// nc-int.pem (name constraints: permitted example.com) + ncleaf, deep-int.pem (under int,
    /// violating int's pathlen 0) + deepleaf.
    pub fn build() -> Pki {
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
        };
        let write = |name: &str, body: String| std::fs::write(pki.path(name), body).unwrap();

        let root_key = KeyPair::generate().unwrap();
        let root_params = ca_params("tlsdoctor Test Root", None);
        let root_cert = root_params.self_signed(&root_key).unwrap();
        write("root.pem", root_cert.pem());
        let root = Issuer::new(root_params, root_key);

        let int_key = KeyPair::generate().unwrap();
        let int_params = ca_params("tlsdoctor Test Intermediate", Some(0));
        let int_cert = int_params.signed_by(&int_key, &root).unwrap();
        write("int.pem", int_cert.pem());
        write("int.key", int_key.serialize_pem());
        let int = Issuer::new(int_params, int_key);

        let other_root_key = KeyPair::generate().unwrap();
        let other_root_params = ca_params("tlsdoctor Private Corporate Root", None);
        write(
            "other-root.pem",
            other_root_params
                .self_signed(&other_root_key)
                .unwrap()
                .pem(),
        );
        let other_root = Issuer::new(other_root_params, other_root_key);
        let other_int_key = KeyPair::generate().unwrap();
        let other_int_params = ca_params("tlsdoctor Private Corporate Intermediate", Some(0));
        write(
            "other-int.pem",
            other_int_params
                .signed_by(&other_int_key, &other_root)
                .unwrap()
                .pem(),
        );
        let other_int = Issuer::new(other_int_params, other_int_key);

        let names = ["localhost", "127.0.0.1"];
        let now = OffsetDateTime::now_utc();
        let leaf = |file: &str, params: CertificateParams, issuer: Option<&Issuer<'_, KeyPair>>| {
            let key = KeyPair::generate().unwrap();
            let cert = match issuer {
                Some(i) => params.signed_by(&key, i).unwrap(),
                None => params.self_signed(&key).unwrap(),
            };
            write(&format!("{file}.pem"), cert.pem());
            write(&format!("{file}.key"), key.serialize_pem());
        };
        leaf("good", leaf_params("good.test", &names), Some(&int));
        let mut p = leaf_params("expired.test", &names);
        p.not_before = now - Duration::days(100);
        p.not_after = now - Duration::days(10);
        leaf("expired", p, Some(&int));
        let mut p = leaf_params("notyet.test", &names);
        p.not_before = now + Duration::days(10);
        p.not_after = now + Duration::days(100);
        leaf("notyet", p, Some(&int));
        leaf(
            "wronghost",
            leaf_params("other.example", &["other.example", "*.other.example"]),
            Some(&int),
        );
        let mut p = leaf_params("localhost", &names);
        p.custom_extensions.clear();
        p.use_authority_key_identifier_extension = false;
        leaf("selfsigned", p, None);
        let mut p = leaf_params("clientonly.test", &names);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        leaf("clientonly", p, Some(&int));
        leaf(
            "untrusted",
            leaf_params("untrusted.test", &names),
            Some(&other_int),
        );
        let mut p = leaf_params("soon.test", &names);
        p.not_after = now + Duration::days(5);
        leaf("soon", p, Some(&int));

        // Name constraints: an intermediate (pathlen 0, issued by root) limited to example.com.
        let nc_key = KeyPair::generate().unwrap();
        let mut nc_params = ca_params("tlsdoctor Constrained Intermediate", Some(0));
        nc_params.name_constraints = Some(NameConstraints {
            permitted_subtrees: vec![GeneralSubtree::DnsName("example.com".to_string())],
            excluded_subtrees: Vec::new(),
        });
        write(
            "nc-int.pem",
            nc_params.signed_by(&nc_key, &root).unwrap().pem(),
        );
        let nc = Issuer::new(nc_params, nc_key);
        leaf(
            "ncleaf",
            leaf_params("localhost", &["localhost"]),
            Some(&nc),
        );

        // Path length: a second intermediate under int (which has pathlen 0).
        let deep_key = KeyPair::generate().unwrap();
        let deep_params = ca_params("tlsdoctor Too Deep Intermediate", Some(0));
        write(
            "deep-int.pem",
            deep_params.signed_by(&deep_key, &int).unwrap().pem(),
        );
        let deep = Issuer::new(deep_params, deep_key);
        leaf("deepleaf", leaf_params("deep.test", &names), Some(&deep));

        // RSA-1024 and SHA-1 leaves with the openssl CLI, signed by the intermediate's key.
        let d = pki.dir.path();
        std::fs::write(
            d.join("leaf.ext"),
            format!(
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
                 extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n\
                 authorityKeyIdentifier=keyid\nauthorityInfoAccess=caIssuers;URI:{AIA_URL}\n"
            ),
        )
        .unwrap();
        for (name, key_spec, digest) in
            [("weak", "rsa:1024", "sha256"), ("sha1", "ec:P-256", "sha1")]
        {
            Issued {
                name,
                cert: &format!("{name}.pem"),
                key_spec,
                subject: &format!("/CN={name}.test"),
                ca_cert: "int.pem",
                ca_key: "int.key",
                serial: Some("4242"),
                days: 30,
                digest: Some(digest),
                extfile: "leaf.ext",
            }
            .make(d);
        }
        pki
    }
}
