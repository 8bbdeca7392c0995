//! One target of a fleet run: the single-target request with this target in it, run
//! through the same pipeline function, and its document (or error) as a line.

use super::input::InputTarget;
use super::line::{Backoff, ErrorKind, FleetCommand, FleetLine, LINE_SCHEMA_VERSION};
use super::line::{LineStatus, TargetError};
use super::run::{error_line, unix_now};
use crate::cert::TrustStore;
use crate::document::{AddressFailure, CheckDocument, ScanDocument};
use crate::pipeline::{CheckRequest, PipelineError, ScanRequest};
use crate::probe::BackoffTally;
use crate::scan::ScanError;
use crate::target::TargetError as ParseError;
use std::sync::Arc;
use std::time::Instant;

/// `scan` of one target: `template` with the target put in, chains judged against `stores`
/// (loaded once for the whole run).
pub async fn scan_line(
    template: &ScanRequest,
    stores: &[TrustStore],
    t: InputTarget,
) -> FleetLine<ScanDocument> {
    let start = Instant::now();
    let mut req = template.clone();
    req.connect.target = t.target.clone();
    let tally = Arc::new(BackoffTally::default());
    req.connect.backoff_tally = Some(tally.clone());
    let result = crate::pipeline::scan_with_stores(&req, stores).await;
    finish(FleetCommand::Scan, t, start, &tally, result, scan_failure)
}

/// `check` of one target.
pub async fn check_line(template: &CheckRequest, t: InputTarget) -> FleetLine<CheckDocument> {
    let start = Instant::now();
    let mut req = template.clone();
    req.connect.target = t.target.clone();
    let tally = Arc::new(BackoffTally::default());
    req.connect.backoff_tally = Some(tally.clone());
    let result = crate::pipeline::check(&req).await;
    finish(FleetCommand::Check, t, start, &tally, result, check_failure)
}

fn finish<D>(
    command: FleetCommand,
    t: InputTarget,
    start: Instant,
    tally: &BackoffTally,
    result: Result<D, PipelineError>,
    failed: impl Fn(&D) -> Option<TargetError>,
) -> FleetLine<D> {
    let backoff = tally
        .snapshot()
        .map(|(retries, waited_ms, gave_up)| Backoff {
            retries,
            waited_ms,
            gave_up,
        });
    let mut line = match result {
        Err(e) => {
            let mut l = error_line(command, t.line, t.target, pipeline_failure(&e));
            l.key = t.key;
            l
        }
        Ok(doc) => {
            let error = failed(&doc);
            FleetLine {
                fleet_line: LINE_SCHEMA_VERSION,
                command,
                line: t.line,
                target: t.target,
                key: t.key,
                status: if error.is_some() {
                    LineStatus::Error
                } else {
                    LineStatus::Ok
                },
                error,
                backoff: None,
                finished_at: 0,
                elapsed_ms: 0,
                document: Some(doc),
            }
        }
    };
    line.backoff = backoff;
    line.finished_at = unix_now();
    line.elapsed_ms = start.elapsed().as_millis() as u64;
    line
}

/// A scan's error as a fleet line gives it: set when no address could be examined.
pub fn scan_failure(d: &ScanDocument) -> Option<TargetError> {
    failure(d.servers.is_empty(), &d.errors)
}

/// A check's error as a fleet line gives it: set when no address could be examined.
pub fn check_failure(d: &CheckDocument) -> Option<TargetError> {
    failure(d.diagnoses.is_empty(), &d.errors)
}

/// A request that stopped before any address (a bad target, a name that does not resolve,
/// an unreadable file), by kind.
pub fn pipeline_failure(e: &PipelineError) -> TargetError {
    TargetError {
        kind: pipeline_error_kind(e),
        message: e.to_string(),
    }
}

/// The target's error when no address could be examined: the first address's, by kind.
/// `check` keeps a per-address error only for a server it cannot reach (`examine`), so an
/// untyped one there is a connect failure.
fn failure(nothing_examined: bool, errors: &[AddressFailure]) -> Option<TargetError> {
    if !nothing_examined {
        return None;
    }
    Some(match errors.first() {
        Some(f) => TargetError {
            kind: f.cause.as_ref().map_or(ErrorKind::Connect, scan_error_kind),
            message: f.error.clone(),
        },
        None => TargetError {
            kind: ErrorKind::Other,
            message: "no address of the target was examined".into(),
        },
    })
}

fn scan_error_kind(e: &ScanError) -> ErrorKind {
    match e {
        ScanError::Unreachable { .. } => ErrorKind::Connect,
        ScanError::NotTls { .. } => ErrorKind::NotTls,
        ScanError::NoTls { .. } => ErrorKind::NoTls,
        ScanError::Deadline { .. } => ErrorKind::Deadline,
        ScanError::Upgrade { .. } => ErrorKind::Upgrade,
    }
}

fn pipeline_error_kind(e: &PipelineError) -> ErrorKind {
    match e {
        PipelineError::Target(t) => match t {
            ParseError::UnknownHost { .. }
            | ParseError::DnsTimeout { .. }
            | ParseError::Dns { .. }
            | ParseError::SrvNoRecords { .. }
            | ParseError::SrvTargetOutsideDomain { .. }
            | ParseError::SrvTxtInvalid { .. } => ErrorKind::Resolve,
            _ => ErrorKind::Parse,
        },
        _ => ErrorKind::Other,
    }
}
