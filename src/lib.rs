//! tlsdoctor: why does this TLS connection fail, and what exactly do I change?
pub mod cli;
mod deps_warm;
pub mod finding;
pub mod wire;
