#![no_main]
//! Arbitrary bytes as a server's answers to the POODLE-on-TLS probe's hand-written CBC
//! handshake, in a chunking the first byte chooses. The body lives in the library
//! (`wire::cbc_client::fuzz_one`) so stable `cargo test` runs it too.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tlsdoctor::wire::cbc_client::fuzz_one(data);
});
