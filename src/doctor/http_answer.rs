//! One harmless HTTP request after a handshake that finished without a client certificate
//! although the server asked for one. Servers such as nginx with `ssl_verify_client on` let
//! that handshake finish and refuse only at the HTTP level (`400 No required SSL certificate
//! was sent`), which no handshake shows. The request is `GET /` with `Connection: close`,
//! sent only when the port looks like HTTP (the server chose http/1.1 by ALPN, or the port
//! is a well-known HTTPS port) and no STARTTLS prelude runs; the connection is the probe
//! engine's, the answer is read under its deadlines and kept to its first bytes.

use crate::cert::fetch::{FetchError, FetchedChain, evidence_only_verifier};
use crate::probe::Prober;
use crate::wire::ProtocolVersion;
use rustls::pki_types::ServerName;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// At most this much of the answer is read and kept: the status line, the headers and the
/// start of an error page.
pub const MAX_ANSWER: usize = 4096;

/// Ports that carry HTTPS by convention, for servers that negotiate no ALPN.
const HTTPS_PORTS: &[u16] = &[443, 4443, 8443, 9443, 10443];

/// What the server answered to the request, or why it did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpAnswer {
    /// The version of the handshake the request went over.
    pub version: ProtocolVersion,
    /// The ALPN protocol the server chose (http/1.1 was offered).
    pub alpn: Option<String>,
    /// The request line and Host header sent.
    pub request: String,
    /// The answer's first bytes as the server sent them (at most [`MAX_ANSWER`]).
    #[serde(with = "crate::serde_hex")]
    pub answer: Vec<u8>,
    /// Why no answer (or only part of one) came: the handshake failed, the read timed out,
    /// the connection broke.
    pub error: Option<String>,
}

/// The versions whose full handshake shows a CertificateRequest and finished without a
/// client certificate, newest first.
fn finished_without_certificate(
    handshakes: &[(ProtocolVersion, Result<FetchedChain, FetchError>)],
) -> Vec<ProtocolVersion> {
    let mut vs: Vec<ProtocolVersion> = handshakes
        .iter()
        .filter_map(|(v, r)| {
            let c = r.as_ref().ok()?;
            (c.client_cert_request.is_some() && c.handshake_error.is_none()).then_some(*v)
        })
        .collect();
    vs.sort();
    vs.reverse();
    vs
}

/// Send the request when a handshake finished without the certificate the server asked
/// for and the port looks like HTTP; `None` when there is nothing to ask.
pub async fn after_certificate_request(
    prober: &Prober,
    sni: Option<&str>,
    handshakes: &[(ProtocolVersion, Result<FetchedChain, FetchError>)],
) -> Option<HttpAnswer> {
    if prober.config().prelude.is_some() {
        return None;
    }
    let version = *finished_without_certificate(handshakes).first()?;
    let https_port = HTTPS_PORTS.contains(&prober.addr().port());
    get(prober, sni, version, https_port).await
}

/// The Host header: the name, or the address, with the port unless it is 443.
fn host_header(sni: Option<&str>, prober: &Prober) -> String {
    let addr = prober.addr();
    let host = match sni {
        Some(n) => n.trim_end_matches('.').to_string(),
        None if addr.is_ipv6() => format!("[{}]", addr.ip()),
        None => addr.ip().to_string(),
    };
    if addr.port() == 443 {
        host
    } else {
        format!("{host}:{}", addr.port())
    }
}

/// A handshake in `version` offering http/1.1, without a client certificate, then `GET /`
/// when the server chose http/1.1 or `https_port` says the port is HTTPS anyway. `None`
/// when the port does not look like HTTP: nothing is sent after the handshake.
async fn get(
    prober: &Prober,
    sni: Option<&str>,
    version: ProtocolVersion,
    https_port: bool,
) -> Option<HttpAnswer> {
    let host = host_header(sni, prober);
    let request = format!("GET / HTTP/1.1\r\nHost: {host}");
    let mut out = HttpAnswer {
        version,
        alpn: None,
        request: request.replace("\r\n", ", "),
        answer: Vec::new(),
        error: None,
    };
    let versions: &[&'static rustls::SupportedProtocolVersion] = match version {
        ProtocolVersion::Tls13 => &[&rustls::version::TLS13],
        _ => &[&rustls::version::TLS12],
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
    {
        Ok(b) => b,
        Err(e) => {
            out.error = Some(e.to_string());
            return https_port.then_some(out);
        }
    };
    let mut config = config
        .dangerous()
        .with_custom_certificate_verifier(evidence_only_verifier())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name: ServerName<'static> = match sni.map(|n| n.trim_end_matches('.').to_string()) {
        Some(n) => match ServerName::try_from(n) {
            Ok(n) => n,
            Err(_) => ServerName::IpAddress(prober.addr().ip().into()),
        },
        None => ServerName::IpAddress(prober.addr().ip().into()),
    };
    let mut session = match prober.tls_handshake(Arc::new(config), name).await {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(format!("the handshake for the request failed: {e:?}"));
            return https_port.then_some(out);
        }
    };
    out.alpn = session
        .stream
        .get_ref()
        .1
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    if !(https_port || out.alpn.as_deref() == Some("http/1.1")) {
        return None;
    }
    let bytes =
        format!("{request}\r\nUser-Agent: tlsdoctor\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    let deadline = session.deadline;
    let exchange = async {
        session.stream.write_all(bytes.as_bytes()).await?;
        session.stream.flush().await?;
        let mut buf = [0u8; 1024];
        while out.answer.len() < MAX_ANSWER {
            let n = session.stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            let room = MAX_ANSWER - out.answer.len();
            out.answer.extend_from_slice(&buf[..n.min(room)]);
        }
        Ok::<(), std::io::Error>(())
    };
    match tokio::time::timeout_at(deadline, exchange).await {
        Err(_) if out.answer.is_empty() => {
            out.error = Some("no answer before the probe's deadline".into())
        }
        Err(_) => {}
        // A close without close_notify after a complete answer is common and harmless.
        Ok(Err(e)) if out.answer.is_empty() => out.error = Some(e.to_string()),
        Ok(_) => {}
    }
    Some(out)
}
