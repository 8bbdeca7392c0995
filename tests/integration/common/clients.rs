//! Real clients run by tests, to compare what tlsdoctor predicts with what they print.

use std::process::{Command, Stdio};
use std::time::Duration;

const PY_CONNECT: &str = r#"
import ssl, socket, sys
port, host, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile or None)
if sys.argv[4:] and sys.argv[4]:
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
try:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=host) as t:
            t.sendall(b"GET / HTTP/1.0\r\n\r\n")
            t.settimeout(2)
            try:
                t.recv(16)
            except socket.timeout:
                pass
            print("OK", t.version())
except Exception as e:
    print("ERR", e)
"#;

/// Connect with Python's default `ssl` context; `Ok(version)` or `Err(message)`.
pub fn python(port: u16, host: &str, cafile: Option<&str>) -> Result<String, String> {
    python_with(port, host, cafile, &[])
}

pub fn python_with(
    port: u16,
    host: &str,
    cafile: Option<&str>,
    env: &[(&str, &str)],
) -> Result<String, String> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(PY_CONNECT)
        .arg(port.to_string())
        .arg(host)
        .arg(cafile.unwrap_or(""))
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run python3");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    match text.strip_prefix("OK ") {
        Some(v) => Ok(v.to_string()),
        None => Err(text.trim_start_matches("ERR ").to_string()),
    }
}

/// The stable part of a Python ssl error: without the "(_ssl.c:NNNN)" location.
pub fn stable(msg: &str) -> String {
    match msg.rfind(" (_ssl.c:") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// `openssl s_client` with `args`; returns everything it printed.
pub fn s_client(port: u16, args: &[&str]) -> String {
    let mut child = Command::new("timeout")
        .arg("10")
        .arg("openssl")
        .arg("s_client")
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl s_client");
    drop(child.stdin.take()); // EOF: s_client ends after the handshake
    let out = child.wait_with_output().expect("s_client output");
    std::thread::sleep(Duration::from_millis(10));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The OpenSSL reason from an s_client error line, e.g. "unsafe legacy renegotiation disabled".
pub fn openssl_reason(output: &str) -> Option<String> {
    let line = output.lines().find(|l| l.contains(":error:"))?;
    // ...:error:0A000152:SSL routines:final_renegotiate:unsafe legacy renegotiation disabled:../ssl/...
    let parts: Vec<&str> = line.split(':').collect();
    let i = parts.iter().position(|p| *p == "error")?;
    parts.get(i + 4).map(|s| s.to_string())
}
