//! Client profiles (data/clients/*.toml) and the error texts each client prints
//! (data/client-errors.toml). A profile is the real ClientHello a client sends plus the
//! policy it applies to the server's answer; the simulator uses both.

mod errors;
mod profile;

pub use errors::{Failure, render_failure, render_verify_failure};
pub use profile::{
    ClientPolicy, ClientProfile, OcspBehaviour, TrustStoreKind, all_profiles, find_profile,
};
