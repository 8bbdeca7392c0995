//! Client-side configuration in force while `check` runs: the OpenSSL configuration that
//! OPENSSL_CONF names. The clients that read it (profile flag `reads_openssl_conf`, measured
//! per client) are simulated with its MinProtocol, MaxProtocol, security level and
//! UnsafeLegacyServerConnect; the others as they are.

use crate::clients::ClientProfile;
use std::collections::HashMap;

/// `profiles`, those that read OPENSSL_CONF adjusted to the file it names in `env`; the
/// adjusted ones say so in their name.
pub fn under_openssl_conf(
    profiles: Vec<ClientProfile>,
    env: &HashMap<String, String>,
) -> Vec<ClientProfile> {
    if env.get("OPENSSL_CONF").is_none_or(|v| v.is_empty()) {
        return profiles;
    }
    let report = crate::env::conf::analyze(None, env);
    let (Some(path), true) = (&report.path, report.exists) else {
        return profiles;
    };
    let e = &report.effect;
    let mut what = Vec::new();
    for (k, v) in [
        ("MinProtocol", &e.min_protocol),
        ("MaxProtocol", &e.max_protocol),
    ] {
        if let Some(v) = v {
            what.push(format!("{k} {v}"));
        }
    }
    if let Some(l) = e.security_level {
        what.push(format!("security level {l}"));
    }
    if e.unsafe_legacy_server_connect {
        what.push("UnsafeLegacyServerConnect".into());
    }
    if what.is_empty() {
        return profiles;
    }
    profiles
        .into_iter()
        .map(|mut p| {
            if p.policy.reads_openssl_conf {
                p.name = format!(
                    "{} (under OPENSSL_CONF={}: {})",
                    p.name,
                    path.display(),
                    what.join(", ")
                );
                p.narrowed_by = Some(path.clone());
                super::evidence::narrow_profile(
                    &mut p,
                    e.min_protocol.as_deref(),
                    e.max_protocol.as_deref(),
                    e.security_level,
                    e.unsafe_legacy_server_connect.then_some(true),
                );
            }
            p
        })
        .collect()
}
