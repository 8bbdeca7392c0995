//! The results store on the command line: `--db FILE` on `scan` and `check`, and
//! `tlsdoctor fleet import|summary|diff|runs` (variants of `args::Fleet`).

use super::{EXIT_CANNOT_RUN, fail};
use clap::Args;
use std::path::PathBuf;
use tlsdoctor::fleet::line::TargetError;
use tlsdoctor::fleet::store::{
    NewRun, RecordingWriter, RunId, RunSelector, Store, import_files, now_unix,
};
use tlsdoctor::report::fleet_store as render;
use tlsdoctor::report::style::Style;
use tlsdoctor::report::to_json;

/// `--db` and `--run-label` of `scan` and `check`.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Record the run and every target's result in this SQLite results store (created if
    /// missing); query it with `tlsdoctor fleet summary|diff`.
    #[arg(long, value_name = "FILE.sqlite")]
    pub db: Option<PathBuf>,
    /// With --db: name the run; a run of that name already in the store is added to (shard
    /// workers of one fleet run share one label).
    #[arg(long, value_name = "LABEL", requires = "db")]
    pub run_label: Option<String>,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// JSON Lines files (`scan -i` / `check -i` output, one per shard), or single `--json` documents one per line.
    #[arg(required = true, value_name = "FILE.jsonl")]
    pub files: Vec<PathBuf>,
    /// The results store (created if missing).
    #[arg(long, value_name = "FILE.sqlite")]
    pub db: PathBuf,
    /// Name the run; importing into a label that exists adds to that run (target by target,
    /// the newest line for a target wins).
    #[arg(long, value_name = "LABEL")]
    pub run_label: Option<String>,
    /// Print JSON instead of human output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct SummaryArgs {
    #[arg(long, value_name = "FILE.sqlite")]
    pub db: PathBuf,
    /// The run: its number, its label, `latest` or `previous`.
    #[arg(long, value_name = "ID|LABEL|latest", default_value = "latest")]
    pub run: RunSelector,
    /// List certificates that expire within this many days (expired ones included).
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub expiring_days: u32,
    /// Print JSON instead of human output (docs/json.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The earlier run: number, label, `latest` or `previous`.
    pub run_a: RunSelector,
    /// The later run.
    pub run_b: RunSelector,
    #[arg(long, value_name = "FILE.sqlite")]
    pub db: PathBuf,
    /// Print JSON instead of human output (docs/json.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RunsArgs {
    #[arg(long, value_name = "FILE.sqlite")]
    pub db: PathBuf,
    /// Print JSON instead of human output.
    #[arg(long)]
    pub json: bool,
}

/// An open store with the run that a single `scan`/`check` records into.
pub struct Recording {
    store: Store,
    run: RunId,
}

/// Open the store and begin the run before anything is measured, so a store that cannot
/// be written stops the command at once (exit 2).
pub fn begin(args: &StoreArgs, command: &str) -> Result<Option<Recording>, i32> {
    let Some(path) = &args.db else {
        return Ok(None);
    };
    let mut store = Store::open(path).map_err(|e| fail(&e.to_string()))?;
    let mut new = NewRun::this_process(command);
    new.label = args.run_label.clone();
    let run = store.begin_run(&new).map_err(|e| fail(&e.to_string()))?;
    Ok(Some(Recording { store, run }))
}

/// With `--db`, wrap the JSON Lines sink of a `-i` run so that every line is recorded in
/// one run of the store as it is written; the run is finished when the sink is dropped.
pub fn record_lines(
    args: &StoreArgs,
    command: &str,
    shard: Option<tlsdoctor::fleet::Shard>,
    sink: &mut Box<dyn std::io::Write>,
) -> Result<(), i32> {
    let Some(path) = &args.db else {
        return Ok(());
    };
    let mut store = Store::open(path).map_err(|e| fail(&e.to_string()))?;
    let mut new = NewRun::this_process(command);
    new.label = args.run_label.clone();
    new.shard = shard.map(|s| s.to_string());
    let run = store.begin_run(&new).map_err(|e| fail(&e.to_string()))?;
    let inner = std::mem::replace(sink, Box::new(std::io::sink()));
    *sink = Box::new(RecordingWriter::new(inner, store, run));
    Ok(())
}

impl Recording {
    /// Record the command's document with its error as a fleet line types it (`error_kind`,
    /// the same as `scan -i` would store), or, when it stopped before one, the target and
    /// its error; and finish the run.
    pub fn finish<D: serde::Serialize>(
        mut self,
        result: Result<(&D, Option<TargetError>), (&str, TargetError)>,
    ) -> Result<(), i32> {
        let record = match result {
            Ok((doc, error)) => {
                let mut value = serde_json::to_value(doc).unwrap_or_default();
                if let (Some(e), Some(map)) = (error, value.as_object_mut()) {
                    map.insert("error".into(), serde_json::json!(e));
                }
                value
            }
            Err((target, error)) => serde_json::json!({
                "input": target,
                "servers": [],
                "errors": [{"target": target, "address": null, "error": error.message}],
                "error": error,
            }),
        };
        self.store
            .record_target(self.run, &record)
            .and_then(|()| self.store.finish_run(self.run))
            .map_err(|e| fail(&e.to_string()))
    }
}

pub fn import(args: ImportArgs, style: Style) -> i32 {
    let mut store = match Store::open(&args.db) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let arguments = std::env::args().skip(1).collect();
    let report = match import_files(
        &mut store,
        &args.files,
        args.run_label.as_deref(),
        arguments,
    ) {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string()),
    };
    if args.json {
        println!("{}", to_json(&report));
    } else {
        print!("{}", render::render_import(&report, style));
    }
    // Nothing read is a failed import (the wrong file, most likely).
    if report.lines == 0 && report.skipped_count > 0 {
        EXIT_CANNOT_RUN
    } else {
        0
    }
}

pub fn summary(args: SummaryArgs, style: Style) -> i32 {
    let result = Store::open_existing(&args.db).and_then(|store| {
        let run = store.resolve(&args.run)?;
        store.summary(run, args.expiring_days, now_unix())
    });
    match result {
        Ok(s) if args.json => println!("{}", to_json(&s)),
        Ok(s) => print!("{}", render::render_summary(&s, style)),
        Err(e) => return fail(&e.to_string()),
    }
    0
}

pub fn diff(args: DiffArgs, style: Style) -> i32 {
    let result = Store::open_existing(&args.db).and_then(|store| {
        let (a, b) = (store.resolve(&args.run_a)?, store.resolve(&args.run_b)?);
        store.diff(a, b)
    });
    match result {
        Ok(d) if args.json => println!("{}", to_json(&d)),
        Ok(d) => print!("{}", render::render_diff(&d, style)),
        Err(e) => return fail(&e.to_string()),
    }
    0
}

pub fn runs(args: RunsArgs, style: Style) -> i32 {
    match Store::open_existing(&args.db).and_then(|s| s.runs()) {
        Ok(r) if args.json => println!("{}", to_json(&r)),
        Ok(r) => print!("{}", render::render_runs(&r, style)),
        Err(e) => return fail(&e.to_string()),
    }
    0
}
