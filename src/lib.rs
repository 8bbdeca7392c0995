//! tlsdoctor: why does this TLS connection fail, and what exactly do I change?
//!
//! The data path is kept visible in the module layout:
//! *target → probes → evidence → findings → report*.
//!
//! - [`target`]: what to connect to (host, port, URIs, SNI, resolution).
//! - [`wire`]: sans-IO TLS codec — ClientHellos out, server flights in. No sockets.
//! - [`probe`]: one connection = one probe, with timeouts and a per-server connection cap.
//! - [`scan`]: checks built on probes, each folding probe results into typed evidence.
//! - [`cert`]: certificate chain description, validation per trust store, diagnosis.
//! - [`capture`]: record a real client's ClientHello into a profile skeleton.
//! - [`clients`]: client profiles (real ClientHellos + policies) and their error wording.
//! - [`simulate`]: replay a client's hello and apply its policy to the server's answer.
//! - [`env`]: the client side — local TLS libraries, interpreters, trust stores, OpenSSL config.
//! - [`doctor`]: evidence → findings: the diagnosis behind `tlsdoctor check`.
//! - [`explain`]: offline knowledge base of TLS error messages.
//! - [`http`]: a minimal, bounded HTTP/1.0 client for OCSP responders and AIA issuers.
//! - [`lab`]: the built-in lab of misconfigured servers (tests, demo); never used by scans.
//! - [`finding`]: the diagnosis vocabulary shared by every check.
//! - [`report`]: human and JSON rendering; nothing else.
//! - [`cli`]: the command-line front end.

pub mod capture;
pub mod cert;
pub mod cli;
pub mod clients;
pub mod demo;
pub mod doctor;
pub mod env;
pub mod explain;
pub mod finding;
pub mod http;
pub mod lab;
pub mod ocsp;
pub mod probe;
pub mod report;
pub mod scan;
pub mod simulate;
pub mod target;
pub mod wire;
