//! The fleet results store: every run of `scan`/`check` given `--db FILE`, and every
//! target result of it, kept in one SQLite file, so a fleet can be asked what it accepts,
//! what expires, and what changed since the last run (`tlsdoctor fleet summary|diff`).
//!
//! The store records documents; it never measures and never judges. Each target's row
//! keeps the whole JSON line or document the command printed ([`extract`] reads it), and
//! beside it the normalised facts the queries read cheaply: accepted versions, suites per
//! version, the certificate chain, findings (id and severity). A result recorded while a
//! run goes and the same result imported later from its JSON Lines
//! (`tlsdoctor fleet import`) give the same rows.
//!
//! Recording is small on purpose: [`Store::open`], [`Store::begin_run`],
//! [`Store::record_target`] per finished target, [`Store::finish_run`]; or, around a writer
//! of JSON Lines, [`RecordingWriter`], which records each line as it is written. A target
//! recorded while a run goes is committed at once, in a transaction of its own (WAL journal,
//! no sync per commit): a crash loses nothing recorded, and other processes writing into the
//! same file (shard workers) never wait behind a transaction left open between two targets.
//! An import writes [`BATCH_TARGETS`] targets per transaction ([`Store::record_all`]).

pub mod diff;
pub mod extract;
pub mod import;
mod record;
mod schema;
pub mod summary;
mod tee;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use diff::{Diff, TargetChange};
pub use extract::TargetRecord;
pub use import::{ImportReport, import_files};
pub use schema::SCHEMA_VERSION;
pub use summary::Summary;
pub use tee::RecordingWriter;

/// Targets an import writes per transaction.
pub const BATCH_TARGETS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the results store {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the file is not a tlsdoctor results store (it holds other SQLite data)")]
    NotAStore,
    #[error(
        "the results store has schema version {found}, newer than this tlsdoctor knows ({known})"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("results store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("no run {0} in the results store")]
    NoRun(String),
    #[error("{0}")]
    Input(String),
}

/// A run's number in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What a new run is: the command, its arguments, the shard it scans.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// `scan`, `check` or `import`.
    pub command: String,
    pub arguments: Vec<String>,
    /// A name to find the run by (`--run-label`); unique in the store.
    pub label: Option<String>,
    /// `I/N` for a sharded run.
    pub shard: Option<String>,
    /// The tlsdoctor version that made the results.
    pub tool_version: String,
}

impl NewRun {
    /// A run of this tlsdoctor, with the process's arguments.
    pub fn this_process(command: &str) -> NewRun {
        NewRun {
            command: command.to_string(),
            arguments: std::env::args().skip(1).collect(),
            label: None,
            shard: None,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// A run as the summary and diff show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: RunId,
    pub label: Option<String>,
    pub command: String,
    pub arguments: Vec<String>,
    pub tool_version: String,
    pub shard: Option<String>,
    /// RFC 3339, UTC.
    pub started: String,
    pub finished: Option<String>,
    /// Targets recorded, and how many of them could not be examined at all.
    pub targets: u64,
    pub failed: u64,
}

/// Which run a query is about: `latest`, `previous` (the one before the latest), a number,
/// or a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunSelector {
    Latest,
    Previous,
    Id(i64),
    Label(String),
}

impl std::str::FromStr for RunSelector {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "latest" => RunSelector::Latest,
            "previous" => RunSelector::Previous,
            _ => match s.parse::<i64>() {
                Ok(n) => RunSelector::Id(n),
                Err(_) => RunSelector::Label(s.to_string()),
            },
        })
    }
}

impl std::fmt::Display for RunSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunSelector::Latest => f.write_str("latest"),
            RunSelector::Previous => f.write_str("previous"),
            RunSelector::Id(n) => write!(f, "{n}"),
            RunSelector::Label(l) => write!(f, "'{}'", crate::escape::escape(l)),
        }
    }
}

/// An open results store.
pub struct Store {
    conn: Connection,
}

/// Unix seconds now.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// RFC 3339 (UTC, seconds) of a Unix time.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

impl Store {
    /// Open (or create) the store at `path`, bringing its schema up to date. WAL journal, so
    /// readers (a summary while a run records) and several local shard workers writing
    /// into one file do not block each other for long; a writer waits up to 10 s for
    /// another's transaction.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open = |e| StoreError::Open {
            path: path.to_path_buf(),
            source: e,
        };
        let mut conn = Connection::open(path).map_err(open)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(open)?;
        // journal_mode answers with the mode in force; a file that cannot take WAL keeps its own.
        let _: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(open)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(open)?;
        schema::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// Open a store that must exist already (the commands that only read one).
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Input(format!(
                "no results store at {}",
                path.display()
            )));
        }
        Store::open(path)
    }

    /// An in-memory store (tests, benchmarks).
    pub fn in_memory() -> Result<Store, StoreError> {
        let mut conn = Connection::open_in_memory()?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        schema::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// Start a run; its targets are recorded with [`Store::record_target`]. A run with a
    /// label joins the run of that label when there is one (shard workers of one fleet run,
    /// or imports of its shard files one by one, all record into one run).
    pub fn begin_run(&mut self, run: &NewRun) -> Result<RunId, StoreError> {
        let arguments = serde_json::to_string(&run.arguments).unwrap_or_else(|_| "[]".into());
        self.conn.execute(
            "INSERT INTO runs (label, command, arguments, tool_version, shard, started)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (label) DO NOTHING",
            params![
                run.label,
                run.command,
                arguments,
                run.tool_version,
                run.shard,
                now_unix()
            ],
        )?;
        match &run.label {
            Some(label) => self
                .run_labelled(label)?
                .ok_or_else(|| StoreError::NoRun(RunSelector::Label(label.clone()).to_string())),
            None => Ok(RunId(self.conn.last_insert_rowid())),
        }
    }

    /// Record one finished target of `run`: a fleet line (`FleetLine`, `ReadLine`) or a
    /// `ScanDocument` / `CheckDocument`, anything that serialises to one. A target
    /// recorded again in the same run (same key) replaces its earlier record.
    pub fn record_target<L: Serialize + ?Sized>(
        &mut self,
        run: RunId,
        line: &L,
    ) -> Result<(), StoreError> {
        let value = serde_json::to_value(line)
            .map_err(|e| StoreError::Input(format!("cannot serialise the result: {e}")))?;
        let record = TargetRecord::from_value(value).map_err(StoreError::Input)?;
        self.record(run, &record)
    }

    /// Record a target already read into a [`TargetRecord`], committed at once.
    pub fn record(&mut self, run: RunId, record: &TargetRecord) -> Result<(), StoreError> {
        self.record_all(run, std::slice::from_ref(record))
    }

    /// Record several targets in one transaction (all or none).
    pub fn record_all(&mut self, run: RunId, records: &[TargetRecord]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let now = now_unix();
        for r in records {
            record::write(&tx, run, r, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Mark the run finished.
    pub fn finish_run(&mut self, run: RunId) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE runs SET finished = ?1 WHERE id = ?2",
            params![now_unix(), run.0],
        )?;
        Ok(())
    }

    /// The run a selector names.
    pub fn resolve(&self, which: &RunSelector) -> Result<RunId, StoreError> {
        let found: Option<i64> = match which {
            RunSelector::Latest => self
                .conn
                .query_row("SELECT max(id) FROM runs", [], |r| r.get(0))?,
            RunSelector::Previous => self
                .conn
                .query_row(
                    "SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?,
            RunSelector::Id(n) => self
                .conn
                .query_row("SELECT id FROM runs WHERE id = ?1", [n], |r| r.get(0))
                .optional()?,
            RunSelector::Label(l) => self
                .conn
                .query_row("SELECT id FROM runs WHERE label = ?1", [l], |r| r.get(0))
                .optional()?,
        };
        found
            .map(RunId)
            .ok_or_else(|| StoreError::NoRun(which.to_string()))
    }

    /// The run with this label, if there is one.
    pub fn run_labelled(&self, label: &str) -> Result<Option<RunId>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT id FROM runs WHERE label = ?1", [label], |r| {
                r.get(0)
            })
            .optional()?
            .map(RunId))
    }

    /// A run's description and counts.
    pub fn run(&self, id: RunId) -> Result<Run, StoreError> {
        let run = self
            .conn
            .query_row(
                "SELECT r.id, r.label, r.command, r.arguments, r.tool_version, r.shard,
                        r.started, r.finished,
                        (SELECT count(*) FROM targets t WHERE t.run_id = r.id),
                        (SELECT count(*) FROM targets t WHERE t.run_id = r.id
                                                          AND t.error IS NOT NULL)
                 FROM runs r WHERE r.id = ?1",
                [id.0],
                |r| {
                    let arguments: String = r.get(3)?;
                    Ok(Run {
                        id: RunId(r.get(0)?),
                        label: r.get(1)?,
                        command: r.get(2)?,
                        arguments: serde_json::from_str(&arguments).unwrap_or_default(),
                        tool_version: r.get(4)?,
                        shard: r.get(5)?,
                        started: rfc3339(r.get(6)?),
                        finished: r.get::<_, Option<i64>>(7)?.map(rfc3339),
                        targets: count(r, 8)?,
                        failed: count(r, 9)?,
                    })
                },
            )
            .optional()?;
        run.ok_or_else(|| StoreError::NoRun(id.to_string()))
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<Run>, StoreError> {
        let ids: Vec<i64> = self
            .conn
            .prepare("SELECT id FROM runs ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter().map(|id| self.run(RunId(id))).collect()
    }

    /// Set the version of tlsdoctor that made a run's results (an import learns it from
    /// the documents).
    pub fn set_tool_version(&mut self, run: RunId, version: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE runs SET tool_version = ?1 WHERE id = ?2",
            params![version, run.0],
        )?;
        Ok(())
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// A count read from SQLite (which has only signed integers).
pub(crate) fn count(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(row.get::<_, i64>(i)?.max(0) as u64)
}

#[cfg(test)]
mod tests;
