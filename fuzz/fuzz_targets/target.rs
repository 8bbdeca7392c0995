#![no_main]
//! A target as typed on the command line: host[:port], https://, mongodb:// with its options.
//! The body and its invariants live in the library (`tlsdoctor::fuzzing::target`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tlsdoctor::fuzzing::target(data);
});
