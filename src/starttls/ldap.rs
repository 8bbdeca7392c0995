//! LDAP: the StartTLS extended operation (RFC 4511 §4.14), answered by an ExtendedResponse
//! whose resultCode is 0 when TLS may start. The answer is BER; every length is bounded.

use super::binary::{bounded, read_exact};
use super::reply::send_bytes;
use crate::probe::PreludeError;
use tokio::net::TcpStream;
use tokio::time::Instant;

const STARTTLS_OID: &[u8] = b"1.3.6.1.4.1.1466.20037";
/// Ceiling on the ExtendedResponse (a result code and two short strings).
const MAX_RESPONSE: usize = 16 * 1024;

/// LDAPMessage { messageID 1, [APPLICATION 23] ExtendedRequest { [0] requestName } }.
pub fn start_tls_request() -> Vec<u8> {
    let mut name = vec![0x80, STARTTLS_OID.len() as u8];
    name.extend_from_slice(STARTTLS_OID);
    let mut op = vec![0x77, name.len() as u8];
    op.extend_from_slice(&name);
    let mut body = vec![0x02, 0x01, 0x01];
    body.extend_from_slice(&op);
    let mut msg = vec![0x30, body.len() as u8];
    msg.extend_from_slice(&body);
    msg
}

/// The answer to the request: its result code and diagnostic message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapResult {
    pub code: u32,
    pub diagnostic: String,
}

fn malformed(reason: &str) -> PreludeError {
    PreludeError::Malformed {
        reason: format!("LDAP response: {reason}"),
    }
}

/// One BER TLV from the front of `b`: (tag, value, rest).
fn tlv(b: &[u8]) -> Result<(u8, &[u8], &[u8]), PreludeError> {
    let (&tag, rest) = b.split_first().ok_or_else(|| malformed("truncated"))?;
    let (&first, rest) = rest.split_first().ok_or_else(|| malformed("truncated"))?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 3 || rest.len() < n {
            return Err(malformed("bad length"));
        }
        let len = rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(malformed("a length beyond the message"));
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// Parse the body of the LDAPMessage SEQUENCE (after its tag and length).
pub fn parse_response(body: &[u8]) -> Result<LdapResult, PreludeError> {
    let (tag, _id, rest) = tlv(body)?;
    if tag != 0x02 {
        return Err(malformed("no messageID"));
    }
    let (tag, op, _) = tlv(rest)?;
    // ExtendedResponse ([APPLICATION 24]); some servers answer with another response type
    // carrying an LDAPResult all the same.
    if tag & 0x60 != 0x60 {
        return Err(malformed(&format!("unexpected operation tag 0x{tag:02x}")));
    }
    let (tag, code, rest) = tlv(op)?;
    if tag != 0x0a || code.is_empty() || code.len() > 4 {
        return Err(malformed("no resultCode"));
    }
    let code = code.iter().fold(0u32, |a, b| (a << 8) | *b as u32);
    let (_, _matched, rest) = tlv(rest)?;
    let (_, diagnostic, _) = tlv(rest)?;
    Ok(LdapResult {
        code,
        diagnostic: String::from_utf8_lossy(diagnostic).into_owned(),
    })
}

/// LDAP result codes a StartTLS answer carries, by their RFC 4511 names.
fn code_name(code: u32) -> &'static str {
    match code {
        1 => "operationsError",
        2 => "protocolError",
        8 => "strongerAuthRequired",
        13 => "confidentialityRequired",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "error",
    }
}

pub async fn upgrade(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    send_bytes(stream, deadline, &start_tls_request()).await?;
    let head = read_exact(stream, deadline, 2).await?;
    if head[0] != 0x30 {
        return Err(malformed(&format!(
            "expected an LDAPMessage (0x30), got 0x{:02x}",
            head[0]
        )));
    }
    let len = if head[1] < 0x80 {
        head[1] as usize
    } else {
        let n = (head[1] & 0x7f) as usize;
        if n == 0 || n > 3 {
            return Err(malformed("bad length"));
        }
        let bytes = read_exact(stream, deadline, n).await?;
        bytes.iter().fold(0usize, |a, b| (a << 8) | *b as usize)
    };
    let len = bounded(len, MAX_RESPONSE, "the LDAP response")?;
    let body = read_exact(stream, deadline, len).await?;
    let result = parse_response(&body)?;
    let reply = format!(
        "resultCode {} ({}){}",
        result.code,
        code_name(result.code),
        if result.diagnostic.is_empty() {
            String::new()
        } else {
            format!(": {}", result.diagnostic)
        }
    );
    match result.code {
        0 => Ok(()),
        // protocolError: the server does not know the StartTLS operation (or has no TLS).
        2 => Err(PreludeError::NotOffered { reply }),
        _ => Err(PreludeError::Refused { reply }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes() {
        let r = start_tls_request();
        assert_eq!(
            &r[..9],
            &[0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16]
        );
        assert_eq!(r.len(), 31);
    }

    #[test]
    fn responses() {
        // messageID 1, ExtendedResponse { success, "", "" }
        let ok = [
            0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
        ];
        assert_eq!(parse_response(&ok).unwrap().code, 0);
        let mut refused = vec![
            0x02, 0x01, 0x01, 0x78, 0x0b, 0x0a, 0x01, 0x34, 0x04, 0x00, 0x04, 0x04,
        ];
        refused.extend_from_slice(b"nope");
        let r = parse_response(&refused).unwrap();
        assert_eq!((r.code, r.diagnostic.as_str()), (52, "nope"));
        for bad in [
            &[][..],
            &[0x02],
            &[0x02, 0x05, 0x01],
            &[0x02, 0x01, 0x01, 0x78, 0x84, 1, 2, 3, 4],
        ] {
            assert!(parse_response(bad).is_err(), "{bad:?}");
        }
    }
}
