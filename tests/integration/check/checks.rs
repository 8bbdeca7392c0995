//! `check --checks LIST`: the measurement runs only the checks named, as `scan --checks`
//! does. The sections of checks not run are absent, the clients are still simulated and the
//! chain judged, and `--audit` gives no grade for such an incomplete measurement.

use crate::common::cli::tlsdoctor;
use crate::common::pki::Pki;
use crate::common::servers::openssl_s_server_with;
use serde_json::Value;

fn check(args: &[&str]) -> Value {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", "--timeout", "5"]);
    let run = tlsdoctor(&all);
    assert!(
        run.code == 0 || run.code == 1,
        "check could not run ({}): {}\n{}",
        run.code,
        run.stdout,
        run.stderr
    );
    run.json()
}

#[test]
fn check_runs_only_the_checks_named_and_grades_only_a_complete_measurement() {
    let pki = Pki::build();
    let int = pki.path("int.pem");
    let server = openssl_s_server_with(
        &["-cert_chain", int.to_str().unwrap()],
        &pki.path("good.pem"),
        &pki.path("good.key"),
        None,
    );
    let root = pki.path("root.pem");
    let target = format!("localhost:{}", server.port);
    let base = [
        target.as_str(),
        "--cafile",
        root.to_str().unwrap(),
        "--audit",
    ];

    let full = check(&base);
    let d = &full["diagnoses"][0];
    assert!(d["scan"]["cipher_suites"].is_array(), "{d:#}");
    assert!(
        d["audit"]["grade"]["letter"].is_string(),
        "{:#}",
        d["audit"]
    );

    let mut args = base.to_vec();
    args.extend_from_slice(&["--checks", "protocols"]);
    let few = check(&args);
    let d = &few["diagnoses"][0];
    let scan = d["scan"].as_object().expect("a scan section");
    assert!(scan.contains_key("protocols"), "{scan:#?}");
    for left_out in ["cipher_suites", "key_exchange", "properties"] {
        assert!(
            !scan.contains_key(left_out),
            "{left_out} present: {scan:#?}"
        );
    }
    assert!(d.get("audit").is_none_or(Value::is_null), "{d:#}");
    assert!(
        d["checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().starts_with("no audit grade")),
        "{:#}",
        d["checked"]
    );
    // The diagnosis itself still stands on the simulations and the chain.
    assert!(!d["simulations"].as_array().unwrap().is_empty(), "{d:#}");
    assert!(d["certificate_chain"].is_object(), "{d:#}");
    let accepted = |d: &Value| -> Vec<String> {
        d["scan"]["protocols"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["accepted"] == true)
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(accepted(d), accepted(&full["diagnoses"][0]));

    // An unknown name is refused with the list of names, as scan --checks does.
    let run = tlsdoctor(&["check", &target, "--checks", "nonesuch"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("certificate, ocsp, default"),
        "{}",
        run.stderr
    );
}
