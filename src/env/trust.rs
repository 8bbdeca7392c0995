//! The trust stores on this machine that no single program owns: the system CA bundles and
//! hashed directories, OPENSSLDIR's, and the environment variables (`SSL_CERT_FILE`, ...) that
//! replace or extend a client's store (`data/env/variables.toml`).

use super::bundle::{self, BundleInfo};
use super::paths::known_paths;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::OnceLock;

/// A CA bundle or certificate directory found on this machine (not to be confused with
/// [`crate::cert::TrustStore`], the anchors a chain is verified against).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalTrustStore {
    /// `system bundle`, `system directory`, `OPENSSLDIR bundle`, `OPENSSLDIR directory`.
    pub role: String,
    pub info: BundleInfo,
}

/// One trust-store environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvVarCheck {
    pub name: String,
    /// Unset variables are listed too (value `None`), so the report shows they were checked.
    pub value: Option<String>,
    /// Who reads it and what it does.
    pub effect: String,
    /// Contents, when set.
    pub bundle: Option<BundleInfo>,
}

/// One entry of `data/env/variables.toml`.
#[derive(Deserialize)]
pub(crate) struct VariableDef {
    pub name: String,
    /// `file` (a PEM bundle) or `dir` (a hashed certificate directory).
    pub kind: String,
    pub used_by: String,
    /// What the client prints when the variable points nowhere (`{path}` replaced).
    pub error: String,
}

#[derive(Deserialize)]
struct VariableDefs {
    variable: Vec<VariableDef>,
}

pub(crate) fn variable_defs() -> &'static [VariableDef] {
    static V: OnceLock<VariableDefs> = OnceLock::new();
    &V.get_or_init(|| {
        toml::from_str(include_str!("../../data/env/variables.toml"))
            .expect("data/env/variables.toml is valid (checked by a unit test)")
    })
    .variable
}

/// The system stores and OPENSSLDIR's that exist, each real file or directory once.
pub(crate) fn local_trust_stores(openssl_dir: Option<&Path>) -> Vec<LocalTrustStore> {
    let kp = known_paths();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |role: &str, info: BundleInfo| {
        let key = std::fs::canonicalize(&info.path).unwrap_or(info.path.clone());
        if info.exists && seen.insert(key) {
            out.push(LocalTrustStore {
                role: role.into(),
                info,
            });
        }
    };
    for f in &kp.system_bundles {
        add("system bundle", bundle::inspect_file(Path::new(f)));
    }
    for d in &kp.system_dirs {
        add("system directory", bundle::inspect_dir(Path::new(d)));
    }
    if let Some(dir) = openssl_dir {
        add(
            "OPENSSLDIR bundle (cert.pem)",
            bundle::inspect_file(&dir.join("cert.pem")),
        );
        add(
            "OPENSSLDIR directory (certs/)",
            bundle::inspect_dir(&dir.join("certs")),
        );
    }
    out
}

/// Every variable of the data file, set or not, with the contents of what it points to.
pub(crate) fn variables(env: &HashMap<String, String>) -> Vec<EnvVarCheck> {
    variable_defs()
        .iter()
        .map(|def| {
            let value = env.get(&def.name).cloned();
            let bundle = value.as_ref().filter(|v| !v.is_empty()).map(|v| {
                if def.kind == "dir" {
                    bundle::inspect_dir(Path::new(v))
                } else {
                    bundle::inspect_file(Path::new(v))
                }
            });
            EnvVarCheck {
                name: def.name.clone(),
                value,
                effect: def.used_by.clone(),
                bundle,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_data_parses() {
        assert!(variable_defs().iter().any(|d| d.name == "SSL_CERT_FILE"));
        assert!(
            variable_defs()
                .iter()
                .all(|d| d.kind == "file" || d.kind == "dir")
        );
    }

    #[test]
    fn unset_variables_are_listed() {
        let checks = variables(&HashMap::new());
        assert_eq!(checks.len(), variable_defs().len());
        assert!(
            checks
                .iter()
                .all(|c| c.value.is_none() && c.bundle.is_none())
        );
    }
}
