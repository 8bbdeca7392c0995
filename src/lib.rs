//! tlsdoctor: why does this TLS connection fail, and what exactly do I change?
pub mod cert;
pub mod cli;
pub mod finding;
pub mod report;
// pub mod wire;  (being written)
// Until the wire module lands, expose only its finished `version` part (cert::fetch needs it).
pub mod wire {
    pub mod version;
}
mod deps_warm;
