//! Running one live client program: with the environment in force, stdin held open (tools
//! such as `openssl s_client` and `gnutls-cli` end when it closes), its output read as it
//! comes. Once the output shows the handshake is over, the client gets a moment to hear what
//! the server sends next (a TLS 1.3 server's alert for a missing client certificate comes
//! after the client's Finished), then stdin is closed and the program ended. Every run is
//! killed at its deadline.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Output kept per stream.
const OUTPUT_CAP: usize = 256 * 1024;
/// How long a client that finished its handshake may go on listening to the server.
pub(crate) const SETTLE: Duration = Duration::from_millis(400);

/// How a run ended.
#[derive(Debug, Clone)]
pub(crate) struct RunResult {
    pub stdout: String,
    pub stderr: String,
    /// Exit code; None when killed or ended by a signal.
    pub code: Option<i32>,
    /// The program could not be started (the message says why).
    pub spawn_error: Option<String>,
    /// Killed at the deadline before it finished.
    pub timed_out: bool,
}

impl RunResult {
    /// Both streams, stdout first.
    pub fn output(&self) -> String {
        match (self.stdout.is_empty(), self.stderr.is_empty()) {
            (_, true) => self.stdout.clone(),
            (true, false) => self.stderr.clone(),
            (false, false) => format!("{}\n{}", self.stdout.trim_end(), self.stderr),
        }
    }
}

/// One program to run.
pub(crate) struct Command<'a> {
    pub program: &'a Path,
    pub args: Vec<String>,
    pub env: &'a HashMap<String, String>,
    /// Working directory (the runs' scratch directory: a stray module there cannot shadow
    /// anything, and Java's source launcher finds its file).
    pub dir: &'a Path,
    /// A line containing this means the client's handshake is over.
    pub done_marker: Option<&'a str>,
    pub deadline: Duration,
}

/// Run `cmd` to the end, or to [`SETTLE`] after its done marker, or to its deadline.
pub(crate) async fn run(cmd: Command<'_>) -> RunResult {
    let mut c = tokio::process::Command::new(cmd.program);
    c.args(&cmd.args)
        .env_clear()
        .envs(cmd.env)
        .current_dir(cmd.dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match c.spawn() {
        Ok(child) => child,
        Err(e) => {
            return RunResult {
                stdout: String::new(),
                stderr: String::new(),
                code: None,
                spawn_error: Some(format!("cannot run {}: {e}", cmd.program.display())),
                timed_out: false,
            };
        }
    };
    let stdin = child.stdin.take();
    let out = Arc::new(Mutex::new(Vec::new()));
    let err = Arc::new(Mutex::new(Vec::new()));
    let marker = cmd.done_marker.map(str::to_string);
    let (seen_tx, mut seen_rx) = tokio::sync::watch::channel(false);
    let readers = {
        let (o, e) = (out.clone(), err.clone());
        let (m1, m2) = (marker.clone(), marker);
        let (t1, t2) = (seen_tx.clone(), seen_tx);
        let so = child.stdout.take();
        let se = child.stderr.take();
        async move {
            tokio::join!(read_into(so, &o, m1, t1), read_into(se, &e, m2, t2));
        }
    };
    let readers = tokio::spawn(readers);
    let deadline = tokio::time::Instant::now() + cmd.deadline;
    let mut stdin = stdin;
    let waited = async {
        // Wait for the marker, let the client listen a moment, close stdin, and give it a
        // second to end by itself.
        if seen_rx.wait_for(|s| *s).await.is_ok() {
            tokio::time::sleep(SETTLE).await;
            stdin.take();
            tokio::time::sleep(Duration::from_secs(1)).await;
        } else {
            std::future::pending::<()>().await
        }
    };
    let ended = async {
        tokio::select! {
            status = child.wait() => status.ok().and_then(|s| s.code()),
            _ = waited => None,
        }
    };
    let (code, timed_out) = match tokio::time::timeout_at(deadline, ended).await {
        Ok(code) => (code, false),
        Err(_) => (None, true),
    };
    let _ = child.start_kill();
    let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), readers).await;
    let text = |b: &Arc<Mutex<Vec<u8>>>| {
        String::from_utf8_lossy(&b.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    };
    RunResult {
        stdout: text(&out),
        stderr: text(&err),
        code,
        spawn_error: None,
        timed_out,
    }
}

/// Read a stream into `into` (capped; the rest is drained), signalling when a line with
/// `marker` has arrived.
async fn read_into<R: AsyncRead + Unpin>(
    reader: Option<R>,
    into: &Mutex<Vec<u8>>,
    marker: Option<String>,
    seen: tokio::sync::watch::Sender<bool>,
) {
    let Some(mut reader) = reader else {
        return;
    };
    let mut buf = [0u8; 8192];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut kept = into.lock().unwrap_or_else(|e| e.into_inner());
        let room = OUTPUT_CAP.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
        if let Some(m) = &marker {
            if !*seen.borrow() && String::from_utf8_lossy(&kept).contains(m.as_str()) {
                let _ = seen.send(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> HashMap<String, String> {
        std::env::vars().collect()
    }

    #[tokio::test]
    async fn a_client_is_ended_soon_after_its_marker() {
        let sh = crate::env::exec::which("sh", &env()).expect("sh");
        let start = std::time::Instant::now();
        let r = run(Command {
            program: &sh,
            args: vec![
                "-c".into(),
                "echo handshake done; cat; echo after-eof".into(),
            ],
            env: &env(),
            dir: Path::new("/"),
            done_marker: Some("handshake done"),
            deadline: Duration::from_secs(20),
        })
        .await;
        assert!(!r.timed_out);
        assert!(r.stdout.contains("handshake done"), "{r:?}");
        // stdin was closed after the settle time, so `cat` ended and the script went on.
        assert!(r.stdout.contains("after-eof"), "{r:?}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_silent_client_is_killed_at_its_deadline() {
        let sh = crate::env::exec::which("sh", &env()).expect("sh");
        let r = run(Command {
            program: &sh,
            args: vec!["-c".into(), "sleep 30".into()],
            env: &env(),
            dir: Path::new("/"),
            done_marker: None,
            deadline: Duration::from_millis(300),
        })
        .await;
        assert!(r.timed_out);
        let r = run(Command {
            program: Path::new("/nonexistent/tlsdoctor-client"),
            args: vec![],
            env: &env(),
            dir: Path::new("/"),
            done_marker: None,
            deadline: Duration::from_secs(1),
        })
        .await;
        assert!(r.spawn_error.is_some());
    }
}
