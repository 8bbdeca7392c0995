//! The progress line (issue 18, item 4): on a terminal, a run that lasts over a second says on
//! stderr what it is probing; stdout, pipes and `--no-progress` runs never carry any of it.
//! The terminal is a real pseudo-terminal (openpty) holding the binary's stderr, while its
//! stdout stays a pipe, as when a user redirects the JSON to a file.

use std::io::Read;
use std::net::TcpListener;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A port that accepts connections and never answers: the scan waits out its timeout on each
/// probe, so the run lasts a few seconds. Stops (and closes everything) when dropped.
struct SilentServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SilentServer {
    fn start() -> SilentServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => held.push(s),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        SilentServer {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What a run printed: stdout (a pipe) and stderr (a terminal when `tty`, else a pipe).
struct Printed {
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], tty: bool) -> Printed {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlsdoctor"));
    cmd.args(args)
        .env("TLSDOCTOR_NO_LIVE", "1")
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut master = None;
    if tty {
        let (m, slave) = openpty();
        cmd.stderr(Stdio::from(slave));
        master = Some(std::fs::File::from(m));
    } else {
        cmd.stderr(Stdio::piped());
    }
    let mut child = cmd.spawn().expect("run tlsdoctor");
    // The parent's copy of the terminal's slave side went into `cmd`; drop it so reading the
    // master ends when the child is gone.
    drop(cmd);
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut m) = master {
            // Reading a pty whose slave side is closed ends with EIO: that is the end.
            let _ = m.read_to_end(&mut buf);
        }
        buf
    });
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut stderr).unwrap();
    }
    child.wait().unwrap();
    let from_tty = reader.join().unwrap();
    if tty {
        stderr = String::from_utf8_lossy(&from_tty).into_owned();
    }
    Printed { stdout, stderr }
}

fn openpty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two new descriptors into the pointers and reads nothing else
    // (null name, termios and window size).
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and owned by nothing else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

#[test]
fn a_long_scan_on_a_terminal_says_what_it_probes_on_stderr_only() {
    let server = SilentServer::start();
    let target = format!("127.0.0.1:{}", server.port);
    let printed = run(&["scan", &target, "--timeout", "2", "--json"], true);
    let expected = format!("probing {target} · Protocol versions · ");
    assert!(
        printed.stderr.contains(&expected),
        "no progress line on the terminal: {:?}",
        printed.stderr
    );
    assert!(
        printed.stderr.contains("asking what the port speaks"),
        "{:?}",
        printed.stderr
    );
    // The line is cleared before the error is written: the error stands on a line of its own.
    assert!(
        printed.stderr.contains("\x1b[2Ktlsdoctor: error: "),
        "{:?}",
        printed.stderr
    );
    // stdout is the JSON document and nothing else.
    let doc: serde_json::Value = serde_json::from_str(&printed.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", printed.stdout));
    assert_eq!(doc["input"], target.as_str());
    assert!(!printed.stdout.contains("probing"));
    assert!(!printed.stdout.contains('\x1b'));
}

#[test]
fn no_progress_without_a_terminal_or_with_no_progress() {
    let server = SilentServer::start();
    let target = format!("127.0.0.1:{}", server.port);
    let piped = run(&["scan", &target, "--timeout", "2"], false);
    assert!(!piped.stderr.contains("probing"), "{:?}", piped.stderr);
    assert!(!piped.stderr.contains('\x1b'), "{:?}", piped.stderr);
    assert!(
        piped.stderr.contains("tlsdoctor: error: "),
        "{:?}",
        piped.stderr
    );

    let asked_not = run(&["check", &target, "--timeout", "2", "--no-progress"], true);
    assert!(
        !asked_not.stderr.contains("probing"),
        "{:?}",
        asked_not.stderr
    );
}
