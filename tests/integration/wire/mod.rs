//! The wire codec and the cipher-suite registry against real implementations.

mod suite_registry;
mod vectors;
