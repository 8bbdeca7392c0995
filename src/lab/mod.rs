//! The built-in lab: every TLS failure the doctor diagnoses, reproducible on one machine and
//! offline. `Lab::start` generates a fresh test PKI and starts one real server per failure
//! mode on consecutive loopback ports; dropping the `Lab` stops them all.
//!
//! The catalogue of endpoints (names, what is wrong, what a default OpenSSL 3 client prints,
//! the doctor's finding id) is data: `data/lab/endpoints.toml`. This module only knows how to
//! build the server behind each name.

mod der;
mod legacy;
mod ocsp;
mod pki;
mod serve;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use num_bigint::BigUint;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use self::legacy::{
    ClientAuth, DHE_RSA_AES128_SHA, DHE_RSA_AES128_SHA256, DhGroup, LegacyConfig, RSA_AES128_SHA,
    RSA_AES128_SHA256, VERSION_TLS10, VERSION_TLS12,
};
use self::pki::{Identity, Pki, RsaIdentity};
use self::serve::Server;

/// How to start the lab.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// Address to listen on; must be a loopback address (default 127.0.0.1).
    pub listen: IpAddr,
    /// First port; endpoints take consecutive ports from here. 0 = any free ports.
    pub base_port: u16,
    /// Directory to write the lab root CA to (`tlsdoctor-lab-root.pem`), so clients can trust it.
    pub write_ca: Option<PathBuf>,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            listen: IpAddr::V4(Ipv4Addr::LOCALHOST),
            base_port: 0,
            write_ca: None,
        }
    }
}

/// One running lab endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Stable id, e.g. "expired".
    pub name: &'static str,
    pub port: u16,
    pub addr: SocketAddr,
    /// What is wrong with this endpoint.
    pub fault: String,
    /// What a default OpenSSL 3 client (verifying against the lab root) gets: "ok" or the
    /// OpenSSL reason text.
    pub expected_openssl3: String,
    /// Where Python's `ssl` default context gets something else than `expected_openssl3`.
    pub expected_python: Option<String>,
    /// The doctor's finding id for this fault.
    pub expect_finding: Option<&'static str>,
    /// Server name clients should send; None = connect by IP address, without SNI.
    pub sni: Option<String>,
}

/// A running lab. Dropping it stops every endpoint and every connection in progress.
pub struct Lab {
    pub endpoints: Vec<Endpoint>,
    /// The lab root CA (PEM) that every intended-valid chain leads to.
    pub root_ca_pem: String,
    /// Where the root was written, if `write_ca` was given.
    pub root_ca_path: Option<PathBuf>,
    /// A client certificate (PEM, issued by the lab root) the client-certificate endpoints
    /// accept, and its key.
    /// Written next to the root as `tlsdoctor-lab-client.pem` / `.key` with `write_ca`.
    pub client_cert_pem: String,
    pub client_key_pem: String,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(
        "the lab listens on loopback only; {0} is not a loopback address (use 127.0.0.1 or ::1)"
    )]
    NotLoopback(IpAddr),
    #[error(
        "--base-port {base}: the lab needs {count} consecutive ports and they do not fit below 65536"
    )]
    PortRange { base: u16, count: usize },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot generate the lab PKI: {0}")]
    Pki(String),
    #[error("cannot write the lab root CA to {path}: {source}")]
    WriteCa {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot configure endpoint {name}: {reason}")]
    Endpoint { name: String, reason: String },
    #[error("bad lab catalogue data/lab/endpoints.toml: {0}")]
    Catalogue(String),
}

#[derive(Deserialize)]
struct Catalogue {
    endpoint: Vec<Spec>,
}

#[derive(Deserialize)]
struct Spec {
    name: String,
    fault: String,
    expected_openssl3: String,
    expected_python: Option<String>,
    expect_finding: Option<String>,
    sni: Option<String>,
}

#[derive(Deserialize)]
struct DhGroups {
    ffdhe2048: DhSpec,
    weak1024: DhSpec,
}

#[derive(Deserialize)]
struct DhSpec {
    generator: u32,
    prime: String,
}

fn catalogue() -> Result<&'static [Spec], LabError> {
    static CAT: OnceLock<Result<Vec<Spec>, String>> = OnceLock::new();
    CAT.get_or_init(|| {
        toml::from_str::<Catalogue>(include_str!("../../data/lab/endpoints.toml"))
            .map(|c| c.endpoint)
            .map_err(|e| e.to_string())
    })
    .as_deref()
    .map_err(|e| LabError::Catalogue(e.clone()))
}

fn dh_groups() -> Result<(DhGroup, DhGroup), LabError> {
    let groups: DhGroups = toml::from_str(include_str!("../../data/lab/dh_groups.toml"))
        .map_err(|e| LabError::Catalogue(format!("dh_groups.toml: {e}")))?;
    let conv = |s: &DhSpec, what: &str| -> Result<DhGroup, LabError> {
        let hex: String = s.prime.chars().filter(|c| !c.is_whitespace()).collect();
        let p = BigUint::parse_bytes(hex.as_bytes(), 16)
            .ok_or_else(|| LabError::Catalogue(format!("dh_groups.toml: bad prime {what}")))?;
        Ok(DhGroup {
            p,
            g: BigUint::from(s.generator),
        })
    };
    Ok((
        conv(&groups.ffdhe2048, "ffdhe2048")?,
        conv(&groups.weak1024, "weak1024")?,
    ))
}

impl Lab {
    /// Generate the PKI and start every endpoint. Must run inside a tokio runtime.
    pub async fn start(opts: &LabOptions) -> Result<Lab, LabError> {
        if !opts.listen.is_loopback() {
            return Err(LabError::NotLoopback(opts.listen));
        }
        let specs = catalogue()?;
        if opts.base_port != 0 && opts.base_port as usize + specs.len() - 1 > u16::MAX as usize {
            return Err(LabError::PortRange {
                base: opts.base_port,
                count: specs.len(),
            });
        }
        let pki = tokio::task::spawn_blocking(pki::generate)
            .await
            .map_err(|e| LabError::Pki(format!("generator task failed: {e}")))?
            .map_err(|e| LabError::Pki(e.0))?;
        let root_ca_path = match &opts.write_ca {
            Some(dir) => {
                let path = dir.join("tlsdoctor-lab-root.pem");
                let write = |p: &PathBuf, text: &str| {
                    std::fs::create_dir_all(dir)
                        .and_then(|_| std::fs::write(p, text))
                        .map_err(|source| LabError::WriteCa {
                            path: p.clone(),
                            source,
                        })
                };
                write(&path, &pki.root_pem)?;
                write(&dir.join("tlsdoctor-lab-client.pem"), &pki.client_chain_pem)?;
                write(&dir.join("tlsdoctor-lab-client.key"), &pki.client_key_pem)?;
                Some(path)
            }
            None => None,
        };
        let builder = Builder {
            pki: &pki,
            provider: Arc::new(rustls::crypto::ring::default_provider()),
            dh: dh_groups()?,
        };
        let limit = Arc::new(Semaphore::new(256));
        let mut endpoints = Vec::with_capacity(specs.len());
        let mut tasks = Vec::with_capacity(specs.len());
        let mut lab_guard = TaskGuard(Vec::new());
        for (i, spec) in specs.iter().enumerate() {
            let port = if opts.base_port == 0 {
                0
            } else {
                opts.base_port + i as u16
            };
            let server = builder.server(spec.name.as_str())?;
            let want = SocketAddr::new(opts.listen, port);
            let listener = TcpListener::bind(want)
                .await
                .map_err(|source| LabError::Bind { addr: want, source })?;
            let addr = listener
                .local_addr()
                .map_err(|source| LabError::Bind { addr: want, source })?;
            let name: &'static str = spec.name.as_str();
            let task = tokio::spawn(accept_loop(listener, Arc::new(server), name, limit.clone()));
            lab_guard.0.push(task.abort_handle());
            tasks.push(task);
            endpoints.push(Endpoint {
                name,
                port: addr.port(),
                addr,
                fault: spec.fault.clone(),
                expected_openssl3: spec.expected_openssl3.clone(),
                expected_python: spec.expected_python.clone(),
                expect_finding: spec.expect_finding.as_deref(),
                sni: spec.sni.clone(),
            });
        }
        lab_guard.0.clear();
        Ok(Lab {
            endpoints,
            root_ca_pem: pki.root_pem.clone(),
            root_ca_path,
            client_cert_pem: pki.client_chain_pem.clone(),
            client_key_pem: pki.client_key_pem.clone(),
            tasks,
        })
    }

    /// The endpoint with this name.
    pub fn endpoint(&self, name: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.name == name)
    }
}

/// Stops already-started endpoints if `start` fails half-way.
struct TaskGuard(Vec<tokio::task::AbortHandle>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    server: Arc<Server>,
    name: &'static str,
    limit: Arc<Semaphore>,
) {
    // Connections live in this set, so aborting the loop aborts them too.
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let Ok((stream, _)) = listener.accept().await else {
            // Typically out of file descriptors: back off instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            drop(stream); // too many connections in flight: shed load
            continue;
        };
        let server = server.clone();
        conns.spawn(async move {
            serve::handle(&server, name, stream).await;
            drop(permit);
        });
    }
}

struct Builder<'a> {
    pki: &'a Pki,
    provider: Arc<CryptoProvider>,
    /// (ffdhe2048, weak 1024-bit group)
    dh: (DhGroup, DhGroup),
}

type Versions = &'static [&'static rustls::SupportedProtocolVersion];
const BOTH: Versions = &[&rustls::version::TLS13, &rustls::version::TLS12];
const ONLY13: Versions = &[&rustls::version::TLS13];

impl Builder<'_> {
    fn server(&self, name: &'static str) -> Result<Server, LabError> {
        let err = |reason: String| LabError::Endpoint {
            name: name.to_string(),
            reason,
        };
        let p = self.pki;
        let tls = |id: &Identity, versions: Versions| self.single(name, id, versions, None);
        let ocsp = |staple: &[u8]| self.single(name, &p.ocsp_leaf, BOTH, Some(staple.to_vec()));
        let strong = self.dh.0.clone();
        Ok(match name {
            "healthy" => tls(&p.healthy, BOTH)?,
            "expired" => tls(&p.expired, BOTH)?,
            "not-yet-valid" => tls(&p.not_yet_valid, BOTH)?,
            "wrong-host" => tls(&p.wrong_host, BOTH)?,
            "self-signed" => tls(&p.self_signed, BOTH)?,
            "untrusted-root" => tls(&p.untrusted_root, BOTH)?,
            "missing-intermediate" => tls(&p.missing_intermediate, BOTH)?,
            "sha1-chain" => tls(&p.sha1_chain, BOTH)?,
            "tls13-only" => tls(&p.healthy, ONLY13)?,
            "must-staple-missing" => tls(&p.must_staple, BOTH)?,
            "ocsp-bad" => ocsp(&p.ocsp_bad)?,
            "ocsp-expired" => ocsp(&p.ocsp_expired)?,
            "ocsp-revoked" => ocsp(&p.ocsp_revoked)?,
            // OpenSSL-style TLS 1.2 client auth (handshake_failure when no certificate
            // comes); rustls would answer with the TLS 1.3 certificate_required alert.
            "client-cert-tls12" => {
                let auth = ClientAuth::new(p.root_der.clone()).map_err(err)?;
                self.legacy(name, &p.rsa2048, |c| {
                    c.dh = Some(strong.clone());
                    c.client_auth = Some(auth);
                })
            }
            "client-cert-tls13" => self.client_auth(name, ONLY13)?,
            "sni-required" => {
                let key = self.certified_key(&p.healthy).map_err(err)?;
                let config = ServerConfig::builder_with_provider(self.provider.clone())
                    .with_protocol_versions(BOTH)
                    .map_err(|e| err(e.to_string()))?
                    .with_no_client_auth()
                    .with_cert_resolver(Arc::new(SniOnly(key)));
                Server::Tls(TlsAcceptor::from(Arc::new(config)))
            }
            "plain-http" => Server::PlainHttp,
            "smtp-starttls" => match tls(&p.healthy, BOTH)? {
                Server::Tls(acceptor) => Server::Smtp(acceptor),
                _ => return Err(err("healthy TLS configuration missing".into())),
            },
            "tls10-only" => self.legacy(name, &p.rsa2048, |c| {
                c.versions = vec![VERSION_TLS10];
                c.suites = vec![DHE_RSA_AES128_SHA, RSA_AES128_SHA];
                c.dh = Some(strong.clone());
            }),
            "no-secure-renegotiation" => self.legacy(name, &p.rsa2048, |c| {
                c.secure_renegotiation = false;
                c.dh = Some(strong.clone());
            }),
            "rsa-kx-only" => self.legacy(name, &p.rsa2048, |c| {
                c.suites = vec![RSA_AES128_SHA256, RSA_AES128_SHA];
            }),
            "dh-1024" => self.legacy(name, &p.rsa2048, |c| {
                c.suites = vec![DHE_RSA_AES128_SHA256, DHE_RSA_AES128_SHA];
                c.dh = Some(self.dh.1.clone());
            }),
            "rsa-1024" => self.legacy(name, &p.rsa1024, |c| {
                c.dh = Some(strong.clone());
            }),
            other => return Err(err(format!("the lab has no server for \"{other}\""))),
        })
    }

    fn certified_key(&self, id: &Identity) -> Result<Arc<CertifiedKey>, String> {
        let signing = self
            .provider
            .key_provider
            .load_private_key(id.key_der())
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(CertifiedKey::new(id.chain.clone(), signing)))
    }

    fn single(
        &self,
        name: &str,
        id: &Identity,
        versions: Versions,
        ocsp: Option<Vec<u8>>,
    ) -> Result<Server, LabError> {
        let err = |reason: String| LabError::Endpoint {
            name: name.to_string(),
            reason,
        };
        let config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| err(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert_with_ocsp(id.chain.clone(), id.key_der(), ocsp.unwrap_or_default())
            .map_err(|e| err(e.to_string()))?;
        Ok(Server::Tls(TlsAcceptor::from(Arc::new(config))))
    }

    fn client_auth(&self, name: &str, versions: Versions) -> Result<Server, LabError> {
        let err = |reason: String| LabError::Endpoint {
            name: name.to_string(),
            reason,
        };
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.pki.root_der.clone())
            .map_err(|e| err(e.to_string()))?;
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                .build()
                .map_err(|e| err(e.to_string()))?;
        let id = &self.pki.healthy;
        let config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| err(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(id.chain.clone(), id.key_der())
            .map_err(|e| err(e.to_string()))?;
        Ok(Server::Tls(TlsAcceptor::from(Arc::new(config))))
    }

    /// A legacy endpoint: TLS 1.2, every suite, RFC 5746 on, unless `tweak` says otherwise.
    fn legacy(
        &self,
        name: &'static str,
        id: &RsaIdentity,
        tweak: impl FnOnce(&mut LegacyConfig),
    ) -> Server {
        let mut cfg = LegacyConfig {
            versions: vec![VERSION_TLS12],
            suites: vec![
                DHE_RSA_AES128_SHA256,
                DHE_RSA_AES128_SHA,
                RSA_AES128_SHA256,
                RSA_AES128_SHA,
            ],
            secure_renegotiation: true,
            chain: id.chain.clone(),
            key: id.key.clone(),
            dh: None,
            response: serve::http_response(name),
            client_auth: None,
        };
        tweak(&mut cfg);
        Server::Legacy(Arc::new(cfg))
    }
}

/// Serves its certificate only to clients that name a server (SNI).
#[derive(Debug)]
struct SniOnly(Arc<CertifiedKey>);

impl ResolvesServerCert for SniOnly {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        hello.server_name().map(|_| self.0.clone())
    }
}

/// The table `tlsdoctor lab` prints: port, name, what is wrong, what a default OpenSSL 3
/// client gets, and the finding the doctor should report.
pub fn render_table(lab: &Lab) -> String {
    let headers = [
        "PORT",
        "ENDPOINT",
        "WHAT IS WRONG",
        "DEFAULT OPENSSL 3 CLIENT GETS",
        "FINDING",
    ];
    let rows: Vec<[String; 5]> = lab
        .endpoints
        .iter()
        .map(|e| {
            let mut got = e.expected_openssl3.clone();
            if let Some(py) = &e.expected_python {
                got.push_str(&format!(" (Python ssl: {py})"));
            }
            [
                e.port.to_string(),
                e.name.to_string(),
                e.fault.clone(),
                got,
                e.expect_finding.unwrap_or("-").to_string(),
            ]
        })
        .collect();
    let mut widths = headers.map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| -> String {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths.iter()).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(cell);
                s.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = String::new();
    if let Some(first) = lab.endpoints.first() {
        out.push_str(&format!(
            "tlsdoctor lab: {} endpoints on {} (SNI: localhost unless the endpoint says otherwise)\n",
            lab.endpoints.len(),
            first.addr.ip()
        ));
    }
    if let Some(path) = &lab.root_ca_path {
        out.push_str(&format!("lab root CA written to {}\n", path.display()));
    }
    out.push('\n');
    out.push_str(&line(headers));
    for row in &rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_parses_and_names_are_unique() {
        let specs = catalogue().unwrap();
        assert!(specs.len() >= 23);
        let mut names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), specs.len());
        let (strong, weak) = dh_groups().unwrap();
        assert_eq!(strong.p.bits(), 2048);
        assert_eq!(weak.p.bits(), 1024);
    }

    #[tokio::test]
    async fn refuses_non_loopback_and_port_overflow() {
        let opts = LabOptions {
            listen: "192.0.2.1".parse().unwrap(),
            ..LabOptions::default()
        };
        let err = Lab::start(&opts).await.err().unwrap();
        assert!(err.to_string().contains("loopback only"), "{err}");
        let opts = LabOptions {
            base_port: 65530,
            ..LabOptions::default()
        };
        let err = Lab::start(&opts).await.err().unwrap();
        assert!(err.to_string().contains("consecutive ports"), "{err}");
    }
}
