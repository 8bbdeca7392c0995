//! The clients people use with STARTTLS protocols, run for real against a loopback port:
//! `openssl s_client -starttls`, `curl --ssl-reqd`, Python's smtplib/imaplib/poplib/ftplib,
//! psql, the mariadb client, ldapsearch -ZZ. Each returns everything it printed.

use std::process::{Command, Stdio};

/// Run `cmd` (under `timeout 10`) with stdin closed; stdout and stderr together.
fn output(program: &str, args: &[String]) -> String {
    let out = Command::new("timeout")
        .arg("10")
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Python: run `call` (an expression using `host`, `port`) and print the last line of the
/// traceback it raises, as a user sees it.
fn python(module: &str, call: &str, port: u16) -> String {
    let script = format!(
        "import {module}, ssl, traceback, sys\nhost, port = '127.0.0.1', {port}\n\
         try:\n    {call}\n    print('connected')\n\
         except Exception as e:\n    print(traceback.format_exception_only(type(e), e)[-1].strip())\n"
    );
    output("python3", &["-c".to_string(), script])
}

/// What a client trusts when it checks the server's certificate.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'a> {
    /// The server's own (self-signed) certificate as the CA file.
    Server(&'a str),
    /// Only the system's roots (Debian's bundle): a self-signed server is untrusted.
    System,
}

/// The system's CA bundle on Debian.
const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The venv with psycopg 3.3.9 and the libpq 18 its wheel bundles (`pip install
/// 'psycopg[binary]==3.3.9'` once).
fn psycopg() -> String {
    static PY: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PY.get_or_init(|| {
        super::venv::python_venv("psycopg", &["psycopg[binary]==3.3.9"], "import psycopg")
    })
    .display()
    .to_string()
}

/// The output of the client named `label` (as in data/client-errors.toml's
/// `[upgrade_tls]`) checking the certificate against `trust`, and the name `host` when given
/// (connecting to 127.0.0.1 all the same), on 127.0.0.1:`port`.
pub fn run_checking(label: &str, port: u16, trust: Trust, host: Option<&str>) -> String {
    let ca = match trust {
        Trust::Server(ca) => ca,
        Trust::System => SYSTEM_ROOTS,
    };
    let host = host.unwrap_or("127.0.0.1");
    let libpq = format!(
        "host={host} hostaddr=127.0.0.1 port={port} user=postgres sslmode=verify-full sslrootcert={ca} connect_timeout=5"
    );
    match label {
        "psql sslmode=verify-full" => output("psql", &[libpq, "-c".into(), "select 1".into()]),
        "psycopg sslmode=verify-full" => {
            let script = format!(
                "import psycopg, traceback\ntry:\n    psycopg.connect({libpq:?})\n    print('connected')\n\
                 except Exception as e:\n    print(traceback.format_exception_only(type(e), e)[-1].strip())\n"
            );
            output(&psycopg(), &["-c".to_string(), script])
        }
        "mariadb --ssl-verify-server-cert" => {
            let mut args = vec![
                format!("-h{host}"),
                format!("-P{port}"),
                "-uroot".into(),
                "--ssl-verify-server-cert".into(),
                "--connect-timeout=5".into(),
                "-e".into(),
                "select 1".into(),
            ];
            if let Trust::Server(ca) = trust {
                args.push(format!("--ssl-ca={ca}"));
            }
            output("mariadb", &args)
        }
        "Python smtplib starttls(context=ssl.create_default_context())" => python(
            "smtplib",
            &format!(
                "smtplib.SMTP(host, port, timeout=5).starttls(context=ssl.create_default_context(cafile={ca:?}))"
            ),
            port,
        ),
        "Python imaplib starttls(ssl_context=ssl.create_default_context())" => python(
            "imaplib",
            &format!(
                "imaplib.IMAP4(host, port, timeout=5).starttls(ssl_context=ssl.create_default_context(cafile={ca:?}))"
            ),
            port,
        ),
        "Python ftplib auth(), context=ssl.create_default_context()" => python(
            "ftplib",
            &format!(
                "f = ftplib.FTP_TLS(context=ssl.create_default_context(cafile={ca:?}), timeout=5); f.connect(host, port); f.auth()"
            ),
            port,
        ),
        "ldapsearch -ZZ" => {
            let out = Command::new("timeout")
                .args(["10", "ldapsearch", "-x", "-ZZ", "-H"])
                .arg(format!("ldap://127.0.0.1:{port}"))
                .args(["-b", "", "-s", "base"])
                .env("LDAPTLS_CACERT", ca)
                .stdin(Stdio::null())
                .output()
                .expect("ldapsearch");
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        }
        "curl --ssl-reqd imap://" | "curl --ssl-reqd ftp://" => output(
            "curl",
            &[
                "-sS".into(),
                "--max-time".into(),
                "8".into(),
                "--ssl-reqd".into(),
                "--cacert".into(),
                ca.into(),
                format!(
                    "{}127.0.0.1:{port}/",
                    label.trim_start_matches("curl --ssl-reqd ")
                ),
            ],
        ),
        "curl --ssl-reqd smtp://" => output(
            "curl",
            &[
                "-sS".into(),
                "--max-time".into(),
                "8".into(),
                "--ssl-reqd".into(),
                "--cacert".into(),
                ca.into(),
                format!("smtp://127.0.0.1:{port}/"),
            ],
        ),
        other => panic!("no test runs the client {other:?} with a trust store: add it here"),
    }
}

/// The output of the client named `label` (as in data/client-errors.toml's `[upgrade]`)
/// against 127.0.0.1:`port`. Panics on a label no test knows how to run: every client text
/// the product claims must be measured.
pub fn run(label: &str, port: u16) -> String {
    let url = |scheme: &str| format!("{scheme}://127.0.0.1:{port}/");
    if let Some(proto) = label.strip_prefix("openssl s_client -starttls ") {
        return output(
            "openssl",
            &[
                "s_client".into(),
                "-starttls".into(),
                proto.into(),
                "-connect".into(),
                format!("127.0.0.1:{port}"),
            ],
        );
    }
    if let Some(scheme) = label
        .strip_prefix("curl --ssl-reqd ")
        .and_then(|s| s.strip_suffix("://"))
    {
        return output(
            "curl",
            &[
                "-sS".into(),
                "--max-time".into(),
                "8".into(),
                "--ssl-reqd".into(),
                url(scheme),
            ],
        );
    }
    match label {
        "Python smtplib LMTP starttls()" => python(
            "smtplib",
            "smtplib.LMTP(host, port, timeout=5).starttls()",
            port,
        ),
        "Python smtplib starttls()" => python(
            "smtplib",
            "smtplib.SMTP(host, port, timeout=5).starttls()",
            port,
        ),
        "Python imaplib starttls()" => python(
            "imaplib",
            "imaplib.IMAP4(host, port, timeout=5).starttls()",
            port,
        ),
        "Python poplib stls()" => {
            python("poplib", "poplib.POP3(host, port, timeout=5).stls()", port)
        }
        "Python ftplib auth()" => python(
            "ftplib",
            "f = ftplib.FTP_TLS(timeout=5); f.connect(host, port); f.auth()",
            port,
        ),
        "psql sslmode=require" => output(
            "psql",
            &[
                format!(
                    "host=127.0.0.1 port={port} user=postgres sslmode=require connect_timeout=5"
                ),
                "-c".into(),
                "select 1".into(),
            ],
        ),
        "psql 17 sslnegotiation=direct" => output(
            &super::starttls_servers::pg17_bin_dir()
                .join("psql")
                .display()
                .to_string(),
            &[
                format!(
                    "host=127.0.0.1 port={port} user=postgres sslmode=require sslnegotiation=direct connect_timeout=5"
                ),
                "-Atc".into(),
                "select ssl from pg_stat_ssl where pid = pg_backend_pid()".into(),
            ],
        ),
        "mariadb --ssl-verify-server-cert" => output(
            "mariadb",
            &[
                "-h127.0.0.1".into(),
                format!("-P{port}"),
                "-uroot".into(),
                "--ssl-verify-server-cert".into(),
                "--connect-timeout=5".into(),
                "-e".into(),
                "select 1".into(),
            ],
        ),
        "ldapsearch -ZZ" => output(
            "ldapsearch",
            &[
                "-x".into(),
                "-ZZ".into(),
                "-H".into(),
                format!("ldap://127.0.0.1:{port}"),
                "-b".into(),
                "".into(),
                "-s".into(),
                "base".into(),
            ],
        ),
        other => panic!("no test runs the client {other:?}: add it here or drop its text"),
    }
}
