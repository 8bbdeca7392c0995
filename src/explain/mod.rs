//! `tlsdoctor explain`: recognise a TLS error message from any common client and say what it
//! means, the usual causes (ranked, each tied to a doctor finding id) and which `tlsdoctor check`
//! run tells them apart. Works offline: the knowledge lives in `data/errors/*.toml`.

mod fixes;
mod kb;
mod side;
mod specifics;

use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

use crate::finding::FindingId;

pub use fixes::StackFix;
pub use kb::{Applies, Cause, Entry, Side};
pub use specifics::Specifics;

/// One knowledge-base entry that matched the input, with the commands filled in for this input.
#[derive(Debug, Clone, Serialize)]
pub struct KbMatch {
    pub id: String,
    pub title: String,
    pub meaning: String,
    pub ecosystems: Vec<String>,
    pub notes: Vec<String>,
    /// Ranked, most likely first (for this message: evidence in the text and the ecosystem
    /// can move causes up, see `ranked_by`).
    pub causes: Vec<Cause>,
    /// Why the order differs from the entry's default, when it does.
    pub ranked_by: Option<String>,
    /// The doctor finding ids of `causes`, in the same order, without duplicates.
    pub finding_ids: Vec<FindingId>,
    /// The part of the input that matched.
    pub matched_text: String,
    /// Higher is a better match (priority tier, then length of the matched text).
    pub score: u32,
}

/// A stack-specific fix shown for causes of the best match.
#[derive(Debug, Clone, Serialize)]
pub struct FixFor {
    /// The causes (of the best match's first few) this fix is for.
    pub findings: Vec<FindingId>,
    /// The ecosystem the fix is written for (the detected one or its family).
    pub ecosystem: String,
    pub lines: Vec<String>,
}

/// The answer to `tlsdoctor explain TEXT`.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub input: String,
    /// True when the message was longer than the limit and only its start was read.
    pub truncated: bool,
    /// Which program most likely printed the message (ecosystems.toml: python, requests, pip,
    /// uv, pymongo, curl, node, npm, java, go, dotnet, schannel, gnutls, nss, ruby, ...).
    pub ecosystem: Option<String>,
    /// Whether a failing client printed it or a server logged it.
    pub side: Side,
    /// The text that showed the side (None: nothing did, a client is assumed).
    pub side_evidence: Option<String>,
    /// Best match first. Empty when the text is not recognised.
    pub matches: Vec<KbMatch>,
    /// Details pulled out of the message (verify reason, OpenSSL error code, host, ...).
    /// For a server's log line the addresses in it are the clients', so no host is taken.
    pub specifics: Specifics,
    /// Fixes for the user's own stack, for the best match's likeliest causes.
    pub fixes: Vec<FixFor>,
}

/// Longest input looked at (bytes); error messages pasted with stack traces can be long, but the
/// recognisable part is never beyond this.
pub const MAX_INPUT: usize = 64 * 1024;

/// The `check` target used when the message is a server's log line: the addresses in it are
/// the clients', and the server to check is the one that wrote the log.
pub const SERVER_SIDE_TARGET: &str = "THIS-SERVER:PORT";

/// How many of the best match's causes get stack-specific fixes.
const FIXES_FOR_CAUSES: usize = 3;

/// Explain an error message. Never fails: unrecognised text gives an empty `matches`.
pub fn explain(text: &str) -> Explanation {
    let truncated = text.len() > MAX_INPUT;
    let text = truncate(text, MAX_INPUT);
    // What a paste puts in front of each line (a reply's `>`, an Android logcat tag) would
    // sit in the middle of the re-joined message, so it goes before matching.
    let forms = Forms::of(&without_line_prefixes(text));
    let texts = forms.all();
    let kb = kb::knowledge_base();
    let eco = kb.detect_ecosystem(&texts);
    let ecosystem = eco.map(|r| r.name.clone());
    let (side, side_evidence) = kb.sides.detect(&texts);
    let mut specifics = specifics::extract(&forms.spaced);
    if side == Side::Server {
        specifics.hosts.clear();
        specifics.port = None;
    }

    let target = match side {
        Side::Server => SERVER_SIDE_TARGET.to_string(),
        Side::Client => specifics
            .hosts
            .first()
            .map(|h| match specifics.port {
                Some(p) if !h.contains(':') => format!("{h}:{p}"),
                _ => h.clone(),
            })
            .unwrap_or_else(|| "HOST".to_string()),
    };
    // `--client` only where the ecosystem has a profile and a client is the one that failed.
    let client = match side {
        Side::Server => None,
        Side::Client => eco.and_then(|r| r.client.clone()),
    };
    let fill = Fill {
        target: &target,
        client: client.as_deref(),
    };

    let mut matches: Vec<KbMatch> = Vec::new();
    for entry in kb.entries.iter().filter(|e| e.admits(side)) {
        if let Some((matched, score)) = entry.best_match(&texts) {
            matches.push(to_match(
                entry,
                matched,
                score,
                &fill,
                &texts,
                ecosystem.as_deref(),
            ));
        }
    }
    // Highest score first; ties broken by id so the order is stable.
    matches.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.id.cmp(&b.id)));

    let fixes = match (matches.first(), eco) {
        (Some(best), Some(eco)) => stack_fixes(&kb.fixes, best, eco, side),
        _ => Vec::new(),
    };

    Explanation {
        input: text.to_string(),
        truncated,
        ecosystem,
        side,
        side_evidence,
        matches,
        specifics,
        fixes,
    }
}

/// The fixes for `eco` of the best match's first causes, one per distinct fix. A server's log
/// line only gets fixes written for that server (a client's trust-store fix would be wrong).
fn stack_fixes(all: &[StackFix], best: &KbMatch, eco: &kb::EcoRule, side: Side) -> Vec<FixFor> {
    let family = match side {
        Side::Client => eco.family.as_deref(),
        Side::Server => None,
    };
    let mut out: Vec<(&StackFix, FixFor)> = Vec::new();
    for id in best.finding_ids.iter().take(FIXES_FOR_CAUSES) {
        let Some(f) = fixes::lookup(all, *id, &eco.name, family, side) else {
            continue;
        };
        if let Some((_, seen)) = out.iter_mut().find(|(g, _)| std::ptr::eq(*g, f)) {
            seen.findings.push(*id);
            continue;
        }
        let ecosystem = if f.ecosystems.contains(&eco.name) {
            eco.name.clone()
        } else {
            eco.family.clone().unwrap_or_else(|| eco.name.clone())
        };
        out.push((
            f,
            FixFor {
                findings: vec![*id],
                ecosystem,
                lines: f.lines.clone(),
            },
        ));
    }
    out.into_iter().map(|(_, f)| f).collect()
}

/// The message as pasted and two re-joined forms, so a message broken by a line wrap
/// (`SEC_E_UNTRUSTED_` / `ROOT`, `valid cert` / `ification path`) still matches, and a form
/// with Node's `ERR_SSL_` prefix set apart from the OpenSSL reason code it carries.
struct Forms {
    original: String,
    /// Every line break and the indentation around it removed.
    joined: String,
    /// Every line break with its indentation turned into one space.
    spaced: String,
    /// `spaced` with `ERR_SSL_` followed by a space: Node names an OpenSSL reason by its
    /// code with that prefix (`ERR_SSL_WRONG_VERSION_NUMBER`), and users often paste the
    /// bare code, which the entries' `\bREASON_CODE\b` patterns then match.
    node_code: String,
}

impl Forms {
    fn of(text: &str) -> Forms {
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let spaced = lines.join(" ");
        Forms {
            original: text.to_string(),
            joined: lines.concat(),
            node_code: spaced.replace("ERR_SSL_", "ERR_SSL "),
            spaced,
        }
    }

    fn all(&self) -> [&str; 4] {
        [&self.original, &self.joined, &self.spaced, &self.node_code]
    }
}

/// What the `{target}` and `{client}` placeholders of a command become for this message.
struct Fill<'a> {
    target: &'a str,
    client: Option<&'a str>,
}

impl Fill<'_> {
    fn command(&self, template: &str) -> String {
        let t = match self.client {
            Some(c) => template.replace("{client}", c),
            None => template
                .replace(" --client {client}", "")
                .replace("{client}", ""),
        };
        t.replace("{target}", self.target)
    }
}

/// The doctor finding ids that could explain `text`, best first, without duplicates.
pub fn finding_ids_for(text: &str) -> Vec<FindingId> {
    let mut out: Vec<FindingId> = Vec::new();
    for m in explain(text).matches {
        for id in m.finding_ids {
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

/// All knowledge-base entries (for listing and for tests).
pub fn entries() -> &'static [Entry] {
    &kb::knowledge_base().entries
}

/// The entry's causes in the order this message's evidence gives them: the first boost rule
/// that applies moves its causes to the front, the rest keep the entry's order.
fn ranked_causes(
    entry: &Entry,
    texts: &[&str],
    ecosystem: Option<&str>,
) -> (Vec<Cause>, Option<String>) {
    if let Some(root) = texts
        .first()
        .and_then(|t| crate::cert::analyze::interception_root_named_in(t))
        && let Some(ranked) = interception_first(entry, root)
    {
        return ranked;
    }
    let Some(boost) = entry.boosts.iter().find(|b| b.applies(texts, ecosystem)) else {
        return (entry.causes.clone(), None);
    };
    (
        reordered(&entry.causes, &boost.first),
        Some(boost.because.clone()),
    )
}

/// `causes` with the ones named in `first` moved to the front, in that order.
fn reordered(causes: &[Cause], first: &[FindingId]) -> Vec<Cause> {
    let mut out: Vec<Cause> = first
        .iter()
        .filter_map(|f| causes.iter().find(|c| c.finding == *f).cloned())
        .collect();
    for c in causes {
        if !out.iter().any(|o| o.finding == c.finding) {
            out.push(c.clone());
        }
    }
    out
}

/// When the message names the root of a known interception product (the issuer it quotes,
/// or the product itself), the interception readings of an entry that has them come first:
/// a proxy product's root means the network re-signs the connection; a debugging tool's or
/// a leaked root is the root itself to look at first.
fn interception_first(
    entry: &Entry,
    root: &crate::cert::analyze::InterceptionRoot,
) -> Option<(Vec<Cause>, Option<String>)> {
    let proxy = FindingId::TlsInterceptionProxy;
    let named = FindingId::CertInterceptionRoot;
    if !entry
        .causes
        .iter()
        .any(|c| c.finding == proxy || c.finding == named)
    {
        return None;
    }
    let first = if root.kind == "proxy" {
        [proxy, named]
    } else {
        [named, proxy]
    };
    Some((
        reordered(&entry.causes, &first),
        Some(format!(
            "the message names the root of {} (data/interception-roots.toml), which re-signs the connections it inspects",
            root.product
        )),
    ))
}

fn to_match(
    entry: &Entry,
    matched: &str,
    score: u32,
    fill: &Fill,
    texts: &[&str],
    ecosystem: Option<&str>,
) -> KbMatch {
    let (ranked, ranked_by) = ranked_causes(entry, texts, ecosystem);
    let causes: Vec<Cause> = ranked
        .into_iter()
        .map(|c| Cause {
            command: fill.command(&c.command),
            ..c
        })
        .collect();
    let mut finding_ids: Vec<FindingId> = Vec::new();
    for c in &causes {
        if !finding_ids.contains(&c.finding) {
            finding_ids.push(c.finding);
        }
    }
    KbMatch {
        id: entry.id.clone(),
        title: entry.title.clone(),
        meaning: entry.meaning.clone(),
        ecosystems: entry.ecosystems.clone(),
        notes: entry.notes.clone(),
        causes,
        ranked_by,
        finding_ids,
        matched_text: matched.to_string(),
        score,
    }
}

/// `text` with every line's paste prefix removed (see `strip_line_prefix`); a line without
/// one is kept as it is.
fn without_line_prefixes(text: &str) -> String {
    text.lines()
        .map(|l| {
            let t = l.trim();
            let s = strip_line_prefix(t);
            if s.len() == t.len() { l } else { s }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A line without the quote markers of a reply (`> `, `>> `) and without an Android logcat
/// tag (`E/flutter (26558): `, `W/System.err: `).
fn strip_line_prefix(line: &str) -> &str {
    static LOGCAT: OnceLock<Regex> = OnceLock::new();
    let logcat = LOGCAT.get_or_init(|| {
        Regex::new(r"^(\d\d-\d\d \d\d:\d\d:\d\d\.\d+\s+[\d/ -]*\s*[\w.]*\s*)?[VDIWEF]/[\w.$-]+\s*(\(\s*\d+\))?:\s*")
            .expect("a valid regex")
    });
    let mut l = line;
    while let Some(rest) = l.strip_prefix('>') {
        l = rest.trim_start();
    }
    match logcat.find(l) {
        Some(m) => &l[m.end()..],
        None => l,
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_garbage_inputs_match_nothing() {
        for t in ["", "   ", "hello world", "\u{0}\u{1}\u{2}"] {
            assert!(explain(t).matches.is_empty(), "{t:?} matched");
        }
    }

    #[test]
    fn specific_reason_beats_generic_wrapper() {
        let e = explain(
            "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)",
        );
        assert_eq!(e.matches[0].id, "cert-expired");
        assert!(e.matches.iter().any(|m| m.id == "cert-verify-failed"));
        assert_eq!(e.ecosystem.as_deref(), Some("python"));
        assert_eq!(
            e.specifics.verify_reason.as_deref(),
            Some("certificate has expired")
        );
        assert_eq!(e.specifics.source_location.as_deref(), Some("_ssl.c:1006"));
    }

    #[test]
    fn finding_ids_are_ranked_and_unique() {
        // A client's "unable to get local issuer certificate": most often its own trust store
        // or an intercepting proxy; the server's missing intermediate comes next.
        let ids = finding_ids_for(
            "curl: (60) SSL certificate problem: unable to get local issuer certificate",
        );
        assert_eq!(ids[0], FindingId::EnvTrustStoreEmpty);
        assert_eq!(ids[1], FindingId::TlsInterceptionProxy);
        assert!(ids.contains(&FindingId::CertMissingIntermediate));
        let mut dedup = ids.clone();
        dedup.sort_by_key(|f| f.as_str());
        dedup.dedup();
        assert_eq!(ids.len(), dedup.len());
    }

    #[test]
    fn commands_get_the_host_from_the_message() {
        let e = explain(
            "pymongo.errors.ServerSelectionTimeoutError: db.example.net:27017: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)",
        );
        assert_eq!(e.ecosystem.as_deref(), Some("pymongo"));
        assert_eq!(e.matches[0].id, "self-signed-leaf");
        assert_eq!(
            e.matches[0].causes[0].command,
            "tlsdoctor check db.example.net:27017"
        );
    }

    #[test]
    fn evidence_in_the_text_reorders_the_causes() {
        let plain = explain("Error: unable to get local issuer certificate");
        assert_eq!(
            plain.matches[0].causes[0].finding,
            FindingId::EnvTrustStoreEmpty
        );
        assert!(plain.matches[0].ranked_by.is_none());
        // uv's own hint: a tool with bundled roots on a corporate network.
        let uv = explain(
            "error: invalid peer certificate: UnknownIssuer\n  help: Consider enabling use of system TLS certificates with the `--native-tls` command-line flag",
        );
        assert_eq!(uv.ecosystem.as_deref(), Some("uv"));
        assert_eq!(
            uv.matches[0].causes[0].finding,
            FindingId::TlsInterceptionProxy
        );
        assert!(uv.matches[0].ranked_by.is_some());
        // Node's leaf-signature error: the chain is incomplete.
        let leaf = explain(
            "Error: unable to verify the first certificate { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }",
        );
        assert_eq!(
            leaf.matches[0].causes[0].finding,
            FindingId::CertMissingIntermediate
        );
        // MongoDB Atlas answers internal_error to clients not on its access list.
        let atlas = explain(
            "pymongo.errors.ServerSelectionTimeoutError: SSL handshake failed: ac-x-shard-00-01.abcd.mongodb.net:27017: [SSL: TLSV1_ALERT_INTERNAL_ERROR] tlsv1 alert internal error (_ssl.c:1006)",
        );
        assert_eq!(
            atlas.matches[0].causes[0].finding,
            FindingId::ClientIpNotAllowed
        );
        assert!(
            atlas
                .fixes
                .iter()
                .any(|f| f.lines.iter().any(|l| l.contains("IP access list")))
        );
        // Without Atlas in the text the same alert keeps its usual first cause.
        let other = explain(
            "ssl.SSLError: [SSL: TLSV1_ALERT_INTERNAL_ERROR] tlsv1 alert internal error (_ssl.c:1006)",
        );
        assert_eq!(
            other.matches[0].causes[0].finding,
            FindingId::ProtoClientTooOld
        );
    }

    #[test]
    fn server_log_lines_are_answered_for_the_server() {
        let e = explain(
            "May 17 10:35:53 mail dovecot: imap-login: Disconnected: Connection closed: SSL_accept() failed: error:0A000416:SSL routines::sslv3 alert certificate unknown: SSL alert number 46, user=<>, rip=198.51.100.9, lip=10.0.0.2",
        );
        assert_eq!(e.side, Side::Server);
        assert_eq!(e.ecosystem.as_deref(), Some("dovecot"));
        assert_eq!(e.matches[0].id, "server-client-rejected-certificate");
        assert!(e.specifics.hosts.is_empty());
        for c in &e.matches[0].causes {
            assert_eq!(c.command, format!("tlsdoctor check {SERVER_SIDE_TARGET}"));
        }
        // A proxy's line about its upstream is a client's view.
        let up = explain(
            "SSL_do_handshake() failed (SSL: error:0A000410:SSL routines::sslv3 alert handshake failure:SSL alert number 40) while SSL handshaking to upstream, client: 172.19.0.1, server: example.host",
        );
        assert_eq!(up.side, Side::Client);
        assert_eq!(up.matches[0].causes[0].finding, FindingId::SniRequired);
    }

    #[test]
    fn wrapped_and_pasted_together_messages_match() {
        let wrapped = explain("InitializeSecurityContext error: SEC_E_UNTRUSTED_\nROOT");
        assert_eq!(wrapped.matches[0].id, "schannel-untrusted-root");
        let java = explain(
            "PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid cert\nification path to requested target",
        );
        assert!(java.matches[0].matched_text.contains("certification path"));
        // Two messages in one paste: both are recognised.
        let both = explain(
            "ERROR: cannot verify example.org's certificate, issued by 'CN=Example CA':\n  Unable to locally verify the issuer's authority.\nERROR: no certificate subject alternative name matches\n requested host name 'example.org'.",
        );
        let ids: Vec<&str> = both.matches.iter().map(|m| m.id.as_str()).collect();
        assert!(
            ids.contains(&"unknown-issuer") && ids.contains(&"hostname-mismatch"),
            "{ids:?}"
        );
    }

    #[test]
    fn older_and_shorter_variants_match() {
        for (text, id) in [
            ("remote error: handshake failure", "alert-handshake-failure"),
            (
                "javax.net.ssl.SSLHandshakeException: No appropriate protocol",
                "no-protocols-available",
            ),
            (
                "Error: Hostname/IP doesn't match certificate's altnames",
                "hostname-mismatch",
            ),
            (
                "x509: certificate relies on legacy Common Name field, use SANs instead",
                "go-legacy-common-name",
            ),
            (
                "Io(Custom { kind: InvalidData, error: InvalidCertificate(UnknownIssuer) })",
                "unknown-issuer",
            ),
            ("{error,{tls_alert,\"unknown ca\"}}", "erlang-unknown-ca"),
            (
                "curl: (77) error setting certificate verify locations:  CAfile: /etc/ssl/certs/ca-certificates.crt CApath: none",
                "curl-ca-file-unusable",
            ),
        ] {
            let e = explain(text);
            assert_eq!(e.matches.first().map(|m| m.id.as_str()), Some(id), "{text}");
        }
    }

    #[test]
    fn a_client_certificate_refused_at_the_http_level_is_answered_for_each_side() {
        // What the client sees: nginx's HTTP 400 page after a finished handshake.
        let page = explain("<title>400 No required SSL certificate was sent</title>");
        assert_eq!(page.side, Side::Client);
        assert_eq!(page.matches[0].id, "http-no-required-certificate");
        assert_eq!(
            page.matches[0].causes[0].finding,
            FindingId::ClientCertRequired
        );
        // What nginx logs for it, and Go's server line for a missing client certificate.
        for line in [
            "2024/01/01 10:00:00 [info] 12#12: *5 client sent no required SSL certificate while reading client request headers, client: 10.0.0.1",
            "http: TLS handshake error from 10.0.0.1:5000: tls: client didn't provide a certificate",
        ] {
            let e = explain(line);
            assert_eq!(e.side, Side::Server, "{line}");
            assert_eq!(
                e.matches[0].id, "server-client-sent-no-certificate",
                "{line}"
            );
        }
    }

    #[test]
    fn a_mail_servers_own_smtp_client_is_answered_as_a_client() {
        // postfix/smtp (the sending side) verifying the next hop: the client's view, with
        // Postfix's own CA settings as the fix.
        let e = explain(
            "postfix/smtp[138]: certificate verification failed for mx.example.net[192.0.2.7]:25: untrusted issuer /CN=Example Root",
        );
        assert_eq!(e.side, Side::Client);
        assert_eq!(e.matches[0].id, "mta-next-hop-untrusted");
        assert_eq!(
            e.matches[0].causes[0].finding,
            FindingId::EnvTrustStoreEmpty
        );
        assert!(
            e.fixes
                .iter()
                .any(|f| f.lines.iter().any(|l| l.contains("smtp_tls_CAfile")))
        );
        // postfix/smtpd logging a client that refused ITS certificate gets no client-side
        // trust fix (the fix is side = "client").
        let d = explain(
            "postfix/smtpd[422]: warning: TLS library problem: error:0A000418:SSL routines::tlsv1 alert unknown ca",
        );
        assert_eq!(d.side, Side::Server);
        assert!(
            !d.fixes
                .iter()
                .any(|f| f.lines.iter().any(|l| l.contains("smtp_tls_CAfile"))),
            "{:?}",
            d.fixes
        );
    }

    #[test]
    fn dotnet_framework_send_failures_point_at_the_protocol_default() {
        let e = explain(
            "Invoke-WebRequest : The underlying connection was closed: An unexpected error occurred on a send.",
        );
        assert_eq!(e.ecosystem.as_deref(), Some("powershell"));
        assert_eq!(e.matches[0].id, "dotnet-connection-closed-send");
        assert_eq!(e.matches[0].causes[0].finding, FindingId::ProtoClientTooOld);
        assert!(
            e.fixes
                .iter()
                .any(|f| f.lines.iter().any(|l| l.contains("SecurityProtocol")))
        );
    }

    #[test]
    fn a_private_host_ranks_a_private_ca_before_a_proxy() {
        // rustls with its bundled roots: against a public host a proxy is the usual gap, against
        // the user's own (masked, internal, own-port) server a private CA is.
        let public = explain(
            "error sending request for url (https://pypi.org/simple/x/): invalid peer certificate: UnknownIssuer",
        );
        assert_eq!(
            public.matches[0].causes[0].finding,
            FindingId::TlsInterceptionProxy
        );
        for host in [
            "https://git.xxx.xxx/api",
            "https://nas.local/api",
            "https://10.1.2.3/api",
            "https://backup:8443/api",
        ] {
            let e = explain(&format!(
                "error sending request for url ({host}): invalid peer certificate: UnknownIssuer"
            ));
            assert_eq!(
                e.matches[0].causes[0].finding,
                FindingId::CertUntrustedRoot,
                "{host}"
            );
        }
    }

    #[test]
    fn each_stack_gets_its_own_fix_for_a_missing_name_or_an_expired_chain() {
        let has = |text: &str, needle: &str| {
            let e = explain(text);
            assert!(
                e.fixes
                    .iter()
                    .any(|f| f.lines.iter().any(|l| l.contains(needle))),
                "{needle:?} not in the fixes for {text:?}: {:?}",
                e.fixes
            );
        };
        has(
            "CONNECTED(00000003)\n139875020289856:error:14094410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../ssl/record/rec_layer_s3.c:1543:SSL alert number 40",
            "-servername",
        );
        has(
            "SSL_do_handshake() failed (SSL: error:14094410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:SSL alert number 40) while SSL handshaking to upstream, client: 10.0.0.1",
            "proxy_ssl_server_name on",
        );
        has(
            "OpenSSL::SSL::SSLError (SSL_connect returned=1 errno=0 state=error: certificate verify failed (certificate has expired))",
            "gem update --system",
        );
        has(
            "requests.exceptions.SSLError: HTTPSConnectionPool(host='10.0.0.5', port=443): Max retries exceeded with url: / (Caused by SSLError(CertificateError(\"hostname '10.0.0.5' doesn't match 'db.example.net'\",),))",
            "IP entry in the SAN",
        );
    }

    #[test]
    fn fixes_are_written_for_the_side_that_logged_the_message() {
        let lines = |text: &str| -> Vec<String> {
            explain(text)
                .fixes
                .into_iter()
                .flat_map(|f| f.lines)
                .collect()
        };
        // nginx's own log: its clients refuse the certificate it serves.
        let server = lines(
            "2020/03/12 14:19:06 [info] 28762#28762: *54 SSL_do_handshake() failed (SSL: error:14094416:SSL routines:ssl3_read_bytes:sslv3 alert certificate unknown:SSL alert number 46) while SSL handshaking, client: 192.168.96.1, server: 0.0.0.0:443",
        );
        assert!(
            server.iter().any(|l| l.contains("fullchain.pem")),
            "{server:?}"
        );
        // nginx as a client of its upstream: no advice about what nginx accepts from clients.
        let upstream = lines(
            "SSL_do_handshake() failed (SSL: error:14094410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:SSL alert number 40) while SSL handshaking to upstream, client: 10.0.0.1",
        );
        assert!(
            !upstream.iter().any(|l| l.contains("server refusing")),
            "{upstream:?}"
        );
    }

    #[test]
    fn huge_input_is_bounded() {
        let mut s = "x".repeat(200_000);
        s.push_str("wrong version number");
        let e = explain(&s);
        assert!(e.input.len() <= MAX_INPUT);
        assert!(e.truncated);
        assert!(e.matches.is_empty());
        // Multi-byte characters at the cut do not panic.
        let s = "é".repeat(100_000);
        let _ = explain(&s);
    }
}
