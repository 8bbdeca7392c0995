//! `tlsdoctor scan`: versions, suites, order, groups and properties of real servers, and
//! servers that send hostile bytes.

mod full;
mod hostile_peers;
mod legacy_versions;
mod versions;
