//! `tlsdoctor fleet import`: the JSON Lines of a fleet run (one file, or one per shard) into
//! the store as one run. A target is recorded once per run whatever the number of lines
//! naming it (the last one wins, as a resumed run's later line is the newer result), so
//! importing a file twice into the same labelled run changes nothing.

use super::extract::TargetRecord;
use super::{BATCH_TARGETS, NewRun, RunId, Store, StoreError};
use serde::Serialize;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// A line longer than this is skipped (a scan document is tens of KiB; a hostile server
/// can make one large, within the scanner's own bounds).
pub const MAX_LINE_BYTES: usize = 64 << 20;
/// A batch is written once its documents reach this size, whatever their number, so memory
/// stays bounded however large the lines.
const BATCH_BYTES: usize = 32 << 20;
/// Skipped lines listed in the report at most (all are counted).
const SKIPPED_LISTED: usize = 20;

/// What an import did (`fleet import --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    pub run: RunId,
    /// Whether the run existed before (same `--run-label`).
    pub appended: bool,
    pub files: Vec<String>,
    /// Lines recorded (a target named twice counts twice here, once in the run).
    pub lines: u64,
    /// Targets of the run after the import, and of them those that could not be examined.
    pub targets: u64,
    pub failed: u64,
    pub skipped_count: u64,
    /// The first skipped lines, with why.
    pub skipped: Vec<SkippedLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedLine {
    pub file: String,
    pub line: u64,
    pub error: String,
}

/// Import `files` as one run: the run labelled `label` if there is one (the files are added
/// to it), else a new run with that label.
pub fn import_files(
    store: &mut Store,
    files: &[PathBuf],
    label: Option<&str>,
    arguments: Vec<String>,
) -> Result<ImportReport, StoreError> {
    let mut readers = Vec::new();
    for f in files {
        let file = std::fs::File::open(f)
            .map_err(|e| StoreError::Input(format!("cannot read {}: {e}", f.display())))?;
        readers.push((f, BufReader::new(file)));
    }
    let existing = match label {
        Some(l) => store.run_labelled(l)?,
        None => None,
    };
    let run = store.begin_run(&NewRun {
        command: "import".into(),
        arguments,
        label: label.map(str::to_string),
        shard: None,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    })?;
    let mut report = ImportReport {
        run,
        appended: existing.is_some(),
        files: files.iter().map(|f| f.display().to_string()).collect(),
        lines: 0,
        targets: 0,
        failed: 0,
        skipped_count: 0,
        skipped: Vec::new(),
    };
    let mut tool = None;
    for (path, reader) in readers {
        import_one(store, run, path, reader, &mut report, &mut tool)?;
    }
    if let Some(version) = tool {
        store.set_tool_version(run, &version)?;
    }
    store.finish_run(run)?;
    let r = store.run(run)?;
    (report.targets, report.failed) = (r.targets, r.failed);
    Ok(report)
}

fn import_one(
    store: &mut Store,
    run: RunId,
    path: &Path,
    mut reader: impl BufRead,
    report: &mut ImportReport,
    tool: &mut Option<String>,
) -> Result<(), StoreError> {
    let mut number = 0u64;
    let mut buf = Vec::new();
    let mut batch: Vec<TargetRecord> = Vec::with_capacity(BATCH_TARGETS);
    let mut batch_bytes = 0;
    loop {
        if batch.len() >= BATCH_TARGETS || batch_bytes >= BATCH_BYTES {
            store.record_all(run, &batch)?;
            batch.clear();
            batch_bytes = 0;
        }
        number += 1;
        let line = match read_line(&mut reader, &mut buf) {
            Ok(None) => return store.record_all(run, &batch),
            Ok(Some(l)) => l,
            Err(e) => {
                let msg = format!("cannot read {}: {e}", path.display());
                return Err(StoreError::Input(msg));
            }
        };
        let parsed = match line {
            Line::TooLong => Err(format!("longer than {MAX_LINE_BYTES} bytes")),
            Line::Text(t) if t.trim().is_empty() => continue,
            Line::Text(t) => TargetRecord::from_json_text(t),
        };
        match parsed {
            Ok(record) => {
                if tool.is_none() {
                    *tool = tool_version(&record.document);
                }
                batch_bytes += record.document.len();
                batch.push(record);
                report.lines += 1;
            }
            Err(error) => {
                report.skipped_count += 1;
                if report.skipped.len() < SKIPPED_LISTED {
                    report.skipped.push(SkippedLine {
                        file: path.display().to_string(),
                        line: number,
                        error,
                    });
                }
            }
        }
    }
}

/// The version in a document's `tool` ("tlsdoctor 0.1.0").
fn tool_version(document: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(document).ok()?;
    let tool = v.get("tool")?.as_str()?;
    Some(tool.strip_prefix("tlsdoctor ").unwrap_or(tool).to_string())
}

enum Line<'a> {
    Text(&'a str),
    TooLong,
}

/// The next line (without its newline), bounded by [`MAX_LINE_BYTES`]; None at the end.
/// Bytes that are not UTF-8 make the line unreadable as JSON, which is what it is then.
fn read_line<'a>(
    reader: &mut impl BufRead,
    buf: &'a mut Vec<u8>,
) -> std::io::Result<Option<Line<'a>>> {
    buf.clear();
    let n = reader
        .by_ref()
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') && buf.len() > MAX_LINE_BYTES {
        // Drop the rest of the line without keeping it.
        loop {
            let chunk = reader.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    reader.consume(i + 1);
                    break;
                }
                None => {
                    let len = chunk.len();
                    reader.consume(len);
                }
            }
        }
        return Ok(Some(Line::TooLong));
    }
    let text = std::str::from_utf8(buf).unwrap_or("\u{fffd}");
    Ok(Some(Line::Text(text.trim_end_matches(['\n', '\r']))))
}
