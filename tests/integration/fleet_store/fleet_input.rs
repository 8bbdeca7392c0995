//! `scan -i FILE --db`: every line of the fleet run recorded as it is written, in one run,
//! the same as importing the JSON Lines afterwards.

use super::*;
use crate::common::servers::free_port;

#[test]
fn a_scan_i_run_records_each_line_as_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("fleet.sqlite");
    let db_arg = db.to_str().unwrap();
    let (legacy, modern) = (Cert::new(d, "legacy", 30), Cert::new(d, "modern", 90));
    let (lp, mp, deadp) = (free_port(), free_port(), free_port());
    let _l = legacy.serve_at(lp, LEGACY);
    let _m = modern.serve_at(mp, MODERN);
    let list = d.join("targets.txt");
    std::fs::write(
        &list,
        format!(
            "# the fleet\n{}\n\n{}\n{}\n",
            target(lp),
            target(mp),
            target(deadp)
        ),
    )
    .unwrap();
    let out = d.join("out.jsonl");
    let (list_arg, out_arg) = (list.to_str().unwrap(), out.to_str().unwrap());
    run(
        &[
            "scan",
            "-i",
            list_arg,
            "-o",
            out_arg,
            "--db",
            db_arg,
            "--run-label",
            "live",
            "--shard",
            "0/1",
        ],
        0,
    );
    let runs = fleet_json(&["runs", "--db", db_arg]);
    let live = &runs[0];
    assert_eq!(
        (&live["label"], &live["command"], &live["shard"]),
        (&json!("live"), &json!("scan"), &json!("0/1"))
    );
    assert_eq!((&live["targets"], &live["failed"]), (&json!(3), &json!(1)));
    assert!(live["finished"].is_string(), "{live}");

    // The JSON Lines it wrote, imported, are the same run.
    fleet_json(&["import", out_arg, "--db", db_arg, "--run-label", "imported"]);
    let diff = fleet_json(&["diff", "live", "imported", "--db", db_arg]);
    assert_eq!(diff["counts"]["unchanged"], 3, "{diff:#}");
    assert_eq!(diff["targets"], json!([]));

    let summary = fleet_json(&["summary", "--db", db_arg, "--run", "live"]);
    assert_eq!(
        summary["protocols"],
        json!([
            {"version": "tls1_0", "name": "TLSv1.0", "targets": 1},
            {"version": "tls1_1", "name": "TLSv1.1", "targets": 1},
            {"version": "tls1_2", "name": "TLSv1.2", "targets": 2},
            {"version": "tls1_3", "name": "TLSv1.3", "targets": 2}
        ])
    );
    assert_eq!(
        summary["failed"],
        json!([{"target": target(deadp), "kind": "connect", "error": refused(deadp)}])
    );
    let expiring = &summary["expiring"]["certificates"];
    assert_eq!(expiring.as_array().unwrap().len(), 1, "{expiring}");
    assert_eq!(expiring[0]["fingerprint"], legacy.fingerprint());
}

#[test]
fn a_check_i_run_records_its_diagnoses() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("fleet.sqlite");
    let db_arg = db.to_str().unwrap();
    let cert = Cert::new(d, "server", 30);
    let port = free_port();
    let _server = cert.serve_at(port, MODERN);
    let list = d.join("targets.txt");
    std::fs::write(&list, format!("{}\n", target(port))).unwrap();
    let out = run(&["check", "-i", list.to_str().unwrap(), "--db", db_arg], 0).stdout;
    let line: Value = serde_json::from_str(out.trim()).unwrap();
    let mut expected: Vec<(String, String)> = line["diagnoses"][0]["findings"]
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
    assert_eq!(summary["run"]["command"], "check");
    assert_eq!(summary["run"]["targets"], 1);
    let mut got: Vec<(String, String)> = summary["findings"]
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
    got.sort();
    assert_eq!(got, expected);
    assert!(!got.is_empty());
}
