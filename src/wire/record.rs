//! TLS records and a sans-IO deframer: push bytes as they arrive, pop whole records.

use super::WireError;
use super::codec::{Codec, Opaque16, Reader};

/// Largest record payload we accept: 2^14 plaintext plus the 2048 bytes RFC 5246 allows for
/// compression/encryption expansion.
pub const MAX_PAYLOAD: usize = (1 << 14) + 2048;
/// Largest plaintext fragment we put in one record when encoding.
pub const MAX_FRAGMENT: usize = 1 << 14;
const HEADER: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    ChangeCipherSpec,
    Alert,
    Handshake,
    ApplicationData,
    Heartbeat,
    Unknown(u8),
}

impl ContentType {
    pub fn from_u8(v: u8) -> Self {
        match v {
            20 => ContentType::ChangeCipherSpec,
            21 => ContentType::Alert,
            22 => ContentType::Handshake,
            23 => ContentType::ApplicationData,
            24 => ContentType::Heartbeat,
            o => ContentType::Unknown(o),
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            ContentType::ChangeCipherSpec => 20,
            ContentType::Alert => 21,
            ContentType::Handshake => 22,
            ContentType::ApplicationData => 23,
            ContentType::Heartbeat => 24,
            ContentType::Unknown(o) => o,
        }
    }
}

impl Codec for ContentType {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.to_u8());
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ContentType::from_u8(r.u8()?))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub typ: ContentType,
    pub version: u16,
    pub payload: Vec<u8>,
}

/// Header plus payload. Payloads beyond 2^16-1 cannot be framed and are truncated; use
/// [`encode_fragmented`] for data that may exceed one record. Decoding refuses payloads beyond
/// [`MAX_PAYLOAD`]; the [`Deframer`] is the streaming way in.
impl Codec for Record {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_one(self.typ, self.version, &self.payload, out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let typ = ContentType::decode(r)?;
        let version = r.u16()?;
        let payload = Opaque16::read(r)?;
        if payload.len() > MAX_PAYLOAD {
            return Err(WireError::TooLarge("record payload"));
        }
        Ok(Record {
            typ,
            version,
            payload: payload.to_vec(),
        })
    }
}

fn encode_one(typ: ContentType, version: u16, payload: &[u8], out: &mut Vec<u8>) {
    typ.encode(out);
    version.encode(out);
    Opaque16::write(payload, out);
}

/// The five bytes in front of every record, read on their own where a probe must not read
/// the payload (a heartbeat answer may carry the server's memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub typ: ContentType,
    pub version: u16,
    pub length: u16,
}

impl RecordHeader {
    pub const LEN: usize = HEADER;
}

impl Codec for RecordHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        self.typ.encode(out);
        self.version.encode(out);
        self.length.encode(out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(RecordHeader {
            typ: ContentType::decode(r)?,
            version: r.u16()?,
            length: r.u16()?,
        })
    }
}

/// Wrap `data` in as many records of `typ` as needed, each carrying at most 2^14 bytes.
/// Empty data still yields one (empty) record.
pub fn encode_fragmented(typ: ContentType, version: u16, data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        encode_one(typ, version, &[], out);
        return;
    }
    for chunk in data.chunks(MAX_FRAGMENT) {
        encode_one(typ, version, chunk, out);
    }
}

/// Could this byte start a TLS record? (a known content type)
pub fn is_tls_content_type(b: u8) -> bool {
    (20..=24).contains(&b)
}

/// Sans-IO record deframer. Holds at most one record's worth of unread bytes beyond what has
/// been popped, so memory stays bounded whatever the peer sends.
#[derive(Debug, Default, Clone)]
pub struct Deframer {
    buf: Vec<u8>,
    seen_first: bool,
    /// Total bytes pushed, for error messages.
    consumed: usize,
}

impl Deframer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add bytes from the peer. Bytes are only appended; call [`Deframer::pop`] until it
    /// returns `Ok(None)` before pushing more to keep the buffer small.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        if self.buf.len() + bytes.len() > 4 * (HEADER + MAX_PAYLOAD) {
            return Err(WireError::TooLarge("unread record data"));
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Bytes pushed but not yet returned as records.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// The next whole record, `Ok(None)` if more bytes are needed.
    pub fn pop(&mut self) -> Result<Option<Record>, WireError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let first = self.buf[0];
        if !is_tls_content_type(first) {
            if !self.seen_first {
                return Err(WireError::NotTls {
                    first_bytes: self.buf.iter().take(64).copied().collect(),
                });
            }
            return Err(WireError::Malformed(format!(
                "record: unknown content type {first} after {} bytes",
                self.consumed
            )));
        }
        if self.buf.len() >= 2 && self.buf[1] != 3 {
            if !self.seen_first {
                return Err(WireError::NotTls {
                    first_bytes: self.buf.iter().take(64).copied().collect(),
                });
            }
            return Err(WireError::Malformed(format!(
                "record: version major byte 0x{:02x} is not 3",
                self.buf[1]
            )));
        }
        if self.buf.len() < HEADER {
            return Ok(None);
        }
        let len = u16::from_be_bytes([self.buf[3], self.buf[4]]) as usize;
        if len > MAX_PAYLOAD {
            return Err(WireError::TooLarge("record payload"));
        }
        if self.buf.len() < HEADER + len {
            return Ok(None);
        }
        let record = Record::decode(&mut Reader::new(&self.buf[..HEADER + len]))?;
        self.buf.drain(..HEADER + len);
        self.seen_first = true;
        self.consumed += HEADER + len;
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip_in_any_split() {
        let mut bytes = Vec::new();
        Record {
            typ: ContentType::Handshake,
            version: 0x0303,
            payload: vec![1, 2, 3],
        }
        .encode(&mut bytes);
        Record {
            typ: ContentType::Alert,
            version: 0x0303,
            payload: vec![2, 40],
        }
        .encode(&mut bytes);
        for split in 0..=bytes.len() {
            let mut d = Deframer::new();
            d.push(&bytes[..split]).unwrap();
            let mut got = Vec::new();
            while let Some(r) = d.pop().unwrap() {
                got.push(r);
            }
            d.push(&bytes[split..]).unwrap();
            while let Some(r) = d.pop().unwrap() {
                got.push(r);
            }
            assert_eq!(got.len(), 2);
            assert_eq!(got[0].payload, vec![1, 2, 3]);
            assert_eq!(got[1].typ, ContentType::Alert);
            assert!(d.buffered().is_empty());
        }
    }

    #[test]
    fn non_tls_bytes_are_reported_with_prefix() {
        let mut d = Deframer::new();
        d.push(b"HTTP/1.1 400 Bad Request\r\n").unwrap();
        match d.pop() {
            Err(WireError::NotTls { first_bytes }) => assert!(first_bytes.starts_with(b"HTTP/1.1")),
            other => panic!("{other:?}"),
        }
        // right content type but wrong version major: also not TLS
        let mut d = Deframer::new();
        d.push(&[0x16, 0x48]).unwrap();
        assert!(matches!(d.pop(), Err(WireError::NotTls { .. })));
    }

    #[test]
    fn oversized_and_garbage_after_first_record() {
        let mut d = Deframer::new();
        d.push(&[0x17, 3, 3, 0xff, 0xff]).unwrap();
        assert_eq!(d.pop(), Err(WireError::TooLarge("record payload")));
        let mut d = Deframer::new();
        d.push(&[0x15, 3, 3, 0, 2, 2, 40, 0x99]).unwrap();
        assert!(d.pop().unwrap().is_some());
        assert!(matches!(d.pop(), Err(WireError::Malformed(_))));
        // unbounded pushes without popping are refused
        let mut d = Deframer::new();
        let big = vec![0x17u8; 30_000];
        let mut refused = false;
        for _ in 0..10 {
            if d.push(&big).is_err() {
                refused = true;
                break;
            }
        }
        assert!(refused);
    }

    #[test]
    fn zero_length_record_and_truncation() {
        let mut d = Deframer::new();
        d.push(&[0x16, 3, 1, 0, 0]).unwrap();
        assert_eq!(d.pop().unwrap().unwrap().payload.len(), 0);
        d.push(&[0x16, 3, 1, 0, 10, 1, 2]).unwrap();
        assert_eq!(d.pop().unwrap(), None);
    }

    #[test]
    fn record_codec_round_trips_and_bounds_payloads() {
        let r = Record {
            typ: ContentType::Unknown(99),
            version: 0x7f1c,
            payload: vec![5; 300],
        };
        let b = r.to_bytes();
        assert_eq!(&b[..5], &[99, 0x7f, 0x1c, 1, 44]);
        assert_eq!(Record::from_bytes(&b).unwrap(), r);
        for t in 0..=255u8 {
            assert_eq!(ContentType::from_bytes(&[t]).unwrap().to_bytes(), [t]);
        }
        let mut huge = vec![0x17, 3, 3, 0x48, 0x01];
        huge.resize(5 + 0x4801, 0);
        assert_eq!(
            Record::from_bytes(&huge),
            Err(WireError::TooLarge("record payload"))
        );
        assert!(Record::from_bytes(&[0x16, 3, 3, 0, 2, 1]).is_err());
    }

    #[test]
    fn fragmenting_splits_at_2_14() {
        let data = vec![7u8; MAX_FRAGMENT * 2 + 5];
        let mut out = Vec::new();
        encode_fragmented(ContentType::Handshake, 0x0301, &data, &mut out);
        let mut d = Deframer::new();
        d.push(&out).unwrap();
        let lens: Vec<usize> = std::iter::from_fn(|| d.pop().unwrap())
            .map(|r| r.payload.len())
            .collect();
        assert_eq!(lens, vec![MAX_FRAGMENT, MAX_FRAGMENT, 5]);
    }
}
