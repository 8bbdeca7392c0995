//! TLS clients pointed straight at an HTTP forward proxy's port (tinyproxy), instead of
//! through it with CONNECT. The proxy reads the hello as the start of an HTTP request: every
//! real client's hello holds a line feed (0x0a, the type of its supported_groups extension),
//! so tinyproxy takes the bytes before it as a request line and waits for headers; when its
//! Timeout runs out it answers HTTP 400, then the client fails with its usual text for a port
//! that does not speak TLS. Each client waits first (here with a short Timeout, twice it), and
//! its text is the same on every run. Now and then (about one hello in 200, measured with
//! gnutls-cli) the hello's random bytes hold an empty line: tinyproxy then has all the headers
//! and answers at once, and that client is run again.
//!
//! `check` quotes those texts, with the wait, when its probes saw the proxy's answer; when
//! they gave up first there is no text to quote, and every report format says so.

use std::time::{Duration, Instant};

use super::{mismatches, rsa_root, simulations_of};
use crate::common::cli::check_localhost;
use crate::common::clients::{FIVE, Real, RealClients};
use crate::common::starttls_servers::tinyproxy_with_timeout;

fn ids() -> Vec<&'static str> {
    [FIVE.as_slice(), &["gnutls"]].concat()
}

/// The proxy's wait (twice its Timeout of 1 s), with room for a client's own start.
const WAITED: Duration = Duration::from_millis(1800);

/// Every client in `ids` against `port` at once, each timed on its own. A client answered
/// before the wait (its hello happened to end the request's headers) runs again, up to four
/// times in all.
fn timed_run(clients: &RealClients, ids: &[&str], port: u16) -> Vec<(String, Real, Duration)> {
    std::thread::scope(|sc| {
        let handles: Vec<_> = ids
            .iter()
            .map(|id| {
                sc.spawn(move || {
                    let mut attempt = 0;
                    loop {
                        attempt += 1;
                        let start = Instant::now();
                        let real = clients.run(id, port);
                        let took = start.elapsed();
                        if took >= WAITED || attempt == 4 {
                            return (id.to_string(), real, took);
                        }
                        println!("{id} answered after {took:?}, before the wait: run again");
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn check(port: u16, root: &std::path::Path, timeout: &str, format: &str) -> String {
    let target = format!("127.0.0.1:{port}");
    let r = check_localhost(
        &target,
        root.to_str().unwrap(),
        &["--timeout", timeout, "--format", format, "--color", "never"],
    );
    assert_eq!(r.code, 1, "check {target}: {}\n{}", r.stdout, r.stderr);
    r.stdout
}

#[test]
fn clients_on_a_forward_proxy_port_wait_then_print_their_not_tls_text() {
    let dir = tempfile::tempdir().unwrap();
    let root = rsa_root(dir.path());
    let clients = RealClients::new(&root, "localhost");
    let ids = ids();
    // Timeout 1: the HTTP 400 comes about two seconds after the hello.
    let proxy = tinyproxy_with_timeout(1);
    let first = timed_run(&clients, &ids, proxy.port);
    let second = timed_run(&clients, &ids, proxy.port);
    for (id, real, took) in first.iter().chain(&second) {
        assert!(!real.connects, "{id}: {real:?}");
        assert!(!real.text.is_empty(), "{id}: no text");
        assert!(
            *took >= WAITED,
            "{id} failed after {took:?}, before the proxy's wait ended: {real:?}"
        );
    }
    // Node's line carries the address of OpenSSL's thread state, which changes every run.
    let thread = regex::Regex::new(r"\b[0-9A-F]{8,}:error").unwrap();
    let stable = |t: &str| thread.replace_all(t, "error").into_owned();
    for ((id, a, _), (_, b, _)) in first.iter().zip(&second) {
        assert_eq!(
            stable(&a.text),
            stable(&b.text),
            "{id}: a different text on the second run"
        );
    }
    let real: Vec<(String, Real)> = first.into_iter().map(|(i, r, _)| (i, r)).collect();

    // The probes wait longer than the proxy: they see its HTTP answer, and every client's
    // real text is quoted, with the wait before it.
    let doc: serde_json::Value =
        serde_json::from_str(&check(proxy.port, &root, "5", "json")).unwrap();
    let diag = &doc["diagnoses"][0];
    let lead = &diag["findings"][0];
    assert_eq!(lead["id"], "not-tls", "{:#}", diag["findings"]);
    assert!(
        lead["title"]
            .as_str()
            .unwrap()
            .contains("HTTP forward proxy"),
        "{lead:#}"
    );
    let problems = mismatches("forward proxy", &real, &simulations_of(diag, &ids));
    assert!(problems.is_empty(), "{problems:#?}");
    let breaks = lead["breaks"].as_array().unwrap();
    assert!(breaks.len() >= ids.len(), "{lead:#}");
    for b in breaks {
        assert!(!b["error"].as_str().unwrap().is_empty(), "{b:#}");
        assert!(b["after"].as_str().unwrap().contains("wait"), "{b:#}");
        assert!(b.get("unquoted").is_none(), "{b:#}");
    }
    for (id, r) in &real {
        if ["python", "openssl", "java", "gnutls"].contains(&id.as_str()) {
            assert!(
                breaks.iter().any(|b| b["error"] == r.text.as_str()),
                "{id}: {:?} not quoted in {breaks:#?}",
                r.text
            );
        }
    }
}

#[test]
fn a_check_that_gives_up_before_the_proxy_quotes_no_client_text() {
    let dir = tempfile::tempdir().unwrap();
    let root = rsa_root(dir.path());
    // Timeout 10: the proxy would answer after twenty seconds; the probes give up after two.
    let proxy = tinyproxy_with_timeout(10);
    let doc: serde_json::Value =
        serde_json::from_str(&check(proxy.port, &root, "2", "json")).unwrap();
    let diag = &doc["diagnoses"][0];
    let lead = &diag["findings"][0];
    assert_eq!(lead["id"], "not-tls", "{:#}", diag["findings"]);
    let breaks = lead["breaks"].as_array().unwrap();
    assert!(!breaks.is_empty(), "{lead:#}");
    for b in breaks {
        assert_eq!(b["error"], "", "{b:#}");
        assert!(
            b["unquoted"].as_str().unwrap().starts_with("it waits"),
            "{b:#}"
        );
    }
    for s in diag["simulations"].as_array().unwrap() {
        assert_eq!(s["connects"], false, "{s:#}");
        assert_eq!(s["failure"]["error"], "", "{s:#}");
    }
    // Each human format says that no text is quoted, and quotes none.
    for (format, mark) in [
        ("text", "no quoted text: it waits"),
        ("markdown", "_no quoted text_: it waits"),
        ("html", "<em>no quoted text</em>: it waits"),
    ] {
        let out = check(proxy.port, &root, "2", format);
        assert!(out.contains(mark), "{format}: {mark:?} not in\n{out}");
        assert!(
            !out.contains("no answer before the timeout\n")
                && !out.contains("`no answer before the timeout`"),
            "{format}: a probe's wording quoted as a client's text\n{out}"
        );
    }
}
