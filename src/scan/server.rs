//! The scan of one server address: the basis stage, then every other selected check at
//! once, each storing its evidence in the [`ServerScan`] document.

use super::check::{Basis, Check, Registered, Selection, Slot, Stage, Stored};
use super::schedule::HeadStart;
use super::{CHECKS, ExtraEvidence, ciphers, groups, plaintext, properties, resumption, versions};
use crate::finding::Finding;
use crate::probe::{Priority, Prober};
use crate::wire::{ProtocolVersion, ServerFlight};
use std::borrow::Cow;
use std::time::Instant;

/// What every check of one server needs: where to connect, what name to send, and which
/// checks to run.
#[derive(Clone)]
pub struct ScanContext {
    pub prober: Prober,
    /// The SNI host name to send, if any.
    pub sni: Option<String>,
    pub checks: Selection,
    /// Other servers that may hold the same RSA key, asked for SSLv2 (`--drown-peer`).
    pub drown_peers: Vec<String>,
}

impl ScanContext {
    /// A context that runs the default checks.
    pub fn new(prober: Prober, sni: Option<String>) -> Self {
        ScanContext {
            prober,
            sni,
            checks: Selection::default(),
            drown_peers: Vec::new(),
        }
    }

    pub fn with_checks(mut self, checks: Selection) -> Self {
        self.checks = checks;
        self
    }

    pub fn with_drown_peers(mut self, peers: Vec<String>) -> Self {
        self.drown_peers = peers;
        self
    }
}

/// Everything `tlsdoctor scan` measured on one server address. Its JSON form
/// (`server_json.rs`) leaves out the core fields of checks that did not run.
#[derive(Debug, Clone)]
pub struct ServerScan {
    /// "host:port" as the user named it.
    pub target: String,
    /// The address probed.
    pub address: String,
    /// Every address the name resolved to.
    pub resolved: Vec<String>,
    pub sni: Option<String>,
    /// The basis stage's evidence (check `protocols`).
    pub protocols: versions::ProtocolSupport,
    /// Accepted cipher suites per version, with the server's preference (check `suites`).
    pub cipher_suites: Vec<ciphers::VersionSuites>,
    /// Check `groups`.
    pub key_exchange: groups::KeyExchange,
    /// Check `properties`, with check `resumption`'s evidence inside.
    pub properties: properties::HandshakeProperties,
    /// The evidence of the checks beyond the core ones, each under its own key; a check
    /// that did not run has none.
    pub extra: ExtraEvidence,
    /// The checks this scan ran (the basis stage always): a core check's field holds its
    /// default when the check is not among them, and is left out of the JSON.
    pub checks: Selection,
    /// TCP connections opened for this scan.
    pub connections: usize,
    /// [`ServerScan::connections`] by the check that opened them, in registry order (probes
    /// started ahead for a check count as its own; `plaintext` is the sniff of a port that
    /// answered no hello with TLS; `opening_stock` the connections dialled at the start
    /// for a server that may be far).
    pub connections_by_check: Vec<(String, usize)>,
    /// The longest chain of this scan's connections each put to use (opened, or taken ready
    /// from those dialled ahead) after the one before it closed (see
    /// [`super::schedule::rounds`]).
    pub rounds: usize,
    pub elapsed_ms: u64,
}

impl ServerScan {
    /// Whether check `C` ran in this scan (`scan --checks` can leave a core check out; its
    /// fields then hold no measurement).
    pub fn ran<C: super::Check>(&self) -> bool {
        self.checks.contains(C::NAME)
    }

    /// The document before any check stored its evidence.
    pub(super) fn unmeasured(target: String, address: String, resolved: Vec<String>) -> Self {
        ServerScan {
            target,
            address,
            resolved,
            sni: None,
            protocols: versions::ProtocolSupport::default(),
            cipher_suites: Vec::new(),
            key_exchange: groups::KeyExchange::default(),
            properties: properties::HandshakeProperties::not_measured(),
            extra: ExtraEvidence::default(),
            checks: Selection::default(),
            connections: 0,
            connections_by_check: Vec::new(),
            rounds: 0,
            elapsed_ms: 0,
        }
    }

    pub fn accepted_versions(&self) -> Vec<ProtocolVersion> {
        self.protocols.accepted()
    }

    /// The highest accepted version from SSL 3.0 to TLS 1.2 and the flight its version probe
    /// read: the one flight that shows the certificate and the pre-1.3 extensions in clear.
    pub fn legacy_flight(&self) -> Option<(ProtocolVersion, &ServerFlight)> {
        let v = legacy_version(&self.accepted_versions())?;
        Some((v, self.protocols.get(v)?.raw.flight()?))
    }

    /// What the evidence of every check shows on its own, in registry order.
    pub fn findings(&self) -> Vec<Finding> {
        CHECKS.iter().flat_map(|c| c.findings(self)).collect()
    }
}

/// The highest of `accepted` from SSL 3.0 to TLS 1.2.
pub(super) fn legacy_version(accepted: &[ProtocolVersion]) -> Option<ProtocolVersion> {
    accepted
        .iter()
        .copied()
        .filter(|v| *v >= ProtocolVersion::Ssl3 && *v <= ProtocolVersion::Tls12)
        .max()
}

/// Why a scan could not produce results.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanError {
    #[error("cannot connect to {address}: {reason}")]
    Unreachable { address: String, reason: String },
    #[error("{address} does not speak TLS: it sent \"{first_bytes}\"{hint}")]
    NotTls {
        address: String,
        first_bytes: String,
        hint: String,
    },
    #[error("{address} accepted no SSL/TLS version: {reason}")]
    NoTls { address: String, reason: String },
    /// The run's deadline came before any version probe had an answer.
    #[error("{address}: the run's deadline was reached before any protocol version was confirmed")]
    Deadline { address: String },
    /// The plaintext upgrade before TLS (STARTTLS …) failed on every probe.
    #[error("{address}: {prelude} failed: {error}")]
    Upgrade {
        address: String,
        prelude: String,
        error: crate::probe::PreludeError,
    },
}

/// Run the scan of one server address: the basis stage, then every other check the
/// context selects, all at once (the prober's connection cap keeps the load on the server
/// bounded). Each check's evidence goes into its slot, in registry order.
pub async fn scan_server(
    ctx: &ScanContext,
    target: String,
    resolved: Vec<String>,
) -> Result<ServerScan, ScanError> {
    let start = Instant::now();
    // Its own tally, so `connections` is the scan's even while a check runs full handshakes
    // on the same server alongside.
    let ctx = &ScanContext {
        prober: ctx.prober.with_own_count(),
        ..ctx.clone()
    };
    let mut scan = ServerScan::unmeasured(target, ctx.prober.addr().to_string(), resolved);
    scan.sni = ctx.sni.clone();
    scan.checks = ctx.checks.clone();
    // Each check probes through a prober of its own count (same slots and deadlines), so
    // the scan can say which check opened its connections.
    let counted: Vec<(&'static str, ScanContext)> = CHECKS
        .iter()
        .filter(|c| ctx.checks.runs(**c))
        .map(|c| (c.name(), own_count(ctx)))
        .collect();
    let ctx_of = |name: &str| {
        counted
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(ctx, |(_, c)| c)
    };
    let selected = |stage: Stage| {
        CHECKS
            .iter()
            .filter(move |c| c.stage() == stage && ctx.checks.runs(**c))
    };

    let progress = &ctx.prober.config().progress;
    let bases: Vec<Basis> = selected(Stage::Basis)
        .map(|c| Basis::empty(ctx_of(c.name())))
        .collect();
    let mut versions = futures::future::join_all(
        selected(Stage::Basis)
            .zip(&bases)
            .map(|(c, basis)| progress.track(c.title(), run(*c, basis))),
    );
    // Once the version probes queue for their slots, the probes that need no answer of
    // theirs start too (see schedule.rs): under the cap, the versions go first.
    let first = futures::poll!(&mut versions);
    let head = HeadStart::start(&ctx_of);
    // The second round's connections, dialled while the first round's answers are awaited
    // (for a server that turns out far away; see warm.rs).
    ctx.prober.stock_up(crate::probe::warm::OPENING_STOCK);
    let stored: Vec<Stored> = match first {
        std::task::Poll::Ready(stored) => stored,
        std::task::Poll::Pending => versions.await,
    };
    stored.into_iter().for_each(|s| s.apply(&mut scan));
    let sniff = own_count(ctx);
    if let Err(e) = usable(&sniff, &scan.protocols).await {
        head.settle().await;
        scan.connections_by_check = tally(&counted, &sniff);
        return Err(e);
    }

    let bases: Vec<Basis> = selected(Stage::Main)
        .map(|c| Basis::after(ctx_of(c.name()), &scan.protocols).with_head_start(&head))
        .collect();
    let stored: Vec<Stored> = futures::future::join_all(
        selected(Stage::Main)
            .zip(&bases)
            .map(|(c, basis)| progress.track(c.title(), run(*c, basis))),
    )
    .await;
    drop(bases);
    stored.into_iter().for_each(|s| s.apply(&mut scan));
    head.settle().await;

    let stored: Vec<Stored> = {
        let with_suites = ctx.checks.contains(ciphers::Suites::NAME);
        let bases: Vec<Basis> = selected(Stage::AfterSuites)
            .map(|c| {
                let basis = Basis::after(ctx_of(c.name()), &scan.protocols);
                if with_suites {
                    basis.with_suites(&scan.cipher_suites)
                } else {
                    basis
                }
            })
            .collect();
        futures::future::join_all(
            selected(Stage::AfterSuites)
                .zip(&bases)
                .map(|(c, basis)| progress.track(c.title(), run(*c, basis))),
        )
        .await
    };
    stored.into_iter().for_each(|s| s.apply(&mut scan));

    scan.connections = ctx.prober.connections_opened();
    scan.connections_by_check = tally(&counted, &sniff);
    scan.rounds = super::schedule::rounds(&ctx.prober.spans(), tokio::time::Instant::now());
    scan.elapsed_ms = start.elapsed().as_millis() as u64;
    Ok(scan)
}

/// The same context with a prober of its own count.
fn own_count(ctx: &ScanContext) -> ScanContext {
    ScanContext {
        prober: ctx.prober.with_own_count(),
        ..ctx.clone()
    }
}

/// Each check's connections (every check that ran, none left out), then the sniff's if it
/// opened any.
/// The key of `connections_by_check` for the opening stock ([`crate::probe::warm::OPENING_STOCK`]):
/// connections of no check, dialled before any check asked.
pub const OPENING_STOCK_KEY: &str = "opening_stock";

fn tally(counted: &[(&'static str, ScanContext)], sniff: &ScanContext) -> Vec<(String, usize)> {
    let mut by_check: Vec<(String, usize)> = counted
        .iter()
        .map(|(name, c)| (name.to_string(), c.prober.connections_opened()))
        .collect();
    let sniffed = sniff.prober.connections_opened();
    if sniffed > 0 {
        by_check.push((super::plaintext::NAME.to_string(), sniffed));
    }
    let stock = sniff.prober.warm_report().opening_stock;
    if stock > 0 {
        by_check.push((OPENING_STOCK_KEY.to_string(), stock));
    }
    by_check
}

/// Run check `c`, its probes waiting for slots at the priority of its place in the scan:
/// the version probes first, then the enumerations whose chains are the scan's critical path,
/// the vulnerability probes last (they fill the slots the scan leaves idle).
async fn run(c: &dyn Registered, basis: &Basis<'_>) -> Stored {
    let priority = match (c.stage(), c.group(), c.name()) {
        (Stage::Basis, _, _) => Priority::Basis,
        (_, Some("vulns"), _) => Priority::Background,
        (_, _, n) if n == ciphers::Suites::NAME || n == groups::Groups::NAME => Priority::Chain,
        _ => Priority::Leaf,
    };
    priority.scope(c.run(basis)).await
}

/// Whether the basis shows a TLS server to scan, or the error the user should see.
async fn usable(ctx: &ScanContext, protocols: &versions::ProtocolSupport) -> Result<(), ScanError> {
    let Err(e) = protocols.ensure_usable(&ctx.prober.addr().to_string()) else {
        return Ok(());
    };
    // A port that answered no hello with TLS may speak something else: ask it (one
    // harmless message per protocol) so the report can name it.
    let sniff = plaintext::sniff_after(&ctx.prober, ctx.sni.as_deref(), protocols, e);
    let progress = &ctx.prober.config().progress;
    Err(progress.track("asking what the port speaks", sniff).await)
}

// Where the core checks keep their evidence: the fields `tlsdoctor scan --json` has always
// had. A core check that did not run leaves its field at the default above, loads as
// nothing (so it reports no findings) and is left out of the JSON.

/// Whether check `C` ran in this scan.
pub(super) fn ran<C: Check>(scan: &ServerScan) -> bool {
    C::STAGE == Stage::Basis || scan.checks.contains(C::NAME)
}

impl Slot for versions::Protocols {
    fn store(evidence: versions::ProtocolSupport, scan: &mut ServerScan) {
        scan.protocols = evidence;
    }
    fn load(scan: &ServerScan) -> Option<Cow<'_, versions::ProtocolSupport>> {
        Some(Cow::Borrowed(&scan.protocols))
    }
}

impl Slot for ciphers::Suites {
    fn store(evidence: Vec<ciphers::VersionSuites>, scan: &mut ServerScan) {
        scan.cipher_suites = evidence;
    }
    fn load(scan: &ServerScan) -> Option<Cow<'_, Vec<ciphers::VersionSuites>>> {
        ran::<Self>(scan).then_some(Cow::Borrowed(&scan.cipher_suites))
    }
}

impl Slot for groups::Groups {
    fn store(evidence: groups::KeyExchange, scan: &mut ServerScan) {
        scan.key_exchange = evidence;
    }
    fn load(scan: &ServerScan) -> Option<Cow<'_, groups::KeyExchange>> {
        ran::<Self>(scan).then_some(Cow::Borrowed(&scan.key_exchange))
    }
}

impl Slot for properties::Properties {
    /// Everything but the resumption fields, which are check `resumption`'s.
    fn store(evidence: properties::HandshakeProperties, scan: &mut ServerScan) {
        let p = &scan.properties;
        let (by_id, by_ticket) = (p.resumption_session_id.clone(), p.resumption_ticket.clone());
        scan.properties = properties::HandshakeProperties {
            resumption_session_id: by_id,
            resumption_ticket: by_ticket,
            ..evidence
        };
    }
    fn load(scan: &ServerScan) -> Option<Cow<'_, properties::HandshakeProperties>> {
        ran::<Self>(scan).then_some(Cow::Borrowed(&scan.properties))
    }
}

impl Slot for resumption::Resumption {
    fn store(evidence: <Self as Check>::Evidence, scan: &mut ServerScan) {
        scan.properties.resumption_session_id = evidence.by_session_id;
        scan.properties.resumption_ticket = evidence.by_ticket;
    }
    fn load(scan: &ServerScan) -> Option<Cow<'_, <Self as Check>::Evidence>> {
        if !ran::<Self>(scan) {
            return None;
        }
        Some(Cow::Owned(resumption::ResumptionSupport {
            by_session_id: scan.properties.resumption_session_id.clone(),
            by_ticket: scan.properties.resumption_ticket.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::properties::Property;

    /// The properties and resumption checks share the `properties` section; whichever
    /// stores first, both keep their evidence.
    #[test]
    fn properties_and_resumption_share_their_section_in_any_order() {
        let yes = |e: &str| Property {
            supported: Some(true),
            evidence: e.into(),
        };
        let resumption = resumption::ResumptionSupport {
            by_session_id: yes("by id"),
            by_ticket: yes("by ticket"),
        };
        let mut props = properties::HandshakeProperties::not_measured();
        props.compression = yes("deflate");
        for resumption_first in [true, false] {
            let mut scan = ServerScan::unmeasured("t".into(), "a".into(), Vec::new());
            if resumption_first {
                resumption::Resumption::store(resumption.clone(), &mut scan);
                properties::Properties::store(props.clone(), &mut scan);
            } else {
                properties::Properties::store(props.clone(), &mut scan);
                resumption::Resumption::store(resumption.clone(), &mut scan);
            }
            let p = &scan.properties;
            assert_eq!(p.compression, yes("deflate"));
            assert_eq!(p.resumption_session_id, yes("by id"));
            assert_eq!(p.resumption_ticket, yes("by ticket"));
            let back = resumption::Resumption::load(&scan).unwrap();
            assert_eq!(back.by_ticket, yes("by ticket"));
        }
    }
}
