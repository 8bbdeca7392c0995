//! A small fleet scanned into a results store, changed, and scanned again: the summary of
//! the first run and the diff between the two, exactly.

use super::*;
use crate::common::servers::free_port;

/// One expected `expiring.certificates` entry.
fn expiring(port: u16, cert: &Cert) -> Value {
    json!({"target": target(port), "address": target(port), "position": 0,
           "subject": "CN=localhost", "not_after": cert.not_after(), "days_left": 29,
           "fingerprint": cert.fingerprint()})
}

fn leaf(cert: &Cert) -> Value {
    json!({"fingerprint": cert.fingerprint(), "subject": "CN=localhost",
           "not_after": cert.not_after()})
}

/// A diff entry with nothing listed but its kind (and error).
fn bare(port: u16, change: &str, error: Option<String>) -> Value {
    json!({"target": target(port), "key": target(port), "change": change,
           "versions_added": [], "versions_dropped": [], "suites_added": [],
           "suites_dropped": [], "certificate": null, "findings_appeared": [],
           "findings_resolved": [], "error": error})
}

/// Scan every (port, alive) into the run `label`: the first alone (it creates the run, so
/// the run's arguments are its), the rest at once, as parallel workers would.
fn scan_run(db: &Path, label: &str, first: u16, rest: &[(u16, bool)]) {
    scan_into(db, label, &target(first), true);
    std::thread::scope(|s| {
        for &(port, alive) in rest {
            s.spawn(move || scan_into(db, label, &target(port), alive));
        }
    });
}

#[test]
fn summary_and_diff_follow_a_changed_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("fleet.sqlite");
    let db_arg = db.to_str().unwrap();
    let legacy = Cert::new(d, "legacy", 30);
    let renewed_before = Cert::new(d, "renewed-1", 30);
    let renewed_after = Cert::new(d, "renewed-2", 90);
    let dies = Cert::new(d, "dies", 30);
    let steady = Cert::new(d, "steady", 30);
    let late = Cert::new(d, "late", 30);
    let new = Cert::new(d, "new", 30);
    let [lp, rp, dp, sp, latep, retiredp, np] = [(); 7].map(|()| free_port());

    // Week 1: four servers; `late` and `retired` do not listen.
    let legacy_server = legacy.serve_at(lp, LEGACY);
    let renewed_server = renewed_before.serve_at(rp, MODERN);
    let dies_server = dies.serve_at(dp, MODERN);
    let _steady_server = steady.serve_at(sp, MODERN);
    let rest = [
        (rp, true),
        (dp, true),
        (sp, true),
        (latep, false),
        (retiredp, false),
    ];
    scan_run(&db, "week-1", lp, &rest);

    // The fleet changes: legacy drops TLS 1.0 and 1.1, renewed gets a new certificate,
    // dies dies, late comes up, new is new, retired is no longer scanned.
    drop((legacy_server, renewed_server, dies_server));
    let no_old: Vec<&str> = LEGACY
        .iter()
        .copied()
        .chain(["-no_tls1", "-no_tls1_1"])
        .collect();
    let _legacy_server = legacy.serve_at(lp, &no_old);
    let _renewed_server = renewed_after.serve_at(rp, MODERN);
    let _late_server = late.serve_at(latep, MODERN);
    let _new_server = new.serve_at(np, MODERN);
    let rest = [
        (rp, true),
        (dp, false),
        (sp, true),
        (latep, true),
        (np, true),
    ];
    scan_run(&db, "week-2", lp, &rest);

    let mut summary = fleet_json(&["summary", "--db", db_arg, "--run", "week-1"]);
    take_time(&mut summary["run"], "started");
    take_time(&mut summary["run"], "finished");
    take_time(&mut summary["expiring"], "as_of");
    let mut certificates = vec![
        expiring(lp, &legacy),
        expiring(rp, &renewed_before),
        expiring(dp, &dies),
        expiring(sp, &steady),
    ];
    certificates.sort_by_key(|c| (c["not_after"].to_string(), c["target"].to_string()));
    let mut failed = vec![
        json!({"target": target(latep), "kind": "connect", "error": refused(latep)}),
        json!({"target": target(retiredp), "kind": "connect", "error": refused(retiredp)}),
    ];
    failed.sort_by_key(|f| f["target"].to_string());
    let week1 = |targets: u64, failed: u64| {
        json!({"id": 1, "label": "week-1", "command": "scan",
            "arguments": ["scan", target(lp), "--json", "--db", db_arg, "--run-label", "week-1"],
            "tool_version": env!("CARGO_PKG_VERSION"), "shard": null,
            "started": "<time>", "finished": "<time>", "targets": targets, "failed": failed})
    };
    let expected = json!({
        "schema_version": 2,
        "tool": format!("tlsdoctor {}", env!("CARGO_PKG_VERSION")),
        "run": week1(6, 2),
        // The chain's findings, and the audit's: TLS 1.0 and 1.1 with a CBC suite.
        "findings": [
            {"id": "cert-self-signed", "severity": "error", "targets": 4},
            {"id": "cert-expires-soon", "severity": "warning", "targets": 4},
            {"id": "legacy-protocols-enabled", "severity": "warning", "targets": 1},
            {"id": "beast", "severity": "info", "targets": 1},
            {"id": "lucky13", "severity": "info", "targets": 1}
        ],
        "protocols": [
            {"version": "tls1_0", "name": "TLSv1.0", "targets": 1},
            {"version": "tls1_1", "name": "TLSv1.1", "targets": 1},
            {"version": "tls1_2", "name": "TLSv1.2", "targets": 4},
            {"version": "tls1_3", "name": "TLSv1.3", "targets": 4}
        ],
        "suites": [
            {"version": "tls1_0", "suite": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
             "strength": "weak", "targets": 1},
            {"version": "tls1_1", "suite": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
             "strength": "weak", "targets": 1},
            {"version": "tls1_2", "suite": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
             "strength": "secure", "targets": 4},
            {"version": "tls1_2", "suite": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
             "strength": "weak", "targets": 1},
            {"version": "tls1_3", "suite": "TLS_AES_128_GCM_SHA256",
             "strength": "secure", "targets": 4}
        ],
        "expiring": {"within_days": 30, "as_of": "<time>", "certificates": certificates},
        "failed": failed
    });
    assert_eq!(
        summary,
        expected,
        "summary:\n{}",
        serde_json::to_string_pretty(&summary).unwrap()
    );

    let mut diff = fleet_json(&["diff", "week-1", "week-2", "--db", db_arg]);
    for run in ["run_a", "run_b"] {
        take_time(&mut diff[run], "started");
        take_time(&mut diff[run], "finished");
    }
    let mut legacy_change = bare(lp, "changed", None);
    legacy_change["versions_dropped"] = json!(["tls1_0", "tls1_1"]);
    legacy_change["suites_dropped"] = json!([
        {"version": "tls1_0", "suite": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
        {"version": "tls1_1", "suite": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"}
    ]);
    // BEAST needs CBC in TLS 1.0; LUCKY13 stays with CBC in TLS 1.2.
    legacy_change["findings_resolved"] = json!([
        {"id": "legacy-protocols-enabled", "severity": "warning"},
        {"id": "beast", "severity": "info"}
    ]);
    let mut renewed_change = bare(rp, "changed", None);
    renewed_change["certificate"] =
        json!({"old": [leaf(&renewed_before)], "new": [leaf(&renewed_after)]});
    renewed_change["findings_resolved"] =
        json!([{"id": "cert-expires-soon", "severity": "warning"}]);
    let mut changes = vec![
        legacy_change,
        renewed_change,
        bare(dp, "newly_failing", Some(refused(dp))),
        bare(latep, "recovered", Some(refused(latep))),
        bare(retiredp, "removed", None),
        bare(np, "added", None),
    ];
    changes.sort_by_key(|c| c["key"].to_string());
    let expected = json!({
        "schema_version": 2,
        "tool": format!("tlsdoctor {}", env!("CARGO_PKG_VERSION")),
        "run_a": week1(6, 2),
        "run_b": {"id": 2, "label": "week-2", "command": "scan",
            "arguments": ["scan", target(lp), "--json", "--db", db_arg, "--run-label", "week-2"],
            "tool_version": env!("CARGO_PKG_VERSION"), "shard": null,
            "started": "<time>", "finished": "<time>", "targets": 6, "failed": 1},
        "counts": {"added": 1, "removed": 1, "changed": 2, "newly_failing": 1,
                   "recovered": 1, "unchanged": 1},
        "targets": changes
    });
    assert_eq!(
        diff,
        expected,
        "diff:\n{}",
        serde_json::to_string_pretty(&diff).unwrap()
    );

    // The same diff for people: one block per changed target.
    let text = run(&["fleet", "diff", "previous", "latest", "--db", db_arg], 0).stdout;
    for line in [
        "  2 changed, 1 added, 1 removed, 1 newly failing, 1 recovered, 1 unchanged".into(),
        format!("  {} changed", target(lp)),
        "    versions dropped: TLSv1.0, TLSv1.1".into(),
        "    suites dropped: TLSv1.0 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, \
         TLSv1.1 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"
            .into(),
        format!("  {} newly failing: {}", target(dp), refused(dp)),
        format!("  {} removed", target(retiredp)),
        "    findings resolved: cert-expires-soon (warning)".into(),
    ] {
        assert!(text.contains(&line), "no {line:?} in:\n{text}");
    }
    let certificate_line = format!(
        "    certificate replaced: CN=localhost {} (expires {}) -> CN=localhost {} (expires {})",
        renewed_before.fingerprint(),
        renewed_before.not_after(),
        renewed_after.fingerprint(),
        renewed_after.not_after()
    );
    assert!(
        text.contains(&certificate_line),
        "no {certificate_line:?} in:\n{text}"
    );
}
