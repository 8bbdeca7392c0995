#![no_main]
//! Any text pasted into `tlsdoctor explain`: matching and the human rendering.
//! The body and its invariants live in the library (`tlsdoctor::fuzzing::explain`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tlsdoctor::fuzzing::explain(data);
});
