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
        "cert-constraints.toml",
        include_str!("../../data/errors/cert-constraints.toml"),
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
    ("gnutls.toml", include_str!("../../data/errors/gnutls.toml")),
    ("nss.toml", include_str!("../../data/errors/nss.toml")),
    (
        "windows.toml",
        include_str!("../../data/errors/windows.toml"),
    ),
    (
        "runtimes.toml",
        include_str!("../../data/errors/runtimes.toml"),
    ),
    (
        "databases.toml",
        include_str!("../../data/errors/databases.toml"),
    ),
    (
        "mongodb.toml",
        include_str!("../../data/errors/mongodb.toml"),
    ),
    (
        "server-logs.toml",
        include_str!("../../data/errors/server-logs.toml"),
    ),
];

const ECOSYSTEMS: &str = include_str!("../../data/errors/ecosystems.toml");

/// Which side printed a message: the client that failed, or a server in its own log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    #[default]
    Client,
    Server,
}

/// Which messages an entry is about: a client's, a server log's, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applies {
    #[default]
    Any,
    Client,
    Server,
}

impl Applies {
    pub(crate) fn admits(self, side: Side) -> bool {
        matches!(
            (self, side),
            (Applies::Any, _) | (Applies::Client, Side::Client) | (Applies::Server, Side::Server)
        )
    }
}

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
    /// Which side's messages this entry explains (default: both).
    #[serde(default)]
    side: Applies,
    /// Evidence in the text or the detected ecosystem that reorders `causes`.
    #[serde(default)]
    boost: Vec<RawBoost>,
    causes: Vec<Cause>,
}

/// "When the text shows this (or comes from that ecosystem), these causes come first."
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBoost {
    /// Regular expressions; any one matching the text is evidence.
    #[serde(default)]
    when: Vec<String>,
    /// Detected ecosystems the rule is for (any of them).
    #[serde(default)]
    ecosystems: Vec<String>,
    /// Causes of the entry to move to the front, in this order.
    first: Vec<FindingId>,
    /// Why, in a few words (shown with the ranking).
    because: String,
}

/// A compiled [`RawBoost`]: it applies when every given condition holds.
#[derive(Debug, Clone)]
pub(crate) struct Boost {
    when: Vec<Regex>,
    ecosystems: Vec<String>,
    pub first: Vec<FindingId>,
    pub because: String,
}

impl Boost {
    pub(crate) fn applies(&self, texts: &[&str], ecosystem: Option<&str>) -> bool {
        let text_ok = self.when.is_empty()
            || self
                .when
                .iter()
                .any(|re| texts.iter().any(|t| re.is_match(t)));
        let eco_ok = self.ecosystems.is_empty()
            || ecosystem.is_some_and(|e| self.ecosystems.iter().any(|x| x == e));
        text_ok && eco_ok
    }
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
    /// A broader ecosystem whose fixes also apply (requests → python).
    #[serde(default)]
    family: Option<String>,
    /// The `check --client` profile that stands for this program, if there is one.
    #[serde(default)]
    client: Option<String>,
}

/// One ecosystem rule of `ecosystems.toml`, compiled.
pub(crate) struct EcoRule {
    pub name: String,
    res: Vec<Regex>,
    pub family: Option<String>,
    pub client: Option<String>,
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
    pub side: Applies,
    pub causes: Vec<Cause>,
    /// Which file it came from.
    pub file: String,
    #[serde(skip)]
    compiled: Vec<Regex>,
    #[serde(skip)]
    pub(crate) boosts: Vec<Boost>,
}

impl Entry {
    /// Whether this entry explains messages seen on `side`.
    pub(crate) fn admits(&self, side: Side) -> bool {
        self.side.admits(side)
    }

    /// The longest text any pattern of this entry matches in any of `texts` (the message and
    /// its re-joined forms), and the entry's score.
    pub(crate) fn best_match<'t>(&self, texts: &[&'t str]) -> Option<(&'t str, u32)> {
        let best = self
            .compiled
            .iter()
            .flat_map(|re| texts.iter().filter_map(move |t| re.find(t)))
            .max_by_key(|m| m.as_str().len())?;
        let len = u32::try_from(best.as_str().len().min(999)).unwrap_or(999);
        Some((best.as_str(), self.priority * 1000 + len))
    }
}

pub(crate) struct KnowledgeBase {
    pub entries: Vec<Entry>,
    ecosystems: Vec<EcoRule>,
    pub(crate) sides: super::side::SideRules,
    pub(crate) fixes: Vec<super::fixes::StackFix>,
}

impl KnowledgeBase {
    pub(crate) fn detect_ecosystem(&self, texts: &[&str]) -> Option<&EcoRule> {
        self.ecosystems
            .iter()
            .find(|r| r.res.iter().any(|re| texts.iter().any(|t| re.is_match(t))))
    }

    /// The ecosystem names `ecosystems.toml` knows, in detection order.
    #[cfg(test)]
    pub(crate) fn ecosystem_names(&self) -> impl Iterator<Item = &str> {
        self.ecosystems.iter().map(|r| r.name.as_str())
    }
}

pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
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
        let mut boosts = Vec::new();
        for b in &e.boost {
            if b.when.is_empty() && b.ecosystems.is_empty() {
                return Err(ctx("a boost needs `when` or `ecosystems`"));
            }
            if b.first.is_empty() || b.because.trim().is_empty() {
                return Err(ctx("a boost needs `first` and `because`"));
            }
            if let Some(f) = b
                .first
                .iter()
                .find(|f| !e.causes.iter().any(|c| c.finding == **f))
            {
                return Err(ctx(&format!(
                    "boost names {} which is not a cause",
                    f.as_str()
                )));
            }
            let when = b
                .when
                .iter()
                .map(|p| compile(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|m| ctx(&m))?;
            if let Some(p) = when.iter().find(|re| re.is_match("")) {
                return Err(ctx(&format!("boost {:?} matches empty text", p.as_str())));
            }
            boosts.push(Boost {
                when,
                ecosystems: b.ecosystems.clone(),
                first: b.first.clone(),
                because: b.because.clone(),
            });
        }
        out.push(Entry {
            id: e.id,
            title: e.title,
            priority: e.priority,
            ecosystems: e.ecosystems,
            patterns: e.patterns,
            meaning: e.meaning,
            notes: e.notes,
            side: e.side,
            causes: e.causes,
            file: name.to_string(),
            compiled,
            boosts,
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
            Ok(EcoRule {
                name: eco.name,
                res,
                family: eco.family,
                client: eco.client,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let known: Vec<&str> = ecosystems.iter().map(|r| r.name.as_str()).collect();
    for r in &ecosystems {
        if let Some(f) = &r.family {
            if !known.contains(&f.as_str()) {
                return Err(format!("ecosystems.toml: {}: family {f:?} unknown", r.name));
            }
        }
    }
    let check = |what: &str, eco: &str| {
        if known.contains(&eco) {
            Ok(())
        } else {
            Err(format!(
                "{what}: ecosystem {eco:?} is not in ecosystems.toml"
            ))
        }
    };
    for e in &entries {
        for eco in &e.ecosystems {
            check(&format!("{}: entry {}", e.file, e.id), eco)?;
        }
        for b in &e.boosts {
            for eco in &b.ecosystems {
                check(&format!("{}: entry {} boost", e.file, e.id), eco)?;
            }
        }
    }
    let sides = super::side::SideRules::load()?;
    let fixes = super::fixes::load()?;
    for f in &fixes {
        for eco in &f.ecosystems {
            check("fixes.toml", eco)?;
        }
    }
    Ok(KnowledgeBase {
        entries,
        ecosystems,
        sides,
        fixes,
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

    #[test]
    fn knowledge_base_is_valid() {
        // Every cause names a catalogue id and every ecosystem one that ecosystems.toml
        // detects: the files do not load otherwise.
        let kb = load().unwrap_or_else(|e| panic!("{e}"));
        assert!(kb.entries.len() >= 60, "only {} entries", kb.entries.len());
        assert!(kb.ecosystem_names().count() >= 25);
        assert!(kb.fixes.len() >= 20);
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
