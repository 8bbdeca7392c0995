//! Hello extensions (RFC 8446 §4.2, RFC 6066, RFC 7301, RFC 5746, RFC 7627, RFC 5077).
//!
//! Client extensions decode into a typed variant only when re-encoding that variant gives back
//! exactly the bytes received; anything else stays `Raw`, so a captured hello always
//! re-encodes byte for byte.

use super::WireError;
use super::codec::{Codec, Reader, put_u16, put_vec, with_len};

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
    SupportedGroups(Vec<u16>),
    EcPointFormats(Vec<u8>),
    SignatureAlgorithms(Vec<u16>),
    RenegotiationInfo(Vec<u8>),
    /// OCSP status request with empty responder list and extensions.
    StatusRequest,
    Alpn(Vec<String>),
    ExtendedMasterSecret,
    SessionTicket(Vec<u8>),
    SupportedVersions(Vec<u16>),
    KeyShare(Vec<(u16, Vec<u8>)>),
    PskKeyExchangeModes(Vec<u8>),
    /// `n` zero bytes of padding.
    Padding(usize),
    Raw {
        typ: u16,
        data: Vec<u8>,
    },
}

fn u16_list(r: &mut Reader<'_>) -> Result<Vec<u16>, WireError> {
    let mut out = Vec::with_capacity(r.remaining() / 2);
    while !r.is_empty() {
        out.push(r.u16()?);
    }
    Ok(out)
}

fn put_u16_list(out: &mut Vec<u8>, width: usize, items: &[u16]) {
    with_len(out, width, |o| items.iter().for_each(|&v| put_u16(o, v)));
}

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
            E::ServerName(name) => with_len(&mut b, 2, |o| {
                o.push(0);
                put_vec(o, 2, name.as_bytes());
            }),
            E::SupportedGroups(g) => put_u16_list(&mut b, 2, g),
            E::EcPointFormats(f) => put_vec(&mut b, 1, f),
            E::SignatureAlgorithms(s) => put_u16_list(&mut b, 2, s),
            E::RenegotiationInfo(v) => put_vec(&mut b, 1, v),
            E::StatusRequest => b.extend_from_slice(&[1, 0, 0, 0, 0]),
            E::Alpn(protos) => with_len(&mut b, 2, |o| {
                protos.iter().for_each(|p| put_vec(o, 1, p.as_bytes()))
            }),
            E::ExtendedMasterSecret => {}
            E::SessionTicket(t) => b.extend_from_slice(t),
            E::SupportedVersions(v) => put_u16_list(&mut b, 1, v),
            E::KeyShare(shares) => with_len(&mut b, 2, |o| {
                for (g, k) in shares {
                    put_u16(o, *g);
                    put_vec(o, 2, k);
                }
            }),
            E::PskKeyExchangeModes(m) => put_vec(&mut b, 1, m),
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
            typ::SERVER_NAME => {
                let mut list = r.sub_u16().ok()?;
                if list.u8().ok()? != 0 {
                    return None;
                }
                let name = list.sub_u16().ok()?.rest();
                E::ServerName(String::from_utf8(name.to_vec()).ok()?)
            }
            typ::SUPPORTED_GROUPS => E::SupportedGroups(u16_list(&mut r.sub_u16().ok()?).ok()?),
            typ::EC_POINT_FORMATS => E::EcPointFormats(r.sub_u8().ok()?.rest().to_vec()),
            typ::SIGNATURE_ALGORITHMS => {
                E::SignatureAlgorithms(u16_list(&mut r.sub_u16().ok()?).ok()?)
            }
            typ::RENEGOTIATION_INFO => E::RenegotiationInfo(r.sub_u8().ok()?.rest().to_vec()),
            typ::STATUS_REQUEST => {
                r.rest();
                E::StatusRequest
            }
            typ::ALPN => {
                let mut list = r.sub_u16().ok()?;
                let mut protos = Vec::new();
                while !list.is_empty() {
                    let p = list.sub_u8().ok()?.rest();
                    protos.push(String::from_utf8(p.to_vec()).ok()?);
                }
                E::Alpn(protos)
            }
            typ::EXTENDED_MASTER_SECRET => E::ExtendedMasterSecret,
            typ::SESSION_TICKET => E::SessionTicket(r.rest().to_vec()),
            typ::SUPPORTED_VERSIONS => E::SupportedVersions(u16_list(&mut r.sub_u8().ok()?).ok()?),
            typ::KEY_SHARE => {
                let mut list = r.sub_u16().ok()?;
                let mut shares = Vec::new();
                while !list.is_empty() {
                    let g = list.u16().ok()?;
                    shares.push((g, list.sub_u16().ok()?.rest().to_vec()));
                }
                E::KeyShare(shares)
            }
            typ::PSK_KEY_EXCHANGE_MODES => E::PskKeyExchangeModes(r.sub_u8().ok()?.rest().to_vec()),
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
        put_u16(out, self.typ());
        put_vec(out, 2, &self.body());
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let t = r.u16()?;
        let data = r.sub_u16()?.rest();
        Ok(
            ClientExtension::typed(t, data).unwrap_or(ClientExtension::Raw {
                typ: t,
                data: data.to_vec(),
            }),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerExtension {
    /// Empty acknowledgement that the server used our SNI.
    ServerName,
    RenegotiationInfo(Vec<u8>),
    EcPointFormats(Vec<u8>),
    /// Empty: the server will send a CertificateStatus message.
    StatusRequest,
    Alpn(String),
    ExtendedMasterSecret,
    /// Empty: the server will send a NewSessionTicket.
    SessionTicket,
    SupportedVersions(u16),
    /// ServerHello key share.
    KeyShare {
        group: u16,
        key_exchange: Vec<u8>,
    },
    /// HelloRetryRequest: the group the server wants a share for.
    KeyShareHrr(u16),
    Cookie(Vec<u8>),
    EncryptThenMac,
    Unknown {
        typ: u16,
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

    pub fn encode(&self, out: &mut Vec<u8>) {
        use ServerExtension as E;
        put_u16(out, self.typ());
        with_len(out, 2, |b| match self {
            E::ServerName
            | E::StatusRequest
            | E::ExtendedMasterSecret
            | E::SessionTicket
            | E::EncryptThenMac => {}
            E::RenegotiationInfo(v) | E::EcPointFormats(v) => put_vec(b, 1, v),
            E::Alpn(p) => with_len(b, 2, |o| put_vec(o, 1, p.as_bytes())),
            E::SupportedVersions(v) => put_u16(b, *v),
            E::KeyShare {
                group,
                key_exchange,
            } => {
                put_u16(b, *group);
                put_vec(b, 2, key_exchange);
            }
            E::KeyShareHrr(g) => put_u16(b, *g),
            E::Cookie(c) => put_vec(b, 2, c),
            E::Unknown { data, .. } => b.extend_from_slice(data),
        });
    }

    /// Decode one extension from a ServerHello (`hrr == false`) or HelloRetryRequest
    /// (`hrr == true`); the key_share body differs between the two.
    pub fn decode(r: &mut Reader<'_>, hrr: bool) -> Result<Self, WireError> {
        use ServerExtension as E;
        let t = r.u16()?;
        let mut b = r.sub_u16()?;
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
            typ::RENEGOTIATION_INFO => E::RenegotiationInfo(b.sub_u8()?.rest().to_vec()),
            typ::EC_POINT_FORMATS => E::EcPointFormats(b.sub_u8()?.rest().to_vec()),
            typ::ALPN => {
                let mut list = b.sub_u16()?;
                let p = list.sub_u8()?.rest();
                list.expect_end("alpn: server must select exactly one protocol")?;
                if p.is_empty() {
                    return Err(bad("alpn: empty protocol name"));
                }
                E::Alpn(String::from_utf8_lossy(p).into_owned())
            }
            typ::SUPPORTED_VERSIONS => E::SupportedVersions(b.u16()?),
            typ::KEY_SHARE if hrr => E::KeyShareHrr(b.u16()?),
            typ::KEY_SHARE => {
                let group = b.u16()?;
                let key_exchange = b.sub_u16()?.rest().to_vec();
                E::KeyShare {
                    group,
                    key_exchange,
                }
            }
            typ::COOKIE => {
                let c = b.sub_u16()?.rest().to_vec();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn all_client() -> Vec<ClientExtension> {
        use ClientExtension as E;
        vec![
            E::ServerName("example.test".into()),
            E::SupportedGroups(vec![0x1d, 0x17]),
            E::EcPointFormats(vec![0]),
            E::SignatureAlgorithms(vec![0x0804, 0x0403]),
            E::RenegotiationInfo(vec![]),
            E::StatusRequest,
            E::Alpn(vec!["h2".into(), "http/1.1".into()]),
            E::ExtendedMasterSecret,
            E::SessionTicket(vec![]),
            E::SessionTicket(vec![1, 2, 3]),
            E::SupportedVersions(vec![0x0304, 0x0303]),
            E::KeyShare(vec![(0x1d, vec![9; 32])]),
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
                group: 0x1d,
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
            let mut b = Vec::new();
            e.encode(&mut b);
            let mut r = Reader::new(&b);
            assert_eq!(ServerExtension::decode(&mut r, false).unwrap(), e);
            assert!(r.is_empty());
        }
        let mut b = Vec::new();
        E::KeyShareHrr(0x17).encode(&mut b);
        assert_eq!(b, [0, 51, 0, 2, 0, 0x17]);
        assert_eq!(
            ServerExtension::decode(&mut Reader::new(&b), true).unwrap(),
            E::KeyShareHrr(0x17)
        );
        // the same bytes are a truncated ServerHello key_share
        assert!(ServerExtension::decode(&mut Reader::new(&b), false).is_err());
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
        ];
        for c in cases {
            assert!(
                ServerExtension::decode(&mut Reader::new(c), false).is_err(),
                "{c:02x?}"
            );
        }
    }
}
