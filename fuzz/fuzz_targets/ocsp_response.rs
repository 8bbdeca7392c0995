#![no_main]
//! A DER OCSP response, stapled or served: parse, validate, summarise.
//! The body and its invariants live in the library (`tlsdoctor::fuzzing::ocsp_response`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tlsdoctor::fuzzing::ocsp_response(data);
});
