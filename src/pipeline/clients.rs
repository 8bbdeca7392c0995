//! Which clients a check examines: a named profile, a client found on this machine (whose
//! real settings then drive the simulation), or every current profile.

use super::PipelineError;
use crate::clients::{ClientProfile, all_profiles, find_profile};
use crate::env::{ClientStack, EnvOptions, local_client};

/// The clients of one check: the profiles to simulate, and the local client they stand for.
pub(crate) struct CheckClients {
    /// Already adjusted to `local` when there is one.
    pub profiles: Vec<ClientProfile>,
    pub local: Option<ClientStack>,
}

/// Resolve `--client`: a path names a local program (its kind picks the profile); a profile
/// name that also lives on this machine is inspected there too; None means every current
/// profile.
pub(crate) async fn for_check(client: Option<&str>) -> Result<CheckClients, PipelineError> {
    let mut local = None;
    // A client tlsdoctor can only observe (no recorded profile, e.g. Go) narrows the live
    // run, not the predictions: every current profile is still simulated.
    let client = client.filter(|c| !crate::live::observed_only(c));
    let mut profile_name = client.map(str::to_string);
    if let Some(name) = client {
        let is_path = name.contains('/');
        if is_path || find_profile(name).is_some() {
            local = local_client(name, &EnvOptions::default()).await;
            if is_path {
                match &local {
                    Some(stack) => profile_name = Some(profile_kind_for_local(stack).to_string()),
                    None => {
                        return Err(PipelineError::Client(format!(
                            "no TLS client found at '{name}'"
                        )));
                    }
                }
            }
        }
    }
    let mut profiles = profiles_for(profile_name.as_deref()).map_err(PipelineError::Client)?;
    if let Some(stack) = &local {
        profiles = profiles
            .iter()
            .map(|p| crate::doctor::adjust_profile(p, stack))
            .collect();
    } else {
        // The OpenSSL configuration in force for this run applies to the clients that read it.
        let env = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        profiles = crate::doctor::under_openssl_conf(profiles, &env);
    }
    Ok(CheckClients { profiles, local })
}

/// The profile a local client corresponds to.
fn profile_kind_for_local(stack: &ClientStack) -> &'static str {
    match stack.kind.as_str() {
        "python" => "python",
        "curl" => "curl",
        _ => "openssl",
    }
}

/// The profiles a check simulates: the named one, or every current built-in profile (old
/// stacks only when named).
pub(crate) fn profiles_for(client: Option<&str>) -> Result<Vec<ClientProfile>, String> {
    match client {
        None => Ok(all_profiles()
            .iter()
            .filter(|p| p.current)
            .cloned()
            .collect()),
        Some(name) => match find_profile(name) {
            Some(p) => Ok(vec![p.clone()]),
            None => {
                let known: Vec<&str> = all_profiles().iter().map(|p| p.id.as_str()).collect();
                Err(format!(
                    "unknown client '{name}' (known: {})",
                    known.join(", ")
                ))
            }
        },
    }
}
