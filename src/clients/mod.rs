//! Client profiles (data/clients/*.toml) and the error texts each client prints
//! (data/client-errors.toml). A profile is the real ClientHello a client sends plus the
//! policy it applies to the server's answer; the simulator uses both.

mod errors;
mod profile;
mod recorded_files;

pub use errors::{Failure, render_cert_failure, render_failure, render_verify_failure};
pub use profile::{
    ClientPolicy, ClientProfile, OcspBehaviour, TrustStoreKind, all_profiles, every_profile,
    find_profile, recorded_profiles, select_profiles,
};
