//! The byte-level primitives every wire type is built from: a bounded reader over a borrowed
//! slice, big-endian writers, and the `Codec` trait each message implements for itself.

use super::WireError;

/// A cursor over a byte slice. Every read checks the bytes that are actually left, so a
/// length field from the peer can never make us read past the end or allocate for data that
/// is not there.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Reader { buf: b, pos: 0 }
    }

    /// Bytes not consumed yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Take exactly `n` bytes or fail without consuming anything.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.remaining() {
            return Err(WireError::Malformed(format!(
                "data: need {n} bytes at offset {}, only {} left",
                self.pos,
                self.remaining()
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Everything that is left; the reader is empty afterwards.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self) -> Result<u32, WireError> {
        let b = self.take(3)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A sub-reader over a vector whose length is a one-byte prefix.
    pub fn sub_u8(&mut self) -> Result<Reader<'a>, WireError> {
        let n = self.u8()? as usize;
        Ok(Reader::new(self.take(n)?))
    }

    /// A sub-reader over a vector whose length is a two-byte prefix.
    pub fn sub_u16(&mut self) -> Result<Reader<'a>, WireError> {
        let n = self.u16()? as usize;
        Ok(Reader::new(self.take(n)?))
    }

    /// A sub-reader over a vector whose length is a three-byte prefix.
    pub fn sub_u24(&mut self) -> Result<Reader<'a>, WireError> {
        let n = self.u24()? as usize;
        Ok(Reader::new(self.take(n)?))
    }

    /// Fail unless every byte was consumed; `what` names the structure for the error.
    pub fn expect_end(&self, what: &str) -> Result<(), WireError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(WireError::Malformed(format!(
                "{what}: {} unexpected trailing bytes",
                self.remaining()
            )))
        }
    }
}

/// A wire type that writes and reads itself.
pub trait Codec: Sized {
    fn encode(&self, out: &mut Vec<u8>);
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError>;

    /// Encode into a fresh buffer.
    fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }

    /// Decode from a complete buffer; trailing bytes are an error.
    fn from_bytes(b: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(b);
        let v = Self::decode(&mut r)?;
        r.expect_end("message")?;
        Ok(v)
    }
}

pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub fn put_u24(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}

/// Write `body` behind a length prefix of `width` bytes (1, 2 or 3). Lengths that do not fit
/// are clamped to the prefix's maximum with the body truncated to match, so the output is
/// always self-consistent; callers build bodies far below these limits.
pub fn put_vec(out: &mut Vec<u8>, width: usize, body: &[u8]) {
    let max = match width {
        1 => 0xff,
        2 => 0xffff,
        _ => 0xff_ffff,
    };
    let n = body.len().min(max);
    match width {
        1 => out.push(n as u8),
        2 => put_u16(out, n as u16),
        _ => put_u24(out, n as u32),
    }
    out.extend_from_slice(&body[..n]);
}

/// Write whatever `f` appends behind a length prefix of `width` bytes, patched in afterwards.
pub fn with_len(out: &mut Vec<u8>, width: usize, f: impl FnOnce(&mut Vec<u8>)) {
    let mut body = Vec::new();
    f(&mut body);
    put_vec(out, width, &body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_integers() {
        let mut r = Reader::new(&[1, 0, 2, 0, 0, 3, 0, 0, 0, 4]);
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u16().unwrap(), 2);
        assert_eq!(r.u24().unwrap(), 3);
        assert_eq!(r.u32().unwrap(), 4);
        assert!(r.is_empty());
        assert!(r.u8().is_err());
    }

    #[test]
    fn truncated_reads_fail_without_consuming() {
        let mut r = Reader::new(&[0xff, 0xff]);
        assert!(r.u24().is_err());
        assert!(r.u32().is_err());
        assert_eq!(r.remaining(), 2);
        assert!(r.take(3).is_err());
        assert!(r.take(usize::MAX).is_err());
        assert_eq!(r.u16().unwrap(), 0xffff);
    }

    #[test]
    fn length_prefixes_are_bounded_by_the_data() {
        // u16 length says 0xffff but only 2 bytes follow.
        let mut r = Reader::new(&[0xff, 0xff, 1, 2]);
        assert!(r.sub_u16().is_err());
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 1]);
        assert!(r.sub_u24().is_err());
        let mut r = Reader::new(&[3, 1, 2]);
        assert!(r.sub_u8().is_err());
        let mut r = Reader::new(&[]);
        assert!(r.sub_u8().is_err());
        // zero-length vectors are fine and empty
        let mut r = Reader::new(&[0, 0, 0]);
        assert!(r.sub_u16().unwrap().is_empty());
        assert!(r.sub_u8().unwrap().is_empty());
        assert!(r.is_empty());
    }

    #[test]
    fn sub_reader_and_rest() {
        let mut r = Reader::new(&[2, 9, 8, 7, 6]);
        let mut s = r.sub_u8().unwrap();
        assert_eq!(s.rest(), &[9, 8]);
        assert!(s.is_empty());
        assert!(r.expect_end("x").is_err());
        assert_eq!(r.rest(), &[7, 6]);
        assert!(r.expect_end("x").is_ok());
        assert_eq!(r.rest(), &[] as &[u8]);
    }

    #[test]
    fn writers_round_trip() {
        let mut out = Vec::new();
        put_u16(&mut out, 0x0102);
        put_u24(&mut out, 0x030405);
        put_vec(&mut out, 1, &[7, 7]);
        with_len(&mut out, 2, |o| o.extend_from_slice(&[1, 2, 3]));
        put_vec(&mut out, 3, &[9]);
        assert_eq!(out, [1, 2, 3, 4, 5, 2, 7, 7, 0, 3, 1, 2, 3, 0, 0, 1, 9]);
        // an over-long body is clamped so the prefix stays truthful
        let mut out = Vec::new();
        put_vec(&mut out, 1, &[0u8; 300]);
        assert_eq!(out[0], 255);
        assert_eq!(out.len(), 256);
    }
}
