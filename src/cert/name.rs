//! Distinguished names as text. x509-parser prints a name whose string attributes are not
//! valid UTF-8 as `<X509Error: Invalid X.509 name>`, losing every attribute; here such bytes
//! become visible `\xNN` escapes and the rest of the name is kept. Valid names print exactly
//! as x509-parser prints them (`CN=a, O=b`, `+` between the attributes of one RDN, unknown
//! types by their dotted OID, non-string values in upper-case hex).

use x509_parser::der_parser::asn1_rs::{Any, Tag};
use x509_parser::objects::{oid_registry, oid2abbrev};
use x509_parser::x509::X509Name;

/// `name` as text, with any byte that is not UTF-8 shown as `\xNN`.
pub fn name_text(name: &X509Name<'_>) -> String {
    name.iter()
        .map(|rdn| {
            rdn.iter()
                .map(|attr| {
                    let typ = match oid2abbrev(attr.attr_type(), oid_registry()) {
                        Ok(s) => s.to_string(),
                        Err(_) => attr.attr_type().to_id_string(),
                    };
                    format!("{typ}={}", value_text(attr.attr_value()))
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One attribute value: string types as text (lossy), BMPString as UTF-16, anything else as
/// upper-case hex of its encoding.
fn value_text(v: &Any<'_>) -> String {
    match v.tag() {
        Tag::NumericString
        | Tag::VisibleString
        | Tag::PrintableString
        | Tag::GeneralString
        | Tag::ObjectDescriptor
        | Tag::GraphicString
        | Tag::T61String
        | Tag::VideotexString
        | Tag::Utf8String
        | Tag::Ia5String => lossy_escaped(v.data),
        Tag::BmpString => {
            let units: Vec<u16> = v
                .data
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            char::decode_utf16(units)
                .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        _ => v.as_bytes().iter().map(|b| format!("{b:02X}")).collect(),
    }
}

/// UTF-8 text as is; each byte of an invalid sequence as `\xNN`.
pub fn lossy_escaped(mut bytes: &[u8]) -> String {
    let mut out = String::new();
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                for b in &rest[..bad] {
                    out.push_str(&format!("\\x{b:02x}"));
                }
                bytes = &rest[bad..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::FromDer;

    /// DER tag-length-value, short lengths only.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag, content.len() as u8];
        v.extend_from_slice(content);
        v
    }

    /// One attribute: OID bytes, string tag, value bytes.
    type Attr<'a> = (&'a [u8], u8, &'a [u8]);

    /// A Name of RDNs, each a list of attributes.
    fn name(rdns: &[&[Attr<'_>]]) -> Vec<u8> {
        let seq: Vec<u8> = rdns
            .iter()
            .flat_map(|attrs| {
                let set: Vec<u8> = attrs
                    .iter()
                    .flat_map(|(oid, tag, val)| {
                        tlv(0x30, &[tlv(0x06, oid), tlv(*tag, val)].concat())
                    })
                    .collect();
                tlv(0x31, &set)
            })
            .collect();
        tlv(0x30, &seq)
    }

    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const O: &[u8] = &[0x55, 0x04, 0x0a];

    #[test]
    fn valid_names_print_as_x509_parser_prints_them() {
        let unknown: &[u8] = &[
            0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x03,
        ];
        let der = name(&[
            &[(CN, 0x0c, "exämple.com".as_bytes())],
            &[(O, 0x13, b"Example"), (CN, 0x16, b"b")],
            &[(unknown, 0x13, b"DE")],
            &[(O, 0x02, &[0x01, 0xff])],
            &[(O, 0x1e, &[0x00, 0x41, 0x00, 0xe9])],
        ]);
        let (_, n) = X509Name::from_der(&der).unwrap();
        assert_eq!(name_text(&n), n.to_string());
        assert!(name_text(&n).starts_with("CN=exämple.com, O=Example + CN=b, "));
    }

    #[test]
    fn invalid_utf8_is_escaped_and_the_rest_kept() {
        let der = name(&[&[(CN, 0x0c, b"bad\xff\xfename")], &[(O, 0x13, b"Org\xc3")]]);
        let (_, n) = X509Name::from_der(&der).unwrap();
        assert!(n.to_string().contains("X509Error"), "x509-parser loses it");
        assert_eq!(name_text(&n), "CN=bad\\xff\\xfename, O=Org\\xc3");
        assert_eq!(lossy_escaped(b"a\xe2\x82b"), "a\\xe2\\x82b");
        assert_eq!(lossy_escaped("é\u{1b}".as_bytes()), "é\u{1b}");
    }
}
