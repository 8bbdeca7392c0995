//! Loading the error-message knowledge base from `data/errors/*.toml`.

use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::finding::FindingId;

/// The knowledge-base files, compiled into the binary.
const FILES: &[(&str, &str)] = &[
    (
        "cert-verify.toml",
        include_str!("../../data/errors/cert-verify.toml"),
    ),
    (
        "protocol-version.toml",
        include_str!("../../data/errors/protocol-version.toml"),
    ),
    (
        "handshake-failure.toml",
        include_str!("../../data/errors/handshake-failure.toml"),
    ),
    (
        "renegotiation.toml",
        include_str!("../../data/errors/renegotiation.toml"),
    ),
    ("dh.toml", include_str!("../../data/errors/dh.toml")),
    ("ocsp.toml", include_str!("../../data/errors/ocsp.toml")),
    (
        "not-tls.toml",
        include_str!("../../data/errors/not-tls.toml"),
    ),
    ("sni.toml", include_str!("../../data/errors/sni.toml")),
    (
        "client-cert.toml",
        include_str!("../../data/errors/client-cert.toml"),
    ),
    (
        "connection.toml",
        include_str!("../../data/errors/connection.toml"),
    ),
];

const ECOSYSTEMS: &str = include_str!("../../data/errors/ecosystems.toml");

/// A likely cause of an error message, tied to a doctor finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cause {
    /// Catalogue finding id, e.g. `cert-missing-intermediate`; a file naming an id the
    /// catalogue (data/findings.toml) lacks does not parse.
    pub finding: FindingId,
    /// How likely, in words ("most common", "rare", ...).
    pub likelihood: String,
    /// What the check looks at to confirm or rule out this cause.
    pub tell_apart: String,
    /// The `tlsdoctor check` command that tells it apart.
    pub command: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: String,
    title: String,
    priority: u32,
    ecosystems: Vec<String>,
    patterns: Vec<String>,
    meaning: String,
    #[serde(default)]
    notes: Vec<String>,
    causes: Vec<Cause>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    entry: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEcosystem {
    name: String,
    patterns: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEcosystems {
    ecosystem: Vec<RawEcosystem>,
}

/// One knowledge-base entry with its patterns compiled.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub priority: u32,
    pub ecosystems: Vec<String>,
    pub patterns: Vec<String>,
    pub meaning: String,
    pub notes: Vec<String>,
    pub causes: Vec<Cause>,
    /// Which file it came from.
    pub file: String,
    #[serde(skip)]
    compiled: Vec<Regex>,
}

impl Entry {
    /// The longest text any pattern of this entry matches in `text`, and the entry's score.
    pub(crate) fn best_match<'t>(&self, text: &'t str) -> Option<(&'t str, u32)> {
        let best = self
            .compiled
            .iter()
            .filter_map(|re| re.find(text))
            .max_by_key(|m| m.as_str().len())?;
        let len = u32::try_from(best.as_str().len().min(999)).unwrap_or(999);
        Some((best.as_str(), self.priority * 1000 + len))
    }
}

pub(crate) struct KnowledgeBase {
    pub entries: Vec<Entry>,
    ecosystems: Vec<(String, Vec<Regex>)>,
}

impl KnowledgeBase {
    pub(crate) fn detect_ecosystem(&self, text: &str) -> Option<String> {
        self.ecosystems
            .iter()
            .find(|(_, res)| res.iter().any(|re| re.is_match(text)))
            .map(|(name, _)| name.clone())
    }
}

fn compile(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .multi_line(true)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("bad pattern {pattern:?}: {e}"))
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Parse and check one knowledge-base file.
fn parse_file(name: &str, text: &str) -> Result<Vec<Entry>, String> {
    let raw: RawFile = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    let mut out = Vec::new();
    for e in raw.entry {
        let ctx = |msg: &str| format!("{name}: entry {:?}: {msg}", e.id);
        if !is_kebab(&e.id) {
            return Err(ctx("id must be kebab-case"));
        }
        if e.patterns.is_empty() {
            return Err(ctx("no patterns"));
        }
        if e.causes.is_empty() {
            return Err(ctx("no causes"));
        }
        if !(1..=99).contains(&e.priority) {
            return Err(ctx("priority must be 1..=99"));
        }
        if e.title.trim().is_empty() || e.meaning.trim().is_empty() {
            return Err(ctx("empty title or meaning"));
        }
        for c in &e.causes {
            if !c.command.starts_with("tlsdoctor check") {
                return Err(ctx(&format!(
                    "command {:?} is not a tlsdoctor check run",
                    c.command
                )));
            }
        }
        let compiled = e
            .patterns
            .iter()
            .map(|p| compile(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| ctx(&m))?;
        // A pattern that matches the empty string would match every input.
        if let Some(p) = compiled.iter().find(|re| re.is_match("")) {
            return Err(ctx(&format!("pattern {:?} matches empty text", p.as_str())));
        }
        out.push(Entry {
            id: e.id,
            title: e.title,
            priority: e.priority,
            ecosystems: e.ecosystems,
            patterns: e.patterns,
            meaning: e.meaning,
            notes: e.notes,
            causes: e.causes,
            file: name.to_string(),
            compiled,
        });
    }
    Ok(out)
}

pub(crate) fn load() -> Result<KnowledgeBase, String> {
    let mut entries: Vec<Entry> = Vec::new();
    for (name, text) in FILES {
        for e in parse_file(name, text)? {
            if entries.iter().any(|x| x.id == e.id) {
                return Err(format!("{name}: duplicate entry id {:?}", e.id));
            }
            entries.push(e);
        }
    }
    let raw: RawEcosystems =
        toml::from_str(ECOSYSTEMS).map_err(|e| format!("ecosystems.toml: {e}"))?;
    let ecosystems = raw
        .ecosystem
        .into_iter()
        .map(|eco| {
            let res = eco
                .patterns
                .iter()
                .map(|p| compile(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|m| format!("ecosystems.toml: {}: {m}", eco.name))?;
            Ok((eco.name, res))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(KnowledgeBase {
        entries,
        ecosystems,
    })
}

/// The knowledge base, parsed once. The data is compiled in and checked by the unit test
/// `knowledge_base_is_valid`, so a failure here is a build defect, not a runtime condition.
pub(crate) fn knowledge_base() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| match load() {
        Ok(kb) => kb,
        Err(e) => panic!("built-in error knowledge base is invalid: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECOSYSTEM_NAMES: &[&str] = &[
        "openssl", "python", "pymongo", "curl", "java", "go", "node", "dotnet", "rustls",
    ];

    #[test]
    fn knowledge_base_is_valid() {
        let kb = load().unwrap_or_else(|e| panic!("{e}"));
        assert!(kb.entries.len() >= 25, "only {} entries", kb.entries.len());
        // Every cause names a catalogue id: the files do not parse otherwise.
        for e in &kb.entries {
            for eco in &e.ecosystems {
                assert!(ECOSYSTEM_NAMES.contains(&eco.as_str()), "{}: {eco}", e.id);
            }
        }
        for (name, _) in &kb.ecosystems {
            assert!(ECOSYSTEM_NAMES.contains(&name.as_str()), "{name}");
        }
    }

    #[test]
    fn malformed_files_are_rejected() {
        let cases = [
            ("not toml", "[[entry]\nid="),
            (
                "unknown field",
                "[[entry]]\nid='a'\ntitle='t'\npriority=10\necosystems=[]\npatterns=['x']\nmeaning='m'\nbogus=1\n[[entry.causes]]\nfinding='not-tls'\nlikelihood='l'\ntell_apart='t'\ncommand='tlsdoctor check {target}'\n",
            ),
            (
                "bad regex",
                "[[entry]]\nid='a'\ntitle='t'\npriority=10\necosystems=[]\npatterns=['(']\nmeaning='m'\n[[entry.causes]]\nfinding='not-tls'\nlikelihood='l'\ntell_apart='t'\ncommand='tlsdoctor check {target}'\n",
            ),
            (
                "empty-matching regex",
                "[[entry]]\nid='a'\ntitle='t'\npriority=10\necosystems=[]\npatterns=['x*']\nmeaning='m'\n[[entry.causes]]\nfinding='not-tls'\nlikelihood='l'\ntell_apart='t'\ncommand='tlsdoctor check {target}'\n",
            ),
            (
                "no causes",
                "[[entry]]\nid='a'\ntitle='t'\npriority=10\necosystems=[]\npatterns=['x']\nmeaning='m'\ncauses=[]\n",
            ),
            (
                "bad command",
                "[[entry]]\nid='a'\ntitle='t'\npriority=10\necosystems=[]\npatterns=['x']\nmeaning='m'\n[[entry.causes]]\nfinding='not-tls'\nlikelihood='l'\ntell_apart='t'\ncommand='rm -rf /'\n",
            ),
            (
                "finding id not in the catalogue",
                "[[entry]]\nid='a'\ntitle='t'\npriority=10\necosystems=[]\npatterns=['x']\nmeaning='m'\n[[entry.causes]]\nfinding='local-openssl-too-old'\nlikelihood='l'\ntell_apart='t'\ncommand='tlsdoctor check {target}'\n",
            ),
            (
                "bad id",
                "[[entry]]\nid='A B'\ntitle='t'\npriority=10\necosystems=[]\npatterns=['x']\nmeaning='m'\n[[entry.causes]]\nfinding='not-tls'\nlikelihood='l'\ntell_apart='t'\ncommand='tlsdoctor check {target}'\n",
            ),
        ];
        for (what, text) in cases {
            assert!(parse_file("t.toml", text).is_err(), "{what} was accepted");
        }
        let ok = "[[entry]]\nid='a'\ntitle='t'\npriority=10\necosystems=[]\npatterns=['x']\nmeaning='m'\n[[entry.causes]]\nfinding='not-tls'\nlikelihood='l'\ntell_apart='t'\ncommand='tlsdoctor check {target}'\n";
        assert_eq!(parse_file("t.toml", ok).map(|v| v.len()), Ok(1));
    }
}
