//! Certificate chains and trust stores.

mod chain;
mod classes;
mod limits;
mod revoked;
mod stores;
mod two_certificates;
