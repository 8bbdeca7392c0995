#![no_main]
//! Arbitrary bytes into `ClientHello::parse_record`; whatever parses must re-encode into
//! something that parses back identically (`wire::client_hello::fuzz_parse`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tlsdoctor::wire::client_hello::fuzz_parse(data);
});
