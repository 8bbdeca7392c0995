#![no_main]
//! Arbitrary bytes as every STARTTLS reply parser's input and as the protocol sniffer's
//! (`starttls::fuzz_replies`, `scan::plaintext::fuzz_sniff`): no panic, no unbounded allocation, consistent results.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tlsdoctor::starttls::fuzz_replies(data);
    tlsdoctor::scan::plaintext::fuzz_sniff(data);
});
