//! Real clients run by tests, to compare what tlsdoctor predicts with what they print.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

const PY_CONNECT: &str = r#"
import os, ssl, socket, sys
port, host, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile or None)
if os.environ.get("TLSDOCTOR_TEST_MIN_TLS"):
    ctx.minimum_version = getattr(ssl.TLSVersion, os.environ["TLSDOCTOR_TEST_MIN_TLS"])
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

/// As [`python`], with extra environment variables. `TLSDOCTOR_TEST_MIN_TLS=TLSv1_3` sets the
/// context's minimum_version, as an application that requires TLS 1.3 does.
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

/// What a real client did against a test server: connected (and read the server's first
/// answer bytes) or printed `text`, the line that names its error.
#[derive(Debug, Clone)]
pub struct Real {
    pub connects: bool,
    pub text: String,
}

/// The five clients every finding family is checked with (profile ids), and GnuTLS.
pub const FIVE: [&str; 5] = ["python", "openssl", "curl", "node", "java"];

const JAVA_CONNECT: &str = r#"
import javax.net.ssl.*;
public class RealClient {
  public static void main(String[] a) {
    try {
      SSLSocketFactory f = (SSLSocketFactory) SSLSocketFactory.getDefault();
      try (SSLSocket s = (SSLSocket) f.createSocket(a[1], Integer.parseInt(a[0]))) {
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        if (a.length > 2 && !a[2].isEmpty()) p.setApplicationProtocols(a[2].split(","));
        s.setSSLParameters(p);
        s.startHandshake();
        s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes());
        s.getOutputStream().flush();
        if (s.getInputStream().read(new byte[16]) <= 0) throw new java.io.IOException("no answer");
        System.out.println("OK");
      }
    } catch (Exception e) {
      System.out.println("ERR " + e.toString());
    }
  }
}
"#;

const PY_REAL: &str = r#"
import ssl, socket, sys, re
import os
ctx = ssl.create_default_context(cafile=sys.argv[3])
if os.environ.get("TEST_ALPN"):
    ctx.set_alpn_protocols(os.environ["TEST_ALPN"].split(","))
if os.environ.get("TEST_CERT"):
    ctx.load_cert_chain(os.environ["TEST_CERT"], os.environ["TEST_KEY"])
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=sys.argv[2]) as t:
            t.sendall(b"GET / HTTP/1.0\r\n\r\n")
            if not t.recv(16):
                raise OSError("no answer")
            print("OK")
except Exception as e:
    print("ERR " + re.sub(r" \(_ssl\.c:\d+\)$", "", str(e)))
"#;

const NODE_REAL: &str = r#"
const tls = require('tls');
const fs = require('fs');
const opts = {host: '127.0.0.1', port: +process.argv[1], servername: process.argv[2]};
if (process.env.TEST_ALPN) opts.ALPNProtocols = process.env.TEST_ALPN.split(',');
if (process.env.TEST_CERT) {
  opts.cert = fs.readFileSync(process.env.TEST_CERT);
  opts.key = fs.readFileSync(process.env.TEST_KEY);
}
const s = tls.connect(opts, () => {
  s.write('GET / HTTP/1.0\r\n\r\n');
});
let done = false;
s.on('data', () => { if (!done) { done = true; console.log('OK'); s.destroy(); } });
s.on('error', e => { if (!done) { done = true; console.log('ERR ' + e.code + ': ' + e.message); } });
s.setTimeout(8000, () => { console.log('ERR timeout'); s.destroy(); });
"#;

/// How a client is configured beyond trusting the root: the ALPN protocols it offers
/// (comma-separated), the client certificate it presents (PEM certificate and key; Java
/// reads `java_keystore`, a PKCS#12 file with password "changeit"), the environment.
#[derive(Debug, Clone, Default)]
pub struct Tweaks {
    pub alpn: Option<String>,
    pub cert: Option<(std::path::PathBuf, std::path::PathBuf)>,
    pub java_keystore: Option<std::path::PathBuf>,
    pub env: Vec<(String, String)>,
}

/// The real clients installed here, all trusting one root, reaching servers on 127.0.0.1
/// under one host name.
pub struct RealClients {
    pub root: std::path::PathBuf,
    pub host: String,
    dir: tempfile::TempDir,
}

fn run_client(mut cmd: Command, stdin: &str) -> String {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start client");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    // Every client runs under `timeout`, so this cannot hang.
    let out = child.wait_with_output().expect("wait client");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn timeout(secs: u32, prog: &str) -> Command {
    let mut c = Command::new("timeout");
    c.arg(secs.to_string()).arg(prog);
    c
}

/// The "OK" / "ERR text" line a script client printed.
fn ok_or_err(out: &str) -> Real {
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with("OK") || l.starts_with("ERR "))
        .unwrap_or("")
        .to_string();
    Real {
        connects: line == "OK",
        text: line.trim_start_matches("ERR ").to_string(),
    }
}

impl RealClients {
    /// Compile the Java client and make its trust store from `root` (PEM).
    pub fn new(root: &std::path::Path, host: &str) -> RealClients {
        let dir = compile_java("RealClient.java", JAVA_CONNECT);
        let st = Command::new("keytool")
            .args(["-importcert", "-noprompt", "-alias", "root", "-file"])
            .arg(root)
            .arg("-keystore")
            .arg(dir.path().join("trust.p12"))
            .args(["-storetype", "PKCS12", "-storepass", "changeit"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("keytool");
        assert!(st.success(), "keytool failed");
        RealClients {
            root: root.to_path_buf(),
            host: host.to_string(),
            dir,
        }
    }

    /// Run client `id` (a profile id: python, openssl, curl, node, java, gnutls) against
    /// 127.0.0.1:`port`.
    pub fn run(&self, id: &str, port: u16) -> Real {
        self.run_with(id, port, &Tweaks::default())
    }

    /// [`RealClients::run`], the client configured by `t`.
    pub fn run_with(&self, id: &str, port: u16, t: &Tweaks) -> Real {
        let (root, host, p) = (&self.root, self.host.as_str(), port.to_string());
        let script_env = |c: &mut Command| {
            if let Some(a) = &t.alpn {
                c.env("TEST_ALPN", a);
            }
            if let Some((cert, key)) = &t.cert {
                c.env("TEST_CERT", cert).env("TEST_KEY", key);
            }
            c.envs(t.env.iter().map(|(k, v)| (k, v)));
        };
        match id {
            "python" => {
                let mut c = timeout(15, "python3");
                c.arg("-c").arg(PY_REAL).args([&p, host]).arg(root);
                script_env(&mut c);
                ok_or_err(&run_client(c, ""))
            }
            "openssl" => {
                let mut c = timeout(15, "openssl");
                c.args(["s_client", "-connect", &format!("127.0.0.1:{p}")])
                    .args(["-servername", host, "-ign_eof", "-CAfile"])
                    .arg(root);
                if let Some(a) = &t.alpn {
                    c.args(["-alpn", a]);
                }
                if let Some((cert, key)) = &t.cert {
                    c.arg("-cert").arg(cert).arg("-key").arg(key);
                }
                c.envs(t.env.iter().map(|(k, v)| (k, v)));
                let out = run_client(c, "GET / HTTP/1.0\r\n\r\n");
                let connects = out.contains("HTTP/1.");
                // The OpenSSL error line, or the failing socket call with its errno.
                let err = regex::Regex::new(
                    r"error:[0-9A-F]{8}:SSL routines:[a-z_0-9]*:[^:]*|(?m)^(read|write|connect):errno=\d+",
                )
                .unwrap()
                .find(&out)
                .map(|m| m.as_str().to_string())
                .unwrap_or_default();
                Real {
                    connects,
                    text: err,
                }
            }
            "curl" => {
                let mut c = timeout(15, "curl");
                c.args(["-sS", "-o", "/dev/null", "--cacert"])
                    .arg(root)
                    .args(["--resolve", &format!("{host}:{p}:127.0.0.1")])
                    .arg(format!("https://{host}:{p}/"));
                match t.alpn.as_deref() {
                    Some("http/1.1") => {
                        c.arg("--http1.1");
                    }
                    Some(other) => panic!("curl cannot be made to offer only {other}"),
                    None => {}
                }
                if let Some((cert, key)) = &t.cert {
                    c.arg("--cert").arg(cert).arg("--key").arg(key);
                }
                c.envs(t.env.iter().map(|(k, v)| (k, v)));
                let out = c.stdin(Stdio::null()).output().expect("run curl");
                let text = String::from_utf8_lossy(&out.stderr);
                Real {
                    connects: out.status.success(),
                    text: text.lines().next().unwrap_or("").trim_end().to_string(),
                }
            }
            "node" => {
                let mut c = timeout(15, "node");
                c.arg("-e")
                    .arg(NODE_REAL)
                    .args([&p, host])
                    .env("NODE_EXTRA_CA_CERTS", root);
                script_env(&mut c);
                ok_or_err(&run_client(c, ""))
            }
            "java" => {
                let mut c = timeout(30, "java");
                c.arg(format!(
                    "-Djavax.net.ssl.trustStore={}",
                    self.dir.path().join("trust.p12").display()
                ))
                .arg("-Djavax.net.ssl.trustStorePassword=changeit");
                if let Some(ks) = &t.java_keystore {
                    c.arg(format!("-Djavax.net.ssl.keyStore={}", ks.display()))
                        .arg("-Djavax.net.ssl.keyStorePassword=changeit")
                        .arg("-Djavax.net.ssl.keyStoreType=PKCS12");
                }
                c.arg("-cp").arg(self.dir.path()).args([
                    "RealClient",
                    &p,
                    host,
                    t.alpn.as_deref().unwrap_or(""),
                ]);
                c.envs(t.env.iter().map(|(k, v)| (k, v)));
                ok_or_err(&run_client(c, ""))
            }
            "gnutls" => {
                let mut c = timeout(15, "gnutls-cli");
                c.arg("--x509cafile").arg(root).args(["-p", &p, host]);
                if let Some(a) = &t.alpn {
                    c.args(["--alpn", a]);
                }
                if let Some((cert, key)) = &t.cert {
                    c.arg("--x509certfile")
                        .arg(cert)
                        .arg("--x509keyfile")
                        .arg(key);
                }
                c.envs(t.env.iter().map(|(k, v)| (k, v)));
                let out = run_client(c, "GET / HTTP/1.0\r\n\r\n");
                let connects = out.contains("HTTP/1.");
                // The line that names the cause.
                let text = out
                    .lines()
                    .find(|l| l.starts_with("*** "))
                    .unwrap_or("")
                    .trim()
                    .to_string();
                Real { connects, text }
            }
            other => panic!("no real client runner for {other}"),
        }
    }

    /// Run every client in `ids` against `port` at once.
    pub fn run_all(&self, ids: &[&str], port: u16) -> Vec<(String, Real)> {
        self.run_all_with(ids, port, &Tweaks::default())
    }

    /// [`RealClients::run_all`], every client configured by `t`.
    pub fn run_all_with(&self, ids: &[&str], port: u16, t: &Tweaks) -> Vec<(String, Real)> {
        std::thread::scope(|sc| {
            let handles: Vec<_> = ids
                .iter()
                .map(|id| sc.spawn(move || (id.to_string(), self.run_with(id, port, t))))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }
}

/// Whether a simulated client (`connects`, `text`) says what the real one did; the reason
/// when not. Texts are compared as each client prints them: curl's version in "OpenSSL/3.0.N"
/// is the profile's series, Node's line is `code: message` where the profile may keep only the
/// code, gnutls-cli prints several lines.
pub fn agrees(id: &str, real: &Real, connects: bool, text: &str) -> Result<(), String> {
    if real.connects != connects {
        return Err(format!(
            "{id}: real connects={} ({:?}), simulated connects={connects} ({text:?})",
            real.connects, real.text
        ));
    }
    if real.connects {
        return Ok(());
    }
    let same = match id {
        "curl" => {
            let tail = text.trim_start_matches("OpenSSL/3.0: ");
            real.text.contains(tail) && (tail != text || real.text.ends_with(text))
        }
        "node" => real.text.starts_with(text),
        _ => real.text == text,
    };
    if same {
        Ok(())
    } else {
        Err(format!(
            "{id}: real error {:?}, simulated {text:?}",
            real.text
        ))
    }
}

/// What a real client said when verifying a server: Ok (connected), or its stable error text.
pub type Outcome = Result<(), String>;

const JAVA_PROBE: &str = r#"
import javax.net.ssl.*;
import java.net.Socket;
public class VerifyProbe {
  public static void main(String[] a) {
    try {
      SSLSocketFactory f = (SSLSocketFactory) SSLSocketFactory.getDefault();
      Socket raw = new Socket("127.0.0.1", Integer.parseInt(a[0]));
      raw.setSoTimeout(10000);
      try (SSLSocket s = (SSLSocket) f.createSocket(raw, a[1], Integer.parseInt(a[0]), true)) {
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(p);
        s.startHandshake();
        System.out.println("OK");
      }
    } catch (Exception e) {
      System.out.println("ERR " + e.toString());
    }
  }
}
"#;

/// The compiled Java probe (javac once per test process).
fn java_classes() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| compile_java("VerifyProbe.java", JAVA_PROBE))
        .path()
}

/// `source` saved as `file_name` in a fresh directory and compiled there with javac.
pub fn compile_java(file_name: &str, source: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join(file_name);
    std::fs::write(&src, source).unwrap();
    let st = Command::new("javac")
        .arg("-d")
        .arg(dir.path())
        .arg(&src)
        .status()
        .expect("javac");
    assert!(st.success(), "javac {file_name} failed");
    dir
}

/// A PKCS#12 trust store next to `cafile` holding every certificate of that PEM file.
pub fn java_truststore(cafile: &Path) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let out = cafile.with_extension("truststore.p12");
    if out.exists() {
        return out;
    }
    let pem = std::fs::read_to_string(cafile).unwrap();
    let mut n = 0;
    for block in pem.split_inclusive("-----END CERTIFICATE-----\n") {
        let Some(start) = block.find("-----BEGIN CERTIFICATE-----") else {
            continue;
        };
        let one = cafile.with_extension(format!("part{n}.pem"));
        std::fs::write(&one, &block[start..]).unwrap();
        let st = Command::new("keytool")
            .args([
                "-importcert",
                "-noprompt",
                "-alias",
                &format!("ca{n}"),
                "-file",
            ])
            .arg(&one)
            .arg("-keystore")
            .arg(&out)
            .args(["-storetype", "PKCS12", "-storepass", "changeit"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("keytool");
        assert!(st.success(), "keytool failed for {}", one.display());
        n += 1;
    }
    out
}

/// Java 17 (JSSE, endpoint identification HTTPS as HttpsURLConnection and HttpClient set
/// it) connecting to 127.0.0.1:`port` for `host`, trusting only the certificates in `cafile`.
/// The text is `exception.toString()`.
pub fn java_verify(port: u16, host: &str, cafile: &Path) -> Outcome {
    let ts = java_truststore(cafile);
    let out = Command::new("timeout")
        .args(["30", "java"])
        .arg(format!("-Djavax.net.ssl.trustStore={}", ts.display()))
        .arg("-Djavax.net.ssl.trustStorePassword=changeit")
        .arg("-cp")
        .arg(java_classes())
        .arg("VerifyProbe")
        .arg(port.to_string())
        .arg(host)
        .stdin(Stdio::null())
        .output()
        .expect("run java");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("").trim();
    if line == "OK" {
        return Ok(());
    }
    match line.strip_prefix("ERR ") {
        Some(e) => Err(e.to_string()),
        None => panic!(
            "java printed {text:?}; stderr {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// gnutls-cli 3.7 connecting to 127.0.0.1:`port`, checking the name `host`, trusting `cafile`.
/// The text is the line that names the cause: `- Status: …` for a verification failure,
/// else the first `*** Fatal error` / `*** Received alert` line.
pub fn gnutls_verify(port: u16, host: &str, cafile: &Path) -> Outcome {
    let out = Command::new("timeout")
        .args(["20", "gnutls-cli", "--x509cafile"])
        .arg(cafile)
        .args([
            "-p",
            &port.to_string(),
            "--verify-hostname",
            host,
            "127.0.0.1",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run gnutls-cli");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    if let Some(l) = lines
        .iter()
        .find(|l| l.starts_with("- Status: The certificate is NOT trusted"))
    {
        return Err(l.to_string());
    }
    if let Some(l) = lines
        .iter()
        .find(|l| l.starts_with("*** Fatal error") || l.starts_with("*** Received alert"))
    {
        return Err(l.to_string());
    }
    assert!(
        text.contains("Handshake was completed"),
        "gnutls-cli neither failed nor completed: {text}"
    );
    Ok(())
}

const NODE_VERIFY: &str = r#"
const tls = require('tls'), fs = require('fs');
const [ca, port, name] = process.argv.slice(1);
const s = tls.connect({ host: '127.0.0.1', port: +port, servername: name, ca: fs.readFileSync(ca) },
  () => { console.log('OK'); s.destroy(); });
s.setTimeout(10000, () => { console.log('TIMEOUT'); s.destroy(); });
s.on('error', e => { console.log('ERR ' + e.code + ': ' + e.message); });
"#;

/// Node.js 20 `tls.connect` for `host`, trusting only `cafile`; the text is
/// `err.code + ": " + err.message`.
pub fn node_verify(port: u16, host: &str, cafile: &Path) -> Outcome {
    let out = Command::new("timeout")
        .args(["20", "node", "-e", NODE_VERIFY])
        .arg(cafile)
        .arg(port.to_string())
        .arg(host)
        .stdin(Stdio::null())
        .output()
        .expect("run node");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if text == "OK" {
        return Ok(());
    }
    match text.strip_prefix("ERR ") {
        Some(e) => Err(e.lines().next().unwrap_or("").to_string()),
        None => panic!(
            "node printed {text:?}; stderr {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
