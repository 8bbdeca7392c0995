//! The diagnosis follows the observation. Each observed client is held against the
//! prediction for it (its profile adjusted to this machine's settings of that client), and:
//!
//! - a finding's "breaks" entry that stands for an observed client (its profile's simulated
//!   break, or the catalogue text of its style) is replaced by what the client really
//!   printed, or dropped when the client connected; an error whose every broken client
//!   connected when run becomes a warning;
//! - an observed failure no finding explains becomes a `live-client-fails` error;
//! - every contradiction is listed in a `live-prediction-contradicted` finding.

use super::clients::Kind;
use super::compare::{Agreement, compare, same_text};
use super::{Observed, Reading};
use crate::clients::{BreakKey, ClientProfile, find_profile};
use crate::env::ClientStack;
use crate::finding::catalogue::finding;
use crate::finding::{ClientBreak, Finding, FindingId, Severity};
use crate::scan::ScanContext;
use crate::simulate::{ClientReply, ServerFacts, Simulation, exchange, judge_reply};
use serde::Serialize;
use std::path::PathBuf;

/// Where a client's verdict in the report comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictSource {
    /// The real client ran against the server here.
    Observed,
    /// The client's recorded hello was replayed and its policy applied to the answer.
    Predicted,
}

/// One client's verdict as the report gives it.
#[derive(Debug, Clone, Serialize)]
pub struct ClientVerdict {
    /// Profile id (predicted) or client kind (observed).
    pub client: String,
    pub client_name: String,
    pub source: VerdictSource,
    pub connects: bool,
    pub version: Option<String>,
    pub error: Option<String>,
    /// Observed: the program that ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<PathBuf>,
    /// Observed: what the prediction for this client said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted: Option<Predicted>,
    /// Observed: how observation and prediction compare.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Agreement>,
}

/// A prediction, as held against an observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Predicted {
    /// The profile id.
    pub profile: String,
    pub connects: bool,
    pub error: Option<String>,
    pub finding: Option<FindingId>,
}

impl Predicted {
    fn of(s: &Simulation) -> Predicted {
        Predicted {
            profile: s.client.clone(),
            connects: s.connects,
            error: s.failure.as_ref().map(|f| f.error.clone()),
            finding: s.failure.as_ref().and_then(|f| f.finding),
        }
    }

    fn pair(&self) -> (bool, Option<&str>) {
        (self.connects, self.error.as_deref())
    }
}

/// Every verdict of a diagnosis made without observation: the simulations.
pub fn predicted_verdicts(simulations: &[Simulation]) -> Vec<ClientVerdict> {
    simulations
        .iter()
        .map(|s| ClientVerdict {
            client: s.client.clone(),
            client_name: s.client_name.clone(),
            source: VerdictSource::Predicted,
            connects: s.connects,
            version: s.version.map(|v| v.name()),
            error: s.failure.as_ref().map(|f| f.error.clone()),
            program: None,
            predicted: None,
            agreement: None,
        })
        .collect()
}

/// What observation added to one diagnosis.
#[derive(Debug, Clone, Serialize)]
pub struct LiveReport {
    /// Every client that ran, with its verdict and the predictions it is held against.
    pub clients: Vec<LiveResult>,
    /// Clients found here that gave no verdict, and why.
    pub not_run: Vec<NotRun>,
    /// Observed clients whose verdict agrees with the prediction for them.
    pub agreements: usize,
    /// Observed clients whose verdict contradicts it.
    pub disagreements: usize,
}

impl LiveReport {
    /// Clients that ran but that no profile predicts (Go): neither agreeing nor contradicting.
    pub fn unpredicted(&self) -> usize {
        self.clients
            .iter()
            .filter(|c| c.agreement == Agreement::NoPrediction)
            .count()
    }
}

/// One real client's run and how it compares.
#[derive(Debug, Clone, Serialize)]
pub struct LiveResult {
    pub client: String,
    pub kind: Kind,
    pub program: PathBuf,
    pub observed: Reading,
    /// The prediction for this client: its profile, adjusted to its settings on this machine.
    pub predicted: Option<Predicted>,
    pub agreement: Agreement,
    /// The prediction `check --no-live` makes (the profile as recorded).
    pub baseline: Option<Predicted>,
    pub baseline_agreement: Agreement,
    /// Connections it opened to the server (through the relay).
    pub connections: usize,
    pub elapsed_ms: u64,
    /// The end of what it printed.
    pub output: String,
    /// The first bytes of its connection each way, and the server's answer to the
    /// prediction's replayed hello: what a disagreement fixture keeps.
    #[serde(skip)]
    pub exchange: Exchange,
}

/// The bytes behind one observation and its prediction.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    pub client_bytes: Vec<u8>,
    pub server_bytes: Vec<u8>,
    pub predicted_reply: Option<ClientReply>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotRun {
    pub client: String,
    pub program: PathBuf,
    pub why: String,
}

/// The prediction for each observed client: its profile adjusted to its stack (`adjust`),
/// with the ClientHello the client really sent through the relay in place of the recorded
/// one (a local build offers its own suites, versions and groups: Debian's Python 3.11 and
/// every Python before 3.10 still offer RSA key exchange, which the recorded Python 3.11
/// hello does not), replayed to the server, and its policy applied to the answer with
/// `facts`.
pub async fn predict(
    ctx: &ScanContext,
    facts: &ServerFacts,
    observed: &[Observed],
    adjust: impl Fn(&ClientProfile, &ClientStack) -> ClientProfile,
) -> Vec<Option<(Simulation, ClientReply)>> {
    let server = crate::simulate::server_label(ctx.sni.as_deref(), ctx.prober.addr());
    let jobs = observed.iter().map(|o| {
        let profile = o
            .reading
            .as_ref()
            .and_then(|_| find_profile(o.client.kind.profile()))
            .map(|p| {
                let mut p = match &o.client.stack {
                    Some(stack) => adjust(p, stack),
                    None => p.clone(),
                };
                if let Some(hello) = client_hello_record(&o.client_bytes) {
                    p.hello = hex::encode(hello);
                }
                p
            });
        let server = server.clone();
        async move {
            let p = profile?;
            let reply = exchange(ctx, &p).await;
            Some((judge_reply(&p, facts, &reply, &server), reply))
        }
    });
    futures::future::join_all(jobs).await
}

/// The first record the client sent, when it is a whole ClientHello.
fn client_hello_record(bytes: &[u8]) -> Option<&[u8]> {
    let header = bytes.get(..5)?;
    let len = 5 + usize::from(u16::from_be_bytes([header[3], header[4]]));
    let record = bytes.get(..len)?;
    crate::wire::ClientHello::parse_record(record).ok()?;
    Some(record)
}

/// Make `findings` follow the observations; returns the live report and every client's
/// verdict. `simulations` are the diagnosis's predictions, `predictions` those of
/// [`predict`] (one per observation).
pub fn reconcile(
    findings: &mut Vec<Finding>,
    simulations: &[Simulation],
    observed: Vec<Observed>,
    predictions: Vec<Option<(Simulation, ClientReply)>>,
) -> (LiveReport, Vec<ClientVerdict>) {
    let mut results = Vec::new();
    let mut not_run = Vec::new();
    for (o, prediction) in observed.into_iter().zip(predictions) {
        let Some(reading) = o.reading.clone() else {
            not_run.push(NotRun {
                client: o.client.label.clone(),
                program: o.client.program.clone(),
                why: o.not_run.clone().unwrap_or_default(),
            });
            continue;
        };
        let kind = o.client.kind;
        let pair = (reading.connects, reading.error.as_deref());
        let (predicted, reply) = match prediction {
            Some((s, r)) => (Some(Predicted::of(&s)), Some(r)),
            None => (None, None),
        };
        let baseline = simulations
            .iter()
            .find(|s| s.client == kind.profile())
            .map(Predicted::of);
        results.push(LiveResult {
            client: o.client.label.clone(),
            kind,
            program: o.client.program.clone(),
            agreement: compare(kind, pair, predicted.as_ref().map(Predicted::pair)),
            baseline_agreement: compare(kind, pair, baseline.as_ref().map(Predicted::pair)),
            observed: reading,
            predicted,
            baseline,
            connections: o.connections,
            elapsed_ms: o.elapsed.as_millis() as u64,
            output: o.output,
            exchange: Exchange {
                client_bytes: o.client_bytes,
                server_bytes: o.server_bytes,
                predicted_reply: reply,
            },
        });
    }
    follow_observations(findings, &results);
    let verdicts = verdicts(simulations, &results);
    let disagreements = results
        .iter()
        .filter(|r| r.agreement.is_contradiction())
        .count();
    let agreements = results
        .iter()
        .filter(|r| matches!(r.agreement, Agreement::Agrees | Agreement::TextDiffers))
        .count();
    (
        LiveReport {
            clients: results,
            not_run,
            agreements,
            disagreements,
        },
        verdicts,
    )
}

/// Whether break `b` stands for the observed client `r`: the simulated break of its
/// profile, or the catalogue's text for its style (s_client's catalogue texts are for
/// `-verify_return_error`, which the default s_client run does not use).
fn stands_for(b: &ClientBreak, r: &LiveResult) -> bool {
    match &b.key {
        Some(BreakKey::Simulated { profile }) => profile == r.kind.profile(),
        Some(BreakKey::Worded { style, .. }) => {
            r.kind != Kind::OpensslCli && Some(*style) == r.kind.style()
        }
        _ => false,
    }
}

fn observed_break(r: &LiveResult) -> ClientBreak {
    ClientBreak {
        client: format!("{} (observed)", r.client),
        error: r.observed.error.clone().unwrap_or_default(),
        key: Some(BreakKey::Observed {
            program: r.program.clone(),
        }),
        unquoted: None,
        after: None,
    }
}

fn follow_observations(findings: &mut Vec<Finding>, results: &[LiveResult]) {
    // The finding each observed failure is quoted under: the first whose break for it has
    // the text it printed, else the one its prediction names, else the first with a break
    // for it at all, else the one the explain knowledge base reads in its text.
    let home: Vec<Option<usize>> = results
        .iter()
        .map(|r| {
            if r.observed.connects {
                return None;
            }
            let text = r.observed.error.as_deref().unwrap_or("");
            let listed = |f: &Finding, exact: bool| {
                f.breaks
                    .iter()
                    .any(|b| stands_for(b, r) && (!exact || same_text(r.kind, text, &b.error)))
            };
            let named = [&r.predicted, &r.baseline]
                .into_iter()
                .flatten()
                .find_map(|p| p.finding)
                .and_then(|id| findings.iter().position(|f| f.id == id));
            // A client no profile predicts (Go) has no break of its own anywhere: its text
            // is read by the explain knowledge base, whose best cause present here is its
            // finding.
            let explained = || {
                crate::explain::finding_ids_for(text)
                    .into_iter()
                    .find_map(|id| findings.iter().position(|f| f.id == id))
            };
            findings
                .iter()
                .position(|f| listed(f, true))
                .or(named)
                .or_else(|| findings.iter().position(|f| listed(f, false)))
                .or_else(explained)
        })
        .collect();
    for (i, f) in findings.iter_mut().enumerate() {
        let before = f.breaks.len();
        let mut replaced_by_success = Vec::new();
        let mut kept = Vec::new();
        let mut added = Vec::new();
        for b in std::mem::take(&mut f.breaks) {
            let standing: Vec<(usize, &LiveResult)> = results
                .iter()
                .enumerate()
                .filter(|(_, r)| stands_for(&b, r))
                .collect();
            if standing.is_empty() {
                kept.push(b);
                continue;
            }
            for (j, r) in &standing {
                if r.observed.connects {
                    replaced_by_success.push(r.client.clone());
                } else if home[*j] == Some(i) && !added.contains(j) {
                    added.push(*j);
                    kept.push(observed_break(r));
                }
            }
        }
        for (j, r) in results.iter().enumerate() {
            if home[j] == Some(i) && !added.contains(&j) {
                added.push(j);
                kept.push(observed_break(r));
            }
        }
        f.breaks = kept;
        replaced_by_success.sort();
        replaced_by_success.dedup();
        if !replaced_by_success.is_empty() && added.is_empty() {
            f.evidence.push(format!(
                "observed: {} connected when run here",
                replaced_by_success.join(", ")
            ));
        }
        if f.severity == Severity::Error && before > 0 && f.breaks.is_empty() {
            f.severity = Severity::Warning;
            f.evidence.push(
                "every client on this machine it was predicted to break connected when run here, so it is not an error here"
                    .into(),
            );
        }
    }

    let unexplained: Vec<&LiveResult> = results
        .iter()
        .zip(&home)
        .filter(|(r, h)| !r.observed.connects && h.is_none())
        .map(|(r, _)| r)
        .collect();
    if !unexplained.is_empty() {
        let mut f = finding(FindingId::LiveClientFails, &[]);
        for r in &unexplained {
            let said = match &r.predicted {
                Some(p) if p.connects => "the prediction said it connects".to_string(),
                Some(p) => format!(
                    "the prediction said it fails with: {}",
                    p.error.as_deref().unwrap_or("")
                ),
                None => "no profile predicts it".to_string(),
            };
            f.evidence.push(format!("{}: {said}", r.client));
            f.breaks.push(observed_break(r));
        }
        findings.push(f);
    }

    let contradicted: Vec<&LiveResult> = results
        .iter()
        .filter(|r| r.agreement.is_contradiction())
        .collect();
    if !contradicted.is_empty() {
        let mut f = finding(FindingId::LivePredictionContradicted, &[]);
        for r in contradicted {
            let p = r.predicted.as_ref();
            let predicted = match p {
                Some(p) if p.connects => "connects".to_string(),
                Some(p) => format!("fails ({})", p.error.as_deref().unwrap_or("")),
                None => String::new(),
            };
            let observed = if r.observed.connects {
                format!(
                    "connected{}",
                    r.observed
                        .version
                        .as_deref()
                        .map(|v| format!(" ({v})"))
                        .unwrap_or_default()
                )
            } else {
                format!("failed: {}", r.observed.error.as_deref().unwrap_or(""))
            };
            f.evidence.push(format!(
                "{}: predicted {predicted} (profile {}); observed {observed}",
                r.client,
                p.map(|p| p.profile.as_str()).unwrap_or("?")
            ));
        }
        findings.push(f);
    }
    crate::finding::sort_by_severity(findings);
}

/// One verdict per predicted client, replaced by the observed clients it stands for.
fn verdicts(simulations: &[Simulation], results: &[LiveResult]) -> Vec<ClientVerdict> {
    let observed = |r: &LiveResult| ClientVerdict {
        client: r.kind.name().to_string(),
        client_name: r.client.clone(),
        source: VerdictSource::Observed,
        connects: r.observed.connects,
        version: r.observed.version.clone(),
        error: r.observed.error.clone(),
        program: Some(r.program.clone()),
        predicted: r.predicted.clone(),
        agreement: Some(r.agreement),
    };
    let mut out = Vec::new();
    let mut used = vec![false; results.len()];
    for v in predicted_verdicts(simulations) {
        let mine: Vec<usize> = (0..results.len())
            .filter(|i| results[*i].kind.profile() == v.client)
            .collect();
        if mine.is_empty() {
            out.push(v);
        }
        for i in mine {
            used[i] = true;
            out.push(observed(&results[i]));
        }
    }
    for (i, r) in results.iter().enumerate() {
        if !used[i] {
            out.push(observed(r));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::LiveClient;
    use std::time::Duration;

    fn observed(kind: Kind, program: &str, connects: bool, error: Option<&str>) -> Observed {
        Observed {
            client: LiveClient {
                kind,
                label: format!("{} ({program})", kind.name()),
                program: program.into(),
                stack: None,
            },
            reading: Some(Reading {
                connects,
                version: None,
                error: error.map(str::to_string),
            }),
            not_run: None,
            output: String::new(),
            elapsed: Duration::ZERO,
            client_bytes: Vec::new(),
            server_bytes: Vec::new(),
            connections: 1,
        }
    }

    fn simulation(client: &str, fails: Option<(&str, FindingId)>) -> Simulation {
        Simulation {
            client: client.into(),
            client_name: client.into(),
            connects: fails.is_none(),
            version: None,
            cipher_suite: None,
            group: None,
            failure: fails.map(|(error, finding)| crate::simulate::SimFailure {
                key: "x".into(),
                error: error.into(),
                reason: String::new(),
                finding: Some(finding),
            }),
        }
    }

    fn predicted(s: &Simulation) -> Option<(Simulation, ClientReply)> {
        Some((
            s.clone(),
            ClientReply {
                client: s.client.clone(),
                answer: None,
            },
        ))
    }

    #[test]
    fn the_findings_follow_the_observations() {
        let py = simulation("python", Some(("[SSL: X] x", FindingId::DhTooSmall)));
        let curl = simulation("curl", None);
        let mut f = finding(FindingId::DhTooSmall, &[]);
        f.breaks.push(ClientBreak {
            client: "python".into(),
            error: "[SSL: X] x".into(),
            key: Some(BreakKey::Simulated {
                profile: "python".into(),
            }),
            unquoted: None,
            after: None,
        });
        let mut findings = vec![f];
        let (report, verdicts) = reconcile(
            &mut findings,
            &[py.clone(), curl.clone()],
            vec![
                // Python connects although predicted to fail; curl fails although predicted
                // to connect.
                observed(Kind::PythonSsl, "/usr/bin/python3", true, None),
                observed(Kind::Curl, "/usr/bin/curl", false, Some("curl: (35) boom")),
            ],
            vec![predicted(&py), predicted(&curl)],
        );
        assert_eq!(report.disagreements, 2);
        let ids: Vec<FindingId> = findings.iter().map(|f| f.id).collect();
        assert_eq!(
            ids,
            [
                FindingId::LiveClientFails,
                FindingId::DhTooSmall,
                FindingId::LivePredictionContradicted
            ]
        );
        // The error whose only broken client connected is no longer an error.
        let dh = &findings[1];
        assert!(dh.breaks.is_empty());
        assert_eq!(dh.severity, Severity::Warning);
        // curl's own text is quoted.
        assert_eq!(findings[0].breaks[0].error, "curl: (35) boom");
        assert!(verdicts.iter().all(|v| v.source == VerdictSource::Observed));
        assert_eq!(verdicts[1].agreement, Some(Agreement::Contradicts));
    }

    #[test]
    fn an_observed_failure_is_quoted_under_the_finding_that_predicted_it() {
        let py = simulation("python", Some(("[SSL: X] x", FindingId::DhTooSmall)));
        let mut f = finding(FindingId::DhTooSmall, &[]);
        f.breaks.push(ClientBreak {
            client: "python".into(),
            error: "[SSL: X] x".into(),
            key: Some(BreakKey::Simulated {
                profile: "python".into(),
            }),
            unquoted: None,
            after: None,
        });
        let mut findings = vec![f];
        let (report, _) = reconcile(
            &mut findings,
            std::slice::from_ref(&py),
            vec![observed(
                Kind::PythonSsl,
                "/usr/bin/python3",
                false,
                Some("[SSL: X] x (_ssl.c:1006)"),
            )],
            vec![predicted(&py)],
        );
        assert_eq!(report.agreements, 1);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Error);
        assert_eq!(findings[0].breaks.len(), 1);
        assert_eq!(findings[0].breaks[0].error, "[SSL: X] x (_ssl.c:1006)");
        assert!(matches!(
            findings[0].breaks[0].key,
            Some(BreakKey::Observed { .. })
        ));
    }
}
