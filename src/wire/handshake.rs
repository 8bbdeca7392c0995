//! Server handshake messages of TLS <= 1.2 (and the cleartext ServerHello / HelloRetryRequest of
//! TLS 1.3), the handshake-message framing, and reassembly of handshake messages from record
//! payloads.

use super::WireError;
use super::codec::{Codec, ListElement, ListLength, Opaque8, Opaque16, Opaque24, Reader};
use super::extension::{HelloRetryExtension, ServerExtension, typ as ext};
use super::groups::NamedGroup;
use super::sigalgs::SignatureScheme;
use super::suites::CipherSuiteId;
use super::version::ProtocolVersion;
use serde::{Deserialize, Serialize};

macro_rules! handshake_types {
    ($( $variant:ident = $code:literal, $name:literal; )*) => {
        /// Handshake message types (IANA "TLS HandshakeType"); `Unknown` keeps any other value.
        /// Serialised as the wire code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "u8", into = "u8")]
        pub enum HandshakeType { $( $variant, )* Unknown(u8) }

        impl From<u8> for HandshakeType {
            fn from(v: u8) -> Self {
                HandshakeType::from_u8(v)
            }
        }

        impl From<HandshakeType> for u8 {
            fn from(t: HandshakeType) -> u8 {
                t.to_u8()
            }
        }

        impl HandshakeType {
            pub fn from_u8(v: u8) -> Self {
                match v { $( $code => HandshakeType::$variant, )* o => HandshakeType::Unknown(o) }
            }
            pub fn to_u8(self) -> u8 {
                match self { $( HandshakeType::$variant => $code, )* HandshakeType::Unknown(o) => o }
            }
            /// The message's name as the RFCs write it, e.g. `ServerHello`.
            pub fn name(self) -> &'static str {
                match self { $( HandshakeType::$variant => $name, )* HandshakeType::Unknown(_) => "unknown handshake message" }
            }
        }
    };
}

handshake_types! {
    HelloRequest = 0, "HelloRequest";
    ClientHello = 1, "ClientHello";
    ServerHello = 2, "ServerHello";
    NewSessionTicket = 4, "NewSessionTicket";
    EndOfEarlyData = 5, "EndOfEarlyData";
    EncryptedExtensions = 8, "EncryptedExtensions";
    Certificate = 11, "Certificate";
    ServerKeyExchange = 12, "ServerKeyExchange";
    CertificateRequest = 13, "CertificateRequest";
    ServerHelloDone = 14, "ServerHelloDone";
    CertificateVerify = 15, "CertificateVerify";
    ClientKeyExchange = 16, "ClientKeyExchange";
    Finished = 20, "Finished";
    CertificateStatus = 22, "CertificateStatus";
    KeyUpdate = 24, "KeyUpdate";
    MessageHash = 254, "message_hash";
}

impl Codec for HandshakeType {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.to_u8());
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(HandshakeType::from_u8(r.u8()?))
    }
}

/// Ceiling on one reassembled handshake message. Real certificate chains stay well below;
/// anything larger is refused instead of buffered.
pub const MAX_HANDSHAKE_MESSAGE: usize = 256 * 1024;

/// RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest.
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The body of one handshake message type.
pub trait HandshakePayload: Codec {
    const TYPE: HandshakeType;
}

/// One handshake message: its type, then its body behind a three-byte length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeMessage {
    pub typ: HandshakeType,
    pub body: Vec<u8>,
}

impl HandshakeMessage {
    /// Frame `payload` as a message of its type.
    pub fn of<P: HandshakePayload>(payload: &P) -> Self {
        HandshakeMessage {
            typ: P::TYPE,
            body: payload.to_bytes(),
        }
    }

    /// Decode the body as `P`. The whole body must be used; the error names the message.
    pub fn read<P: HandshakePayload>(&self) -> Result<P, WireError> {
        if self.typ != P::TYPE {
            return Err(WireError::Malformed(format!(
                "handshake type {} is not {}",
                self.typ.to_u8(),
                P::TYPE.name()
            )));
        }
        let mut r = Reader::new(&self.body);
        let p = P::decode(&mut r)?;
        r.expect_end(P::TYPE.name())?;
        Ok(p)
    }
}

impl Codec for HandshakeMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        self.typ.encode(out);
        Opaque24::write(&self.body, out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let typ = HandshakeType::decode(r)?;
        let body = Opaque24::read(r)?;
        if body.len() > MAX_HANDSHAKE_MESSAGE {
            return Err(WireError::TooLarge("handshake message"));
        }
        Ok(HandshakeMessage {
            typ,
            body: body.to_vec(),
        })
    }
}

/// Reassembles handshake messages that may be split across records or packed several to a
/// record. Bounded by [`MAX_HANDSHAKE_MESSAGE`].
#[derive(Debug, Default, Clone)]
pub struct HandshakeJoiner {
    buf: Vec<u8>,
}

impl HandshakeJoiner {
    pub fn new() -> Self {
        Self::default()
    }

    /// True while a message is partially received.
    pub fn is_partial(&self) -> bool {
        !self.buf.is_empty()
    }

    pub fn push(&mut self, payload: &[u8]) -> Result<(), WireError> {
        if self.buf.len() + payload.len() > MAX_HANDSHAKE_MESSAGE + 4 + super::record::MAX_PAYLOAD {
            return Err(WireError::TooLarge("handshake message"));
        }
        self.buf.extend_from_slice(payload);
        Ok(())
    }

    /// The next complete message. An oversized length is refused as soon as the header is in.
    pub fn pop(&mut self) -> Result<Option<HandshakeMessage>, WireError> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([0, self.buf[1], self.buf[2], self.buf[3]]) as usize;
        if len > MAX_HANDSHAKE_MESSAGE {
            return Err(WireError::TooLarge("handshake message"));
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let m = HandshakeMessage::decode(&mut Reader::new(&self.buf[..4 + len]))?;
        self.buf.drain(..4 + len);
        Ok(Some(m))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerHello {
    pub legacy_version: u16,
    #[serde(with = "crate::serde_hex")]
    pub random: [u8; 32],
    #[serde(with = "crate::serde_hex")]
    pub session_id: Vec<u8>,
    pub cipher_suite: CipherSuiteId,
    pub compression: u8,
    pub extensions: Vec<ServerExtension>,
    /// The RFC 8446 HelloRetryRequest magic random was present.
    pub is_hello_retry_request: bool,
}

/// The body after the handshake header. The extensions block is omitted when there are none
/// (and may be absent on decode, as from SSLv3 servers); a HelloRetryRequest's extensions are
/// read in their own form ([`HelloRetryExtension`]).
impl Codec for ServerHello {
    fn encode(&self, out: &mut Vec<u8>) {
        self.legacy_version.encode(out);
        self.random.encode(out);
        Opaque8::write(&self.session_id, out);
        self.cipher_suite.encode(out);
        self.compression.encode(out);
        if !self.extensions.is_empty() {
            self.extensions.encode(out);
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let legacy_version = r.u16()?;
        let random = <[u8; 32]>::decode(r)?;
        let session_id = Opaque8::read(r)?.to_vec();
        if session_id.len() > 32 {
            return Err(WireError::Malformed(format!(
                "ServerHello: session id of {} bytes (max 32)",
                session_id.len()
            )));
        }
        let cipher_suite = CipherSuiteId::decode(r)?;
        let compression = r.u8()?;
        let is_hrr = random == HRR_RANDOM;
        let mut extensions: Vec<ServerExtension> = Vec::new();
        if !r.is_empty() {
            extensions = if is_hrr {
                let list = Vec::<HelloRetryExtension>::decode(r)?;
                list.into_iter().map(|e| e.0).collect()
            } else {
                Vec::<ServerExtension>::decode(r)?
            };
            for (i, e) in extensions.iter().enumerate() {
                if extensions[..i].iter().any(|x| x.typ() == e.typ()) {
                    return Err(WireError::Malformed(format!(
                        "ServerHello: extension {} repeated",
                        e.typ()
                    )));
                }
            }
        }
        Ok(ServerHello {
            legacy_version,
            random,
            session_id,
            cipher_suite,
            compression,
            extensions,
            is_hello_retry_request: is_hrr,
        })
    }
}

impl HandshakePayload for ServerHello {
    const TYPE: HandshakeType = HandshakeType::ServerHello;
}

impl ServerHello {
    /// supported_versions if present (TLS 1.3), else the legacy version field.
    pub fn negotiated_version(&self) -> ProtocolVersion {
        for e in &self.extensions {
            if let ServerExtension::SupportedVersions(v) = e {
                return ProtocolVersion::from_wire(*v);
            }
        }
        ProtocolVersion::from_wire(self.legacy_version)
    }
    /// Key-share group (ServerHello) or the group asked for (HelloRetryRequest).
    pub fn selected_group(&self) -> Option<NamedGroup> {
        self.extensions.iter().find_map(|e| match e {
            ServerExtension::KeyShare { group, .. } => Some(*group),
            ServerExtension::KeyShareHrr(g) => Some(*g),
            _ => None,
        })
    }

    pub fn alpn(&self) -> Option<&str> {
        self.extensions.iter().find_map(|e| match e {
            ServerExtension::Alpn(p) => Some(p.as_str()),
            _ => None,
        })
    }

    pub fn secure_renegotiation(&self) -> bool {
        self.has_extension(ext::RENEGOTIATION_INFO)
    }

    pub fn extended_master_secret(&self) -> bool {
        self.has_extension(ext::EXTENDED_MASTER_SECRET)
    }

    pub fn has_extension(&self, typ: u16) -> bool {
        self.extensions.iter().any(|e| e.typ() == typ)
    }
}

/// What the server's key exchange message carried. Only sizes are kept: the prober grades
/// strength, it never completes the exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerKeyExchange {
    Ecdhe {
        curve: NamedGroup,
        public_len: usize,
    },
    Dhe {
        p_bits: usize,
        /// The prime itself, big-endian: not serialised (reports show its size); the audit
        /// compares it with the widely shared primes (data/dh-common-primes.toml).
        #[serde(skip)]
        p: Vec<u8>,
        #[serde(with = "crate::serde_hex")]
        g: Vec<u8>,
        public_len: usize,
    },
    /// A form we do not interpret (RSA-export, PSK, SRP, explicit curves ...): raw body.
    Other(#[serde(with = "crate::serde_hex")] Vec<u8>),
}

/// Which key exchange the negotiated suite uses, when the caller knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KxHint {
    Ecdhe,
    Dhe,
    Unknown,
}

/// Does `rest` look exactly like a ServerKeyExchange signature (TLS 1.2 with algorithm,
/// TLS <= 1.1 without, or absent for anonymous suites)?
fn signature_fits(rest: &[u8]) -> bool {
    let n = rest.len();
    let len_at = |i: usize| u16::from_be_bytes([rest[i], rest[i + 1]]) as usize;
    n == 0 || (n >= 2 && len_at(0) == n - 2) || (n >= 4 && len_at(2) == n - 4)
}

/// Bit length of a big-endian unsigned integer, ignoring leading zero bytes/bits.
pub fn bit_length(be: &[u8]) -> usize {
    let Some(i) = be.iter().position(|&b| b != 0) else {
        return 0;
    };
    (be.len() - i - 1) * 8 + (8 - be[i].leading_zeros() as usize)
}

impl ServerKeyExchange {
    fn try_ecdhe(body: &[u8]) -> Option<Self> {
        let mut r = Reader::new(body);
        if r.u8().ok()? != 3 {
            return None;
        }
        let curve = NamedGroup::decode(&mut r).ok()?;
        let public = Opaque8::read(&mut r).ok()?;
        if public.is_empty() || !signature_fits(r.rest()) {
            return None;
        }
        Some(ServerKeyExchange::Ecdhe {
            curve,
            public_len: public.len(),
        })
    }

    fn try_dhe(body: &[u8]) -> Option<Self> {
        let mut r = Reader::new(body);
        let p = Opaque16::read(&mut r).ok()?;
        let g = Opaque16::read(&mut r).ok()?.to_vec();
        let ys = Opaque16::read(&mut r).ok()?;
        if p.is_empty() || g.is_empty() || ys.is_empty() || !signature_fits(r.rest()) {
            return None;
        }
        Some(ServerKeyExchange::Dhe {
            p_bits: bit_length(p),
            p: p.to_vec(),
            g,
            public_len: ys.len(),
        })
    }

    /// Read a ServerKeyExchange body. Its layout depends on the negotiated key exchange and we
    /// keep only sizes, so this is an interpretation of the raw body rather than a [`Codec`]
    /// (rustls likewise reads the message opaquely and interprets it once the suite is known).
    /// With `KxHint::Unknown`, ECDHE (named curve) is tried first, then DHE; a body fitting
    /// neither exactly is kept as `Other`.
    pub fn interpret(body: &[u8], hint: KxHint) -> Self {
        let parsed = match hint {
            KxHint::Ecdhe => Self::try_ecdhe(body),
            KxHint::Dhe => Self::try_dhe(body),
            KxHint::Unknown => Self::try_ecdhe(body).or_else(|| Self::try_dhe(body)),
        };
        parsed.unwrap_or_else(|| ServerKeyExchange::Other(body.to_vec()))
    }
}

/// A distinguished name of an acceptable CA, DER, in a list with a two-byte length.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DistinguishedName(Vec<u8>);

impl Codec for DistinguishedName {
    fn encode(&self, out: &mut Vec<u8>) {
        Opaque16::write(&self.0, out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(DistinguishedName(Opaque16::read(r)?.to_vec()))
    }
}

impl ListElement for DistinguishedName {
    const LENGTH_PREFIX: ListLength = ListLength::U16;
}

/// A CertificateRequest. Its [`Codec`] is the TLS 1.2 layout (RFC 5246 §7.4.4);
/// [`PreTls12CertificateRequest`] is the SSLv3 to TLS 1.1 one, which has no signature list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRequest {
    #[serde(with = "crate::serde_hex")]
    pub cert_types: Vec<u8>,
    /// Empty before TLS 1.2 (the field does not exist there).
    pub sig_algs: Vec<SignatureScheme>,
    /// DER-encoded distinguished names of acceptable CAs.
    #[serde(with = "crate::serde_hex")]
    pub ca_names: Vec<Vec<u8>>,
}

impl CertificateRequest {
    fn encode_in(&self, tls12: bool, out: &mut Vec<u8>) {
        Opaque8::write(&self.cert_types, out);
        if tls12 {
            self.sig_algs.encode(out);
        }
        let names: Vec<DistinguishedName> = self
            .ca_names
            .iter()
            .map(|n| DistinguishedName(n.clone()))
            .collect();
        names.encode(out);
    }

    fn decode_in(r: &mut Reader<'_>, tls12: bool) -> Result<Self, WireError> {
        let cert_types = Opaque8::read(r)?.to_vec();
        let sig_algs = if tls12 { Vec::decode(r)? } else { Vec::new() };
        let ca_names = Vec::<DistinguishedName>::decode(r)?;
        Ok(CertificateRequest {
            cert_types,
            sig_algs,
            ca_names: ca_names.into_iter().map(|n| n.0).collect(),
        })
    }
}

impl Codec for CertificateRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        self.encode_in(true, out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Self::decode_in(r, true)
    }
}

impl HandshakePayload for CertificateRequest {
    const TYPE: HandshakeType = HandshakeType::CertificateRequest;
}

/// A CertificateRequest in the layout of SSLv3 to TLS 1.1 (no signature list; an inner
/// `sig_algs` is not written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreTls12CertificateRequest(pub CertificateRequest);

impl Codec for PreTls12CertificateRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode_in(false, out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        CertificateRequest::decode_in(r, false).map(PreTls12CertificateRequest)
    }
}

impl HandshakePayload for PreTls12CertificateRequest {
    const TYPE: HandshakeType = HandshakeType::CertificateRequest;
}

/// One DER certificate in a TLS <= 1.2 Certificate message: `opaque ASN.1Cert<1..2^24-1>`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CertificateEntry(Vec<u8>);

impl Codec for CertificateEntry {
    fn encode(&self, out: &mut Vec<u8>) {
        Opaque24::write(&self.0, out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let der = Opaque24::read(r)?;
        if der.is_empty() {
            return Err(WireError::Malformed(
                "Certificate: empty certificate entry".into(),
            ));
        }
        Ok(CertificateEntry(der.to_vec()))
    }
}

impl ListElement for CertificateEntry {
    const LENGTH_PREFIX: ListLength = ListLength::U24;
}

/// TLS <= 1.2 Certificate body: the server's DER certificates, leaf first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateList(pub Vec<Vec<u8>>);

impl Codec for CertificateList {
    fn encode(&self, out: &mut Vec<u8>) {
        let entries: Vec<CertificateEntry> =
            self.0.iter().map(|c| CertificateEntry(c.clone())).collect();
        entries.encode(out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let entries = Vec::<CertificateEntry>::decode(r)?;
        Ok(CertificateList(entries.into_iter().map(|e| e.0).collect()))
    }
}

impl HandshakePayload for CertificateList {
    const TYPE: HandshakeType = HandshakeType::Certificate;
}

/// RFC 6066 §8 status_type ocsp, the only one CertificateStatus carries.
const STATUS_TYPE_OCSP: u8 = 1;

/// CertificateStatus body (RFC 6066 §8): a stapled DER OCSP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateStatus(pub Vec<u8>);

impl Codec for CertificateStatus {
    fn encode(&self, out: &mut Vec<u8>) {
        STATUS_TYPE_OCSP.encode(out);
        Opaque24::write(&self.0, out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let t = r.u8()?;
        if t != STATUS_TYPE_OCSP {
            return Err(WireError::Malformed(format!(
                "CertificateStatus: status type {t} is not ocsp(1)"
            )));
        }
        Ok(CertificateStatus(Opaque24::read(r)?.to_vec()))
    }
}

impl HandshakePayload for CertificateStatus {
    const TYPE: HandshakeType = HandshakeType::CertificateStatus;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(exts: Vec<ServerExtension>, random: [u8; 32]) -> ServerHello {
        ServerHello {
            legacy_version: 0x0303,
            random,
            session_id: vec![7; 32],
            cipher_suite: CipherSuiteId(0x1301),
            compression: 0,
            extensions: exts,
            is_hello_retry_request: random == HRR_RANDOM,
        }
    }

    #[test]
    fn server_hello_round_trip_and_accessors() {
        let h = sh(
            vec![
                ServerExtension::SupportedVersions(0x0304),
                ServerExtension::KeyShare {
                    group: NamedGroup::X25519,
                    key_exchange: vec![1; 32],
                },
                ServerExtension::Alpn("h2".into()),
                ServerExtension::RenegotiationInfo(vec![]),
                ServerExtension::ExtendedMasterSecret,
            ],
            [3; 32],
        );
        let d = ServerHello::from_bytes(&h.to_bytes()).unwrap();
        assert_eq!(d, h);
        assert_eq!(d.negotiated_version(), ProtocolVersion::Tls13);
        assert_eq!(d.selected_group(), Some(NamedGroup::X25519));
        assert_eq!(d.alpn(), Some("h2"));
        assert!(d.secure_renegotiation() && d.extended_master_secret());
        assert!(!d.is_hello_retry_request);
        assert!(d.has_extension(43) && !d.has_extension(44));
    }

    #[test]
    fn hello_retry_request_is_recognised() {
        let h = sh(
            vec![
                ServerExtension::SupportedVersions(0x0304),
                ServerExtension::KeyShareHrr(NamedGroup::SECP256R1),
            ],
            HRR_RANDOM,
        );
        let d = ServerHello::from_bytes(&h.to_bytes()).unwrap();
        assert!(d.is_hello_retry_request);
        assert_eq!(d.selected_group(), Some(NamedGroup::SECP256R1));
    }

    #[test]
    fn old_server_hello_without_extensions() {
        let mut h = sh(vec![], [1; 32]);
        h.legacy_version = 0x0300;
        h.session_id.clear();
        let b = h.to_bytes();
        assert_eq!(b.len(), 2 + 32 + 1 + 2 + 1);
        let d = ServerHello::from_bytes(&b).unwrap();
        assert_eq!(d.negotiated_version(), ProtocolVersion::Ssl3);
        assert!(!d.secure_renegotiation());
    }

    #[test]
    fn hostile_server_hellos() {
        let good = sh(vec![ServerExtension::ExtendedMasterSecret], [1; 32]).to_bytes();
        let no_ext_block = 2 + 32 + 1 + 32 + 2 + 1;
        for n in 0..good.len() {
            // cut exactly before the extensions block is a valid extension-less hello
            assert_eq!(
                ServerHello::from_bytes(&good[..n]).is_ok(),
                n == no_ext_block,
                "prefix {n}"
            );
        }
        let mut long_sid = good.clone();
        long_sid[34] = 33;
        assert!(ServerHello::from_bytes(&long_sid).is_err());
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(ServerHello::from_bytes(&trailing).is_err());
        let dup = sh(
            vec![
                ServerExtension::ExtendedMasterSecret,
                ServerExtension::ExtendedMasterSecret,
            ],
            [1; 32],
        );
        assert!(ServerHello::from_bytes(&dup.to_bytes()).is_err());
        let mut huge = good.clone();
        let n = huge.len();
        huge[n - 6] = 0xff; // extensions length
        huge[n - 5] = 0xff;
        assert!(ServerHello::from_bytes(&huge).is_err());
    }

    fn message(typ: u8, body: &[u8]) -> HandshakeMessage {
        HandshakeMessage {
            typ: HandshakeType::from_u8(typ),
            body: body.to_vec(),
        }
    }

    #[test]
    fn joiner_reassembles_split_and_coalesced() {
        let mut all = Vec::new();
        message(2, &[1, 2, 3]).encode(&mut all);
        message(14, &[]).encode(&mut all);
        message(11, &[9; 300]).encode(&mut all);
        for cut in 0..all.len() {
            let mut j = HandshakeJoiner::new();
            let mut got = Vec::new();
            for part in [&all[..cut], &all[cut..]] {
                j.push(part).unwrap();
                while let Some(m) = j.pop().unwrap() {
                    got.push(m);
                }
            }
            assert_eq!(got.len(), 3);
            assert_eq!(got[1], message(14, &[]));
            assert_eq!(got[1].typ, HandshakeType::ServerHelloDone);
            assert_eq!(got[2].body.len(), 300);
            assert!(!j.is_partial());
        }
        let mut j = HandshakeJoiner::new();
        j.push(&[11, 0xff, 0xff, 0xff]).unwrap();
        assert_eq!(j.pop(), Err(WireError::TooLarge("handshake message")));
    }

    #[test]
    fn handshake_framing_and_types() {
        for t in 0..=255u8 {
            assert_eq!(HandshakeType::from_bytes(&[t]).unwrap().to_bytes(), [t]);
        }
        assert_eq!(HandshakeType::from_u8(99), HandshakeType::Unknown(99));
        let m = HandshakeMessage::of(&CertificateStatus(vec![0x30, 3]));
        assert_eq!(m.to_bytes(), [22, 0, 0, 6, 1, 0, 0, 2, 0x30, 3]);
        assert_eq!(HandshakeMessage::from_bytes(&m.to_bytes()).unwrap(), m);
        assert_eq!(
            m.read::<CertificateStatus>().unwrap(),
            CertificateStatus(vec![0x30, 3])
        );
        // the type must match, and the body must be used up
        assert!(m.read::<CertificateList>().is_err());
        let mut long = m.clone();
        long.body.push(0);
        let e = long.read::<CertificateStatus>().unwrap_err();
        assert!(e.to_string().contains("CertificateStatus"), "{e}");
        let mut huge = vec![11, 0x04, 0, 1];
        huge.resize(4 + 0x40001, 0);
        assert_eq!(
            HandshakeMessage::from_bytes(&huge),
            Err(WireError::TooLarge("handshake message"))
        );
    }

    fn ske_ecdhe(sig: &[u8]) -> Vec<u8> {
        let mut b = vec![3, 0, 0x17, 65];
        b.extend_from_slice(&[4; 65]);
        b.extend_from_slice(sig);
        b
    }

    #[test]
    fn server_key_exchange_forms() {
        // TLS 1.2 signature form
        let b = ske_ecdhe(&[4, 1, 0, 3, 1, 2, 3]);
        assert_eq!(
            ServerKeyExchange::interpret(&b, KxHint::Unknown),
            ServerKeyExchange::Ecdhe {
                curve: NamedGroup::SECP256R1,
                public_len: 65
            }
        );
        // TLS 1.0 signature form, hinted
        let b = ske_ecdhe(&[0, 2, 1, 2]);
        assert!(matches!(
            ServerKeyExchange::interpret(&b, KxHint::Ecdhe),
            ServerKeyExchange::Ecdhe { .. }
        ));
        // DHE with a 2048-bit p whose top byte is 0x80 and a leading zero byte
        let mut b = Vec::new();
        let mut p = vec![0u8];
        p.push(0x80);
        p.extend_from_slice(&[0xff; 255]);
        Opaque16::write(&p, &mut b);
        Opaque16::write(&[2], &mut b);
        Opaque16::write(&[5; 256], &mut b);
        b.extend_from_slice(&[8, 4, 0, 1, 0]);
        assert_eq!(
            ServerKeyExchange::interpret(&b, KxHint::Unknown),
            ServerKeyExchange::Dhe {
                p_bits: 2048,
                p: p.clone(),
                g: vec![2],
                public_len: 256
            }
        );
        assert!(matches!(
            ServerKeyExchange::interpret(&b, KxHint::Ecdhe),
            ServerKeyExchange::Other(_)
        ));
        // garbage and truncation never panic
        for n in 0..b.len() {
            let _ = ServerKeyExchange::interpret(&b[..n], KxHint::Unknown);
        }
        assert_eq!(
            ServerKeyExchange::interpret(&[], KxHint::Unknown),
            ServerKeyExchange::Other(vec![])
        );
        assert_eq!(bit_length(&[0, 0, 1]), 1);
        assert_eq!(bit_length(&[]), 0);
    }

    #[test]
    fn certificate_request_both_versions() {
        let cr = CertificateRequest {
            cert_types: vec![1, 64],
            sig_algs: vec![SignatureScheme(0x0804), SignatureScheme(0xfefe)],
            ca_names: vec![vec![0x30, 0]],
        };
        assert_eq!(CertificateRequest::from_bytes(&cr.to_bytes()).unwrap(), cr);
        let old = CertificateRequest {
            sig_algs: vec![],
            ..cr.clone()
        };
        let legacy = PreTls12CertificateRequest(old.clone());
        assert_eq!(
            PreTls12CertificateRequest::from_bytes(&legacy.to_bytes()).unwrap(),
            legacy
        );
        // the old layout leaves the signature list out even when one is set
        assert_eq!(
            PreTls12CertificateRequest(cr.clone()).to_bytes(),
            legacy.to_bytes()
        );
        assert!(PreTls12CertificateRequest::from_bytes(&cr.to_bytes()).is_err());
        assert!(CertificateRequest::from_bytes(&[1, 1, 0, 3, 4, 1, 0, 0, 0]).is_err());
        assert!(CertificateRequest::from_bytes(&[]).is_err());
    }

    #[test]
    fn certificate_and_status() {
        let certs = CertificateList(vec![vec![0x30, 1, 2], vec![0x30; 70000]]);
        let b = certs.to_bytes();
        assert_eq!(CertificateList::from_bytes(&b).unwrap(), certs);
        assert_eq!(
            CertificateList::from_bytes(&[0, 0, 0]).unwrap(),
            CertificateList(vec![])
        );
        assert!(CertificateList::from_bytes(&[0, 0, 3, 0, 0, 0]).is_err());
        assert!(CertificateList::from_bytes(&[0xff, 0xff, 0xff, 0]).is_err());
        assert!(CertificateList::from_bytes(&[0, 0, 4, 0, 0, 9, 1]).is_err());
        let s = CertificateStatus(vec![0x30, 3]).to_bytes();
        assert_eq!(s, [1, 0, 0, 2, 0x30, 3]);
        assert_eq!(
            CertificateStatus::from_bytes(&s).unwrap(),
            CertificateStatus(vec![0x30, 3])
        );
        assert!(CertificateStatus::from_bytes(&[2, 0, 0, 0]).is_err());
        assert!(CertificateStatus::from_bytes(&[1, 0, 0, 5]).is_err());
    }
}
