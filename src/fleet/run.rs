//! The fleet engine: read targets as a stream, run a bounded number at once, write each
//! one's line as it finishes. Memory is bounded by the concurrency, not the input's length:
//! the reader stays at most a small queue ahead of the running targets.

use super::input::{InputTarget, MAX_LINE_BYTES, key, target_of};
use super::line::TargetError;
use super::line::{ErrorKind, FleetCommand, FleetLine, LINE_SCHEMA_VERSION, LineStatus};
use super::shard::Shard;
use futures::StreamExt;
use serde::Serialize;
use std::collections::HashSet;
use std::future::Future;
use std::io::{BufRead, Write};

/// Which targets of the input to run.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only the targets of this shard.
    pub shard: Option<Shard>,
    /// Keys already done (`--resume`): skipped.
    pub done: HashSet<String>,
}

impl Filter {
    pub fn keeps(&self, key: &str) -> bool {
        self.shard.is_none_or(|s| s.keeps(key)) && !self.done.contains(key)
    }
}

/// Told about the run as it goes (the progress bar).
pub trait Watcher {
    /// A target's line was written.
    fn finished(&mut self, _status: LineStatus) {}
}

/// Watches nothing.
pub struct Quiet;
impl Watcher for Quiet {}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunCount {
    /// Lines written.
    pub written: u64,
    /// Of them, with status `error`.
    pub failed: u64,
    /// Targets left out by the shard or because `--resume` found them done.
    pub skipped: u64,
}

/// One item the reader hands on.
enum Item {
    Target(InputTarget),
    /// A line longer than [`MAX_LINE_BYTES`] or not UTF-8: an error line of its own.
    Unreadable {
        line: u64,
        why: String,
    },
}

/// Read `input` on a thread of its own (it may be a pipe that blocks), keep what `filter`
/// keeps, run `job` on up to `concurrency` targets at once, and write each line to `out`
/// (flushed at once) as its target finishes. Returns when the input is exhausted and every
/// target has its line, or at the first write error.
pub async fn run<D, F, Fut>(
    input: Box<dyn BufRead + Send>,
    filter: Filter,
    concurrency: usize,
    command: FleetCommand,
    job: F,
    out: &mut dyn Write,
    watcher: &mut dyn Watcher,
) -> std::io::Result<RunCount>
where
    D: Serialize,
    F: Fn(InputTarget) -> Fut,
    Fut: Future<Output = FleetLine<D>>,
{
    let concurrency = concurrency.max(1);
    // A small queue: the reader may be this far ahead of the running targets, no more.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Item>(concurrency.min(1024));
    let reader = std::thread::spawn(move || read_targets(input, &filter, &tx));
    let items = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut count = RunCount::default();
    let mut lines = items
        .map(|item| match item {
            Item::Target(t) => futures::future::Either::Left(job(t)),
            Item::Unreadable { line, why } => {
                futures::future::Either::Right(std::future::ready(error_line(
                    command,
                    line,
                    String::new(),
                    TargetError {
                        kind: ErrorKind::Parse,
                        message: why,
                    },
                )))
            }
        })
        .buffer_unordered(concurrency);
    while let Some(line) = lines.next().await {
        out.write_all(line.to_json_line().as_bytes())?;
        out.write_all(b"\n")?;
        out.flush()?;
        count.written += 1;
        if line.status == LineStatus::Error {
            count.failed += 1;
        }
        watcher.finished(line.status);
    }
    count.skipped = reader.join().unwrap_or(0);
    Ok(count)
}

/// The reader thread: every kept target, in input order; returns how many were skipped.
fn read_targets(
    mut input: Box<dyn BufRead + Send>,
    filter: &Filter,
    tx: &tokio::sync::mpsc::Sender<Item>,
) -> u64 {
    let mut skipped = 0;
    let mut number = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        number += 1;
        let item = match read_line_bounded(&mut input, &mut buf) {
            Ok(None) => break,
            Err(e) => Item::Unreadable {
                line: number,
                why: format!("cannot read the input: {e}"),
            },
            Ok(Some(true)) => Item::Unreadable {
                line: number,
                why: format!("line {number} is longer than {MAX_LINE_BYTES} bytes"),
            },
            Ok(Some(false)) => match std::str::from_utf8(&buf) {
                Err(_) => Item::Unreadable {
                    line: number,
                    why: format!("line {number} is not UTF-8"),
                },
                Ok(text) => match target_of(number, text) {
                    None => continue,
                    Some(t) if !filter.keeps(&t.key) => {
                        skipped += 1;
                        continue;
                    }
                    Some(t) => Item::Target(t),
                },
            },
        };
        let stop = matches!(&item, Item::Unreadable { why, .. } if why.starts_with("cannot read"));
        if tx.blocking_send(item).is_err() || stop {
            break;
        }
    }
    skipped
}

/// One line into `buf` without its newline, at most [`MAX_LINE_BYTES`] kept: `None` at the
/// end of the input, `Some(true)` when the line was longer (the rest is read and dropped).
fn read_line_bounded(input: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(any.then_some(too_long));
        }
        any = true;
        let (part, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        let room = MAX_LINE_BYTES.saturating_sub(buf.len());
        if part.len() > room {
            too_long = true;
        }
        buf.extend_from_slice(&part[..part.len().min(room)]);
        let used = done.unwrap_or(chunk.len());
        input.consume(used);
        if done.is_some() {
            return Ok(Some(too_long));
        }
    }
}

/// The line of a target that produced no document.
pub fn error_line<D>(
    command: FleetCommand,
    line: u64,
    target: String,
    error: TargetError,
) -> FleetLine<D> {
    FleetLine {
        fleet_line: LINE_SCHEMA_VERSION,
        command,
        line,
        key: key(&target),
        target,
        status: LineStatus::Error,
        error: Some(error),
        backoff: None,
        finished_at: unix_now(),
        elapsed_ms: 0,
        document: None,
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
