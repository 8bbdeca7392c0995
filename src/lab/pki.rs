//! The lab's test PKI, generated fresh at every start: a trusted root and intermediate, one
//! leaf per certificate fault (also an issuer that is not a CA, an unknown critical extension,
//! a chain in reverse order and an interception product's root), a second private root nobody trusts, an RSA-2048 and an RSA-1024
//! key for the legacy endpoints, a SHA-1-signed chain and three stapled OCSP responses.
//!
//! ECDSA P-256 keys (instant with ring) are used wherever the fault does not depend on the key;
//! RSA keys come from the `rsa` crate because ring neither generates RSA keys nor signs with
//! SHA-1 or with keys under 2048 bits.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SerialNumber,
    SignatureAlgorithm, SigningKey,
};
use ring::rand::SecureRandom;
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPublicKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use super::ocsp::{self, CertStatus};

/// A certificate chain (leaf first) and its ECDSA key, for the rustls endpoints.
pub(crate) struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivatePkcs8KeyDer<'static>,
}

impl Identity {
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}

/// A certificate chain (leaf first) and its RSA key, for the legacy endpoints.
pub(crate) struct RsaIdentity {
    pub chain: Vec<Vec<u8>>,
    pub key: Arc<RsaPrivateKey>,
}

pub(crate) struct Pki {
    pub root_pem: String,
    pub root_der: CertificateDer<'static>,
    healthy: Identity,
    expired: Identity,
    not_yet_valid: Identity,
    wrong_host: Identity,
    self_signed: Identity,
    untrusted_root: Identity,
    missing_intermediate: Identity,
    sha1_chain: Identity,
    must_staple: Identity,
    issuer_not_ca: Identity,
    unknown_critical_extension: Identity,
    chain_reversed: Identity,
    interception_root: Identity,
    /// The leaf served by the three OCSP endpoints, with the staple each one sends.
    ocsp_leaf: Identity,
    ocsp_bad: Vec<u8>,
    ocsp_expired: Vec<u8>,
    ocsp_revoked: Vec<u8>,
    rsa2048: RsaIdentity,
    rsa1024: RsaIdentity,
    /// A client certificate (issued by the root) and its key, both PEM, for the
    /// client-certificate endpoints.
    pub client_chain_pem: String,
    pub client_key_pem: String,
}

/// The server certificates the PKI makes, as `data/lab/endpoints.toml` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum CertName {
    /// Valid for localhost/127.0.0.1, from the trusted intermediate.
    Healthy,
    Expired,
    NotYetValid,
    /// For wrong.lab.test.
    WrongHost,
    SelfSigned,
    /// A complete chain up to a private root nobody trusts.
    UntrustedRoot,
    /// The leaf alone, without its intermediate.
    MissingIntermediate,
    /// Leaf signed with SHA-1 by an RSA intermediate.
    Sha1Chain,
    /// Leaf with the TLS feature (must-staple) extension.
    MustStaple,
    /// The leaf the stapled OCSP responses are about.
    OcspLeaf,
    /// Leaf issued by an intermediate whose basicConstraints says CA:FALSE.
    IssuerNotCa,
    /// Leaf with a critical extension no client implements.
    UnknownCriticalExtension,
    /// The chain file in reverse order: the intermediate served first, with its own key.
    ChainReversed,
    /// Leaf issued directly by a root named like mitmproxy's, not sent.
    InterceptionRoot,
    /// RSA-2048 leaf, for the legacy server.
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    /// RSA-1024 leaf, for the legacy server.
    #[serde(rename = "rsa-1024")]
    Rsa1024,
}

impl CertName {
    /// RSA certificates are for the legacy server; the others have ECDSA keys, for rustls.
    pub fn is_rsa(self) -> bool {
        matches!(self, CertName::Rsa2048 | CertName::Rsa1024)
    }
}

/// The OCSP responses the PKI makes for the OCSP leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Staple {
    /// "good", but signed by a key that is not the issuer's.
    WrongSigner,
    /// "good", properly signed, nextUpdate three days ago.
    Expired,
    /// "revoked", properly signed and fresh.
    Revoked,
}

impl Pki {
    /// The ECDSA certificate and key named; `None` for the RSA ones.
    pub fn ecdsa(&self, name: CertName) -> Option<&Identity> {
        Some(match name {
            CertName::Healthy => &self.healthy,
            CertName::Expired => &self.expired,
            CertName::NotYetValid => &self.not_yet_valid,
            CertName::WrongHost => &self.wrong_host,
            CertName::SelfSigned => &self.self_signed,
            CertName::UntrustedRoot => &self.untrusted_root,
            CertName::MissingIntermediate => &self.missing_intermediate,
            CertName::Sha1Chain => &self.sha1_chain,
            CertName::MustStaple => &self.must_staple,
            CertName::OcspLeaf => &self.ocsp_leaf,
            CertName::IssuerNotCa => &self.issuer_not_ca,
            CertName::UnknownCriticalExtension => &self.unknown_critical_extension,
            CertName::ChainReversed => &self.chain_reversed,
            CertName::InterceptionRoot => &self.interception_root,
            CertName::Rsa2048 | CertName::Rsa1024 => return None,
        })
    }

    /// The RSA certificate and key named; `None` for the ECDSA ones.
    pub fn rsa(&self, name: CertName) -> Option<&RsaIdentity> {
        match name {
            CertName::Rsa2048 => Some(&self.rsa2048),
            CertName::Rsa1024 => Some(&self.rsa1024),
            _ => None,
        }
    }

    /// The DER OCSP response named.
    pub fn staple(&self, which: Staple) -> &[u8] {
        match which {
            Staple::WrongSigner => &self.ocsp_bad,
            Staple::Expired => &self.ocsp_expired,
            Staple::Revoked => &self.ocsp_revoked,
        }
    }
}

/// Any failure while making the PKI; the text says which step.
#[derive(Debug)]
pub(crate) struct PkiError(pub String);

impl<E: std::fmt::Display> From<(&'static str, E)> for PkiError {
    fn from((step, e): (&'static str, E)) -> Self {
        PkiError(format!("{step}: {e}"))
    }
}

const LEAF_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];
/// TLS feature extension (RFC 7633), "must-staple".
const TLS_FEATURE_OID: [u64; 9] = [1, 3, 6, 1, 5, 5, 7, 1, 24];

pub(crate) fn generate() -> Result<Pki, PkiError> {
    // RSA key generation is the slow part: run both sizes on their own threads while the
    // ECDSA part of the PKI is built on this one.
    let rsa2048 = std::thread::spawn(|| RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048));
    let rsa1024 = std::thread::spawn(|| RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024));

    let now = OffsetDateTime::now_utc();
    let valid = (now - Duration::days(1), now + Duration::days(90));

    let root_key = KeyPair::generate().map_err(|e| ("root key", e))?;
    let root_params = ca_params("tlsdoctor lab root CA", valid);
    let root_cert = root_params
        .self_signed(&root_key)
        .map_err(|e| ("root certificate", e))?;
    let root = Issuer::new(root_params, &root_key);

    let int_key = KeyPair::generate().map_err(|e| ("intermediate key", e))?;
    let int_params = ca_params("tlsdoctor lab intermediate CA", valid);
    let int_cert = int_params
        .signed_by(&int_key, &root)
        .map_err(|e| ("intermediate certificate", e))?;
    let int_der = int_cert.der().clone();
    let intermediate = Issuer::new(int_params, &int_key);

    let with_int = |leaf: CertificateDer<'static>| vec![leaf, int_der.clone()];

    let healthy = ecdsa_leaf(&LEAF_NAMES, valid, &intermediate, |_| {})?;
    let healthy = Identity {
        chain: with_int(healthy.0),
        key: healthy.1,
    };
    let expired = ecdsa_leaf(
        &LEAF_NAMES,
        (now - Duration::days(60), now - Duration::days(2)),
        &intermediate,
        |_| {},
    )?;
    let expired = Identity {
        chain: with_int(expired.0),
        key: expired.1,
    };
    let not_yet_valid = ecdsa_leaf(
        &LEAF_NAMES,
        (now + Duration::days(30), now + Duration::days(120)),
        &intermediate,
        |_| {},
    )?;
    let not_yet_valid = Identity {
        chain: with_int(not_yet_valid.0),
        key: not_yet_valid.1,
    };
    let wrong_host = ecdsa_leaf(&["wrong.lab.test"], valid, &intermediate, |_| {})?;
    let wrong_host = Identity {
        chain: with_int(wrong_host.0),
        key: wrong_host.1,
    };
    let missing = ecdsa_leaf(&LEAF_NAMES, valid, &intermediate, |_| {})?;
    let missing_intermediate = Identity {
        chain: vec![missing.0],
        key: missing.1,
    };
    let must = ecdsa_leaf(&LEAF_NAMES, valid, &intermediate, |p| {
        // TLSFeature ::= SEQUENCE OF INTEGER; status_request is 5.
        p.custom_extensions.push(CustomExtension::from_oid_content(
            &TLS_FEATURE_OID,
            vec![0x30, 0x03, 0x02, 0x01, 0x05],
        ));
    })?;
    let must_staple = Identity {
        chain: with_int(must.0),
        key: must.1,
    };

    // Certificate classes clients enforce (tests/integration/cert/classes.rs measures each
    // against the real clients): an issuer that is not a CA, an unknown critical extension,
    // a chain served in reverse order, and a leaf from an interception product's root.
    let not_ca_key = KeyPair::generate().map_err(|e| ("not-CA intermediate key", e))?;
    let mut not_ca_params = ca_params("tlsdoctor lab NOT-A-CA intermediate", valid);
    not_ca_params.is_ca = IsCa::ExplicitNoCa;
    let not_ca_cert = not_ca_params
        .signed_by(&not_ca_key, &root)
        .map_err(|e| ("not-CA intermediate certificate", e))?;
    let not_ca = Issuer::new(not_ca_params, &not_ca_key);
    let leaf = ecdsa_leaf(&LEAF_NAMES, valid, &not_ca, |_| {})?;
    let issuer_not_ca = Identity {
        chain: vec![leaf.0, not_ca_cert.der().clone()],
        key: leaf.1,
    };
    let leaf = ecdsa_leaf(&LEAF_NAMES, valid, &intermediate, |p| {
        // A private-arc OID with an empty value, marked critical.
        let mut ext =
            CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 1], vec![0x05, 0x00]);
        ext.set_criticality(true);
        p.custom_extensions.push(ext);
    })?;
    let unknown_critical_extension = Identity {
        chain: with_int(leaf.0),
        key: leaf.1,
    };
    // The reversed chain needs a CA whose keyUsage allows no TLS use (keyCertSign and cRLSign
    // only), as CAs have: the lab intermediate also has digitalSignature.
    let rev_key = KeyPair::generate().map_err(|e| ("reversed-chain CA key", e))?;
    let mut rev_params = ca_params("tlsdoctor lab issuing CA (served first)", valid);
    rev_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let rev_cert = rev_params
        .signed_by(&rev_key, &root)
        .map_err(|e| ("reversed-chain CA certificate", e))?;
    let rev_issuer = Issuer::new(rev_params, &rev_key);
    let rev_leaf = ecdsa_leaf(&LEAF_NAMES, valid, &rev_issuer, |_| {})?;
    let chain_reversed = Identity {
        chain: vec![rev_cert.der().clone(), rev_leaf.0],
        key: PrivatePkcs8KeyDer::from(rev_key.serialize_der()),
    };
    let mitm_key = KeyPair::generate().map_err(|e| ("interception root key", e))?;
    let mut mitm_params = ca_params("mitmproxy", valid);
    mitm_params.distinguished_name = DistinguishedName::new();
    mitm_params
        .distinguished_name
        .push(DnType::OrganizationName, "mitmproxy");
    mitm_params
        .distinguished_name
        .push(DnType::CommonName, "mitmproxy");
    let mitm = Issuer::new(mitm_params, &mitm_key);
    let leaf = ecdsa_leaf(&LEAF_NAMES, valid, &mitm, |_| {})?;
    let interception_root = Identity {
        chain: vec![leaf.0],
        key: leaf.1,
    };

    // A client certificate straight from the root (clients such as s_client send only the
    // first certificate of a -cert file), for clients that must get through client auth.
    let client_key = KeyPair::generate().map_err(|e| ("client key", e))?;
    let mut client_params = leaf_params(&["lab client"], valid, false)?;
    client_params.subject_alt_names.clear();
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params
        .signed_by(&client_key, &root)
        .map_err(|e| ("client certificate", e))?;
    let client_chain_pem = client_cert.pem();
    let client_key_pem = client_key.serialize_pem();

    // Self-signed leaf: a certificate that is its own issuer and no CA.
    let ss_key = KeyPair::generate().map_err(|e| ("self-signed key", e))?;
    let mut ss_params = leaf_params(&LEAF_NAMES, valid, false)?;
    ss_params.use_authority_key_identifier_extension = false;
    let ss_cert = ss_params
        .self_signed(&ss_key)
        .map_err(|e| ("self-signed certificate", e))?;
    let self_signed = Identity {
        chain: vec![ss_cert.der().clone()],
        key: PrivatePkcs8KeyDer::from(ss_key.serialize_der()),
    };

    // A private root that --write-ca never writes: the chain is complete, the root unknown.
    let private_key = KeyPair::generate().map_err(|e| ("private root key", e))?;
    let private_params = ca_params("tlsdoctor lab PRIVATE root (not trusted)", valid);
    let private_cert = private_params
        .self_signed(&private_key)
        .map_err(|e| ("private root certificate", e))?;
    let private_root = Issuer::new(private_params, &private_key);
    let untrusted = ecdsa_leaf(&LEAF_NAMES, valid, &private_root, |_| {})?;
    let untrusted_root = Identity {
        chain: vec![untrusted.0, private_cert.der().clone()],
        key: untrusted.1,
    };

    // OCSP: one leaf, three staples, all for its serial and issued "by" the intermediate.
    let ocsp_leaf = ecdsa_leaf(&LEAF_NAMES, valid, &intermediate, |_| {})?;
    let responder = ring_signer(&int_key)?;
    let stranger = ring_signer(&KeyPair::generate().map_err(|e| ("stranger key", e))?)?;
    let issuer = ocsp::IssuerInfo::from_cert(&int_der).map_err(|e| ("OCSP issuer", e))?;
    let serial = ocsp::serial_of(&ocsp_leaf.0).map_err(|e| ("OCSP serial", e))?;
    let fresh = (now - Duration::hours(1), now + Duration::days(3));
    let ocsp_bad = ocsp::response(&issuer, &serial, CertStatus::Good, fresh, now, &stranger)
        .map_err(|e| ("OCSP bad response", e))?;
    let ocsp_expired = ocsp::response(
        &issuer,
        &serial,
        CertStatus::Good,
        (now - Duration::days(10), now - Duration::days(3)),
        now - Duration::days(10),
        &responder,
    )
    .map_err(|e| ("OCSP expired response", e))?;
    let ocsp_revoked = ocsp::response(
        &issuer,
        &serial,
        CertStatus::Revoked(now - Duration::days(1)),
        fresh,
        now,
        &responder,
    )
    .map_err(|e| ("OCSP revoked response", e))?;
    let ocsp_leaf = Identity {
        chain: with_int(ocsp_leaf.0),
        key: ocsp_leaf.1,
    };

    let rsa2048 = Arc::new(
        rsa2048
            .join()
            .map_err(|_| PkiError("RSA-2048 key generation panicked".into()))?
            .map_err(|e| ("RSA-2048 key", e))?,
    );
    let rsa1024 = Arc::new(
        rsa1024
            .join()
            .map_err(|_| PkiError("RSA-1024 key generation panicked".into()))?
            .map_err(|e| ("RSA-1024 key", e))?,
    );

    // Legacy leaves: RSA keys, signed by the ordinary intermediate.
    let leaf2048 = rsa_leaf(&rsa2048, valid, &intermediate)?;
    let leaf1024 = rsa_leaf(&rsa1024, valid, &intermediate)?;

    // SHA-1 chain: root -(ECDSA/SHA-256)-> RSA intermediate -(RSA/SHA-1)-> ECDSA leaf.
    let sha1_signer = Sha1RsaSigner {
        public: rsa_public(&rsa2048)?,
        key: rsa2048.clone(),
    };
    let sha1_int_params = ca_params("tlsdoctor lab SHA-1 intermediate CA", valid);
    let sha1_int_cert = sha1_int_params
        .signed_by(&sha1_signer.public, &root)
        .map_err(|e| ("SHA-1 intermediate certificate", e))?;
    let sha1_issuer = Issuer::new(sha1_int_params, &sha1_signer);
    let sha1_leaf = ecdsa_leaf(&LEAF_NAMES, valid, &sha1_issuer, |_| {})?;
    let sha1_leaf_der = sha256_rsa_oid_to_sha1(sha1_leaf.0.as_ref());
    let sha1_chain = Identity {
        chain: vec![
            CertificateDer::from(sha1_leaf_der),
            sha1_int_cert.der().clone(),
        ],
        key: sha1_leaf.1,
    };

    Ok(Pki {
        root_pem: root_cert.pem(),
        root_der: root_cert.der().clone(),
        healthy,
        expired,
        not_yet_valid,
        wrong_host,
        self_signed,
        untrusted_root,
        missing_intermediate,
        sha1_chain,
        must_staple,
        issuer_not_ca,
        unknown_critical_extension,
        chain_reversed,
        interception_root,
        ocsp_leaf,
        ocsp_bad,
        ocsp_expired,
        ocsp_revoked,
        rsa2048: RsaIdentity {
            chain: vec![leaf2048, int_der.to_vec()],
            key: rsa2048,
        },
        rsa1024: RsaIdentity {
            chain: vec![leaf1024, int_der.to_vec()],
            key: rsa1024,
        },
        client_chain_pem,
        client_key_pem,
    })
}

fn ca_params(cn: &str, (nb, na): (OffsetDateTime, OffsetDateTime)) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name
        .push(DnType::OrganizationName, "tlsdoctor lab");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = nb;
    p.not_after = na;
    p.serial_number = Some(random_serial());
    p.use_authority_key_identifier_extension = true;
    p
}

fn leaf_params(
    names: &[&str],
    (nb, na): (OffsetDateTime, OffsetDateTime),
    rsa: bool,
) -> Result<CertificateParams, PkiError> {
    let sans: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut p = CertificateParams::new(sans).map_err(|e| ("leaf names", e))?;
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name
        .push(DnType::OrganizationName, "tlsdoctor lab");
    p.distinguished_name.push(DnType::CommonName, names[0]);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.key_usages = if rsa {
        vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ]
    } else {
        vec![KeyUsagePurpose::DigitalSignature]
    };
    p.not_before = nb;
    p.not_after = na;
    p.serial_number = Some(random_serial());
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}

fn ecdsa_leaf(
    names: &[&str],
    validity: (OffsetDateTime, OffsetDateTime),
    issuer: &Issuer<'_, impl SigningKey>,
    tweak: impl FnOnce(&mut CertificateParams),
) -> Result<(CertificateDer<'static>, PrivatePkcs8KeyDer<'static>), PkiError> {
    let key = KeyPair::generate().map_err(|e| ("leaf key", e))?;
    let mut params = leaf_params(names, validity, false)?;
    tweak(&mut params);
    let cert = params
        .signed_by(&key, issuer)
        .map_err(|e| ("leaf certificate", e))?;
    Ok((
        cert.der().clone(),
        PrivatePkcs8KeyDer::from(key.serialize_der()),
    ))
}

fn rsa_leaf(
    key: &RsaPrivateKey,
    validity: (OffsetDateTime, OffsetDateTime),
    issuer: &Issuer<'_, impl SigningKey>,
) -> Result<Vec<u8>, PkiError> {
    let params = leaf_params(&LEAF_NAMES, validity, true)?;
    let cert = params
        .signed_by(&rsa_public(key)?, issuer)
        .map_err(|e| ("RSA leaf certificate", e))?;
    Ok(cert.der().to_vec())
}

fn random_serial() -> SerialNumber {
    let mut b = [0u8; 16];
    // SystemRandom only fails if the OS has no randomness at all; a zero serial still works.
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    b[0] = (b[0] & 0x7f) | 0x01;
    SerialNumber::from_slice(&b)
}

fn ring_signer(key: &KeyPair) -> Result<ring::signature::EcdsaKeyPair, PkiError> {
    ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &key.serialize_der(),
        &ring::rand::SystemRandom::new(),
    )
    .map_err(|e| PkiError(format!("OCSP signing key: {e}")))
}

/// An RSA public key in the shape rcgen wants for the subject of a certificate it signs.
struct RsaPublic {
    pkcs1: Vec<u8>,
}

impl PublicKeyData for RsaPublic {
    fn der_bytes(&self) -> &[u8] {
        &self.pkcs1
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

fn rsa_public(key: &RsaPrivateKey) -> Result<RsaPublic, PkiError> {
    let der = key
        .to_public_key()
        .to_pkcs1_der()
        .map_err(|e| ("RSA public key encoding", e))?;
    Ok(RsaPublic {
        pkcs1: der.as_bytes().to_vec(),
    })
}

/// Signs with RSA PKCS#1 v1.5 over SHA-1. rcgen has no SHA-1 algorithm, so it is told the
/// algorithm is sha256WithRSAEncryption (same OID length) and the OID is rewritten to
/// sha1WithRSAEncryption in the to-be-signed bytes here and in the finished certificate by
/// [`sha256_rsa_oid_to_sha1`]; the lengths do not change, so the DER stays valid.
struct Sha1RsaSigner {
    public: RsaPublic,
    key: Arc<RsaPrivateKey>,
}

impl PublicKeyData for Sha1RsaSigner {
    fn der_bytes(&self) -> &[u8] {
        self.public.der_bytes()
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

impl SigningKey for Sha1RsaSigner {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let tbs = sha256_rsa_oid_to_sha1(msg);
        sign_pkcs1(&self.key, HashAlg::Sha1, &tbs).map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

const SHA256_WITH_RSA_OID: [u8; 11] = [
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
];

/// Rewrites every sha256WithRSAEncryption OID (…1.1.11) into sha1WithRSAEncryption (…1.1.5).
pub(crate) fn sha256_rsa_oid_to_sha1(der: &[u8]) -> Vec<u8> {
    let mut out = der.to_vec();
    let n = SHA256_WITH_RSA_OID.len();
    let mut i = 0;
    while i + n <= out.len() {
        if out[i..i + n] == SHA256_WITH_RSA_OID {
            out[i + n - 1] = 0x05;
            i += n;
        } else {
            i += 1;
        }
    }
    out
}

/// Hashes the lab signs with RSA PKCS#1 v1.5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha1,
    Sha256,
    /// TLS 1.0/1.1 ServerKeyExchange: MD5 ‖ SHA-1, no DigestInfo.
    Md5Sha1,
}

/// RSASSA-PKCS1-v1_5 signature of `msg`, with the DigestInfo prefix assembled here so the
/// hash can come from ring (and MD5 from md-5) rather than from a second digest stack.
pub(crate) fn sign_pkcs1(key: &RsaPrivateKey, alg: HashAlg, msg: &[u8]) -> rsa::Result<Vec<u8>> {
    use ring::digest;
    // DigestInfo prefixes from RFC 8017 section 9.2, note 1.
    const SHA1_PREFIX: [u8; 15] = [
        0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
    ];
    const SHA256_PREFIX: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    let to_sign = match alg {
        HashAlg::Sha1 => [
            &SHA1_PREFIX[..],
            digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, msg).as_ref(),
        ]
        .concat(),
        HashAlg::Sha256 => [
            &SHA256_PREFIX[..],
            digest::digest(&digest::SHA256, msg).as_ref(),
        ]
        .concat(),
        HashAlg::Md5Sha1 => {
            use md5::Digest;
            [
                md5::Md5::digest(msg).as_slice(),
                digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, msg).as_ref(),
            ]
            .concat()
        }
    };
    key.sign(rsa::Pkcs1v15Sign::new_unprefixed(), &to_sign)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_rewrite_touches_only_the_sha256_rsa_oid() {
        let mut der = vec![0x30, 0x10];
        der.extend_from_slice(&SHA256_WITH_RSA_OID);
        der.extend_from_slice(&[0x05, 0x00]);
        der.extend_from_slice(&SHA256_WITH_RSA_OID[..10]);
        let out = sha256_rsa_oid_to_sha1(&der);
        assert_eq!(out[12], 0x05);
        assert_eq!(out.len(), der.len());
        assert_eq!(&out[15..], &SHA256_WITH_RSA_OID[..10]);
    }
}
