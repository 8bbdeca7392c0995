//! `--format markdown`: parsed as GitHub-flavoured Markdown (pulldown-cmark with tables) into
//! the expected headings and tables, and compared with recorded snapshots of a few lab
//! endpoints (tests/golden/markdown; re-record with TLSDOCTOR_BLESS=1). Hostile peer strings
//! stay text.

use super::LabRun;
use crate::common::cli::tlsdoctor;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use regex::Regex;
use std::path::Path;

/// What a Markdown document is made of, as a GFM parser reads it.
#[derive(Debug, Default)]
struct Outline {
    /// (level, text) of every heading.
    headings: Vec<(u8, String)>,
    /// Every table: its header cells, then the number of cells in each body row.
    tables: Vec<(Vec<String>, Vec<usize>)>,
    /// Raw HTML the document contains (a report must have none).
    html: Vec<String>,
    /// All text, joined.
    text: String,
}

fn outline(md: &str) -> Outline {
    let mut o = Outline::default();
    let mut heading: Option<(u8, String)> = None;
    let mut in_head = false;
    let mut cell = String::new();
    let mut cells = 0usize;
    for ev in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match ev {
            Event::Start(Tag::Heading { level, .. }) => {
                let n = match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    HeadingLevel::H3 => 3,
                    HeadingLevel::H4 => 4,
                    HeadingLevel::H5 => 5,
                    HeadingLevel::H6 => 6,
                };
                heading = Some((n, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => o.headings.extend(heading.take()),
            Event::Start(Tag::Table(_)) => o.tables.push((Vec::new(), Vec::new())),
            Event::Start(Tag::TableHead) => in_head = true,
            Event::End(TagEnd::TableHead) => in_head = false,
            Event::Start(Tag::TableRow) => cells = 0,
            Event::End(TagEnd::TableRow) => o.tables.last_mut().unwrap().1.push(cells),
            Event::Start(Tag::TableCell) => cell.clear(),
            Event::End(TagEnd::TableCell) => {
                cells += 1;
                if in_head {
                    o.tables.last_mut().unwrap().0.push(cell.clone());
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, h)) = &mut heading {
                    h.push_str(&t);
                }
                cell.push_str(&t);
                o.text.push_str(&t);
                o.text.push(' ');
            }
            Event::Html(h) | Event::InlineHtml(h) => o.html.push(h.to_string()),
            _ => {}
        }
    }
    o
}

/// The parts of a report that change from run to run, replaced by placeholders.
fn normalise(md: &str, lab: &LabRun) -> String {
    let rules = [
        (r"127\.0\.0\.1:\d+", "127.0.0.1:<port>"),
        (r"localhost:\d+", "localhost:<port>"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>"),
        (r"(?:[0-9A-F]{2}:){7,}[0-9A-F]{2}", "<hex>"),
        (r"\d+ connections", "<n> connections"),
        (r"in \d+ ms", "in <ms> ms"),
    ];
    let mut out = md.replace(&lab.root.display().to_string(), "<labroot>");
    for (re, with) in rules {
        out = Regex::new(re).unwrap().replace_all(&out, with).into_owned();
    }
    out
}

fn snapshot(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/markdown")
        .join(format!("{name}.md"));
    if std::env::var("TLSDOCTOR_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (record it with TLSDOCTOR_BLESS=1 cargo test --test integration report::)",
            path.display()
        )
    });
    if want != got {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .filter(|(a, b)| a != b)
            .take(8)
            .map(|(a, b)| format!("- {a}\n+ {b}"))
            .collect();
        panic!(
            "the Markdown report of {name} changed ({} lines recorded, {} now); first \
             differences:\n{}\nAn intended change: re-record with TLSDOCTOR_BLESS=1.",
            want.lines().count(),
            got.lines().count(),
            diff.join("\n")
        );
    }
}

fn check_markdown(lab: &LabRun, endpoint: &str) -> String {
    let mut args = vec!["check".to_string()];
    args.extend(lab.check_args(endpoint));
    args.extend(["--format".to_string(), "markdown".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = tlsdoctor(&args);
    assert!(
        run.code == 0 || run.code == 1,
        "{endpoint}: {}\n{}",
        run.stdout,
        run.stderr
    );
    run.stdout
}

#[test]
fn check_reports_parse_into_the_expected_sections_and_match_their_snapshots() {
    let lab = LabRun::start();
    for endpoint in ["healthy", "missing-intermediate", "expired", "tls10-only"] {
        let md = check_markdown(&lab, endpoint);
        let o = outline(&md);
        assert!(o.html.is_empty(), "{endpoint}: raw HTML {:?}", o.html);
        let h: Vec<&str> = o.headings.iter().map(|(_, t)| t.as_str()).collect();
        assert!(
            o.headings[0].0 == 1 && h[0].starts_with("tlsdoctor check 127.0.0.1:"),
            "{endpoint}: {h:?}"
        );
        for want in [
            "Clients",
            "Certificate chain",
            "Protocols and cipher suites",
        ] {
            assert!(h.contains(&want), "{endpoint}: no heading {want}: {h:?}");
        }
        // The client table: one row per client, four cells each.
        let clients = o
            .tables
            .iter()
            .find(|(head, _)| head.first().map(String::as_str) == Some("Client") && head.len() == 4)
            .unwrap_or_else(|| panic!("{endpoint}: no client table"));
        assert!(clients.1.len() >= 5, "{endpoint}: {clients:?}");
        assert!(clients.1.iter().all(|&n| n == 4), "{endpoint}: {clients:?}");
        let healthy = endpoint == "healthy";
        assert_eq!(
            o.text
                .contains("No problem found that stops a client from connecting"),
            healthy,
            "{endpoint}: {}",
            o.text
        );
        if !healthy {
            assert!(h.contains(&"Findings"), "{endpoint}: {h:?}");
            // The finding's heading names its id, and its clients table quotes their texts.
            let id = match endpoint {
                "missing-intermediate" => "cert-missing-intermediate",
                "expired" => "cert-expired",
                _ => "proto-server-too-old",
            };
            assert!(
                h.iter().any(|t| t.starts_with("1. ") && t.contains(id)),
                "{endpoint}: {h:?}"
            );
        }
        snapshot(&format!("check-{endpoint}"), &normalise(&md, &lab));
    }
}

#[test]
fn scan_and_simulate_reports_have_their_tables() {
    let lab = LabRun::start();
    let addr = lab.check_args("healthy");
    let mut scan = vec!["scan"];
    scan.extend(addr.iter().take(3).map(String::as_str));
    scan.extend(["--format", "markdown"]);
    let run = tlsdoctor(&scan);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let o = outline(&run.stdout);
    assert!(o.html.is_empty());
    let heads: Vec<&Vec<String>> = o.tables.iter().map(|(h, _)| h).collect();
    assert!(
        heads
            .iter()
            .any(|h| h[0] == "Version" && h[1] == "Accepted"),
        "{heads:?}"
    );
    assert!(heads.iter().any(|h| h[0] == "Property"), "{heads:?}");
    assert!(o.text.contains("TLSv1.3"), "{}", o.text);
    let titles =
        |o: &Outline| -> Vec<String> { o.headings.iter().map(|(_, t)| t.clone()).collect() };
    let full = titles(&o);
    for t in [
        "Protocols and cipher suites",
        "Key exchange",
        "Handshake properties",
    ] {
        assert!(full.iter().any(|h| h == t), "{t}: {full:?}");
    }

    // An inventory (`--checks`) has the sections of the checks it ran, and no empty ones;
    // HTML likewise has no suites column.
    scan.extend(["--checks", "protocols,certificate"]);
    let run = tlsdoctor(&scan);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let o = outline(&run.stdout);
    let some = titles(&o);
    assert!(some.iter().any(|h| h == "Protocols"), "{some:?}");
    assert!(some.iter().any(|h| h == "Certificate chain"), "{some:?}");
    for t in [
        "Protocols and cipher suites",
        "Key exchange",
        "Handshake properties",
    ] {
        assert!(!some.iter().any(|h| h == t), "{t}: {some:?}");
    }
    let versions = o.tables.iter().find(|(h, _)| h[0] == "Version").unwrap();
    assert_eq!(versions.0, ["Version", "Accepted"], "{:?}", o.tables);
    let html_args: Vec<&str> = scan
        .iter()
        .map(|a| if *a == "markdown" { "html" } else { a })
        .collect();
    let page = tlsdoctor(&html_args);
    assert_eq!(page.code, 0, "{}", page.stderr);
    assert!(
        page.stdout.contains("<th>Accepted</th></tr>"),
        "{}",
        page.stdout
    );
    assert!(
        !page.stdout.contains("<th>Cipher suites</th>"),
        "{}",
        page.stdout
    );

    let mut sim = vec!["simulate"];
    sim.extend(addr.iter().map(String::as_str));
    sim.extend(["--format", "markdown"]);
    let run = tlsdoctor(&sim);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let o = outline(&run.stdout);
    assert!(o.html.is_empty());
    assert!(o.text.contains("clients connect"), "{}", run.stdout);
}

#[test]
fn the_report_goes_to_the_file_named_by_o() {
    let lab = LabRun::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.md");
    let mut args = vec!["check".to_string()];
    args.extend(lab.check_args("expired"));
    args.extend([
        "--format".into(),
        "markdown".into(),
        "-o".into(),
        file.display().to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = tlsdoctor(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let md = std::fs::read_to_string(&file).unwrap();
    assert!(md.starts_with("# tlsdoctor check "), "{md}");
    // A file that cannot be written: one line, exit 2.
    let mut bad = args.clone();
    let last = bad.len() - 1;
    bad[last] = "/nonexistent-dir/report.md";
    let run = tlsdoctor(&bad);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot write the report"),
        "{}",
        run.stderr
    );
}
