//! `tlsdoctor capture-client`: listen on a local port, record the ClientHello of whatever
//! real client connects, answer with a fatal alert, and write a client-profile skeleton, so
//! profiles are made from the bytes a client really sends rather than from memory.
//!
//! Everything the client sends is treated as hostile: reads are bounded in size and time, and
//! a peer that does not send a TLS ClientHello gets a clear error, never a panic.

use crate::wire::{ClientExtension, ClientHello, ProtocolVersion};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A hello larger than this is refused (real hellos with post-quantum key shares stay
/// well under 8 KiB; 64 KiB leaves room without letting a peer make us buffer forever).
pub const MAX_HELLO_BYTES: usize = 64 * 1024;

/// Why a capture failed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("no client connected within {0:?}")]
    NoClient(Duration),
    #[error("the client sent nothing usable within {0:?}")]
    ReadTimeout(Duration),
    #[error("reading from the client failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the client closed the connection after {0} bytes, before a complete ClientHello")]
    Truncated(usize),
    #[error("the client did not start a TLS handshake (first bytes: {0})")]
    NotTls(String),
    #[error(
        "the client sent an SSLv2-format hello; record it as hex by hand (tlsdoctor replays such hellos as they are)"
    )]
    Sslv2,
    #[error("the ClientHello is larger than {MAX_HELLO_BYTES} bytes")]
    TooLarge,
    #[error("the client's hello does not parse: {0}")]
    Malformed(String),
}

/// One recorded ClientHello.
#[derive(Debug, Clone)]
pub struct Captured {
    pub peer: SocketAddr,
    /// The handshake record(s) exactly as received.
    pub records: Vec<u8>,
    pub hello: ClientHello,
}

impl Captured {
    /// Protocol versions the hello offers, lowest first (GREASE and unknown values left out).
    /// Without supported_versions, the client offers up to its legacy_version; the lowest it
    /// would accept is not visible on the wire, so the range starts at the lowest a hello of
    /// that shape can ask for (TLS 1.0), and the profile's author must confirm it.
    pub fn offered_versions(&self) -> (ProtocolVersion, ProtocolVersion, bool) {
        let listed: Vec<ProtocolVersion> = self
            .hello
            .extensions
            .iter()
            .find_map(|e| match e {
                ClientExtension::SupportedVersions(v) => Some(v.clone()),
                _ => None,
            })
            .unwrap_or_default()
            .into_iter()
            .map(ProtocolVersion::from_wire)
            .filter(|v| !matches!(v, ProtocolVersion::Unknown(_)))
            .collect();
        match (listed.iter().min(), listed.iter().max()) {
            (Some(lo), Some(hi)) => (*lo, *hi, true),
            _ => {
                let hi = ProtocolVersion::from_wire(self.hello.legacy_version);
                (ProtocolVersion::Tls10.min(hi), hi, false)
            }
        }
    }

    pub fn sni(&self) -> Option<&str> {
        self.hello.extensions.iter().find_map(|e| match e {
            ClientExtension::ServerName(n) => Some(n.as_str()),
            _ => None,
        })
    }

    pub fn offers_renegotiation_info(&self) -> bool {
        self.hello
            .cipher_suites
            .contains(&crate::wire::suites::TLS_EMPTY_RENEGOTIATION_INFO_SCSV)
            || self
                .hello
                .extensions
                .iter()
                .any(|e| matches!(e, ClientExtension::RenegotiationInfo(_)))
    }
}

/// Bind the capture listener. Only the address the user gives is bound.
pub async fn listen(addr: SocketAddr) -> Result<TcpListener, CaptureError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| CaptureError::Listen { addr, source })
}

/// Wait for one client on `listener` and record its ClientHello. The client is then sent a
/// fatal handshake_failure alert, so it stops at once with an error instead of hanging.
pub async fn capture_one(
    listener: &TcpListener,
    accept_timeout: Duration,
    read_timeout: Duration,
) -> Result<Captured, CaptureError> {
    let (mut stream, peer) = tokio::time::timeout(accept_timeout, listener.accept())
        .await
        .map_err(|_| CaptureError::NoClient(accept_timeout))??;
    let records = read_hello_records(&mut stream, read_timeout).await;
    // handshake_failure, fatal, in a TLS 1.0 record (every TLS client reads that version).
    let _ = tokio::time::timeout(
        read_timeout,
        stream.write_all(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]),
    )
    .await;
    let _ = tokio::time::timeout(read_timeout, stream.shutdown()).await;
    let records = records?;
    let hello =
        ClientHello::parse_record(&records).map_err(|e| CaptureError::Malformed(e.to_string()))?;
    Ok(Captured {
        peer,
        records,
        hello,
    })
}

/// Read whole handshake records until they hold one complete handshake message.
async fn read_hello_records(
    stream: &mut TcpStream,
    read_timeout: Duration,
) -> Result<Vec<u8>, CaptureError> {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(done) = complete_len(&buf)? {
            buf.truncate(done);
            return Ok(buf);
        }
        if buf.len() >= MAX_HELLO_BYTES {
            return Err(CaptureError::TooLarge);
        }
        let n = tokio::time::timeout(read_timeout, stream.read(&mut chunk))
            .await
            .map_err(|_| CaptureError::ReadTimeout(read_timeout))??;
        if n == 0 {
            return Err(CaptureError::Truncated(buf.len()));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// When `buf` starts with complete handshake records carrying a whole handshake message,
/// the length of those records. Errors on anything that is not a TLS handshake.
fn complete_len(buf: &[u8]) -> Result<Option<usize>, CaptureError> {
    if let Some(&first) = buf.first() {
        if first & 0x80 != 0 && buf.get(2).is_none_or(|&t| t == 1) {
            return Err(CaptureError::Sslv2);
        }
        if first != 0x16 {
            return Err(CaptureError::NotTls(crate::wire::printable_prefix(
                &buf[..buf.len().min(16)],
            )));
        }
    }
    let mut pos = 0;
    let mut payload: Vec<u8> = Vec::new();
    while let Some(header) = buf.get(pos..pos + 5) {
        if header[0] != 0x16 || header[1] != 0x03 {
            return Err(CaptureError::NotTls(crate::wire::printable_prefix(
                &header[..header.len().min(5)],
            )));
        }
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if len > 16384 + 2048 {
            return Err(CaptureError::Malformed(format!(
                "record length {len} exceeds the TLS maximum"
            )));
        }
        let Some(body) = buf.get(pos + 5..pos + 5 + len) else {
            return Ok(None);
        };
        payload.extend_from_slice(body);
        pos += 5 + len;
        if payload.len() >= 4 {
            let msg_len = (usize::from(payload[1]) << 16)
                | (usize::from(payload[2]) << 8)
                | usize::from(payload[3]);
            if msg_len + 4 > MAX_HELLO_BYTES {
                return Err(CaptureError::TooLarge);
            }
            if payload.len() >= msg_len + 4 {
                return Ok(Some(pos));
            }
        }
    }
    Ok(None)
}

/// What the person capturing tells us about the client.
#[derive(Debug, Clone, Default)]
pub struct SkeletonInfo {
    pub id: String,
    pub name: Option<String>,
    pub library: Option<String>,
    pub style: Option<String>,
    /// Free text: the exact command line used and the machine.
    pub command: Option<String>,
    pub date: String,
}

fn toml_string(s: &str) -> String {
    // A TOML basic string: escape backslash, quote and control characters.
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            // Controls, and the invisible or reordering characters human output escapes too:
            // the skeleton is often printed to a terminal.
            c if crate::escape::is_neutralised(c) => {
                if (c as u32) <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32))
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A profile skeleton for data/clients/: the recorded hello and what the wire shows (version
/// range, SNI), with policy fields set to OpenSSL 3's defaults and marked for the author to
/// confirm against the client's documentation and a real run against `simulate`'s test servers.
pub fn profile_skeleton(c: &Captured, info: &SkeletonInfo) -> String {
    let (lo, hi, listed) = c.offered_versions();
    let mut s = String::new();
    s.push_str(&format!("id = {}\n", toml_string(&info.id)));
    s.push_str("aliases = []\n");
    s.push_str(&format!(
        "name = {}\n",
        toml_string(info.name.as_deref().unwrap_or(&info.id))
    ));
    s.push_str(&format!(
        "library = {}\n",
        toml_string(info.library.as_deref().unwrap_or("unknown: fill in"))
    ));
    s.push_str(&format!(
        "style = {}\n",
        toml_string(info.style.as_deref().unwrap_or("generic"))
    ));
    let mut source = format!(
        "captured {} by tlsdoctor capture-client from {}",
        info.date, c.peer
    );
    if let Some(cmd) = &info.command {
        source.push_str(&format!(" ({cmd})"));
    }
    s.push_str(&format!("source = {}\n", toml_string(&source)));
    s.push_str(&format!("sends_sni = {}\n", c.sni().is_some()));
    if let Some(name) = c.sni() {
        s.push_str(&format!(
            "# The client sent SNI {}; it is replaced with the target's name on replay.\n",
            toml_string(name)
        ));
    }
    s.push_str(&format!(
        "hello = {}\n\n",
        toml_string(&hex::encode(&c.records))
    ));
    s.push_str("[policy]\n");
    if !listed {
        s.push_str(&format!(
            "# No supported_versions extension: the hello asks for up to {hi}; the lowest version\n\
             # the client accepts is not on the wire. Confirm min_version from its documentation.\n"
        ));
    }
    s.push_str(&format!("min_version = {}\n", toml_string(&lo.key())));
    s.push_str(&format!("max_version = {}\n", toml_string(&hi.key())));
    let level = crate::clients::SecurityLevel::openssl3_default();
    s.push_str(&format!(
        "# Everything below is not visible in a ClientHello: the values are OpenSSL 3.0's\n\
         # defaults (security level {}). Check each against the client's documentation and a run\n\
         # of the real client against the misconfigured test servers (tests/simulate_*.rs).\n",
        level.0
    ));
    if !c.offers_renegotiation_info() {
        s.push_str(
            "# The hello offers neither renegotiation_info nor the SCSV: the client cannot require it.\n",
        );
    }
    s.push_str(&format!(
        "requires_secure_renegotiation = {}\n",
        c.offers_renegotiation_info()
    ));
    let limits = level.limits();
    s.push_str(&format!(
        "accepts_legacy_sigalgs = {}\n\
         min_dh_bits = {}\n\
         min_rsa_bits = {}\n\
         min_ecc_bits = {}\n\
         accepts_sha1_certificates = {}\n",
        limits.accepts_legacy_sigalgs,
        limits.min_dh_bits,
        limits.min_rsa_bits,
        limits.min_ecc_bits,
        limits.accepts_sha1_certificates
    ));
    s.push_str(
        "verifies_certificate = true\n\
         verifies_hostname = true\n\
         trust_store = \"system\"\n\
         ocsp = \"ignore\"\n",
    );
    s
}

/// Today's date (UTC) as YYYY-MM-DD.
pub fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_len_waits_for_whole_message() {
        let hello = ClientHello::for_probe(
            ProtocolVersion::Tls13,
            Some("a.example"),
            &[crate::wire::suites::CipherSuiteId(0x1301)],
        );
        let rec = hello.encode_records(0x0301);
        for cut in 0..rec.len() {
            assert_eq!(complete_len(&rec[..cut]).unwrap(), None, "cut at {cut}");
        }
        let mut more = rec.clone();
        more.extend_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
        assert_eq!(complete_len(&more).unwrap(), Some(rec.len()));
    }

    #[test]
    fn complete_len_refuses_non_tls() {
        assert!(matches!(
            complete_len(b"GET / HTTP/1.1\r\n"),
            Err(CaptureError::NotTls(_))
        ));
        assert!(matches!(
            complete_len(&[0x80, 0x2e, 0x01, 0x00, 0x02]),
            Err(CaptureError::Sslv2)
        ));
        // A record header claiming a huge handshake message.
        assert!(matches!(
            complete_len(&[0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0xff, 0xff, 0xff]),
            Err(CaptureError::TooLarge)
        ));
    }

    #[test]
    fn skeleton_is_a_loadable_profile() {
        let hello = ClientHello::for_probe(
            ProtocolVersion::Tls13,
            Some("a.example"),
            &[crate::wire::suites::CipherSuiteId(0x1301)],
        );
        let c = Captured {
            peer: "127.0.0.1:5555".parse().unwrap(),
            records: hello.encode_records(0x0301),
            hello,
        };
        let text = profile_skeleton(
            &c,
            &SkeletonInfo {
                id: "probe".into(),
                command: Some("a \"quoted\" command\\".into()),
                date: "2026-01-01".into(),
                ..Default::default()
            },
        );
        let p: crate::clients::ClientProfile = toml::from_str(&text).unwrap();
        assert_eq!(p.id, "probe");
        assert!(p.sends_sni);
        assert_eq!(p.policy.max(), ProtocolVersion::Tls13);
        assert_eq!(p.hello_bytes(), c.records);
        assert!(p.source.contains("a \"quoted\" command\\"));
    }
}
