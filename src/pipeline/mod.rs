//! The library's front door: `check`, `scan` and `simulate` as functions that take a request
//! and return a [`crate::document`].
//!
//! Each one resolves the target, prepares what every address shares once (trust stores, the
//! client certificate, the clients to simulate), then examines all resolved addresses
//! concurrently through one fan-out. Per address the server is measured once
//! ([`crate::scan::measure()`]), its presented chain analysed once against the request's trust
//! stores, and the OCSP check given that chain and the measured staples. Nothing here prints.

mod check;
mod clients;
mod fanout;
mod fixes;
mod follow;
mod live;
mod request;
mod scan;
mod simulate;
mod trust;

pub use check::{check, examine};
pub use fanout::Address;
pub use request::{
    CheckRequest, ClientCertFiles, ConnectOptions, ScanRequest, SimulateRequest, TrustInputs,
};
pub use scan::{scan, scan_stores, scan_with_stores};
pub use simulate::simulate;

pub(crate) use clients::profiles_for;

/// Why a request could not run at all. Each message is one line, fit to show the user.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The target cannot be parsed or resolved.
    #[error(transparent)]
    Target(#[from] crate::target::TargetError),
    /// The CA file cannot be read or holds no usable certificate.
    #[error(transparent)]
    Trust(#[from] crate::cert::CertError),
    /// The client certificate or its key cannot be loaded.
    #[error("{0}")]
    ClientCertificate(String),
    /// A certificate file given to complete the chain cannot be read.
    #[error("{0}")]
    Intermediate(String),
    /// An unknown client name, or no TLS client at the path given.
    #[error("{0}")]
    Client(String),
    /// A fix artefact cannot be written.
    #[error("{0}")]
    Fixes(String),
}

#[cfg(test)]
mod tests;
