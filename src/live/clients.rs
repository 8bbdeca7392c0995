//! The real clients `check` can run, one kind each: how to start it against the relay with
//! the user's trust inputs, when its output says the handshake is over, and how to read its
//! verdict and exact error text from what it printed.
//!
//! Every client connects to the relay on 127.0.0.1 but is told the target's name, so it
//! sends that name in SNI (unless SNI is off) and checks the certificate against it, exactly
//! as it would connecting to the server itself. None is given anything to send beyond its
//! handshake: the scripts close right after it, the tools are ended after it, and the relay
//! holds back whatever curl sends after its Finished.

use super::relay::Gate;
use super::run::{Command, RunResult, SETTLE};
use crate::clients::ErrorStyle;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// The Python `ssl` client (Python 2.7 and 3.x alike).
const PYTHON_SSL: &str = include_str!("scripts/ssl_client.py");
/// PyMongo, run in the interpreter it is installed in.
const PYMONGO: &str = include_str!("scripts/pymongo_client.py");
/// Node.js `tls.connect`.
const NODE: &str = include_str!("scripts/node_client.js");
/// Java (JSSE), run by the JDK's source launcher.
pub(crate) const JAVA: &str = include_str!("scripts/LiveClient.java");
pub(crate) const JAVA_FILE: &str = "LiveClient.java";
/// Go's crypto/tls, run by `go run`.
pub(crate) const GO: &str = include_str!("scripts/go_client.go");
pub(crate) const GO_FILE: &str = "go_client.go";

/// A kind of client, as `check` runs it (serialised as [`Kind::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    PythonSsl,
    Pymongo,
    OpensslCli,
    Curl,
    Node,
    Java,
    Gnutls,
    Go,
}

impl Kind {
    /// The profile whose prediction this client is held to.
    pub fn profile(self) -> &'static str {
        match self {
            Kind::PythonSsl => "python",
            Kind::Pymongo => "pymongo",
            Kind::OpensslCli => "openssl",
            Kind::Curl => "curl",
            Kind::Node => "node",
            Kind::Java => "java",
            Kind::Gnutls => "gnutls",
            // No recorded Go profile: its verdicts are observed only.
            Kind::Go => "go",
        }
    }

    /// The wording style of its texts (a finding's worded breaks of this style stand for
    /// it); none for a client the wording catalogue has no measured texts of (Go).
    pub fn style(self) -> Option<ErrorStyle> {
        Some(match self {
            Kind::PythonSsl => ErrorStyle::Python,
            Kind::Pymongo => ErrorStyle::Pymongo,
            Kind::OpensslCli => ErrorStyle::OpensslCli,
            Kind::Curl => ErrorStyle::Curl,
            Kind::Node => ErrorStyle::Node,
            Kind::Java => ErrorStyle::Java,
            Kind::Gnutls => ErrorStyle::Gnutls,
            Kind::Go => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::PythonSsl => "python-ssl",
            Kind::Pymongo => "pymongo",
            Kind::OpensslCli => "openssl-s_client",
            Kind::Curl => "curl",
            Kind::Node => "node",
            Kind::Java => "java",
            Kind::Gnutls => "gnutls-cli",
            Kind::Go => "go",
        }
    }

    /// How many connections one run of it may open through the relay. Most make one.
    /// PyMongo retries a failed server check every half second until its server-selection
    /// timeout and then reports the last attempt's error: were a retry refused, that error
    /// would be the refusal ("Unexpected EOF"), not the server's, so it gets room for every
    /// retry its timeout allows (its monitor and pool connections included).
    pub(crate) fn relay_connections(self) -> usize {
        match self {
            Kind::Pymongo => 16,
            _ => 4,
        }
    }

    /// What the relay forwards for it: curl sends its HTTP request right after the
    /// handshake, which the server must not get.
    pub(crate) fn gate(self, with_client_cert: bool) -> Gate {
        match self {
            Kind::Curl => Gate::HandshakeOnly {
                client_cert: with_client_cert,
            },
            _ => Gate::All,
        }
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// What the client is to do: the name it believes it connects to, and the trust inputs.
#[derive(Debug, Clone)]
pub(crate) struct Setting {
    /// The relay's port on 127.0.0.1.
    pub port: u16,
    /// The server's port (what the client is told, where it shows in a URL or address).
    pub server_port: u16,
    /// The name the client connects to and checks the certificate against.
    pub host: String,
    /// Whether that name goes in SNI (no with `--no-sni`, and never for an IP address).
    pub sni: bool,
    pub cafile: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// cert and key in one file, for PyMongo's tlsCertificateKeyFile.
    pub cert_and_key: Option<PathBuf>,
    /// The key alone as PKCS#8 DER, for Java.
    pub key_pkcs8: Option<PathBuf>,
    /// The scratch directory of this check's runs.
    pub dir: PathBuf,
    /// How long the client may wait for the server at each step.
    pub timeout: Duration,
}

/// A client's verdict as read from its output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Reading {
    pub connects: bool,
    /// The protocol version it reports, when it connected and says.
    pub version: Option<String>,
    /// The error text exactly as the client printed it (the line that names the cause).
    pub error: Option<String>,
}

fn arg(p: &Path) -> String {
    p.display().to_string()
}

/// A URL or `--connect-to` host: IPv6 literals in brackets.
fn url_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// The command that runs `kind` from `program` with `s`.
pub(crate) fn command<'a>(
    kind: Kind,
    program: &'a Path,
    s: &Setting,
    env: &'a HashMap<String, String>,
    dir: &'a Path,
) -> Command<'a> {
    let timeout = s.timeout.as_secs_f64().max(1.0);
    let settle_ms = SETTLE.as_millis().to_string();
    let config = serde_json::json!({
        "port": s.port,
        "server_port": s.server_port,
        "host": s.host,
        "sni": s.sni,
        "cafile": s.cafile.as_deref().map(arg),
        "cert": s.cert.as_deref().map(arg),
        "key": s.key.as_deref().map(arg),
        "cert_and_key": s.cert_and_key.as_deref().map(arg),
        "timeout": timeout,
        "settle_ms": SETTLE.as_millis() as u64,
    })
    .to_string();
    let mut args: Vec<String> = Vec::new();
    let mut done_marker = None;
    match kind {
        Kind::PythonSsl => args.extend(["-c".into(), PYTHON_SSL.into(), config]),
        Kind::Pymongo => args.extend(["-c".into(), PYMONGO.into(), config]),
        Kind::Node => args.extend(["-e".into(), NODE.into(), config]),
        Kind::Go => args.extend(["run".into(), arg(&s.dir.join(GO_FILE)), config]),
        Kind::Java => args.extend([
            // The source launcher compiles the file in memory; nothing is written.
            arg(&s.dir.join(JAVA_FILE)),
            s.port.to_string(),
            s.host.clone(),
            if s.sni { "1" } else { "0" }.into(),
            s.cafile.as_deref().map(arg).unwrap_or_default(),
            settle_ms,
            ((timeout * 1000.0) as u64).to_string(),
            s.cert.as_deref().map(arg).unwrap_or_default(),
            s.key_pkcs8.as_deref().map(arg).unwrap_or_default(),
        ]),
        Kind::OpensslCli => {
            args.extend(["s_client".into(), "-connect".into()]);
            args.push(format!("127.0.0.1:{}", s.port));
            if s.sni {
                args.extend(["-servername".into(), s.host.clone()]);
            } else {
                args.push("-noservername".into());
            }
            if let Some(ca) = &s.cafile {
                args.extend(["-CAfile".into(), arg(ca)]);
            }
            if let (Some(c), Some(k)) = (&s.cert, &s.key) {
                args.extend(["-cert".into(), arg(c), "-key".into(), arg(k)]);
            }
            // The session summary ends with the verification result.
            done_marker = Some("Verify return code");
        }
        Kind::Curl => {
            let host = url_host(&s.host);
            args.extend(["-sS".into(), "-v".into(), "-o".into(), "/dev/null".into()]);
            args.push("--max-time".into());
            args.push(format!("{}", timeout.ceil() as u64 + 2));
            args.push("--connect-to".into());
            args.push(format!("{host}:{}:127.0.0.1:{}", s.server_port, s.port));
            if let Some(ca) = &s.cafile {
                args.extend(["--cacert".into(), arg(ca)]);
            }
            if let (Some(c), Some(k)) = (&s.cert, &s.key) {
                args.extend(["--cert".into(), arg(c), "--key".into(), arg(k)]);
            }
            args.push(format!("https://{host}:{}/", s.server_port));
            done_marker = Some("* SSL connection using");
        }
        Kind::Gnutls => {
            args.extend(["-p".into(), s.port.to_string()]);
            args.extend(["--verify-hostname".into(), s.host.clone()]);
            if s.sni {
                args.extend(["--sni-hostname".into(), s.host.clone()]);
            } else {
                args.push("--disable-sni".into());
            }
            if let Some(ca) = &s.cafile {
                args.extend(["--x509cafile".into(), arg(ca)]);
            }
            if let (Some(c), Some(k)) = (&s.cert, &s.key) {
                args.extend([
                    "--x509certfile".into(),
                    arg(c),
                    "--x509keyfile".into(),
                    arg(k),
                ]);
            }
            args.push("127.0.0.1".into());
            done_marker = Some("- Handshake was completed");
        }
    }
    Command {
        program,
        args,
        env,
        dir,
        done_marker,
        // A JVM or an interpreter needs time to start on a busy machine; the connection
        // itself is bounded by the prober's deadlines.
        deadline: s.timeout + Duration::from_secs(20),
    }
}

/// The verdict in `r`'s output; None when the client printed nothing to go by (then the
/// output says why).
pub(crate) fn read(kind: Kind, r: &RunResult) -> Option<Reading> {
    let out = r.output();
    match kind {
        Kind::PythonSsl | Kind::Node | Kind::Go => json_line(&r.stdout),
        Kind::Pymongo => json_line(&r.stdout).map(pymongo_tls_verdict),
        Kind::Java => {
            let line = r
                .stdout
                .lines()
                .rev()
                .find(|l| l.starts_with("OK ") || l.starts_with("ERR "))?;
            Some(match line.strip_prefix("OK ") {
                Some(v) => Reading {
                    connects: true,
                    version: Some(v.trim().to_string()),
                    error: None,
                },
                None => Reading {
                    connects: false,
                    version: None,
                    error: Some(line.trim_start_matches("ERR ").trim().to_string()),
                },
            })
        }
        Kind::OpensslCli => {
            let error = out
                .lines()
                .find(|l| openssl_error().is_match(l))
                .map(|l| l.trim().to_string())
                .or_else(|| {
                    out.lines()
                        .find(|l| l.contains(":errno=") || l.starts_with("connect:"))
                        .map(|l| l.trim().to_string())
                });
            let cipher = out
                .lines()
                .find_map(|l| l.split_once(", Cipher is ").map(|(_, c)| c.trim()));
            let version = out.lines().find_map(|l| {
                l.strip_prefix("New, ")
                    .and_then(|rest| rest.split(',').next())
                    .filter(|v| !v.contains("NONE"))
                    .map(str::to_string)
            });
            let connects = error.is_none() && cipher.is_some_and(|c| c != "(NONE)");
            if !connects && error.is_none() && cipher.is_none() {
                return None;
            }
            Some(Reading {
                connects,
                version: version.filter(|_| connects),
                error: if connects { None } else { error },
            })
        }
        Kind::Curl => {
            let error = out
                .lines()
                .find(|l| l.starts_with("curl: ("))
                .map(|l| l.trim().to_string());
            let version = out.lines().find_map(|l| {
                l.strip_prefix("* SSL connection using ")
                    .and_then(|rest| rest.split(' ').next())
                    .map(str::to_string)
            });
            match (&error, &version) {
                (None, None) => None,
                _ => Some(Reading {
                    connects: error.is_none(),
                    version: version.filter(|_| error.is_none()),
                    error,
                }),
            }
        }
        Kind::Gnutls => {
            // The line that names the cause: the certificate status, else the alert, else the
            // first fatal error.
            let lines: Vec<&str> = out.lines().map(str::trim).collect();
            let cause = [
                "- Status: The certificate is NOT",
                "*** Received alert",
                "*** Fatal error",
                "*** ",
            ]
            .iter()
            .find_map(|p| lines.iter().find(|l| l.starts_with(p)))
            .map(|l| l.to_string());
            let completed = out.contains("- Handshake was completed");
            let failed = out.contains("*** Fatal error")
                || out.contains("*** handshake has failed")
                || out.contains("*** Received alert")
                || out.contains("NOT trusted");
            if !completed && !failed {
                return None;
            }
            let version = out.lines().find_map(|l| {
                l.trim()
                    .strip_prefix("- Description: (")
                    .and_then(|rest| rest.split(')').next())
                    .map(str::to_string)
            });
            Some(Reading {
                connects: completed && !failed,
                version: version.filter(|_| completed && !failed),
                error: cause.filter(|_| failed),
            })
        }
    }
}

/// PyMongo is judged on its TLS connection: a failure that names no TLS cause came after the
/// handshake (the server is not MongoDB, or closed on the driver's `hello`), so TLS worked.
fn pymongo_tls_verdict(r: Reading) -> Reading {
    let tls_words = ["SSL", "certificate", "tlsv1", "TLS", "alert", "handshake"];
    match &r.error {
        Some(e) if !tls_words.iter().any(|w| e.contains(w)) => Reading {
            connects: true,
            version: None,
            error: None,
        },
        _ => r,
    }
}

/// PyMongo's own output says it is not installed in this interpreter.
pub(crate) fn pymongo_absent(r: &RunResult) -> bool {
    r.stdout.lines().any(|l| {
        serde_json::from_str::<serde_json::Value>(l.trim())
            .is_ok_and(|v| v["absent"] == serde_json::Value::Bool(true))
    })
}

/// `error:0A000086:SSL routines:…` as OpenSSL prints its error queue.
fn openssl_error() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"error:[0-9A-F]{8}:SSL routines:").expect("a valid pattern")
    })
}

/// The scripts print one JSON object: `{"ok": true, "version": …}` or `{"ok": false,
/// "error": …}`.
fn json_line(stdout: &str) -> Option<Reading> {
    #[derive(serde::Deserialize)]
    struct Line {
        ok: bool,
        version: Option<String>,
        error: Option<String>,
    }
    let line: Line = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l.trim()).ok())?;
    Some(Reading {
        connects: line.ok,
        version: line.version.filter(|_| line.ok),
        error: line.error.filter(|_| !line.ok),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ran(stdout: &str, stderr: &str) -> RunResult {
        RunResult {
            stdout: stdout.into(),
            stderr: stderr.into(),
            code: Some(0),
            spawn_error: None,
            timed_out: false,
        }
    }

    #[test]
    fn s_client_output_gives_its_error_line() {
        let out = "CONNECTED(00000003)\n40F7C1B8E27F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../ssl/record/rec_layer_s3.c:1586:SSL alert number 40\n---\nNew, (NONE), Cipher is (NONE)\n";
        let r = read(Kind::OpensslCli, &ran(out, "")).unwrap();
        assert!(!r.connects);
        assert!(r.error.unwrap().contains("sslv3 alert handshake failure"));
        let ok =
            "---\nNew, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384\nVerify return code: 0 (ok)\n";
        let r = read(Kind::OpensslCli, &ran(ok, "")).unwrap();
        assert!(r.connects);
        assert_eq!(r.version.as_deref(), Some("TLSv1.3"));
    }

    #[test]
    fn curl_output_gives_its_error_line() {
        let err = "* ALPN: offers h2,http/1.1\ncurl: (60) SSL certificate problem: certificate has expired\n";
        let r = read(Kind::Curl, &ran("", err)).unwrap();
        assert_eq!(
            r.error.as_deref(),
            Some("curl: (60) SSL certificate problem: certificate has expired")
        );
        let ok = "* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384\n";
        assert!(read(Kind::Curl, &ran("", ok)).unwrap().connects);
        assert!(read(Kind::Curl, &ran("", "* Trying\n")).is_none());
    }

    #[test]
    fn script_output_is_one_json_line() {
        let r = read(
            Kind::PythonSsl,
            &ran("noise\n{\"ok\": false, \"error\": \"[SSL] x\"}\n", ""),
        )
        .unwrap();
        assert_eq!(r.error.as_deref(), Some("[SSL] x"));
        assert!(read(Kind::Node, &ran("Traceback", "")).is_none());
    }
}
