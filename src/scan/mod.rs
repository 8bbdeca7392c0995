//! The scan, and the registry of its checks.
//!
//! Each check is its own module with a unit struct implementing [`Check`]: the probe jobs
//! it needs, run concurrently through the shared [`Prober`](crate::probe::Prober) (which
//! enforces the per-server connection cap), then a fold of their answers into typed
//! evidence, then the findings that evidence shows on its own. [`CHECKS`] below lists every
//! check once; [`scan_server`] runs the selected ones (the protocol versions first: every
//! other check plans from them). The scan measures and never judges against trust stores
//! or client profiles: the chain it sees is analysed, and its staples validated, by whoever
//! asked for the measurement ([`measure()`]). Rendering is in [`crate::report`].
//!
//! Adding a check: a module here implementing [`Check`], one line in `registry!` below
//! (under `extra:`, with the JSON key of its evidence), its findings in data/findings.toml.
//! docs/architecture.md walks through it.

pub mod check;
pub mod cipher_order;
pub mod ciphers;
pub mod early_data;
pub mod groups;
pub mod measure;
pub mod plaintext;
pub mod properties;
pub mod resumption;
pub mod schedule;
pub mod schedule_order;
mod server;
mod server_json;
pub mod strength;
pub mod versions;
pub mod vuln_ccs;
pub mod vuln_drown_peers;
pub mod vuln_heartbleed;
pub mod vuln_intolerance;
pub mod vuln_poodle_tls;
pub mod vuln_recording;
pub mod vuln_renegotiation;
pub mod vuln_renegotiation_cbc;
pub mod vuln_reply;
pub mod vuln_robot;
pub mod vuln_ticketbleed;

pub use check::{Basis, Check, Registered, Selection, Slot, Stage, SummaryLine, UnknownCheck};
pub use measure::{FullHandshakes, Measurement, PresentedChain, Staple, measure};
pub use server::{ScanContext, ScanError, ServerScan, scan_server};

use serde::{Deserialize, Serialize};

/// Lists every check once, in the order the scan stores and reports their evidence, and
/// gives each check beyond the core ones its field in [`ExtraEvidence`] (its JSON key in
/// the scan document) and its [`Slot`].
macro_rules! registry {
    (
        core: [$($core:path),* $(,)?],
        extra: [$($field:ident: $extra:path),* $(,)?] $(,)?
    ) => {
        /// Every check: the core ones (whose evidence has its own fields in [`ServerScan`]),
        /// then the others.
        pub static CHECKS: &[&dyn Registered] = &[$(&$core,)* $(&$extra,)*];

        /// The evidence of the checks beyond the core ones, each under its own key; `None`
        /// (and absent from JSON) when the check did not run.
        #[derive(Debug, Clone, Default, Serialize, Deserialize)]
        pub struct ExtraEvidence {
            $(
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<<$extra as Check>::Evidence>,
            )*
        }

        $(
            impl Slot for $extra {
                fn store(evidence: <$extra as Check>::Evidence, scan: &mut ServerScan) {
                    scan.extra.$field = Some(evidence);
                }
                fn load(scan: &ServerScan) -> Option<std::borrow::Cow<'_, <$extra as Check>::Evidence>> {
                    scan.extra.$field.as_ref().map(std::borrow::Cow::Borrowed)
                }
            }
        )*
    };
}

registry! {
    core: [
        versions::Protocols,
        ciphers::Suites,
        groups::Groups,
        properties::Properties,
        resumption::Resumption,
    ],
    extra: [
        early_data: early_data::EarlyData,
        heartbleed: vuln_heartbleed::Heartbleed,
        ccs_injection: vuln_ccs::CcsInjection,
        ticketbleed: vuln_ticketbleed::Ticketbleed,
        intolerance: vuln_intolerance::Intolerance,
        client_renegotiation: vuln_renegotiation::ClientRenegotiation,
        robot: vuln_robot::Robot,
        poodle_tls: vuln_poodle_tls::PoodleTls,
        drown_peers: vuln_drown_peers::DrownPeers,
    ],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_are_unique_kebab_case_and_one_basis_stage() {
        let mut names: Vec<&str> = CHECKS.iter().map(|c| c.name()).collect();
        for n in &names {
            assert!(
                !n.is_empty()
                    && n.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                    && *n != "default",
                "check name {n:?} is not kebab-case (or is the reserved word `default`)"
            );
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CHECKS.len(), "two checks share a name");
        let basis: Vec<&str> = CHECKS
            .iter()
            .filter(|c| c.stage() == Stage::Basis)
            .map(|c| c.name())
            .collect();
        assert_eq!(basis, ["protocols"]);
    }

    #[test]
    fn selection_by_name() {
        let default = Selection::default();
        for c in CHECKS {
            assert_eq!(
                default.runs(*c),
                c.by_default() || c.stage() == Stage::Basis
            );
        }
        let every: Vec<&str> = CHECKS.iter().map(|c| c.name()).collect();
        let all = Selection::parse(&every.join(",")).unwrap();
        assert!(CHECKS.iter().all(|c| all.runs(*c)));
        assert_eq!(Selection::parse("default").unwrap(), default);
        let only = Selection::parse(" suites ,").unwrap();
        let runs: Vec<&str> = CHECKS
            .iter()
            .filter(|c| only.runs(**c))
            .map(|c| c.name())
            .collect();
        assert_eq!(runs, ["protocols", "suites"], "the basis stage always runs");
        let err = Selection::parse("suites,no-such-check").unwrap_err();
        assert_eq!(err.name, "no-such-check");
        assert!(err.known.contains("resumption"), "{err}");
        assert!(err.known.contains("vulns (the group: "), "{err}");
    }

    #[test]
    fn groups_select_their_checks_and_never_share_a_check_name() {
        let names: Vec<&str> = CHECKS.iter().map(|c| c.name()).collect();
        for g in CHECKS.iter().filter_map(|c| c.group()) {
            assert!(!names.contains(&g), "group {g:?} is also a check's name");
            let sel = Selection::parse(g).unwrap();
            for c in CHECKS {
                assert_eq!(
                    sel.runs(*c),
                    c.group() == Some(g) || c.stage() == Stage::Basis,
                    "{g}: {}",
                    c.name()
                );
            }
        }
        let vulns = Selection::parse("vulns").unwrap();
        assert!(vulns.names().any(|n| n == "heartbleed"));
        assert!(
            CHECKS
                .iter()
                .filter(|c| c.group() == Some("vulns"))
                .all(|c| !c.by_default()),
            "the active vulnerability probes run only when asked for"
        );
    }
}
