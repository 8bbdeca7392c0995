//! A minimal DER TLV walker: enough to recover the exact bytes that were signed (the
//! `tbsResponseData` and each certificate as received), which re-encoding a decoded structure
//! would not guarantee for input that is not strictly DER. Every length is checked against the
//! input; nothing allocates.

/// One element: its tag byte, the whole encoding and the contents.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub raw: &'a [u8],
    pub content: &'a [u8],
}

/// Read the first element of `input`; returns it and the rest.
pub fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *input.first()?;
    if tag & 0x1f == 0x1f {
        // High tag numbers do not occur in the structures read here.
        return None;
    }
    let first = *input.get(1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *input.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    if end > input.len() {
        return None;
    }
    Some((
        Tlv {
            tag,
            raw: &input[..end],
            content: &input[header..end],
        },
        &input[end..],
    ))
}

/// The elements inside a constructed element's contents, in order.
pub fn children(content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (t, r) = read(rest)?;
        out.push(t);
        rest = r;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_forms_and_rejects_overruns() {
        let (t, rest) = read(&[0x30, 0x02, 0x05, 0x00, 0xff]).unwrap();
        assert_eq!(
            (t.tag, t.content, rest),
            (0x30, &[5u8, 0][..], &[0xffu8][..])
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        assert_eq!(read(&long).unwrap().0.content.len(), 0x80);
        assert!(read(&[0x30, 0x05, 0x00]).is_none());
        assert!(read(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(read(&[0x30]).is_none());
        assert_eq!(children(&[0x05, 0x00, 0x05, 0x00]).unwrap().len(), 2);
    }
}
