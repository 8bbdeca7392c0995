//! Stack-specific fixes for an explained message: what to change in the user's own client
//! (Node's NODE_EXTRA_CA_CERTS, a JVM truststore, git's http.sslCAInfo, ...), kept as data in
//! `data/errors/fixes.toml` and chosen by the cause and the detected ecosystem.

use serde::{Deserialize, Serialize};

use super::kb::{Applies, Side};
use crate::finding::FindingId;

const FIXES: &str = include_str!("../../data/errors/fixes.toml");

/// One fix: for these causes, in these ecosystems, do this.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackFix {
    pub findings: Vec<FindingId>,
    pub ecosystems: Vec<String>,
    /// Which side's messages the fix is for (default both): a mail server's trust settings
    /// for its own SMTP client are no fix for a client that rejected that server's certificate.
    #[serde(default)]
    pub side: Applies,
    pub lines: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixes {
    fix: Vec<StackFix>,
}

pub(crate) fn load() -> Result<Vec<StackFix>, String> {
    let raw: RawFixes = toml::from_str(FIXES).map_err(|e| format!("fixes.toml: {e}"))?;
    for f in &raw.fix {
        if f.findings.is_empty()
            || f.ecosystems.is_empty()
            || f.lines.iter().all(|l| l.trim().is_empty())
        {
            return Err(format!(
                "fixes.toml: a fix for {:?} needs findings, ecosystems and lines",
                f.ecosystems
            ));
        }
    }
    Ok(raw.fix)
}

/// The fix lines for `finding` in `ecosystem` for a message seen on `side`, falling back to
/// the ecosystem's family (requests → python, npm → node).
pub(crate) fn lookup<'a>(
    fixes: &'a [StackFix],
    finding: FindingId,
    ecosystem: &str,
    family: Option<&str>,
    side: Side,
) -> Option<&'a StackFix> {
    let for_eco = |eco: &str| {
        fixes.iter().find(|f| {
            f.side.admits(side)
                && f.findings.contains(&finding)
                && f.ecosystems.iter().any(|e| e == eco)
        })
    };
    for_eco(ecosystem).or_else(|| family.and_then(for_eco))
}
