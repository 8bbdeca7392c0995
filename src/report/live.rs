//! `check`'s client verdicts, each marked observed (the real client ran here) or predicted
//! (its simulation), and the line that says how observation and prediction compared.

use super::style::{Style, pad};
use crate::doctor::Diagnosis;
use crate::escape::escape;
use crate::live::Agreement;
use crate::live::reconcile::{ClientVerdict, LiveReport, VerdictSource};

/// One line before the findings: how many real clients ran, and whether any contradicted
/// its prediction.
pub fn render_summary(live: &LiveReport, st: Style) -> String {
    let ran = live.clients.len();
    // A client no profile predicts (Go) has nothing to agree with: counted apart.
    let unpredicted = live.unpredicted();
    let mut out = format!(
        "Observed: {ran} real client(s) ran against the server here; {} of the {} with a prediction agree with it",
        live.agreements,
        ran - unpredicted
    );
    if unpredicted > 0 {
        out.push_str(&format!(", {unpredicted} had none"));
    }
    if live.disagreements > 0 {
        out.push_str(&format!(
            ", {}",
            st.yellow(&format!(
                "{} contradict it (the verdicts follow what the clients did)",
                live.disagreements
            ))
        ));
    }
    if !live.not_run.is_empty() {
        out.push_str(&format!(", {} gave no verdict", live.not_run.len()));
    }
    out.push_str(".\n");
    out
}

/// The "Clients" section.
pub fn render_clients(d: &Diagnosis, st: Style) -> String {
    let mut out = format!("\n{}\n", st.bold("Clients"));
    for v in &d.verdicts {
        out.push_str(&line(d, v, st));
    }
    if let Some(live) = &d.live {
        for n in &live.not_run {
            out.push_str(&format!(
                "  {} {}   {}\n",
                pad(&escape(&n.client), 44),
                st.dim("not run"),
                st.dim(&escape(&n.why))
            ));
        }
    }
    out
}

fn line(d: &Diagnosis, v: &ClientVerdict, st: Style) -> String {
    let mark = match v.source {
        VerdictSource::Observed => st.cyan("observed "),
        VerdictSource::Predicted => st.dim("predicted"),
    };
    let verdict = if v.connects {
        // A prediction also says which suite and group the client gets.
        let detail = super::verdict_detail(d, v);
        format!("{} {}", st.green("connects"), st.dim(&escape(&detail)))
    } else {
        format!(
            "{}    {}",
            st.red("fails"),
            escape(v.error.as_deref().unwrap_or(""))
        )
    };
    let mut out = format!("  {} {mark} {verdict}\n", pad(&escape(&v.client_name), 44));
    if v.agreement == Some(Agreement::Contradicts) {
        if let Some(p) = &v.predicted {
            let said = if p.connects {
                "connects".to_string()
            } else {
                format!("fails: {}", p.error.as_deref().unwrap_or(""))
            };
            out.push_str(&format!(
                "  {} {}\n",
                pad("", 44),
                st.yellow(&format!(
                    "the prediction said it {} — contradicted by what it did",
                    escape(&said)
                ))
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::clients::{Kind, Reading};
    use crate::live::reconcile::{Exchange, LiveResult};

    fn ran(client: &str, kind: Kind, agreement: Agreement) -> LiveResult {
        LiveResult {
            client: client.into(),
            kind,
            program: client.into(),
            observed: Reading {
                connects: true,
                version: Some("TLSv1.3".into()),
                error: None,
            },
            predicted: None,
            agreement,
            baseline: None,
            baseline_agreement: agreement,
            connections: 1,
            elapsed_ms: 1,
            output: String::new(),
            exchange: Exchange::default(),
        }
    }

    #[test]
    fn a_client_without_a_prediction_is_not_counted_as_disagreeing() {
        let live = LiveReport {
            clients: vec![
                ran("curl", Kind::Curl, Agreement::Agrees),
                ran("node", Kind::Node, Agreement::Agrees),
                ran("go", Kind::Go, Agreement::NoPrediction),
            ],
            not_run: Vec::new(),
            agreements: 2,
            disagreements: 0,
        };
        assert_eq!(
            render_summary(&live, Style::plain()),
            "Observed: 3 real client(s) ran against the server here; 2 of the 2 with a \
             prediction agree with it, 1 had none.\n"
        );
        let live = LiveReport {
            clients: vec![ran("curl", Kind::Curl, Agreement::Agrees)],
            agreements: 1,
            ..live
        };
        assert_eq!(
            render_summary(&live, Style::plain()),
            "Observed: 1 real client(s) ran against the server here; 1 of the 1 with a \
             prediction agree with it.\n"
        );
    }
}
