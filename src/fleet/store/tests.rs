//! The store against synthetic documents of the shape `scan --json` prints.

use super::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const DAY: i64 = 86_400;
/// A fixed "now" for the tests: 2026-12-01T00:00:00Z.
const NOW: i64 = 1_796_083_200;

/// A scan document for `target` accepting `versions`, with one suite per version, a leaf
/// certificate `fp` expiring `days` after NOW, and `findings`.
fn scan(target: &str, versions: &[&str], fp: &str, days: i64, findings: &[&str]) -> Value {
    let protocols: Vec<Value> = ["tls1_0", "tls1_1", "tls1_2", "tls1_3"]
        .iter()
        .map(|v| json!({"version": v, "accepted": versions.contains(v)}))
        .collect();
    let suites: Vec<Value> = versions
        .iter()
        .map(|v| {
            json!({"version": v, "server_preference": null, "suites": [
            {"id": "0xc02f", "iana": format!("SUITE_{v}"), "strength": {"level": "secure"}}]})
        })
        .collect();
    let findings: Vec<Value> = findings
        .iter()
        .map(|f| json!({"id": f, "severity": "warning", "title": "t"}))
        .collect();
    json!({
        "schema_version": 2, "tool": "tlsdoctor 9.9.9", "input": target, "notes": [],
        "errors": [],
        "servers": [{
            "target": target, "address": format!("127.0.0.1:{}", target.len()),
            "protocols": protocols, "cipher_suites": suites,
            "certificate_chain": {"certificates": [{
                "subject": format!("CN={target}"), "issuer": "CN=ca", "sans": [],
                "not_before": "2026-01-01T00:00:00Z", "not_after": rfc3339(NOW + days * DAY + 3600),
                "not_after_unix": NOW + days * DAY + 3600, "sha256_fingerprint": fp}],
                "findings": findings}
        }]
    })
}

fn dead(target: &str) -> Value {
    json!({"input": target, "servers": [], "errors": [{"target": target, "address": null,
        "error": format!("cannot connect to {target}: Connection refused")}]})
}

fn run_of(store: &mut Store, docs: &[Value]) -> RunId {
    let run = store.begin_run(&NewRun::this_process("scan")).unwrap();
    for d in docs {
        store.record_target(run, d).unwrap();
    }
    store.finish_run(run).unwrap();
    run
}

#[test]
fn a_new_file_gets_the_schema_and_reopens_without_migrating_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite");
    {
        let mut s = Store::open(&path).unwrap();
        run_of(&mut s, &[scan("a", &["tls1_2"], "F1", 90, &[])]);
    }
    let s = Store::open(&path).unwrap();
    let v: i64 = s
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    let mode: String = s
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(s.runs().unwrap().len(), 1);
}

#[test]
fn another_programs_sqlite_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.sqlite");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(c);
    assert!(matches!(Store::open(&path), Err(StoreError::NotAStore)));
    let c = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn a_store_from_a_newer_tlsdoctor_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite");
    drop(Store::open(&path).unwrap());
    let c = rusqlite::Connection::open(&path).unwrap();
    c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(c);
    assert!(matches!(
        Store::open(&path),
        Err(StoreError::NewerSchema { .. })
    ));
}

#[test]
fn recording_a_target_again_in_the_same_run_replaces_it() {
    let mut s = Store::in_memory().unwrap();
    let run = s.begin_run(&NewRun::this_process("scan")).unwrap();
    s.record_target(run, &scan("A.test", &["tls1_0"], "F1", 9, &["x"]))
        .unwrap();
    s.record_target(run, &scan("a.test", &["tls1_3"], "F2", 99, &[]))
        .unwrap();
    s.finish_run(run).unwrap();
    let sum = s.summary(run, 30, NOW).unwrap();
    assert_eq!(sum.run.targets, 1);
    assert_eq!(sum.protocols.len(), 1);
    assert_eq!(sum.protocols[0].version, "tls1_3");
    assert!(sum.findings.is_empty());
    assert!(sum.expiring.certificates.is_empty());
    let facts: i64 = s
        .conn()
        .query_row(
            "SELECT (SELECT count(*) FROM versions) + (SELECT count(*) FROM suites)
                  + (SELECT count(*) FROM certificates) + (SELECT count(*) FROM findings)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(facts, 3, "the first record's facts went with it");
}

#[test]
fn the_summary_counts_targets_per_fact() {
    let mut s = Store::in_memory().unwrap();
    let run = run_of(
        &mut s,
        &[
            scan("a", &["tls1_0", "tls1_2"], "F1", 10, &["w1", "w2"]),
            scan("b", &["tls1_2", "tls1_3"], "F2", 40, &["w1"]),
            scan("c", &["tls1_3"], "F3", -2, &[]),
            dead("d"),
        ],
    );
    let sum = s.summary(run, 30, NOW).unwrap();
    assert_eq!((sum.run.targets, sum.run.failed), (4, 1));
    let f: Vec<(&str, u64)> = sum
        .findings
        .iter()
        .map(|f| (f.id.as_str(), f.targets))
        .collect();
    assert_eq!(f, [("w1", 2), ("w2", 1)]);
    let p: Vec<(&str, &str, u64)> = sum
        .protocols
        .iter()
        .map(|p| (p.version.as_str(), p.name.as_str(), p.targets))
        .collect();
    assert_eq!(
        p,
        [
            ("tls1_0", "TLSv1.0", 1),
            ("tls1_2", "TLSv1.2", 2),
            ("tls1_3", "TLSv1.3", 2)
        ]
    );
    assert_eq!(sum.suites.len(), 3);
    assert_eq!(sum.suites[1].suite, "SUITE_tls1_2");
    assert_eq!(sum.suites[1].targets, 2);
    let e: Vec<(&str, i64)> = sum
        .expiring
        .certificates
        .iter()
        .map(|c| (c.target.as_str(), c.days_left))
        .collect();
    assert_eq!(e, [("c", -2), ("a", 10)]);
    assert_eq!(sum.failed.len(), 1);
    assert_eq!(sum.failed[0].target, "d");
    assert!(sum.failed[0].error.contains("Connection refused"));
}

#[test]
fn the_diff_names_every_kind_of_change() {
    let mut s = Store::in_memory().unwrap();
    let a = run_of(
        &mut s,
        &[
            scan("same", &["tls1_2"], "S", 90, &[]),
            scan("legacy", &["tls1_0", "tls1_2"], "L", 90, &["old"]),
            scan("renewed", &["tls1_2"], "R1", 5, &[]),
            scan("dies", &["tls1_2"], "D", 90, &[]),
            dead("comes-back"),
            scan("gone", &["tls1_2"], "G", 90, &[]),
        ],
    );
    let b = run_of(
        &mut s,
        &[
            scan("same", &["tls1_2"], "S", 90, &[]),
            scan("legacy", &["tls1_2", "tls1_3"], "L", 90, &["new"]),
            scan("renewed", &["tls1_2"], "R2", 365, &[]),
            dead("dies"),
            scan("comes-back", &["tls1_3"], "C", 90, &[]),
            scan("new", &["tls1_3"], "N", 90, &[]),
        ],
    );
    let d = s.diff(a, b).unwrap();
    assert_eq!(
        d.counts,
        diff::DiffCounts {
            added: 1,
            removed: 1,
            changed: 2,
            newly_failing: 1,
            recovered: 1,
            unchanged: 1
        }
    );
    let by = |k: &str| d.targets.iter().find(|t| t.key == k).unwrap();
    let legacy = by("legacy");
    assert_eq!(legacy.versions_added, ["tls1_3"]);
    assert_eq!(legacy.versions_dropped, ["tls1_0"]);
    assert_eq!(legacy.suites_dropped[0].suite, "SUITE_tls1_0");
    assert_eq!(legacy.findings_appeared[0].id, "new");
    assert_eq!(legacy.findings_resolved[0].id, "old");
    assert!(legacy.certificate.is_none());
    let renewed = by("renewed").certificate.as_ref().unwrap();
    assert_eq!(renewed.old[0].fingerprint, "R1");
    assert_eq!(renewed.new[0].fingerprint, "R2");
    assert_eq!(
        renewed.new[0].not_after.as_deref(),
        Some(rfc3339(NOW + 365 * DAY + 3600).as_str())
    );
    assert_eq!(by("dies").change, diff::ChangeKind::NewlyFailing);
    assert!(by("dies").error.as_ref().unwrap().contains("refused"));
    assert_eq!(by("comes-back").change, diff::ChangeKind::Recovered);
    assert_eq!(by("gone").change, diff::ChangeKind::Removed);
    assert_eq!(by("new").change, diff::ChangeKind::Added);
    assert!(d.targets.iter().all(|t| t.key != "same"));
}

#[test]
fn runs_are_found_by_number_label_latest_and_previous() {
    let mut s = Store::in_memory().unwrap();
    let first = run_of(&mut s, &[]);
    let mut labelled = NewRun::this_process("scan");
    labelled.label = Some("monday".into());
    let second = s.begin_run(&labelled).unwrap();
    let sel = |t: &str| s.resolve(&t.parse().unwrap());
    assert_eq!(sel("latest").unwrap(), second);
    assert_eq!(sel("previous").unwrap(), first);
    assert_eq!(sel("monday").unwrap(), second);
    assert_eq!(sel(&first.to_string()).unwrap(), first);
    assert!(matches!(sel("99"), Err(StoreError::NoRun(_))));
    assert!(matches!(sel("tuesday"), Err(StoreError::NoRun(_))));
}

#[test]
fn shard_files_import_as_one_run_and_again_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let line = |n: u64, doc: Value| {
        let mut v = doc;
        let target = v["input"].as_str().unwrap().to_string();
        let m = v.as_object_mut().unwrap();
        m.insert("fleet_line".into(), json!(1));
        m.insert("command".into(), json!("scan"));
        m.insert("line".into(), json!(n));
        m.insert("key".into(), json!(target.to_ascii_lowercase()));
        m.insert("target".into(), json!(target));
        m.insert("status".into(), json!("ok"));
        m.insert("finished_at".into(), json!(NOW));
        m.insert("elapsed_ms".into(), json!(5));
        v.to_string()
    };
    let s0 = dir.path().join("shard-0.jsonl");
    let s1 = dir.path().join("shard-1.jsonl");
    std::fs::write(
        &s0,
        format!(
            "{}\n\n{}\nnot json\n",
            line(1, scan("a", &["tls1_2"], "A", 90, &[])),
            line(3, scan("c", &["tls1_3"], "C", 90, &[]))
        ),
    )
    .unwrap();
    std::fs::write(
        &s1,
        format!(
            "{}\n{}",
            line(2, scan("b", &["tls1_2"], "B", 90, &[])),
            line(
                4,
                json!({"fleet_line": 1, "command": "scan", "line": 4, "target": "nope",
                "key": "nope", "status": "error", "finished_at": NOW, "elapsed_ms": 1,
                "error": {"kind": "resolve", "message": "unknown host"}})
                .to_string()
                .parse::<Value>()
                .map(|v| {
                    let mut v = v;
                    v.as_object_mut()
                        .unwrap()
                        .insert("input".into(), json!("nope"));
                    v
                })
                .unwrap()
            )
        ),
    )
    .unwrap();
    let mut s = Store::in_memory().unwrap();
    let files = [s0.clone(), s1.clone()];
    let r = import_files(&mut s, &files, Some("week-48"), vec![]).unwrap();
    assert_eq!((r.lines, r.targets, r.failed), (4, 4, 1));
    assert!(!r.appended);
    assert_eq!(r.skipped_count, 1);
    assert_eq!(
        (r.skipped[0].line, r.skipped[0].file.clone()),
        (4, s0.display().to_string())
    );
    let again = import_files(&mut s, &files[1..], Some("week-48"), vec![]).unwrap();
    assert_eq!(again.run, r.run);
    assert!(again.appended);
    assert_eq!((again.targets, again.failed), (4, 1));
    assert_eq!(s.runs().unwrap().len(), 1);
    let run = s.run(r.run).unwrap();
    assert_eq!(run.tool_version, "9.9.9");
    assert_eq!(run.command, "import");
}

/// A synthetic target of a realistic size: four versions, 30 suites each, a two-certificate
/// chain, three findings (about 21 KB of JSON, like a real full scan).
fn full_scan_document() -> Value {
    let mut doc = scan(
        "x",
        &["tls1_0", "tls1_1", "tls1_2", "tls1_3"],
        "FP",
        30,
        &["a", "b", "c"],
    );
    let suites: Vec<Value> = (0..30)
        .map(|i| {
            json!({"id": format!("0x{i:04x}"), "iana": format!("TLS_SUITE_{i}"),
            "openssl": null, "kx": "ECDHE", "auth": "RSA", "enc": "AES_128_GCM", "bits": 128,
            "mac": "AEAD", "strength": {"level": "secure", "reasons": []}})
        })
        .collect();
    for vs in doc["servers"][0]["cipher_suites"].as_array_mut().unwrap() {
        vs["suites"] = json!(suites);
    }
    let chain = &mut doc["servers"][0]["certificate_chain"]["certificates"];
    let leaf = chain[0].clone();
    chain.as_array_mut().unwrap().push(leaf);
    doc
}

/// Record `n` synthetic targets one by one (each committed, as `--db` does during a run)
/// and then import the same as JSON Lines (500 per transaction); print both rates.
fn measure_recording(n: usize) -> (Duration, Duration) {
    let mut doc = full_scan_document();
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("bench.sqlite")).unwrap();
    let run = s.begin_run(&NewRun::this_process("scan")).unwrap();
    let bytes = doc.to_string().len();
    let mut jsonl = String::new();
    let start = Instant::now();
    for i in 0..n {
        doc["input"] = json!(format!("host-{i}.test:443"));
        s.record_target(run, &doc).unwrap();
        jsonl.push_str(&doc.to_string());
        jsonl.push('\n');
    }
    s.finish_run(run).unwrap();
    let live = start.elapsed();
    assert_eq!(s.run(run).unwrap().targets, n as u64);
    let file = dir.path().join("run.jsonl");
    std::fs::write(&file, jsonl).unwrap();
    let start = Instant::now();
    let report = import_files(&mut s, &[file], None, vec![]).unwrap();
    let import = start.elapsed();
    assert_eq!(report.targets, n as u64);
    for (what, took) in [("recorded one by one", live), ("imported", import)] {
        println!(
            "results store: {n} targets ({bytes} bytes of JSON each) {what} in {:.2} s \
             ({:.0} targets/s)",
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64()
        );
    }
    (live, import)
}

/// A quick guard on recording speed in every run: 1,000 targets each way; the bound only
/// catches a store that lost its transactions.
#[test]
fn a_thousand_targets_record_in_seconds() {
    let (live, import) = measure_recording(1000);
    assert!(live < Duration::from_secs(60), "{live:?}");
    assert!(import < Duration::from_secs(60), "{import:?}");
}

/// The measurement: 10,000 targets each way. `cargo test --lib
/// fleet::store::tests::ten_thousand -- --ignored --nocapture` .
#[test]
#[ignore = "a measurement: about a minute in a debug build"]
fn ten_thousand_targets_recorded_and_imported() {
    let (live, import) = measure_recording(10_000);
    assert!(live < Duration::from_secs(600), "{live:?}");
    assert!(import < Duration::from_secs(600), "{import:?}");
}
