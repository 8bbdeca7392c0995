//! Rendering only: human (terminal) and JSON output of results computed elsewhere.

pub mod cert;
pub mod check;
pub mod demo;
pub mod env;
pub mod explain;
pub mod ocsp;
pub mod scan;
pub mod simulate;
pub mod style;

/// Version stamp of every JSON document tlsdoctor prints; bumped on incompatible changes.
pub const JSON_SCHEMA_VERSION: u32 = 1;
