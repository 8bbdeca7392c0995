//! "wrong version number": a client that speaks TLS from the first byte to a port that
//! starts in plain text. The real client's error, given to `check --error`, is explained by
//! the not-tls finding, which names the protocol and the client's own upgrade call; `explain`
//! gives the same advice for the client's stack.

use super::*;
use crate::common::starttls_servers::{Tls, dovecot, postfix};

/// Python's TLS-at-once class against `port`: the last line of its traceback.
fn tls_at_once(module: &str, call: &str, port: u16) -> String {
    let script = format!(
        "import {module}, traceback\ntry:\n    {call}\n    print('connected')\n\
         except Exception as e:\n    print(traceback.format_exception_only(type(e), e)[-1].strip())\n"
    );
    let out = std::process::Command::new("timeout")
        .args(["10", "python3", "-c", &script])
        .env("PORT", port.to_string())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_wrong_version_number_of_a_tls_at_once_client_names_the_upgrade_to_use() {
    let smtp = postfix(Tls::On);
    let (_dovecot, imap, _) = dovecot(Tls::On);
    for (module, call, port, protocol, upgrade_call) in [
        (
            "smtplib",
            "smtplib.SMTP_SSL('127.0.0.1', int(__import__('os').environ['PORT']), timeout=5)",
            smtp.port,
            "SMTP",
            "smtplib.SMTP(...).starttls()",
        ),
        (
            "imaplib",
            "imaplib.IMAP4_SSL('127.0.0.1', int(__import__('os').environ['PORT']), timeout=5)",
            imap,
            "IMAP",
            "imaplib.IMAP4(...).starttls()",
        ),
    ] {
        let error = tls_at_once(module, call, port);
        assert!(error.contains("WRONG_VERSION_NUMBER"), "{module}: {error}");
        let doc = check(&format!("127.0.0.1:{port}"), &["--error", &error]);
        let d = &doc["diagnoses"][0];
        assert_eq!(d["error_match"]["explained_by"], "not-tls", "{d:#}");
        let f = &d["findings"][0];
        assert_eq!(f["id"], "not-tls", "{d:#}");
        assert!(f["title"].as_str().unwrap().contains(protocol), "{f:#}");
        let fix = f["fix_client"].to_string();
        assert!(
            fix.contains(&format!("--starttls {}", protocol.to_ascii_lowercase()))
                && fix.contains(upgrade_call),
            "{fix}"
        );
        // And the TLS behind the upgrade is diagnosed too.
        assert_eq!(doc["diagnoses"].as_array().unwrap().len(), 2, "{doc:#}");
        let explained = crate::common::cli::tlsdoctor(&["explain", &error]);
        assert!(
            explained.stdout.contains(".starttls()") && explained.stdout.contains("SMTP_SSL"),
            "{}",
            explained.stdout
        );
    }
}
