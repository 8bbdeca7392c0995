//! Fleet runs: many targets from one input, scanned or checked a bounded number at a time,
//! one JSON line per target as it finishes ([`mod@line`]); and the results store that records
//! them ([`store`]).

pub mod input;
pub mod jobs;
pub mod line;
pub mod merge;
pub mod progress;
pub mod resume;
pub mod run;
pub mod shard;
pub mod store;

pub use input::InputTarget;
pub use line::{
    Backoff, ErrorKind, FleetCommand, FleetLine, LINE_SCHEMA_VERSION, LineStatus, ReadLine,
    TargetError,
};
pub use shard::Shard;
