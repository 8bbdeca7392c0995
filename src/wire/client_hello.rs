//! ClientHello construction (for probes) and parsing (to read back captured hellos). The
//! SSLv2-format CLIENT-HELLO lives with the other SSLv2 messages in [`super::sslv2`].

use super::WireError;
use super::codec::{Codec, Opaque8, Reader};
use super::extension::ClientExtension;
use super::groups::{self, NamedGroup};
use super::handshake::{HandshakeJoiner, HandshakeMessage, HandshakePayload, HandshakeType};
use super::record::{ContentType, Deframer, encode_fragmented};
use super::suites::{CipherSuiteId, TLS_EMPTY_RENEGOTIATION_INFO_SCSV};
use super::version::ProtocolVersion;
use super::{keyshare, sigalgs};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    pub legacy_version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suites: Vec<CipherSuiteId>,
    pub compression_methods: Vec<u8>,
    pub extensions: Vec<ClientExtension>,
}

/// The body after the handshake header. The extensions block is left out entirely when there
/// are no extensions, as SSLv3 clients do (and may be absent on decode).
impl Codec for ClientHello {
    fn encode(&self, out: &mut Vec<u8>) {
        self.legacy_version.encode(out);
        self.random.encode(out);
        Opaque8::write(&self.session_id, out);
        self.cipher_suites.encode(out);
        Opaque8::write(&self.compression_methods, out);
        if !self.extensions.is_empty() {
            self.extensions.encode(out);
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let legacy_version = r.u16()?;
        let random = <[u8; 32]>::decode(r)?;
        let session_id = Opaque8::read(r)?.to_vec();
        if session_id.len() > 32 {
            return Err(WireError::Malformed(
                "ClientHello: session id longer than 32".into(),
            ));
        }
        let cipher_suites = Vec::decode(r)?;
        let compression_methods = Opaque8::read(r)?.to_vec();
        let mut extensions = Vec::new();
        if !r.is_empty() {
            extensions = Vec::decode(r)?;
        }
        Ok(ClientHello {
            legacy_version,
            random,
            session_id,
            cipher_suites,
            compression_methods,
            extensions,
        })
    }
}

impl HandshakePayload for ClientHello {
    const TYPE: HandshakeType = HandshakeType::ClientHello;
}

impl ClientHello {
    /// Handshake header + body.
    pub fn encode_handshake(&self) -> Vec<u8> {
        HandshakeMessage::of(self).to_bytes()
    }

    /// The hello wrapped in handshake record(s) of `record_version`, split at 2^14 bytes.
    pub fn encode_records(&self, record_version: u16) -> Vec<u8> {
        let mut out = Vec::new();
        encode_fragmented(
            ContentType::Handshake,
            record_version,
            &self.encode_handshake(),
            &mut out,
        );
        out
    }

    /// Read back a captured hello: one or more handshake records holding exactly one
    /// ClientHello and nothing else.
    pub fn parse_record(bytes: &[u8]) -> Result<ClientHello, WireError> {
        let mut d = Deframer::new();
        let mut j = HandshakeJoiner::new();
        let mut found = None;
        for chunk in bytes.chunks(8192) {
            d.push(chunk)?;
            while let Some(rec) = d.pop()? {
                if rec.typ != ContentType::Handshake {
                    return Err(WireError::Malformed(format!(
                        "ClientHello: record of type {}",
                        rec.typ.to_u8()
                    )));
                }
                if found.is_some() {
                    return Err(WireError::Malformed(
                        "ClientHello: data after the hello".into(),
                    ));
                }
                j.push(&rec.payload)?;
                if let Some(m) = j.pop()? {
                    found = Some(m.read::<ClientHello>()?);
                    if j.is_partial() {
                        return Err(WireError::Malformed(
                            "ClientHello: data after the hello".into(),
                        ));
                    }
                }
            }
        }
        if !d.buffered().is_empty() {
            return Err(WireError::Malformed("ClientHello: truncated record".into()));
        }
        found.ok_or_else(|| WireError::Malformed("ClientHello: truncated or missing".into()))
    }

    /// A hello for probing whether `version` is accepted and what the server answers.
    ///
    /// `suites` go out as given. SSLv3 (and SSLv2, which has its own hello format — see
    /// [`Sslv2ClientHello`](super::sslv2::Sslv2ClientHello)) hellos carry no extensions. From TLS 1.0 on we send what a modern
    /// client sends (SNI when given, every probe group and signature scheme, ec_point_formats,
    /// empty renegotiation_info unless the SCSV is among `suites`, status_request,
    /// extended_master_secret, an empty session_ticket); for TLS 1.3 also supported_versions,
    /// real x25519 and secp256r1 key shares, psk_key_exchange_modes and a 32-byte session id
    /// (middlebox compatibility). Hellos that would land between 256 and 511 bytes get an RFC
    /// 7685 padding extension, as OpenSSL, NSS and Chrome add it, because some load balancers
    /// hang on that size.
    pub fn for_probe(
        version: ProtocolVersion,
        sni: Option<&str>,
        suites: &[CipherSuiteId],
    ) -> ClientHello {
        use ClientExtension as E;
        let wire = version.to_wire();
        let tls13 = version == ProtocolVersion::Tls13;
        let old = matches!(version, ProtocolVersion::Ssl2 | ProtocolVersion::Ssl3) || wire < 0x0301;
        let legacy_version = match version {
            ProtocolVersion::Ssl2 => 0x0300,
            _ if tls13 => 0x0303,
            _ => wire,
        };
        let mut random = [0u8; 32];
        keyshare::random_bytes(&mut random);
        let mut session_id = Vec::new();
        if tls13 {
            session_id = vec![0u8; 32];
            keyshare::random_bytes(&mut session_id);
        }
        let mut extensions = Vec::new();
        if !old {
            if let Some(name) =
                sni.filter(|n| !n.is_empty() && n.parse::<std::net::IpAddr>().is_err())
            {
                extensions.push(E::ServerName(name.trim_end_matches('.').to_string()));
            }
            if !suites.contains(&TLS_EMPTY_RENEGOTIATION_INFO_SCSV) {
                extensions.push(E::RenegotiationInfo(Vec::new()));
            }
            extensions.push(E::SupportedGroups(groups::probe_groups().to_vec()));
            extensions.push(E::EcPointFormats(vec![0]));
            extensions.push(E::SessionTicket(Vec::new()));
            extensions.push(E::StatusRequest);
            extensions.push(E::ExtendedMasterSecret);
            extensions.push(E::SignatureAlgorithms(sigalgs::probe_sigalgs().to_vec()));
            if tls13 {
                extensions.push(E::SupportedVersions(vec![0x0304]));
                extensions.push(E::PskKeyExchangeModes(vec![1]));
                let shares = [NamedGroup::X25519, NamedGroup::SECP256R1]
                    .into_iter()
                    .filter_map(|g| keyshare::ephemeral_public_key(g).map(|k| (g, k)))
                    .collect();
                extensions.push(E::KeyShare(shares));
            }
        }
        let mut hello = ClientHello {
            legacy_version,
            random,
            session_id,
            cipher_suites: suites.to_vec(),
            compression_methods: vec![0],
            extensions,
        };
        if !old {
            let len = hello.encode_handshake().len();
            if (256..512).contains(&len) {
                // 4 bytes of extension header plus at least one byte of padding
                let pad = (512 - len).saturating_sub(4).max(1);
                hello.extensions.push(E::Padding(pad));
            }
        }
        hello
    }

    /// Record-layer version for a `for_probe` hello: 0x0300 for SSLv3, 0x0301 otherwise, as
    /// real clients send (some servers reject a higher record version in the first flight).
    pub fn probe_record_version(version: ProtocolVersion) -> u16 {
        match version {
            ProtocolVersion::Ssl2 | ProtocolVersion::Ssl3 => 0x0300,
            _ => 0x0301,
        }
    }

    /// The records a probe sends: this hello under the record version real clients use for
    /// it (SSLv3 for an SSLv3 hello, TLS 1.0 otherwise), derived from `legacy_version`.
    pub fn encode_probe(&self) -> Vec<u8> {
        let v = ProtocolVersion::from_wire(self.legacy_version);
        self.encode_records(Self::probe_record_version(v))
    }
}

/// Run `ClientHello::parse_record` on arbitrary bytes and check that anything it accepts
/// re-encodes into something that parses back identically. Body of the `client_hello` fuzz
/// target; panics only if that invariant breaks.
pub fn fuzz_parse(data: &[u8]) {
    if let Ok(h) = ClientHello::parse_record(data) {
        let again = ClientHello::parse_record(&h.encode_records(0x0301));
        assert_eq!(
            again.as_ref(),
            Ok(&h),
            "re-encoded ClientHello parses differently"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClientExtension as E;

    fn ids(v: &[u16]) -> Vec<CipherSuiteId> {
        v.iter().map(|&v| CipherSuiteId(v)).collect()
    }

    #[test]
    fn round_trip_through_records() {
        let h = ClientHello::for_probe(
            ProtocolVersion::Tls13,
            Some("example.test"),
            &ids(&[0x1301, 0x1302, 0xc02f]),
        );
        let bytes = h.encode_records(0x0301);
        assert_eq!(&bytes[..3], &[0x16, 3, 1]);
        assert_eq!(ClientHello::parse_record(&bytes).unwrap(), h);
    }

    #[test]
    fn probe_contents_by_version() {
        let ssl3 = ClientHello::for_probe(ProtocolVersion::Ssl3, Some("a.test"), &ids(&[0x000a]));
        assert_eq!(ssl3.legacy_version, 0x0300);
        assert!(ssl3.extensions.is_empty());
        assert_eq!(
            ClientHello::probe_record_version(ProtocolVersion::Ssl3),
            0x0300
        );

        let t10 = ClientHello::for_probe(
            ProtocolVersion::Tls10,
            Some("a.test"),
            &ids(&[0xc013, 0x00ff]),
        );
        assert_eq!(t10.legacy_version, 0x0301);
        assert!(t10.extensions.contains(&E::ServerName("a.test".into())));
        assert!(
            !t10.extensions
                .iter()
                .any(|e| matches!(e, E::RenegotiationInfo(_))),
            "SCSV given"
        );
        assert!(t10.extensions.contains(&E::ExtendedMasterSecret));
        assert!(
            !t10.extensions
                .iter()
                .any(|e| matches!(e, E::SupportedVersions(_) | E::KeyShare(_)))
        );
        assert_eq!(
            ClientHello::probe_record_version(ProtocolVersion::Tls12),
            0x0301
        );

        let t12 = ClientHello::for_probe(ProtocolVersion::Tls12, None, &ids(&[0xc02f]));
        assert!(!t12.extensions.iter().any(|e| matches!(e, E::ServerName(_))));
        assert!(t12.extensions.contains(&E::RenegotiationInfo(vec![])));
        assert!(t12.session_id.is_empty());

        let t13 =
            ClientHello::for_probe(ProtocolVersion::Tls13, Some("127.0.0.1"), &ids(&[0x1301]));
        assert_eq!(t13.legacy_version, 0x0303);
        assert_eq!(t13.session_id.len(), 32);
        assert!(
            !t13.extensions.iter().any(|e| matches!(e, E::ServerName(_))),
            "no SNI for IP literals"
        );
        assert!(t13.extensions.contains(&E::SupportedVersions(vec![0x0304])));
        let shares = t13.extensions.iter().find_map(|e| match e {
            E::KeyShare(s) => Some(s.clone()),
            _ => None,
        });
        let shares = shares.unwrap();
        assert_eq!(
            shares.iter().map(|s| (s.0, s.1.len())).collect::<Vec<_>>(),
            vec![(NamedGroup::X25519, 32), (NamedGroup::SECP256R1, 65)]
        );
        let len = t13.encode_handshake().len();
        assert!(
            !(256..512).contains(&len),
            "padding keeps hello out of 256..511 ({len})"
        );
    }

    #[test]
    fn randoms_are_fresh() {
        let a = ClientHello::for_probe(ProtocolVersion::Tls12, None, &ids(&[1]));
        let b = ClientHello::for_probe(ProtocolVersion::Tls12, None, &ids(&[1]));
        assert_ne!(a.random, b.random);
    }

    #[test]
    fn large_hello_splits_into_records() {
        let mut h = ClientHello::for_probe(ProtocolVersion::Tls12, None, &ids(&[1]));
        h.extensions.push(E::Padding(20_000));
        let bytes = h.encode_records(0x0301);
        let second = 5 + (1 << 14);
        assert_eq!(&bytes[second..second + 3], &[0x16, 3, 1]);
        assert_eq!(ClientHello::parse_record(&bytes).unwrap(), h);
    }

    #[test]
    fn hostile_hellos() {
        let good = ClientHello::for_probe(
            ProtocolVersion::Tls12,
            Some("x.test"),
            &ids(&[0xc02f, 0x009c]),
        )
        .encode_records(0x0301);
        for n in 0..good.len() {
            assert!(ClientHello::parse_record(&good[..n]).is_err(), "prefix {n}");
        }
        let mut trailing = good.clone();
        trailing.extend_from_slice(&[0x16, 3, 1, 0, 1, 0]);
        assert!(ClientHello::parse_record(&trailing).is_err());
        let mut wrong_type = good.clone();
        wrong_type[5] = 2;
        assert!(ClientHello::parse_record(&wrong_type).is_err());
        assert!(ClientHello::parse_record(&[0x16, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff]).is_err());
        assert!(ClientHello::parse_record(b"GET / HTTP/1.1\r\n").is_err());
        assert!(ClientHello::parse_record(&[]).is_err());
        // odd suite list
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0; 32]);
        body.extend_from_slice(&[0, 0, 3, 0, 1, 2, 1, 0]);
        assert!(ClientHello::from_bytes(&body).is_err());
        // session id longer than 32
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0; 32]);
        body.push(33);
        body.extend_from_slice(&[0; 33]);
        body.extend_from_slice(&[0, 2, 0, 0x2f, 1, 0]);
        assert!(ClientHello::from_bytes(&body).is_err());
    }

    #[test]
    fn fuzz_parse_holds_on_mutations() {
        let good = ClientHello::for_probe(ProtocolVersion::Tls13, Some("x.test"), &ids(&[0x1301]))
            .encode_records(0x0301);
        let mut state = 0x1234_5678_u32;
        for _ in 0..2000 {
            let mut m = good.clone();
            for _ in 0..3 {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let i = state as usize % m.len();
                m[i] = (state >> 8) as u8;
            }
            fuzz_parse(&m);
        }
    }
}
