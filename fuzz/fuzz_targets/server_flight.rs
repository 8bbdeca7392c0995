#![no_main]
//! Arbitrary bytes, in arbitrary chunkings, into the server-flight parser. The body lives in
//! the library (`wire::flight::fuzz_one`) so stable `cargo test` runs it too.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tlsdoctor::wire::flight::fuzz_one(data);
});
