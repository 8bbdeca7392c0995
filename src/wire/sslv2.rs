//! SSL 2.0 messages (draft-hickman-netscape-ssl-00): the CLIENT-HELLO we send to detect SSLv2
//! servers, and the SERVER-HELLO or ERROR they answer with.

use super::WireError;
use super::codec::{Codec, Reader};
use super::keyshare;

pub const MSG_ERROR: u8 = 0;
pub const MSG_CLIENT_HELLO: u8 = 1;
pub const MSG_SERVER_HELLO: u8 = 4;

/// The seven SSLv2 cipher kinds (3-byte codes).
pub const CIPHER_KINDS: [u32; 7] = [
    0x010080, // RC4_128_WITH_MD5
    0x020080, // RC4_128_EXPORT40_WITH_MD5
    0x030080, // RC2_128_CBC_WITH_MD5
    0x040080, // RC2_128_CBC_EXPORT40_WITH_MD5
    0x050080, // IDEA_128_CBC_WITH_MD5
    0x060040, // DES_64_CBC_WITH_MD5
    0x0700c0, // DES_192_EDE3_CBC_WITH_MD5
];

/// The longest body a 2-byte SSLv2 record header can announce.
const MAX_RECORD: usize = 0x7fff;

/// Write `body` as one SSLv2 record with the 2-byte header (high bit set, 15-bit length). A
/// longer body is cut to what the header can state.
fn write_record(body: &[u8], out: &mut Vec<u8>) {
    let n = body.len().min(MAX_RECORD);
    out.push(0x80 | (n >> 8) as u8);
    out.push(n as u8);
    out.extend_from_slice(&body[..n]);
}

/// Read one SSLv2 record with the 2-byte header; a reader over its body.
fn read_record<'a>(r: &mut Reader<'a>) -> Result<Reader<'a>, WireError> {
    let hi = r.u8()?;
    if hi & 0x80 == 0 {
        return Err(WireError::Malformed("SSLv2 record header".into()));
    }
    let n = (((hi & 0x7f) as usize) << 8) | r.u8()? as usize;
    Ok(Reader::new(r.take(n)?))
}

/// Write SSLv2 cipher kinds (three bytes each).
fn write_kinds(kinds: &[u32], out: &mut Vec<u8>) {
    for k in kinds {
        out.extend_from_slice(&k.to_be_bytes()[1..]);
    }
}

/// Read `len` bytes of SSLv2 cipher kinds.
fn read_kinds(r: &mut Reader<'_>, len: usize, what: &str) -> Result<Vec<u32>, WireError> {
    if len % 3 != 0 {
        return Err(WireError::Malformed(format!(
            "{what}: cipher specs not a multiple of 3"
        )));
    }
    let mut specs = Reader::new(r.take(len)?);
    let mut kinds = Vec::with_capacity(len / 3);
    while !specs.is_empty() {
        kinds.push(specs.u24()?);
    }
    Ok(kinds)
}

/// SSLv2 CLIENT-HELLO, as one record with the 2-byte header. SSLv2 puts every length first
/// and then the data, so its fields are not length-prefixed vectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sslv2ClientHello {
    pub version: u16,
    /// 3-byte cipher kinds.
    pub cipher_specs: Vec<u32>,
    pub session_id: Vec<u8>,
    pub challenge: Vec<u8>,
}

impl Sslv2ClientHello {
    /// Version 2, all seven SSLv2 cipher kinds, no session id, a random 16-byte challenge.
    pub fn for_probe() -> Sslv2ClientHello {
        let mut challenge = vec![0u8; 16];
        keyshare::random_bytes(&mut challenge);
        Sslv2ClientHello {
            version: 0x0002,
            cipher_specs: CIPHER_KINDS.to_vec(),
            session_id: Vec::new(),
            challenge,
        }
    }
}

impl Codec for Sslv2ClientHello {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut b = vec![MSG_CLIENT_HELLO];
        self.version.encode(&mut b);
        for n in [
            self.cipher_specs.len() * 3,
            self.session_id.len(),
            self.challenge.len(),
        ] {
            (n as u16).encode(&mut b);
        }
        write_kinds(&self.cipher_specs, &mut b);
        b.extend_from_slice(&self.session_id);
        b.extend_from_slice(&self.challenge);
        write_record(&b, out);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let mut body = read_record(r)?;
        let t = body.u8()?;
        if t != MSG_CLIENT_HELLO {
            return Err(WireError::Malformed(format!(
                "SSLv2 message type {t} is not CLIENT-HELLO"
            )));
        }
        let version = body.u16()?;
        let specs_len = body.u16()? as usize;
        let session_len = body.u16()? as usize;
        let challenge_len = body.u16()? as usize;
        let cipher_specs = read_kinds(&mut body, specs_len, "SSLv2 CLIENT-HELLO")?;
        let session_id = body.take(session_len)?.to_vec();
        let challenge = body.take(challenge_len)?.to_vec();
        body.expect_end("SSLv2 CLIENT-HELLO")?;
        Ok(Sslv2ClientHello {
            version,
            cipher_specs,
            session_id,
            challenge,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sslv2ServerHello {
    pub session_id_hit: bool,
    /// DER certificate (certificate type 1, X.509).
    #[serde(with = "crate::serde_hex")]
    pub certificate: Vec<u8>,
    pub cipher_specs: Vec<u32>,
    pub version: u16,
    #[serde(with = "crate::serde_hex")]
    pub connection_id: Vec<u8>,
}

/// SSLv2 certificate type X.509.
const CERT_TYPE_X509: u8 = 1;

/// A decoded SSLv2 server message: one record with the 2-byte header. Bytes after that record
/// are left in the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sslv2Message {
    ServerHello(Sslv2ServerHello),
    /// ERROR message with its code (1 no-cipher, 2 no-certificate, 4 bad-certificate,
    /// 6 unsupported-certificate-type).
    Error(u16),
}

/// With at least 3 bytes: do they start an SSLv2 SERVER-HELLO or ERROR in the 2-byte header
/// form? `None` when fewer than 3 bytes are available.
pub fn is_sslv2_record_start(bytes: &[u8]) -> Option<bool> {
    if bytes.len() < 3 {
        return None;
    }
    if bytes[0] & 0x80 == 0 {
        return Some(false);
    }
    let len = (((bytes[0] & 0x7f) as usize) << 8) | bytes[1] as usize;
    Some(match bytes[2] {
        MSG_SERVER_HELLO => len >= 11,
        MSG_ERROR => len == 3,
        _ => false,
    })
}

/// Length of the record starting at `bytes` (header included) in the 2-byte header form.
pub fn record_len(bytes: &[u8]) -> Option<usize> {
    if bytes.len() < 2 || bytes[0] & 0x80 == 0 {
        return None;
    }
    Some(2 + ((((bytes[0] & 0x7f) as usize) << 8) | bytes[1] as usize))
}

impl Codec for Sslv2Message {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut b = Vec::new();
        match self {
            Sslv2Message::Error(code) => {
                b.push(MSG_ERROR);
                code.encode(&mut b);
            }
            Sslv2Message::ServerHello(h) => {
                b.extend_from_slice(&[MSG_SERVER_HELLO, h.session_id_hit as u8, CERT_TYPE_X509]);
                h.version.encode(&mut b);
                for n in [
                    h.certificate.len(),
                    h.cipher_specs.len() * 3,
                    h.connection_id.len(),
                ] {
                    (n as u16).encode(&mut b);
                }
                b.extend_from_slice(&h.certificate);
                write_kinds(&h.cipher_specs, &mut b);
                b.extend_from_slice(&h.connection_id);
            }
        }
        write_record(&b, out);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let mut body = read_record(r)?;
        match body.u8()? {
            MSG_ERROR => {
                let code = body.u16()?;
                body.expect_end("SSLv2 ERROR")?;
                Ok(Sslv2Message::Error(code))
            }
            MSG_SERVER_HELLO => {
                let session_id_hit = body.u8()? != 0;
                let _cert_type = body.u8()?;
                let version = body.u16()?;
                let cert_len = body.u16()? as usize;
                let specs_len = body.u16()? as usize;
                let conn_len = body.u16()? as usize;
                if specs_len % 3 != 0 {
                    return Err(WireError::Malformed(
                        "SSLv2 SERVER-HELLO: cipher specs not a multiple of 3".into(),
                    ));
                }
                let certificate = body.take(cert_len)?.to_vec();
                let cipher_specs = read_kinds(&mut body, specs_len, "SSLv2 SERVER-HELLO")?;
                let connection_id = body.take(conn_len)?.to_vec();
                body.expect_end("SSLv2 SERVER-HELLO")?;
                Ok(Sslv2Message::ServerHello(Sslv2ServerHello {
                    session_id_hit,
                    certificate,
                    cipher_specs,
                    version,
                    connection_id,
                }))
            }
            t => Err(WireError::Malformed(format!(
                "SSLv2 message type {t} from server"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> Sslv2ServerHello {
        Sslv2ServerHello {
            session_id_hit: false,
            certificate: vec![0x30, 0x82, 1, 2, 3],
            cipher_specs: vec![0x010080, 0x0700c0],
            version: 2,
            connection_id: vec![9; 16],
        }
    }

    fn encode_server_hello(h: &Sslv2ServerHello) -> Vec<u8> {
        Sslv2Message::ServerHello(h.clone()).to_bytes()
    }

    fn decode_server_record(b: &[u8]) -> Result<Sslv2Message, WireError> {
        Sslv2Message::decode(&mut Reader::new(b))
    }

    #[test]
    fn server_hello_round_trip() {
        let b = encode_server_hello(&hello());
        assert_eq!(is_sslv2_record_start(&b), Some(true));
        assert_eq!(record_len(&b), Some(b.len()));
        assert_eq!(
            decode_server_record(&b).unwrap(),
            Sslv2Message::ServerHello(hello())
        );
    }

    #[test]
    fn error_message() {
        let b = [0x80, 3, 0, 0, 1];
        assert_eq!(is_sslv2_record_start(&b), Some(true));
        assert_eq!(decode_server_record(&b).unwrap(), Sslv2Message::Error(1));
        assert_eq!(Sslv2Message::Error(1).to_bytes(), b);
        // the record ends where its header says; what follows stays unread
        let mut r = Reader::new(&[0x80, 3, 0, 0, 2, 0x16]);
        assert_eq!(
            Sslv2Message::decode(&mut r).unwrap(),
            Sslv2Message::Error(2)
        );
        assert_eq!(r.remaining(), 1);
    }

    #[test]
    fn client_hello_layout_and_round_trip() {
        let h = Sslv2ClientHello::for_probe();
        let b = h.to_bytes();
        assert_eq!(b[0], 0x80);
        assert_eq!(b[1] as usize, b.len() - 2);
        assert_eq!(b[2], 1);
        assert_eq!(&b[3..5], &[0, 2]);
        assert_eq!(&b[5..11], &[0, 21, 0, 0, 0, 16]);
        assert_eq!(&b[11..14], &[1, 0, 0x80]);
        assert_eq!(b.len(), 2 + 9 + 21 + 16);
        assert_eq!(Sslv2ClientHello::from_bytes(&b).unwrap(), h);
        for n in 0..b.len() {
            assert!(Sslv2ClientHello::from_bytes(&b[..n]).is_err(), "prefix {n}");
        }
        let mut odd = b.clone();
        odd[6] = 20; // specs length 20: not a multiple of 3
        assert!(Sslv2ClientHello::from_bytes(&odd).is_err());
        // a server message is not a client hello
        assert!(Sslv2ClientHello::from_bytes(&[0x80, 3, 0, 0, 1]).is_err());
    }

    #[test]
    fn not_sslv2_and_hostile() {
        assert_eq!(is_sslv2_record_start(b"HTTP"), Some(false));
        assert_eq!(is_sslv2_record_start(&[0x80, 3]), None);
        assert_eq!(is_sslv2_record_start(&[0x80, 3, 9]), Some(false));
        let b = encode_server_hello(&hello());
        for n in 0..b.len() {
            assert!(decode_server_record(&b[..n]).is_err());
        }
        // inner lengths larger than the record
        let mut bad = b.clone();
        bad[8] = 0xff;
        assert!(decode_server_record(&bad).is_err());
        let mut bad = b.clone();
        bad[10] = 4; // specs length 4: not a multiple of 3
        assert!(decode_server_record(&bad).is_err());
        assert!(decode_server_record(&[0x80, 1, 7]).is_err());
    }
}
