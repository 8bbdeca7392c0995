//! Rendering of `tlsdoctor simulate`: per server, one line per client (connects with what, or
//! the error it prints), and for failures the reason in plain words.

use super::style::{Style, pad};
use crate::document::{SimulateDocument, SimulatedServer};
use crate::escape::{escape, finish};
use crate::simulate::Simulation;

fn connected_detail(s: &Simulation) -> String {
    let detail = s.negotiated("  ");
    escape(&detail).into_owned()
}

pub fn render_human(doc: &SimulateDocument, st: Style) -> String {
    let mut out = String::new();
    for n in &doc.notes {
        out.push_str(&format!("{} {}\n", st.yellow("note:"), escape(n)));
    }
    for s in &doc.servers {
        out.push_str(&render_server(s, st));
    }
    finish(out, st.color)
}

pub fn render_server(s: &SimulatedServer, st: Style) -> String {
    let mut out = String::new();
    let sni = s
        .sni
        .as_deref()
        .map(|n| format!(", SNI {}", escape(n)))
        .unwrap_or_else(|| ", no SNI".to_string());
    out.push_str(&format!(
        "{} ({}{sni})\n",
        st.bold(&format!("tlsdoctor simulate {}", escape(&s.target))),
        escape(&s.address)
    ));
    if !s.accepted_versions.is_empty() {
        out.push_str(&format!(
            "server accepts {}\n",
            escape(&s.accepted_versions.join(", "))
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
        .map(|x| escape(&x.client_name).chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    for sim in &s.simulations {
        if sim.connects {
            out.push_str(&format!(
                "  {}  {}  {}\n",
                pad(&escape(&sim.client_name), width),
                st.green("connects"),
                connected_detail(sim)
            ));
        } else if let Some(f) = &sim.failure {
            out.push_str(&format!(
                "  {}  {}     {}\n",
                pad(&escape(&sim.client_name), width),
                st.red("fails"),
                if f.error.is_empty() {
                    "(no quoted text)".into()
                } else {
                    escape(&f.error)
                }
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
                st.dim(&format!("why: {}", escape(&why)))
            ));
        }
    }
    out.push('\n');
    finish(out, st.color)
}
