use super::endpoints::{Endpoint, Flaky, Fleet, Kind};
use crate::common::cli::{Run, tlsdoctor, tlsdoctor_env};
use crate::common::servers::ClosedPort;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn lines_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn keys(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["key"].as_str().unwrap().to_string())
        .collect()
}

fn accepted(line: &Value) -> Vec<String> {
    line["servers"][0]["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["accepted"] == true)
        .map(|r| r["version"].as_str().unwrap().to_string())
        .collect()
}

fn finding_ids(line: &Value) -> Vec<String> {
    line["servers"][0]["certificate_chain"]["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|x| x["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// What a line must say about its endpoint.
fn assert_line_fits(e: &Endpoint, l: &Value, full: bool) {
    let ctx = format!("{:?} {}: {l}", e.kind, e.addr);
    let ok = || {
        assert_eq!(l["status"], "ok", "{ctx}");
        assert!(l.get("error").is_none(), "{ctx}");
        assert_eq!(l["schema_version"], 2, "{ctx}");
        assert_eq!(l["servers"].as_array().unwrap().len(), 1, "{ctx}");
        assert!(l["servers"][0]["certificate_chain"].is_object(), "{ctx}");
        // The grade needs every default check: no audit of an inventory.
        assert_eq!(l["servers"][0]["audit"].is_object(), full, "{ctx}");
        if full {
            assert!(
                !l["servers"][0]["cipher_suites"]
                    .as_array()
                    .unwrap()
                    .is_empty(),
                "{ctx}"
            );
        } else {
            assert!(l["servers"][0].get("cipher_suites").is_none(), "{ctx}");
        }
    };
    match e.kind {
        Kind::Healthy => {
            ok();
            assert_eq!(accepted(l), ["tls1_2", "tls1_3"], "{ctx}");
            assert!(
                !finding_ids(l).contains(&"cert-expired".to_string()),
                "{ctx}"
            );
        }
        Kind::Tls13Only => {
            ok();
            assert_eq!(accepted(l), ["tls1_3"], "{ctx}");
        }
        Kind::Tls12Only => {
            ok();
            assert_eq!(accepted(l), ["tls1_2"], "{ctx}");
        }
        Kind::Expired => {
            ok();
            assert!(
                finding_ids(l).contains(&"cert-expired".to_string()),
                "{ctx}"
            );
        }
        Kind::NotTls => {
            assert_eq!(l["status"], "error", "{ctx}");
            assert_eq!(l["error"]["kind"], "not_tls", "{ctx}");
            assert!(l["servers"].as_array().unwrap().is_empty(), "{ctx}");
        }
        Kind::Dead => {
            assert_eq!(l["status"], "error", "{ctx}");
            assert_eq!(l["error"]["kind"], "connect", "{ctx}");
        }
    }
}

const MIX: [(Kind, usize); 6] = [
    (Kind::Healthy, 90),
    (Kind::Tls13Only, 30),
    (Kind::Tls12Only, 30),
    (Kind::Expired, 30),
    (Kind::NotTls, 20),
    (Kind::Dead, 20),
];

#[test]
fn a_fleet_of_220_endpoints_gives_one_right_line_each() {
    let fleet = Fleet::start(&MIX, 40);
    assert_eq!(fleet.endpoints.len(), 220);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("fleet.txt");
    let mut text = fleet.input();
    text.push_str("not a target\nexample.test:99999\n");
    std::fs::write(&input, &text).unwrap();
    let out = dir.path().join("out.jsonl");
    let run = tlsdoctor(&[
        "scan",
        "-i",
        input.to_str().unwrap(),
        "--concurrency",
        "48",
        "--timeout",
        "10",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = lines_of(&out);
    assert_eq!(lines.len(), fleet.endpoints.len() + 2, "{}", run.stderr);
    let by_target: BTreeMap<String, &Value> = lines
        .iter()
        .map(|l| (l["target"].as_str().unwrap().to_string(), l))
        .collect();
    assert_eq!(by_target.len(), lines.len(), "a target has two lines");
    for (i, e) in fleet.endpoints.iter().enumerate() {
        let l = by_target
            .get(&e.target())
            .unwrap_or_else(|| panic!("no line for {}", e.addr));
        // Two header lines (a comment, a blank) come first.
        assert_eq!(l["line"], i as u64 + 3);
        assert_eq!(l["command"], "scan");
        assert_eq!(l["fleet_line"], 1);
        assert_line_fits(e, l, true);
    }
    for bad in ["not a target", "example.test:99999"] {
        let l = by_target[bad];
        assert_eq!(l["status"], "error");
        assert_eq!(l["error"]["kind"], "parse", "{l}");
        assert!(l.get("schema_version").is_none(), "{l}");
    }
    assert!(
        run.stderr.contains("222 target(s) done, 42 failed"),
        "{}",
        run.stderr
    );
}

/// Lines counted in a file being written.
fn count_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| s.matches('\n').count())
        .unwrap_or(0)
}

/// `scan -i INPUT --checks CHECKS --resume OUT` and then `extra`.
fn resumed_scan(input: &Path, out: &Path, checks: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = ["scan", "-i", input.to_str().unwrap(), "--checks", checks]
        .iter()
        .map(|s| s.to_string())
        .collect();
    a.extend(["--resume".to_string(), out.to_str().unwrap().to_string()]);
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

#[test]
fn a_run_killed_midway_resumes_with_nothing_lost_and_nothing_twice() {
    let fleet = Fleet::start(&MIX, 40);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("fleet.txt");
    std::fs::write(&input, fleet.input()).unwrap();
    let out = dir.path().join("out.jsonl");
    let args = |extra: &[&str]| {
        let mut with = vec!["--concurrency", "8"];
        with.extend_from_slice(extra);
        resumed_scan(&input, &out, "protocols,certificate", &with)
    };
    // Slowed down by --rate so that the kill lands midway.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tlsdoctor"))
        .args(args(&["--rate", "150/s"]))
        .env("TLSDOCTOR_NO_LIVE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while count_lines(&out) < 40 {
        assert!(start.elapsed() < Duration::from_secs(60), "no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before the kill"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = count_lines(&out);
    assert!(before < fleet.endpoints.len(), "killed too late: {before}");
    // As if the kill had come in the middle of a line.
    let mut text = std::fs::read_to_string(&out).unwrap();
    text.push_str(r#"{"fleet_line":1,"command":"scan","line":99,"tar"#);
    std::fs::write(&out, text).unwrap();

    let run = tlsdoctor(&args(&[]).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{before} skipped")),
        "{before}: {}",
        run.stderr
    );
    let lines = lines_of(&out);
    let all: BTreeSet<String> = fleet.endpoints.iter().map(|e| e.target()).collect();
    let got = keys(&lines);
    let unique: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(got.len(), unique.len(), "a target was written twice");
    assert_eq!(unique, all, "a target was lost");
    let by_target: BTreeMap<&str, &Value> = lines
        .iter()
        .map(|l| (l["target"].as_str().unwrap(), l))
        .collect();
    for e in &fleet.endpoints {
        assert_line_fits(e, by_target[e.target().as_str()], false);
    }
}

#[test]
fn shards_run_as_an_indexed_job_are_disjoint_and_cover_the_input() {
    let fleet = Fleet::start(&MIX, 40);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("fleet.txt");
    std::fs::write(&input, fleet.input()).unwrap();
    const N: usize = 3;
    // The workers run at once, each told its index the way Kubernetes tells it.
    let workers: Vec<_> = (0..N)
        .map(|i| {
            let out = dir.path().join(format!("shard-{i}.jsonl"));
            let child = Command::new(env!("CARGO_BIN_EXE_tlsdoctor"))
                .args([
                    "scan",
                    "-i",
                    input.to_str().unwrap(),
                    "--checks",
                    "protocols,certificate",
                    "--shard",
                    &format!("auto/{N}"),
                    "-o",
                    out.to_str().unwrap(),
                ])
                .env("TLSDOCTOR_NO_LIVE", "1")
                .env("JOB_COMPLETION_INDEX", i.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (out, child)
        })
        .collect();
    let mut shards: Vec<BTreeSet<String>> = Vec::new();
    let mut outs = Vec::new();
    for (out, child) in workers {
        let done = child.wait_with_output().unwrap();
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        let k: BTreeSet<String> = keys(&lines_of(&out)).into_iter().collect();
        assert!(!k.is_empty());
        shards.push(k);
        outs.push(out);
    }
    for a in 0..N {
        for b in a + 1..N {
            assert!(
                shards[a].is_disjoint(&shards[b]),
                "shards {a} and {b} overlap"
            );
        }
    }
    let union: BTreeSet<String> = shards.iter().flatten().cloned().collect();
    let all: BTreeSet<String> = fleet.endpoints.iter().map(|e| e.target()).collect();
    assert_eq!(union, all);

    // Reordering the input keeps every target in its shard (the hash is of the target).
    let reversed = dir.path().join("reversed.txt");
    let mut lines: Vec<String> = fleet.endpoints.iter().map(|e| e.target()).collect();
    lines.reverse();
    std::fs::write(&reversed, lines.join("\n")).unwrap();
    let again = dir.path().join("again.jsonl");
    let run = tlsdoctor_env(
        &[
            "scan",
            "-i",
            reversed.to_str().unwrap(),
            "--checks",
            "protocols",
            "--shard",
            "auto/3",
            "-o",
            again.to_str().unwrap(),
        ],
        &[("SLURM_ARRAY_TASK_ID", "1")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let k: BTreeSet<String> = keys(&lines_of(&again)).into_iter().collect();
    assert_eq!(
        k, shards[1],
        "a Slurm array's task 1 has Kubernetes index 1's shard"
    );

    // The merge step: every target once.
    let mut merge_args = vec!["fleet", "merge"];
    merge_args.extend(outs.iter().map(|p| p.to_str().unwrap()));
    merge_args.push(again.to_str().unwrap());
    let merged: Run = tlsdoctor(&merge_args);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    let merged_keys: Vec<String> = merged
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["key"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(merged_keys.len(), all.len());
    assert_eq!(merged_keys.into_iter().collect::<BTreeSet<_>>(), all);
    assert!(
        merged
            .stderr
            .contains(&format!("{} duplicate(s) dropped", shards[1].len())),
        "{}",
        merged.stderr
    );

    let no_index = tlsdoctor(&["scan", "-i", input.to_str().unwrap(), "--shard", "auto/3"]);
    assert_eq!(no_index.code, 2);
    assert!(
        no_index.stderr.contains("JOB_COMPLETION_INDEX"),
        "{}",
        no_index.stderr
    );
}

#[test]
fn check_lines_carry_the_check_document() {
    let fleet = Fleet::start(&[(Kind::Healthy, 2), (Kind::NotTls, 1), (Kind::Dead, 1)], 4);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("fleet.txt");
    std::fs::write(&input, fleet.input()).unwrap();
    let run = tlsdoctor(&["check", "-i", input.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    for e in &fleet.endpoints {
        let l = lines.iter().find(|l| l["target"] == e.target()).unwrap();
        assert_eq!(l["command"], "check");
        match e.kind {
            Kind::Healthy => {
                assert_eq!(l["status"], "ok", "{l}");
                assert_eq!(l["diagnoses"].as_array().unwrap().len(), 1, "{l}");
            }
            // As for one target: a port that speaks something else is a finding of check.
            Kind::NotTls => {
                assert_eq!(l["status"], "ok", "{l}");
                let ids: Vec<&str> = l["diagnoses"][0]["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["id"].as_str().unwrap())
                    .collect();
                assert!(ids.contains(&"not-tls"), "{l}");
            }
            Kind::Dead => {
                assert_eq!(l["status"], "error", "{l}");
                assert_eq!(l["error"]["kind"], "connect", "{l}");
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn the_rate_limit_spaces_every_connection_of_the_run() {
    let fleet = Fleet::start(&[(Kind::Healthy, 4)], 4);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("fleet.txt");
    std::fs::write(&input, fleet.input()).unwrap();
    let scan = |rate: Option<&str>| {
        let mut args = vec![
            "scan",
            "-i",
            input.to_str().unwrap(),
            "--checks",
            "protocols",
        ];
        if let Some(r) = rate {
            args.extend(["--rate", r]);
        }
        let run = tlsdoctor(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let connections: u64 = run
            .stdout
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["servers"][0]["connections"]
                    .as_u64()
                    .unwrap()
            })
            .sum();
        (run.elapsed, connections)
    };
    let (_, connections) = scan(None);
    let (slow, paced) = scan(Some("20/s"));
    assert_eq!(paced, connections);
    // n connections at 20/s take at least (n - 1) / 20 seconds.
    let floor = Duration::from_secs_f64((connections - 1) as f64 / 20.0);
    assert!(
        slow >= floor,
        "{slow:?} < {floor:?} for {connections} connections"
    );
}

#[test]
fn a_server_that_starts_refusing_is_retried_and_the_line_says_so() {
    let flaky = Flaky::start(3, Duration::from_millis(600));
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("fleet.txt");
    std::fs::write(&input, format!("{}\n", flaky.addr)).unwrap();
    let run = tlsdoctor(&[
        "scan",
        "-i",
        input.to_str().unwrap(),
        "--checks",
        "protocols",
        "--max-connections",
        "1",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let l: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(l["status"], "ok", "{l}");
    let backoff = &l["backoff"];
    assert!(backoff["retries"].as_u64().unwrap() >= 1, "{l}");
    assert_eq!(backoff["gave_up"], 0, "{l}");
    assert!(backoff["waited_ms"].as_u64().unwrap() >= 250, "{l}");
    // Every version probe got an answer from the server, none a refusal.
    for r in l["servers"][0]["protocols"].as_array().unwrap() {
        assert_ne!(r["outcome"]["kind"], "connect_failed", "{l}");
    }
    assert_eq!(accepted(&l), ["tls1_2", "tls1_3"], "{l}");
}

/// `n` targets where nothing listens (fast to fail: the run's cost is the engine's own),
/// and the reservation that keeps them closed while it lives.
fn closed_ports(n: usize) -> (String, ClosedPort) {
    let closed = ClosedPort::reserve();
    let lines = (0..n)
        .map(|i| format!("127.0.0.{}:{}\n", 2 + i % 200, closed.port))
        .collect();
    (lines, closed)
}

#[test]
fn memory_does_not_grow_with_the_length_of_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let peak = |n: usize| {
        let input = dir.path().join(format!("{n}.txt"));
        let (targets, _closed) = closed_ports(n);
        std::fs::write(&input, targets).unwrap();
        let out = dir.path().join(format!("{n}.jsonl"));
        let m = crate::common::cli::tlsdoctor_measured(
            &[
                "scan",
                "-i",
                input.to_str().unwrap(),
                "--checks",
                "protocols",
                "-o",
                out.to_str().unwrap(),
            ],
            Duration::from_secs(120),
        );
        assert_eq!(m.run.code, 0, "{}", m.run.stderr);
        assert_eq!(count_lines(&out), n);
        m.peak_rss_kib
    };
    let small = peak(100);
    let large = peak(5000);
    eprintln!("peak RSS: 100 targets {small} KiB, 5000 targets {large} KiB");
    assert!(
        large * 10 <= small * 15,
        "peak RSS {large} KiB with 5000 targets, {small} KiB with 100"
    );
}

#[test]
fn the_progress_bar_is_drawn_on_a_terminal_only_and_never_in_the_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("fleet.txt");
    let (targets, _closed) = closed_ports(20);
    std::fs::write(&input, targets).unwrap();
    let out = dir.path().join("out.jsonl");
    let command = format!(
        "{} scan -i {} --checks protocols --rate 40/s -o {}",
        env!("CARGO_BIN_EXE_tlsdoctor"),
        input.display(),
        out.display()
    );
    // script(1) gives the command a terminal; what it drew comes back on script's stdout.
    let drawn = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env("TLSDOCTOR_NO_LIVE", "1")
        .output()
        .unwrap();
    assert!(drawn.status.success());
    let terminal = String::from_utf8_lossy(&drawn.stdout);
    assert!(
        terminal.contains("/20 done") && terminal.contains("failed") && terminal.contains("ETA"),
        "{terminal}"
    );
    let lines = std::fs::read_to_string(&out).unwrap();
    assert_eq!(lines.lines().count(), 20);
    assert!(!lines.contains("ETA") && !lines.contains('\r'), "{lines}");

    let plain = tlsdoctor(&[
        "scan",
        "-i",
        input.to_str().unwrap(),
        "--checks",
        "protocols",
    ]);
    assert_eq!(plain.code, 0);
    assert!(
        !plain.stderr.contains("ETA") && !plain.stderr.contains('\r'),
        "{}",
        plain.stderr
    );
    assert!(!plain.stdout.contains("ETA"));
    assert_eq!(plain.stdout.lines().count(), 20);
}

#[test]
fn retry_errors_runs_a_failed_target_again_and_merge_keeps_its_result() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = crate::common::servers::self_signed(dir.path(), "server", "rsa:2048");
    let port = crate::common::servers::free_port();
    let healthy = crate::common::servers::openssl_s_server(&[]);
    let dead = format!("127.0.0.1:{port}");
    let input = dir.path().join("fleet.txt");
    std::fs::write(&input, format!("{}\n{dead}\n", healthy.target())).unwrap();
    let out = dir.path().join("out.jsonl");
    let run = |extra: &[&str]| {
        let args = resumed_scan(&input, &out, "protocols", extra);
        tlsdoctor(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };

    // Nothing listens on the second target yet: an error line.
    let first = run(&[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let lines = lines_of(&out);
    assert_eq!(lines.len(), 2);
    let failed = lines.iter().find(|l| l["key"] == dead.as_str()).unwrap();
    assert_eq!(failed["status"], "error", "{failed}");
    assert_eq!(failed["error"]["kind"], "connect", "{failed}");

    // The server is up now. A plain --resume counts the error as done ...
    let _up = crate::common::servers::openssl_s_server_at(port, &[], &cert, &key, None);
    let again = run(&[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("2 skipped"), "{}", again.stderr);
    assert_eq!(lines_of(&out).len(), 2);

    // ... --retry-errors runs it again, and only it.
    let retry = run(&["--retry-errors"]);
    assert_eq!(retry.code, 0, "{}", retry.stderr);
    assert!(retry.stderr.contains("1 skipped"), "{}", retry.stderr);
    let lines = lines_of(&out);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["key"], dead.as_str());
    assert_eq!(lines[2]["status"], "ok", "{}", lines[2]);

    // One line per target, the retried one with its result.
    let merged = tlsdoctor(&["fleet", "merge", out.to_str().unwrap()]);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    let kept: Vec<Value> = merged
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(kept.len(), 2, "{}", merged.stdout);
    let retried = kept.iter().find(|l| l["key"] == dead.as_str()).unwrap();
    assert_eq!(retried["status"], "ok", "{retried}");
    assert!(
        accepted(retried).contains(&"tls1_3".to_string()),
        "{retried}"
    );
}
