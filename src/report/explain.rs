//! Terminal rendering of an [`Explanation`].

use super::style::Style;
use crate::escape::{escape, finish};
use crate::explain::{Explanation, Side};

/// How many other matching entries to mention after the best one.
const MAX_ALSO: usize = 3;

/// Render `e` for a terminal. ANSI colour only when `color` is true.
pub fn render_explanation(e: &Explanation, color: bool) -> String {
    let st = Style { color };
    let mut out = String::new();

    let Some(best) = e.matches.first() else {
        out.push_str(&st.yellow("Not recognised:"));
        out.push_str(" this text does not match any known TLS error message.\n");
        if e.truncated {
            out.push_str(&format!(
                "Only the first {} KiB were read; paste the part with the TLS error.\n",
                crate::explain::MAX_INPUT / 1024
            ));
        }
        out.push_str("Run the full diagnosis against the server instead:\n");
        out.push_str(&format!("  {}\n", st.bold("tlsdoctor check TARGET")));
        return finish(out, color);
    };

    out.push_str(&format!("{} {}\n", st.red("●"), st.bold(&best.title)));
    let mut facts: Vec<String> = Vec::new();
    if let Some(eco) = &e.ecosystem {
        facts.push(format!("from {eco}"));
    }
    if e.side == Side::Server {
        facts.push("a server's own log line".to_string());
    }
    let sp = &e.specifics;
    if let Some(r) = &sp.verify_reason {
        facts.push(format!("verify reason: {r}"));
    }
    if let Some(c) = &sp.openssl_error_code {
        let g = sp.openssl_generation.as_deref().unwrap_or("?");
        facts.push(format!("OpenSSL {g} error {c}"));
    }
    if let Some(a) = sp.alert_number {
        facts.push(format!("TLS alert {a}"));
    }
    if let Some(c) = sp.curl_exit_code {
        facts.push(format!("curl exit {c}"));
    }
    if let Some(c) = &sp.node_code {
        facts.push(format!("code {c}"));
    }
    if let Some(h) = sp.hosts.first() {
        match sp.port {
            Some(p) => facts.push(format!("host {h}:{p}")),
            None => facts.push(format!("host {h}")),
        }
    }
    // The facts are read from the user's text, which may quote a peer's bytes.
    if !facts.is_empty() {
        out.push_str(&format!("  {}\n", st.dim(&escape(&facts.join(" · ")))));
    }

    out.push('\n');
    out.push_str(&format!(
        "{}\n  {}\n",
        st.bold("What it means"),
        best.meaning
    ));

    if e.side == Side::Server {
        out.push('\n');
        out.push_str(&format!(
            "{}\n  {}\n",
            st.bold("Seen on the server side"),
            "This line comes from the server's log: the addresses in it are its clients', and any alert in it came from the client. Check the server that wrote the log (not the client address)."
        ));
    }

    out.push('\n');
    out.push_str(&format!(
        "{}\n",
        st.bold("Likely causes, most likely first")
    ));
    if let Some(why) = &best.ranked_by {
        out.push_str(&format!(
            "  {}\n",
            st.dim(&format!("ranked for this message: {why}"))
        ));
    }
    for (i, c) in best.causes.iter().enumerate() {
        out.push_str(&format!(
            "  {}. {} {}\n",
            i + 1,
            st.bold(c.finding.as_str()),
            st.dim(&format!("({})", c.likelihood))
        ));
        out.push_str(&format!("     checks: {}\n", c.tell_apart));
    }

    // One command per distinct run, in cause order.
    let mut commands: Vec<&str> = Vec::new();
    for c in &best.causes {
        if !commands.contains(&c.command.as_str()) {
            commands.push(&c.command);
        }
    }
    out.push('\n');
    out.push_str(&format!("{}\n", st.bold("Tell them apart")));
    for c in commands {
        out.push_str(&format!("  $ {c}\n"));
    }

    if !e.fixes.is_empty() {
        out.push('\n');
        for f in &e.fixes {
            out.push_str(&format!(
                "{}\n",
                st.bold(&format!(
                    "Fix for {} ({})",
                    f.ecosystem,
                    f.findings
                        .iter()
                        .map(|id| id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            ));
            for l in &f.lines {
                out.push_str(&format!("  - {l}\n"));
            }
        }
    }

    if !best.notes.is_empty() {
        out.push('\n');
        out.push_str(&format!("{}\n", st.bold("Notes")));
        for n in &best.notes {
            out.push_str(&format!("  - {n}\n"));
        }
    }

    let also: Vec<&str> = e
        .matches
        .iter()
        .skip(1)
        .take(MAX_ALSO)
        .map(|m| m.title.as_str())
        .collect();
    if !also.is_empty() {
        out.push('\n');
        out.push_str(&st.dim(&format!("Also matches: {}", also.join("; "))));
        out.push('\n');
    }
    finish(out, color)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::explain;

    #[test]
    fn renders_meaning_causes_and_commands() {
        let e =
            explain("curl: (60) SSL certificate problem: unable to get local issuer certificate");
        let s = render_explanation(&e, false);
        assert!(s.contains("What it means"), "{s}");
        assert!(s.contains("1. env-trust-store-empty"), "{s}");
        assert!(s.contains("2. tls-interception-proxy"), "{s}");
        assert!(
            s.contains("Fix for curl (env-trust-store-empty, tls-interception-proxy"),
            "{s}"
        );
        assert!(s.contains("--cacert"), "{s}");
        assert!(s.contains("$ tlsdoctor check HOST"), "{s}");
        assert!(s.contains("curl exit 60"), "{s}");
        assert!(!s.contains('\x1b'), "colour escape without colour: {s}");
        let c = render_explanation(&e, true);
        assert!(c.contains("\x1b[1m"));
    }

    #[test]
    fn stack_fixes_are_in_the_human_output() {
        // The fix for the user's own stack is printed, not only in --json.
        let cases = [
            (
                "Error: unable to get local issuer certificate { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }",
                "NODE_EXTRA_CA_CERTS",
            ),
            (
                "javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
                "-Djavax.net.ssl.trustStore",
            ),
            (
                "fatal: unable to access 'https://git.example.org/x.git/': server certificate verification failed. CAfile: none CRLfile: none",
                "http.sslCAInfo",
            ),
            (
                "Invoke-WebRequest : The request was aborted: Could not create SSL/TLS secure channel.",
                "SecurityProtocol",
            ),
            (
                "Error response from daemon: Get https://registry.example.org:5000/v2/: x509: certificate signed by unknown authority",
                "/etc/docker/certs.d",
            ),
            (
                "requests.exceptions.SSLError: HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded with url: /simple/ (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)')))",
                "REQUESTS_CA_BUNDLE",
            ),
            (
                "  ╰─▶ invalid peer certificate: UnknownIssuer\n  help: Consider enabling use of system TLS certificates with the `--native-tls` command-line flag",
                "--native-tls",
            ),
            (
                "urllib.error.URLError: <urlopen error [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)>",
                "Install Certificates.command",
            ),
            (
                "Failed to connect: Io(Custom { kind: InvalidData, error: InvalidCertificate(UnknownIssuer) })",
                "rustls-tls-native-roots",
            ),
            (
                "pymongo.errors.ServerSelectionTimeoutError: SSL handshake failed: ac-x-shard-00-01.abc.mongodb.net:27017: [SSL: TLSV1_ALERT_INTERNAL_ERROR] tlsv1 alert internal error (_ssl.c:1006)",
                "IP Access List",
            ),
            (
                "javax.net.ssl.SSLHandshakeException: No appropriate protocol (protocol is disabled or cipher suites are inappropriate)",
                "jdk.tls.disabledAlgorithms",
            ),
        ];
        for (msg, want) in cases {
            let s = render_explanation(&explain(msg), false);
            assert!(s.contains(want), "{want:?} missing for {msg}:\n{s}");
        }
    }

    #[test]
    fn server_log_lines_say_so_and_check_the_server() {
        let s = render_explanation(
            &explain(
                "2020/11/10 11:56:03 http: TLS handshake error from 203.0.113.7:54433: remote error: tls: bad certificate",
            ),
            false,
        );
        assert!(s.contains("Seen on the server side"), "{s}");
        assert!(s.contains("$ tlsdoctor check THIS-SERVER:PORT"), "{s}");
        assert!(!s.contains("203.0.113.7"), "probes the client: {s}");
        // No client-side trust fix for a server's log line.
        assert!(!s.contains("SSL_CERT_FILE"), "{s}");
    }

    #[test]
    fn unrecognised_text_suggests_check() {
        let s = render_explanation(&explain("the coffee machine is broken"), false);
        assert!(s.starts_with("Not recognised"), "{s}");
        assert!(s.contains("tlsdoctor check TARGET"), "{s}");
        assert!(!s.contains("Only the first"), "{s}");
        let long = format!(
            "{}\nnpm ERR! code UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
            "x".repeat(70_000)
        );
        let s = render_explanation(&explain(&long), false);
        assert!(s.contains("Only the first 64 KiB were read"), "{s}");
    }
}
