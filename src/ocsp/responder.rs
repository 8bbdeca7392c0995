//! Ask the OCSP responder a certificate names (its AIA `OCSP` URL) about that certificate:
//! one HTTP/1.0 POST of a DER OCSPRequest (RFC 6960 Appendix A), bounded in time and size.
//!
//! Which address is contacted: only the `http://` URL written in the leaf certificate the
//! checked server presented, resolved with the system resolver. tlsdoctor has no built-in
//! responders, does not follow redirects and does not retry elsewhere, so the only hosts
//! contacted are the server the user named and the responder that server's certificate
//! names. The query runs when the user passes `--ocsp-query`, or automatically when the
//! server staples nothing and the certificate names a responder (what PyMongo and other
//! revocation-checking clients do in that case).

use super::parse::{ParsedResponse, parse_response};
use super::verify::{Subject, Verdict, sha1_cert_id_hashes, validate};
use der::Encode;
use serde::Serialize;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest HTTP answer read (OCSP responses are a few KiB).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// What the responder did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ResponderOutcome {
    /// No connection or no answer in time.
    Unreachable { reason: String },
    /// It answered, but not with a usable OCSP response (HTTP error, not OCSP, or an
    /// unsuccessful OCSP status).
    Error { reason: String },
    /// A parsed OCSP response and the verdict on it.
    Answered {
        response: Box<ParsedResponse>,
        verdict: Verdict,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponderQuery {
    pub url: String,
    /// The address connected to, when resolution succeeded.
    pub address: Option<String>,
    /// Time from the start of the query to the end of the answer.
    pub latency_ms: Option<u64>,
    pub http_status: Option<u16>,
    pub outcome: ResponderOutcome,
}

/// The DER OCSPRequest for the leaf (SHA-1 CertID, no nonce, unsigned), as PyMongo, OpenSSL
/// and browsers send it.
pub fn build_request(
    leaf_serial: &[u8],
    issuer_name: &[u8],
    issuer_spki: &[u8],
) -> Result<Vec<u8>, String> {
    let (name_hash, key_hash) = sha1_cert_id_hashes(issuer_name, issuer_spki)
        .ok_or("the issuer's public key could not be decoded")?;
    let e = |e: der::Error| format!("cannot encode the OCSP request: {e}");
    let cert_id = x509_ocsp::CertId {
        hash_algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
            oid: der::asn1::ObjectIdentifier::new_unwrap("1.3.14.3.2.26"),
            parameters: Some(der::asn1::Any::from(der::asn1::Null)),
        },
        issuer_name_hash: der::asn1::OctetString::new(name_hash).map_err(e)?,
        issuer_key_hash: der::asn1::OctetString::new(key_hash).map_err(e)?,
        serial_number: x509_cert::serial_number::SerialNumber::new(leaf_serial).map_err(e)?,
    };
    let req = x509_ocsp::OcspRequest {
        tbs_request: x509_ocsp::TbsRequest {
            version: Default::default(),
            requestor_name: None,
            request_list: vec![x509_ocsp::Request {
                req_cert: cert_id,
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    req.to_der().map_err(e)
}

/// An `http://host[:port]/path` URL split up; anything else is refused with a reason.
pub fn split_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("HTTP://"))
        .ok_or_else(|| {
            format!(
                "only http:// responder URLs are queried (OCSP runs over plain HTTP), not {url}"
            )
        })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("the responder URL {url} has no usable host"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("unterminated IPv6 literal")?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("bad port in {url}"))?,
            None => 80,
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse().map_err(|_| format!("bad port in {url}"))?,
            ),
            None => (authority.to_string(), 80),
        }
    };
    if path.chars().any(|c| c.is_control() || c == ' ') {
        return Err(format!(
            "the responder URL {url} has spaces or control characters"
        ));
    }
    Ok((host, port, path.to_string()))
}

/// Split an HTTP response into status code and body (Content-Length, chunked or until close).
fn parse_http(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer is not HTTP (no header end)")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    let proto = parts.next().unwrap_or_default();
    if !proto.starts_with("HTTP/") {
        return Err(format!(
            "the answer is not HTTP: {:?}",
            status_line.chars().take(60).collect::<String>()
        ));
    }
    let code: u16 = parts
        .next()
        .and_then(|c| c.parse().ok())
        .ok_or("the HTTP status line has no status code")?;
    let mut chunked = false;
    let mut length: Option<usize> = None;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            } else if k == "content-length" {
                length = v.parse().ok();
            }
        }
    }
    let body = &raw[end + 4..];
    let body = if chunked {
        dechunk(body).ok_or("the chunked HTTP body is malformed")?
    } else if let Some(n) = length {
        body.get(..n)
            .ok_or("the HTTP body is shorter than its Content-Length")?
            .to_vec()
    } else {
        body.to_vec()
    };
    Ok((code, body))
}

/// True when `raw` holds a whole response with a Content-Length (or a finished chunked
/// body); responses delimited by the connection closing are complete only at EOF.
fn is_complete(raw: &[u8]) -> bool {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let body = raw.len() - (end + 4);
    for line in head.split("\r\n") {
        if let Some(v) = line.strip_prefix("content-length:") {
            return v.trim().parse::<usize>().is_ok_and(|n| body >= n);
        }
        if line.starts_with("transfer-encoding:") && line.contains("chunked") {
            return raw.ends_with(b"\r\n0\r\n\r\n") || raw[end + 4..].starts_with(b"0\r\n\r\n");
        }
    }
    false
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

/// Query the responder at `url` about `subject.leaf`, with `timeout` bounding each of
/// resolution, connect, write and the whole read. `now_unix` judges the answer's times.
pub async fn query(
    url: &str,
    subject: &Subject<'_>,
    timeout: Duration,
    now_unix: i64,
) -> ResponderQuery {
    let mut out = ResponderQuery {
        url: url.to_string(),
        address: None,
        latency_ms: None,
        http_status: None,
        outcome: ResponderOutcome::Unreachable {
            reason: String::new(),
        },
    };
    let unreachable = |reason: String| ResponderOutcome::Unreachable { reason };
    let (host, port, path) = match split_url(url) {
        Ok(x) => x,
        Err(e) => {
            out.outcome = ResponderOutcome::Error { reason: e };
            return out;
        }
    };
    let serial = match x509_parser::parse_x509_certificate(subject.leaf) {
        Ok((_, c)) => c.raw_serial().to_vec(),
        Err(_) => {
            out.outcome = ResponderOutcome::Error {
                reason: "the leaf certificate could not be parsed".into(),
            };
            return out;
        }
    };
    let body = match build_request(&serial, subject.issuer_name, subject.issuer_spki) {
        Ok(b) => b,
        Err(e) => {
            out.outcome = ResponderOutcome::Error { reason: e };
            return out;
        }
    };
    let start = Instant::now();
    let secs = timeout.as_secs_f64();
    let addrs =
        match tokio::time::timeout(timeout, tokio::net::lookup_host((host.as_str(), port))).await {
            Err(_) => {
                out.outcome = unreachable(format!("resolving {host} timed out after {secs:.1}s"));
                return out;
            }
            Ok(Err(e)) => {
                out.outcome = unreachable(format!("cannot resolve {host}: {e}"));
                return out;
            }
            Ok(Ok(a)) => a.collect::<Vec<_>>(),
        };
    let Some(addr) = addrs.first().copied() else {
        out.outcome = unreachable(format!("{host} resolves to no address"));
        return out;
    };
    out.address = Some(addr.to_string());
    let mut stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => {
            out.outcome = unreachable(format!("connecting to {addr} timed out after {secs:.1}s"));
            return out;
        }
        Ok(Err(e)) => {
            out.outcome = unreachable(format!("cannot connect to {addr}: {e}"));
            return out;
        }
        Ok(Ok(s)) => s,
    };
    let host_header = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    let host_header = if port == 80 {
        host_header
    } else {
        format!("{host_header}:{port}")
    };
    let mut request = format!(
        "POST {path} HTTP/1.0\r\nHost: {host_header}\r\nContent-Type: application/ocsp-request\r\nAccept: application/ocsp-response\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: tlsdoctor\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    match tokio::time::timeout(timeout, stream.write_all(&request)).await {
        Err(_) => {
            out.outcome = unreachable(format!(
                "sending the request to {addr} timed out after {secs:.1}s"
            ));
            return out;
        }
        Ok(Err(e)) => {
            out.outcome = unreachable(format!("sending the request to {addr} failed: {e}"));
            return out;
        }
        Ok(Ok(())) => {}
    }
    let mut raw = Vec::new();
    let read = async {
        let mut buf = [0u8; 8192];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok::<bool, std::io::Error>(false);
            }
            raw.extend_from_slice(&buf[..n]);
            if raw.len() > MAX_RESPONSE_BYTES {
                return Ok(true);
            }
            // Some responders keep the connection open despite `Connection: close`.
            if is_complete(&raw) {
                return Ok(false);
            }
        }
    };
    match tokio::time::timeout(timeout, read).await {
        Err(_) => {
            out.outcome = unreachable(format!(
                "{addr} accepted the connection but sent no complete answer within {secs:.1}s"
            ));
            return out;
        }
        Ok(Err(e)) if raw.is_empty() => {
            out.outcome = unreachable(format!("reading the answer from {addr} failed: {e}"));
            return out;
        }
        Ok(Ok(true)) => {
            out.outcome = ResponderOutcome::Error {
                reason: format!("the answer exceeds {MAX_RESPONSE_BYTES} bytes"),
            };
            return out;
        }
        _ => {}
    }
    out.latency_ms = Some(start.elapsed().as_millis() as u64);
    let (code, body) = match parse_http(&raw) {
        Ok(x) => x,
        Err(e) => {
            out.outcome = ResponderOutcome::Error { reason: e };
            return out;
        }
    };
    out.http_status = Some(code);
    if code != 200 {
        out.outcome = ResponderOutcome::Error {
            reason: format!("the responder answered HTTP {code}"),
        };
        return out;
    }
    out.outcome = match parse_response(&body) {
        Err(e) => ResponderOutcome::Error {
            reason: format!("the HTTP body is not an OCSP response: {e}"),
        },
        Ok(r) if r.response_status != "successful" => ResponderOutcome::Error {
            reason: format!(
                "the responder answered with OCSP status {}",
                r.response_status
            ),
        },
        Ok(r) => {
            let verdict = validate(&r, subject, now_unix);
            ResponderOutcome::Answered {
                response: Box::new(r),
                verdict,
            }
        }
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_split_or_refused() {
        assert_eq!(
            split_url("http://ocsp.example.test").unwrap(),
            ("ocsp.example.test".into(), 80, "/".into())
        );
        assert_eq!(
            split_url("http://127.0.0.1:8080/a/b").unwrap(),
            ("127.0.0.1".into(), 8080, "/a/b".into())
        );
        assert_eq!(
            split_url("http://[::1]:81/").unwrap(),
            ("::1".into(), 81, "/".into())
        );
        assert!(split_url("https://ocsp.example.test/").is_err());
        assert!(split_url("ldap://x/").is_err());
        assert!(split_url("http://user@host/").is_err());
        assert!(split_url("http://host:notaport/").is_err());
    }

    #[test]
    fn completeness_by_length_and_chunks() {
        assert!(is_complete(
            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nab"
        ));
        assert!(!is_complete(
            b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nab"
        ));
        assert!(!is_complete(b"HTTP/1.0 200 OK\r\n\r\nab"));
        assert!(is_complete(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"
        ));
        assert!(!is_complete(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n"
        ));
    }

    #[test]
    fn http_bodies_by_length_chunked_and_close() {
        let (c, b) = parse_http(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabcdef").unwrap();
        assert_eq!((c, b.as_slice()), (200, &b"abc"[..]));
        let (_, b) = parse_http(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!(b, b"abcde");
        let (c, b) = parse_http(b"HTTP/1.1 404 Not Found\r\n\r\nxyz").unwrap();
        assert_eq!((c, b.as_slice()), (404, &b"xyz"[..]));
        assert!(parse_http(b"SSH-2.0-OpenSSH\r\n").is_err());
        assert!(parse_http(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nab").is_err());
        assert!(
            parse_http(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
    }
}
