//! Command-line front end: parse arguments ([`args`]), call the library, render, pick the
//! exit code ([`commands`]). It uses only the library's public API.
//! Exit codes: 0 ran (and, for `check`, healthy), 1 findings of severity error that make
//! connections fail, 2 could not run, 3 the run's deadline cut it short (what was learned is
//! printed, marked partial), 4 (`check`) a security problem only: clients connect but the
//! certificate must not be trusted (revoked).

mod args;
mod commands;
mod fleet;
mod fleet_store;
mod progress;

use args::{Cli, ColorChoice, Command};
use clap::Parser;
use tlsdoctor::report::style::Style;

/// Exit code: the check ran and found problems of severity error.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: the command could not run (bad input, unreachable, not TLS).
pub const EXIT_CANNOT_RUN: i32 = 2;
/// Exit code: the run's deadline was reached; the output is partial.
pub const EXIT_PARTIAL: i32 = 3;
/// Exit code: `check` found a security problem (a revoked certificate) and nothing that makes
/// connections fail: clients that do not check revocation connect.
pub const EXIT_SECURITY: i32 = 4;
/// `--profile` was given and a server does not comply with it (and nothing above applies).
pub const EXIT_NONCOMPLIANT: i32 = 5;

/// The soft limit of open files the binary asks for (at most the hard limit).
const OPEN_FILES_WANTED: u64 = 65_536;

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
    // Each far server may hold FAR_MAX_CONNECTIONS (64) connections open at once, so a fleet
    // run at --concurrency 32 can need 2048 sockets: past the soft limit of 1024 open files
    // that many shells start with. Raised towards the hard limit; where it cannot be, the
    // connections past it fail as connect errors and the cap falls back.
    let _ = rlimit::increase_nofile_limit(OPEN_FILES_WANTED);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    rt.block_on(async move {
        match cli.command {
            Command::Check(args) => match args.fleet.input.clone() {
                Some(input) => fleet::check(args, input).await,
                None => commands::check(args, style).await,
            },
            Command::Scan(args) => match args.fleet.input.clone() {
                Some(input) => fleet::scan(args, input).await,
                None => commands::scan(args, style).await,
            },
            Command::Explain(args) => commands::explain(args, style),
            Command::Env(args) => commands::env(args, style).await,
            Command::Lab(args) => commands::lab(args, style).await,
            Command::Demo(args) => commands::demo(args.json, args.timeout, style).await,
            Command::CaptureClient(args) => commands::capture(args).await,
            Command::Simulate(args) => commands::simulate(args, style).await,
            Command::Watch(args) => commands::watch(args, style).await,
            Command::Fleet(args) => commands::fleet(args, style),
        }
    })
}

/// Print a one-line error and return the "could not run" exit code. The message may quote
/// a peer (a banner, an alert, a name), so it is escaped like any peer text.
fn fail(msg: &str) -> i32 {
    eprintln!("tlsdoctor: error: {}", tlsdoctor::escape::escape(msg));
    EXIT_CANNOT_RUN
}
