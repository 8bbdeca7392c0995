//! What each lab endpoint runs on an accepted connection: rustls, the legacy server, plain
//! HTTP or an SMTP dialogue with STARTTLS. Every connection is bounded in time and bytes.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::legacy::{self, LegacyConfig};

/// How long one client may keep a lab connection in total.
pub(crate) const CONNECTION_DEADLINE: Duration = Duration::from_secs(30);
const READ_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_REQUEST: usize = 16384;
const MAX_SMTP_LINE: u64 = 1024;
const MAX_SMTP_COMMANDS: usize = 50;

pub(crate) enum Server {
    Tls(TlsAcceptor),
    /// Asks for a client certificate, and answers HTTP 400 when none came (nginx
    /// `ssl_verify_client on`).
    TlsCertRequiredHttp(TlsAcceptor),
    Legacy(Arc<LegacyConfig>),
    PlainHttp,
    /// Reads what the client sends first and closes without a byte.
    HangsUp,
    Smtp(TlsAcceptor),
}

/// The short HTTP answer every endpoint gives once a client gets through.
pub(crate) fn http_response(name: &str) -> Vec<u8> {
    let body = format!("lab endpoint {name}\n");
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub(crate) async fn handle(server: &Server, name: &'static str, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let work = async {
        match server {
            Server::Tls(acceptor) => {
                let tls = acceptor.accept(stream).await?;
                answer_request(tls, name).await
            }
            Server::TlsCertRequiredHttp(acceptor) => {
                let tls = acceptor.accept(stream).await?;
                if tls.get_ref().1.peer_certificates().is_some() {
                    answer_request(tls, name).await
                } else {
                    answer_request_with(tls, &no_certificate_response(name)).await
                }
            }
            Server::Legacy(cfg) => legacy::serve(cfg.clone(), stream)
                .await
                .map_err(|e| io::Error::other(e.to_string())),
            Server::PlainHttp => plain_http(stream, name).await,
            Server::HangsUp => hang_up(stream).await,
            Server::Smtp(acceptor) => smtp(stream, acceptor, name).await,
        }
    };
    // Errors are the point of the lab (clients abort handshakes); nothing to report.
    let _ = tokio::time::timeout(CONNECTION_DEADLINE, work).await;
}

async fn read_timeout<R: AsyncRead + Unpin>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    tokio::time::timeout(READ_TIMEOUT, r.read(buf))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "client too slow"))?
}

/// nginx's answer to a request without the client certificate it requires, with the lab's
/// last words.
fn no_certificate_response(name: &str) -> Vec<u8> {
    let body = format!(
        "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>No required SSL certificate was sent</center>\r\n<hr><center>lab endpoint {name}</center>\r\n</body>\r\n</html>\r\n"
    );
    format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Read up to the first line of a request (bounded), answer, close cleanly.
async fn answer_request<S: AsyncRead + AsyncWrite + Unpin>(s: S, name: &str) -> io::Result<()> {
    answer_request_with(s, &http_response(name)).await
}

/// [`answer_request`] with the answer `response`.
async fn answer_request_with<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    response: &[u8],
) -> io::Result<()> {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.contains(&b'\n') && request.len() < MAX_REQUEST {
        let n = read_timeout(&mut s, &mut buf).await?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    s.write_all(response).await?;
    s.shutdown().await
}

/// What an SNI router without a route for the name does: read the hello, send nothing,
/// close (FIN).
async fn hang_up(mut s: TcpStream) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    let _ = read_timeout(&mut s, &mut buf).await?;
    s.shutdown().await
}

async fn plain_http(mut s: TcpStream, name: &str) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    let n = read_timeout(&mut s, &mut buf).await?;
    let looks_http = [&b"GET "[..], b"HEAD ", b"POST ", b"PUT ", b"OPTIONS "]
        .iter()
        .any(|m| buf[..n].starts_with(m));
    if looks_http {
        s.write_all(&http_response(name)).await?;
    } else {
        let body = "this port speaks plain HTTP, not TLS\n";
        let answer = format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(answer.as_bytes()).await?;
    }
    s.shutdown().await
}

enum SmtpEnd {
    StartTls,
    Quit,
}

async fn smtp(stream: TcpStream, acceptor: &TlsAcceptor, name: &str) -> io::Result<()> {
    let mut s = BufReader::new(stream);
    s.write_all(b"220 lab.tlsdoctor.test ESMTP tlsdoctor lab (STARTTLS required)\r\n")
        .await?;
    if let SmtpEnd::StartTls = smtp_dialogue(&mut s, true, name).await? {
        let tls = acceptor.accept(s.into_inner()).await?;
        let mut t = BufReader::new(tls);
        smtp_dialogue(&mut t, false, name).await?;
        t.shutdown().await?;
    }
    Ok(())
}

async fn smtp_dialogue<S: AsyncBufRead + AsyncWrite + Unpin>(
    s: &mut S,
    plaintext: bool,
    name: &str,
) -> io::Result<SmtpEnd> {
    for _ in 0..MAX_SMTP_COMMANDS {
        let mut line = Vec::new();
        let n = tokio::time::timeout(
            READ_TIMEOUT,
            (&mut *s).take(MAX_SMTP_LINE).read_until(b'\n', &mut line),
        )
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "client too slow"))??;
        if n == 0 {
            return Ok(SmtpEnd::Quit);
        }
        let text = String::from_utf8_lossy(&line);
        let verb = text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: String = match verb.as_str() {
            "EHLO" | "HELO" if plaintext => {
                "250-lab.tlsdoctor.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n".into()
            }
            "EHLO" | "HELO" => "250-lab.tlsdoctor.test\r\n250 8BITMIME\r\n".into(),
            "STARTTLS" if plaintext => {
                s.write_all(b"220 2.0.0 Ready to start TLS\r\n").await?;
                s.flush().await?;
                return Ok(SmtpEnd::StartTls);
            }
            "STARTTLS" => "503 5.5.1 TLS already active\r\n".into(),
            "QUIT" => {
                s.write_all(b"221 2.0.0 Bye\r\n").await?;
                s.flush().await?;
                return Ok(SmtpEnd::Quit);
            }
            "NOOP" | "RSET" => "250 2.0.0 OK\r\n".into(),
            _ if plaintext => "530 5.7.0 Must issue a STARTTLS command first\r\n".into(),
            _ => format!("250 2.0.0 lab endpoint {name}\r\n"),
        };
        s.write_all(reply.as_bytes()).await?;
        s.flush().await?;
    }
    s.write_all(b"421 4.7.0 Too many commands\r\n").await?;
    Ok(SmtpEnd::Quit)
}
