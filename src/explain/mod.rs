//! `tlsdoctor explain`: recognise a TLS error message from any common client and say what it
//! means, the usual causes (ranked, each tied to a doctor finding id) and which `tlsdoctor check`
//! run tells them apart. Works offline: the knowledge lives in `data/errors/*.toml`.

mod kb;
mod specifics;

use serde::Serialize;

use crate::finding::FindingId;

pub use kb::{Cause, Entry};
pub use specifics::Specifics;

/// One knowledge-base entry that matched the input, with the commands filled in for this input.
#[derive(Debug, Clone, Serialize)]
pub struct KbMatch {
    pub id: String,
    pub title: String,
    pub meaning: String,
    pub ecosystems: Vec<String>,
    pub notes: Vec<String>,
    /// Ranked, most likely first.
    pub causes: Vec<Cause>,
    /// The doctor finding ids of `causes`, in the same order, without duplicates.
    pub finding_ids: Vec<FindingId>,
    /// The part of the input that matched.
    pub matched_text: String,
    /// Higher is a better match (priority tier, then length of the matched text).
    pub score: u32,
}

/// The answer to `tlsdoctor explain TEXT`.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub input: String,
    /// Which program most likely printed the message: python, pymongo, curl, node, java, go,
    /// dotnet, rustls, openssl.
    pub ecosystem: Option<String>,
    /// Best match first. Empty when the text is not recognised.
    pub matches: Vec<KbMatch>,
    /// Details pulled out of the message (verify reason, OpenSSL error code, host, ...).
    pub specifics: Specifics,
}

/// Longest input looked at; error messages pasted with stack traces can be long, but the
/// recognisable part is never beyond this.
const MAX_INPUT: usize = 64 * 1024;

/// Explain an error message. Never fails: unrecognised text gives an empty `matches`.
pub fn explain(text: &str) -> Explanation {
    let text = truncate(text, MAX_INPUT);
    let kb = kb::knowledge_base();
    let ecosystem = kb.detect_ecosystem(text);
    let specifics = specifics::extract(text);

    let target = specifics
        .hosts
        .first()
        .map(|h| match specifics.port {
            Some(p) if !h.contains(':') => format!("{h}:{p}"),
            _ => h.clone(),
        })
        .unwrap_or_else(|| "HOST".to_string());
    let client = ecosystem.clone().unwrap_or_else(|| "openssl".to_string());

    let mut matches: Vec<KbMatch> = Vec::new();
    for entry in &kb.entries {
        if let Some((matched, score)) = entry.best_match(text) {
            matches.push(to_match(entry, matched, score, &target, &client));
        }
    }
    // Highest score first; ties broken by id so the order is stable.
    matches.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.id.cmp(&b.id)));

    Explanation {
        input: text.to_string(),
        ecosystem,
        matches,
        specifics,
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

fn to_match(entry: &Entry, matched: &str, score: u32, target: &str, client: &str) -> KbMatch {
    let causes: Vec<Cause> = entry
        .causes
        .iter()
        .map(|c| Cause {
            command: c
                .command
                .replace("{target}", target)
                .replace("{client}", client),
            ..c.clone()
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
        finding_ids,
        matched_text: matched.to_string(),
        score,
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
        let ids = finding_ids_for(
            "curl: (60) SSL certificate problem: unable to get local issuer certificate",
        );
        assert_eq!(ids[0], FindingId::CertMissingIntermediate);
        let mut dedup = ids.clone();
        dedup.dedup();
        assert_eq!(ids.len(), dedup.len());
        assert!(ids.contains(&FindingId::EnvTrustStoreEmpty));
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
    fn huge_input_is_bounded() {
        let mut s = "x".repeat(200_000);
        s.push_str("wrong version number");
        let e = explain(&s);
        assert!(e.input.len() <= MAX_INPUT);
        assert!(e.matches.is_empty());
        // Multi-byte characters at the cut do not panic.
        let s = "é".repeat(100_000);
        let _ = explain(&s);
    }
}
