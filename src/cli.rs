//! Command-line front end: parse arguments, run the library, render, pick the exit code.
//! Exit codes: 0 ran (and, for `check`, healthy), 1 findings of severity error, 2 could not run.

use crate::probe::{DEFAULT_MAX_CONNECTIONS, ProbeConfig, Prober};
use crate::report::scan::{ScanDocument, ScanFailure, render_human, render_json};
use crate::report::style::Style;
use crate::scan::{ScanContext, scan_server};
use crate::target::{self, ResolveOptions, ResolvedTarget, TargetSpec};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::time::Duration;

/// Exit code: the command could not run (bad input, unreachable, not TLS).
pub const EXIT_CANNOT_RUN: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "tlsdoctor",
    version,
    about = "Why does this TLS connection fail, and what exactly do I change?",
    long_about = "tlsdoctor probes TLS servers, explains why clients fail to connect, and says what to change."
)]
struct Cli {
    /// When to use colour in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
enum Command {
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
}

#[derive(Args, Debug)]
struct LabArgs {
    /// Loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    listen: std::net::IpAddr,
    /// First port; endpoints take consecutive ports (0: any free ports).
    #[arg(long, default_value_t = 0)]
    base_port: u16,
    /// Write the lab root CA (and a client certificate) to this directory.
    #[arg(long, value_name = "DIR")]
    write_ca: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Print JSON instead of human output.
    #[arg(long)]
    json: bool,
    /// Deadline in seconds for each connection.
    #[arg(long, value_name = "SECS", default_value_t = 5.0, value_parser = parse_timeout)]
    timeout: f64,
}

#[derive(Args, Debug)]
struct CaptureArgs {
    /// Address to listen on, e.g. 127.0.0.1:4433; point the client at it.
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,
    /// Profile id to write (what `--client` will accept).
    #[arg(long, default_value = "captured")]
    id: String,
    /// Human name with version, e.g. "Node.js 20.19 (tls.connect)".
    #[arg(long)]
    name: Option<String>,
    /// The TLS library behind the client, e.g. "OpenSSL 3.0.15 (bundled)".
    #[arg(long)]
    library: Option<String>,
    /// Error style in data/client-errors.toml (python, openssl-cli, curl, node, java, gnutls, …).
    #[arg(long)]
    style: Option<String>,
    /// The command line that produced the hello, recorded in the profile's source.
    #[arg(long, value_name = "TEXT")]
    command: Option<String>,
    /// Write the profile here instead of to standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<std::path::PathBuf>,
    /// Seconds to wait for a client to connect.
    #[arg(long, value_name = "SECS", default_value_t = 60.0, value_parser = parse_timeout)]
    wait: f64,
}

#[derive(Args, Debug)]
struct SimulateArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Which clients: a profile id or alias, `all` (every profile, including the recorded
    /// clients of data/clients-testssl), or by default this machine's clients plus the
    /// recorded clients still in common use. Repeatable.
    #[arg(long = "client", value_name = "NAME|all")]
    clients: Vec<String>,
    /// CA bundle the clients trust instead of the system store (for private CAs).
    #[arg(long, value_name = "FILE")]
    cafile: Option<std::path::PathBuf>,
    /// Print JSON instead of human output.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct CheckArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// The client that fails: a profile (python, openssl, curl, …) or a path to a local
    /// interpreter/tool, whose real settings on this machine then drive the diagnosis.
    #[arg(long, value_name = "NAME|PATH")]
    client: Option<String>,
    /// The error message you saw; the report leads with the finding that explains it.
    #[arg(long, value_name = "TEXT")]
    error: Option<String>,
    /// CA bundle your client trusts (default: the system store; mongodb:// tlsCAFile is used too).
    #[arg(long, value_name = "FILE")]
    cafile: Option<std::path::PathBuf>,
    /// Client certificate to present (PEM).
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<std::path::PathBuf>,
    /// Private key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<std::path::PathBuf>,
    /// Write the artefacts the fixes need (full chain, OpenSSL client configs, server
    /// snippets) into this directory.
    #[arg(long, value_name = "DIR")]
    write_fixes: Option<std::path::PathBuf>,
    /// Certificate(s) (PEM) to complete the server's chain with, e.g. the missing intermediate.
    #[arg(long, value_name = "FILE")]
    intermediate: Vec<std::path::PathBuf>,
    /// With --write-fixes: download a missing intermediate from the AIA caIssuers URL written
    /// in the server's certificate (plain HTTP, that URL only).
    #[arg(long, requires = "write_fixes")]
    fetch_intermediate: bool,
    /// Also ask the OCSP responder named in the server's certificate (AIA), even when the
    /// server staples a response. Without it the responder is asked only when nothing is
    /// stapled. Only that URL is contacted (plain HTTP, no redirects followed).
    #[arg(long)]
    ocsp_query: bool,
    /// Print JSON (schema: docs/json.md) instead of human output.
    #[arg(long)]
    json: bool,
}

/// Read every certificate in PEM files, with a one-line error naming a bad file.
fn read_pem_certs(paths: &[std::path::PathBuf]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for p in paths {
        let text = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        let blocks =
            pem::parse_many(&text).map_err(|e| format!("{} is not PEM: {e}", p.display()))?;
        let certs: Vec<Vec<u8>> = blocks
            .into_iter()
            .filter(|b| b.tag() == "CERTIFICATE")
            .map(|b| b.into_contents())
            .collect();
        if certs.is_empty() {
            return Err(format!("{} holds no certificate", p.display()));
        }
        out.extend(certs);
    }
    Ok(out)
}

#[derive(Args, Debug)]
struct ExplainArgs {
    /// The error text, as the client printed it (quote it).
    #[arg(required = true, num_args = 1..)]
    text: Vec<String>,
    /// Print JSON instead of human output.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct EnvArgs {
    /// Also inspect this Python interpreter (e.g. a virtualenv's bin/python); repeatable.
    #[arg(long = "python", value_name = "PATH")]
    pythons: Vec<std::path::PathBuf>,
    /// Print JSON instead of human output.
    #[arg(long)]
    json: bool,
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
    /// Maximum simultaneous connections to one server.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS,
          value_parser = parse_max_connections)]
    pub max_connections: usize,
}

#[derive(Args, Debug)]
struct ScanArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Check stapled OCSP responses and ask the OCSP responder named in the server's certificate (AIA). Only that URL is contacted (plain HTTP, no redirects followed).
    #[arg(long)]
    ocsp_query: bool,
    /// Print JSON (schema: docs/json.md) instead of human output.
    #[arg(long)]
    json: bool,
}

fn parse_dns_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    s.parse::<std::net::IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("'{s}' is not an IP address or IP:port"))
}

fn parse_max_connections(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(v) if (1..=256).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a whole number from 1 to 256")),
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

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_CANNOT_RUN } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let style = match cli.color {
        ColorChoice::Auto => Style::auto(),
        ColorChoice::Always => Style { color: true },
        ColorChoice::Never => Style::plain(),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    rt.block_on(async move {
        match cli.command {
            Command::Check(args) => run_check(args, style).await,
            Command::Scan(args) => run_scan(args, style).await,
            Command::Explain(args) => run_explain(args, style),
            Command::Env(args) => run_env(args, style).await,
            Command::Lab(args) => run_lab(args, style).await,
            Command::Demo(args) => run_demo(args.json, args.timeout, style).await,
            Command::CaptureClient(args) => run_capture(args).await,
            Command::Simulate(args) => run_simulate(args, style).await,
        }
    })
}

/// Print a one-line error and return the "could not run" exit code.
pub fn fail(msg: &str) -> i32 {
    eprintln!("tlsdoctor: error: {msg}");
    EXIT_CANNOT_RUN
}

impl ConnectArgs {
    pub fn probe_config(&self) -> ProbeConfig {
        let mut cfg = ProbeConfig::with_timeout(Duration::from_secs_f64(self.timeout));
        cfg.max_connections = self.max_connections;
        cfg
    }

    pub fn resolve_options(&self) -> ResolveOptions {
        ResolveOptions {
            dns: self.dns,
            sni: self.sni.clone(),
            no_sni: self.no_sni,
            all_addresses: self.all_addresses,
            timeout: Duration::from_secs_f64(self.timeout),
        }
    }

    /// Parse and resolve the target; a one-line error message on failure.
    pub async fn resolve(&self) -> Result<(TargetSpec, Vec<ResolvedTarget>), String> {
        let input = self.target.as_deref().ok_or("a TARGET is required")?;
        let spec = target::parse(input).map_err(|e| e.to_string())?;
        let resolved = target::resolve(&spec, &self.resolve_options())
            .await
            .map_err(|e| e.to_string())?;
        Ok((spec, resolved))
    }
}

async fn run_scan(args: ScanArgs, style: Style) -> i32 {
    let (spec, targets) = match args.connect.resolve().await {
        Ok(x) => x,
        Err(e) => return fail(&e),
    };
    let mut doc = ScanDocument::new(args.connect.target.as_deref().unwrap_or_default());
    doc.notes = spec.notes.clone();
    let cfg = args.connect.probe_config();
    let mut jobs = Vec::new();
    for (label, resolved, ctx) in contexts(&targets, &cfg) {
        let ocsp_query = args.ocsp_query;
        jobs.push(async move {
            let res = scan_server(&ctx, label.clone(), resolved).await;
            let ocsp = match (&res, ocsp_query) {
                (Ok(s), true) => {
                    crate::ocsp::check::for_server(
                        ctx.prober.addr(),
                        ctx.sni.as_deref(),
                        Some(s),
                        crate::ocsp::QueryPolicy::Always,
                        ctx.prober.config().probe_timeout,
                    )
                    .await
                }
                _ => None,
            };
            (label, ctx.prober.addr(), res, ocsp)
        });
    }
    doc.ocsp_query = args.ocsp_query;
    for (label, addr, res, ocsp) in futures::future::join_all(jobs).await {
        match res {
            Ok(mut s) => {
                s.ocsp = ocsp;
                doc.servers.push(s)
            }
            Err(e) => doc.errors.push(ScanFailure {
                target: label,
                address: Some(addr.to_string()),
                error: e.to_string(),
            }),
        }
    }
    if args.json {
        println!("{}", render_json(&doc));
    } else {
        print!("{}", render_human(&doc, style));
    }
    report_errors(&doc.errors);
    if doc.servers.is_empty() {
        return EXIT_CANNOT_RUN;
    }
    0
}

fn run_explain(args: ExplainArgs, style: Style) -> i32 {
    let text = args.text.join(" ");
    let e = crate::explain::explain(&text);
    if args.json {
        println!("{}", to_json(&e));
    } else {
        print!(
            "{}",
            crate::report::explain::render_explanation(&e, style.color)
        );
    }
    0
}

async fn run_env(args: EnvArgs, style: Style) -> i32 {
    let opts = crate::env::EnvOptions {
        pythons: args.pythons,
        ..Default::default()
    };
    let report = crate::env::inspect(&opts).await;
    if args.json {
        println!("{}", to_json(&report));
    } else {
        print!("{}", crate::report::env::render_env(&report, style.color));
    }
    0
}

/// Pretty JSON with the schema stamp merged in at the top level.
pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    let mut v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(map) = &mut v {
        if !map.contains_key("schema_version") {
            map.insert(
                "schema_version".into(),
                crate::report::JSON_SCHEMA_VERSION.into(),
            );
        }
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// Exit code: the check ran and found problems of severity error.
pub const EXIT_FINDINGS: i32 = 1;

/// The profile a local client path or name corresponds to.
fn profile_kind_for_local(stack: &crate::env::ClientStack) -> &'static str {
    match stack.kind.as_str() {
        "python" => "python",
        "curl" => "curl",
        _ => "openssl",
    }
}

async fn run_check(args: CheckArgs, style: Style) -> i32 {
    if args.connect.target.is_none() {
        return run_demo(args.json, args.connect.timeout, style).await;
    }
    let (spec, targets) = match args.connect.resolve().await {
        Ok(x) => x,
        Err(e) => return fail(&e),
    };
    let mut opts = crate::doctor::CheckOptions {
        client: args.client.clone(),
        error: args.error.clone(),
        cafile: args.cafile.clone(),
        cert: args.cert.clone(),
        key: args.key.clone(),
        ocsp_query: args.ocsp_query,
    };
    if opts.cafile.is_none() {
        opts.cafile = spec.mongo.as_ref().and_then(|m| m.ca_file.clone());
    }
    if let Some(path) = &opts.cafile {
        if let Err(e) = crate::cert::stores::from_file(path) {
            return fail(&e.to_string());
        }
    }
    if let (Some(cert), Some(key)) = (&opts.cert, &opts.key) {
        if let Err(e) = crate::cert::fetch::load_client_key(cert, key) {
            return fail(&e);
        }
    }
    let extra_certs = match read_pem_certs(&args.intermediate) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    // A client named by path, or a profile that also lives on this machine, is measured
    // here so its real configuration drives the diagnosis.
    let mut local = None;
    let mut profile_name = args.client.clone();
    if let Some(name) = &args.client {
        let is_path = name.contains('/');
        if is_path || crate::clients::find_profile(name).is_some() {
            let env_opts = crate::env::EnvOptions::default();
            local = crate::env::local_client(name, &env_opts).await;
            if is_path {
                match &local {
                    Some(stack) => profile_name = Some(profile_kind_for_local(stack).to_string()),
                    None => return fail(&format!("no TLS client found at '{name}'")),
                }
            }
        }
    }
    let profiles = match crate::doctor::profiles_for(profile_name.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let mut doc = crate::report::check::CheckDocument::new(
        args.connect.target.as_deref().unwrap_or_default(),
        args.client.clone(),
    );
    doc.notes = spec.notes.clone();
    let cfg = args.connect.probe_config();
    let mut jobs = Vec::new();
    for (label, resolved, ctx) in contexts(&targets, &cfg) {
        let (label, resolved, opts, profiles, local) = (
            label,
            resolved,
            opts.clone(),
            profiles.clone(),
            local.clone(),
        );
        jobs.push(async move {
            let ev =
                crate::doctor::gather(&ctx, label.clone(), resolved, &opts, profiles, local).await;
            (
                label,
                ctx.prober.addr(),
                ev.map(|e| crate::doctor::diagnose(e, &opts)),
            )
        });
    }
    for (label, addr, res) in futures::future::join_all(jobs).await {
        match res {
            Ok(d) => doc.diagnoses.push(d),
            Err(e) => doc.errors.push(ScanFailure {
                target: label,
                address: Some(addr.to_string()),
                error: e,
            }),
        }
    }
    if let Some(dir) = &args.write_fixes {
        let anchors = crate::doctor::fixes::anchor_subjects(opts.cafile.as_deref());
        let many = doc.diagnoses.len() > 1;
        for d in &doc.diagnoses {
            let sub = if many {
                dir.join(d.address.replace([':', '[', ']'], "_"))
            } else {
                dir.clone()
            };
            let mut extra = extra_certs.clone();
            if args.fetch_intermediate {
                let chain = d
                    .evidence
                    .as_ref()
                    .map(|e| e.chain_der.clone())
                    .unwrap_or_default();
                let timeout = Duration::from_secs_f64(args.connect.timeout);
                let (have, notes) =
                    crate::doctor::fixes::fetch_missing_issuers(&chain, extra, &anchors, timeout)
                        .await;
                extra = have;
                doc.notes.extend(notes);
            }
            match crate::doctor::fixes::write_fixes(d, &sub, &extra, &anchors) {
                Ok(w) => doc.fixes_written.extend(w),
                Err(e) => return fail(&e),
            }
        }
    }
    if args.json {
        println!("{}", to_json(&doc));
    } else {
        print!("{}", crate::report::check::render_human(&doc, style));
    }
    report_errors(&doc.errors);
    if doc.diagnoses.is_empty() {
        return EXIT_CANNOT_RUN;
    }
    if doc.diagnoses.iter().any(|d| d.has_errors()) {
        EXIT_FINDINGS
    } else {
        0
    }
}

/// One probe context per address to examine, with its "host:port" label and every address
/// the name resolved to.
fn contexts(
    targets: &[ResolvedTarget],
    cfg: &ProbeConfig,
) -> Vec<(String, Vec<String>, ScanContext)> {
    let mut out = Vec::new();
    for t in targets {
        let resolved: Vec<String> = t.addresses.iter().map(|a| a.to_string()).collect();
        for addr in &t.probe {
            let ctx = ScanContext {
                prober: Prober::new(*addr, cfg.clone()),
                sni: t.sni.clone(),
            };
            out.push((t.label(), resolved.clone(), ctx));
        }
    }
    out
}

/// One line on stderr per target that could not be examined.
fn report_errors(errors: &[ScanFailure]) {
    for e in errors {
        eprintln!("tlsdoctor: error: {}", e.error);
    }
}

async fn run_demo(json: bool, timeout: f64, style: Style) -> i32 {
    match crate::demo::run(Duration::from_secs_f64(timeout)).await {
        Ok(demo) => {
            if json {
                println!("{}", to_json(&demo));
            } else {
                print!("{}", crate::report::demo::render(&demo, style));
            }
            if demo.rows.iter().all(|r| r.correct) {
                0
            } else {
                EXIT_FINDINGS
            }
        }
        Err(e) => fail(&e),
    }
}

async fn run_lab(args: LabArgs, style: Style) -> i32 {
    let opts = crate::lab::LabOptions {
        listen: args.listen,
        base_port: args.base_port,
        write_ca: args.write_ca,
    };
    let lab = match crate::lab::Lab::start(&opts).await {
        Ok(l) => l,
        Err(e) => return fail(&e.to_string()),
    };
    println!(
        "{}",
        style.bold("tlsdoctor lab: one misconfigured TLS server per failure mode")
    );
    print!("{}", crate::lab::render_table(&lab));
    if let Some(p) = &lab.root_ca_path {
        println!(
            "\nlab root CA written to {} (trust it with --cafile / SSL_CERT_FILE)",
            p.display()
        );
    }
    println!("\nPress Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    drop(lab);
    0
}

async fn run_capture(args: CaptureArgs) -> i32 {
    let listener = match crate::capture::listen(args.listen).await {
        Ok(l) => l,
        Err(e) => return fail(&e.to_string()),
    };
    let bound = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    eprintln!("tlsdoctor: listening on {bound}; point the client at it");
    let captured = match crate::capture::capture_one(
        &listener,
        Duration::from_secs_f64(args.wait),
        Duration::from_secs(10),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let info = crate::capture::SkeletonInfo {
        id: args.id,
        name: args.name,
        library: args.library,
        style: args.style,
        command: args.command,
        date: crate::capture::today(),
    };
    let text = crate::capture::profile_skeleton(&captured, &info);
    match &args.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                return fail(&format!("cannot write {}: {e}", path.display()));
            }
            eprintln!(
                "tlsdoctor: recorded a {}-byte ClientHello from {}; profile written to {}",
                captured.records.len(),
                captured.peer,
                path.display()
            );
        }
        None => print!("{text}"),
    }
    0
}

async fn run_simulate(args: SimulateArgs, style: Style) -> i32 {
    let profiles = match crate::clients::select_profiles(&args.clients) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    if let Some(path) = &args.cafile {
        if let Err(e) = crate::cert::stores::from_file(path) {
            return fail(&e.to_string());
        }
    }
    let (spec, targets) = match args.connect.resolve().await {
        Ok(x) => x,
        Err(e) => return fail(&e),
    };
    let opts = crate::doctor::CheckOptions {
        cafile: args.cafile.clone(),
        ..Default::default()
    };
    let mut doc = crate::report::simulate::SimulateDocument::new(
        args.connect.target.as_deref().unwrap_or_default(),
    );
    doc.notes = spec.notes.clone();
    let cfg = args.connect.probe_config();
    let mut jobs = Vec::new();
    for (label, resolved, ctx) in contexts(&targets, &cfg) {
        let (label, resolved, opts, profiles) = (label, resolved, opts.clone(), profiles.clone());
        jobs.push(async move {
            let ev =
                crate::doctor::gather(&ctx, label.clone(), resolved, &opts, profiles, None).await;
            (label, ctx.prober.addr(), ev)
        });
    }
    for (label, addr, res) in futures::future::join_all(jobs).await {
        match res {
            Ok(ev) => doc
                .servers
                .push(crate::report::simulate::SimulatedServer::from_evidence(&ev)),
            Err(e) => doc.errors.push(ScanFailure {
                target: label,
                address: Some(addr.to_string()),
                error: e,
            }),
        }
    }
    if args.json {
        println!("{}", to_json(&doc));
    } else {
        print!("{}", crate::report::simulate::render_human(&doc, style));
    }
    report_errors(&doc.errors);
    if doc.servers.is_empty() {
        return EXIT_CANNOT_RUN;
    }
    0
}
