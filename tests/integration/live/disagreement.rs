//! A crafted server where the prediction is wrong: it answers the ClientHello normally (so a
//! replayed hello predicts success) and hangs up on the client's key exchange. The report
//! says the real clients contradict the prediction, the verdict follows them (exit code 1),
//! and `--record-disagreements` keeps each case.

use super::lab::{live_check, observed};
use crate::common::cli::tlsdoctor;
use crate::common::servers::{HangsUpAfterHello, openssl_s_server};

#[test]
fn a_server_that_hangs_up_after_its_hello_contradicts_the_prediction() {
    let backend = openssl_s_server(&["-tls1_2"]);
    let crafted = HangsUpAfterHello::start(backend.addr());
    let ca = backend.cert.clone().unwrap();
    let ca = ca.to_str().unwrap();
    let target = crafted.target();
    let base = [
        "check",
        &target,
        "--sni",
        "localhost",
        "--cafile",
        ca,
        "--client",
        "python",
        "--timeout",
        "15",
    ];

    // Predicted alone, Python connects: nothing stops it.
    let predicted = tlsdoctor(&[&base[..], &["--json"]].concat());
    assert_eq!(predicted.code, 0, "{}", predicted.stdout);
    let doc = predicted.json();
    assert_eq!(doc["diagnoses"][0]["verdicts"][0]["source"], "predicted");
    assert_eq!(doc["diagnoses"][0]["verdicts"][0]["connects"], true);

    // Observed, every Python fails, and the report follows it.
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("cases");
    let fixtures_arg = fixtures.to_str().unwrap().to_string();
    let args = [
        &base[..],
        &["--json", "--record-disagreements", &fixtures_arg],
    ]
    .concat();
    let r = live_check(&args);
    assert_eq!(
        r.code, 1,
        "the verdict follows the observation: {}",
        r.stdout
    );
    let doc = r.json();
    let d = &doc["diagnoses"][0];
    let pythons = observed(&doc, "python-ssl");
    assert!(!pythons.is_empty(), "{:#}", d["live"]);
    for p in &pythons {
        assert_eq!(p["observed"]["connects"], false, "{p:#}");
        assert_eq!(p["predicted"]["connects"], true, "{p:#}");
        assert_eq!(p["agreement"], "contradicts");
        assert_eq!(
            p["baseline"]["connects"], true,
            "--json carries the --no-live prediction too"
        );
    }
    assert_eq!(d["live"]["disagreements"], pythons.len());
    let ids: Vec<&str> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"live-client-fails"), "{ids:?}");
    assert!(ids.contains(&"live-prediction-contradicted"), "{ids:?}");
    let verdict = d["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["source"] == "observed")
        .unwrap();
    assert_eq!(verdict["connects"], false);
    assert_eq!(verdict["agreement"], "contradicts");

    // One fixture per contradiction: the real hello, the server's answer, both verdicts.
    let files: Vec<_> = std::fs::read_dir(&fixtures).unwrap().flatten().collect();
    assert_eq!(files.len(), pythons.len());
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(files[0].path()).unwrap()).unwrap();
    assert!(
        fixture["client_hello"]
            .as_str()
            .unwrap()
            .starts_with("160301"),
        "{fixture:#}"
    );
    assert!(
        fixture["server_answer"]
            .as_str()
            .unwrap()
            .starts_with("160303")
    );
    assert!(fixture["server_flight"]["server_hello"].is_object());
    assert_eq!(fixture["observed"]["connects"], false);
    assert_eq!(fixture["predicted"]["connects"], true);
    assert!(fixture["predicted_reply"]["answer"].is_object());

    // The human report says so plainly.
    let human = live_check(&base);
    assert!(human.stdout.contains("contradict it"), "{}", human.stdout);
    assert!(human.stdout.contains("observed"), "{}", human.stdout);
    assert!(
        human.stdout.contains("the prediction said it connects"),
        "{}",
        human.stdout
    );
}
