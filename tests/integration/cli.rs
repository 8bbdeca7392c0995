//! Bad input and unreachable or non-TLS peers give a one-line error, exit code 2, no panic,
//! within the timeout.

use crate::common::cli::tlsdoctor;
use crate::common::servers::{banner_server, free_port};
use std::time::Duration;

fn assert_clean_failure(args: &[&str], want: &str) {
    let run = tlsdoctor(args);
    assert_eq!(
        run.code, 2,
        "exit code for {args:?}: {}\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains(want),
        "stderr for {args:?} should contain {want:?}:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn closed_port() {
    let port = free_port();
    assert_clean_failure(
        &["scan", &format!("127.0.0.1:{port}"), "--timeout", "2"],
        "cannot connect to 127.0.0.1",
    );
}

#[test]
fn unknown_host() {
    assert_clean_failure(
        &["scan", "no-such-host.invalid", "--timeout", "2"],
        "unknown host",
    );
}

#[test]
fn plain_http_port() {
    let addr = banner_server(
        b"",
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    );
    let run = tlsdoctor(&["scan", &addr.to_string(), "--timeout", "2"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("does not speak TLS"), "{}", run.stderr);
    assert!(
        run.stderr.contains("HTTP/1.1 400 Bad Request"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("plain HTTP"), "{}", run.stderr);
}

#[test]
fn smtp_banner_port() {
    let addr = banner_server(
        b"220 mail.example.test ESMTP Postfix\r\n",
        b"500 5.5.2 Error\r\n",
    );
    let run = tlsdoctor(&["scan", &addr.to_string(), "--timeout", "2"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("SMTP"), "{}", run.stderr);
    assert!(run.stderr.contains("STARTTLS"), "{}", run.stderr);
}

#[test]
fn malformed_inputs() {
    assert_clean_failure(&["scan", "127.0.0.1:99999"], "port");
    assert_clean_failure(&["scan", "mongodb://"], "mongodb");
    assert_clean_failure(&["scan", "127.0.0.1:443", "--timeout", "0"], "timeout");
}

#[test]
fn silent_server_times_out() {
    // Accepts, reads, never answers: the scan must end on the deadline with a clear message.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let run = tlsdoctor(&["scan", &addr.to_string(), "--timeout", "1"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("no answer before the timeout"),
        "{}",
        run.stderr
    );
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
}

/// `tlsdoctor … | head` where the reader is already gone: no panic, no error, status 0.
#[test]
fn a_closed_stdout_ends_quietly() {
    use std::os::fd::{FromRawFd, OwnedFd};
    for args in [
        &["explain", "certificate verify failed"][..],
        &["explain", "--json", "wrong version number"][..],
    ] {
        let mut fds = [-1; 2];
        // SAFETY: pipe writes two fresh descriptors into the array.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both descriptors are fresh and owned by nothing else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        drop(read);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tlsdoctor"))
            .args(args)
            .stdout(std::process::Stdio::from(write))
            .output()
            .expect("run tlsdoctor");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// A fleet of far servers may hold --concurrency × 64 connections open, past the soft limit of
/// 1024 open files many shells start with: the binary raises its own soft limit towards the
/// hard one. Started under a soft limit of 256, a running `watch` shows a higher one.
#[test]
fn the_open_files_limit_is_raised_for_many_connections() {
    let port = free_port();
    let script = format!(
        "ulimit -Sn 256 && exec \"$0\" watch --listen 127.0.0.1:{port} --upstream 127.0.0.1:9 --duration 20"
    );
    let mut child = std::process::Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_tlsdoctor")])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start sh");
    let limits = format!("/proc/{}/limits", child.id());
    let soft = || -> Option<u64> {
        let text = std::fs::read_to_string(&limits).ok()?;
        let line = text.lines().find(|l| l.starts_with("Max open files"))?;
        line.split_whitespace().nth(3)?.parse().ok()
    };
    let comm = format!("/proc/{}/comm", child.id());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut seen = None;
    while std::time::Instant::now() < deadline {
        // Once sh has exec'd the binary and it has started, its limit is its own.
        let running = std::fs::read_to_string(&comm).is_ok_and(|c| c.trim() == "tlsdoctor");
        if running && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            seen = soft();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let soft = seen.expect("tlsdoctor watch listening");
    assert!(soft > 256, "soft limit of open files still {soft}");
}
