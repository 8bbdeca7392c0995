//! Golden comparison: what tlsdoctor reports, recorded once and compared on every run, so a
//! reshaping of the code that changes a finding, a severity, a title, an evidence line, a
//! client text, a simulation or a measured fact shows up as a readable diff.
//!
//! Recorded: `demo --json`; `check --json` on every endpoint of the built-in lab (started with
//! `tlsdoctor lab`, trusting its root); `scan --json` on three real servers (OpenSSL 1.2+1.3,
//! a legacy-friendly OpenSSL, GnuTLS without secure renegotiation). Each document is
//! flattened to one `path = value` line per leaf (tests/golden/README.md) and whatever varies
//! from run to run (ports, timings, dates, serials, fingerprints, key bytes, temp paths) is
//! replaced by a placeholder.
//!
//! An intended change: re-record with `TLSDOCTOR_BLESS=1` and commit the new files.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use crate::common::cli::{Run, tlsdoctor_env};
use crate::common::servers::{
    ServerProcess, gnutls_serv_with, openssl_s_server_with, self_signed_shifted,
};
use regex::Regex;
use serde_json::Value;

/// Set to 1 to write the current outputs as the new golden files.
const BLESS_VAR: &str = "TLSDOCTOR_BLESS";

/// The system store as the outputs were recorded with (it is named in every chain verdict):
/// set explicitly, so that the caller's environment does not leak into the comparison.
const SYSTEM_STORE: [(&str, &str); 2] = [
    ("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"),
    ("SSL_CERT_DIR", "/etc/ssl/certs"),
];

/// `tlsdoctor ARGS` with the recorded system store.
fn tlsdoctor(args: &[&str]) -> Run {
    for (_, path) in SYSTEM_STORE {
        assert!(
            Path::new(path).exists(),
            "{path} is missing: the golden outputs were recorded with the system store there \
             (Debian/Ubuntu: apt-get install ca-certificates)"
        );
    }
    tlsdoctor_env(args, &SYSTEM_STORE)
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn blessing() -> bool {
    std::env::var(BLESS_VAR).is_ok_and(|v| v == "1")
}

// ---------------------------------------------------------------------------------------
// Normalising: JSON → one `path = value` line per leaf, volatile values replaced.

/// Fields whose value differs on every run (per-run certificates, ports, clocks; the
/// responder's `latency_ms` where one is asked). The field
/// stays in the output (as `<varies>`, or `null`), so its presence is still compared.
const VOLATILE_KEYS: &[&str] = &[
    "elapsed_ms",
    // Measured from when connections opened and closed: one more or less between runs.
    "rounds",
    "latency_ms",
    "port",
    "serial",
    "leaf_serial",
    "not_before",
    "not_after",
    "sha256_fingerprint",
    "sha1_fingerprint",
    "leaf_sha256",
    "produced_at",
    "this_update",
    "next_update",
    // The size of a stapled OCSP response: its ECDSA signature is 70 to 72 bytes long.
    "bytes",
];

/// A volatile field: listed, or a Unix time (`not_after_unix`, ...).
fn is_volatile(key: &str) -> bool {
    VOLATILE_KEYS.contains(&key) || key.ends_with("_unix")
}

/// Keys that name an element of an array of objects, shown next to its index.
const LABEL_KEYS: &[&str] = &["id", "endpoint", "client", "version", "store", "key"];

struct Normaliser {
    rules: Vec<(Regex, &'static str)>,
    /// Literal strings (temp directories of this run) replaced first.
    literals: Vec<(String, &'static str)>,
}

impl Normaliser {
    fn new(literals: Vec<(String, &'static str)>) -> Normaliser {
        let rule = |re: &str, to: &'static str| (Regex::new(re).unwrap(), to);
        Normaliser {
            rules: vec![
                // Temp files: tempfile's dirs and our own.
                rule(r"/tmp/[^\s'`,;()\[\]]+", "<tmp>"),
                // Addresses with the port of this run.
                rule(r"(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}", "$1:<port>"),
                // Dates and times: ISO 8601 / RFC 3339 and OpenSSL's ASN.1 print form.
                rule(
                    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}| ?UTC| ?GMT)?)?",
                    "<date>",
                ),
                rule(
                    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d{2}:\d{2}:\d{2} \d{4}( GMT)?",
                    "<date>",
                ),
                // Fingerprints, serials and key bytes: long hex runs, with or without colons.
                rule(r"\b[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){7,}\b", "<hex>"),
                rule(r"\b(0x)?[0-9A-Fa-f]{16,}\b", "<hex>"),
                // A stapled response's size (see "bytes" above).
                rule(r"\b\d+-byte OCSP response", "<n>-byte OCSP response"),
                // Durations measured on this run.
                rule(r"\b\d+(\.\d+)? ?(ms|µs|milliseconds)\b", "<duration>"),
            ],
            literals,
        }
    }

    fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (lit, to) in &self.literals {
            if !lit.is_empty() {
                out = out.replace(lit.as_str(), to);
            }
        }
        for (re, to) in &self.rules {
            out = re.replace_all(&out, *to).into_owned();
        }
        out
    }

    fn flatten(&self, v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(map) if map.is_empty() => out.push(format!("{path} = {{}}")),
            Value::Object(map) => {
                for (k, child) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    if is_volatile(k) && !child.is_null() {
                        out.push(format!("{p} = <varies>"));
                    } else {
                        self.flatten(child, &p, out);
                    }
                }
            }
            Value::Array(items) if items.is_empty() => out.push(format!("{path} = []")),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let label = LABEL_KEYS
                        .iter()
                        .find_map(|k| item.get(k).and_then(Value::as_str))
                        .map(|l| format!(" {}", self.text(l)))
                        .unwrap_or_default();
                    self.flatten(item, &format!("{path}[{i}{label}]"), out);
                }
            }
            Value::String(s) => out.push(format!(
                "{path} = {}",
                serde_json::to_string(&self.text(s)).unwrap()
            )),
            other => out.push(format!("{path} = {other}")),
        }
    }

    /// The golden text of one tlsdoctor run: what was run, its exit code, its stderr, and
    /// its JSON document flattened.
    fn document(&self, what: &str, run: &Run) -> String {
        let mut lines = vec![
            format!("# {}", self.text(what)),
            format!("exit = {}", run.code),
        ];
        for l in run.stderr.lines() {
            lines.push(format!(
                "stderr = {}",
                serde_json::to_string(&self.text(l)).unwrap()
            ));
        }
        match serde_json::from_str::<Value>(&run.stdout) {
            Ok(doc) => self.flatten(&doc, "", &mut lines),
            Err(e) => lines.push(format!("stdout is not JSON: {e}: {:?}", run.stdout)),
        }
        lines.push(String::new());
        lines.join("\n")
    }
}

// ---------------------------------------------------------------------------------------
// Comparing and re-recording.

/// Compare every recorded document under `tests/golden/<group>/` (or write them when
/// blessing). A golden file without a recording is also a difference.
fn compare(group: &str, recorded: BTreeMap<String, String>) {
    let dir = golden_dir().join(group);
    if blessing() {
        let existing: Vec<String> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .filter_map(|n| n.strip_suffix(".txt").map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        std::fs::create_dir_all(&dir).unwrap();
        for stale in existing.iter().filter(|n| !recorded.contains_key(*n)) {
            std::fs::remove_file(dir.join(format!("{stale}.txt"))).unwrap();
        }
        for (name, text) in &recorded {
            std::fs::write(dir.join(format!("{name}.txt")), text).unwrap();
        }
        eprintln!(
            "{BLESS_VAR}=1: wrote {} files to {}",
            recorded.len(),
            dir.display()
        );
        return;
    }
    assert_same(
        group,
        &recorded,
        &format!(
            "{BLESS_VAR}=1 cargo test --test integration golden, and say why in the commit message"
        ),
    );
}

/// Every golden file of `group` equals its recording, and each has one; else fail with the
/// differences and `remedy`.
fn assert_same(group: &str, recorded: &BTreeMap<String, String>, remedy: &str) {
    assert_same_lines(group, recorded, remedy, &|_| true)
}

/// [`assert_same`] on the lines `keep` keeps, of the golden files and the recordings alike.
fn assert_same_lines(
    group: &str,
    recorded: &BTreeMap<String, String>,
    remedy: &str,
    keep: &dyn Fn(&str) -> bool,
) {
    let kept = |text: &str| -> String {
        text.lines()
            .filter(|l| keep(l))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let recorded: BTreeMap<String, String> =
        recorded.iter().map(|(k, v)| (k.clone(), kept(v))).collect();
    let existing: Vec<String> = std::fs::read_dir(golden_dir().join(group))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter_map(|n| n.strip_suffix(".txt").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut report = Vec::new();
    for stale in existing.iter().filter(|n| !recorded.contains_key(*n)) {
        report.push(format!(
            "tests/golden/{group}/{stale}.txt: recorded before, not produced now"
        ));
    }
    for (name, text) in &recorded {
        let file = format!("tests/golden/{group}/{name}.txt");
        match std::fs::read_to_string(golden_dir().join(group).join(format!("{name}.txt"))) {
            Err(_) => report.push(format!("{file}: no golden file (new output)")),
            Ok(want) if kept(&want) == *text => {}
            Ok(want) => report.push(format!("{file}:\n{}", diff(&kept(&want), text))),
        }
    }
    assert!(
        report.is_empty(),
        "tlsdoctor's output differs from the golden files ({} of {}). `-` is the recorded \
         output, `+` today's.\n\n{}\n\nIf the change is intended, re-record: {remedy}.",
        report.len(),
        recorded.len(),
        report.join("\n\n")
    );
}

/// A unified-style line diff (`-` old, `+` new, two lines of context) of two texts.
fn diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Trim the common head and tail, then an LCS table over the middle.
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut ops: Vec<(char, &str)> = a[..head].iter().map(|l| (' ', *l)).collect();
    if am.len() * bm.len() <= 16_000_000 {
        let (n, m) = (am.len(), bm.len());
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * (m + 1) + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                ops.push((' ', am[i]));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
                ops.push(('-', am[i]));
                i += 1;
            } else {
                ops.push(('+', bm[j]));
                j += 1;
            }
        }
    } else {
        ops.extend(am.iter().map(|l| ('-', *l)));
        ops.extend(bm.iter().map(|l| ('+', *l)));
    }
    ops.extend(a[a.len() - tail..].iter().map(|l| (' ', *l)));

    const CONTEXT: usize = 2;
    const MAX_LINES: usize = 200;
    let changed: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].0 != ' ').collect();
    let near = |i: usize| changed.iter().any(|&c| c.abs_diff(i) <= CONTEXT);
    let mut out = Vec::new();
    let mut last_shown = None;
    for (i, (tag, line)) in ops.iter().enumerate() {
        if !near(i) {
            continue;
        }
        if last_shown.is_some_and(|l: usize| l + 1 != i) {
            out.push("  ...".to_string());
        }
        last_shown = Some(i);
        out.push(format!("{tag} {line}"));
        if out.len() >= MAX_LINES {
            out.push(format!(
                "  ... ({} changed lines in all; stopped here)",
                changed.len()
            ));
            break;
        }
    }
    out.join("\n")
}

// ---------------------------------------------------------------------------------------
// The built-in lab, as `tlsdoctor lab` starts it.

/// A running `tlsdoctor lab`, killed on drop, with the port of every endpoint.
struct LabProcess {
    child: Child,
    dir: tempfile::TempDir,
    /// (endpoint name, port) in the lab's order.
    endpoints: Vec<(String, u16)>,
}

impl Drop for LabProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LabProcess {
    fn start() -> LabProcess {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tlsdoctor"))
            .arg("lab")
            .arg("--write-ca")
            .arg(dir.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tlsdoctor lab");
        let stdout = child.stdout.take().unwrap();
        let mut lab = LabProcess {
            child,
            dir,
            endpoints: Vec::new(),
        };
        // The table: a header line starting with PORT, then "PORT NAME ..." per endpoint,
        // then a blank line. The lab prints "Press Ctrl-C to stop." when it is serving.
        let mut in_table = false;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read the lab's table");
            if line.starts_with("Press Ctrl-C") {
                break;
            }
            if line.starts_with("PORT") {
                in_table = true;
                continue;
            }
            if in_table && line.trim().is_empty() {
                in_table = false;
                continue;
            }
            if in_table {
                let mut words = line.split_whitespace();
                let port = words.next().and_then(|p| p.parse::<u16>().ok());
                let name = words.next();
                match (port, name) {
                    (Some(port), Some(name)) => lab.endpoints.push((name.to_string(), port)),
                    _ => panic!("unexpected line in the lab's table: {line:?}"),
                }
            }
        }
        assert!(
            lab.endpoints.len() >= 23,
            "the lab listed {} endpoints",
            lab.endpoints.len()
        );
        // The lab's certificates are whole days from their dates, counted from the second
        // it made them; in that same second every "days left" would be one more.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        lab
    }

    fn root_ca(&self) -> PathBuf {
        self.dir.path().join("tlsdoctor-lab-root.pem")
    }
}

/// The SNI of each endpoint, from the lab's catalogue (absent: connect by IP, no SNI).
fn lab_sni() -> BTreeMap<String, Option<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/lab/endpoints.toml");
    let cat: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    cat["endpoint"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e.get("sni").and_then(|s| s.as_str()).map(str::to_string),
            )
        })
        .collect()
}

/// Run `jobs` on a few threads at once (the machine is small and shared).
fn run_parallel<T: Send>(jobs: Vec<Box<dyn FnOnce() -> T + Send + '_>>) -> Vec<T> {
    const WORKERS: usize = 4;
    let queue = Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let Some((i, job)) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let r = job();
                    results.lock().unwrap().push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

// ---------------------------------------------------------------------------------------
// The recordings.

#[test]
fn demo_matches_golden() {
    let norm = Normaliser::new(Vec::new());
    let run = tlsdoctor(&["demo", "--json"]);
    let mut docs = BTreeMap::new();
    docs.insert(
        "demo".to_string(),
        norm.document("tlsdoctor demo --json", &run),
    );
    compare("demo", docs);
}

#[test]
fn check_on_every_lab_endpoint_matches_golden() {
    let lab = LabProcess::start();
    let sni = lab_sni();
    let root = lab.root_ca().display().to_string();
    let norm = Normaliser::new(vec![(lab.dir.path().display().to_string(), "<labdir>")]);
    let jobs: Vec<Box<dyn FnOnce() -> (String, String) + Send + '_>> = lab
        .endpoints
        .iter()
        .map(|(name, port)| {
            let sni = sni
                .get(name)
                .unwrap_or_else(|| panic!("lab endpoint {name} is not in data/lab/endpoints.toml"))
                .clone();
            let (root, norm) = (root.clone(), &norm);
            Box::new(move || {
                let target = format!("127.0.0.1:{port}");
                let mut args = vec!["check", target.as_str()];
                if let Some(sni) = &sni {
                    args.extend(["--sni", sni.as_str()]);
                }
                args.extend(["--cafile", root.as_str(), "--json"]);
                let run = tlsdoctor(&args);
                let what = format!("lab endpoint {name}: tlsdoctor {}", args.join(" "));
                (name.clone(), norm.document(&what, &run))
            }) as Box<dyn FnOnce() -> (String, String) + Send + '_>
        })
        .collect();
    compare("check", run_parallel(jobs).into_iter().collect());
}

/// The lab evidence recorded in tests/data/evidence, judged again without a server at the
/// time it was recorded, gives the live check's documents exactly: measured facts, chain,
/// OCSP, simulations, findings and client texts. (While blessing, the golden files are being
/// rewritten from the live lab; the fixtures are compared on the next run.)
#[test]
fn recorded_lab_evidence_judges_as_the_live_lab() {
    use tlsdoctor::doctor::diagnose;
    use tlsdoctor::doctor::fixture::{EvidenceFixture, RecordedStore};
    use tlsdoctor::document::CheckDocument;
    if blessing() {
        eprintln!("{BLESS_VAR}=1: the evidence fixtures are compared on the next run");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/evidence");
    let mut docs = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let f = EvidenceFixture::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let name = f.label.strip_prefix("lab endpoint ").unwrap().to_string();
        // The lab root, as the recording's `--cafile` named it.
        let cafile = f
            .inputs
            .trust
            .iter()
            .find_map(|s| match s {
                RecordedStore::Roots(s) => s.source.strip_prefix("--cafile ").map(str::to_string),
                RecordedStore::BundledMozilla => None,
            })
            .expect("the recording trusted the lab root as --cafile");
        let labdir = Path::new(&cafile).parent().unwrap().display().to_string();
        let mut args = vec!["check".to_string(), f.observed.target.clone()];
        if let Some(sni) = &f.observed.sni {
            args.extend(["--sni".to_string(), sni.clone()]);
        }
        args.extend(["--cafile".to_string(), cafile, "--json".to_string()]);

        let mut doc = CheckDocument::new(&f.observed.target, None);
        doc.diagnoses.push(diagnose(
            f.evidence().unwrap_or_else(|e| panic!("{e}")),
            None,
        ));
        let run = Run {
            code: match doc.verdict() {
                tlsdoctor::doctor::Verdict::ConnectionsFail => 1,
                tlsdoctor::doctor::Verdict::SecurityProblem => 4,
                tlsdoctor::doctor::Verdict::Healthy => 0,
            },
            stdout: tlsdoctor::report::to_json(&doc),
            stderr: String::new(),
            elapsed: std::time::Duration::ZERO,
        };
        let norm = Normaliser::new(vec![(labdir, "<labdir>")]);
        let what = format!("lab endpoint {name}: tlsdoctor {}", args.join(" "));
        docs.insert(name, norm.document(&what, &run));
    }
    // A port that speaks a STARTTLS protocol in plaintext (smtp-starttls) is examined a
    // second time through the upgrade by `check` (pipeline/follow.rs): a fixture holds the
    // first examination, so that second diagnosis and the note about it are not compared
    // here.
    let first_examination = |l: &str| !(l.starts_with("diagnoses[1]") || l.starts_with("notes"));
    assert_same_lines(
        "check",
        &docs,
        "cargo run -- lab --record-evidence tests/data/evidence (the golden files say what the live lab measures now)",
        &first_examination,
    );
}

#[test]
fn scan_of_three_servers_matches_golden() {
    // Certificates made half a day in the past: see `self_signed_shifted`.
    let cert = |dir: &tempfile::TempDir| {
        self_signed_shifted(dir.path(), "server", "rsa:2048", Some("-12h"))
    };
    let openssl = |extra: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        let (c, k) = cert(&dir);
        openssl_s_server_with(extra, &c, &k, Some(dir))
    };
    let gnutls = |priority: &str| {
        let dir = tempfile::tempdir().unwrap();
        let (c, k) = cert(&dir);
        gnutls_serv_with(priority, &[], &c, &k, dir)
    };
    let servers: Vec<(&str, ServerProcess)> = vec![
        // OpenSSL's defaults: TLS 1.2 and 1.3.
        ("openssl-default", openssl(&[])),
        // Everything OpenSSL can still speak: TLS 1.0 up, weak and legacy suites, DHE.
        (
            "openssl-legacy",
            openssl(&["-cipher", "ALL:@SECLEVEL=0", "-legacy_renegotiation"]),
        ),
        // GnuTLS, TLS 1.2 at most, without secure renegotiation.
        (
            "gnutls-no-safe-reneg",
            gnutls("NORMAL:-VERS-TLS1.3:%DISABLE_SAFE_RENEGOTIATION"),
        ),
    ];
    let norm = Normaliser::new(Vec::new());
    let jobs: Vec<Box<dyn FnOnce() -> (String, String) + Send + '_>> = servers
        .iter()
        .map(|(name, server)| {
            let norm = &norm;
            Box::new(move || {
                let target = server.target();
                let args = ["scan", target.as_str(), "--sni", "localhost", "--json"];
                let run = tlsdoctor(&args);
                let what = format!("{name}: tlsdoctor {}", args.join(" "));
                (name.to_string(), norm.document(&what, &run))
            }) as Box<dyn FnOnce() -> (String, String) + Send + '_>
        })
        .collect();
    compare("scan", run_parallel(jobs).into_iter().collect());
}
