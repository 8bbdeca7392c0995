//! Where trust stores and interpreters usually live (`data/env/paths.toml`). Only read.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[derive(Deserialize)]
pub(crate) struct KnownPaths {
    /// System CA bundle files.
    pub system_bundles: Vec<String>,
    /// System hashed certificate directories.
    pub system_dirs: Vec<String>,
    /// Directories whose subdirectories are Python installations.
    pub python_version_dirs: Vec<String>,
    /// Single Python installations.
    pub python_prefixes: Vec<String>,
}

pub(crate) fn known_paths() -> &'static KnownPaths {
    static P: OnceLock<KnownPaths> = OnceLock::new();
    P.get_or_init(|| {
        toml::from_str(include_str!("../../data/env/paths.toml"))
            .expect("data/env/paths.toml is valid (checked by a unit test)")
    })
}

/// `~/x` against the HOME of `env`; `None` when HOME is unset or empty.
pub(crate) fn home_expand(p: &str, env: &HashMap<String, String>) -> Option<PathBuf> {
    match p.strip_prefix("~/") {
        Some(rest) => env
            .get("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| Path::new(h).join(rest)),
        None => Some(PathBuf::from(p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_file_parses() {
        assert!(!known_paths().system_bundles.is_empty());
        assert!(!known_paths().python_version_dirs.is_empty());
    }

    #[test]
    fn home_expansion() {
        let env: HashMap<String, String> = [("HOME".to_string(), "/h".to_string())].into();
        assert_eq!(home_expand("~/x", &env), Some(PathBuf::from("/h/x")));
        assert_eq!(home_expand("/opt/y", &env), Some(PathBuf::from("/opt/y")));
        assert_eq!(home_expand("~/x", &HashMap::new()), None);
    }
}
