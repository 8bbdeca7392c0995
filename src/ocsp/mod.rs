//! OCSP: stapled responses and responders. Parse fully, validate as a careful client does,
//! query the responder a certificate names, and turn the results into findings.

pub mod check;
pub mod parse;
pub mod responder;
mod tlv;
pub mod verify;

pub use check::{OcspReport, QueryPolicy, StapleCheck, check, client_rejects, findings};
pub use parse::{ParsedResponse, parse_response};
pub use verify::{CLOCK_SKEW_SECS, Problem, ProblemKind, Signer, Subject, Verdict, validate};
