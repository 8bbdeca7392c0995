//! `tlsdoctor demo` (and `tlsdoctor check` with no target): start the built-in lab and run
//! the doctor against every endpoint, so every failure mode is shown on one machine, offline.
//! [`record_lab`] keeps what it measured on each endpoint as an evidence fixture.

mod record;

pub use record::record_lab;

use crate::doctor::{Diagnosis, Examination, diagnose};
use crate::finding::Severity;
use crate::lab::{Endpoint, Lab, LabOptions};
use crate::ocsp::QueryPolicy;
use crate::pipeline::{Address, TrustInputs, examine, profiles_for};
use crate::probe::{ProbeConfig, Prober};
use crate::scan::ScanContext;
use futures::StreamExt;
use serde::Serialize;
use std::time::{Duration, Instant};

/// One endpoint's result.
#[derive(Debug, Clone, Serialize)]
pub struct DemoRow {
    pub endpoint: String,
    pub port: u16,
    pub fault: String,
    /// What a default OpenSSL 3 client gets, as the lab measured it.
    pub default_client: String,
    /// The finding the lab expects (None: healthy for default clients).
    pub expected: Option<String>,
    /// Error findings the doctor reported, most severe first.
    pub errors: Vec<String>,
    /// Warning findings.
    pub warnings: Vec<String>,
    /// The doctor named the expected cause (and raised no error on a healthy endpoint).
    pub correct: bool,
    #[serde(skip)]
    pub diagnosis: Option<Diagnosis>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Demo {
    pub rows: Vec<DemoRow>,
    pub elapsed_ms: u64,
}

/// Endpoints the demo diagnoses at once (at most this times `--max-connections` to the lab).
const DEMO_ENDPOINTS_AT_ONCE: usize = 12;

/// Start the lab and diagnose every endpoint concurrently. The lab root is the trusted CA,
/// as a user who runs the lab would configure their client.
pub async fn run(timeout: Duration) -> Result<Demo, String> {
    let start = Instant::now();
    let dir = tempfile_dir()?;
    let lab = Lab::start(&LabOptions {
        write_ca: Some(dir.clone()),
        ..LabOptions::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    let root = lab
        .root_ca_path
        .clone()
        .ok_or("the lab did not write its root CA")?;
    let trust = TrustInputs { cafile: Some(root) };
    let examination = Examination {
        stores: trust.load().map_err(|e| e.to_string())?.stores(None),
        profiles: profiles_for(None)?,
        local_client: None,
        client_key: None,
        ocsp: QueryPolicy::WhenNotStapled,
    };
    let jobs = lab.endpoints.iter().map(|e| {
        let examination = &examination;
        async move { (e, check_endpoint(e, examination, timeout).await) }
    });
    // A bounded number of endpoints at once: each check opens up to its connection cap,
    // and the lab sheds connections beyond its own limit (256 in flight), which a check
    // would read as a server that closes.
    let results: Vec<_> = futures::stream::iter(jobs)
        .buffered(DEMO_ENDPOINTS_AT_ONCE)
        .collect()
        .await;
    let rows = results.into_iter().map(|(e, d)| row(e, d)).collect();
    drop(lab);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Demo {
        rows,
        elapsed_ms: start.elapsed().as_millis() as u64,
    })
}

fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("tlsdoctor-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

async fn check_endpoint(
    e: &Endpoint,
    examination: &Examination,
    timeout: Duration,
) -> Result<Diagnosis, String> {
    let label = match &e.sni {
        Some(name) => format!("{name}:{}", e.port),
        None => e.addr.to_string(),
    };
    let address = Address {
        label,
        resolved: vec![e.addr.ip().to_string()],
        ctx: ScanContext::new(
            Prober::new(e.addr, ProbeConfig::with_timeout(timeout)),
            e.sni.clone(),
        ),
    };
    let ev = examine(&address, examination).await?;
    Ok(diagnose(ev, None))
}

fn row(e: &Endpoint, d: Result<Diagnosis, String>) -> DemoRow {
    let (errors, warnings, diagnosis) = match d {
        Ok(d) => {
            let ids = |sev: Severity| {
                d.findings
                    .iter()
                    .filter(|f| f.severity == sev)
                    .map(|f| f.id.to_string())
                    .collect::<Vec<_>>()
            };
            (ids(Severity::Error), ids(Severity::Warning), Some(d))
        }
        Err(msg) => (vec![format!("could not run: {msg}")], Vec::new(), None),
    };
    let correct = match e.expect_finding {
        Some(id) => errors.iter().any(|x| x == id) || warnings.iter().any(|x| x == id),
        None => errors.is_empty() && diagnosis.is_some(),
    };
    let mut default_client = e.expected_openssl3.clone();
    if let Some(py) = &e.expected_python {
        default_client.push_str(&format!(" (Python: {py})"));
    }
    DemoRow {
        endpoint: e.name.to_string(),
        port: e.port,
        fault: e.fault.clone(),
        default_client,
        expected: e.expect_finding.map(str::to_string),
        errors,
        warnings,
        correct,
        diagnosis,
    }
}
