//! Name the protocol a non-TLS port speaks, from the first bytes it sent.
//! The knowledge lives in `data/plaintext-protocols.toml`.

use crate::probe::Prober;
use serde::Deserialize;
use std::sync::OnceLock;

/// How the scan's connection tally names the sniff's connections.
pub const NAME: &str = "plaintext";

#[derive(Debug, Deserialize)]
struct Table {
    protocol: Vec<Entry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    pub name: String,
    pub hint: String,
    #[serde(default)]
    starts_with: Option<String>,
    #[serde(default)]
    contains: Option<String>,
    #[serde(default)]
    first_byte: Option<u8>,
    #[serde(default)]
    first_byte_at_4: Option<u8>,
    /// Recognised only by sending this protocol's own first message (see [`sniff_silent`]).
    #[serde(default)]
    active_probe: Option<String>,
    /// The `--starttls` protocol that reaches this service's TLS, where it has one.
    #[serde(default)]
    pub starttls: Option<crate::starttls::Protocol>,
}

impl Entry {
    fn matches(&self, bytes: &[u8]) -> bool {
        if self.active_probe.is_some() {
            return false;
        }
        let starts = self
            .starts_with
            .as_ref()
            .is_none_or(|p| bytes.starts_with(p.as_bytes()));
        let contains = self
            .contains
            .as_ref()
            .is_none_or(|p| bytes.windows(p.len().max(1)).any(|w| w == p.as_bytes()));
        let first = self.first_byte.is_none_or(|b| bytes.first() == Some(&b));
        let at4 = self
            .first_byte_at_4
            .is_none_or(|b| bytes.get(4) == Some(&b));
        starts && contains && first && at4
    }
}

fn table() -> &'static [Entry] {
    static TABLE: OnceLock<Vec<Entry>> = OnceLock::new();
    TABLE.get_or_init(|| {
        toml::from_str::<Table>(include_str!("../../data/plaintext-protocols.toml"))
            .map(|t| t.protocol)
            .unwrap_or_default()
    })
}

/// The protocol these first bytes most likely belong to, if recognised.
pub fn identify(first_bytes: &[u8]) -> Option<&'static Entry> {
    table().iter().find(|e| e.matches(first_bytes))
}

/// The table entry for a protocol recognised by an active probe.
pub fn by_probe(name: &str) -> Option<&'static Entry> {
    table()
        .iter()
        .find(|e| e.active_probe.as_deref() == Some(name))
}

/// The table entry a failed scan named (" — looks like NAME: HINT", from the first bytes or
/// an active probe), when that service has a STARTTLS upgrade: what `check` goes on through.
pub fn upgrade_named_by(error: &super::ScanError) -> Option<&'static Entry> {
    let super::ScanError::NotTls { hint, .. } = error else {
        return None;
    };
    let named = hint.strip_prefix(" — looks like ")?;
    table()
        .iter()
        .filter(|e| e.starttls.is_some())
        .find(|e| named == format!("{}: {}", e.name, e.hint))
}

/// A MongoDB OP_MSG `hello` command on database `admin`, as a driver sends it first.
pub fn mongodb_hello() -> Vec<u8> {
    // BSON {hello: 1, $db: "admin"}
    let mut doc = Vec::new();
    doc.push(0x10);
    doc.extend_from_slice(b"hello\0");
    doc.extend_from_slice(&1i32.to_le_bytes());
    doc.push(0x02);
    doc.extend_from_slice(b"$db\0");
    doc.extend_from_slice(&6i32.to_le_bytes());
    doc.extend_from_slice(b"admin\0");
    doc.push(0);
    let mut bson = ((doc.len() + 4) as i32).to_le_bytes().to_vec();
    bson.extend_from_slice(&doc);
    let mut body = 0u32.to_le_bytes().to_vec(); // flagBits
    body.push(0); // section kind 0: the command document
    body.extend_from_slice(&bson);
    let mut msg = ((16 + body.len()) as i32).to_le_bytes().to_vec();
    msg.extend_from_slice(&1i32.to_le_bytes()); // requestID
    msg.extend_from_slice(&0i32.to_le_bytes()); // responseTo
    msg.extend_from_slice(&2013i32.to_le_bytes()); // OP_MSG
    msg.extend_from_slice(&body);
    msg
}

/// Whether `reply` is a MongoDB wire-protocol answer to our request 1 (OP_MSG or OP_REPLY).
pub fn is_mongodb_reply(reply: &[u8]) -> bool {
    if reply.len() < 16 {
        return false;
    }
    let word = |i: usize| i32::from_le_bytes([reply[i], reply[i + 1], reply[i + 2], reply[i + 3]]);
    let (len, response_to, opcode) = (word(0), word(8), word(12));
    (16..=48 * 1024 * 1024).contains(&len) && response_to == 1 && (opcode == 2013 || opcode == 1)
}

/// A scan that found no TLS: when every hello was met with silence, a close or a reset,
/// ask the port in other protocols ([`sniff_silent`]); when it answered as HTTP, ask whether
/// it is a forward proxy. The error to report, naming what was found.
pub async fn sniff_after(
    prober: &Prober,
    sni: Option<&str>,
    protocols: &super::versions::ProtocolSupport,
    error: super::ScanError,
) -> super::ScanError {
    use super::ScanError;
    use crate::probe::ProbeOutcome;
    let address = prober.addr().to_string();
    let named = |found: Sniffed, before: &str| ScanError::NotTls {
        address: address.clone(),
        first_bytes: format!("({before}; {})", found.evidence),
        hint: format!(" — looks like {}: {}", found.entry.name, found.entry.hint),
    };
    match &error {
        ScanError::NoTls { .. } => {
            let silent = |o: &ProbeOutcome| {
                matches!(
                    o,
                    ProbeOutcome::Closed { bytes_received: 0 }
                        | ProbeOutcome::Reset { bytes_received: 0 }
                        | ProbeOutcome::Timeout { bytes_received: 0 }
                )
            };
            if !protocols.results.iter().all(|r| silent(&r.raw)) {
                return error;
            }
            if let Some(found) = sniff_silent(prober, sni).await {
                return named(found, "nothing to any TLS hello");
            }
            let waited = protocols
                .results
                .iter()
                .all(|r| matches!(r.raw, ProbeOutcome::Timeout { .. }));
            match by_probe("silent") {
                Some(entry) if waited => named(
                    Sniffed {
                        entry,
                        evidence: "none to any of the sniffer's probes either".into(),
                    },
                    "no answer before the timeout to any TLS hello",
                ),
                _ => error,
            }
        }
        ScanError::NotTls { first_bytes, .. } if first_bytes.starts_with("HTTP/") => {
            match ask(prober, "http-proxy", HTTP_PROXY_PROBE).await {
                Some(found) => named(found, "an HTTP answer to the TLS hello"),
                None => error,
            }
        }
        _ => error,
    }
}

/// What an active probe found on a port that answered no TLS hello: the table entry and
/// one line of evidence.
#[derive(Debug, Clone)]
pub struct Sniffed {
    pub entry: &'static Entry,
    pub evidence: String,
}

/// A port that closed, reset or ignored every TLS hello may be a service that waits for
/// its own protocol's first message, or a TLS server behind something that wants a header
/// first. Ask it, one harmless message each, all at once under the connection cap: a
/// PostgreSQL SSLRequest, an LDAP StartTLS request, a MongoDB `hello`, an RDP connection
/// request, an HTTP CONNECT to a name that cannot exist (a forward proxy answers it as a
/// proxy), and a TLS hello after a PROXY protocol header. The first that answers names it.
pub async fn sniff_silent(prober: &Prober, sni: Option<&str>) -> Option<Sniffed> {
    let hello = super::versions::probe_hello(crate::wire::ProtocolVersion::Tls12, sni);
    let probes: Vec<(&str, Vec<u8>)> = vec![
        ("postgres", crate::starttls::postgres_ssl_request().to_vec()),
        ("ldap", crate::starttls::ldap_start_tls_request()),
        ("mongodb", mongodb_hello()),
        ("redis", b"PING\r\n".to_vec()),
        ("rdp", RDP_CONNECTION_REQUEST.to_vec()),
        ("http-proxy", HTTP_PROXY_PROBE.to_vec()),
        ("proxy-protocol", [PROXY_V1_UNKNOWN, &hello].concat()),
    ];
    let answers =
        futures::future::join_all(probes.iter().map(|(name, bytes)| ask(prober, name, bytes)))
            .await;
    answers.into_iter().flatten().next()
}

const RDP_CONNECTION_REQUEST: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, // TPKT, length 19
    0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, // X.224 Connection Request
    0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, // RDP_NEG_REQ: TLS | CredSSP
];

/// `.invalid` never resolves (RFC 6761): a proxy fails to reach it and says so as a proxy.
const HTTP_PROXY_PROBE: &[u8] =
    b"CONNECT tlsdoctor.invalid:443 HTTP/1.1\r\nHost: tlsdoctor.invalid:443\r\n\r\n";

/// PROXY protocol v1 with the addresses left unknown (the receiver uses the real ones).
const PROXY_V1_UNKNOWN: &[u8] = b"PROXY UNKNOWN\r\n";

async fn ask(prober: &Prober, name: &str, bytes: &[u8]) -> Option<Sniffed> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let entry = by_probe(name)?;
    let mut conn = prober.open_plaintext().await.ok()?;
    let deadline = conn.deadline;
    let s = &mut conn.stream;
    if name == "proxy-protocol" {
        let run = async {
            s.write_all(bytes).await.ok()?;
            Some(crate::probe::read_flight(s, prober.config().read_timeout).await)
        };
        let outcome = tokio::time::timeout_at(deadline, run).await.ok()??;
        return matches!(
            outcome,
            crate::probe::ProbeOutcome::Accepted(_) | crate::probe::ProbeOutcome::Alert(_)
        )
        .then(|| Sniffed {
            entry,
            evidence: format!(
                "after a PROXY protocol header (\"PROXY UNKNOWN\") the same TLS hello got an answer: {}",
                outcome.describe()
            ),
        });
    }
    let run = async {
        s.write_all(bytes).await.ok()?;
        let mut buf = vec![0u8; 1024];
        let mut got = 0;
        // Enough to recognise the answer (the first read may be short), and no more: the
        // peer may wait for us after it.
        let enough = match name {
            "mongodb" => 16,
            "rdp" => 6,
            "http-proxy" => 12,
            _ => 1,
        };
        while got < enough {
            match s.read(&mut buf[got..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        buf.truncate(got);
        Some(buf)
    };
    let reply = tokio::time::timeout_at(deadline, run).await.ok()??;
    let evidence = recognise(name, &reply)?;
    Some(Sniffed { entry, evidence })
}

/// Whether `reply` is `name`'s own answer to its probe; the evidence line if so.
pub fn recognise(name: &str, reply: &[u8]) -> Option<String> {
    match name {
        "postgres" => match reply.first() {
            Some(b'S') => {
                Some("it answered a PostgreSQL SSLRequest with 'S' (TLS may start)".into())
            }
            Some(b'N') => {
                Some("it answered a PostgreSQL SSLRequest with 'N' (no TLS configured)".into())
            }
            _ => None,
        },
        "ldap" => (reply.first() == Some(&0x30) && reply.len() >= 2)
            .then(|| "it answered an LDAP StartTLS request with an LDAP message".into()),
        "mongodb" => {
            is_mongodb_reply(reply).then(|| "it answered a plain MongoDB hello command".into())
        }
        "redis" => ["+PONG", "-NOAUTH", "-DENIED", "-ERR"]
            .iter()
            .any(|p| reply.starts_with(p.as_bytes()))
            .then(|| {
                format!(
                    "it answered a Redis PING with \"{}\"",
                    crate::wire::printable_prefix(
                        reply.split(|b| *b == b'\r').next().unwrap_or(reply)
                    )
                )
            }),
        "rdp" => {
            (reply.len() >= 6 && reply[0] == 0x03 && reply[1] == 0x00 && reply[5] & 0xf0 == 0xd0)
                .then(|| {
                    "it answered an RDP (X.224) connection request with a connection confirm".into()
                })
        }
        "http-proxy" => {
            let text = String::from_utf8_lossy(reply);
            let status = text.lines().next().unwrap_or("");
            let proxyish = status.starts_with("HTTP/1.")
                && (["407", "502", "503", "504", "500 Unable", "200"]
                    .iter()
                    .any(|c| status.get(9..).is_some_and(|s| s.starts_with(c)))
                    || text.to_ascii_lowercase().contains("proxy"));
            proxyish.then(|| {
                format!(
                    "it answered an HTTP CONNECT as a forward proxy does: \"{}\"",
                    crate::wire::printable_prefix(status.as_bytes())
                )
            })
        }
        _ => None,
    }
}

/// The active probes [`sniff_silent`] sends, by their table name.
pub const ACTIVE_PROBES: [&str; 7] = [
    "postgres",
    "ldap",
    "mongodb",
    "redis",
    "rdp",
    "http-proxy",
    "proxy-protocol",
];

/// The sniffer's part of the `starttls_replies` fuzz target: arbitrary bytes as a first
/// answer and as every active probe's reply; nothing may panic.
pub fn fuzz_sniff(data: &[u8]) {
    let _ = identify(data);
    for probe in ACTIVE_PROBES {
        if let Some(line) = recognise(probe, data) {
            assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_loads() {
        assert!(
            table().len() >= 8,
            "data/plaintext-protocols.toml failed to parse"
        );
    }

    #[test]
    fn identifies_common_banners() {
        let cases: &[(&[u8], &str)] = &[
            (b"HTTP/1.1 400 Bad Request\r\n", "HTTP"),
            (b"220 mail.example.test ESMTP Postfix\r\n", "SMTP"),
            (b"220 (vsFTPd 3.0.3)\r\n", "FTP"),
            (b"+OK Dovecot ready.\r\n", "POP3"),
            (b"* OK [CAPABILITY IMAP4rev1] ready\r\n", "IMAP"),
            (b"SSH-2.0-OpenSSH_9.2\r\n", "SSH"),
            (b"EXXXXSFATAL\0C0A000\0", "PostgreSQL"),
            (b"\x03\x00\x00\x09\x02\xf0\x80\x21\x80", "RDP"),
            (
                b"200 news.test InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n",
                "NNTP",
            ),
            (
                b"\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n\"SIEVE\" \"fileinto\"\r\n",
                "ManageSieve",
            ),
        ];
        for (bytes, want) in cases {
            let got = identify(bytes).map(|e| e.name.as_str()).unwrap_or("none");
            assert!(
                got.contains(want),
                "{:?}: got {got}, want {want}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert!(identify(b"\x16\x03\x01").is_none());
    }

    #[test]
    fn a_named_service_with_an_upgrade_is_found_again() {
        let smtp = identify(b"220 mail.test ESMTP Postfix\r\n").unwrap();
        let error = crate::scan::ScanError::NotTls {
            address: "127.0.0.1:2525".into(),
            first_bytes: "220 mail.test ESMTP Postfix\\r\\n".into(),
            hint: format!(" — looks like {}: {}", smtp.name, smtp.hint),
        };
        let found = upgrade_named_by(&error).map(|e| e.starttls);
        assert_eq!(found, Some(Some(crate::starttls::Protocol::Smtp)));
        let ssh = identify(b"SSH-2.0-OpenSSH_9.2\r\n").unwrap();
        let error = crate::scan::ScanError::NotTls {
            address: "127.0.0.1:22".into(),
            first_bytes: "SSH-2.0".into(),
            hint: format!(" — looks like {}: {}", ssh.name, ssh.hint),
        };
        assert!(upgrade_named_by(&error).is_none(), "SSH has no upgrade");
    }

    #[test]
    fn mongodb_hello_is_well_formed() {
        let m = mongodb_hello();
        let len = i32::from_le_bytes([m[0], m[1], m[2], m[3]]) as usize;
        assert_eq!(len, m.len());
        let bson_len = i32::from_le_bytes([m[21], m[22], m[23], m[24]]) as usize;
        assert_eq!(
            21 + bson_len,
            m.len(),
            "one BSON document fills the section"
        );
        assert!(by_probe("mongodb").is_some());
        let mut reply = m.clone();
        reply[8..12].copy_from_slice(&1i32.to_le_bytes());
        assert!(is_mongodb_reply(&reply));
        assert!(!is_mongodb_reply(b"HTTP/1.1 400 Bad Request\r\n"));
    }
}
