#![no_main]
//! What an OCSP responder or AIA URL answers over HTTP, as read off the wire.
//! The body and its invariants live in the library (`tlsdoctor::fuzzing::http_response`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tlsdoctor::fuzzing::http_response(data);
});
