#![no_main]
//! A mongodb+srv seed's TXT record merged into the URI's options.
//! The body and its invariants live in the library (`tlsdoctor::fuzzing::dns_txt`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tlsdoctor::fuzzing::dns_txt(data);
});
