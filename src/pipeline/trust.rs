//! Trust inputs → the trust stores a presented chain is judged against, loaded once per
//! request.

use super::PipelineError;
use super::request::TrustInputs;
use crate::cert::stores::{self, TrustStore};
use crate::env::ClientStack;
use crate::target::TargetSpec;

/// Trust inputs with the CA file read (and so checked) before any connection.
pub(crate) struct LoadedTrust {
    cafile: Option<TrustStore>,
}

impl TrustInputs {
    /// The inputs of `check`: with no CA file given, a `mongodb://` target's `tlsCAFile`
    /// (what the driver itself would trust).
    pub(crate) fn with_target_default(&self, spec: &TargetSpec) -> TrustInputs {
        TrustInputs {
            cafile: self
                .cafile
                .clone()
                .or_else(|| spec.mongo.as_ref().and_then(|m| m.ca_file.clone())),
        }
    }

    /// Read the CA file; one that cannot be read or holds no certificate is an error.
    pub(crate) fn load(&self) -> Result<LoadedTrust, PipelineError> {
        let cafile = match &self.cafile {
            Some(path) => {
                let mut s = stores::from_file(path)?;
                // The client in question reads this file instead of the system store.
                s.name = "system".into();
                s.source = format!("--cafile {}", path.display());
                Some(s)
            }
            None => None,
        };
        Ok(LoadedTrust { cafile })
    }
}

impl LoadedTrust {
    /// Mozilla's store, and the one the user's client reads: the CA file, else a local
    /// client's configured bundle, else the system store.
    pub(crate) fn stores(self, local: Option<&ClientStack>) -> Vec<TrustStore> {
        let mut out = vec![stores::mozilla()];
        if let Some(s) = self.cafile {
            out.push(s);
        } else if let Some(l) = local.filter(|l| l.cafile.is_some() || l.capath.is_some()) {
            out.push(stores::from_paths(
                "system",
                l.cafile.as_deref(),
                l.capath.as_deref(),
            ));
        } else {
            out.push(stores::system());
        }
        out
    }
}
