//! What a check is, and how the registry runs one without knowing its types.
//!
//! A check is one module with a unit struct implementing [`Check`]: it plans the probe
//! jobs it needs from the [`Basis`] (what the protocol-version stage found), folds their
//! answers into typed evidence, and turns that evidence into findings. It never prints and
//! never judges against trust stores or client profiles. [`Slot`] says where its evidence
//! sits in the [`ServerScan`]; the registry (`crate::scan::CHECKS`) lists every check once;
//! [`Registered`] is the form in which the scan runs them all alike.

use super::ScanContext;
use super::schedule::HeadStart;
use super::server::ServerScan;
use super::versions::ProtocolSupport;
use crate::finding::Finding;
use crate::wire::{ProtocolVersion, ServerFlight};
use futures::future::BoxFuture;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeSet;

/// One probe job: a future that opens its connections through `basis.ctx.prober` (which
/// holds the per-server cap and the deadlines) and answers with what it saw. A job may open
/// several connections in turn when each depends on the last (enumeration by elimination).
pub type Job<'a, A> = BoxFuture<'a, A>;

/// When a check runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// First, with an empty basis: the protocol versions, which every other check plans from.
    Basis,
    /// Concurrently with every other check of this stage, once the basis is known.
    Main,
    /// After every `Main` check, with the accepted cipher suites in the basis
    /// ([`Basis::suites`]): for a probe that costs nothing where the suites rule it out.
    AfterSuites,
}

/// What every check plans from: the server, and what the basis stage measured.
pub struct Basis<'a> {
    pub ctx: &'a ScanContext,
    /// `None` while the basis stage itself runs.
    protocols: Option<&'a ProtocolSupport>,
    /// Probes started with the basis stage, for the checks that take their answers.
    head: Option<&'a HeadStart>,
    /// The suites check's evidence, for the [`Stage::AfterSuites`] checks (when it ran).
    suites: Option<&'a [super::ciphers::VersionSuites]>,
}

impl<'a> Basis<'a> {
    /// Before anything is known (what the basis stage plans from).
    pub fn empty(ctx: &'a ScanContext) -> Self {
        Basis {
            ctx,
            protocols: None,
            head: None,
            suites: None,
        }
    }

    /// After the protocol-version stage.
    pub fn after(ctx: &'a ScanContext, protocols: &'a ProtocolSupport) -> Self {
        Basis {
            ctx,
            protocols: Some(protocols),
            head: None,
            suites: None,
        }
    }

    /// With the probes started alongside the basis stage.
    pub fn with_head_start(mut self, head: &'a HeadStart) -> Self {
        self.head = Some(head);
        self
    }

    /// With the suites check's evidence (for the [`Stage::AfterSuites`] checks).
    pub fn with_suites(mut self, suites: &'a [super::ciphers::VersionSuites]) -> Self {
        self.suites = Some(suites);
        self
    }

    /// The cipher suites the server accepted per version, when the suites check ran before
    /// this one (only in [`Stage::AfterSuites`]).
    pub fn suites(&self) -> Option<&'a [super::ciphers::VersionSuites]> {
        self.suites
    }

    /// The probes started alongside the basis stage, if any were.
    pub fn head_start(&self) -> Option<&'a HeadStart> {
        self.head
    }

    /// The protocol versions the server accepted, oldest first.
    pub fn accepted(&self) -> Vec<ProtocolVersion> {
        self.protocols.map(|p| p.accepted()).unwrap_or_default()
    }

    pub fn accepts(&self, v: ProtocolVersion) -> bool {
        self.accepted().contains(&v)
    }

    /// The highest accepted version from SSL 3.0 to TLS 1.2: the one whose flight shows the
    /// certificate and the pre-1.3 extensions in clear.
    pub fn legacy(&self) -> Option<ProtocolVersion> {
        super::server::legacy_version(&self.accepted())
    }

    /// The flight the version probe of [`Basis::legacy`] read.
    pub fn base(&self) -> Option<&'a ServerFlight> {
        let v = self.legacy()?;
        self.protocols?.get(v)?.raw.flight()
    }

    /// What the version probe of `v` got: a check whose first probe would repeat it reads
    /// the answer here instead.
    pub fn version_probe(&self, v: ProtocolVersion) -> Option<&'a crate::probe::ProbeOutcome> {
        Some(&self.protocols?.get(v)?.raw)
    }
}

/// One line of a check's summary for the scan report: a label, its value, and the
/// evidence behind it. Data, not text: the report decides how it looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryLine {
    pub label: &'static str,
    pub value: String,
    pub evidence: String,
}

/// A check: probe jobs → typed evidence → findings.
pub trait Check: Sync + 'static {
    /// The name that selects it (`--extra-checks NAME`), kebab-case, stable.
    const NAME: &'static str;
    /// What the scan report calls it.
    const TITLE: &'static str;
    /// Whether a scan runs it unless asked otherwise.
    const BY_DEFAULT: bool = true;
    const STAGE: Stage = Stage::Main;
    /// A group name that selects this check together with the others of its group
    /// (`--extra-checks vulns`), kebab-case, never the name of a check.
    const GROUP: Option<&'static str> = None;

    /// What one job answers.
    type Answer: Send;
    /// What the check measured: typed data with its evidence, serialisable.
    type Evidence: Serialize + Clone + Send + Sync + std::fmt::Debug;

    /// The independent probe jobs this check needs on this server; run concurrently, under
    /// the server's connection cap together with every other check's jobs.
    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, Self::Answer>>;

    /// Fold the jobs' answers (in the order of [`Check::jobs`]) into the evidence.
    fn fold(&self, basis: &Basis<'_>, answers: Vec<Self::Answer>) -> Self::Evidence;

    /// What the evidence shows on its own (a judgement that needs client simulations or
    /// trust stores belongs to the doctor).
    fn findings(&self, _evidence: &Self::Evidence) -> Vec<Finding> {
        Vec::new()
    }

    /// Lines for the scan report. The core checks have sections of their own there and
    /// return nothing; every other check is shown through these.
    fn summary(&self, _evidence: &Self::Evidence) -> Vec<SummaryLine> {
        Vec::new()
    }
}

/// Where a check's evidence sits in the scan document. The core checks have fields of
/// their own in [`ServerScan`] (their JSON layout predates the registry); every other check
/// gets one in the registry's `ExtraEvidence`, written by the registry's macro.
pub trait Slot: Check {
    fn store(evidence: Self::Evidence, scan: &mut ServerScan);
    /// The evidence, when the check ran (core checks: always, with defaults when it did not).
    fn load(scan: &ServerScan) -> Option<Cow<'_, Self::Evidence>>;
}

/// A check's evidence on its way into the scan document.
pub struct Stored(Box<dyn FnOnce(&mut ServerScan) + Send>);

impl Stored {
    pub fn apply(self, scan: &mut ServerScan) {
        (self.0)(scan)
    }
}

/// A check as the registry holds it: its types erased, so one list holds every check.
pub trait Registered: Sync {
    fn name(&self) -> &'static str;
    fn title(&self) -> &'static str;
    fn by_default(&self) -> bool;
    fn stage(&self) -> Stage;
    fn group(&self) -> Option<&'static str>;
    /// Run every job, fold the answers; the result puts the evidence in its slot.
    fn run<'a>(&'a self, basis: &'a Basis<'a>) -> BoxFuture<'a, Stored>;
    /// The findings of the evidence this check left in `scan` (none when it did not run).
    fn findings(&self, scan: &ServerScan) -> Vec<Finding>;
    fn summary(&self, scan: &ServerScan) -> Vec<SummaryLine>;
}

impl<C: Slot> Registered for C {
    fn name(&self) -> &'static str {
        C::NAME
    }

    fn title(&self) -> &'static str {
        C::TITLE
    }

    fn by_default(&self) -> bool {
        C::BY_DEFAULT
    }

    fn stage(&self) -> Stage {
        C::STAGE
    }

    fn group(&self) -> Option<&'static str> {
        C::GROUP
    }

    fn run<'a>(&'a self, basis: &'a Basis<'a>) -> BoxFuture<'a, Stored> {
        Box::pin(async move {
            let answers = futures::future::join_all(self.jobs(basis)).await;
            let evidence = self.fold(basis, answers);
            Stored(Box::new(move |scan: &mut ServerScan| {
                C::store(evidence, scan)
            }))
        })
    }

    fn findings(&self, scan: &ServerScan) -> Vec<Finding> {
        C::load(scan)
            .map(|e| Check::findings(self, &e))
            .unwrap_or_default()
    }

    fn summary(&self, scan: &ServerScan) -> Vec<SummaryLine> {
        C::load(scan)
            .map(|e| Check::summary(self, &e))
            .unwrap_or_default()
    }
}

/// Which checks to run, by name. The basis stage always runs: nothing can be planned
/// without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    names: BTreeSet<&'static str>,
}

/// A name no registered check or group has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no check is called {name:?}; the checks are: {known}")]
pub struct UnknownCheck {
    pub name: String,
    pub known: String,
}

impl Default for Selection {
    /// The checks registered to run by default.
    fn default() -> Self {
        Selection {
            names: super::CHECKS
                .iter()
                .filter(|c| c.by_default())
                .map(|c| c.name())
                .collect(),
        }
    }
}

impl Selection {
    /// Only the basis stage.
    pub fn none() -> Self {
        Selection {
            names: BTreeSet::new(),
        }
    }

    /// The checks named in `list` (comma-separated; `default` stands for the default set,
    /// a group name such as `vulns` for every check of that group).
    pub fn parse(list: &str) -> Result<Self, UnknownCheck> {
        let mut sel = Selection::none();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "default" {
                sel = sel.and(&Selection::default());
                continue;
            }
            let group: Vec<&'static str> = super::CHECKS
                .iter()
                .filter(|c| c.group() == Some(name))
                .map(|c| c.name())
                .collect();
            if !group.is_empty() {
                sel.names.extend(group);
                continue;
            }
            let check = super::CHECKS
                .iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| UnknownCheck {
                    name: name.to_string(),
                    known: known_names(),
                })?;
            sel.names.insert(check.name());
        }
        Ok(sel)
    }

    /// Both selections' checks.
    pub fn and(mut self, other: &Selection) -> Self {
        self.names.extend(other.names.iter().copied());
        self
    }

    /// Whether `check` runs under this selection.
    pub fn runs(&self, check: &dyn Registered) -> bool {
        check.stage() == Stage::Basis || self.names.contains(check.name())
    }

    /// Whether the check called `name` is selected (the basis stage's name included only
    /// when it was named).
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// The selected names, in name order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.names.iter().copied()
    }
}

/// Every check's name, then every group's (`group: a b c`), for the unknown-name error.
fn known_names() -> String {
    let mut known: Vec<String> = super::CHECKS.iter().map(|c| c.name().to_string()).collect();
    let mut groups: Vec<&'static str> = super::CHECKS.iter().filter_map(|c| c.group()).collect();
    groups.sort();
    groups.dedup();
    for g in groups {
        let members: Vec<&str> = super::CHECKS
            .iter()
            .filter(|c| c.group() == Some(g))
            .map(|c| c.name())
            .collect();
        known.push(format!("{g} (the group: {})", members.join(" ")));
    }
    known.join(", ")
}

/// The findings of a check whose evidence is a yes / no / not-tested verdict (the `vuln_*`
/// checks): the finding `id` with `evidence` when the verdict is yes, else none.
pub(crate) fn finding_if(
    id: crate::finding::FindingId,
    shown: Option<bool>,
    evidence: &str,
) -> Vec<Finding> {
    match shown {
        Some(true) => {
            vec![crate::finding::catalogue::finding(id, &[]).evidence(evidence.to_string())]
        }
        _ => Vec::new(),
    }
}
