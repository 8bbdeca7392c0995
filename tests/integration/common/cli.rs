//! Running the tlsdoctor binary from tests.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The first diagnosis of a `check --json` run, or None when the check diagnosed
    /// nothing (its `errors` then say why; [`Run::why_no_diagnosis`] shows them).
    pub fn first_diagnosis(&self) -> Option<serde_json::Value> {
        let doc = self.json();
        doc["diagnoses"].get(0).cloned()
    }

    /// What a check that diagnosed nothing reported: its `errors`, exit code and stderr.
    pub fn why_no_diagnosis(&self) -> String {
        let doc = self.json();
        format!(
            "no diagnosis (exit {}); errors: {:#}\nstderr:\n{}",
            self.code, doc["errors"], self.stderr
        )
    }
}

/// Run `tlsdoctor ARGS` with colour off.
pub fn tlsdoctor(args: &[&str]) -> Run {
    tlsdoctor_env(args, &[])
}

/// Run `tlsdoctor ARGS` with extra environment variables. `check` runs with live
/// observation off (TLSDOCTOR_NO_LIVE=1: the suite checks predictions against real clients
/// in tests of their own, and running every local client in every check would be slow);
/// `("TLSDOCTOR_NO_LIVE", "")` in `env` turns it back on.
pub fn tlsdoctor_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let start = Instant::now();
    let out: Output = Command::new(env!("CARGO_BIN_EXE_tlsdoctor"))
        .args(args)
        .env("TLSDOCTOR_NO_LIVE", "1")
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .output()
        .expect("run tlsdoctor");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// A finished run with the peak resident memory of the tlsdoctor process itself.
pub struct MeasuredRun {
    pub run: Run,
    /// The child's peak RSS in KiB: the last `VmHWM` read from `/proc/PID/status` while it
    /// ran (read every few milliseconds; the high-water mark only grows).
    pub peak_rss_kib: u64,
}

/// The `VmHWM` of a running process, in KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Run `tlsdoctor ARGS` (colour off), killing it after `limit`, and measure its peak RSS.
/// `ru_maxrss` from `wait4` would not do: Linux folds the pre-exec image's high-water mark
/// (a copy of this large test process) into it, so the mark is polled from /proc instead.
/// The child is killed and reaped if it outlives `limit`.
pub fn tlsdoctor_measured(args: &[&str], limit: Duration) -> MeasuredRun {
    use std::io::Read;
    use std::process::Stdio;
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tlsdoctor"))
        .args(args)
        .env("NO_COLOR", "1")
        // As in tlsdoctor_env: no live observation in checks of other capabilities.
        .env("TLSDOCTOR_NO_LIVE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tlsdoctor");
    let pid = child.id();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let mut peak = 0;
    let status = loop {
        // Read before reaping: a zombie's status has no memory figures left.
        if let Some(hwm) = vm_hwm_kib(pid) {
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait().expect("wait for tlsdoctor") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tlsdoctor {args:?} still running after {limit:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = start.elapsed();
    let code = status.code().unwrap_or(-1);
    MeasuredRun {
        run: Run {
            code,
            stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
            stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
            elapsed,
        },
        peak_rss_kib: peak,
    }
}

/// `tlsdoctor check TARGET --sni localhost --cafile CAFILE MORE...`: a check of a test
/// server whose certificate names localhost, trusting the test's own root.
pub fn check_localhost(target: &str, cafile: &str, more: &[&str]) -> Run {
    let args = [
        &["check", target, "--sni", "localhost", "--cafile", cafile],
        more,
    ]
    .concat();
    tlsdoctor(&args)
}
