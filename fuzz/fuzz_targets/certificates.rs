#![no_main]
//! A server's certificate chain (length-prefixed DER blobs): description, chain analysis, the human chain section.
//! The body and its invariants live in the library (`tlsdoctor::fuzzing::certificates`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tlsdoctor::fuzzing::certificates(data);
});
