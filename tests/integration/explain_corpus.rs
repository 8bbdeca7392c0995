//! `explain` over the corpus of real messages from public issue threads
//! (tests/data/explain-corpus.toml): per stack, how many are recognised, how many list the
//! cause the thread established among the best match's causes, how many rank it first, and
//! how many show a fix written for the message's own stack for that cause.
//! The same for the held-out set (tests/data/explain-holdout.toml): messages from threads the
//! main corpus does not use, collected after its rules were tuned, which measures how well
//! they carry over. A second held-out set (tests/data/explain-holdout2.toml) was collected the
//! same way one session later, weighted to what users hit most, and scored before any rule
//! was changed for it. A third (tests/data/explain-holdout3.toml, session 7) is spread over
//! many more stacks (JDBC, librdkafka, libpq, kubectl, GnuTLS, NSS, Go servers' logs, ...) and
//! was likewise scored before any rule was changed with it in view.
//! `cargo test --test integration explain_corpus -- --nocapture` prints all four tables.
//!
//! Also: a server's log line is answered for the server (its `check` never targets the
//! client addresses in the line), and each message's program is not mistaken for another
//! runtime (Ruby's OpenSSL::SSL::SSLError is not Python).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use tlsdoctor::explain::{SERVER_SIDE_TARGET, Side, explain};
use tlsdoctor::finding::FindingId;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Message {
    pub(crate) stack: String,
    pub(crate) side: Side,
    pub(crate) source: String,
    pub(crate) cause: FindingId,
    pub(crate) note: String,
    pub(crate) text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    message: Vec<Message>,
}

fn load(file: &str) -> Vec<Message> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("read the corpus");
    let c: Corpus = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    c.message
}

pub(crate) fn corpus() -> Vec<Message> {
    load("explain-corpus.toml")
}

/// The held-out messages: never used to tune a rule one by one.
pub(crate) fn holdout() -> Vec<Message> {
    load("explain-holdout.toml")
}

/// The second held-out set (session 6), weighted to what users hit most; scored before any
/// rule was changed with it in view.
pub(crate) fn holdout2() -> Vec<Message> {
    load("explain-holdout2.toml")
}

/// The third held-out set (session 7), spread over many stacks; scored before any rule was
/// changed with it in view.
pub(crate) fn holdout3() -> Vec<Message> {
    load("explain-holdout3.toml")
}

/// The held-out score measured before any rule was changed with these messages in view
/// (rules as of commit 2547ce8, before this session's explain changes: 65 of 70 recognised, 58 listed, 38 first), in percent: recognised, right cause listed, right cause
/// first. Recorded so later changes can be judged against it.
const HOLDOUT_BEFORE: (f64, f64, f64) = (92.9, 82.9, 54.3);

/// What the held-out set must keep: at least this share recognised and with the right
/// cause first (percent). Set from HOLDOUT_BEFORE, so that a rule change that overfits the
/// main corpus at the held-out set's expense fails.
const HOLDOUT_FLOOR: (f64, f64) = (90.0, 50.0);

/// The second held-out set's score before any rule was changed with it in view (rules as
/// of commit a799737: 75 of 89 recognised, 71 listed, 39 first), in percent: recognised,
/// right cause listed, right cause first.
const HOLDOUT2_BEFORE: (f64, f64, f64) = (84.3, 79.8, 43.8);

/// What the second held-out set must keep (percent recognised, right cause first).
const HOLDOUT2_FLOOR: (f64, f64) = (95.0, 65.0);

/// The third held-out set's score before any rule was changed with it in view (rules as of
/// commit 0886dbc: 75 of 86 recognised, 70 listed, 45 first, 36 with the own stack's fix), in
/// percent: recognised, right cause listed, right cause first, a fix for the message's own
/// stack shown for its cause.
const HOLDOUT3_BEFORE: (f64, f64, f64, f64) = (87.2, 81.4, 52.3, 41.9);

/// What the third held-out set must keep (percent recognised, right cause first, own-stack
/// fix): the bar (recognised 95 %, right cause first 75 %) and most messages getting
/// their own stack's fix, reached by class rules after HOLDOUT3_BEFORE was recorded.
const HOLDOUT3_FLOOR: (f64, f64, f64) = (95.0, 75.0, 80.0);

#[derive(Default)]
struct Tally {
    total: usize,
    recognised: usize,
    listed: usize,
    first: usize,
    /// A fix written for the message's own stack is shown for its established cause.
    fixed: usize,
}

impl Tally {
    fn add(&mut self, recognised: bool, listed: bool, first: bool, fixed: bool) {
        self.total += 1;
        self.recognised += usize::from(recognised);
        self.listed += usize::from(listed);
        self.first += usize::from(first);
        self.fixed += usize::from(fixed);
    }
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        100.0 * n as f64 / d as f64
    }
}

fn table(rows: &BTreeMap<String, Tally>, all: &Tally) -> String {
    let mut out = String::from(
        "stack           msgs  recognised  cause listed  cause first  stack fix for cause\n",
    );
    let line = |name: &str, t: &Tally| {
        format!(
            "{name:<14} {:>5}  {:>4} {:>5.1}%  {:>4} {:>5.1}%  {:>4} {:>5.1}%  {:>4} {:>5.1}%\n",
            t.total,
            t.recognised,
            pct(t.recognised, t.total),
            t.listed,
            pct(t.listed, t.total),
            t.first,
            pct(t.first, t.total),
            t.fixed,
            pct(t.fixed, t.total)
        )
    };
    for (name, t) in rows {
        out.push_str(&line(name, t));
    }
    out.push_str(&line("ALL", all));
    out
}

#[test]
fn corpus_is_large_varied_and_sourced() {
    let c = corpus();
    assert!(c.len() >= 300, "only {} messages", c.len());
    let stacks: std::collections::BTreeSet<&str> = c.iter().map(|m| m.stack.as_str()).collect();
    assert!(stacks.len() >= 20, "only {} stacks", stacks.len());
    for m in &c {
        assert!(m.source.starts_with("https://"), "no source: {}", m.text);
        assert!(!m.note.trim().is_empty(), "no note: {}", m.text);
        assert!(!m.text.trim().is_empty(), "empty text from {}", m.source);
    }
    // Server-side lines and the variants the issue lists are present.
    assert!(c.iter().filter(|m| m.side == Side::Server).count() >= 30);
    for needle in [
        "remote error: handshake failure",
        "No appropriate protocol",
        "Hostname/IP doesn't match certificate's altnames",
        "relies on legacy Common Name field",
        "InvalidCertificate(UnknownIssuer)",
        "CAfile: none CRLfile: none",
        "SSL_accept() failed",
        "http: TLS handshake error from",
        "no SSL certificate provided by peer",
        "OpenSSL::SSL::SSLError",
        "TlsFatalAlert",
        "tls_alert",
        "SEC_E_UNTRUSTED_ROOT",
        "SEC_ERROR_",
        "non-properly terminated",
        "curl: (77)",
        "did not match expected CN",
    ] {
        assert!(
            c.iter().any(|m| m.text.contains(needle)),
            "no message with {needle:?}"
        );
    }
    assert!(
        c.iter().any(|m| m.text.contains('\n')),
        "no line-wrapped message"
    );
}

/// Score `messages`: the per-stack table, the totals and the misses.
fn score(messages: Vec<Message>) -> (String, Tally, Vec<String>) {
    let mut rows: BTreeMap<String, Tally> = BTreeMap::new();
    let mut all = Tally::default();
    let mut misses = Vec::new();
    for m in messages {
        let e = explain(&m.text);
        let best = e.matches.first();
        let recognised = best.is_some();
        let listed = best.is_some_and(|b| b.finding_ids.contains(&m.cause));
        let first = best.is_some_and(|b| b.finding_ids.first() == Some(&m.cause));
        let fixed = e.fixes.iter().any(|f| f.findings.contains(&m.cause));
        rows.entry(m.stack.clone())
            .or_default()
            .add(recognised, listed, first, fixed);
        all.add(recognised, listed, first, fixed);
        if !first {
            misses.push(format!(
                "[{}] want {} got {:?} via {:?}: {}",
                m.stack,
                m.cause.as_str(),
                best.map(|b| b.finding_ids.iter().map(|f| f.as_str()).collect::<Vec<_>>()),
                best.map(|b| b.id.as_str()),
                m.text.lines().next().unwrap_or("")
            ));
        }
    }
    (table(&rows, &all), all, misses)
}

#[test]
fn explain_meets_the_targets_on_the_corpus() {
    let (t, all, misses) = score(corpus());
    println!("main corpus (tests/data/explain-corpus.toml)\n{t}");
    if std::env::var_os("TLSDOCTOR_CORPUS_MISSES").is_some() {
        println!("{}", misses.join("\n"));
    }
    let recognised = pct(all.recognised, all.total);
    let first = pct(all.first, all.total);
    assert!(recognised >= 90.0, "recognised {recognised:.1}% < 90%\n{t}");
    assert!(first >= 75.0, "right cause first {first:.1}% < 75%\n{t}");
}

#[test]
fn holdout_is_new_sourced_and_large_enough() {
    let h = holdout();
    assert!(h.len() >= 60, "only {} held-out messages", h.len());
    let used: std::collections::BTreeSet<String> = corpus().into_iter().map(|m| m.source).collect();
    for m in &h {
        assert!(m.source.starts_with("https://"), "no source: {}", m.text);
        assert!(!m.note.trim().is_empty(), "no note: {}", m.text);
        assert!(
            !used.contains(&m.source),
            "{} is already a source of the main corpus",
            m.source
        );
    }
}

/// A held-out set's floors (percent): recognised, right cause first, and (where the set
/// has one) its own stack's fix shown.
struct Floor {
    recognised: f64,
    first: f64,
    fixed: Option<f64>,
}

/// Score held-out set `which` (`""`, `"second "`, …, as its messages name it) from `file`,
/// print it beside `before` (its figures before any rule change), and hold it to `floor`.
fn assert_keeps_floor(which: &str, file: &str, messages: Vec<Message>, before: &str, floor: Floor) {
    let (t, all, misses) = score(messages);
    println!("{which}held-out set ({file}); before any rule change: {before}\n{t}");
    if std::env::var_os("TLSDOCTOR_CORPUS_MISSES").is_some() {
        println!("{}", misses.join("\n"));
    }
    let recognised = pct(all.recognised, all.total);
    let first = pct(all.first, all.total);
    let Floor {
        recognised: min_recognised,
        first: min_first,
        fixed: min_fixed,
    } = floor;
    assert!(
        recognised >= min_recognised,
        "{which}held-out recognised {recognised:.1}% < {min_recognised}%\n{t}"
    );
    assert!(
        first >= min_first,
        "{which}held-out right cause first {first:.1}% < {min_first}%\n{t}"
    );
    if let Some(min_fixed) = min_fixed {
        let fixed = pct(all.fixed, all.total);
        assert!(
            fixed >= min_fixed,
            "{which}held-out stack fix shown {fixed:.1}% < {min_fixed}%\n{t}"
        );
    }
}

#[test]
fn explain_keeps_its_floor_on_the_holdout() {
    let (r0, l0, f0) = HOLDOUT_BEFORE;
    let (recognised, first) = HOLDOUT_FLOOR;
    assert_keeps_floor(
        "",
        "tests/data/explain-holdout.toml",
        holdout(),
        &format!("recognised {r0:.1}%, cause listed {l0:.1}%, cause first {f0:.1}%"),
        Floor {
            recognised,
            first,
            fixed: None,
        },
    );
}

/// A later held-out set's own checks: at least `min_len` messages from at least `min_stacks`
/// stacks, each with a source address, a note and a text, from a thread that neither `others`
/// nor another message of the set uses.
fn assert_new_sourced(
    h: &[Message],
    others: Vec<Message>,
    name: &str,
    min_len: usize,
    min_stacks: usize,
) {
    assert!(
        h.len() >= min_len,
        "only {} messages in the {name} held-out set",
        h.len()
    );
    let stacks: std::collections::BTreeSet<&str> = h.iter().map(|m| m.stack.as_str()).collect();
    assert!(stacks.len() >= min_stacks, "only {} stacks", stacks.len());
    let used: std::collections::BTreeSet<String> = others.into_iter().map(|m| m.source).collect();
    let mut seen = std::collections::BTreeSet::new();
    for m in h {
        assert!(m.source.starts_with("https://"), "no source: {}", m.text);
        assert!(!m.note.trim().is_empty(), "no note: {}", m.text);
        assert!(!m.text.trim().is_empty(), "empty text from {}", m.source);
        assert!(
            !used.contains(&m.source),
            "{} is already a source of another corpus",
            m.source
        );
        assert!(seen.insert(&m.source), "{} is used twice", m.source);
    }
}

#[test]
fn holdout2_is_new_sourced_large_and_varied() {
    let others = corpus().into_iter().chain(holdout()).collect();
    assert_new_sourced(&holdout2(), others, "second", 80, 20);
}

#[test]
fn explain_keeps_its_floor_on_the_second_holdout() {
    let (r0, l0, f0) = HOLDOUT2_BEFORE;
    let (recognised, first) = HOLDOUT2_FLOOR;
    assert_keeps_floor(
        "second ",
        "tests/data/explain-holdout2.toml",
        holdout2(),
        &format!("recognised {r0:.1}%, cause listed {l0:.1}%, cause first {f0:.1}%"),
        Floor {
            recognised,
            first,
            fixed: None,
        },
    );
}

#[test]
fn holdout3_is_new_sourced_large_and_varied() {
    let h = holdout3();
    let others = corpus()
        .into_iter()
        .chain(holdout())
        .chain(holdout2())
        .collect();
    assert_new_sourced(&h, others, "third", 80, 25);
    assert!(h.iter().filter(|m| m.side == Side::Server).count() >= 10);
}

#[test]
fn explain_keeps_its_floor_on_the_third_holdout() {
    let (r0, l0, f0, x0) = HOLDOUT3_BEFORE;
    let (recognised, first, fixed) = HOLDOUT3_FLOOR;
    assert_keeps_floor(
        "third ",
        "tests/data/explain-holdout3.toml",
        holdout3(),
        &format!(
            "recognised {r0:.1}%, cause listed {l0:.1}%, cause first {f0:.1}%, stack fix {x0:.1}%"
        ),
        Floor {
            recognised,
            first,
            fixed: Some(fixed),
        },
    );
}

#[test]
fn server_log_lines_are_answered_for_the_server() {
    let mut wrong = Vec::new();
    let all: Vec<Message> = corpus()
        .into_iter()
        .chain(holdout())
        .chain(holdout2())
        .chain(holdout3())
        .collect();
    for m in all.iter().filter(|m| m.side == Side::Server) {
        let e = explain(&m.text);
        if e.side != Side::Server {
            wrong.push(format!("not seen as a server log: {}", m.text));
            continue;
        }
        for c in e.matches.iter().flat_map(|x| &x.causes) {
            if !c.command.contains(SERVER_SIDE_TARGET) || c.command.contains("--client") {
                wrong.push(format!("command {:?} for: {}", c.command, m.text));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // And the other way round: a client's message (a proxy's upstream, a mail server's own
    // SMTP client) is not taken for a server log.
    let clients: Vec<String> = all
        .into_iter()
        .filter(|m| m.side == Side::Client)
        .filter(|m| explain(&m.text).side == Side::Server)
        .map(|m| m.text)
        .collect();
    assert!(
        clients.is_empty(),
        "client messages seen as server logs:\n{}",
        clients.join("\n")
    );
}

#[test]
fn ecosystems_are_attributed_to_the_right_program() {
    // A message carrying a program's own marker must be attributed to that program (or the
    // library it stands on), never to another runtime: Ruby's OpenSSL::SSL::SSLError is Ruby.
    let expect: &[(&str, &[&str])] = &[
        ("OpenSSL::SSL::SSLError", &["ruby"]),
        ("SSL_connect returned", &["ruby"]),
        ("stream_socket_", &["php"]),
        ("cURL error", &["php"]),
        ("tls_alert", &["erlang"]),
        ("org.bouncycastle", &["bouncycastle"]),
        // git for Windows on its schannel backend is git (its fixes are git settings)
        ("schannel:", &["schannel", "git"]),
        ("SEC_E_", &["schannel"]),
        ("Invoke-WebRequest", &["powershell"]),
        ("Invoke-RestMethod", &["powershell"]),
        ("--native-tls", &["uv"]),
        ("npm ERR!", &["npm"]),
        ("fatal: unable to access", &["git"]),
        ("Unable to locally verify the issuer's authority", &["wget"]),
        ("http: TLS handshake error from", &["go-server"]),
        ("imap-login", &["dovecot"]),
        ("postfix/", &["postfix"]),
        ("TLS connection established to", &["postfix"]),
        (
            "The underlying connection was closed",
            &["powershell", "dotnet"],
        ),
        ("Error response from daemon", &["docker"]),
        ("PKIX path", &["java"]),
        ("javax.net.ssl", &["java", "bouncycastle"]),
        ("no SSL certificate provided by peer", &["mongod"]),
        ("SEC_ERROR_", &["nss"]),
        ("gnutls_handshake", &["gnutls", "git", "curl"]),
    ];
    let mut wrong = Vec::new();
    let mut checked = 0;
    for m in corpus()
        .into_iter()
        .chain(holdout())
        .chain(holdout2())
        .chain(holdout3())
    {
        let Some((_, ok)) = expect.iter().find(|(marker, _)| m.text.contains(marker)) else {
            continue;
        };
        checked += 1;
        let got = explain(&m.text).ecosystem.unwrap_or_default();
        if !ok.contains(&got.as_str()) {
            wrong.push(format!("[{}] detected {got:?}: {}", m.stack, m.text));
        }
    }
    assert!(checked >= 100, "only {checked} messages carry a marker");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
