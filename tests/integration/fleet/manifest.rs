//! deploy/kubernetes/fleet-job.yaml, run here as Kubernetes would run it: its worker
//! command, once per completion index, with the paths of its volumes moved to a temporary
//! directory. The shards' outputs together must hold every target once.

use super::endpoints::{Fleet, Kind};
use std::collections::BTreeSet;
use std::process::Command;

const MANIFEST: &str = include_str!("../../../deploy/kubernetes/fleet-job.yaml");

/// The integer after `key:` on its line.
fn field(key: &str) -> usize {
    MANIFEST
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in the manifest"))
        .trim()
        .parse()
        .unwrap()
}

/// The container's shell command: the folded (`>-`) block after `args:`, lines joined by
/// spaces as YAML folds them.
fn worker_command() -> String {
    let mut lines = MANIFEST.lines().skip_while(|l| l.trim() != "- >-").skip(1);
    let mut parts = Vec::new();
    for l in lines.by_ref() {
        if l.trim().is_empty() || l.trim_end().ends_with(':') {
            break;
        }
        parts.push(l.trim());
    }
    assert!(!parts.is_empty(), "no worker command in the manifest");
    parts.join(" ")
}

#[test]
fn the_indexed_jobs_workers_scan_disjoint_shards_that_cover_the_list() {
    let n = field("completions");
    assert_eq!(field("parallelism"), n);
    assert!(MANIFEST.contains("completionMode: Indexed"));
    let command = worker_command();
    assert!(command.contains(&format!("--shard auto/{n} ")), "{command}");

    let fleet = Fleet::start(&[(Kind::Healthy, 30), (Kind::Dead, 6)], 8);
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets");
    let results = dir.path().join("results");
    std::fs::create_dir_all(&targets).unwrap();
    std::fs::create_dir_all(&results).unwrap();
    std::fs::write(targets.join("targets.txt"), fleet.input()).unwrap();
    let command = command
        .replace("/targets/", &format!("{}/", targets.display()))
        .replace("/results/", &format!("{}/", results.display()))
        .replacen(
            "exec tlsdoctor ",
            &format!("exec {} ", env!("CARGO_BIN_EXE_tlsdoctor")),
            1,
        );
    let mut keys = Vec::new();
    for i in 0..n {
        let out = Command::new("/bin/sh")
            .args(["-c", &command])
            .env("JOB_COMPLETION_INDEX", i.to_string())
            .env("TLSDOCTOR_NO_LIVE", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = results.join(format!("shard-{i}.jsonl"));
        for l in std::fs::read_to_string(&file).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            keys.push(v["key"].as_str().unwrap().to_string());
        }
    }
    let unique: BTreeSet<String> = keys.iter().cloned().collect();
    assert_eq!(unique.len(), keys.len(), "a target is in two shards");
    let all: BTreeSet<String> = fleet.endpoints.iter().map(|e| e.target()).collect();
    assert_eq!(unique, all);
}
