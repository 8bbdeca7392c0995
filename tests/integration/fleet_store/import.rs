//! JSON Lines into the store: shard files of one run import as one run, equal to the same
//! run recorded live; importing again changes nothing; `check` documents and hostile
//! strings are kept as they are and shown escaped.

use super::*;
use crate::common::servers::free_port;

fn summary_without_run(db: &str, run: &str) -> Value {
    let mut s = fleet_json(&["summary", "--db", db, "--run", run]);
    let m = s.as_object_mut().unwrap();
    m.remove("run");
    m["expiring"].as_object_mut().unwrap().remove("as_of");
    s
}

fn no_change(diff: &Value, targets: u64) {
    assert_eq!(
        diff["counts"],
        json!({"added": 0, "removed": 0, "changed": 0, "newly_failing": 0, "recovered": 0,
               "unchanged": targets}),
        "{diff:#}"
    );
    assert_eq!(diff["targets"], json!([]));
}

#[test]
fn shard_files_import_as_the_run_recorded_live() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("fleet.sqlite");
    let db_arg = db.to_str().unwrap();
    let (legacy, modern) = (Cert::new(d, "legacy", 30), Cert::new(d, "modern", 90));
    let (lp, mp, deadp) = (free_port(), free_port(), free_port());
    let _l = legacy.serve_at(lp, LEGACY);
    let _m = modern.serve_at(mp, MODERN);
    let docs: Vec<Value> = [(lp, true), (mp, true), (deadp, false)]
        .iter()
        .map(|&(port, alive)| scan_into(&db, "live", &target(port), alive))
        .collect();

    // Two shards; the legacy target also appears in the second one (a retried line).
    let shard0 = d.join("shard-0.jsonl");
    let shard1 = d.join("shard-1.jsonl");
    let lines: Vec<String> = docs
        .iter()
        .enumerate()
        .map(|(i, doc)| fleet_line(i as u64 + 1, doc))
        .collect();
    std::fs::write(&shard0, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    std::fs::write(&shard1, format!("{}\n\n{}\n", lines[1], lines[0])).unwrap();
    let (s0, s1) = (shard0.to_str().unwrap(), shard1.to_str().unwrap());

    let report = fleet_json(&["import", s0, s1, "--db", db_arg, "--run-label", "imported"]);
    assert_eq!(
        report,
        json!({"schema_version": 2, "run": 2, "appended": false, "files": [s0, s1],
               "lines": 4, "targets": 3, "failed": 1, "skipped_count": 0, "skipped": []})
    );
    no_change(
        &fleet_json(&["diff", "live", "imported", "--db", db_arg]),
        3,
    );
    // The same summary: a single scan's --db names its error's kind as a fleet line does.
    let live = summary_without_run(db_arg, "live");
    assert_eq!(live["failed"][0]["kind"], json!("connect"));
    assert_eq!(summary_without_run(db_arg, "imported"), live);
    let imported = &fleet_json(&["runs", "--db", db_arg])[1];
    assert_eq!(imported["command"], "import");
    assert_eq!(imported["tool_version"], env!("CARGO_PKG_VERSION"));

    // Again, and shard by shard into another run: the same three targets.
    let again = fleet_json(&["import", s1, "--db", db_arg, "--run-label", "imported"]);
    assert_eq!(
        (&again["run"], &again["appended"]),
        (&json!(2), &json!(true))
    );
    assert_eq!(
        (&again["targets"], &again["failed"]),
        (&json!(3), &json!(1))
    );
    for s in [s1, s0] {
        fleet_json(&["import", s, "--db", db_arg, "--run-label", "one-by-one"]);
    }
    no_change(
        &fleet_json(&["diff", "live", "one-by-one", "--db", db_arg]),
        3,
    );
    assert_eq!(
        fleet_json(&["runs", "--db", db_arg])
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn a_file_of_no_results_is_refused_and_a_bad_line_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite");
    let junk = dir.path().join("junk.jsonl");
    std::fs::write(&junk, "hello\n{\"servers\": []}\n").unwrap();
    let r = run(
        &[
            "fleet",
            "import",
            junk.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ],
        2,
    );
    assert!(r.stdout.contains("skipped 2 line(s):"), "{}", r.stdout);
    assert!(r.stdout.contains("junk.jsonl:1: not JSON"), "{}", r.stdout);
    // A summary of a store that is not there says so, and creates nothing.
    let missing = dir.path().join("missing.sqlite");
    let r = run(&["fleet", "summary", "--db", missing.to_str().unwrap()], 2);
    assert!(r.stderr.contains("no results store at"), "{}", r.stderr);
    assert!(!missing.exists());
    // Nor is another program's SQLite file written into.
    let r = run(&["scan", "127.0.0.1:1", "--db", junk.to_str().unwrap()], 2);
    assert!(
        r.stderr.contains("cannot open the results store"),
        "{}",
        r.stderr
    );
}

#[test]
fn check_results_are_recorded_with_their_findings() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    let db_arg = db.to_str().unwrap();
    let cert = Cert::new(dir.path(), "server", 30);
    let port = free_port();
    let _server = cert.serve_at(port, MODERN);
    let t = target(port);
    // A self-signed certificate is a finding of severity error: exit 1.
    let doc = run(&["check", &t, "--json", "--db", db_arg], 1).json();
    let mut expected: Vec<(String, String)> = doc["diagnoses"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().into(),
                f["severity"].as_str().unwrap().into(),
            )
        })
        .collect();
    expected.sort();
    expected.dedup();
    let summary = fleet_json(&["summary", "--db", db_arg]);
    let mut got: Vec<(String, String)> = summary["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["targets"], 1);
            (
                f["id"].as_str().unwrap().into(),
                f["severity"].as_str().unwrap().into(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, expected);
    assert!(
        got.iter().any(|(id, _)| id == "cert-self-signed"),
        "{got:?}"
    );
    assert_eq!(summary["run"]["command"], "check");
    assert_eq!(summary["protocols"][0]["version"], "tls1_2");
    assert_eq!(
        summary["expiring"]["certificates"][0]["fingerprint"],
        cert.fingerprint()
    );
}

#[test]
fn stored_peer_strings_are_escaped_in_text() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.sqlite");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let doc = json!({"input": "evil\u{1b}]0;owned\u{7}.test:443", "servers": [{
        "address": "127.0.0.1:443",
        "protocols": [{"version": "tls1_2", "accepted": true}],
        "certificate_chain": {"certificates": [{"subject": "CN=\u{202e}moc.elpmaxe",
            "issuer": "CN=x", "not_after": "soon", "not_after_unix": now + 86_400 * 3,
            "sha256_fingerprint": "AA"}],
        "findings": [{"id": "x\u{1b}[2Jy", "severity": "warning"}]}}]});
    let file = dir.path().join("evil.jsonl");
    std::fs::write(&file, format!("{doc}\n")).unwrap();
    let db_arg = db.to_str().unwrap();
    run(
        &["fleet", "import", file.to_str().unwrap(), "--db", db_arg],
        0,
    );
    let text = run(&["fleet", "summary", "--db", db_arg], 0).stdout;
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(text.contains("evil\\x1b]0;owned\\x07.test:443"), "{text}");
    assert!(text.contains("CN=\\u{202e}moc.elpmaxe"), "{text}");
    assert!(text.contains("x\\x1b[2Jy"), "{text}");
    // JSON keeps the strings as they were.
    let json = fleet_json(&["summary", "--db", db_arg]);
    assert_eq!(
        json["expiring"]["certificates"][0]["subject"],
        "CN=\u{202e}moc.elpmaxe"
    );
}
