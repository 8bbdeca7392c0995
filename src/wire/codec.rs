//! The byte-level primitives every wire type is built from: a bounded reader over a borrowed
//! slice, the `Codec` trait each message implements for itself, length-prefixed lists whose
//! prefix width is declared by the element type ([`ListElement`]), and opaque byte vectors
//! of each prefix width.

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

/// A wire type that writes and reads itself. Every message, extension, list and registry
/// value of the wire layer implements it, so a structure's bytes are described in one place:
/// its own `encode` and `decode`.
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

/// The width of a length prefix in front of a vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListLength {
    U8,
    U16,
    U24,
}

impl ListLength {
    /// The largest length this prefix can state.
    pub const fn max(self) -> usize {
        match self {
            ListLength::U8 => 0xff,
            ListLength::U16 => 0xffff,
            ListLength::U24 => 0xff_ffff,
        }
    }

    /// Read the prefix and return a reader over exactly the bytes it announces.
    pub fn read<'a>(self, r: &mut Reader<'a>) -> Result<Reader<'a>, WireError> {
        let n = match self {
            ListLength::U8 => r.u8()? as usize,
            ListLength::U16 => r.u16()? as usize,
            ListLength::U24 => r.u24()? as usize,
        };
        Ok(Reader::new(r.take(n)?))
    }

    /// Write `body` behind this prefix. A body longer than the prefix can state is cut to the
    /// maximum, so the output always stays self-consistent; we build bodies far below it.
    pub fn write_bytes(self, out: &mut Vec<u8>, body: &[u8]) {
        let n = body.len().min(self.max());
        match self {
            ListLength::U8 => out.push(n as u8),
            ListLength::U16 => out.extend_from_slice(&(n as u16).to_be_bytes()),
            ListLength::U24 => out.extend_from_slice(&(n as u32).to_be_bytes()[1..]),
        }
        out.extend_from_slice(&body[..n]);
    }

    /// Write whatever `f` appends behind this prefix.
    pub fn write_with(self, out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
        let mut body = Vec::new();
        f(&mut body);
        self.write_bytes(out, &body);
    }
}

/// A type that appears in length-prefixed lists, and the prefix width those lists use. The
/// width belongs to the element type (RFC 8446 writes it into each list's definition, and
/// every list of one element type uses the same), so no call site states it.
pub trait ListElement: Codec {
    const LENGTH_PREFIX: ListLength;
}

/// Write `items` as a list, behind the prefix their type declares.
pub fn encode_list<T: ListElement>(items: &[T], out: &mut Vec<u8>) {
    T::LENGTH_PREFIX.write_with(out, |o| items.iter().for_each(|i| i.encode(o)));
}

impl<T: ListElement> Codec for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_list(self, out);
    }

    /// Reads elements until the announced bytes are used up. Memory stays bounded by the bytes
    /// actually present: each element consumes at least one of them.
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let mut list = T::LENGTH_PREFIX.read(r)?;
        let mut out = Vec::new();
        while !list.is_empty() {
            let before = list.remaining();
            out.push(T::decode(&mut list)?);
            if list.remaining() == before {
                return Err(WireError::Malformed("list: entry of zero bytes".into()));
            }
        }
        Ok(out)
    }
}

impl Codec for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        r.u8()
    }
}

impl Codec for u16 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        r.u16()
    }
}

/// The 32-byte hello random.
impl Codec for [u8; 32] {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let mut a = [0u8; 32];
        a.copy_from_slice(r.take(32)?);
        Ok(a)
    }
}

/// Define a 16-bit IANA registry value (cipher suite, named group, signature scheme) as a
/// newtype. Any value round-trips: one the registry does not list is kept as it came (the
/// "unknown" case), and its name lookups answer `None`. The names and other metadata stay in
/// the registry's data file; `$name_of` is the lookup that names a value for `Debug`. Lists of
/// these values have a two-byte length. Serialised as the number (recorded evidence).
macro_rules! u16_registry_value {
    ($(#[$doc:meta])* $name:ident, $name_of:path) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(from = "u16", into = "u16")]
        pub struct $name(pub u16);

        impl $crate::wire::codec::Codec for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                $crate::wire::codec::Codec::encode(&self.0, out);
            }
            fn decode(
                r: &mut $crate::wire::codec::Reader<'_>,
            ) -> Result<Self, $crate::wire::WireError> {
                Ok($name(r.u16()?))
            }
        }

        impl $crate::wire::codec::ListElement for $name {
            const LENGTH_PREFIX: $crate::wire::codec::ListLength =
                $crate::wire::codec::ListLength::U16;
        }

        impl From<u16> for $name {
            fn from(v: u16) -> Self {
                $name(v)
            }
        }

        impl From<$name> for u16 {
            fn from(v: $name) -> u16 {
                v.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match $name_of(*self) {
                    Some(n) => write!(f, "{}(0x{:04x} {})", stringify!($name), self.0, n),
                    None => write!(f, "{}(0x{:04x})", stringify!($name), self.0),
                }
            }
        }
    };
}
pub(crate) use u16_registry_value;

macro_rules! opaque {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name(pub Vec<u8>);

        impl $name {
            /// Write `bytes` behind this type's prefix, without building a value first.
            pub fn write(bytes: &[u8], out: &mut Vec<u8>) {
                $len.write_bytes(out, bytes);
            }
            /// Read the prefixed bytes as a slice of the input.
            pub fn read<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], WireError> {
                Ok($len.read(r)?.rest())
            }
        }

        impl Codec for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                Self::write(&self.0, out);
            }
            fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
                Ok($name(Self::read(r)?.to_vec()))
            }
        }
    };
}

opaque!(
    /// `opaque data<0..2^8-1>`: session ids, renegotiation_info, point formats, ...
    Opaque8,
    ListLength::U8
);
opaque!(
    /// `opaque data<0..2^16-1>`: extension bodies, key shares, cookies, DH values, ...
    Opaque16,
    ListLength::U16
);
opaque!(
    /// `opaque data<0..2^24-1>`: certificates, OCSP responses, handshake bodies.
    Opaque24,
    ListLength::U24
);

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
        use ListLength::*;
        let mut r = Reader::new(&[0xff, 0xff, 1, 2]);
        assert!(U16.read(&mut r).is_err());
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 1]);
        assert!(U24.read(&mut r).is_err());
        let mut r = Reader::new(&[3, 1, 2]);
        assert!(U8.read(&mut r).is_err());
        let mut r = Reader::new(&[]);
        assert!(U8.read(&mut r).is_err());
        // zero-length vectors are fine and empty
        let mut r = Reader::new(&[0, 0, 0]);
        assert!(U16.read(&mut r).unwrap().is_empty());
        assert!(U8.read(&mut r).unwrap().is_empty());
        assert!(r.is_empty());
    }

    #[test]
    fn sub_reader_and_rest() {
        let mut r = Reader::new(&[2, 9, 8, 7, 6]);
        let mut s = ListLength::U8.read(&mut r).unwrap();
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
        0x0102u16.encode(&mut out);
        Opaque8::write(&[7, 7], &mut out);
        ListLength::U16.write_with(&mut out, |o| o.extend_from_slice(&[1, 2, 3]));
        Opaque24(vec![9]).encode(&mut out);
        assert_eq!(out, [1, 2, 2, 7, 7, 0, 3, 1, 2, 3, 0, 0, 1, 9]);
        let mut r = Reader::new(&out);
        assert_eq!(u16::decode(&mut r).unwrap(), 0x0102);
        assert_eq!(Opaque8::decode(&mut r).unwrap(), Opaque8(vec![7, 7]));
        assert_eq!(Opaque16::read(&mut r).unwrap(), &[1, 2, 3]);
        assert_eq!(Opaque24::decode(&mut r).unwrap().0, vec![9]);
        assert!(r.is_empty());
        // an over-long body is clamped so the prefix stays truthful
        let mut out = Vec::new();
        Opaque8::write(&[0u8; 300], &mut out);
        assert_eq!(out[0], 255);
        assert_eq!(out.len(), 256);
        let mut out = Vec::new();
        Opaque16::write(&[1u8; 0x1_0005], &mut out);
        assert_eq!(&out[..2], &[0xff, 0xff]);
        assert_eq!(out.len(), 2 + 0xffff);
    }

    /// A list element with a one-byte prefix, for testing the generic list codec.
    #[derive(Debug, PartialEq)]
    struct Tiny(u8);
    impl Codec for Tiny {
        fn encode(&self, out: &mut Vec<u8>) {
            out.push(self.0);
        }
        fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
            Ok(Tiny(r.u8()?))
        }
    }
    impl ListElement for Tiny {
        const LENGTH_PREFIX: ListLength = ListLength::U8;
    }

    /// An element that reads nothing: a list of them must not loop forever.
    #[derive(Debug)]
    struct Nothing;
    impl Codec for Nothing {
        fn encode(&self, _: &mut Vec<u8>) {}
        fn decode(_: &mut Reader<'_>) -> Result<Self, WireError> {
            Ok(Nothing)
        }
    }
    impl ListElement for Nothing {
        const LENGTH_PREFIX: ListLength = ListLength::U16;
    }

    #[test]
    fn lists_use_the_prefix_their_element_declares() {
        let v = vec![Tiny(1), Tiny(2), Tiny(3)];
        assert_eq!(v.to_bytes(), [3, 1, 2, 3]);
        assert_eq!(Vec::<Tiny>::from_bytes(&[3, 1, 2, 3]).unwrap(), v);
        assert_eq!(Vec::<Tiny>::from_bytes(&[0]).unwrap(), vec![]);
        assert!(Vec::<Tiny>::from_bytes(&[4, 1, 2, 3]).is_err());
        assert!(Vec::<Tiny>::from_bytes(&[2, 1, 2, 3]).is_err(), "trailing");
        assert!(Vec::<Nothing>::from_bytes(&[0, 1, 0]).is_err());
        assert!(Vec::<Nothing>::from_bytes(&[0, 0]).unwrap().is_empty());
        assert_eq!(<[u8; 32]>::from_bytes(&[5; 32]).unwrap(), [5; 32]);
        assert!(<[u8; 32]>::from_bytes(&[5; 31]).is_err());
    }
}
