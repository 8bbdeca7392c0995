//! `tlsdoctor check`: findings with their real client errors, fix artefacts, local
//! clients, and ports that do not speak TLS.

mod checks;
mod doctor;
mod error_texts;
mod fixes;
mod local_client;
mod not_tls;
