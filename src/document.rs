//! The documents the pipeline returns: what `check`, `scan` and `simulate` found, as data.
//! [`crate::report`] renders them (human text, JSON); the pipeline fills them; neither
//! depends on the other. Their JSON form is described in docs/json.md.

use crate::cert::ChainAnalysis;
use crate::doctor::Diagnosis;
use crate::doctor::fixes::WrittenFix;
use crate::ocsp::OcspReport;
use crate::scan::ServerScan;
use crate::simulate::Simulation;
use serde::Serialize;

/// Each client's verdict in a diagnosis, observed or predicted (`Diagnosis::verdicts`), and
/// what observation showed (`Diagnosis::live`).
pub use crate::live::reconcile::{ClientVerdict, LiveReport, Predicted, VerdictSource};

/// Version stamp of every JSON document tlsdoctor prints; raised on incompatible changes.
pub const JSON_SCHEMA_VERSION: u32 = 2;

/// "tlsdoctor X.Y.Z", as every document names the tool that made it.
fn tool() -> String {
    format!("tlsdoctor {}", env!("CARGO_PKG_VERSION"))
}

/// An address (or a whole target) that could not be examined, and why.
#[derive(Debug, Clone, Serialize)]
pub struct AddressFailure {
    pub target: String,
    pub address: Option<String>,
    pub error: String,
    /// The scan's typed error behind `error`, when the failure was one (not in JSON: callers
    /// that sort failures by kind, such as fleet runs, read it).
    #[serde(skip)]
    pub cause: Option<crate::scan::ScanError>,
}

/// The result of `check`: one diagnosis per address examined.
#[derive(Debug, Clone, Serialize)]
pub struct CheckDocument {
    pub schema_version: u32,
    pub tool: String,
    pub input: String,
    pub client: Option<String>,
    pub notes: Vec<String>,
    pub diagnoses: Vec<Diagnosis>,
    pub errors: Vec<AddressFailure>,
    /// Files written by --write-fixes.
    pub fixes_written: Vec<WrittenFix>,
    /// The run's deadline cut it short: what is here is what was learned by then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

impl CheckDocument {
    pub fn new(input: &str, client: Option<String>) -> Self {
        CheckDocument {
            schema_version: JSON_SCHEMA_VERSION,
            tool: tool(),
            input: input.to_string(),
            client,
            notes: Vec::new(),
            diagnoses: Vec::new(),
            errors: Vec::new(),
            fixes_written: Vec::new(),
            partial: false,
        }
    }

    /// True when some diagnosis was judged against a `--profile` and fails it.
    pub fn noncompliant(&self) -> bool {
        self.diagnoses.iter().any(|d| {
            d.audit
                .as_ref()
                .is_some_and(crate::audit::Audit::noncompliant)
        })
    }

    /// True when some finding of some diagnosis is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnoses.iter().any(Diagnosis::has_errors)
    }

    /// The worst verdict of the diagnoses (what `check`'s exit code says: 1 connections fail,
    /// 4 a security problem only).
    pub fn verdict(&self) -> crate::doctor::Verdict {
        self.diagnoses
            .iter()
            .map(|d| d.verdict)
            .max()
            .unwrap_or(crate::doctor::Verdict::Healthy)
    }
}

/// The result of `scan`: one entry per address scanned.
#[derive(Debug, Clone, Serialize)]
pub struct ScanDocument {
    pub schema_version: u32,
    pub tool: String,
    pub input: String,
    pub notes: Vec<String>,
    pub servers: Vec<ScannedServer>,
    pub errors: Vec<AddressFailure>,
    /// `--ocsp-query` was given: every server gets an OCSP section.
    #[serde(skip)]
    pub ocsp_query: bool,
    /// The run's deadline cut it short: what is here is what was learned by then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

impl ScanDocument {
    /// True when some server was judged against a `--profile` and fails it.
    pub fn noncompliant(&self) -> bool {
        self.servers
            .iter()
            .any(|s| s.audit.as_ref().is_some_and(|a| a.noncompliant()))
    }

    pub fn new(input: &str) -> Self {
        ScanDocument {
            schema_version: JSON_SCHEMA_VERSION,
            tool: tool(),
            input: input.to_string(),
            notes: Vec::new(),
            servers: Vec::new(),
            errors: Vec::new(),
            ocsp_query: false,
            partial: false,
        }
    }
}

/// One scanned address: the measurement, and the judgement of the chain it presented (and
/// of its OCSP staples, with `--ocsp-query`). In JSON the measurement's fields sit at the
/// same level as the judgement's.
#[derive(Debug, Clone, Serialize)]
pub struct ScannedServer {
    #[serde(flatten)]
    pub scan: ServerScan,
    /// The cap on simultaneous connections the scan ran under and how it was chosen
    /// (`--max-connections`, `probe::cap`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_cap: Option<crate::probe::CapReport>,
    /// Connections dialled ahead (`probe::warm`) and how many of them a probe used; absent
    /// when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warm_connections: Option<crate::probe::WarmReport>,
    /// The chain the server presents, described and judged against the Mozilla and system
    /// trust stores.
    pub certificate_chain: Option<ChainAnalysis>,
    /// With `--ocsp-query`: stapled responses and the responder's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocsp: Option<OcspReport>,
    /// The scan judged as an audit: its findings (known vulnerabilities included), the
    /// grade, and the `--profile` verdict. None (and absent from JSON) when `scan --checks`
    /// left out a default check or the certificate: a grade needs all of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::audit::Audit>,
}

/// The result of `simulate`: per address, every selected client's predicted result.
#[derive(Debug, Clone, Serialize)]
pub struct SimulateDocument {
    pub schema_version: u32,
    pub tool: String,
    pub input: String,
    pub notes: Vec<String>,
    pub servers: Vec<SimulatedServer>,
    pub errors: Vec<AddressFailure>,
    /// The run's deadline cut it short: what is here is what was learned by then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

impl SimulateDocument {
    pub fn new(input: &str) -> Self {
        SimulateDocument {
            schema_version: JSON_SCHEMA_VERSION,
            tool: tool(),
            input: input.to_string(),
            notes: Vec::new(),
            servers: Vec::new(),
            errors: Vec::new(),
            partial: false,
        }
    }
}

/// One server address and every simulated client's result against it.
#[derive(Debug, Clone, Serialize)]
pub struct SimulatedServer {
    pub target: String,
    pub address: String,
    pub sni: Option<String>,
    /// Protocol versions the server accepted in the scan (context for the failures).
    pub accepted_versions: Vec<String>,
    pub connects: usize,
    pub fails: usize,
    pub simulations: Vec<Simulation>,
}
