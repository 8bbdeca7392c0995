//! `scan -i FILE` / `check -i FILE`: the fleet options, and the run that writes one JSON
//! line per target (the engine is `tlsdoctor::fleet`); and `--checks` for `scan`.

use super::args::{CheckArgs, Format, OutputArgs, ScanArgs};
use super::fail;
use clap::Args;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tlsdoctor::fleet::run::{Filter, RunCount};
use tlsdoctor::fleet::{FleetCommand, Shard};
use tlsdoctor::pipeline::ScanRequest;
use tlsdoctor::probe::RateLimit;
use tlsdoctor::scan::Selection;

/// Targets in flight at once by default.
pub const DEFAULT_CONCURRENCY: usize = 32;

#[derive(Args, Debug)]
pub struct FleetArgs {
    /// Read targets from FILE (`-` for standard input), one per line (`#` comments and
    /// blank lines allowed), and print JSON Lines: one object per target as it finishes
    /// (docs/json.md, "Fleet runs").
    #[arg(
        short = 'i',
        long = "input",
        value_name = "FILE|-",
        conflicts_with = "target"
    )]
    pub input: Option<PathBuf>,
    /// With -i: targets examined at once (each still under --max-connections).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY,
          value_parser = parse_concurrency, requires = "input")]
    pub concurrency: usize,
    /// With -i: skip the targets already in OUT.jsonl and append the new lines to it.
    #[arg(
        long,
        value_name = "OUT.jsonl",
        requires = "input",
        conflicts_with = "output"
    )]
    pub resume: Option<PathBuf>,
    /// With --resume: run again the targets whose only lines are errors (resolve, connect,
    /// not TLS, deadline, …); a target line that does not parse is not retried. `fleet
    /// merge` and the store keep the later result.
    #[arg(long, requires = "resume")]
    pub retry_errors: bool,
    /// With -i: only shard I of N (0 ≤ I < N) by a stable hash of each target;
    /// `auto/N` reads I from JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID.
    #[arg(long, value_name = "I/N|auto/N", requires = "input",
          value_parser = |s: &str| Shard::parse(s, |v| std::env::var(v).ok()))]
    pub shard: Option<Shard>,
    /// At most N new connections per second overall (all targets together), e.g. 100/s.
    #[arg(long, value_name = "N/s", value_parser = RateLimit::parse)]
    pub rate: Option<f64>,
}

impl FleetArgs {
    pub fn rate_limit(&self) -> Option<Arc<RateLimit>> {
        self.rate.map(|r| Arc::new(RateLimit::per_second(r)))
    }
}

fn parse_concurrency(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(v) if (1..=4096).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a whole number from 1 to 4096")),
    }
}

/// What `scan --checks` selects: registry checks, and the two parts of a scan that are
/// not registry checks (the chain judgement and OCSP).
#[derive(Debug, Clone)]
pub struct ScanChecks {
    selection: Selection,
    certificate: bool,
    ocsp: bool,
}

impl ScanChecks {
    pub fn apply(&self, req: &mut ScanRequest) {
        req.connect.checks = Some(self.selection.clone());
        req.certificate = self.certificate || self.ocsp;
        req.ocsp_query |= self.ocsp;
    }

    /// The same for `check`, whose chain is always judged (a diagnosis rests on it).
    pub fn apply_check(&self, req: &mut tlsdoctor::pipeline::CheckRequest) {
        req.connect.checks = Some(self.selection.clone());
        req.ocsp_query |= self.ocsp;
    }
}

pub fn parse_scan_checks(s: &str) -> Result<ScanChecks, String> {
    let mut certificate = false;
    let mut ocsp = false;
    let mut registry = Vec::new();
    for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "certificate" => certificate = true,
            "ocsp" => ocsp = true,
            "default" => {
                certificate = true;
                registry.push(name);
            }
            _ => registry.push(name),
        }
    }
    let selection = Selection::parse(&registry.join(","))
        .map_err(|e| format!("{e}, certificate, ocsp, default"))?;
    Ok(ScanChecks {
        selection,
        certificate,
        ocsp,
    })
}

/// Where the lines go: stdout, `-o FILE` (created anew), or the `--resume` file (appended
/// to, after what it already holds has been read as done).
fn open_sink(
    out: &OutputArgs,
    resume: Option<&Path>,
    done: tlsdoctor::fleet::resume::Done,
) -> Result<(Box<dyn std::io::Write>, Filter), String> {
    if !matches!(out.format(), Format::Json | Format::Text) {
        return Err("-i prints JSON Lines; --format markdown or html needs one TARGET".into());
    }
    if let Some(path) = resume {
        let done = tlsdoctor::fleet::resume::done_keys(path, done)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot append to {}: {e}", path.display()))?;
        return Ok((Box::new(file), Filter { shard: None, done }));
    }
    let sink: Box<dyn std::io::Write> = match &out.output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    Ok((sink, Filter::default()))
}

fn open_input(path: &Path) -> Result<Box<dyn BufRead + Send>, String> {
    if path == Path::new("-") {
        return Ok(Box::new(BufReader::new(std::io::stdin())));
    }
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Box::new(BufReader::with_capacity(64 * 1024, f)))
}

/// Everything a fleet run needs before its first target.
struct Prepared {
    input: Box<dyn BufRead + Send>,
    sink: Box<dyn std::io::Write>,
    filter: Filter,
    progress: tlsdoctor::fleet::progress::Bar,
}

fn prepare(fleet: &FleetArgs, out: &OutputArgs, input: &Path) -> Result<Prepared, String> {
    let done = if fleet.retry_errors {
        tlsdoctor::fleet::resume::Done::Settled
    } else {
        tlsdoctor::fleet::resume::Done::Every
    };
    let (sink, mut filter) = open_sink(out, fleet.resume.as_deref(), done)?;
    filter.shard = fleet.shard;
    let reader = open_input(input)?;
    // A file can be counted ahead for the bar's ETA; standard input cannot.
    let total = (input != Path::new("-"))
        .then(|| tlsdoctor::fleet::progress::count_kept(input, &filter))
        .flatten();
    Ok(Prepared {
        input: reader,
        sink,
        filter,
        progress: tlsdoctor::fleet::progress::Bar::on_stderr(total),
    })
}

fn report(count: &RunCount) -> i32 {
    eprintln!(
        "tlsdoctor: {} target(s) done, {} failed, {} skipped (shard or --resume)",
        count.written, count.failed, count.skipped
    );
    0
}

/// `scan -i`.
pub async fn scan(mut args: ScanArgs, input: PathBuf) -> i32 {
    args.connect.target = Some(String::new());
    let template = match args.request() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let stores = match tlsdoctor::pipeline::scan_stores(&template.trust) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let shared = Shared {
        fleet: &args.fleet,
        output: &args.output,
        store: &args.store,
        input: &input,
        command: FleetCommand::Scan,
    };
    run_all(shared, |t| {
        tlsdoctor::fleet::jobs::scan_line(&template, &stores, t)
    })
    .await
}

/// `check -i`.
pub async fn check(mut args: CheckArgs, input: PathBuf) -> i32 {
    args.connect.target = Some(String::new());
    let template = match args.request() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let shared = Shared {
        fleet: &args.fleet,
        output: &args.output,
        store: &args.store,
        input: &input,
        command: FleetCommand::Check,
    };
    run_all(shared, |t| tlsdoctor::fleet::jobs::check_line(&template, t)).await
}

/// What `scan -i` and `check -i` share: the options of the run, not of one target.
struct Shared<'a> {
    fleet: &'a FleetArgs,
    output: &'a OutputArgs,
    store: &'a super::fleet_store::StoreArgs,
    input: &'a Path,
    command: FleetCommand,
}

/// Open the input and the sink, record the run in the store, run `job` on every target
/// and say how many were done.
async fn run_all<D, F, Fut>(shared: Shared<'_>, job: F) -> i32
where
    D: serde::Serialize,
    F: Fn(tlsdoctor::fleet::input::InputTarget) -> Fut,
    Fut: std::future::Future<Output = tlsdoctor::fleet::line::FleetLine<D>>,
{
    let mut p = match prepare(shared.fleet, shared.output, shared.input) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    if let Err(code) = super::fleet_store::record_lines(
        shared.store,
        shared.command.as_str(),
        shared.fleet.shard,
        &mut p.sink,
    ) {
        return code;
    }
    let result = tlsdoctor::fleet::run::run(
        p.input,
        p.filter,
        shared.fleet.concurrency,
        shared.command,
        job,
        &mut p.sink,
        &mut p.progress,
    )
    .await;
    p.progress.done();
    match result {
        Ok(count) => report(&count),
        Err(e) => fail(&format!("cannot write a result line: {e}")),
    }
}
