//! The verdict of one diagnosis: do connections fail, or is the only problem one of security
//! (a revoked certificate that clients without revocation checking accept)? `check` reports
//! the two apart, in its headline and in its exit code (README, "Exit codes").

use crate::finding::catalogue::entry;
use crate::finding::{Finding, Severity};
use serde::Serialize;

/// Ordered from best to worst, so the worst of several diagnoses is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// No finding of severity error.
    Healthy,
    /// Every error finding is a security problem (`security = true` in data/findings.toml):
    /// the connection should not be trusted, but only the clients that check for it refuse.
    SecurityProblem,
    /// An error finding that makes clients fail to connect.
    ConnectionsFail,
}

/// Whether an error finding is a security problem rather than a connection failure.
pub fn is_security_problem(f: &Finding) -> bool {
    entry(f.id).security
}

pub fn verdict(findings: &[Finding]) -> Verdict {
    let errors = findings.iter().filter(|f| f.severity == Severity::Error);
    let mut v = Verdict::Healthy;
    for f in errors {
        v = v.max(if is_security_problem(f) {
            Verdict::SecurityProblem
        } else {
            Verdict::ConnectionsFail
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::FindingId;
    use crate::finding::catalogue::finding;

    #[test]
    fn revocation_alone_is_a_security_problem() {
        let revoked = finding(FindingId::CertRevoked, &[]);
        let staple = finding(FindingId::OcspStapleRevoked, &[]);
        let expired = finding(
            FindingId::CertExpired,
            &[
                ("role", "server".into()),
                ("subject", "x".into()),
                ("not_after", "2020-01-01".into()),
            ],
        );
        let soon = finding(
            FindingId::CertExpiresSoon,
            &[
                ("role", "server".into()),
                ("subject", "x".into()),
                ("days", "3".into()),
            ],
        );
        assert_eq!(verdict(&[]), Verdict::Healthy);
        assert_eq!(verdict(std::slice::from_ref(&soon)), Verdict::Healthy);
        assert_eq!(
            verdict(&[revoked.clone(), staple]),
            Verdict::SecurityProblem
        );
        assert_eq!(verdict(&[revoked, expired]), Verdict::ConnectionsFail);
    }
}
