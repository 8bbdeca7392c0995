//! The pipelined upgrade (connections skip a round trip) against the real servers: a scan
//! that takes it finds exactly what a scan with the full dialogue on every connection
//! (`--starttls-full`) finds, and a watching forwarder shows that it was taken: IMAP, POP3,
//! ManageSieve and FTP speak before the greeting (Dovecot and vsftpd read it after
//! greeting) and XMPP sends its stream header and STARTTLS together, all from the first
//! connection on; SMTP and LMTP never speak first and send EHLO/LHLO and STARTTLS in one
//! write once the first upgrade showed PIPELINING.

use super::*;
use crate::common::starttls_servers::{Tls, dovecot, dovecot_lmtp_sieve, postfix, prosody, vsftpd};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the forwarder saw of one connection.
#[derive(Debug, Default, Clone)]
struct Seen {
    /// The client's first bytes arrived before the server's first bytes were passed on.
    client_first: Option<bool>,
    /// The client's first read, as text.
    first: String,
}

/// The server's first bytes on each connection are held this long before they are passed
/// on, so a client that waits for the greeting cannot have spoken before it.
const HOLD: Duration = Duration::from_millis(60);

/// A forwarder on 127.0.0.1 to `upstream`: every connection's [`Seen`].
struct Watch {
    port: u16,
    seen: Arc<Mutex<Vec<Arc<Mutex<Seen>>>>>,
}

/// `refuse_early`: close a connection whose client speaks before the greeting, as a
/// pregreet check does.
fn watch(upstream: u16, refuse_early: bool) -> Watch {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<Vec<Arc<Mutex<Seen>>>>> = Arc::default();
    let all = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let this = Arc::new(Mutex::new(Seen::default()));
            all.lock().unwrap().push(this.clone());
            let accepted = Instant::now();
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let up = this.clone();
            std::thread::spawn(move || {
                copy(client, server, |n, bytes| {
                    if n > 0 {
                        return true;
                    }
                    let mut s = up.lock().unwrap();
                    s.first = String::from_utf8_lossy(bytes).into_owned();
                    !(*s.client_first.get_or_insert(true) && refuse_early)
                })
            });
            std::thread::spawn(move || {
                copy(s2, c2, |n, _| {
                    if n == 0 {
                        std::thread::sleep(HOLD.saturating_sub(accepted.elapsed()));
                        this.lock().unwrap().client_first.get_or_insert(false);
                    }
                    true
                })
            });
        }
    });
    Watch { port, seen }
}

/// Copy `from` to `to` until either ends; `before(i, bytes)` runs before the i-th chunk
/// is passed on, and false from it ends the connection both ways instead.
fn copy(mut from: TcpStream, mut to: TcpStream, mut before: impl FnMut(usize, &[u8]) -> bool) {
    let _ = from.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = [0u8; 16 * 1024];
    let mut i = 0;
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        if !before(i, &buf[..n]) {
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
            return;
        }
        i += 1;
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

impl Watch {
    fn seen(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.lock().unwrap().clone())
            .collect()
    }
}

/// The versions accepted and the suites found per version: what the two scans must share.
fn findings(doc: &Value) -> (Vec<String>, BTreeSet<String>) {
    let s = &doc["servers"][0];
    let versions = s["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["accepted"] == true)
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    let suites = s["cipher_suites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| {
            v["suites"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |x| format!("{} {}", v["version"], x["iana"].as_str().unwrap_or("?")))
        })
        .collect();
    (versions, suites)
}

/// Scan `port` through the watching forwarder with the pipelined upgrade and directly with
/// the full dialogue; both find the same, with TLS 1.2 or 1.3 and some suites. The
/// forwarder's view comes back.
fn same_scans(port: u16, args: &[&str]) -> Vec<Seen> {
    same_scans_through(watch(port, false), port, args).1
}

/// [`same_scans`] through `w` (a watch on `port`): also the two scans' connection counts.
fn same_scans_through(w: Watch, port: u16, args: &[&str]) -> ((u64, u64), Vec<Seen>) {
    let quick = scan(&format!("127.0.0.1:{}", w.port), args);
    let mut full_args = args.to_vec();
    full_args.push("--starttls-full");
    let full = scan(&format!("127.0.0.1:{port}"), &full_args);
    let (versions, suites) = findings(&quick);
    assert_eq!(
        (&versions, &suites),
        (&findings(&full).0, &findings(&full).1)
    );
    assert!(
        versions.iter().any(|v| v == "TLSv1.2" || v == "TLSv1.3") && !suites.is_empty(),
        "{versions:?} {suites:?}"
    );
    let count = |d: &Value| d["servers"][0]["connections"].as_u64().unwrap();
    ((count(&quick), count(&full)), w.seen())
}

#[test]
fn imap_and_pop3_pipelined_before_the_greeting_find_what_the_full_dialogue_finds() {
    let (_dovecot, imap, pop3) = dovecot(Tls::On);
    for (port, proto, command) in [
        (imap, "imap", "a1 STARTTLS\r\n"),
        (pop3, "pop3", "STLS\r\n"),
    ] {
        let seen = same_scans(port, &["--starttls", proto]);
        let early = seen
            .iter()
            .filter(|s| s.client_first == Some(true) && s.first == command)
            .count();
        assert!(early * 2 > seen.len(), "{proto}: {early} of {seen:?}");
        // The first wave too: no connection took the full dialogue (its first command
        // would be `a2 STARTTLS` after Dovecot's capability greeting, or `CAPA`).
        let pipelined = seen.iter().filter(|s| s.first == command).count();
        assert_eq!(pipelined, seen.len(), "{proto}: {seen:?}");
    }
}

#[test]
fn managesieve_pipelined_before_the_greeting_finds_what_the_full_dialogue_finds() {
    let (_dovecot, _, sieve) = dovecot_lmtp_sieve(Tls::On);
    let seen = same_scans(sieve, &["--starttls", "sieve"]);
    let early = seen
        .iter()
        .filter(|s| s.client_first == Some(true) && s.first == "STARTTLS\r\n")
        .count();
    assert!(early * 2 > seen.len(), "{early} of {seen:?}");
}

#[test]
fn ftp_pipelined_before_the_greeting_finds_what_the_full_dialogue_finds() {
    let ftp = vsftpd(Tls::On);
    let seen = same_scans(ftp.port, &["--starttls", "ftp"]);
    let early = seen
        .iter()
        .filter(|s| s.client_first == Some(true) && s.first == "AUTH TLS\r\n")
        .count();
    assert!(early * 2 > seen.len(), "{early} of {seen:?}");
}

#[test]
fn smtp_and_lmtp_pipelined_after_the_greeting_find_what_the_full_dialogue_finds() {
    let smtp = postfix(Tls::On);
    let (_dovecot, lmtp, _) = dovecot_lmtp_sieve(Tls::On);
    for (port, proto, hello) in [(smtp.port, "smtp", "EHLO"), (lmtp, "lmtp", "LHLO")] {
        let seen = same_scans(port, &["--starttls", proto]);
        // Never a byte before the greeting (pregreet checks reject such clients).
        assert!(
            seen.iter().all(|s| s.client_first != Some(true)),
            "{proto}: {seen:?}"
        );
        let group = format!("{hello} tlsdoctor.invalid\r\nSTARTTLS\r\n");
        let grouped = seen.iter().filter(|s| s.first == group).count();
        assert!(grouped * 2 > seen.len(), "{proto}: {grouped} of {seen:?}");
    }
}

#[test]
fn xmpp_pipelined_header_and_starttls_find_what_the_full_dialogue_finds() {
    let xmpp = prosody(Tls::On);
    let seen = same_scans(
        xmpp.port,
        &["--starttls", "xmpp", "--xmpp-host", "localhost"],
    );
    // Every connection, the first wave's too: none sent its header alone.
    let together = seen
        .iter()
        .filter(|s| s.first.starts_with("<?xml") && s.first.ends_with("xmpp-tls'/>"))
        .count();
    assert_eq!(together, seen.len(), "{seen:?}");
}

#[test]
fn a_server_that_refuses_speech_before_its_greeting_gets_the_full_dialogue() {
    let (_dovecot, imap, _) = dovecot(Tls::On);
    let w = watch(imap, true);
    let args = ["--starttls", "imap", "--max-connections", "4"];
    let ((quick, full), seen) = same_scans_through(w, imap, &args);
    // The first wave tries the shortcut, at most one per connection slot; each is retried
    // once with the full dialogue, and after the first refusal none is tried.
    let refused = seen.iter().filter(|s| s.client_first == Some(true)).count();
    assert!(refused >= 1, "{seen:?}");
    assert!(refused <= 4, "{refused} shortcuts tried: {seen:?}");
    assert_eq!(quick, full + refused as u64, "{seen:?}");
}
