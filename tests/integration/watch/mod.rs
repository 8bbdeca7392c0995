//! `tlsdoctor watch`: the real relay binary between real clients (Python `ssl`, curl,
//! PyMongo) and misconfigured real servers on 127.0.0.1. The diagnosis must name the cause
//! from the recorded handshake, and the real client must have failed the way the reading
//! says (or, through a healthy server, worked with the bytes untouched).

mod clients;
mod relay;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `tlsdoctor watch --json`; killed on drop.
pub struct Relay {
    child: Option<Child>,
    pub port: u16,
}

impl Relay {
    /// `watch --listen 127.0.0.1:0 --upstream 127.0.0.1:PORT --json ARGS`; returns once it
    /// listens (it says where on stderr).
    pub fn start(upstream_port: u16, args: &[&str]) -> Relay {
        Relay::spawn(upstream_port, &[&["--json"], args].concat())
    }

    /// As [`Relay::start`], with exactly `args` (human output unless `--json` is among them).
    pub fn spawn(upstream_port: u16, args: &[&str]) -> Relay {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tlsdoctor"))
            .args(["watch", "--listen", "127.0.0.1:0", "--upstream"])
            .arg(format!("127.0.0.1:{upstream_port}"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tlsdoctor watch");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).expect("read watch's stderr");
        // "tlsdoctor watch: listening on 127.0.0.1:PORT -> …"
        let port = line
            .split_whitespace()
            .nth(4)
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no listen address in {line:?}"));
        Relay {
            child: Some(child),
            port,
        }
    }

    /// Stop it as Ctrl-C does (SIGINT), then [`Relay::finish`].
    pub fn interrupt(self) -> (Vec<Value>, Value, i32) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status();
        }
        let r = self.finish();
        assert_eq!(r.1["stopped_by"], "signal", "{}", r.1);
        r
    }

    /// Wait (at most 60 s) for it to stop by itself; the connection objects and the summary.
    pub fn finish(self) -> (Vec<Value>, Value, i32) {
        let (text, code) = self.finish_raw();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        let (summary, conns): (Vec<Value>, Vec<Value>) =
            lines.into_iter().partition(|v| v["type"] == "summary");
        let summary = summary
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no summary in {text}"));
        (conns, summary, code)
    }

    /// Wait (at most 60 s) for it to stop by itself; what it printed and its exit code.
    pub fn finish_raw(mut self) -> (String, i32) {
        let child = self.child.take().unwrap();
        let pid = child.id();
        let deadline = Instant::now() + Duration::from_secs(60);
        let watchdog = std::thread::spawn(move || {
            while Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
                if std::fs::metadata(format!("/proc/{pid}")).is_err() {
                    return;
                }
            }
            let _ = Command::new("kill").arg(pid.to_string()).status();
        });
        let out = child.wait_with_output().expect("watch output");
        let _ = watchdog.join();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code().unwrap_or(-1),
        )
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The finding id of a connection object.
pub fn cause(c: &Value) -> &str {
    c["finding"]["id"].as_str().unwrap_or("")
}
