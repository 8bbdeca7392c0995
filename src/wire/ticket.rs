//! The TLS 1.2 NewSessionTicket message (RFC 5077 §3.3), and finding it in the bytes a server
//! sent during a full handshake: in TLS 1.2 it comes in clear, just before the server's
//! ChangeCipherSpec, so a probe that recorded those bytes can read the ticket without the
//! TLS library's help.

use super::WireError;
use super::codec::{Codec, Opaque16, Reader};
use super::handshake::{HandshakeJoiner, HandshakePayload, HandshakeType};
use super::record::{ContentType, Deframer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSessionTicket {
    pub lifetime_hint: u32,
    pub ticket: Vec<u8>,
}

impl Codec for NewSessionTicket {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.lifetime_hint.to_be_bytes());
        Opaque16::write(&self.ticket, out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(NewSessionTicket {
            lifetime_hint: r.u32()?,
            ticket: Opaque16::read(r)?.to_vec(),
        })
    }
}

impl HandshakePayload for NewSessionTicket {
    const TYPE: HandshakeType = HandshakeType::NewSessionTicket;
}

/// The first NewSessionTicket among the cleartext handshake messages of `server_bytes` (what a
/// TLS 1.2 server sent, from its first byte), reading no further than its ChangeCipherSpec.
pub fn find_tls12_ticket(server_bytes: &[u8]) -> Option<NewSessionTicket> {
    let mut deframer = Deframer::new();
    let mut joiner = HandshakeJoiner::new();
    for chunk in server_bytes.chunks(4096) {
        deframer.push(chunk).ok()?;
        while let Some(rec) = deframer.pop().ok()? {
            match rec.typ {
                ContentType::Handshake => {
                    joiner.push(&rec.payload).ok()?;
                    while let Some(m) = joiner.pop().ok()? {
                        if m.typ == HandshakeType::NewSessionTicket {
                            return m.read::<NewSessionTicket>().ok();
                        }
                    }
                }
                ContentType::ChangeCipherSpec => return None,
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::handshake::HandshakeMessage;
    use crate::wire::record::Record;

    fn rec(typ: ContentType, payload: Vec<u8>) -> Vec<u8> {
        Record {
            typ,
            version: 0x0303,
            payload,
        }
        .to_bytes()
    }

    #[test]
    fn the_ticket_before_the_change_cipher_spec_is_found() {
        let nst = NewSessionTicket {
            lifetime_hint: 7200,
            ticket: vec![9; 100],
        };
        let msg = HandshakeMessage::of(&nst).to_bytes();
        let mut bytes = rec(ContentType::Handshake, vec![14, 0, 0, 0]);
        // split over two records
        bytes.extend(rec(ContentType::Handshake, msg[..10].to_vec()));
        bytes.extend(rec(ContentType::Handshake, msg[10..].to_vec()));
        bytes.extend(rec(ContentType::ChangeCipherSpec, vec![1]));
        assert_eq!(find_tls12_ticket(&bytes), Some(nst.clone()));
        // after the ChangeCipherSpec it is encrypted, not a ticket to read
        let mut late = rec(ContentType::ChangeCipherSpec, vec![1]);
        late.extend(rec(ContentType::Handshake, msg.clone()));
        assert_eq!(find_tls12_ticket(&late), None);
        assert_eq!(find_tls12_ticket(b"HTTP/1.1 200 OK\r\n"), None);
        for n in 0..msg.len() {
            let cut = rec(ContentType::Handshake, msg[..n].to_vec());
            assert_eq!(find_tls12_ticket(&cut), None, "{n}");
        }
    }
}
