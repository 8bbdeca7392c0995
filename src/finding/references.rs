//! Drift tests: every finding id named anywhere outside the catalogue exists in it.
//!
//! Code names findings through [`FindingId`], which build.rs generates from the catalogue,
//! so the compiler already refuses an id the catalogue lacks. What the compiler cannot see:
//! the other data files (the explain knowledge base, lab expectations) and string literals in code that bypass the typed id. Both are checked here,
//! reading the tree as it is on disk, so a new data file is covered without listing it.

use super::FindingId;
use std::path::{Path, PathBuf};

/// Keys whose string values (or arrays of strings) are finding ids.
const ID_VALUED_KEYS: &[&str] = &["finding", "findings", "expect_finding", "finding_id"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_under(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            files_under(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
}

/// `(where, id)` for every finding id a TOML value names.
fn collect(value: &toml::Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let here = format!("{at}.{k}");
                if ID_VALUED_KEYS.contains(&k.as_str()) {
                    match v {
                        toml::Value::String(s) => out.push((here.clone(), s.clone())),
                        toml::Value::Array(a) => out.extend(
                            a.iter()
                                .filter_map(|x| x.as_str())
                                .map(|s| (here.clone(), s.to_string())),
                        ),
                        _ => {}
                    }
                }
                collect(v, &here, out);
            }
        }
        toml::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                collect(v, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_id_in_the_data_files_is_in_the_catalogue() {
    let data = root().join("data");
    let mut files = Vec::new();
    files_under(&data, "toml", &mut files);
    let mut refs: Vec<(String, String)> = Vec::new();
    for f in files.iter().filter(|f| !f.ends_with("findings.toml")) {
        let text = std::fs::read_to_string(f).unwrap();
        let value: toml::Value =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: not TOML: {e}", f.display()));
        let name = f.strip_prefix(&data).unwrap().display().to_string();
        collect(&value, &name, &mut refs);
    }
    let unknown: Vec<String> = refs
        .iter()
        .filter(|(_, id)| id.parse::<FindingId>().is_err())
        .map(|(at, id)| format!("{at}: {id}"))
        .collect();
    assert!(
        unknown.is_empty(),
        "finding ids not in data/findings.toml:\n  {}",
        unknown.join("\n  ")
    );
    // The walk must really see the references (explain causes, lab expectations); a rename
    // of the keys above would otherwise make this test pass vacuously.
    for (file, at_least) in [("errors/", 60), ("lab/endpoints.toml", 20)] {
        let n = refs.iter().filter(|(at, _)| at.starts_with(file)).count();
        assert!(
            n >= at_least,
            "only {n} finding ids found in data/{file}: did its format change? update ID_VALUED_KEYS"
        );
    }
}

/// String literals that spell a finding id, which code must not use (it names findings
/// through `FindingId`), except where the same words mean something else.
#[test]
fn code_names_findings_only_through_the_typed_id() {
    // (file, literal, why it is not a finding id)
    const NOT_FINDINGS: &[(&str, &str, &str)] = &[
        (
            "src/lab/mod.rs",
            "no-secure-renegotiation",
            "lab endpoint name",
        ),
        ("src/lab/mod.rs", "sni-required", "lab endpoint name"),
        (
            "src/doctor/fixture/tests.rs",
            "no-secure-renegotiation",
            "lab endpoint name",
        ),
        (
            "src/doctor/fixture/tests.rs",
            "sni-required",
            "lab endpoint name",
        ),
        (
            "src/scan/properties.rs",
            "no-secure-renegotiation",
            "lab endpoint name",
        ),
        (
            "src/report/demo.rs",
            "no-secure-renegotiation",
            "lab endpoint name",
        ),
        (
            "src/audit/tests.rs",
            "no-secure-renegotiation",
            "lab endpoint name",
        ),
        ("src/audit/tests.rs", "sni-required", "lab endpoint name"),
        (
            "src/audit/tests.rs",
            "closed-on-server-name",
            "lab endpoint name",
        ),
        (
            "src/doctor/fixture/tests.rs",
            "closed-on-server-name",
            "lab endpoint name",
        ),
        (
            "src/explain/mod.rs",
            "cert-expired",
            "knowledge-base entry id",
        ),
        (
            "src/finding/id.rs",
            "cert-expired",
            "the id's own string, tested",
        ),
    ];
    let mut files = Vec::new();
    files_under(&root().join("src"), "rs", &mut files);
    let mut found = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(root()).unwrap().display().to_string();
        if rel == "src/finding/references.rs" {
            continue; // the exceptions above
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            for id in FindingId::ALL {
                let literal = format!("\"{}\"", id.as_str());
                if line.contains(&literal)
                    && !NOT_FINDINGS
                        .iter()
                        .any(|(file, lit, _)| *file == rel && *lit == id.as_str())
                {
                    found.push(format!("{rel}:{}: {literal}", n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "name findings with crate::finding::FindingId, not strings:\n  {}",
        found.join("\n  ")
    );
}
