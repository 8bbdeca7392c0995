//! Hello extensions (RFC 8446 §4.2, RFC 6066, RFC 7301, RFC 5746, RFC 7627, RFC 5077).
//!
//! Client extensions decode into a typed variant only when re-encoding that variant gives back
//! exactly the bytes received; anything else stays `Raw`, so a captured hello always
//! re-encodes byte for byte.

use super::WireError;
use super::codec::{Codec, ListElement, ListLength, Opaque8, Opaque16, Reader, encode_list};
use super::groups::NamedGroup;
use super::sigalgs::SignatureScheme;
use super::version::ProtocolVersion;

pub mod typ {
    pub const SERVER_NAME: u16 = 0;
    pub const STATUS_REQUEST: u16 = 5;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const PADDING: u16 = 21;
    pub const ENCRYPT_THEN_MAC: u16 = 22;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const SESSION_TICKET: u16 = 35;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const COOKIE: u16 = 44;
    pub const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    pub const KEY_SHARE: u16 = 51;
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientExtension {
    ServerName(String),
    SupportedGroups(Vec<NamedGroup>),
    EcPointFormats(Vec<u8>),
    SignatureAlgorithms(Vec<SignatureScheme>),
    RenegotiationInfo(Vec<u8>),
    /// OCSP status request with empty responder list and extensions.
    StatusRequest,
    Alpn(Vec<String>),
    ExtendedMasterSecret,
    SessionTicket(Vec<u8>),
    SupportedVersions(Vec<u16>),
    KeyShare(Vec<(NamedGroup, Vec<u8>)>),
    PskKeyExchangeModes(Vec<u8>),
    /// `n` zero bytes of padding.
    Padding(usize),
    Raw {
        typ: u16,
        data: Vec<u8>,
    },
}

/// One entry of the server_name list (RFC 6066 §3): a name type and the name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServerNameEntry {
    name_type: u8,
    name: Vec<u8>,
}

impl Codec for ServerNameEntry {
    fn encode(&self, out: &mut Vec<u8>) {
        self.name_type.encode(out);
        Opaque16::write(&self.name, out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let name_type = r.u8()?;
        let name = Opaque16::read(r)?.to_vec();
        Ok(ServerNameEntry { name_type, name })
    }
}

impl ListElement for ServerNameEntry {
    const LENGTH_PREFIX: ListLength = ListLength::U16;
}

/// RFC 6066 host_name, the only name type ever defined.
const HOST_NAME: u8 = 0;

/// An ALPN protocol name (RFC 7301 §3.1): `opaque ProtocolName<1..2^8-1>`, in a list with a
/// two-byte length.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ProtocolName(Vec<u8>);

impl Codec for ProtocolName {
    fn encode(&self, out: &mut Vec<u8>) {
        Opaque8::write(&self.0, out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ProtocolName(Opaque8::read(r)?.to_vec()))
    }
}

impl ListElement for ProtocolName {
    const LENGTH_PREFIX: ListLength = ListLength::U16;
}

/// A key share (RFC 8446 §4.2.8): the group and its public value. The client sends a list of
/// them, the server one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyShareEntry {
    group: NamedGroup,
    key_exchange: Vec<u8>,
}

impl Codec for KeyShareEntry {
    fn encode(&self, out: &mut Vec<u8>) {
        self.group.encode(out);
        Opaque16::write(&self.key_exchange, out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let group = NamedGroup::decode(r)?;
        let key_exchange = Opaque16::read(r)?.to_vec();
        Ok(KeyShareEntry {
            group,
            key_exchange,
        })
    }
}

impl ListElement for KeyShareEntry {
    const LENGTH_PREFIX: ListLength = ListLength::U16;
}

/// RFC 6066 §8 status_type ocsp.
const STATUS_TYPE_OCSP: u8 = 1;

impl ClientExtension {
    pub fn typ(&self) -> u16 {
        use ClientExtension as E;
        match self {
            E::ServerName(_) => typ::SERVER_NAME,
            E::SupportedGroups(_) => typ::SUPPORTED_GROUPS,
            E::EcPointFormats(_) => typ::EC_POINT_FORMATS,
            E::SignatureAlgorithms(_) => typ::SIGNATURE_ALGORITHMS,
            E::RenegotiationInfo(_) => typ::RENEGOTIATION_INFO,
            E::StatusRequest => typ::STATUS_REQUEST,
            E::Alpn(_) => typ::ALPN,
            E::ExtendedMasterSecret => typ::EXTENDED_MASTER_SECRET,
            E::SessionTicket(_) => typ::SESSION_TICKET,
            E::SupportedVersions(_) => typ::SUPPORTED_VERSIONS,
            E::KeyShare(_) => typ::KEY_SHARE,
            E::PskKeyExchangeModes(_) => typ::PSK_KEY_EXCHANGE_MODES,
            E::Padding(_) => typ::PADDING,
            E::Raw { typ, .. } => *typ,
        }
    }

    /// The extension body (without type and length).
    pub fn body(&self) -> Vec<u8> {
        use ClientExtension as E;
        let mut b = Vec::new();
        match self {
            E::ServerName(name) => encode_list(
                &[ServerNameEntry {
                    name_type: HOST_NAME,
                    name: name.as_bytes().to_vec(),
                }],
                &mut b,
            ),
            E::SupportedGroups(g) => encode_list(g, &mut b),
            E::EcPointFormats(f) => Opaque8::write(f, &mut b),
            E::SignatureAlgorithms(s) => encode_list(s, &mut b),
            E::RenegotiationInfo(v) => Opaque8::write(v, &mut b),
            E::StatusRequest => {
                // ocsp, with empty responder_id_list and request_extensions
                STATUS_TYPE_OCSP.encode(&mut b);
                Opaque16::write(&[], &mut b);
                Opaque16::write(&[], &mut b);
            }
            E::Alpn(protos) => {
                let names: Vec<ProtocolName> = protos
                    .iter()
                    .map(|p| ProtocolName(p.as_bytes().to_vec()))
                    .collect();
                names.encode(&mut b)
            }
            E::ExtendedMasterSecret => {}
            E::SessionTicket(t) => b.extend_from_slice(t),
            E::SupportedVersions(v) => {
                let versions: Vec<ProtocolVersion> =
                    v.iter().map(|&v| ProtocolVersion::from_wire(v)).collect();
                versions.encode(&mut b)
            }
            E::KeyShare(shares) => {
                let entries: Vec<KeyShareEntry> = shares
                    .iter()
                    .map(|(group, key)| KeyShareEntry {
                        group: *group,
                        key_exchange: key.clone(),
                    })
                    .collect();
                entries.encode(&mut b)
            }
            E::PskKeyExchangeModes(m) => Opaque8::write(m, &mut b),
            E::Padding(n) => b.resize(*n, 0),
            E::Raw { data, .. } => b.extend_from_slice(data),
        }
        b
    }

    /// Interpret a body of a known type; `None` when the body is malformed or not in the
    /// canonical form we would write ourselves.
    fn typed(t: u16, data: &[u8]) -> Option<ClientExtension> {
        use ClientExtension as E;
        let mut r = Reader::new(data);
        let ext = match t {
            typ::SERVER_NAME => match Vec::<ServerNameEntry>::decode(&mut r).ok()?.as_slice() {
                [entry] if entry.name_type == HOST_NAME => {
                    E::ServerName(String::from_utf8(entry.name.clone()).ok()?)
                }
                _ => return None,
            },
            typ::SUPPORTED_GROUPS => E::SupportedGroups(Vec::decode(&mut r).ok()?),
            typ::EC_POINT_FORMATS => E::EcPointFormats(Opaque8::decode(&mut r).ok()?.0),
            typ::SIGNATURE_ALGORITHMS => E::SignatureAlgorithms(Vec::decode(&mut r).ok()?),
            typ::RENEGOTIATION_INFO => E::RenegotiationInfo(Opaque8::decode(&mut r).ok()?.0),
            typ::STATUS_REQUEST => {
                r.rest();
                E::StatusRequest
            }
            typ::ALPN => {
                let names = Vec::<ProtocolName>::decode(&mut r).ok()?;
                let protos = names.into_iter().map(|n| String::from_utf8(n.0).ok());
                E::Alpn(protos.collect::<Option<Vec<String>>>()?)
            }
            typ::EXTENDED_MASTER_SECRET => E::ExtendedMasterSecret,
            typ::SESSION_TICKET => E::SessionTicket(r.rest().to_vec()),
            typ::SUPPORTED_VERSIONS => {
                let versions = Vec::<ProtocolVersion>::decode(&mut r).ok()?;
                E::SupportedVersions(versions.into_iter().map(|v| v.to_wire()).collect())
            }
            typ::KEY_SHARE => {
                let entries = Vec::<KeyShareEntry>::decode(&mut r).ok()?;
                E::KeyShare(
                    entries
                        .into_iter()
                        .map(|e| (e.group, e.key_exchange))
                        .collect(),
                )
            }
            typ::PSK_KEY_EXCHANGE_MODES => E::PskKeyExchangeModes(Opaque8::decode(&mut r).ok()?.0),
            typ::PADDING => {
                if data.iter().any(|&b| b != 0) {
                    return None;
                }
                r.rest();
                E::Padding(data.len())
            }
            _ => return None,
        };
        if !r.is_empty() || ext.body() != data {
            return None;
        }
        Some(ext)
    }
}

impl Codec for ClientExtension {
    fn encode(&self, out: &mut Vec<u8>) {
        self.typ().encode(out);
        Opaque16::write(&self.body(), out);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let t = r.u16()?;
        let data = Opaque16::read(r)?;
        Ok(
            ClientExtension::typed(t, data).unwrap_or(ClientExtension::Raw {
                typ: t,
                data: data.to_vec(),
            }),
        )
    }
}

impl ListElement for ClientExtension {
    const LENGTH_PREFIX: ListLength = ListLength::U16;
}

/// An extension of a ServerHello. (Decoded through [`Codec`]; the extensions of a
/// HelloRetryRequest, whose key_share body differs, through [`HelloRetryExtension`].)
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerExtension {
    /// Empty acknowledgement that the server used our SNI.
    ServerName,
    RenegotiationInfo(#[serde(with = "crate::serde_hex")] Vec<u8>),
    EcPointFormats(#[serde(with = "crate::serde_hex")] Vec<u8>),
    /// Empty: the server will send a CertificateStatus message.
    StatusRequest,
    Alpn(String),
    ExtendedMasterSecret,
    /// Empty: the server will send a NewSessionTicket.
    SessionTicket,
    SupportedVersions(u16),
    /// ServerHello key share.
    KeyShare {
        group: NamedGroup,
        #[serde(with = "crate::serde_hex")]
        key_exchange: Vec<u8>,
    },
    /// HelloRetryRequest: the group the server wants a share for.
    KeyShareHrr(NamedGroup),
    Cookie(#[serde(with = "crate::serde_hex")] Vec<u8>),
    EncryptThenMac,
    Unknown {
        typ: u16,
        #[serde(with = "crate::serde_hex")]
        data: Vec<u8>,
    },
}

impl ServerExtension {
    pub fn typ(&self) -> u16 {
        use ServerExtension as E;
        match self {
            E::ServerName => typ::SERVER_NAME,
            E::RenegotiationInfo(_) => typ::RENEGOTIATION_INFO,
            E::EcPointFormats(_) => typ::EC_POINT_FORMATS,
            E::StatusRequest => typ::STATUS_REQUEST,
            E::Alpn(_) => typ::ALPN,
            E::ExtendedMasterSecret => typ::EXTENDED_MASTER_SECRET,
            E::SessionTicket => typ::SESSION_TICKET,
            E::SupportedVersions(_) => typ::SUPPORTED_VERSIONS,
            E::KeyShare { .. } | E::KeyShareHrr(_) => typ::KEY_SHARE,
            E::Cookie(_) => typ::COOKIE,
            E::EncryptThenMac => typ::ENCRYPT_THEN_MAC,
            E::Unknown { typ, .. } => *typ,
        }
    }

    /// Decode one extension of a ServerHello (`hrr == false`) or of a HelloRetryRequest.
    fn decode_in(r: &mut Reader<'_>, hrr: bool) -> Result<Self, WireError> {
        use ServerExtension as E;
        let t = r.u16()?;
        let mut b = Reader::new(Opaque16::read(r)?);
        let bad = |what: &str| WireError::Malformed(format!("server extension {what} (type {t})"));
        let ext = match t {
            typ::SERVER_NAME
            | typ::STATUS_REQUEST
            | typ::EXTENDED_MASTER_SECRET
            | typ::SESSION_TICKET
            | typ::ENCRYPT_THEN_MAC => {
                if !b.is_empty() {
                    return Err(bad("must be empty"));
                }
                match t {
                    typ::SERVER_NAME => E::ServerName,
                    typ::STATUS_REQUEST => E::StatusRequest,
                    typ::EXTENDED_MASTER_SECRET => E::ExtendedMasterSecret,
                    typ::SESSION_TICKET => E::SessionTicket,
                    _ => E::EncryptThenMac,
                }
            }
            typ::RENEGOTIATION_INFO => E::RenegotiationInfo(Opaque8::decode(&mut b)?.0),
            typ::EC_POINT_FORMATS => E::EcPointFormats(Opaque8::decode(&mut b)?.0),
            typ::ALPN => {
                let mut names = Vec::<ProtocolName>::decode(&mut b)?;
                if names.len() != 1 {
                    return Err(bad("alpn: server must select exactly one protocol"));
                }
                let name = names.remove(0).0;
                if name.is_empty() {
                    return Err(bad("alpn: empty protocol name"));
                }
                E::Alpn(String::from_utf8_lossy(&name).into_owned())
            }
            typ::SUPPORTED_VERSIONS => E::SupportedVersions(u16::decode(&mut b)?),
            typ::KEY_SHARE if hrr => E::KeyShareHrr(NamedGroup::decode(&mut b)?),
            typ::KEY_SHARE => {
                let share = KeyShareEntry::decode(&mut b)?;
                E::KeyShare {
                    group: share.group,
                    key_exchange: share.key_exchange,
                }
            }
            typ::COOKIE => {
                let c = Opaque16::decode(&mut b)?.0;
                if c.is_empty() {
                    return Err(bad("cookie: empty"));
                }
                E::Cookie(c)
            }
            _ => E::Unknown {
                typ: t,
                data: b.rest().to_vec(),
            },
        };
        b.expect_end("server extension")?;
        Ok(ext)
    }
}

impl Codec for ServerExtension {
    fn encode(&self, out: &mut Vec<u8>) {
        use ServerExtension as E;
        self.typ().encode(out);
        let mut b = Vec::new();
        match self {
            E::ServerName
            | E::StatusRequest
            | E::ExtendedMasterSecret
            | E::SessionTicket
            | E::EncryptThenMac => {}
            E::RenegotiationInfo(v) | E::EcPointFormats(v) => Opaque8::write(v, &mut b),
            E::Alpn(p) => encode_list(&[ProtocolName(p.as_bytes().to_vec())], &mut b),
            E::SupportedVersions(v) => v.encode(&mut b),
            E::KeyShare {
                group,
                key_exchange,
            } => KeyShareEntry {
                group: *group,
                key_exchange: key_exchange.clone(),
            }
            .encode(&mut b),
            E::KeyShareHrr(g) => g.encode(&mut b),
            E::Cookie(c) => Opaque16::write(c, &mut b),
            E::Unknown { data, .. } => b.extend_from_slice(data),
        }
        Opaque16::write(&b, out);
    }

    /// The ServerHello form.
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Self::decode_in(r, false)
    }
}

impl ListElement for ServerExtension {
    const LENGTH_PREFIX: ListLength = ListLength::U16;
}

/// An extension of a HelloRetryRequest (RFC 8446 §4.1.4). The same values as a ServerHello's,
/// except that key_share names only the group the server wants ([`ServerExtension::KeyShareHrr`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloRetryExtension(pub ServerExtension);

impl Codec for HelloRetryExtension {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        ServerExtension::decode_in(r, true).map(HelloRetryExtension)
    }
}

impl ListElement for HelloRetryExtension {
    const LENGTH_PREFIX: ListLength = ListLength::U16;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_client() -> Vec<ClientExtension> {
        use ClientExtension as E;
        vec![
            E::ServerName("example.test".into()),
            E::SupportedGroups(vec![NamedGroup::X25519, NamedGroup(0x1234)]),
            E::EcPointFormats(vec![0]),
            E::SignatureAlgorithms(vec![SignatureScheme(0x0804), SignatureScheme(0xfefe)]),
            E::RenegotiationInfo(vec![]),
            E::StatusRequest,
            E::Alpn(vec!["h2".into(), "http/1.1".into()]),
            E::ExtendedMasterSecret,
            E::SessionTicket(vec![]),
            E::SessionTicket(vec![1, 2, 3]),
            E::SupportedVersions(vec![0x0304, 0x0303]),
            E::KeyShare(vec![
                (NamedGroup::X25519, vec![9; 32]),
                (NamedGroup(0x4a4a), vec![0]),
            ]),
            E::PskKeyExchangeModes(vec![1]),
            E::Padding(17),
            E::Padding(0),
            E::Raw {
                typ: 0x3374,
                data: vec![1],
            },
        ]
    }

    #[test]
    fn client_extensions_round_trip() {
        for e in all_client() {
            let bytes = e.to_bytes();
            assert_eq!(
                ClientExtension::from_bytes(&bytes).unwrap(),
                e,
                "{bytes:02x?}"
            );
        }
        let sni = ClientExtension::ServerName("a.b".into()).to_bytes();
        assert_eq!(sni, [0, 0, 0, 8, 0, 6, 0, 0, 3, b'a', b'.', b'b']);
    }

    #[test]
    fn non_canonical_bodies_stay_raw() {
        // status_request with a responder id list: not our canonical form
        let bytes = [0, 5, 0, 7, 1, 0, 2, 0xaa, 0xbb, 0, 0];
        assert!(matches!(
            ClientExtension::from_bytes(&bytes).unwrap(),
            ClientExtension::Raw { typ: 5, .. }
        ));
        // supported_groups with inner length too short / odd
        let bytes = [0, 10, 0, 3, 0, 1, 0x1d];
        assert!(matches!(
            ClientExtension::from_bytes(&bytes).unwrap(),
            ClientExtension::Raw { typ: 10, .. }
        ));
        // padding with nonzero bytes
        let bytes = [0, 21, 0, 2, 0, 1];
        assert!(matches!(
            ClientExtension::from_bytes(&bytes).unwrap(),
            ClientExtension::Raw { typ: 21, .. }
        ));
        // SNI name type other than host_name
        let bytes = [0, 0, 0, 6, 0, 4, 1, 0, 1, b'x'];
        assert!(matches!(
            ClientExtension::from_bytes(&bytes).unwrap(),
            ClientExtension::Raw { typ: 0, .. }
        ));
        // raw extensions re-encode byte for byte
        let d = ClientExtension::from_bytes(&bytes).unwrap();
        assert_eq!(d.to_bytes(), bytes);
    }

    #[test]
    fn hostile_client_extension_lengths() {
        assert!(ClientExtension::from_bytes(&[]).is_err());
        assert!(ClientExtension::from_bytes(&[0]).is_err());
        assert!(ClientExtension::from_bytes(&[0, 0, 0xff, 0xff]).is_err());
        assert!(ClientExtension::from_bytes(&[0, 0, 0, 5, 1]).is_err());
    }

    #[test]
    fn server_extensions_round_trip() {
        use ServerExtension as E;
        let sh = [
            E::ServerName,
            E::RenegotiationInfo(vec![]),
            E::EcPointFormats(vec![0, 1, 2]),
            E::StatusRequest,
            E::Alpn("h2".into()),
            E::ExtendedMasterSecret,
            E::SessionTicket,
            E::SupportedVersions(0x0304),
            E::KeyShare {
                group: NamedGroup::X25519,
                key_exchange: vec![5; 32],
            },
            E::Cookie(vec![1, 2]),
            E::EncryptThenMac,
            E::Unknown {
                typ: 0x1234,
                data: vec![1, 2, 3],
            },
        ];
        for e in sh {
            let b = e.to_bytes();
            assert_eq!(ServerExtension::from_bytes(&b).unwrap(), e);
            if !matches!(e, E::KeyShare { .. }) {
                // outside key_share, a HelloRetryRequest's extensions read the same
                assert_eq!(HelloRetryExtension::from_bytes(&b).unwrap().0, e);
            }
        }
        let b = E::KeyShareHrr(NamedGroup::SECP256R1).to_bytes();
        assert_eq!(b, [0, 51, 0, 2, 0, 0x17]);
        assert_eq!(
            HelloRetryExtension::from_bytes(&b).unwrap(),
            HelloRetryExtension(E::KeyShareHrr(NamedGroup::SECP256R1))
        );
        assert_eq!(
            HelloRetryExtension(E::KeyShareHrr(NamedGroup::SECP256R1)).to_bytes(),
            b
        );
        // a group no registry lists yet is kept as it came
        let hrr = HelloRetryExtension::from_bytes(&[0, 51, 0, 2, 0xfe, 0x01]).unwrap();
        assert_eq!(hrr.0, E::KeyShareHrr(NamedGroup(0xfe01)));
        // the same bytes are a truncated ServerHello key_share
        assert!(ServerExtension::from_bytes(&b).is_err());
        // and a ServerHello key_share is too long for a HelloRetryRequest
        let share = E::KeyShare {
            group: NamedGroup::X25519,
            key_exchange: vec![5; 32],
        };
        assert!(HelloRetryExtension::from_bytes(&share.to_bytes()).is_err());
        // lists of them carry a two-byte length
        let list = vec![E::ServerName, E::SupportedVersions(0x0304)];
        assert_eq!(&list.to_bytes()[..2], &[0, 10]);
        assert_eq!(
            Vec::<ServerExtension>::from_bytes(&list.to_bytes()).unwrap(),
            list
        );
    }

    #[test]
    fn hostile_server_extensions() {
        let cases: &[&[u8]] = &[
            &[],
            &[0, 43],
            &[0, 43, 0, 1, 3],             // supported_versions too short
            &[0, 43, 0, 3, 3, 4, 0],       // trailing byte
            &[0, 16, 0, 3, 0, 1, 0],       // alpn with empty name
            &[0, 16, 0, 4, 0, 2, 9, b'x'], // alpn name longer than list
            &[0, 51, 0, 4, 0, 0x1d, 0xff, 0xff],
            &[0xff, 1, 0, 1, 5],  // reneg length beyond body
            &[0, 0, 0, 1, 0],     // sni ack must be empty
            &[0, 44, 0, 2, 0, 0], // empty cookie
            &[0, 10, 0xff, 0xff, 1],
            &[0, 16, 0, 2, 0, 0],                   // alpn with no protocol
            &[0, 16, 0, 6, 0, 4, 1, b'a', 1, b'b'], // alpn with two protocols
        ];
        for c in cases {
            assert!(
                ServerExtension::decode(&mut Reader::new(c)).is_err(),
                "{c:02x?}"
            );
        }
    }
}
