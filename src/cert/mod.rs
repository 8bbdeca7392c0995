//! Certificate chain analysis: why a client does or does not trust this server.
//!
//! `fetch` gets the chain a server sends (TLS 1.2/1.3 via rustls with a recording verifier),
//! `describe` turns each certificate into facts, `stores` loads the trust stores clients use,
//! and `analyze` builds the path per store and names the real cause of a failure.

pub mod analyze;
mod data;
pub mod describe;
pub mod fetch;
pub mod name;
pub mod stores;

pub use analyze::{ChainAnalysis, StoreVerdict, analyze, analyze_with};
pub use describe::{CertInfo, describe};
pub use fetch::{ClientCertRequest, FetchError, FetchedChain, fetch_chain};
pub use stores::{TrustStore, cafile_from_mongodb_uri};

/// Problems reading certificates or trust stores.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("not a valid X.509 certificate: {0}")]
    Parse(String),
    #[error("cannot read CA file {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error(
        "CA file {path} holds no PEM certificates (expected -----BEGIN CERTIFICATE----- blocks)"
    )]
    NoCertificates { path: String },
    #[error("CA file {path}: certificate #{index} is not valid: {reason}")]
    BadCertificate {
        path: String,
        index: usize,
        reason: String,
    },
}
