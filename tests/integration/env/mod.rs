//! `tlsdoctor env`: what this machine's TLS clients are, checked against the real clients.

mod interpreters;
mod real_client;
mod report;
