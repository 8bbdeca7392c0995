//! SSL 2.0 server answers (draft-hickman-netscape-ssl-00): SERVER-HELLO and ERROR.
//! We only ever read these to tell that a server still speaks SSLv2.

use super::WireError;
use super::codec::Reader;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sslv2ServerHello {
    pub session_id_hit: bool,
    /// DER certificate (certificate type 1, X.509).
    pub certificate: Vec<u8>,
    pub cipher_specs: Vec<u32>,
    pub version: u16,
    pub connection_id: Vec<u8>,
}

/// A decoded SSLv2 server message.
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

/// Decode one complete SSLv2 record (2-byte header) holding a SERVER-HELLO or ERROR.
pub fn decode_server_record(bytes: &[u8]) -> Result<Sslv2Message, WireError> {
    let total =
        record_len(bytes).ok_or_else(|| WireError::Malformed("SSLv2 record header".into()))?;
    let mut r = Reader::new(bytes);
    r.take(2)?;
    let mut body = Reader::new(r.take(total - 2)?);
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
            let mut specs = Reader::new(body.take(specs_len)?);
            let mut cipher_specs = Vec::new();
            while !specs.is_empty() {
                cipher_specs.push(specs.u24()?);
            }
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

/// Encode a SERVER-HELLO record (for tests and fixtures).
pub fn encode_server_hello(h: &Sslv2ServerHello) -> Vec<u8> {
    let mut b = vec![MSG_SERVER_HELLO, h.session_id_hit as u8, 1];
    b.extend_from_slice(&h.version.to_be_bytes());
    for n in [
        h.certificate.len(),
        h.cipher_specs.len() * 3,
        h.connection_id.len(),
    ] {
        b.extend_from_slice(&(n as u16).to_be_bytes());
    }
    b.extend_from_slice(&h.certificate);
    for s in &h.cipher_specs {
        b.extend_from_slice(&s.to_be_bytes()[1..]);
    }
    b.extend_from_slice(&h.connection_id);
    let mut out = vec![0x80 | ((b.len() >> 8) as u8 & 0x7f), b.len() as u8];
    out.extend_from_slice(&b);
    out
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
