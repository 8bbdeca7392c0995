//! A client certificate required at the HTTP level: the server asked for a certificate,
//! let the handshake finish without one, and answered the request with an HTTP error that
//! names the certificate (nginx `ssl_verify_client on`: `400 No required SSL certificate
//! was sent`). Every client connects at the TLS level and then gets that answer, so what
//! each one shows is an HTTP error, not a TLS one: the texts are the measured ones of
//! data/client-errors.toml `[http_answer.client_cert_missing]`.

use super::super::evidence::Evidence;
use crate::doctor::http_answer::HttpAnswer;
use crate::finding::catalogue::finding;
use crate::finding::{ClientBreak, Finding, variant};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The parts of an HTTP answer the rule reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub status: u16,
    pub reason: String,
    /// The error page's `<title>`, when it has one.
    pub title: Option<String>,
    /// Whether the answer speaks of a (client or SSL) certificate.
    pub names_certificate: bool,
}

/// Longest peer text quoted in a finding.
const MAX_QUOTED: usize = 160;

fn quoted(s: &str) -> String {
    let s = s.trim();
    let cut: String = s.chars().take(MAX_QUOTED).collect();
    let cut = if cut.len() < s.len() {
        format!("{cut}…")
    } else {
        cut
    };
    crate::escape::escape(&cut).into_owned()
}

/// Read the status line, the reason and the page title of `raw` (the answer's first bytes).
pub fn parse(raw: &[u8]) -> Option<Parsed> {
    let text = String::from_utf8_lossy(raw);
    let first = text.lines().next()?;
    let mut parts = first.splitn(3, ' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status: u16 = parts.next()?.parse().ok()?;
    let reason = parts.next().unwrap_or("").trim().to_string();
    let lower = text.to_ascii_lowercase();
    let title = lower.find("<title>").and_then(|start| {
        let from = start + "<title>".len();
        let end = lower[from..].find("</title>")? + from;
        // Same byte offsets: to_ascii_lowercase keeps every character's length.
        text.get(from..end).map(|t| t.trim().to_string())
    });
    let body_start = lower.find("\r\n\r\n").map(|i| i + 4).unwrap_or(lower.len());
    let names_certificate = lower[body_start..].contains("certificate")
        || reason.to_ascii_lowercase().contains("certificate");
    Some(Parsed {
        status,
        reason,
        title,
        names_certificate,
    })
}

#[derive(Debug, Default, Deserialize)]
struct Wording {
    #[serde(default)]
    http_answer: BTreeMap<String, BTreeMap<String, String>>,
}

/// What each HTTPS client shows for an HTTP-level refusal of a missing certificate
/// (client as run → its text, `{url}` to be filled).
pub fn client_texts() -> &'static BTreeMap<String, String> {
    static W: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    W.get_or_init(|| {
        toml::from_str::<Wording>(include_str!("../../../data/client-errors.toml"))
            .ok()
            .and_then(|mut w| w.http_answer.remove("client_cert_missing"))
            .unwrap_or_default()
    })
}

/// The URL the clients were pointed at, as they print it.
fn url(ev: &Evidence) -> String {
    let host = ev.observed.sni.clone().unwrap_or_else(|| {
        ev.observed
            .address
            .rsplit_once(':')
            .map(|(h, _)| h.to_string())
            .unwrap_or_default()
    });
    let port = ev
        .observed
        .address
        .rsplit_once(':')
        .map(|(_, p)| p)
        .unwrap_or("443");
    if port == "443" {
        format!("https://{host}/")
    } else {
        format!("https://{host}:{port}/")
    }
}

pub fn required_at_http_level(ev: &Evidence) -> Option<Finding> {
    let answer: &HttpAnswer = ev.observed.http_after_certificate_request.as_ref()?;
    let p = parse(&answer.answer)?;
    // Only an error that speaks of the certificate: a 404 for "/" says nothing about it.
    if !(400..500).contains(&p.status) || !p.names_certificate {
        return None;
    }
    let text = p.title.clone().unwrap_or_else(|| p.reason.clone());
    let mut f = finding(
        variant::client_cert_required::HTTP_LEVEL,
        &[("status", p.status.to_string()), ("text", quoted(&text))],
    )
    .evidence(format!(
        "{}: the server sent a CertificateRequest and finished the handshake although no certificate came",
        answer.version
    ));
    if let Some(names) = ev
        .observed
        .handshakes
        .iter()
        .find_map(|(_, r)| r.as_ref().ok()?.client_cert_request.as_ref())
        .filter(|r| !r.ca_names.is_empty())
    {
        f = f.evidence(format!(
            "acceptable CAs the server lists: {}",
            quoted(&names.ca_names.join("; "))
        ));
    }
    f = f
        .evidence(format!(
            "one request after that handshake ({}) was answered with HTTP {} {}",
            quoted(&answer.request),
            p.status,
            quoted(&p.reason)
        ))
        .evidence(
            "every client gets through the TLS handshake and then this HTTP answer: they report an HTTP error (or, without error handling, just the status), never a TLS error",
        );
    if let Some(t) = &p.title {
        f = f.evidence(format!("the error page's title: {}", quoted(t)));
    }
    let url = url(ev);
    for (client, text) in client_texts() {
        f.breaks.push(ClientBreak {
            client: client.clone(),
            error: text.replace("{url}", &url),
            key: None,
            unquoted: None,
            after: None,
        });
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NGINX: &[u8] = b"HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>No required SSL certificate was sent</center>\r\n";

    #[test]
    fn nginx_answer_is_read() {
        let p = parse(NGINX).unwrap();
        assert_eq!(p.status, 400);
        assert_eq!(p.reason, "Bad Request");
        assert_eq!(
            p.title.as_deref(),
            Some("400 No required SSL certificate was sent")
        );
        assert!(p.names_certificate);
    }

    #[test]
    fn an_answer_without_a_certificate_word_or_not_http_is_not_read_as_one() {
        let p = parse(b"HTTP/1.1 404 Not Found\r\nServer: x-certificate-proxy\r\n\r\nnothing here")
            .unwrap();
        assert!(!p.names_certificate);
        assert_eq!(parse(b"SSH-2.0-OpenSSH_9.2\r\n"), None);
        assert_eq!(parse(b"HTTP/1.1 abc Bad\r\n"), None);
        assert_eq!(parse(b""), None);
    }

    #[test]
    fn hostile_text_is_escaped_and_bounded() {
        let q = quoted(&format!("\u{1b}[2J{}", "x".repeat(500)));
        assert!(!q.contains('\u{1b}'), "{q}");
        assert!(q.chars().count() < 200, "{q}");
    }

    #[test]
    fn every_client_text_is_in_the_catalogue() {
        let t = client_texts();
        assert!(t.len() >= 5, "{t:?}");
        assert!(t.keys().any(|k| k.starts_with("curl")));
        assert!(t.keys().any(|k| k.starts_with("Java")));
    }
}
