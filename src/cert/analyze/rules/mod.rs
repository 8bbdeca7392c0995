//! The rule families. Each reads the linked path (and what the stores said) and adds one
//! finding per cause it finds, built from the catalogue (data/findings.toml) with the
//! evidence measured here and the texts each client prints.

pub(super) mod critical;
pub(super) mod hostname;
pub(super) mod name_constraints;
pub(super) mod order;
pub(super) mod strength;
pub(super) mod trust;
pub(super) mod usage;
pub(super) mod validity;
