//! A minimal HTTP/1.0 client for the two fetches a certificate asks for: its OCSP responder
//! (POST) and its issuer's certificate at the AIA caIssuers URL (GET). Plain HTTP only, one
//! request per connection, no redirects followed, every step under a deadline and the answer
//! capped in size: these URLs come from certificates, so they are treated as hostile input.

use crate::probe::{ConnectError, Connection, Prober};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What to send.
pub struct Request<'a> {
    pub method: &'a str,
    pub content_type: Option<&'a str>,
    pub accept: &'a str,
    pub body: &'a [u8],
}

/// A complete answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The address connected to.
    pub address: String,
    /// From the start of the request to the end of the answer.
    pub latency_ms: u64,
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why there is no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// No connection, or no complete answer in time.
    Unreachable {
        address: Option<String>,
        reason: String,
    },
    /// The URL is unusable, or what came back is not a usable HTTP answer.
    Bad {
        address: Option<String>,
        reason: String,
    },
}

/// Send `req` to `url` (http:// only) and read the answer, with `timeout` bounding each of
/// resolution, connect, write and the whole read, and at most `max` bytes read. When the URL
/// resolves to the address `server` probes, the connection is that prober's (its slot, its
/// count): the server sees it like any other.
pub async fn exchange(
    url: &str,
    req: &Request<'_>,
    timeout: Duration,
    server: Option<&Prober>,
    max: usize,
) -> Result<Answer, HttpError> {
    // A fetch made for a probed server ends by that run's deadline too.
    let Some(run) = server.and_then(|p| p.config().run.clone()) else {
        return exchange_within(url, req, timeout, server, max).await;
    };
    match tokio::time::timeout_at(run.at(), exchange_within(url, req, timeout, server, max)).await {
        Ok(answer) => answer,
        Err(_) => {
            run.mark_reached();
            Err(HttpError::Unreachable {
                address: None,
                reason: "the run's deadline was reached before the answer".into(),
            })
        }
    }
}

async fn exchange_within(
    url: &str,
    req: &Request<'_>,
    timeout: Duration,
    server: Option<&Prober>,
    max: usize,
) -> Result<Answer, HttpError> {
    let bad = |address: Option<String>, reason: String| HttpError::Bad { address, reason };
    let unreachable =
        |address: Option<String>, reason: String| HttpError::Unreachable { address, reason };
    let (host, port, path) = split_url(url).map_err(|e| bad(None, e))?;
    let start = Instant::now();
    let secs = timeout.as_secs_f64();
    let addrs =
        match tokio::time::timeout(timeout, tokio::net::lookup_host((host.as_str(), port))).await {
            Err(_) => {
                return Err(unreachable(
                    None,
                    format!("resolving {host} timed out after {secs:.1}s"),
                ));
            }
            Ok(Err(e)) => return Err(unreachable(None, format!("cannot resolve {host}: {e}"))),
            Ok(Ok(a)) => a.collect::<Vec<_>>(),
        };
    let Some(addr) = addrs.first().copied() else {
        return Err(unreachable(None, format!("{host} resolves to no address")));
    };
    let at = Some(addr.to_string());
    let opened = match server.filter(|p| p.addr() == addr) {
        Some(prober) => prober.open_plaintext().await,
        None => Connection::direct(addr, timeout).await,
    };
    let mut conn = match opened {
        Err(ConnectError::Timeout { .. }) => {
            return Err(unreachable(
                at,
                format!("connecting to {addr} timed out after {secs:.1}s"),
            ));
        }
        Err(e) => return Err(unreachable(at, format!("cannot connect to {addr}: {e}"))),
        Ok(c) => c,
    };
    let stream = &mut conn.stream;
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
    let mut request = format!("{} {path} HTTP/1.0\r\nHost: {host_header}\r\n", req.method);
    if let Some(ct) = req.content_type {
        request.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    request.push_str(&format!(
        "Accept: {}\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: tlsdoctor\r\n\r\n",
        req.accept,
        req.body.len()
    ));
    let mut request = request.into_bytes();
    request.extend_from_slice(req.body);
    match tokio::time::timeout(timeout, stream.write_all(&request)).await {
        Err(_) => {
            return Err(unreachable(
                at,
                format!("sending the request to {addr} timed out after {secs:.1}s"),
            ));
        }
        Ok(Err(e)) => {
            return Err(unreachable(
                at,
                format!("sending the request to {addr} failed: {e}"),
            ));
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
            if raw.len() > max {
                return Ok(true);
            }
            // Some servers keep the connection open despite `Connection: close`.
            if is_complete(&raw) {
                return Ok(false);
            }
        }
    };
    match tokio::time::timeout(timeout, read).await {
        Err(_) => {
            return Err(unreachable(
                at,
                format!(
                    "{addr} accepted the connection but sent no complete answer within {secs:.1}s"
                ),
            ));
        }
        Ok(Err(e)) if raw.is_empty() => {
            return Err(unreachable(
                at,
                format!("reading the answer from {addr} failed: {e}"),
            ));
        }
        Ok(Ok(true)) => return Err(bad(at, format!("the answer exceeds {max} bytes"))),
        _ => {}
    }
    let latency_ms = start.elapsed().as_millis() as u64;
    let (status, body) = parse_http(&raw).map_err(|e| bad(at.clone(), e))?;
    Ok(Answer {
        address: addr.to_string(),
        latency_ms,
        status,
        body,
    })
}

/// An `http://host[:port]/path` URL split up; anything else is refused with a reason.
pub fn split_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("HTTP://"))
        .ok_or_else(|| {
            format!("only http:// URLs are fetched (OCSP and AIA run over plain HTTP), not {url}")
        })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("the URL {url} has no usable host"));
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
        return Err(format!("the URL {url} has spaces or control characters"));
    }
    Ok((host, port, path.to_string()))
}

/// Split an HTTP response into status code and body (Content-Length, chunked or until close).
pub(crate) fn parse_http(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
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
pub(crate) fn is_complete(raw: &[u8]) -> bool {
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
