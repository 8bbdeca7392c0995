//! Server handshake messages of TLS <= 1.2 (and the cleartext ServerHello / HelloRetryRequest of
//! TLS 1.3), plus reassembly of handshake messages from record payloads.

use super::WireError;
use super::codec::{Reader, put_u16, put_vec, with_len};
use super::extension::{ServerExtension, typ as ext};
use super::version::ProtocolVersion;

/// Handshake message types we care about.
pub mod msg {
    pub const HELLO_REQUEST: u8 = 0;
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const NEW_SESSION_TICKET: u8 = 4;
    pub const CERTIFICATE: u8 = 11;
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    pub const CERTIFICATE_REQUEST: u8 = 13;
    pub const SERVER_HELLO_DONE: u8 = 14;
    pub const CERTIFICATE_STATUS: u8 = 22;
}

/// Ceiling on one reassembled handshake message. Real certificate chains stay well below;
/// anything larger is refused instead of buffered.
pub const MAX_HANDSHAKE_MESSAGE: usize = 256 * 1024;

/// RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest.
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Handshake header (type, u24 length) followed by `body`.
pub fn encode_handshake(typ: u8, body: &[u8], out: &mut Vec<u8>) {
    out.push(typ);
    put_vec(out, 3, body);
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

    /// The next complete message as (type, body).
    pub fn pop(&mut self) -> Result<Option<(u8, Vec<u8>)>, WireError> {
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
        let typ = self.buf[0];
        let body = self.buf[4..4 + len].to_vec();
        self.buf.drain(..4 + len);
        Ok(Some((typ, body)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    pub legacy_version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suite: u16,
    pub compression: u8,
    pub extensions: Vec<ServerExtension>,
    /// The RFC 8446 HelloRetryRequest magic random was present.
    pub is_hello_retry_request: bool,
}

impl ServerHello {
    /// Decode a ServerHello body (after the handshake header).
    pub fn decode_body(body: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(body);
        let legacy_version = r.u16()?;
        let mut random = [0u8; 32];
        random.copy_from_slice(r.take(32)?);
        let session_id = r.sub_u8()?.rest().to_vec();
        if session_id.len() > 32 {
            return Err(WireError::Malformed(format!(
                "ServerHello: session id of {} bytes (max 32)",
                session_id.len()
            )));
        }
        let cipher_suite = r.u16()?;
        let compression = r.u8()?;
        let is_hrr = random == HRR_RANDOM;
        let mut extensions: Vec<ServerExtension> = Vec::new();
        if !r.is_empty() {
            let mut list = r.sub_u16()?;
            while !list.is_empty() {
                let e = ServerExtension::decode(&mut list, is_hrr)?;
                if extensions.iter().any(|x| x.typ() == e.typ()) {
                    return Err(WireError::Malformed(format!(
                        "ServerHello: extension {} repeated",
                        e.typ()
                    )));
                }
                extensions.push(e);
            }
        }
        r.expect_end("ServerHello")?;
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

    /// Body bytes (no handshake header). Extensions block omitted when there are none.
    pub fn encode_body(&self) -> Vec<u8> {
        let mut b = Vec::new();
        put_u16(&mut b, self.legacy_version);
        b.extend_from_slice(&self.random);
        put_vec(&mut b, 1, &self.session_id);
        put_u16(&mut b, self.cipher_suite);
        b.push(self.compression);
        if !self.extensions.is_empty() {
            with_len(&mut b, 2, |o| {
                self.extensions.iter().for_each(|e| e.encode(o))
            });
        }
        b
    }

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
    pub fn selected_group(&self) -> Option<u16> {
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerKeyExchange {
    Ecdhe {
        curve: u16,
        public_len: usize,
    },
    Dhe {
        p_bits: usize,
        g: Vec<u8>,
        public_len: usize,
    },
    /// A form we do not interpret (RSA-export, PSK, SRP, explicit curves ...): raw body.
    Other(Vec<u8>),
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
        let curve = r.u16().ok()?;
        let public = r.sub_u8().ok()?;
        if public.is_empty() || !signature_fits(r.rest()) {
            return None;
        }
        Some(ServerKeyExchange::Ecdhe {
            curve,
            public_len: public.remaining(),
        })
    }

    fn try_dhe(body: &[u8]) -> Option<Self> {
        let mut r = Reader::new(body);
        let p = r.sub_u16().ok()?.rest();
        let g = r.sub_u16().ok()?.rest().to_vec();
        let ys = r.sub_u16().ok()?;
        if p.is_empty() || g.is_empty() || ys.is_empty() || !signature_fits(r.rest()) {
            return None;
        }
        Some(ServerKeyExchange::Dhe {
            p_bits: bit_length(p),
            g,
            public_len: ys.remaining(),
        })
    }

    /// Decode a ServerKeyExchange body. With `KxHint::Unknown`, ECDHE (named curve) is tried
    /// first, then DHE; a body fitting neither exactly is kept as `Other`.
    pub fn decode_body(body: &[u8], hint: KxHint) -> Self {
        let parsed = match hint {
            KxHint::Ecdhe => Self::try_ecdhe(body),
            KxHint::Dhe => Self::try_dhe(body),
            KxHint::Unknown => Self::try_ecdhe(body).or_else(|| Self::try_dhe(body)),
        };
        parsed.unwrap_or_else(|| ServerKeyExchange::Other(body.to_vec()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    pub cert_types: Vec<u8>,
    /// Empty before TLS 1.2 (the field does not exist there).
    pub sig_algs: Vec<u16>,
    /// DER-encoded distinguished names of acceptable CAs.
    pub ca_names: Vec<Vec<u8>>,
}

impl CertificateRequest {
    /// `tls12`: the negotiated version is TLS 1.2, which adds the signature-algorithm list.
    pub fn decode_body(body: &[u8], tls12: bool) -> Result<Self, WireError> {
        let mut r = Reader::new(body);
        let cert_types = r.sub_u8()?.rest().to_vec();
        let mut sig_algs = Vec::new();
        if tls12 {
            let mut s = r.sub_u16()?;
            if s.remaining() % 2 != 0 {
                return Err(WireError::Malformed(
                    "CertificateRequest: odd signature list".into(),
                ));
            }
            while !s.is_empty() {
                sig_algs.push(s.u16()?);
            }
        }
        let mut names = r.sub_u16()?;
        let mut ca_names = Vec::new();
        while !names.is_empty() {
            ca_names.push(names.sub_u16()?.rest().to_vec());
        }
        r.expect_end("CertificateRequest")?;
        Ok(CertificateRequest {
            cert_types,
            sig_algs,
            ca_names,
        })
    }

    pub fn encode_body(&self, tls12: bool) -> Vec<u8> {
        let mut b = Vec::new();
        put_vec(&mut b, 1, &self.cert_types);
        if tls12 {
            with_len(&mut b, 2, |o| {
                self.sig_algs.iter().for_each(|&s| put_u16(o, s))
            });
        }
        with_len(&mut b, 2, |o| {
            self.ca_names.iter().for_each(|n| put_vec(o, 2, n))
        });
        b
    }
}

/// TLS <= 1.2 Certificate body: a u24 list of u24-prefixed DER certificates.
pub fn decode_certificate_list(body: &[u8]) -> Result<Vec<Vec<u8>>, WireError> {
    let mut r = Reader::new(body);
    let mut list = r.sub_u24()?;
    r.expect_end("Certificate")?;
    let mut certs = Vec::new();
    while !list.is_empty() {
        let mut c = list.sub_u24()?;
        if c.is_empty() {
            return Err(WireError::Malformed(
                "Certificate: empty certificate entry".into(),
            ));
        }
        certs.push(c.rest().to_vec());
    }
    Ok(certs)
}

pub fn encode_certificate_list(certs: &[Vec<u8>]) -> Vec<u8> {
    let mut b = Vec::new();
    with_len(&mut b, 3, |o| certs.iter().for_each(|c| put_vec(o, 3, c)));
    b
}

/// CertificateStatus body (RFC 6066 §8): status_type 1 (ocsp) then a u24 OCSP response.
pub fn decode_certificate_status(body: &[u8]) -> Result<Vec<u8>, WireError> {
    let mut r = Reader::new(body);
    let t = r.u8()?;
    if t != 1 {
        return Err(WireError::Malformed(format!(
            "CertificateStatus: status type {t} is not ocsp(1)"
        )));
    }
    let resp = r.sub_u24()?.rest().to_vec();
    r.expect_end("CertificateStatus")?;
    Ok(resp)
}

pub fn encode_certificate_status(ocsp: &[u8]) -> Vec<u8> {
    let mut b = vec![1];
    put_vec(&mut b, 3, ocsp);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(exts: Vec<ServerExtension>, random: [u8; 32]) -> ServerHello {
        ServerHello {
            legacy_version: 0x0303,
            random,
            session_id: vec![7; 32],
            cipher_suite: 0x1301,
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
                    group: 0x1d,
                    key_exchange: vec![1; 32],
                },
                ServerExtension::Alpn("h2".into()),
                ServerExtension::RenegotiationInfo(vec![]),
                ServerExtension::ExtendedMasterSecret,
            ],
            [3; 32],
        );
        let d = ServerHello::decode_body(&h.encode_body()).unwrap();
        assert_eq!(d, h);
        assert_eq!(d.negotiated_version(), ProtocolVersion::Tls13);
        assert_eq!(d.selected_group(), Some(0x1d));
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
                ServerExtension::KeyShareHrr(0x17),
            ],
            HRR_RANDOM,
        );
        let d = ServerHello::decode_body(&h.encode_body()).unwrap();
        assert!(d.is_hello_retry_request);
        assert_eq!(d.selected_group(), Some(0x17));
    }

    #[test]
    fn old_server_hello_without_extensions() {
        let mut h = sh(vec![], [1; 32]);
        h.legacy_version = 0x0300;
        h.session_id.clear();
        let b = h.encode_body();
        assert_eq!(b.len(), 2 + 32 + 1 + 2 + 1);
        let d = ServerHello::decode_body(&b).unwrap();
        assert_eq!(d.negotiated_version(), ProtocolVersion::Ssl3);
        assert!(!d.secure_renegotiation());
    }

    #[test]
    fn hostile_server_hellos() {
        let good = sh(vec![ServerExtension::ExtendedMasterSecret], [1; 32]).encode_body();
        let no_ext_block = 2 + 32 + 1 + 32 + 2 + 1;
        for n in 0..good.len() {
            // cut exactly before the extensions block is a valid extension-less hello
            assert_eq!(
                ServerHello::decode_body(&good[..n]).is_ok(),
                n == no_ext_block,
                "prefix {n}"
            );
        }
        let mut long_sid = good.clone();
        long_sid[34] = 33;
        assert!(ServerHello::decode_body(&long_sid).is_err());
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(ServerHello::decode_body(&trailing).is_err());
        let dup = sh(
            vec![
                ServerExtension::ExtendedMasterSecret,
                ServerExtension::ExtendedMasterSecret,
            ],
            [1; 32],
        );
        assert!(ServerHello::decode_body(&dup.encode_body()).is_err());
        let mut huge = good.clone();
        let n = huge.len();
        huge[n - 6] = 0xff; // extensions length
        huge[n - 5] = 0xff;
        assert!(ServerHello::decode_body(&huge).is_err());
    }

    #[test]
    fn joiner_reassembles_split_and_coalesced() {
        let mut all = Vec::new();
        encode_handshake(2, &[1, 2, 3], &mut all);
        encode_handshake(14, &[], &mut all);
        encode_handshake(11, &[9; 300], &mut all);
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
            assert_eq!(got[1], (14, vec![]));
            assert_eq!(got[2].1.len(), 300);
            assert!(!j.is_partial());
        }
        let mut j = HandshakeJoiner::new();
        j.push(&[11, 0xff, 0xff, 0xff]).unwrap();
        assert_eq!(j.pop(), Err(WireError::TooLarge("handshake message")));
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
            ServerKeyExchange::decode_body(&b, KxHint::Unknown),
            ServerKeyExchange::Ecdhe {
                curve: 0x17,
                public_len: 65
            }
        );
        // TLS 1.0 signature form, hinted
        let b = ske_ecdhe(&[0, 2, 1, 2]);
        assert!(matches!(
            ServerKeyExchange::decode_body(&b, KxHint::Ecdhe),
            ServerKeyExchange::Ecdhe { .. }
        ));
        // DHE with a 2048-bit p whose top byte is 0x80 and a leading zero byte
        let mut b = Vec::new();
        let mut p = vec![0u8];
        p.push(0x80);
        p.extend_from_slice(&[0xff; 255]);
        put_vec(&mut b, 2, &p);
        put_vec(&mut b, 2, &[2]);
        put_vec(&mut b, 2, &[5; 256]);
        b.extend_from_slice(&[8, 4, 0, 1, 0]);
        assert_eq!(
            ServerKeyExchange::decode_body(&b, KxHint::Unknown),
            ServerKeyExchange::Dhe {
                p_bits: 2048,
                g: vec![2],
                public_len: 256
            }
        );
        assert!(matches!(
            ServerKeyExchange::decode_body(&b, KxHint::Ecdhe),
            ServerKeyExchange::Other(_)
        ));
        // garbage and truncation never panic
        for n in 0..b.len() {
            let _ = ServerKeyExchange::decode_body(&b[..n], KxHint::Unknown);
        }
        assert_eq!(
            ServerKeyExchange::decode_body(&[], KxHint::Unknown),
            ServerKeyExchange::Other(vec![])
        );
        assert_eq!(bit_length(&[0, 0, 1]), 1);
        assert_eq!(bit_length(&[]), 0);
    }

    #[test]
    fn certificate_request_both_versions() {
        let cr = CertificateRequest {
            cert_types: vec![1, 64],
            sig_algs: vec![0x0804, 0x0403],
            ca_names: vec![vec![0x30, 0]],
        };
        assert_eq!(
            CertificateRequest::decode_body(&cr.encode_body(true), true).unwrap(),
            cr
        );
        let old = CertificateRequest {
            sig_algs: vec![],
            ..cr.clone()
        };
        assert_eq!(
            CertificateRequest::decode_body(&old.encode_body(false), false).unwrap(),
            old
        );
        assert!(CertificateRequest::decode_body(&cr.encode_body(true), false).is_err());
        assert!(CertificateRequest::decode_body(&[1, 1, 0, 3, 4, 1, 0, 0, 0], true).is_err());
        assert!(CertificateRequest::decode_body(&[], true).is_err());
    }

    #[test]
    fn certificate_and_status() {
        let certs = vec![vec![0x30, 1, 2], vec![0x30; 70000]];
        let b = encode_certificate_list(&certs);
        assert_eq!(decode_certificate_list(&b).unwrap(), certs);
        assert_eq!(
            decode_certificate_list(&[0, 0, 0]).unwrap(),
            Vec::<Vec<u8>>::new()
        );
        assert!(decode_certificate_list(&[0, 0, 3, 0, 0, 0]).is_err());
        assert!(decode_certificate_list(&[0xff, 0xff, 0xff, 0]).is_err());
        assert!(decode_certificate_list(&[0, 0, 4, 0, 0, 9, 1]).is_err());
        let s = encode_certificate_status(&[0x30, 3]);
        assert_eq!(s, [1, 0, 0, 2, 0x30, 3]);
        assert_eq!(decode_certificate_status(&s).unwrap(), vec![0x30, 3]);
        assert!(decode_certificate_status(&[2, 0, 0, 0]).is_err());
        assert!(decode_certificate_status(&[1, 0, 0, 5]).is_err());
    }
}
