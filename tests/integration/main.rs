//! tlsdoctor's integration tests: one test binary, one module per capability, with the shared
//! fixtures (real servers and clients on 127.0.0.1, test PKIs, Python venvs) in `common`.
//! One binary links once instead of once per file; `cargo test --test integration scan::`
//! runs one capability, `... golden` the golden comparison.
//!
//! Data the tests read lives beside this directory: tests/data (stored vectors and error
//! texts), tests/peers (peer programs), tests/golden (the recorded outputs).

mod common;

mod audit;
mod capture;
mod cert;
mod check;
mod cli;
mod connections;
mod env;
mod explain;
mod explain_check;
mod explain_client_texts;
mod explain_corpus;
mod fleet;
mod fleet_store;
mod golden;
mod handshake;
mod lab;
mod live;
mod ocsp;
mod report;
mod safety;
mod scan;
mod simulate;
mod starttls;
mod target;
mod vulns;
mod watch;
mod wire;
