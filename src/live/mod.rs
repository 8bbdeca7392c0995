//! Live confirmation for `check`: the real clients on this machine (`discover.rs`) run
//! against the server, each through a loopback relay (`relay.rs`) that sends its connection through
//! the probe engine (so it counts under the connection cap and has the engine's deadlines),
//! with the user's trust inputs, concurrently, each process under a deadline (`run.rs`). Each
//! one's verdict and exact error text ([`clients`]) is then held against the prediction for
//! it ([`compare`]), the diagnosis follows the observation where they differ
//! ([`mod@reconcile`]), and each disagreement can be kept as a fixture ([`record`]).
//!
//! A client does nothing beyond its handshake: the scripts close right after it (PyMongo
//! sends only its `hello` and a `ping`, and is never given the user's URI, so never their
//! credentials), the tools are ended after it, and the relay holds back what curl sends
//! after its Finished.

pub mod clients;
pub mod compare;
mod discover;
mod pkcs8;
pub mod reconcile;
pub mod record;
mod relay;
mod run;

pub use clients::{Kind, Reading};
pub use compare::Agreement;
pub use discover::LiveClient;
pub use reconcile::reconcile;

use crate::scan::ScanContext;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Clients run at once per server (each is a process; a JVM is heavy on a small machine).
const AT_ONCE: usize = 6;

/// What `check` is asked to observe.
#[derive(Debug, Clone, Default)]
pub struct LiveRequest {
    /// Run the local clients (`check`'s default; `--no-live` turns it off).
    pub enabled: bool,
    /// Write each disagreement between observation and prediction as a fixture here.
    pub record_disagreements: Option<PathBuf>,
}

/// The trust inputs every client gets, as the user gave them.
#[derive(Debug, Clone, Default)]
pub struct LiveInputs {
    pub cafile: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// The clients of one check, found once, with the scratch directory their runs share.
pub struct Prepared {
    pub clients: Vec<LiveClient>,
    inputs: LiveInputs,
    scratch: Arc<Scratch>,
    env: Arc<HashMap<String, String>>,
}

/// What one real client did against one server.
#[derive(Debug, Clone)]
pub struct Observed {
    pub client: LiveClient,
    /// Its verdict; None when it could not be run or printed nothing to go by.
    pub reading: Option<Reading>,
    /// Why there is no reading.
    pub not_run: Option<String>,
    /// The end of what it printed (for the report's evidence and the fixtures).
    pub output: String,
    pub elapsed: Duration,
    /// The first bytes each way of its first connection.
    pub client_bytes: Vec<u8>,
    pub server_bytes: Vec<u8>,
    /// Connections it opened through the relay.
    pub connections: usize,
}

/// Output kept per client for the report.
const OUTPUT_TAIL: usize = 2000;

/// Find the clients to run (`--client` narrows them) and prepare their scratch directory.
pub async fn prepare(selection: Option<&str>, inputs: LiveInputs) -> Result<Prepared, String> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let clients = discover::find(selection, &env).await?;
    let scratch = Scratch::create(&inputs).map_err(|e| format!("live clients: {e}"))?;
    Ok(Prepared {
        clients,
        inputs,
        scratch: Arc::new(scratch),
        env: Arc::new(env),
    })
}

/// Run every prepared client against the server behind `ctx`, a few at a time.
pub async fn observe(ctx: &ScanContext, prepared: &Prepared) -> Vec<Observed> {
    use futures::StreamExt;
    let jobs = prepared.clients.iter().map(|c| {
        let progress = &ctx.prober.config().progress;
        progress.track(
            format!("real client: {}", c.label),
            observe_one(ctx, c, prepared),
        )
    });
    futures::stream::iter(jobs)
        .buffered(AT_ONCE)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        // PyMongo that is not installed in an interpreter is not a client of this machine.
        .filter(|o| o.not_run.as_deref() != Some(PYMONGO_ABSENT))
        .collect()
}

/// Whether `--client NAME` names a client that is observed only, with no profile to
/// predict it by: Go's crypto/tls (`go`, or a path to a `go` toolchain binary).
pub fn observed_only(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    base == clients::Kind::Go.profile()
}

const PYMONGO_ABSENT: &str = "PyMongo is not installed in this interpreter";

async fn observe_one(ctx: &ScanContext, client: &LiveClient, prepared: &Prepared) -> Observed {
    let start = Instant::now();
    let mut observed = Observed {
        client: client.clone(),
        reading: None,
        not_run: None,
        output: String::new(),
        elapsed: Duration::ZERO,
        client_bytes: Vec::new(),
        server_bytes: Vec::new(),
        connections: 0,
    };
    if let (clients::Kind::Java, Some(e)) = (client.kind, &prepared.scratch.java_key_error) {
        observed.not_run = Some(format!("the client key cannot be given to Java: {e}"));
        return observed;
    }
    let relay = match relay::Relay::bind().await {
        Ok(r) => r,
        Err(e) => {
            observed.not_run = Some(format!("cannot listen on 127.0.0.1: {e}"));
            return observed;
        }
    };
    let port = match relay.addr() {
        Ok(a) => a.port(),
        Err(e) => {
            observed.not_run = Some(format!("cannot listen on 127.0.0.1: {e}"));
            return observed;
        }
    };
    let addr = ctx.prober.addr();
    let host = ctx.sni.clone().unwrap_or_else(|| addr.ip().to_string());
    let setting = clients::Setting {
        port,
        server_port: addr.port(),
        sni: ctx.sni.is_some(),
        host,
        cafile: prepared.inputs.cafile.clone(),
        cert: prepared.inputs.cert.clone(),
        key: prepared.inputs.key.clone(),
        cert_and_key: prepared.scratch.cert_and_key.clone(),
        key_pkcs8: prepared.scratch.java_key.clone(),
        dir: prepared.scratch.dir.clone(),
        timeout: ctx.prober.config().probe_timeout,
    };
    let cmd = clients::command(
        client.kind,
        &client.program,
        &setting,
        &prepared.env,
        &prepared.scratch.dir,
    );
    let gate = client.kind.gate(prepared.inputs.cert.is_some());
    let max = client.kind.relay_connections();
    let (result, capture) = relay.serve(&ctx.prober, gate, max, run::run(cmd)).await;
    observed.elapsed = start.elapsed();
    observed.output = tail(&result.output(), OUTPUT_TAIL);
    observed.client_bytes = capture.client_bytes;
    observed.server_bytes = capture.server_bytes;
    observed.connections = capture.connections;
    if client.kind == clients::Kind::Pymongo && clients::pymongo_absent(&result) {
        observed.not_run = Some(PYMONGO_ABSENT.into());
        return observed;
    }
    if let Some(e) = result.spawn_error {
        observed.not_run = Some(e);
        return observed;
    }
    observed.reading = clients::read(client.kind, &result);
    if observed.reading.is_none() {
        observed.not_run = Some(match (result.timed_out, capture.forward_error) {
            (_, Some(e)) => format!("the relay could not reach the server: {e}"),
            (true, None) => "it gave no verdict before its deadline (killed)".into(),
            (false, None) => match result.code {
                Some(code) => {
                    format!("it exited with code {code} and printed no verdict tlsdoctor can read")
                }
                None => "it ended without a verdict tlsdoctor can read".into(),
            },
        });
    }
    observed
}

/// The last `n` bytes of `s` (on a character boundary).
fn tail(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.len() <= n {
        return s.to_string();
    }
    let mut i = s.len() - n;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    format!("…{}", &s[i..])
}

/// A private directory for one check's runs: the Java and Go source files, and with a client
/// certificate, for PyMongo the certificate and key in one file (its
/// `tlsCertificateKeyFile`) and for Java the key as PKCS#8 DER (the only form its standard
/// library reads). Removed when the check ends.
struct Scratch {
    dir: PathBuf,
    cert_and_key: Option<PathBuf>,
    java_key: Option<PathBuf>,
    /// Why the key could not be converted for Java (then Java is not run).
    java_key_error: Option<String>,
}

impl Scratch {
    fn create(inputs: &LiveInputs) -> std::io::Result<Scratch> {
        use std::os::unix::fs::DirBuilderExt;
        static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "tlsdoctor-live-{}-{n}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let mut scratch = Scratch {
            dir,
            cert_and_key: None,
            java_key: None,
            java_key_error: None,
        };
        for (file, source) in [
            (clients::JAVA_FILE, clients::JAVA),
            (clients::GO_FILE, clients::GO),
        ] {
            crate::files::write_new(
                &scratch.dir.join(file),
                source.as_bytes(),
                false,
                crate::files::Existing::Refuse,
            )
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        if let (Some(cert), Some(key)) = (&inputs.cert, &inputs.key) {
            let key_pem = read(key)?;
            let mut both = read(cert)?;
            both.push(b'\n');
            both.extend(&key_pem);
            let path = scratch.dir.join("cert-and-key.pem");
            crate::files::write_new(&path, &both, true, crate::files::Existing::Refuse)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            scratch.cert_and_key = Some(path);
            match pkcs8::from_pem(&key_pem) {
                Ok(der) => {
                    let path = scratch.dir.join("client-key.pk8");
                    crate::files::write_new(&path, &der, true, crate::files::Existing::Refuse)
                        .map_err(|e| std::io::Error::other(e.to_string()))?;
                    scratch.java_key = Some(path);
                }
                Err(e) => scratch.java_key_error = Some(e),
            }
        }
        Ok(scratch)
    }
}

fn read(p: &Path) -> std::io::Result<Vec<u8>> {
    crate::files::read_input(p)
        .map_err(|e| std::io::Error::other(format!("cannot read {}: {e}", p.display())))
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Serialisable summary of an observed client's verdict, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerdictOf {
    pub connects: bool,
    pub version: Option<String>,
    pub error: Option<String>,
}
