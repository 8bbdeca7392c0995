//! Which side printed a message: a failing client, or a server writing its own log. The rules
//! are data (`data/errors/sides.toml`); a client rule wins over a server rule, so a proxy's log
//! line about its upstream ("while SSL handshaking to upstream") counts as a client's.

use regex::Regex;
use serde::Deserialize;

use super::kb::{Side, compile};

const SIDES: &str = include_str!("../../data/errors/sides.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSides {
    client: Vec<String>,
    server: Vec<String>,
}

pub(crate) struct SideRules {
    client: Vec<Regex>,
    server: Vec<Regex>,
}

impl SideRules {
    pub(crate) fn load() -> Result<SideRules, String> {
        let raw: RawSides = toml::from_str(SIDES).map_err(|e| format!("sides.toml: {e}"))?;
        let compile_all = |ps: &[String]| {
            ps.iter()
                .map(|p| compile(p).map_err(|m| format!("sides.toml: {m}")))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(SideRules {
            client: compile_all(&raw.client)?,
            server: compile_all(&raw.server)?,
        })
    }

    /// The side, and the text that showed it (None: nothing said so, a client is assumed).
    pub(crate) fn detect(&self, texts: &[&str]) -> (Side, Option<String>) {
        let find = |res: &[Regex]| {
            res.iter()
                .find_map(|re| texts.iter().find_map(|t| re.find(t)))
                .map(|m| m.as_str().to_string())
        };
        if let Some(m) = find(&self.client) {
            return (Side::Client, Some(m));
        }
        match find(&self.server) {
            Some(m) => (Side::Server, Some(m)),
            None => (Side::Client, None),
        }
    }
}
