//! A real headless Chromium (Debian's `chromium`) for the HTML report tests: it loads a file,
//! gives back the DOM it built or a screenshot, and every request it would make to the network
//! goes to a local recording proxy (loopback included), so "nothing was fetched" is measured.
//! Chromium itself still asks its own services (time, component updates, accounts) whatever
//! the flags; those hosts are told apart from anything the page could have asked for.

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What one browser run produced.
pub struct Rendered {
    /// The DOM after loading (empty for a screenshot run).
    pub dom: String,
    /// Chromium's own log, console messages and policy violations included.
    pub log: String,
    /// The hosts of the requests the page made (everything goes through the proxy; the
    /// browser's own service requests are left out).
    pub fetches: Vec<String>,
}

/// Hosts Chromium asks on its own, for itself, whatever page is open.
const BROWSER_SERVICES: [&str; 3] = [".google.com", ".googleapis.com", ".gvt1.com"];

/// The host a proxied request is for: `CONNECT host:port` or `GET http://host/...`.
fn request_host(head: &str) -> String {
    let target = head.split_whitespace().nth(1).unwrap_or("");
    let target = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
        .unwrap_or(target);
    let host = target.split(['/', '?']).next().unwrap_or("");
    host.rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(host)
        .to_string()
}

/// A listener standing in for the network: records the host of every request, then closes.
fn recording_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hosts = Arc::new(Mutex::new(Vec::new()));
    let seen = hosts.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 1024];
            let n = conn.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let host = request_host(&head);
            if !BROWSER_SERVICES.iter().any(|s| host.ends_with(s)) {
                seen.lock()
                    .unwrap()
                    .push(if host.is_empty() { head } else { host });
            }
        }
    });
    (port, hosts)
}

/// Load `file` in headless Chromium; with `screenshot`, write a PNG there instead of dumping
/// the DOM.
pub fn render(file: &Path, screenshot: Option<&Path>) -> Rendered {
    let (proxy, hosts) = recording_proxy();
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1100,2400",
        "--proxy-bypass-list=<-loopback>",
    ])
    .arg(format!("--proxy-server=http://127.0.0.1:{proxy}"))
    .arg(format!("--user-data-dir={}", profile.path().display()));
    match screenshot {
        Some(png) => cmd.arg(format!("--screenshot={}", png.display())),
        None => cmd.arg("--dump-dom"),
    };
    // Its own process group, so a browser that hangs is killed with all its helpers.
    cmd.arg(format!("file://{}", file.display()))
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd
        .spawn()
        .expect("start chromium (Debian package `chromium`; scripts/test-all.sh installs it)");
    let out = wait_with_deadline(child, Duration::from_secs(60));
    Rendered {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        log: String::from_utf8_lossy(&out.stderr).into_owned(),
        fetches: hosts.lock().unwrap().clone(),
    }
}

/// The browser's output, killing it (and failing the test) when it takes longer than `limit`.
fn wait_with_deadline(child: std::process::Child, limit: Duration) -> std::process::Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("chromium ran"),
        Err(_) => {
            let _ = Command::new("kill")
                .arg("-9")
                .arg(format!("-{pid}"))
                .status();
            panic!("chromium did not finish within {limit:?}");
        }
    }
}
