//! `--format html`: one self-contained file, rendered in headless Chromium. The DOM has the
//! verdict, the client matrix (a row per simulated client), the chain diagram and the suite
//! table; the page fetched nothing and broke no rule of its own Content-Security-Policy; a
//! screenshot is saved (target/report-screenshots/).

use super::LabRun;
use crate::common::browser::render;
use crate::common::cli::tlsdoctor;
use std::path::{Path, PathBuf};

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `check ENDPOINT --format html -o FILE`; the file and the JSON document of the same check.
fn check_html(lab: &LabRun, endpoint: &str, dir: &Path) -> (PathBuf, serde_json::Value) {
    let file = dir.join(format!("{endpoint}.html"));
    let mut args = vec!["check".to_string()];
    args.extend(lab.check_args(endpoint));
    let mut json_args = args.clone();
    args.extend([
        "--format".into(),
        "html".into(),
        "-o".into(),
        file.display().to_string(),
    ]);
    let run = tlsdoctor(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run.code == 0 || run.code == 1, "{endpoint}: {}", run.stderr);
    json_args.push("--json".into());
    let doc = tlsdoctor(&json_args.iter().map(String::as_str).collect::<Vec<_>>()).json();
    (file, doc)
}

#[test]
fn check_reports_render_in_chromium_with_verdict_matrix_and_chain() {
    let lab = LabRun::start();
    let dir = tempfile::tempdir().unwrap();
    for endpoint in ["missing-intermediate", "healthy", "tls10-only"] {
        let (file, doc) = check_html(&lab, endpoint, dir.path());
        let source = std::fs::read_to_string(&file).unwrap();
        let urls = source.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !urls.contains("http://") && !urls.contains("https://"),
            "{endpoint}: a URL in the page"
        );
        let page = render(&file, None);
        let dom = &page.dom;
        assert!(dom.contains("<html"), "{endpoint}: no DOM\n{}", page.log);
        assert!(
            page.fetches.is_empty(),
            "{endpoint}: the page fetched {:?}",
            page.fetches
        );
        assert!(
            !page.log.contains("Content Security Policy"),
            "{endpoint}: a policy violation:\n{}",
            page.log
        );
        let failing = endpoint != "healthy";
        assert!(
            dom.contains(if failing {
                "class=\"verdict fail\""
            } else {
                "class=\"verdict pass\""
            }),
            "{endpoint}: {dom}"
        );
        // One matrix row per simulated client (plus the header).
        let sims = doc["diagnoses"][0]["verdicts"].as_array().unwrap().len();
        let matrix = dom
            .split("class=\"client-matrix\"")
            .nth(1)
            .and_then(|rest| rest.split("</table>").next())
            .unwrap_or_else(|| panic!("{endpoint}: no client matrix"));
        assert_eq!(matrix.matches("<tr>").count(), sims + 1, "{endpoint}");
        assert_eq!(
            matrix.matches("class=\"bad\"").count(),
            doc["diagnoses"][0]["verdicts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["connects"] == false)
                .count(),
            "{endpoint}"
        );
        assert!(dom.contains("class=\"chain-diagram\""), "{endpoint}");
        assert!(dom.contains("class=\"validity-timeline\""), "{endpoint}");
        assert!(dom.contains("class=\"suites\""), "{endpoint}");
        if endpoint == "missing-intermediate" {
            // The store's path breaks at the issuer that was not sent.
            assert!(dom.contains("class=\"box broken\""), "{dom}");
            assert!(dom.contains("tlsdoctor lab intermediate CA"), "{dom}");
            assert!(dom.contains("data-finding=\"cert-missing-intermediate\""));
        }
        let png = screenshots().join(format!("check-{endpoint}.png"));
        let _ = std::fs::remove_file(&png);
        let shot = render(&file, Some(&png));
        assert!(shot.fetches.is_empty(), "{endpoint}: {:?}", shot.fetches);
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 10_000,
            "{endpoint}: screenshot {size} bytes\n{}",
            shot.log
        );
    }
}

#[test]
fn scan_and_simulate_reports_render() {
    let lab = LabRun::start();
    let dir = tempfile::tempdir().unwrap();
    let args = lab.check_args("rsa-kx-only");
    for (cmd, marker) in [
        ("scan", "class=\"suites\""),
        ("simulate", "class=\"client-matrix\""),
    ] {
        let file = dir.path().join(format!("{cmd}.html"));
        let mut a = vec![cmd.to_string()];
        a.extend(if cmd == "scan" {
            args[..args.len() - 2].to_vec()
        } else {
            args.clone()
        });
        a.extend([
            "--format".into(),
            "html".into(),
            "-o".into(),
            file.display().to_string(),
        ]);
        let run = tlsdoctor(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(run.code, 0, "{cmd}: {}", run.stderr);
        let page = render(&file, None);
        assert!(page.fetches.is_empty(), "{cmd}: {:?}", page.fetches);
        assert!(page.dom.contains(marker), "{cmd}: {}", page.dom);
        if cmd == "scan" {
            // RSA key exchange without forward secrecy is coloured as weak or insecure.
            assert!(
                page.dom.contains("s-weak") || page.dom.contains("s-insecure"),
                "{}",
                page.dom
            );
        }
    }
}

/// The control: a page that does load something is caught, so an empty list means something.
#[test]
fn a_page_that_fetches_is_seen_fetching() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fetching.html");
    std::fs::write(
        &file,
        "<!DOCTYPE html><html><body><img src=\"http://report-fetch.example.test/x.png\"></body></html>",
    )
    .unwrap();
    let page = render(&file, None);
    assert!(
        page.fetches
            .iter()
            .any(|h| h == "report-fetch.example.test"),
        "{:?}\n{}",
        page.fetches,
        page.log
    );
}
