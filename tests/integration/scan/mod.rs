//! `tlsdoctor scan`: versions, suites, order, groups and properties of real servers, and
//! servers that send hostile bytes.

mod full;
mod hostile_peers;
pub(crate) mod legacy_versions;
mod versions;
