//! Client profiles (data/clients/*.toml), the wording each client prints when it fails
//! (data/client-errors.toml) and OpenSSL's security levels (data/openssl-security-levels.toml).
//! A profile is the real ClientHello a client sends plus the policy it applies to the
//! server's answer; the simulator uses both.

mod keys;
mod profile;
mod recorded_files;
mod security_level;
mod wording;

pub use keys::{CertCause, ErrorStyle, Failure, HandshakeFailure};
pub use profile::{
    ClientPolicy, ClientProfile, OcspBehaviour, TrustStoreKind, all_profiles, every_profile,
    find_profile, profile_for_style, recorded_profiles, select_profiles,
};
pub use security_level::{SecurityLevel, SecurityLimits};
pub use wording::{
    BreakKey, CertTexts, CertVars, CertWording, certificate_breaks, certificate_failure_text,
    certificate_text, chain_analysis_styles, failure_text, ocsp_failure_text,
};
