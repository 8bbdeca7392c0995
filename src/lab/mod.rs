//! The built-in lab: every TLS failure the doctor diagnoses, reproducible on one machine and
//! offline. `Lab::start` generates a fresh test PKI and starts one real server per failure
//! mode on consecutive loopback ports; dropping the `Lab` stops them all.
//!
//! Every endpoint is described by data, `data/lab/endpoints.toml`: what is wrong, what a
//! default OpenSSL 3 client prints, the doctor's finding id, and the server behind it
//! (implementation, certificate, versions, suites, options). `catalogue` reads and checks that
//! file, `build` turns each entry into a server configuration, `serve` runs it; adding an
//! endpoint is one entry there unless it needs a kind of behaviour no server has yet.

mod build;
mod catalogue;
mod der;
mod legacy;
mod ocsp;
mod pki;
mod serve;
mod table;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

use self::build::Builder;
use self::catalogue::catalogue;
use self::serve::Server;

pub use self::table::render_table;

/// How many endpoints a lab serves: the run of ports a `--base-port` start takes.
pub fn endpoint_count() -> Result<usize, LabError> {
    Ok(catalogue::catalogue()?.len())
}

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
    /// Where curl's words differ from `expected_openssl3` (it reports some failures by the
    /// OpenSSL call that failed).
    pub expected_curl: Option<String>,
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
    #[error("cannot write the lab root CA to {path}: {reason}")]
    WriteCa { path: PathBuf, reason: String },
    #[error("cannot configure endpoint {name}: {reason}")]
    Endpoint { name: String, reason: String },
    #[error("bad lab catalogue data/lab/endpoints.toml: {0}")]
    Catalogue(String),
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
                // Each start makes a new PKI, so the files of the last one are replaced; the
                // client key is readable by its owner only.
                let write = |p: &PathBuf, text: &str, private: bool| {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| e.to_string())
                        .and_then(|_| {
                            crate::files::write_new(
                                p,
                                text.as_bytes(),
                                private,
                                crate::files::Existing::Replace,
                            )
                            .map_err(|e| match e {
                                crate::files::WriteError::Io { reason, .. } => reason,
                                other => other.to_string(),
                            })
                        })
                        .map_err(|reason| LabError::WriteCa {
                            path: p.clone(),
                            reason,
                        })
                };
                write(&path, &pki.root_pem, false)?;
                write(
                    &dir.join("tlsdoctor-lab-client.pem"),
                    &pki.client_chain_pem,
                    false,
                )?;
                write(
                    &dir.join("tlsdoctor-lab-client.key"),
                    &pki.client_key_pem,
                    true,
                )?;
                Some(path)
            }
            None => None,
        };
        let builder = Builder {
            pki: &pki,
            provider: Arc::new(rustls::crypto::ring::default_provider()),
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
            let server = builder.server(spec)?;
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
                expected_curl: spec.expected_curl.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

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
