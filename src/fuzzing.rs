//! The bodies of the cargo-fuzz targets in `fuzz/` (one function per parser of peer or user
//! input), kept in the library so stable `cargo test` feeds them the inputs the fuzzers once
//! crashed on (tests at the end of this file) and so each target reaches `pub(crate)` parsers
//! without widening their visibility. Each body panics only when an invariant it states breaks
//! (or when the code under it panics); every other outcome, error included, is fine.
//!
//! Not part of the stable API.

use crate::escape::escape;
use std::time::{Duration, SystemTime};

/// A fixed "now" (2026-01-01), so a target's behaviour depends on its input only.
fn fixed_now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

/// Text a human renderer would show must come out of `escape` without a control character.
fn assert_escaped(what: &str, text: &str) {
    let shown = escape(text);
    if let Some(c) = shown.chars().find(|c| c.is_control()) {
        panic!("{what}: escape left control character {c:?} in {shown:?}");
    }
}

/// Split `data` into DER blobs: each led by a 2-byte big-endian length (truncated at the end
/// of the input), at most 16 of them, as a server's Certificate message would list them.
fn split_chain(mut data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while data.len() >= 2 && out.len() < 16 {
        let n = (u16::from_be_bytes([data[0], data[1]]) as usize).min(data.len() - 2);
        out.push(data[2..2 + n].to_vec());
        data = &data[2 + n..];
    }
    out
}

/// `certificates`: a server's chain, length-prefixed DER blobs, described one by one and
/// analysed as a chain (empty trust store) and rendered as the human chain section.
/// Invariants: no panic; every name shown goes through `escape` clean; the JSON form is
/// valid JSON.
pub fn certificates(data: &[u8]) {
    let chain = split_chain(data);
    for der in &chain {
        if let Ok(info) = crate::cert::describe::describe_at(der, 1_767_225_600) {
            assert_escaped("subject", &info.subject);
            assert_escaped("issuer", &info.issuer);
            for san in &info.sans {
                assert_escaped("SAN", san);
            }
        }
    }
    let store = crate::cert::stores::TrustStore {
        name: "cafile".into(),
        source: "fuzz".into(),
        roots: Vec::new(),
        load_errors: Vec::new(),
    };
    let analysis =
        crate::cert::analyze::analyze(&chain, Some("example.com"), &[store], fixed_now());
    let shown = crate::report::cert::render_chain(&analysis, false);
    if let Some(c) = shown.chars().find(|c| c.is_control() && *c != '\n') {
        panic!("chain section shows control character {c:?}");
    }
    let json = serde_json::to_string(&analysis).expect("a chain analysis serialises");
    serde_json::from_str::<serde_json::Value>(&json).expect("its JSON parses back");
}

/// `ocsp_response`: a DER OCSP response as stapled or served, parsed, validated against a
/// fixed subject, summarised. Invariants: no panic; the summary line is escape-clean.
pub fn ocsp_response(data: &[u8]) {
    let Ok(parsed) = crate::ocsp::parse::parse_response(data) else {
        return;
    };
    let subject = crate::ocsp::verify::Subject {
        leaf: data,
        issuer_name: &[0x30, 0x00],
        issuer_spki: &[0x30, 0x00],
        issuer_label: "fuzz".into(),
    };
    let verdict = crate::ocsp::verify::validate(&parsed, &subject, 1_767_225_600);
    assert_escaped(
        "OCSP summary",
        &crate::ocsp::check::summary(&parsed, Some(&verdict)),
    );
    for c in &parsed.certs {
        assert_escaped("OCSP certificate", &c.subject);
    }
}

/// `http_response`: the bytes an OCSP responder or AIA URL answers, as read off the wire.
/// Invariants: no panic; a body is never longer than the answer.
pub fn http_response(data: &[u8]) {
    let _ = crate::http::is_complete(data);
    if let Ok((_, body)) = crate::http::parse_http(data) {
        assert!(body.len() <= data.len(), "body longer than the answer");
    }
    if let Ok(url) = std::str::from_utf8(data) {
        let _ = crate::http::split_url(url);
    }
}

/// `target`: a target as typed on the command line (host, host:port, `[v6]:port`, https://…,
/// mongodb://… with its options). Invariants: no panic; the redacted input shown back never
/// holds the password of a `user:password@` URI; it is escape-clean.
pub fn target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(spec) = crate::target::parse(text) {
        assert_escaped("target", &spec.input);
        for n in &spec.notes {
            assert_escaped("target note", n);
        }
        for h in &spec.hosts {
            let _ = h.to_string();
        }
        let _ = serde_json::to_string(&spec).expect("a target serialises");
    }
}

/// `dns_txt`: a `mongodb+srv://` seed's TXT record merged into the URI's options (the first
/// input byte sets which options the URI already has). Invariants: no panic; notes and errors
/// are escape-clean.
pub fn dns_txt(data: &[u8]) {
    let (flags, rest) = match data {
        [f, rest @ ..] => (*f, rest),
        [] => (0, data),
    };
    let Ok(txt) = std::str::from_utf8(rest) else {
        return;
    };
    let uri = crate::target::MongoTlsOptions {
        auth_source: (flags & 1 != 0).then(|| "admin".into()),
        replica_set: (flags & 2 != 0).then(|| "rs0".into()),
        load_balanced: (flags & 4 != 0).then_some(false),
        ..Default::default()
    };
    match crate::target::mongo::apply_txt("seed.example.com", txt, &uri) {
        Ok((_, notes)) => notes.iter().for_each(|n| assert_escaped("TXT note", n)),
        Err(e) => assert_escaped("TXT error", &e.to_string()),
    }
}

/// `explain`: any text pasted into `tlsdoctor explain`. Invariants: no panic; the human
/// rendering carries no control character but its own newlines.
pub fn explain(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let e = crate::explain::explain(&text);
    let shown = crate::report::explain::render_explanation(&e, false);
    if let Some(c) = shown.chars().find(|c| c.is_control() && *c != '\n') {
        panic!("explain shows control character {c:?}");
    }
}

/// `client_profile`: a client profile file (`data/clients/*.toml`, what `capture-client`
/// writes). Invariants: no panic; a profile that loads has a hello that either parses or is
/// refused, and its policy's versions are ordered as written or fall back to defaults.
pub fn client_profile(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = toml::from_str::<crate::clients::ClientProfile>(text) else {
        return;
    };
    let hello = p.hello_bytes();
    let _ = crate::wire::ClientHello::parse_record(&hello);
    let _ = (p.policy.min(), p.policy.max(), p.matches("python"));
    let _ = toml::to_string(&p);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every body on small deterministic inputs and on the seeds, so a stable build keeps
    /// them compiling and working.
    #[test]
    fn bodies_run_on_simple_inputs() {
        let seeds: &[&[u8]] = &[
            b"",
            b"\x00",
            b"example.com:443",
            b"mongodb://u:p@h1,h2:27018/?tls=true&tlsCAFile=%2Ftmp%2Fca.pem",
            b"\x07authSource=x&replicaSet=y&loadBalanced=true",
            b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            b"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
            b"\x30\x03\x0a\x01\x00",
        ];
        for s in seeds {
            certificates(s);
            ocsp_response(s);
            http_response(s);
            target(s);
            dns_txt(s);
            explain(s);
            client_profile(s);
        }
        for p in crate::clients::all_profiles() {
            client_profile(toml::to_string(p).expect("a profile serialises").as_bytes());
        }
    }
}
