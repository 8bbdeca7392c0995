//! Certificate chains and trust stores.

mod chain;
mod stores;
