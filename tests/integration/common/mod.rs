//! Shared fixtures for integration tests: real TLS servers on 127.0.0.1 and test certificates.
//! Every process started here is killed when its guard drops.

pub mod broken_pki;
pub mod browser;
pub mod cli;
pub mod clients;
pub mod dns;
pub mod http_clients;
pub mod ocsp;
pub mod openssl_certs;
pub mod pki;
pub mod servers;
pub mod starttls_clients;
pub mod starttls_servers;
pub mod venv;
