//! tlsdoctor: why does this TLS connection fail, and what exactly do I change?
//!
//! The library does everything the `tlsdoctor` command does; the command only parses its
//! arguments, calls one function of [`pipeline`], renders the [`document`] it gets back with
//! [`report`], and picks the exit code.
//!
//! # Running a check from Rust
//!
//! ```no_run
//! use tlsdoctor::finding::Severity;
//! use tlsdoctor::pipeline::{CheckRequest, check};
//! use tlsdoctor::report::style::Style;
//!
//! # async fn run() -> Result<(), tlsdoctor::pipeline::PipelineError> {
//! let mut request = CheckRequest::new("db.example.com:27017");
//! request.client = Some("python".into());
//! let doc = check(&request).await?;
//! for diagnosis in &doc.diagnoses {
//!     for f in diagnosis.findings.iter().filter(|f| f.severity == Severity::Error) {
//!         println!("{}: {} {}", diagnosis.address, f.id, f.title);
//!     }
//! }
//! // The same document, as `tlsdoctor check` prints it.
//! print!("{}", tlsdoctor::report::check::render_human(&doc, Style::plain()));
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! The data path is kept visible in the module layout:
//! *target → probes → measurement → evidence → findings → document → report*.
//!
//! - [`pipeline`]: `check`, `scan` and `simulate` as library functions: request in, document out.
//! - [`document`]: the typed results those functions return (data only).
//! - [`target`]: what to connect to (host, port, URIs, SNI, resolution).
//! - [`wire`]: sans-IO TLS codec — ClientHellos out, server flights in. No sockets.
//! - [`probe`]: one connection = one probe, with timeouts and a per-server connection cap.
//! - [`scan`]: checks built on probes, each folding probe results into typed measurements;
//!   [`scan::measure()`] measures a server once (with the chain it presents and its staples).
//! - [`cert`]: certificate chain description, validation per trust store, diagnosis.
//! - [`ocsp`]: stapled responses and responders, judged from the measured chain and staples.
//! - [`capture`]: record a real client's ClientHello into a profile skeleton.
//! - [`clients`]: client profiles (real ClientHellos + policies) and their error wording.
//! - [`simulate`]: replay a client's hello and apply its policy to the server's answer.
//! - [`env`](mod@env): the client side — local TLS libraries, interpreters, trust stores, OpenSSL config.
//! - [`doctor`]: measurement → evidence → findings: the diagnosis behind `tlsdoctor check`.
//! - [`explain`]: offline knowledge base of TLS error messages.
//! - [`http`]: a minimal, bounded HTTP/1.0 client for OCSP responders and AIA issuers.
//! - [`files`]: the user's files: bounded reads, writes that never follow what is there.
//! - [`live`]: the real clients of this machine run against the server by `check`, and
//!   their verdicts held against the predictions.
//! - [`lab`]: the built-in lab of misconfigured servers (tests, demo); never used by scans.
//! - [`demo`]: the lab diagnosed endpoint by endpoint.
//! - [`watch`]: a relay in front of a failing server that records the real application's
//!   handshakes (clear text only) and reads each one as it ends.
//! - [`fleet`]: many targets from one input, one JSON line per target (`scan -i`, `check -i`),
//!   and the results store that records runs in SQLite (`--db`, `tlsdoctor fleet summary|diff`).
//! - [`audit`]: a scan judged as a security audit: known vulnerabilities, a grade, and
//!   compliance with a configuration profile.
//! - [`finding`]: the diagnosis vocabulary shared by every check.
//! - [`report`]: human and JSON rendering of documents; nothing else.
//! - [`escape`]: peer text made safe for a terminal (every human renderer, and the files
//!   meant to be read in one).

pub mod audit;
pub mod capture;
pub mod cert;
pub mod clients;
pub mod demo;
pub mod doctor;
pub mod document;
pub mod env;
pub mod escape;
pub mod explain;
pub mod files;
pub mod finding;
pub mod fleet;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod lab;
pub mod live;
pub mod ocsp;
pub mod pipeline;
pub mod probe;
pub mod progress;
pub mod report;
pub mod scan;
mod serde_hex;
pub mod simulate;
pub mod starttls;
pub mod target;
pub mod watch;
pub mod wire;

#[cfg(test)]
mod layering;
