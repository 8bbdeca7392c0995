//! What a caller asks for: the target and how to reach it, the trust inputs, the clients, and
//! what else each operation should do. Plain data; the CLI fills it from its arguments.

use crate::probe::{
    BackoffPolicy, BackoffTally, DEFAULT_MAX_CONNECTIONS, FAR_MAX_CONNECTIONS, ProbeConfig,
    RateLimit, RunDeadline, default_budget,
};
use crate::scan::Selection;
use crate::target::ResolveOptions;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The target and how to reach it: shared by every operation that connects.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// host, host:port, `[v6]:port`, `https://host[:port]`, `mongodb://…`, `mongodb+srv://…`.
    pub target: String,
    /// SNI name to send instead of the host name.
    pub sni: Option<String>,
    /// Send no SNI at all (wins over `sni`).
    pub no_sni: bool,
    /// DNS server for name, SRV and TXT look-ups.
    pub dns: Option<SocketAddr>,
    /// Examine every resolved address, not only the first.
    pub all_addresses: bool,
    /// Deadline for each connection (connect, each read, whole probe) and each DNS look-up.
    pub timeout: Duration,
    /// Maximum simultaneous connections to one server (with `auto_cap`: the starting cap).
    pub max_connections: usize,
    /// `--max-connections auto`: raise the cap to [`FAR_MAX_CONNECTIONS`] for a server far
    /// away (`probe::cap`); false: `max_connections` is a hard cap.
    pub auto_cap: bool,
    /// Under the automatic cap, dial connections ahead for a far server (`probe::warm`);
    /// false: every probe dials its own (`--no-warm-connections`).
    pub warm_connections: bool,
    /// Serve probes waiting for a slot by priority (`probe::priority`); false: in arrival
    /// order (`--no-slot-priority`).
    pub slot_priority: bool,
    /// Cap on the whole run (`--deadline`); none: [`default_budget`] of `timeout` and
    /// `max_connections`. What was learned by then is still reported, marked partial.
    pub deadline: Option<Duration>,
    /// The checks to run instead of the default set (`scan --checks`); none: the default
    /// set. The basis stage (protocol versions) always runs.
    pub checks: Option<Selection>,
    /// Checks to run on every address besides the default ones (which every operation
    /// runs: its report rests on them), e.g. `early-data`.
    pub extra_checks: Selection,
    /// The plaintext upgrade before TLS (`--starttls`); by default the URL scheme or a
    /// well-known port decides.
    pub starttls: crate::starttls::Choice,
    /// The XMPP domain to name in the stream header (default: the target's host).
    pub xmpp_host: Option<String>,
    /// `--starttls-full`: no upgrade takes its pipelined form.
    pub starttls_full: bool,
    /// Where the run reports what it is probing (the CLI's spinner); none by default.
    pub progress: crate::progress::Progress,
    /// New connections per second overall (`--rate`), shared by every request that holds
    /// this limit.
    pub rate: Option<Arc<RateLimit>>,
    /// With a tally: retry connects a server refuses after accepting earlier ones (the
    /// default backoff policy), counted there (fleet runs set one per target).
    pub backoff_tally: Option<Arc<BackoffTally>>,
    /// Other servers that may hold the same RSA key, asked for SSLv2 by the `drown-peers`
    /// check (`--drown-peer HOST:PORT`).
    pub drown_peers: Vec<String>,
}

impl ConnectOptions {
    /// `target` with the defaults of the command line: SNI from the host name, the system
    /// resolver, the first address only, 5 s deadlines, the automatic connection cap.
    pub fn new(target: impl Into<String>) -> Self {
        ConnectOptions {
            target: target.into(),
            sni: None,
            no_sni: false,
            dns: None,
            all_addresses: false,
            timeout: Duration::from_secs(5),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            auto_cap: true,
            warm_connections: true,
            slot_priority: true,
            deadline: None,
            checks: None,
            extra_checks: Selection::none(),
            starttls: crate::starttls::Choice::Auto,
            xmpp_host: None,
            starttls_full: false,
            progress: crate::progress::Progress::none(),
            rate: None,
            backoff_tally: None,
            drown_peers: Vec::new(),
        }
    }

    /// How long the whole run may take: `deadline`, or the default function of `timeout`
    /// and `max_connections` ([`default_budget`]).
    pub fn run_budget(&self) -> Duration {
        self.deadline
            .unwrap_or_else(|| default_budget(self.timeout, self.max_connections))
    }

    /// The run's deadline, counted from now.
    pub(crate) fn start_run(&self) -> RunDeadline {
        RunDeadline::start(self.run_budget())
    }

    pub(crate) fn probe_config(&self, run: &RunDeadline) -> ProbeConfig {
        let mut cfg = ProbeConfig::with_timeout(self.timeout);
        cfg.max_connections = self.max_connections;
        cfg.far_max_connections = self.auto_cap.then_some(FAR_MAX_CONNECTIONS);
        cfg.loopback_may_be_far =
            std::env::var_os("TLSDOCTOR_LOOPBACK_IS_FAR").is_some_and(|v| v == "1");
        cfg.warm_connections = self.warm_connections;
        cfg.priorities = self.slot_priority;
        cfg.run = Some(run.clone());
        cfg.progress = self.progress.clone();
        cfg.rate = self.rate.clone();
        cfg.backoff = self
            .backoff_tally
            .clone()
            .map(|t| (BackoffPolicy::default(), t));
        cfg
    }

    pub(crate) fn resolve_options(&self) -> ResolveOptions {
        ResolveOptions {
            dns: self.dns,
            sni: self.sni.clone(),
            no_sni: self.no_sni,
            all_addresses: self.all_addresses,
            timeout: self.timeout,
        }
    }
}

/// What the user's client trusts. Without a CA file: the system store (or, for a local
/// client, the bundle it is configured with). Mozilla's store is always judged too.
#[derive(Debug, Clone, Default)]
pub struct TrustInputs {
    /// A CA bundle (PEM) the client trusts instead of the system store.
    pub cafile: Option<PathBuf>,
}

/// A client certificate to present where the server asks for one.
#[derive(Debug, Clone)]
pub struct ClientCertFiles {
    /// The certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
}

/// `check`: why do clients fail to connect, and what to change.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    pub connect: ConnectOptions,
    /// The client that fails: a profile id or alias, or a path to a local interpreter or
    /// tool (then its real settings on this machine drive the diagnosis). None: every
    /// current client profile.
    pub client: Option<String>,
    /// The error message the user saw; the diagnosis leads with the finding that explains it.
    pub error: Option<String>,
    /// With no CA file, a `mongodb://` target's `tlsCAFile` is used.
    pub trust: TrustInputs,
    pub client_cert: Option<ClientCertFiles>,
    /// Ask the certificate's OCSP responder even when a response is stapled.
    pub ocsp_query: bool,
    /// Write the artefacts the fixes need into this directory.
    pub write_fixes: Option<PathBuf>,
    /// With `write_fixes`: replace files already there (otherwise one is an error and
    /// nothing is written).
    pub replace_fixes: bool,
    /// Certificates (PEM) to complete the server's chain with in the written fixes.
    pub intermediates: Vec<PathBuf>,
    /// With `write_fixes`: download a missing intermediate from the caIssuers URL in the
    /// server's certificate.
    pub fetch_intermediate: bool,
    /// Run the real clients of this machine against the server and follow what they do
    /// (on by default; `--no-live` turns it off).
    pub live: crate::live::LiveRequest,
    /// Audit every server too (`--audit`, `--profile`): its vulnerability and profile
    /// findings join the diagnosis, and the grade is shown.
    pub audit: Option<crate::audit::AuditRequest>,
}

impl CheckRequest {
    /// A check of `target` with the command line's defaults.
    pub fn new(target: impl Into<String>) -> Self {
        CheckRequest {
            connect: ConnectOptions::new(target),
            client: None,
            error: None,
            trust: TrustInputs::default(),
            client_cert: None,
            ocsp_query: false,
            write_fixes: None,
            replace_fixes: false,
            intermediates: Vec::new(),
            fetch_intermediate: false,
            audit: None,
            live: crate::live::LiveRequest {
                enabled: true,
                record_disagreements: None,
            },
        }
    }
}

/// `scan`: versions, suites, groups, properties and the chain of each address.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub connect: ConnectOptions,
    /// The chain is judged against Mozilla's store and this (default: the system store).
    pub trust: TrustInputs,
    /// Also check the staples and ask the certificate's OCSP responder.
    pub ocsp_query: bool,
    /// Describe and judge the chain each address presents (on by default; `--checks`
    /// without `certificate` turns it off, and `certificate_chain` is then null).
    pub certificate: bool,
    /// What the audit every server gets judges besides the vulnerabilities and the grade
    /// (`--profile`).
    pub audit: crate::audit::AuditRequest,
}

impl ScanRequest {
    pub fn new(target: impl Into<String>) -> Self {
        ScanRequest {
            connect: ConnectOptions::new(target),
            trust: TrustInputs::default(),
            ocsp_query: false,
            certificate: true,
            audit: crate::audit::AuditRequest::default(),
        }
    }
}

/// `simulate`: per client, whether it connects.
#[derive(Debug, Clone)]
pub struct SimulateRequest {
    pub connect: ConnectOptions,
    /// Profile ids or aliases, or `all`; empty: this machine's clients plus the recorded
    /// clients still in common use.
    pub clients: Vec<String>,
    pub trust: TrustInputs,
}

impl SimulateRequest {
    pub fn new(target: impl Into<String>) -> Self {
        SimulateRequest {
            connect: ConnectOptions::new(target),
            clients: Vec::new(),
            trust: TrustInputs::default(),
        }
    }
}
