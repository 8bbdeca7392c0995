//! The client-renegotiation probe on a server whose TLS 1.2 suites are CBC only (which rustls
//! does not speak): the first handshake by the hand-written CBC client
//! (`crate::wire::cbc_client`, POODLE-TLS's), then the same renegotiation request as the AEAD
//! path sends, sealed with the connection's CBC record protection (MAC-then-encrypt, an
//! explicit IV). One connection, as on the AEAD path.

use super::ScanContext;
use super::vuln_renegotiation::{ANSWER_WAIT, Answer, Reply, renegotiation_hello};
use crate::probe::{Held, Step};
use crate::wire::cbc::CipherState;
use crate::wire::cbc_client::{CbcHandshake, Progress, SUITES};
use crate::wire::codec::Codec;
use crate::wire::record::{ContentType, Deframer, encode_fragmented};
use crate::wire::{Alert, ProtocolVersion, WireError};

/// Reads (each at most 16 KiB and a record header) before giving up on a flight or an answer.
const MAX_READS: usize = 64;
const MAX_READ: usize = crate::probe::MAX_BULK_READ;

/// Whether a TLS 1.2 pick of `suite` calls for the CBC handshake: a CBC suite, which rustls
/// does not speak. The CBC client then offers every suite it can complete, so a server whose
/// own first pick it cannot (a SHA-384 one, say) may still accept one of them.
pub fn wants_cbc(suite: crate::wire::suites::CipherSuiteId) -> bool {
    suite.info().is_some_and(|s| s.enc.ends_with("_CBC"))
}

/// Bytes from the server into the handshake until it has something to say.
async fn next(held: &mut Held, hs: &mut CbcHandshake) -> Result<Progress, String> {
    let wire = |e: WireError| format!("the server's bytes: {e}");
    match hs.feed(&[]).map_err(wire)? {
        Progress::NeedMore => {}
        p => return Ok(p),
    }
    for _ in 0..MAX_READS {
        match held.read_some(MAX_READ, ANSWER_WAIT).await {
            Step::Bytes(b) => match hs.feed(&b).map_err(wire)? {
                Progress::NeedMore => continue,
                p => return Ok(p),
            },
            Step::Closed { .. } => return Err("the server closed the connection".into()),
            Step::Silent { .. } => return Err("the server went silent".into()),
            Step::DeadlineReached => return Err("the run's deadline was reached".into()),
        }
    }
    Err(format!("no complete answer in {MAX_READS} reads"))
}

/// What a handshake step that was not the expected one got, in words.
fn said(p: &Progress) -> String {
    match p {
        Progress::Alert { alert, .. } => format!(
            "{} alert {} ({})",
            alert.level.name(),
            alert.description.name(),
            alert.description.to_u8()
        ),
        Progress::ServerFinished { verified: false } => {
            "a Finished whose verify_data is not the one the keys predict".into()
        }
        Progress::ServerFinished { verified: true } => "the server's Finished".into(),
        Progress::Undecryptable => "a record that did not decrypt under the agreed keys".into(),
        Progress::FlightDone => "a second first flight".into(),
        Progress::NeedMore => "nothing complete".into(),
    }
}

/// The probe over CBC: one connection, the hand-written handshake, then the sealed request.
pub async fn probe(ctx: &ScanContext) -> Answer {
    let what = "a full TLS 1.2 handshake with a CBC suite (needed to renegotiate)";
    let mut held = match ctx.prober.open_held(ANSWER_WAIT).await {
        Ok(h) => h,
        Err(e) => return Answer::NotTested(format!("{what}: no connection: {e}")),
    };
    let ids: Vec<_> = SUITES.iter().map(|s| s.id).collect();
    let (mut hs, hello) = CbcHandshake::start(ProtocolVersion::Tls12, ctx.sni.as_deref(), &ids);
    if !held.send(&hello, ANSWER_WAIT).await {
        return Answer::NotTested(format!("{what}: the server closed the connection"));
    }
    match next(&mut held, &mut hs).await {
        Ok(Progress::FlightDone) => {}
        Ok(p) => {
            return Answer::NotTested(format!(
                "{what} failed: the hello was answered with {}",
                said(&p)
            ));
        }
        Err(e) => return Answer::NotTested(format!("{what} failed: {e}")),
    }
    let suite = hs
        .suite()
        .and_then(|s| s.id.info())
        .map(|s| s.iana.to_string())
        .unwrap_or_default();
    let flight = match hs.client_flight(crate::wire::cbc::Padding::Correct) {
        Ok(f) => f,
        Err(e) => return Answer::NotTested(format!("{what} failed: {e}")),
    };
    if !held.send(&flight, ANSWER_WAIT).await {
        return Answer::NotTested(format!("{what}: the server closed the connection"));
    }
    match next(&mut held, &mut hs).await {
        Ok(Progress::ServerFinished { verified: true }) => {}
        Ok(p) => {
            return Answer::NotTested(format!(
                "{what} failed: the client's Finished was answered with {}",
                said(&p)
            ));
        }
        Err(e) => return Answer::NotTested(format!("{what} failed: {e}")),
    }
    let Some(est) = hs.established() else {
        return Answer::NotTested(format!("{what}: no keys after the handshake"));
    };
    let (mut write, mut read) = (est.write, est.read);
    let hello = renegotiation_hello(ctx, est.secure_renegotiation, &est.client_verify_data);
    let mut iv = [0u8; 16];
    crate::wire::keyshare::random_bytes(&mut iv);
    let sealed = write.seal(ContentType::Handshake.to_u8(), &hello, iv);
    let mut record = Vec::new();
    encode_fragmented(ContentType::Handshake, 0x0303, &sealed, &mut record);
    let reply = if held.send(&record, ANSWER_WAIT).await {
        read_answer(&mut held, &mut read).await
    } else {
        Reply::Closed
    };
    Answer::Answered {
        suite,
        secure: est.secure_renegotiation,
        reply,
    }
}

/// The server's answer to the sealed ClientHello: the first record that is not application
/// data, decrypted.
async fn read_answer(held: &mut Held, read: &mut CipherState) -> Reply {
    let mut d = Deframer::new();
    for _ in 0..MAX_READS {
        let bytes = match held.read_some(MAX_READ, ANSWER_WAIT).await {
            Step::Bytes(b) => b,
            Step::Closed { .. } => return Reply::Closed,
            Step::Silent { .. } | Step::DeadlineReached => return Reply::Silent,
        };
        if d.push(&bytes).is_err() {
            return Reply::Other(bytes.first().copied().unwrap_or(0));
        }
        loop {
            let rec = match d.pop() {
                Ok(Some(rec)) => rec,
                Ok(None) => break,
                // Not a TLS record header: whatever it is, not a new ServerHello.
                Err(_) => return Reply::Other(bytes.first().copied().unwrap_or(0)),
            };
            let plain = read.open(rec.typ.to_u8(), &rec.payload).ok();
            match rec.typ {
                ContentType::ApplicationData => continue,
                ContentType::Handshake => {
                    return match plain {
                        Some(p) if p.first() == Some(&2) => Reply::Handshake,
                        _ => Reply::Other(rec.typ.to_u8()),
                    };
                }
                ContentType::Alert => {
                    return plain
                        .and_then(|p| Alert::from_bytes(&p).ok())
                        .map_or(Reply::UnreadableAlert, Reply::Alert);
                }
                other => return Reply::Other(other.to_u8()),
            }
        }
    }
    Reply::Silent
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::suites::CipherSuiteId;

    #[test]
    fn only_a_cbc_pick_takes_the_cbc_handshake() {
        // ECDHE-RSA-AES128-SHA, AES256-SHA256, ECDHE-RSA-AES256-SHA384 (which the CBC client
        // does not complete, but it may take another CBC suite the server also has).
        for id in [0xc013, 0x003d, 0xc028] {
            assert!(wants_cbc(CipherSuiteId(id)), "{id:04x}");
        }
        // AES-GCM, ChaCha20-Poly1305: rustls's; an unknown id: neither.
        for id in [0xc02f, 0xcca8, 0x1301, 0xfafa] {
            assert!(!wants_cbc(CipherSuiteId(id)), "{id:04x}");
        }
    }
}
