//! The command line: every subcommand's arguments (clap), their value checks, and how they
//! become the library's requests.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tlsdoctor::audit::{AuditRequest, Profile};
use tlsdoctor::pipeline::{
    CheckRequest, ClientCertFiles, ConnectOptions, ScanRequest, SimulateRequest, TrustInputs,
};
use tlsdoctor::probe::DEFAULT_MAX_CONNECTIONS;
use tlsdoctor::scan::Selection;

#[derive(Parser, Debug)]
#[command(
    name = "tlsdoctor",
    version,
    about = "Why does this TLS connection fail, and what exactly do I change?",
    long_about = "tlsdoctor probes TLS servers, explains why clients fail to connect, and says what to change."
)]
pub struct Cli {
    /// When to use colour in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Diagnose why clients fail to connect: cause, evidence, fix (the main job).
    Check(CheckArgs),
    /// Scan a TLS server: versions, cipher suites and order, groups, handshake properties.
    Scan(ScanArgs),
    /// Explain a TLS error message (offline): what it means, likely causes, how to tell them apart.
    Explain(ExplainArgs),
    /// Inspect this machine's TLS clients: libraries, interpreters, trust stores, OpenSSL config.
    Env(EnvArgs),
    /// Start the built-in lab: one misconfigured TLS server per failure mode, on loopback.
    Lab(LabArgs),
    /// Start the lab and diagnose every endpoint (what `check` does without a target).
    Demo(DemoArgs),
    /// Record the ClientHello of a real client pointed at a local port; write a profile skeleton.
    CaptureClient(CaptureArgs),
    /// Predict, per client, whether it connects: replays each client's real hello and applies its policy.
    Simulate(SimulateArgs),
    /// Relay a real application's connections to a server and diagnose each handshake it makes.
    Watch(WatchArgs),
    /// Work with the JSON Lines of fleet runs (`scan -i` / `check -i`).
    #[command(subcommand)]
    Fleet(Fleet),
}

/// `tlsdoctor fleet …`: one variant per subcommand.
#[derive(Subcommand, Debug)]
pub enum Fleet {
    /// Merge the JSON Lines of several workers or runs into one stream on stdout, each
    /// target once (the first line of each key wins).
    Merge(MergeArgs),
    /// Import the JSON Lines of a fleet run (several shard files make one run) into a results store.
    Import(super::fleet_store::ImportArgs),
    /// One run of a results store in numbers: findings, versions, suites, expiring certificates, failures.
    Summary(super::fleet_store::SummaryArgs),
    /// What changed per target between two runs of a results store.
    Diff(super::fleet_store::DiffArgs),
    /// The runs in a results store.
    Runs(super::fleet_store::RunsArgs),
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The JSON Lines files, in order of precedence.
    #[arg(required = true, value_name = "FILE.jsonl")]
    pub inputs: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Loopback address to listen on, e.g. 127.0.0.1:27018 (port 0: any free port); point
    /// the application at it instead of the server.
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// The real server, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub upstream: String,
    /// Stop after this many connections have ended.
    #[arg(long, value_name = "N")]
    pub count: Option<usize>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_deadline)]
    pub duration: Option<f64>,
    /// Deadline in seconds to reach the server and finish each handshake.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_timeout)]
    pub timeout: f64,
    /// After the handshake, end a connection when nothing moves for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300.0, value_parser = parse_deadline)]
    pub idle: f64,
    /// Connections relayed at once (more wait to be accepted).
    #[arg(long, value_name = "N", default_value_t = tlsdoctor::watch::DEFAULT_MAX_CONNECTIONS,
          value_parser = parse_max_connections)]
    pub max_connections: usize,
    /// Print JSON Lines: one object per connection as it ends, then the summary (docs/json.md).
    #[arg(long)]
    pub json: bool,
}

impl WatchArgs {
    pub fn options(&self) -> tlsdoctor::watch::WatchOptions {
        let mut o = tlsdoctor::watch::WatchOptions::new(self.listen, self.upstream.clone());
        o.count = self.count;
        o.duration = self.duration.map(Duration::from_secs_f64);
        o.handshake_timeout = Duration::from_secs_f64(self.timeout);
        o.idle_timeout = Duration::from_secs_f64(self.idle);
        o.max_connections = self.max_connections;
        o
    }
}

#[derive(Args, Debug)]
pub struct LabArgs {
    /// Loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub listen: std::net::IpAddr,
    /// First port; endpoints take consecutive ports (0: any free ports).
    #[arg(long, default_value_t = 0)]
    pub base_port: u16,
    /// Write the lab root CA (and a client certificate) to this directory.
    #[arg(long, value_name = "DIR")]
    pub write_ca: Option<PathBuf>,
    /// For developers: check every endpoint, write one evidence fixture per endpoint to
    /// this directory (tests/data/evidence), and stop.
    #[arg(long, value_name = "DIR", hide = true)]
    pub record_evidence: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Print JSON instead of human output.
    #[arg(long)]
    pub json: bool,
    /// Deadline in seconds for each connection.
    #[arg(long, value_name = "SECS", default_value_t = 5.0, value_parser = parse_timeout)]
    pub timeout: f64,
}

#[derive(Args, Debug)]
pub struct CaptureArgs {
    /// Address to listen on, e.g. 127.0.0.1:4433; point the client at it.
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Profile id to write (what `--client` will accept).
    #[arg(long, default_value = "captured")]
    pub id: String,
    /// Human name with version, e.g. "Node.js 20.19 (tls.connect)".
    #[arg(long)]
    pub name: Option<String>,
    /// The TLS library behind the client, e.g. "OpenSSL 3.0.15 (bundled)".
    #[arg(long)]
    pub library: Option<String>,
    /// Error style in data/client-errors.toml (python, openssl-cli, curl, node, java, gnutls, …).
    #[arg(long)]
    pub style: Option<String>,
    /// The command line that produced the hello, recorded in the profile's source.
    #[arg(long, value_name = "TEXT")]
    pub command: Option<String>,
    /// Write the profile here instead of to standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Seconds to wait for a client to connect.
    #[arg(long, value_name = "SECS", default_value_t = 60.0, value_parser = parse_timeout)]
    pub wait: f64,
}

#[derive(Args, Debug)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Which clients: a profile id or alias, `all` (every profile, including the recorded
    /// clients of data/clients-testssl), or by default this machine's clients plus the
    /// recorded clients still in common use. Repeatable.
    #[arg(long = "client", value_name = "NAME|all")]
    pub clients: Vec<String>,
    /// CA bundle the clients trust instead of the system store (for private CAs).
    #[arg(long, value_name = "FILE")]
    pub cafile: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Exit codes: 0 no finding of severity error; 1 findings that make connections fail; \
                  2 could not run (bad input, unreachable); 3 the run's deadline cut it short (partial output); 4 a security problem only (e.g. a revoked \
                  certificate): the clients examined connect, but the certificate must not be trusted; \
                  5 with --profile: the server does not comply (and nothing above applies)."
)]
pub struct CheckArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// The client that fails: a profile (python, openssl, curl, …) or a path to a local
    /// interpreter/tool, whose real settings on this machine then drive the diagnosis.
    #[arg(long, value_name = "NAME|PATH")]
    pub client: Option<String>,
    /// The error message you saw; the report leads with the finding that explains it.
    #[arg(long, value_name = "TEXT")]
    pub error: Option<String>,
    /// CA bundle your client trusts (default: the system store; mongodb:// tlsCAFile is used too).
    #[arg(long, value_name = "FILE")]
    pub cafile: Option<PathBuf>,
    /// Client certificate to present (PEM).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Write the artefacts the fixes need (full chain, OpenSSL client configs, server
    /// snippets) into this directory.
    #[arg(long, value_name = "DIR")]
    pub write_fixes: Option<PathBuf>,
    /// With --write-fixes: replace files that already exist in DIR (without it, an existing
    /// file is an error and nothing is written).
    #[arg(long, requires = "write_fixes")]
    pub force: bool,
    /// Certificate(s) (PEM) to complete the server's chain with, e.g. the missing intermediate.
    #[arg(long, value_name = "FILE")]
    pub intermediate: Vec<PathBuf>,
    /// With --write-fixes: download a missing intermediate from the AIA caIssuers URL written
    /// in the server's certificate (plain HTTP, that URL only).
    #[arg(long, requires = "write_fixes")]
    pub fetch_intermediate: bool,
    /// Do not run the real clients of this machine against the server: every verdict is
    /// then predicted. TLSDOCTOR_NO_LIVE=1 in the environment does the same.
    #[arg(long)]
    pub no_live: bool,
    /// Write each case where a real client contradicts its prediction (its hello, the
    /// server's answer, both verdicts) as a JSON fixture into this directory.
    #[arg(long, value_name = "DIR", conflicts_with = "no_live")]
    pub record_disagreements: Option<PathBuf>,
    /// Also ask the OCSP responder named in the server's certificate (AIA), even when the
    /// server staples a response. Without it the responder is asked only when nothing is
    /// stapled. Only that URL is contacted (plain HTTP, no redirects followed).
    #[arg(long)]
    pub ocsp_query: bool,
    /// Also run these checks besides the default ones (names, comma-separated; an unknown
    /// name lists every check).
    #[arg(long, value_name = "NAME,…", value_parser = parse_checks, default_value = "")]
    pub extra_checks: Selection,
    /// Measure only these checks instead of the default set, as `scan --checks` does:
    /// protocols (always run), suites, groups, properties, resumption, any extra check,
    /// `ocsp` (as --ocsp-query), `default`; the chain is always judged and the clients
    /// always simulated. The JSON leaves out the sections of checks not run, and --audit
    /// gives no grade unless every default check ran.
    #[arg(long, value_name = "NAME,…", value_parser = super::fleet::parse_scan_checks)]
    pub checks: Option<super::fleet::ScanChecks>,
    /// Another server that may hold this server's RSA key (mail, FTP, an appliance):
    /// HOST:PORT, repeatable. Each is asked for SSLv2 and its certificate key compared with
    /// this server's (DROWN through the same key elsewhere); selects the drown-peers check.
    #[arg(long = "drown-peer", value_name = "HOST:PORT", value_parser = parse_peer)]
    pub drown_peers: Vec<String>,
    /// Also audit the server: known vulnerabilities as findings, and a grade by SSL Labs'
    /// rating guide (docs/grade.md).
    #[arg(long)]
    pub audit: bool,
    /// Judge the server against a profile, field by field (implies --audit): mozilla-modern,
    /// mozilla-intermediate, mozilla-old (Mozilla's Server Side TLS 5.7) or openssl3-python
    /// (what default OpenSSL 3 / Python clients accept). Exit code 5 when it does not comply.
    #[arg(long, value_name = "NAME", value_parser = parse_profile)]
    pub profile: Option<&'static Profile>,
    #[command(flatten)]
    pub fleet: super::fleet::FleetArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub store: super::fleet_store::StoreArgs,
}

/// The report format of `check`, `scan` and `simulate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For the terminal.
    Text,
    /// Machine-readable (schema: docs/json.md).
    Json,
    /// GitHub-flavoured Markdown, to paste into a ticket.
    Markdown,
    /// One self-contained HTML file with pictures, to attach or open offline.
    Html,
}

/// Where a report goes, and in which format.
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Report format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Short for --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Write the report to FILE instead of standard output (text then has no colour).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// No progress line on stderr (it only ever appears on a terminal, after a second).
    #[arg(long)]
    pub no_progress: bool,
}

impl OutputArgs {
    pub fn format(&self) -> Format {
        match (self.json, self.format) {
            (true, _) => Format::Json,
            (false, Some(f)) => f,
            (false, None) => Format::Text,
        }
    }
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The error text, as the client printed it (quote it).
    #[arg(required = true, num_args = 1..)]
    pub text: Vec<String>,
    /// Print JSON instead of human output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct EnvArgs {
    /// Also inspect this Python interpreter (e.g. a virtualenv's bin/python); repeatable.
    #[arg(long = "python", value_name = "PATH")]
    pub pythons: Vec<PathBuf>,
    /// Print JSON instead of human output.
    #[arg(long)]
    pub json: bool,
}

/// How to reach the target: shared by every command that connects.
#[derive(Args, Debug, Clone)]
pub struct ConnectArgs {
    /// host, host:port, [v6]:port, https://host[:port], mongodb://…, mongodb+srv://…
    /// (`check` without a target diagnoses the built-in lab instead)
    pub target: Option<String>,
    /// SNI name to send instead of the host name.
    #[arg(long, value_name = "NAME", conflicts_with = "no_sni")]
    pub sni: Option<String>,
    /// Send no SNI at all.
    #[arg(long)]
    pub no_sni: bool,
    /// DNS server for name, SRV and TXT look-ups (e.g. 127.0.0.1:5353).
    #[arg(long, value_name = "ADDR", value_parser = parse_dns_addr)]
    pub dns: Option<SocketAddr>,
    /// Probe every resolved address, not only the first.
    #[arg(long)]
    pub all_addresses: bool,
    /// Deadline in seconds for each connection (connect, each read, whole probe).
    #[arg(long, value_name = "SECS", default_value_t = 5.0, value_parser = parse_timeout)]
    pub timeout: f64,
    /// Maximum simultaneous connections to one server: N (1 to 256, a hard cap) or `auto`:
    /// 24 until the first six answers (and 24 more dialled ahead for the next round when
    /// nothing answered within 10 ms), then 10, or 64 for a server whose first answers took
    /// 20 ms or more, and back to 10
    /// for good after a refused, reset or timed-out connection, or when answers then come as
    /// from a server serving one connection at a time.
    #[arg(long, value_name = "N|auto", default_value = "auto",
          value_parser = parse_connection_cap)]
    pub max_connections: ConnectionCap,
    /// Never dial a connection ahead (under `--max-connections auto` a far server gets
    /// connections opened, STARTTLS included, before the probes that will use them).
    #[arg(long)]
    pub no_warm_connections: bool,
    /// Serve probes waiting for a connection slot in arrival order instead of by priority
    /// (versions, then suite and group enumeration, then the rest, vulnerability probes last).
    #[arg(long, hide = true)]
    pub no_slot_priority: bool,
    /// Cap in seconds on the whole run; what was learned by then is printed, marked partial
    /// (exit code 3). Default: TIMEOUT × (2 + ⌈256 / MAX_CONNECTIONS⌉).
    #[arg(long, value_name = "SECS", value_parser = parse_deadline)]
    pub deadline: Option<f64>,
    /// Upgrade to TLS inside this protocol first: smtp, lmtp, imap, pop3, ftp, sieve, nntp,
    /// ldap, postgres, postgres-direct (PostgreSQL 17's direct TLS: ALPN `postgresql` in every
    /// hello), mysql, xmpp, xmpp-server; `none` for TLS from the first byte. Default:
    /// what the URL scheme or a well-known port (25, 587, 143, 5432, …) implies.
    #[arg(long, value_name = "PROTO", default_value = "auto",
          value_parser = str::parse::<tlsdoctor::starttls::Choice>)]
    pub starttls: tlsdoctor::starttls::Choice,
    /// XMPP: the domain to name in the stream header (default: the target's host name).
    #[arg(long, value_name = "DOMAIN")]
    pub xmpp_host: Option<String>,
    /// STARTTLS: take the full plaintext dialogue on every connection. By default connections
    /// skip a round trip (IMAP STARTTLS sent before the greeting, XMPP's stream header and
    /// STARTTLS in one write, from the first connection on; SMTP EHLO and STARTTLS in one
    /// write once the first upgrade showed PIPELINING, …) and fall back to the full dialogue
    /// if the server does not take it.
    #[arg(long)]
    pub starttls_full: bool,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Check stapled OCSP responses and ask the OCSP responder named in the server's certificate (AIA). Only that URL is contacted (plain HTTP, no redirects followed).
    #[arg(long)]
    pub ocsp_query: bool,
    /// Also run these checks besides the default ones (names, comma-separated; an unknown
    /// name lists every check).
    #[arg(long, value_name = "NAME,…", value_parser = parse_checks, default_value = "")]
    pub extra_checks: Selection,
    /// Another server that may hold this server's RSA key (mail, FTP, an appliance):
    /// HOST:PORT, repeatable. Each is asked for SSLv2 and its certificate key compared with
    /// this server's (DROWN through the same key elsewhere); selects the drown-peers check.
    #[arg(long = "drown-peer", value_name = "HOST:PORT", value_parser = parse_peer)]
    pub drown_peers: Vec<String>,
    /// Run only these checks instead of the default set, e.g. `protocols,certificate` for
    /// an inventory: protocols (always run), suites, groups, properties, resumption, any
    /// extra check, `certificate` (describe and judge the chain), `ocsp` (as --ocsp-query),
    /// `default`. The JSON leaves out the sections of checks not run.
    #[arg(long, value_name = "NAME,…", value_parser = super::fleet::parse_scan_checks)]
    pub checks: Option<super::fleet::ScanChecks>,
    #[command(flatten)]
    pub fleet: super::fleet::FleetArgs,
    /// Judge every server against a profile, field by field: mozilla-modern,
    /// mozilla-intermediate, mozilla-old (Mozilla's Server Side TLS 5.7) or openssl3-python
    /// (what default OpenSSL 3 / Python clients accept). Exit code 5 when one does not comply.
    #[arg(long, value_name = "NAME", value_parser = parse_profile)]
    pub profile: Option<&'static Profile>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub store: super::fleet_store::StoreArgs,
}

/// A compliance profile's name.
fn parse_profile(s: &str) -> Result<&'static Profile, String> {
    tlsdoctor::audit::profile::find(s).map_err(|e| e.to_string())
}

/// `HOST:PORT` (IPv6 in brackets) with a port from 1 to 65535.
fn parse_peer(s: &str) -> Result<String, String> {
    let bad = || format!("'{s}' is not HOST:PORT");
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    match port.parse::<u16>() {
        Ok(p) if p > 0 && !host.is_empty() => Ok(s.to_string()),
        _ => Err(bad()),
    }
}

/// The peers of `--drown-peer`, with the check that probes them selected.
fn add_drown_peers(connect: &mut ConnectOptions, peers: &[String]) {
    if peers.is_empty() {
        return;
    }
    connect.drown_peers = peers.to_vec();
    use tlsdoctor::scan::{Check, vuln_drown_peers::DrownPeers};
    if let Ok(check) = Selection::parse(DrownPeers::NAME) {
        connect.extra_checks = connect.extra_checks.clone().and(&check);
    }
}

/// A comma-separated list of check names, each one the registry knows.
fn parse_checks(s: &str) -> Result<Selection, String> {
    Selection::parse(s).map_err(|e| e.to_string())
}

fn parse_dns_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    s.parse::<std::net::IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("'{s}' is not an IP address or IP:port"))
}

/// `--max-connections` of the commands that probe servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionCap {
    /// Adapted to the server's round trip (`tlsdoctor::probe::cap`).
    Auto,
    /// A hard cap.
    Fixed(usize),
}

fn parse_connection_cap(s: &str) -> Result<ConnectionCap, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(ConnectionCap::Auto);
    }
    parse_max_connections(s)
        .map(ConnectionCap::Fixed)
        .map_err(|e| format!("{e}, or auto"))
}

fn parse_max_connections(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(v) if (1..=256).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a whole number from 1 to 256")),
    }
}

/// A run length in seconds: up to a day (`--deadline`, `watch --duration`, `--idle`).
fn parse_deadline(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!(
            "'{s}' is not a number of seconds between 0 and 86400"
        )),
    }
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 600.0 => Ok(v),
        _ => Err(format!(
            "'{s}' is not a number of seconds between 0 and 600"
        )),
    }
}

/// The one-line error for a command that connects but was given no target.
pub const NO_TARGET: &str = "a TARGET is required";

impl ConnectArgs {
    /// The connection options; an error when no target was given.
    pub fn options(&self) -> Result<ConnectOptions, &'static str> {
        Ok(ConnectOptions {
            target: self.target.clone().ok_or(NO_TARGET)?,
            sni: self.sni.clone(),
            no_sni: self.no_sni,
            dns: self.dns,
            all_addresses: self.all_addresses,
            timeout: Duration::from_secs_f64(self.timeout),
            max_connections: match self.max_connections {
                ConnectionCap::Fixed(n) => n,
                ConnectionCap::Auto => DEFAULT_MAX_CONNECTIONS,
            },
            auto_cap: self.max_connections == ConnectionCap::Auto,
            warm_connections: !self.no_warm_connections,
            slot_priority: !self.no_slot_priority,
            deadline: self.deadline.map(Duration::from_secs_f64),
            checks: None,
            extra_checks: Selection::none(),
            starttls: self.starttls,
            xmpp_host: self.xmpp_host.clone(),
            starttls_full: self.starttls_full,
            progress: tlsdoctor::progress::Progress::none(),
            rate: None,
            backoff_tally: None,
            drown_peers: Vec::new(),
        })
    }
}

impl CheckArgs {
    pub fn request(&self) -> Result<CheckRequest, &'static str> {
        let mut connect = self.connect.options()?;
        connect.extra_checks = self.extra_checks.clone();
        connect.rate = self.fleet.rate_limit();
        add_drown_peers(&mut connect, &self.drown_peers);
        let mut req = CheckRequest {
            connect,
            client: self.client.clone(),
            error: self.error.clone(),
            trust: TrustInputs {
                cafile: self.cafile.clone(),
            },
            client_cert: match (&self.cert, &self.key) {
                (Some(cert), Some(key)) => Some(ClientCertFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                }),
                _ => None,
            },
            ocsp_query: self.ocsp_query,
            write_fixes: self.write_fixes.clone(),
            replace_fixes: self.force,
            intermediates: self.intermediate.clone(),
            fetch_intermediate: self.fetch_intermediate,
            audit: (self.audit || self.profile.is_some()).then_some(AuditRequest {
                profile: self.profile,
            }),
            live: tlsdoctor::live::LiveRequest {
                enabled: !self.no_live && !no_live_from_env(),
                record_disagreements: self.record_disagreements.clone(),
            },
        };
        if let Some(checks) = &self.checks {
            checks.apply_check(&mut req);
        }
        Ok(req)
    }
}

/// TLSDOCTOR_NO_LIVE set to anything but "" or "0" turns live observation off, as
/// `--no-live` does (for CI jobs that run `check` often).
fn no_live_from_env() -> bool {
    std::env::var("TLSDOCTOR_NO_LIVE").is_ok_and(|v| !v.is_empty() && v != "0")
}

impl ScanArgs {
    pub fn request(&self) -> Result<ScanRequest, &'static str> {
        let mut connect = self.connect.options()?;
        connect.extra_checks = self.extra_checks.clone();
        connect.rate = self.fleet.rate_limit();
        add_drown_peers(&mut connect, &self.drown_peers);
        let mut req = ScanRequest {
            connect,
            trust: TrustInputs::default(),
            ocsp_query: self.ocsp_query,
            certificate: true,
            audit: AuditRequest {
                profile: self.profile,
            },
        };
        if let Some(checks) = &self.checks {
            checks.apply(&mut req);
        }
        Ok(req)
    }
}

impl SimulateArgs {
    pub fn request(&self) -> Result<SimulateRequest, &'static str> {
        Ok(SimulateRequest {
            connect: self.connect.options()?,
            clients: self.clients.clone(),
            trust: TrustInputs {
                cafile: self.cafile.clone(),
            },
        })
    }
}
