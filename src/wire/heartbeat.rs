//! The TLS heartbeat extension and messages (RFC 6520), as far as a probe needs them: the
//! extension a client offers, the request it sends, and the three-byte header of what comes
//! back. The header is decoded on its own: what follows it in an answer to a malformed
//! request may be the server's memory, which nobody should read.

use super::WireError;
use super::codec::{Codec, Reader};
use super::extension::ClientExtension;

/// IANA extension type `heartbeat`.
pub const EXTENSION_TYPE: u16 = 15;
/// HeartbeatMode `peer_allowed_to_send`.
pub const PEER_ALLOWED_TO_SEND: u8 = 1;
/// RFC 6520 §4: every heartbeat message carries at least 16 bytes of padding.
pub const MIN_PADDING: usize = 16;

/// The extension a client offers: it allows the server to send requests.
pub fn client_extension() -> ClientExtension {
    ClientExtension::Raw {
        typ: EXTENSION_TYPE,
        data: vec![PEER_ALLOWED_TO_SEND],
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeartbeatMessageType {
    Request,
    Response,
    Unknown(u8),
}

impl HeartbeatMessageType {
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Request,
            2 => Self::Response,
            o => Self::Unknown(o),
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            Self::Request => 1,
            Self::Response => 2,
            Self::Unknown(o) => o,
        }
    }
}

/// A heartbeat message as a probe writes it. `payload_length` is written as given, even when
/// it differs from `payload.len()`: that difference is what a Heartbleed probe asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatRequest {
    pub payload_length: u16,
    pub payload: Vec<u8>,
    /// Zero bytes of padding after the payload.
    pub padding: usize,
}

impl HeartbeatRequest {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(HeartbeatMessageType::Request.to_u8());
        self.payload_length.encode(out);
        out.extend_from_slice(&self.payload);
        out.resize(out.len() + self.padding, 0);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// The first three bytes of a heartbeat message: its type and the payload length it declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatHeader {
    pub typ: HeartbeatMessageType,
    pub payload_length: u16,
}

impl HeartbeatHeader {
    pub const LEN: usize = 3;
}

impl Codec for HeartbeatHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.typ.to_u8());
        self.payload_length.encode(out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(HeartbeatHeader {
            typ: HeartbeatMessageType::from_u8(r.u8()?),
            payload_length: r.u16()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_writes_the_declared_length_not_the_real_one() {
        let r = HeartbeatRequest {
            payload_length: 32,
            payload: vec![],
            padding: MIN_PADDING,
        };
        let b = r.to_bytes();
        assert_eq!(b.len(), 3 + MIN_PADDING);
        assert_eq!(&b[..3], &[1, 0, 32]);
        let h = HeartbeatHeader::from_bytes(&b[..3]).unwrap();
        assert_eq!(h.typ, HeartbeatMessageType::Request);
        assert_eq!(h.payload_length, 32);
        assert_eq!(h.to_bytes(), b[..3]);
        assert!(HeartbeatHeader::from_bytes(&[2, 0]).is_err());
        assert_eq!(
            client_extension().to_bytes(),
            [0, 15, 0, 1, PEER_ALLOWED_TO_SEND]
        );
    }
}
