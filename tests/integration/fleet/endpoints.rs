//! A local fleet: a few hundred endpoints on 127.0.0.2 … 127.0.0.N (random free ports),
//! served by one tokio runtime in the test process: rustls servers (healthy, TLS 1.3 only,
//! TLS 1.2 only, expired certificate), a port that answers HTTP, and closed ports. Each
//! endpoint knows what a scan must say about it.

use crate::common::pki::Pki;
use crate::common::servers::ClosedPort;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio_rustls::TlsAcceptor;

/// What an endpoint is, and so what its result line must say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// TLS 1.2 and 1.3, a valid chain under the test root.
    Healthy,
    /// TLS 1.3 only.
    Tls13Only,
    /// TLS 1.2 only.
    Tls12Only,
    /// TLS 1.2 and 1.3 with an expired leaf.
    Expired,
    /// Answers HTTP, not TLS.
    NotTls,
    /// Nothing listens.
    Dead,
}

pub struct Endpoint {
    pub kind: Kind,
    pub addr: SocketAddr,
}

impl Endpoint {
    /// The input line for this endpoint.
    pub fn target(&self) -> String {
        self.addr.to_string()
    }
}

/// The fleet; its servers run until it drops.
pub struct Fleet {
    pub endpoints: Vec<Endpoint>,
    /// Held so that the dead endpoints stay dead while the fleet runs.
    _closed: Vec<ClosedPort>,
    _runtime: tokio::runtime::Runtime,
    _pki: Pki,
}

impl Fleet {
    /// `counts` endpoints of each kind, spread over `hosts` loopback addresses from 127.0.0.2.
    pub fn start(counts: &[(Kind, usize)], hosts: u8) -> Fleet {
        let pki = Pki::build();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let good = acceptor(
            &pki,
            "good",
            &[&rustls::version::TLS12, &rustls::version::TLS13],
        );
        let only13 = acceptor(&pki, "good", &[&rustls::version::TLS13]);
        let only12 = acceptor(&pki, "good", &[&rustls::version::TLS12]);
        let expired = acceptor(
            &pki,
            "expired",
            &[&rustls::version::TLS12, &rustls::version::TLS13],
        );
        let mut endpoints = Vec::new();
        let mut closed = Vec::new();
        let mut n = 0usize;
        for (kind, count) in counts {
            for _ in 0..*count {
                let ip = format!("127.0.0.{}", 2 + (n % usize::from(hosts)));
                n += 1;
                let tls = match kind {
                    Kind::Dead => {
                        let port = ClosedPort::reserve();
                        let addr = SocketAddr::new(ip.parse().unwrap(), port.port);
                        closed.push(port);
                        endpoints.push(Endpoint { kind: *kind, addr });
                        continue;
                    }
                    Kind::Healthy => Some(good.clone()),
                    Kind::Tls13Only => Some(only13.clone()),
                    Kind::Tls12Only => Some(only12.clone()),
                    Kind::Expired => Some(expired.clone()),
                    Kind::NotTls => None,
                };
                let listener = std::net::TcpListener::bind((ip.as_str(), 0))
                    .unwrap_or_else(|e| panic!("cannot bind {ip}: {e}"));
                let addr = listener.local_addr().unwrap();
                listener.set_nonblocking(true).unwrap();
                let _guard = runtime.enter();
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                runtime.spawn(serve_forever(listener, tls));
                endpoints.push(Endpoint { kind: *kind, addr });
            }
        }
        Fleet {
            endpoints,
            _closed: closed,
            _runtime: runtime,
            _pki: pki,
        }
    }

    /// One target per line, with a comment and a blank line among them, as a fleet file.
    pub fn input(&self) -> String {
        let mut out = String::from("# the local test fleet\n\n");
        for e in &self.endpoints {
            out.push_str(&e.target());
            out.push('\n');
        }
        out
    }
}

fn acceptor(
    pki: &Pki,
    leaf: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> TlsAcceptor {
    let mut chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(pki.path(&format!("{leaf}.pem")))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    chain.extend(
        CertificateDer::pem_file_iter(pki.path("int.pem"))
            .unwrap()
            .map(Result::unwrap),
    );
    let key = PrivateKeyDer::from_pem_file(pki.path(&format!("{leaf}.key"))).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

/// Accept until the runtime ends: a TLS handshake (then close), or an HTTP answer.
async fn serve_forever(listener: tokio::net::TcpListener, tls: Option<TlsAcceptor>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                Some(acceptor) => {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(5), acceptor.accept(stream)).await;
                }
                None => {
                    let _ = stream
                        .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    let _ = stream.shutdown().await;
                }
            }
        });
    }
}

/// A healthy TLS server on 127.0.0.2 that accepts `before` connections, then closes its
/// port for `gap` (connects are refused), then listens again on the same port for good:
/// a server that starts refusing part-way through a scan.
pub struct Flaky {
    pub addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
    _pki: Pki,
}

impl Flaky {
    pub fn start(before: usize, gap: Duration) -> Flaky {
        let pki = Pki::build();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let tls = acceptor(
            &pki,
            "good",
            &[&rustls::version::TLS12, &rustls::version::TLS13],
        );
        let listener = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let _guard = runtime.enter();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        runtime.spawn(async move {
            for _ in 0..before {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = tls.clone();
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(5), acceptor.accept(stream)).await;
                });
            }
            drop(listener);
            tokio::time::sleep(gap).await;
            let again = tokio::net::TcpListener::bind(addr).await.unwrap();
            serve_forever(again, Some(tls)).await;
        });
        Flaky {
            addr,
            _runtime: runtime,
            _pki: pki,
        }
    }
}
