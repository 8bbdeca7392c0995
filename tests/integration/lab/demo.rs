//! `tlsdoctor demo` diagnoses every lab endpoint as the lab says it is broken, and
//! `tlsdoctor check` without a target runs the same.

use crate::common::cli::tlsdoctor;

#[test]
fn demo_diagnoses_every_endpoint() {
    let run = tlsdoctor(&["demo", "--json"]);
    let doc = run.json();
    let rows = doc["rows"].as_array().expect("rows");
    assert!(rows.len() >= 23, "{} endpoints", rows.len());
    let wrong: Vec<String> = rows
        .iter()
        .filter(|r| r["correct"] != true)
        .map(|r| {
            format!(
                "{}: expected {}, got errors {} warnings {}",
                r["endpoint"], r["expected"], r["errors"], r["warnings"]
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "misdiagnosed endpoints:\n{}",
        wrong.join("\n")
    );
    assert_eq!(run.code, 0);
    // The healthy endpoint raises no error at all.
    let healthy = rows.iter().find(|r| r["endpoint"] == "healthy").unwrap();
    assert_eq!(healthy["errors"].as_array().unwrap().len(), 0);
}

#[test]
fn check_without_target_runs_the_demo() {
    let run = tlsdoctor(&["check"]);
    assert!(run.stdout.contains("tlsdoctor demo"), "{}", run.stdout);
    assert!(
        run.stdout.contains("no-secure-renegotiation"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("endpoints diagnosed as expected"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Example: the full diagnosis"),
        "{}",
        run.stdout
    );
}
