//! XMPP (RFC 6120 §5): open a stream to the domain, read its features, ask for STARTTLS and
//! wait for `<proceed/>`. The server's XML is only searched for a few fixed markers, never
//! parsed, and its size is bounded.

use super::reply::send_bytes;
use crate::probe::PreludeError;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

const TLS_NS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
/// Stream header and features are a few KiB.
const MAX_XML: usize = 64 * 1024;

pub fn stream_header(domain: &str, server: bool) -> String {
    let ns = if server {
        "jabber:server"
    } else {
        "jabber:client"
    };
    // The domain is the user's; keep it to characters that cannot end the attribute.
    let domain: String = domain
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    format!(
        "<?xml version='1.0'?><stream:stream xmlns='{ns}' xmlns:stream='http://etherx.jabber.org/streams' to='{domain}' version='1.0'>"
    )
}

/// Read until `done` holds for what was read so far, up to [`MAX_XML`].
async fn read_until(
    stream: &mut TcpStream,
    deadline: Instant,
    done: impl Fn(&str) -> bool,
) -> Result<String, PreludeError> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return Err(PreludeError::Timeout),
            Ok(r) => r?,
        };
        if n == 0 {
            return Err(PreludeError::Io {
                kind: std::io::ErrorKind::UnexpectedEof,
                message: format!(
                    "the server closed the stream after \"{}\"",
                    crate::wire::printable_prefix(&got)
                ),
            });
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some(at) = text.find("<stream:error") {
            return Err(PreludeError::Refused {
                reply: text[at..].chars().take(300).collect(),
            });
        }
        if done(&text) {
            return Ok(text.into_owned());
        }
        if got.len() > MAX_XML {
            return Err(PreludeError::Malformed {
                reason: format!("no complete stream features within {MAX_XML} bytes"),
            });
        }
    }
}

/// The full dialogue: stream header, features, STARTTLS, `<proceed/>`.
pub async fn upgrade(
    stream: &mut TcpStream,
    deadline: Instant,
    domain: &str,
    server: bool,
) -> Result<(), PreludeError> {
    send_bytes(stream, deadline, stream_header(domain, server).as_bytes()).await?;
    let features = read_until(stream, deadline, |t| {
        t.contains("</stream:features>") || t.contains("<stream:features/>")
    })
    .await?;
    if !features.contains(TLS_NS) {
        let at = features.find("<stream:features").unwrap_or(0);
        return Err(PreludeError::NotOffered {
            reply: features[at..].chars().take(300).collect(),
        });
    }
    send_bytes(stream, deadline, starttls_request().as_bytes()).await?;
    let answer = read_until(stream, deadline, answered).await?;
    proceeds(stream, &answer)
}

/// The pipelined form (the client speaks first in XMPP, so it is the connection's first
/// flight): the stream header and the STARTTLS request in one write, sent with the
/// connection, then the server's header, features and `<proceed/>` read in turn.
pub fn pipelined_request(domain: &str, server: bool) -> String {
    let mut both = stream_header(domain, server);
    both.push_str(&starttls_request());
    both
}

/// The pipelined form's answers, once [`pipelined_request`] is sent: the server's stream
/// header and features, then `<proceed/>` (a `<failure/>` or a stream error ends it).
pub async fn pipelined_answers(
    stream: &mut TcpStream,
    deadline: Instant,
) -> Result<(), PreludeError> {
    let answer = read_until(stream, deadline, answered).await?;
    proceeds(stream, &answer)
}

fn starttls_request() -> String {
    format!("<starttls xmlns='{TLS_NS}'/>")
}

fn answered(t: &str) -> bool {
    (t.contains("<proceed") || t.contains("<failure")) && t.trim_end().ends_with('>')
}

/// Whether `answer` (everything read since the request) ends in `<proceed/>` with nothing
/// after it, read or waiting: what follows the go-ahead would be taken for TLS.
fn proceeds(stream: &TcpStream, answer: &str) -> Result<(), PreludeError> {
    let Some(at) = answer.find("<proceed") else {
        return Err(PreludeError::Refused {
            reply: answer.trim().chars().take(300).collect(),
        });
    };
    let element = &answer[at..];
    let end = element.find('>').map_or(element.len(), |e| e + 1);
    let rest = element[end..].trim();
    if !rest
        .strip_prefix("</proceed>")
        .unwrap_or(rest)
        .trim()
        .is_empty()
    {
        return Err(PreludeError::Malformed {
            reason: format!(
                "the server sent more after its go-ahead <proceed/>, before any ClientHello: \"{}\"",
                rest.chars().take(100).collect::<String>()
            ),
        });
    }
    super::reply::nothing_after(stream, &element[..end])
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_keeps_the_domain_inside_its_attribute() {
        let h = super::stream_header("ex'ample.test><x", false);
        assert!(h.contains("to='example.testx'"), "{h}");
        assert!(super::stream_header("a.test", true).contains("jabber:server"));
    }
}
