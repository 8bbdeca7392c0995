//! Every Python interpreter on this machine (pyenv builds from 2.7 on, the distribution's
//! python3, PyPy) is probed by `tlsdoctor env`, and what env says each one can speak is
//! checked against the interpreter itself: its `ssl.PROTOCOL_*` constants asked directly, and
//! its default context connecting to real TLS 1.1, 1.2 and 1.3 servers on 127.0.0.1.
//!
//! Which interpreters exist differs per machine, so the test enumerates them. It requires one
//! beyond python3: PyPy, which scripts/test-all.sh installs, so a second implementation is
//! always exercised. The old-interpreter code paths (no `minimum_version`, no `HAS_*` flags)
//! are also unit-tested on a recorded 2.7.18 probe answer in src/env/programs/python.rs, so a
//! machine without pyenv cannot hide a regression there; pyenv's builds are tested here when
//! present, and every one of them must then be found by env's own discovery.

use crate::common::cli::tlsdoctor;
use crate::common::servers::openssl_s_server;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Connects with `ssl.create_default_context()` trusting the server's certificate; runs on
/// Python 2.7 and every Python 3.
const CONNECT: &str = r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
try:
    raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    print("CONNECTED " + str(s.version()))
    s.close()
except Exception as e:
    print("FAILED " + str(e))
"#;

/// What the interpreter itself says, asked without env's probe script.
const ASK: &str = r#"
import ssl, sys
print(sys.version.split()[0])
print(" ".join(sorted(n for n in dir(ssl) if n.startswith("PROTOCOL_"))))
"#;

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The interpreters this machine has, one path per installation.
fn interpreters() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    if let Some(Ok(rd)) = pyenv.map(|r| std::fs::read_dir(r.join("versions"))) {
        let mut dirs: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        dirs.sort();
        for d in dirs {
            if let Some(p) = ["bin/python3", "bin/python"]
                .iter()
                .map(|n| d.join(n))
                .find(|p| p.is_file())
            {
                found.push(p);
            }
        }
    }
    for name in ["python3", "python2", "python2.7", "pypy3", "pypy"] {
        let p = PathBuf::from("/usr/bin").join(name);
        if p.is_file() {
            found.push(p);
        }
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|p| seen.insert(canonical(p)));
    found
}

fn rank(p: &str) -> u8 {
    match p {
        "SSLv3" => 0,
        "TLSv1" => 1,
        "TLSv1.1" => 2,
        "TLSv1.2" => 3,
        "TLSv1.3" => 4,
        other => panic!("unexpected protocol {other}"),
    }
}

fn run(py: &Path, args: &[&str]) -> String {
    let out = Command::new(py)
        .args(args)
        .env_remove("OPENSSL_CONF")
        .env_remove("SSL_CERT_FILE")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", py.display()));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn every_interpreter_here_says_what_it_can_speak() {
    let pythons = interpreters();
    assert!(
        pythons.iter().any(|p| p.ends_with("pypy3")),
        "no /usr/bin/pypy3: scripts/test-all.sh installs it (apt-get install pypy3); \
         found only {pythons:?}"
    );
    // env's own discovery, plus PyPy named explicitly as a user would with --python.
    let r = tlsdoctor(&["env", "--json", "--python", "/usr/bin/pypy3"]);
    let report = r.json();
    let items = report["pythons"].as_array().expect("pythons");
    let clients = report["clients"].as_array().expect("clients");

    let tls11 = openssl_s_server(&["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    let tls12 = openssl_s_server(&["-tls1_2"]);
    let tls13 = openssl_s_server(&["-tls1_3"]);
    let servers = [
        ("TLSv1.1", &tls11),
        ("TLSv1.2", &tls12),
        ("TLSv1.3", &tls13),
    ];

    for py in &pythons {
        let item = items
            .iter()
            .find(|i| {
                i["executable"]
                    .as_str()
                    .is_some_and(|e| canonical(Path::new(e)) == canonical(py))
            })
            .unwrap_or_else(|| panic!("env did not report {}: {}", py.display(), r.stdout));
        let who = format!("{} ({})", py.display(), item["version"]);
        assert!(item["error"].is_null(), "{who}: {}", item["error"]);

        // Version and PROTOCOL_* constants as the interpreter reports them itself.
        let asked = run(py, &["-c", ASK]);
        let mut lines = asked.lines();
        assert_eq!(item["version"].as_str(), lines.next(), "{who}");
        let constants: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
        let reported: Vec<&str> = item["protocol_constants"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(reported, constants, "{who}");
        let speaks = &item["protocols"];
        for (c, proto) in [
            ("PROTOCOL_TLSv1", "TLSv1"),
            ("PROTOCOL_TLSv1_1", "TLSv1.1"),
            ("PROTOCOL_TLSv1_2", "TLSv1.2"),
        ] {
            assert_eq!(
                speaks[proto].as_bool(),
                Some(constants.contains(&c)),
                "{who}: {proto} vs ssl.{c}: {speaks}"
            );
        }
        assert!(speaks["TLSv1.3"].is_boolean(), "{who}: {speaks}");

        // The default context's versions are known on every interpreter, 2.7 included.
        let ctx = &item["default_context"];
        assert!(
            ctx["minimum_version"].is_string() && ctx["maximum_version"].is_string(),
            "{who}: {ctx}"
        );

        // What env says the default context speaks is what it really negotiates.
        let stack = clients
            .iter()
            .find(|c| c["kind"] == "python" && c["path"] == item["path"])
            .unwrap_or_else(|| panic!("{who}: no client stack"));
        let (min, max) = (
            rank(stack["min_protocol"].as_str().expect("min")),
            rank(stack["max_protocol"].as_str().expect("max")),
        );
        for (proto, server) in &servers {
            let cafile = server.cert.as_ref().unwrap().to_str().unwrap();
            let outcome = run(py, &["-c", CONNECT, &server.port.to_string(), cafile]);
            let expect = (min..=max).contains(&rank(proto));
            assert_eq!(
                outcome.starts_with("CONNECTED"),
                expect,
                "{who} against a {proto}-only server: env says it speaks {} to {}, the \
                 interpreter said {outcome:?}; basis {}",
                stack["min_protocol"],
                stack["max_protocol"],
                stack["basis"]
            );
            if expect {
                assert_eq!(outcome, format!("CONNECTED {proto}"), "{who}");
            }
        }
        if item["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("2."))
        {
            python2_human_report(py);
        }
    }
}

/// The human report of a Python 2 says it in the `ssl` module's own terms (it said
/// "protocols compiled in: TLSv1.3" and "min ?, max ?" before).
fn python2_human_report(py: &Path) {
    let path = py.to_str().unwrap();
    let r = tlsdoctor(&["env", "--python", path]);
    let section: String = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with(&format!("  {path} ")))
        .take(8)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        section.contains("ssl constants: PROTOCOL_SSLv23, PROTOCOL_TLS, PROTOCOL_TLSv1"),
        "{section}"
    );
    assert!(section.contains("ssl module can speak: TLSv1"), "{section}");
    assert!(!section.contains("min ?"), "{section}");
    assert!(section.contains("(from its OP_NO_* options)"), "{section}");
}
