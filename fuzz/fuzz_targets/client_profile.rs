#![no_main]
//! A client profile file (TOML, as capture-client writes them).
//! The body and its invariants live in the library (`tlsdoctor::fuzzing::client_profile`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tlsdoctor::fuzzing::client_profile(data);
});
