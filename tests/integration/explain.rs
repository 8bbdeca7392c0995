//! Every real error message in tests/data/errors/*.txt must have its expected knowledge-base
//! entry as the TOP match; unrelated texts must match nothing.

use std::fs;
use std::path::Path;

use tlsdoctor::explain::{entries, explain, finding_ids_for};
use tlsdoctor::finding::FindingId;

struct Case {
    file: String,
    line: usize,
    message: String,
    expected: String,
}

fn load_corpus() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/errors");
    let mut cases = Vec::new();
    let mut names: Vec<_> = fs::read_dir(&dir)
        .expect("corpus dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    names.sort();
    for path in names {
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let text = fs::read_to_string(&path).expect("read corpus");
        for (i, raw) in text.lines().enumerate() {
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (message, rest) = l
                .rsplit_once(" => ")
                .unwrap_or_else(|| panic!("{file}:{}: no ' => expected-id'", i + 1));
            let expected = rest.split_whitespace().next().unwrap_or("").to_string();
            cases.push(Case {
                file: file.clone(),
                line: i + 1,
                message: message.trim().to_string(),
                expected,
            });
        }
    }
    cases
}

#[test]
fn corpus_is_big_and_covers_every_ecosystem() {
    let cases = load_corpus();
    assert!(cases.len() >= 80, "only {} corpus messages", cases.len());
    for eco in [
        "openssl1", "openssl3", "python", "pymongo", "curl", "java", "go", "node", "dotnet",
        "rustls",
    ] {
        let n = cases
            .iter()
            .filter(|c| c.file == format!("{eco}.txt"))
            .count();
        assert!(n >= 5, "{eco}: only {n} messages");
    }
    let ids: Vec<&str> = entries().iter().map(|e| e.id.as_str()).collect();
    for c in &cases {
        assert!(
            ids.contains(&c.expected.as_str()),
            "{}:{}: unknown entry id {}",
            c.file,
            c.line,
            c.expected
        );
    }
}

#[test]
fn every_corpus_message_maps_to_its_entry() {
    let mut failures = Vec::new();
    for c in load_corpus() {
        let e = explain(&c.message);
        let top = e.matches.first().map(|m| m.id.as_str()).unwrap_or("<none>");
        if top != c.expected {
            failures.push(format!(
                "{}:{}: expected {}, got {} (others: {:?})\n    {}",
                c.file,
                c.line,
                c.expected,
                top,
                e.matches.iter().skip(1).map(|m| &m.id).collect::<Vec<_>>(),
                c.message
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn ecosystem_is_detected_for_ecosystem_files() {
    // Messages produced here by a known client must be attributed to that client.
    let mut failures = Vec::new();
    for c in load_corpus() {
        let want = match c.file.as_str() {
            "python.txt" if c.message.starts_with("ssl.") => "python",
            "pymongo.txt" if c.message.starts_with("pymongo.") => "pymongo",
            "curl.txt" => "curl",
            "java.txt" => "java",
            "node.txt" if c.message.contains("code: '") => "node",
            "dotnet.txt" if c.message.starts_with("Invoke-") => "powershell",
            "dotnet.txt" => "dotnet",
            "openssl3.txt" => "openssl",
            _ => continue,
        };
        let got = explain(&c.message).ecosystem.unwrap_or_default();
        if got != want {
            failures.push(format!(
                "{}:{}: want {want}, got {got:?}: {}",
                c.file, c.line, c.message
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unrelated_texts_match_nothing() {
    let unrelated = [
        "HTTP/1.1 404 Not Found",
        "Segmentation fault (core dumped)",
        "npm ERR! missing script: start",
        "ModuleNotFoundError: No module named 'requests'",
        "error[E0382]: borrow of moved value: `x`",
        "java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"s\" is null",
        "fatal: not a git repository (or any of the parent directories): .git",
        "Permission denied (publickey).",
        "panic: runtime error: index out of range [3] with length 3",
        "KeyError: 'certificate'",
        "The system cannot find the file specified.",
        "TypeError: Cannot read properties of undefined (reading 'map')",
        "disk quota exceeded",
        "",
    ];
    for t in unrelated {
        let e = explain(t);
        assert!(
            e.matches.is_empty(),
            "{t:?} matched {:?}",
            e.matches.iter().map(|m| &m.id).collect::<Vec<_>>()
        );
        assert!(finding_ids_for(t).is_empty());
    }
}

#[test]
fn doctor_gets_finding_ids_in_rank_order() {
    let ids = finding_ids_for(
        "ssl.SSLError: [SSL: UNSAFE_LEGACY_RENEGOTIATION_DISABLED] unsafe legacy renegotiation disabled (_ssl.c:1006)",
    );
    assert_eq!(ids, vec![FindingId::NoSecureRenegotiation]);
    let ids = finding_ids_for(
        "curl: (35) OpenSSL/3.0.19: error:0A000152:SSL routines::unsafe legacy renegotiation disabled",
    );
    assert_eq!(ids.first(), Some(&FindingId::NoSecureRenegotiation));
    let ids =
        finding_ids_for("javax.net.ssl.SSLException: Unsupported or unrecognized SSL message");
    assert_eq!(ids.first(), Some(&FindingId::NotTls));
}

#[test]
fn json_output_serialises() {
    let e = explain(
        "Error: unable to verify the first certificate { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }",
    );
    let v: serde_json::Value = serde_json::to_value(&e).expect("serialise");
    assert_eq!(v["ecosystem"], "node");
    assert_eq!(v["matches"][0]["id"], "unknown-issuer");
    assert_eq!(
        v["matches"][0]["finding_ids"][0],
        "cert-missing-intermediate"
    );
    assert_eq!(
        v["specifics"]["node_code"],
        "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
    );
}

#[test]
fn pymongos_ocsp_refusal_lists_every_cause_it_is_printed_for() {
    // PyMongo prints "invalid status response" for a rejected staple, for a must-staple
    // certificate served without one and for a responder that says revoked
    // (tests/integration/ocsp/pymongo.rs measures all three).
    let ids = finding_ids_for(
        "SSL handshake failed: db.example.test:27017: [('SSL routines', '', 'invalid status response')]",
    );
    for id in [
        FindingId::OcspStapleInvalid,
        FindingId::OcspMustStapleMissing,
        FindingId::CertRevoked,
    ] {
        assert!(ids.contains(&id), "{id:?} not in {ids:?}");
    }
}
