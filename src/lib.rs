//! tlsdoctor: why does this TLS connection fail, and what exactly do I change?
pub mod cli;
pub mod finding;
pub mod lab;
// pub mod wire;  (being written)
mod deps_warm;
