//! Rendering of `tlsdoctor simulate`: per server, one line per client (connects with what, or
//! the error it prints), and for failures the reason in plain words.

use super::style::{Style, pad};
use crate::doctor::Evidence;
use crate::simulate::Simulation;
use serde::Serialize;

/// The whole `simulate --json` document.
#[derive(Debug, Clone, Serialize)]
pub struct SimulateDocument {
    pub schema_version: u32,
    pub tool: String,
    pub input: String,
    pub notes: Vec<String>,
    pub servers: Vec<SimulatedServer>,
    pub errors: Vec<super::scan::ScanFailure>,
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

impl SimulateDocument {
    pub fn new(input: &str) -> Self {
        SimulateDocument {
            schema_version: super::JSON_SCHEMA_VERSION,
            tool: format!("tlsdoctor {}", env!("CARGO_PKG_VERSION")),
            input: input.to_string(),
            notes: Vec::new(),
            servers: Vec::new(),
            errors: Vec::new(),
        }
    }
}

impl SimulatedServer {
    pub fn from_evidence(ev: &Evidence) -> Self {
        let accepted_versions = ev
            .scan
            .as_ref()
            .map(|s| s.accepted_versions().iter().map(|v| v.name()).collect())
            .unwrap_or_default();
        let connects = ev.simulations.iter().filter(|s| s.connects).count();
        SimulatedServer {
            target: ev.target.clone(),
            address: ev.address.clone(),
            sni: ev.sni.clone(),
            accepted_versions,
            connects,
            fails: ev.simulations.len() - connects,
            simulations: ev.simulations.clone(),
        }
    }
}

fn connected_detail(s: &Simulation) -> String {
    [
        s.version.map(|v| v.name()),
        s.cipher_suite.clone(),
        s.group.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("  ")
}

pub fn render_human(doc: &SimulateDocument, st: Style) -> String {
    let mut out = String::new();
    for n in &doc.notes {
        out.push_str(&format!("{} {n}\n", st.yellow("note:")));
    }
    for s in &doc.servers {
        out.push_str(&render_server(s, st));
    }
    out
}

pub fn render_server(s: &SimulatedServer, st: Style) -> String {
    let mut out = String::new();
    let sni = s
        .sni
        .as_deref()
        .map(|n| format!(", SNI {n}"))
        .unwrap_or_else(|| ", no SNI".to_string());
    out.push_str(&format!(
        "{} ({}{sni})\n",
        st.bold(&format!("tlsdoctor simulate {}", s.target)),
        s.address
    ));
    if !s.accepted_versions.is_empty() {
        out.push_str(&format!(
            "server accepts {}\n",
            s.accepted_versions.join(", ")
        ));
    }
    out.push_str(&format!(
        "{} of {} clients connect, {} fail\n\n",
        s.connects,
        s.simulations.len(),
        s.fails
    ));
    let width = s
        .simulations
        .iter()
        .map(|x| x.client_name.chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    for sim in &s.simulations {
        if sim.connects {
            out.push_str(&format!(
                "  {}  {}  {}\n",
                pad(&sim.client_name, width),
                st.green("connects"),
                connected_detail(sim)
            ));
        } else if let Some(f) = &sim.failure {
            out.push_str(&format!(
                "  {}  {}     {}\n",
                pad(&sim.client_name, width),
                st.red("fails"),
                f.error
            ));
            let mut why = f.reason.clone();
            if let Some(v) = sim.version {
                if !why.contains(&v.name()) {
                    why = format!("{why} (negotiated {v})");
                }
            }
            out.push_str(&format!(
                "  {}  {}\n",
                pad("", width),
                st.dim(&format!("why: {why}"))
            ));
        }
    }
    out.push('\n');
    out
}
