//! No byte a peer controls reaches the terminal as a control character: `check`, `scan`
//! (with its OCSP section) and `simulate` against a server whose names are hostile, the
//! not-TLS banner path, `env` and `explain`; the assertions read the raw bytes of stdout and
//! stderr. JSON keeps the peer's text (escaped by JSON itself) and stays valid UTF-8.

use super::hostile_pki::{EVIL_CN, HostilePki};
use crate::common::servers::banner_server;
use std::process::Command;

struct Raw {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Raw {
    fn text(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            String::from_utf8_lossy(&self.stdout),
            String::from_utf8_lossy(&self.stderr)
        )
    }
}

/// `tlsdoctor ARGS`, the raw bytes it wrote. `color`: force colour (`--color always`).
fn run(args: &[&str], env: &[(&str, &str)], color: bool) -> Raw {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlsdoctor"));
    // No live observation (see common::cli::tlsdoctor_env).
    cmd.args(args)
        .env("TLSDOCTOR_NO_LIVE", "1")
        .envs(env.iter().copied());
    if color {
        cmd.args(["--color", "always"]);
    } else {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd.output().expect("run tlsdoctor");
    Raw {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// Characters no peer may put on a terminal: C0 but newline, DEL, C1, bidi controls and
/// invisible format characters.
fn forbidden(c: char) -> bool {
    let n = c as u32;
    (n < 0x20 && c != '\n')
        || (0x7f..=0x9f).contains(&n)
        || (0x202a..=0x202e).contains(&n)
        || (0x2066..=0x2069).contains(&n)
        || (0x200b..=0x200f).contains(&n)
        || n == 0xfeff
}

/// `bytes` is UTF-8 and holds no forbidden character, except (with `color`) the SGR colour
/// sequences tlsdoctor itself writes.
fn assert_clean(bytes: &[u8], color: bool, what: &str, all: &Raw) {
    let text = std::str::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("{what} is not UTF-8 ({e}):\n{}", all.text()));
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if color && c == '\x1b' {
            let params = rest[2.min(rest.len())..]
                .bytes()
                .take_while(|b| b.is_ascii_digit() || *b == b';')
                .count();
            let sgr = rest.starts_with("\x1b[") && rest.as_bytes().get(2 + params) == Some(&b'm');
            assert!(
                sgr,
                "{what}: an escape sequence that is not tlsdoctor's colour: {:?}\n{}",
                &rest[..rest.len().min(20)],
                all.text()
            );
            rest = &rest[2 + params + 1..];
            continue;
        }
        assert!(
            !forbidden(c),
            "{what}: raw {c:?} near {:?}\n{}",
            &text[text.len() - rest.len()..][..rest.len().min(40)],
            all.text()
        );
        rest = &rest[c.len_utf8()..];
    }
}

fn assert_run_clean(r: &Raw, color: bool) {
    assert_clean(&r.stdout, color, "stdout", r);
    assert_clean(&r.stderr, color, "stderr", r);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(!all.contains("panicked"), "{}", r.text());
}

/// The escaped form of the hostile subject, as a reader sees it.
const EVIL_SHOWN: &str = "evil\\x1b[2J\\x1b]0;pwned\\x07name";

#[test]
fn check_shows_hostile_names_escaped() {
    let pki = HostilePki::build();
    let server = pki.server();
    let target = format!("localhost:{}", server.port);
    let ca = pki.path("ca.pem");
    let args = [
        "check",
        target.as_str(),
        "--cafile",
        ca.to_str().unwrap(),
        "--timeout",
        "5",
    ];
    for color in [false, true] {
        let r = run(&args, &[], color);
        assert!(r.code == 0 || r.code == 1, "{}", r.text());
        assert_run_clean(&r, color);
        let out = String::from_utf8_lossy(&r.stdout);
        assert!(out.contains(EVIL_SHOWN), "{}", r.text());
        assert!(out.contains("\\u{202e}moc.elpmaxe"), "{}", r.text());
        assert!(out.contains("<script>alert(1)</script>"), "{}", r.text());
        // The stapled response's responder, included certificate and signer.
        assert!(out.contains("responder\\x1b]2;owned"), "{}", r.text());
    }
}

#[test]
fn scan_with_ocsp_shows_hostile_names_escaped() {
    let pki = HostilePki::build();
    let server = pki.server();
    let args = ["scan", &server.target(), "--ocsp-query", "--timeout", "5"];
    for color in [false, true] {
        let r = run(&args, &[], color);
        assert_eq!(r.code, 0, "{}", r.text());
        assert_run_clean(&r, color);
        let out = String::from_utf8_lossy(&r.stdout);
        assert!(out.contains(EVIL_SHOWN), "{}", r.text());
        assert!(out.contains("Hostile CA \\x1b[31mred"), "{}", r.text());
        assert!(out.contains("ocsp-title"), "{}", r.text());
    }
}

#[test]
fn simulate_shows_hostile_names_escaped() {
    let pki = HostilePki::build();
    let server = pki.server();
    let target = format!("localhost:{}", server.port);
    for color in [false, true] {
        let r = run(
            &["simulate", &target, "--client", "all", "--timeout", "5"],
            &[],
            color,
        );
        assert_eq!(r.code, 0, "{}", r.text());
        assert_run_clean(&r, color);
    }
}

#[test]
fn json_keeps_the_peers_text_and_stays_valid() {
    let pki = HostilePki::build();
    let server = pki.server();
    let target = format!("localhost:{}", server.port);
    let ca = pki.path("ca.pem");
    for args in [
        vec!["check", &target, "--json", "--cafile", ca.to_str().unwrap()],
        vec!["scan", &target, "--json", "--ocsp-query"],
        vec!["simulate", &target, "--json"],
    ] {
        let r = run(&args, &[], false);
        let text = std::str::from_utf8(&r.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: stdout is not UTF-8: {e}\n{}", r.text()));
        let doc: serde_json::Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON: {e}\n{}", r.text()));
        // Raw control bytes never appear in JSON text: the serialiser writes \u001b.
        assert!(!text.bytes().any(|b| b < 0x20 && b != b'\n'), "{args:?}");
        if args[0] != "simulate" {
            let all = doc.to_string();
            assert!(
                all.contains(&serde_json::to_string(EVIL_CN).unwrap()[1..EVIL_CN.len()]),
                "{args:?}: the subject is kept as the peer sent it: {doc:#}"
            );
        }
    }
}

#[test]
fn not_tls_banners_are_escaped() {
    let addr = banner_server(
        b"220 \x1b[2J\x1b]0;pwned\x07mail.test \xe2\x80\xae ESMTP\r\n",
        b"500 \x1b[31mno\r\n",
    );
    let target = addr.to_string();
    for args in [
        vec!["check", &target, "--timeout", "3"],
        vec!["scan", &target, "--timeout", "3"],
        vec!["simulate", &target, "--timeout", "3"],
    ] {
        for color in [false, true] {
            let r = run(&args, &[], color);
            assert!((0..=2).contains(&r.code), "{args:?}: {}", r.text());
            assert_run_clean(&r, color);
        }
    }
}

#[test]
fn a_name_that_is_not_utf8_keeps_json_valid() {
    let pki = HostilePki::build();
    let addr = pki.rustls_server("not-utf8");
    let target = format!("localhost:{}", addr.port());
    let ca = pki.path("ca.pem");
    let ca = ca.to_str().unwrap();
    for args in [
        vec!["check", &target, "--json", "--cafile", ca],
        vec!["scan", &target, "--json"],
    ] {
        let r = run(&args, &[], false);
        assert!((0..=1).contains(&r.code), "{args:?}: {}", r.text());
        let text = std::str::from_utf8(&r.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: stdout is not UTF-8: {e}\n{}", r.text()));
        let doc: serde_json::Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON: {e}\n{}", r.text()));
        let chain = if args[0] == "check" {
            &doc["diagnoses"][0]["certificate_chain"]
        } else {
            &doc["servers"][0]["certificate_chain"]
        };
        let subject = chain["certificates"][0]["subject"]
            .as_str()
            .unwrap_or_default();
        assert!(
            !subject.is_empty(),
            "{args:?}: the leaf is still described: {doc:#}"
        );
        // The bytes that are not UTF-8 show as visible escapes; the rest of the name is kept.
        assert!(
            subject.contains("CN=bad\\xff\\xfe\\xc3utf8!"),
            "{args:?}: subject {subject:?}"
        );
        assert!(!subject.contains("X509Error"), "{args:?}: {subject:?}");
        assert_run_clean(&r, false);
    }
    for color in [false, true] {
        let r = run(&["check", &target, "--cafile", ca], &[], color);
        assert!((0..=1).contains(&r.code), "{}", r.text());
        assert_run_clean(&r, color);
        let out = String::from_utf8_lossy(&r.stdout);
        assert!(out.contains("bad\\xff\\xfe\\xc3utf8!"), "{}", r.text());
    }
}

#[test]
fn check_escapes_the_pasted_error_text() {
    // A message pasted from a log quotes whatever the peer sent.
    let pki = HostilePki::build();
    let server = pki.server();
    let target = format!("localhost:{}", server.port);
    let ca = pki.path("ca.pem");
    let error =
        "certificate verify failed: hostname mismatch for 'evil\x1b[2J\x1b]0;t\x07' \u{202e}";
    let r = run(
        &[
            "check",
            &target,
            "--cafile",
            ca.to_str().unwrap(),
            "--error",
            error,
        ],
        &[],
        false,
    );
    assert!((0..=1).contains(&r.code), "{}", r.text());
    assert_run_clean(&r, false);
    assert!(
        String::from_utf8_lossy(&r.stdout).contains("evil\\x1b[2J"),
        "{}",
        r.text()
    );
}

#[test]
fn explain_escapes_what_it_quotes() {
    let text = "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify \
                failed: Hostname mismatch, certificate is not valid for 'evil\x1b]0;t\x07.test'. \
                (_ssl.c:1006) host evil\x1b[2J.test:443 \u{202e}";
    for color in [false, true] {
        let r = run(&["explain", text], &[], color);
        assert_eq!(r.code, 0, "{}", r.text());
        assert_run_clean(&r, color);
    }
}

#[test]
fn env_escapes_what_local_programs_and_variables_say() {
    // A "python" that prints escape sequences instead of answering, and a CA-file variable
    // whose path carries some: `env` reports both, escaped.
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("python3");
    std::fs::write(
        &fake,
        "#!/bin/sh\nprintf 'Python 3.\\033[2J\\033]0;pwned\\007\\n'\n\
         printf '\\033[31mTraceback \\342\\200\\256\\n' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cafile = dir.path().join("ca\x1b[2J\u{202e}.pem");
    std::fs::write(&cafile, "not a certificate\n").unwrap();
    for color in [false, true] {
        let r = run(
            &["env", "--python", fake.to_str().unwrap()],
            &[("SSL_CERT_FILE", cafile.to_str().unwrap())],
            color,
        );
        assert_eq!(r.code, 0, "{}", r.text());
        assert_run_clean(&r, color);
        let out = String::from_utf8_lossy(&r.stdout);
        assert!(out.contains("ca\\x1b[2J\\u{202e}.pem"), "{}", r.text());
    }
}

/// dnsmasq on 127.0.0.1 serving `records` for `.test` only; killed on drop.
#[test]
fn dns_txt_options_and_uri_options_are_escaped() {
    // The SRV target answers with a hostile banner; the TXT records carry escape sequences
    // in an option's value, and in the name of an option drivers do not allow there.
    let banner = banner_server(b"\x1b[2J\x1b]0;pwned\x07hello\r\n", b"");
    let records = [
        format!(
            "--srv-host=_mongodb._tcp.hostile.example.test,host1.example.test,{}",
            banner.port()
        ),
        "--txt-record=hostile.example.test,replicaSet=rs\x1b]0;pwned\x07&authSource=a\x1b[2Jb"
            .to_string(),
        "--srv-host=_mongodb._tcp.badtxt.example.test,host1.example.test,27017".to_string(),
        "--txt-record=badtxt.example.test,tl\x1b[2J\u{202e}s=false".to_string(),
        "--host-record=host1.example.test,127.0.0.1".to_string(),
    ];
    let dns = crate::common::dns::Dnsmasq::start(&records);
    let dns_addr = dns.addr.to_string();
    for target in [
        "mongodb+srv://hostile.example.test/?tls=true",
        "mongodb+srv://badtxt.example.test/",
        "mongodb://127.0.0.1:1/?tls=true&appName=\x1b]0;pwned\x07",
        // A CA file named (percent-encoded) in the URI: the error names it, escaped.
        "mongodb://127.0.0.1:1/?tls=true&tlsCAFile=%2Fnone%2F%1b%5b2J%e2%80%ae.pem",
    ] {
        for cmd in ["check", "scan"] {
            let r = run(
                &[cmd, target, "--dns", &dns_addr, "--timeout", "2"],
                &[],
                false,
            );
            assert!((0..=2).contains(&r.code), "{cmd} {target:?}: {}", r.text());
            assert_run_clean(&r, false);
        }
    }
}
