//! Cipher-suite enumeration and the server's preference.
//!
//! Enumeration is by elimination: offer a set, note the suite the server picks, remove it,
//! offer the rest again, until the server refuses. That needs one handshake per accepted
//! suite plus one per chain of candidates, instead of one per registry entry. The version
//! probe is the first step; what follows depends on whether the server has an order of
//! its own to reveal (see [`enumerate`]).

use super::ScanContext;
use super::check::{Basis, Check, Job};
use super::schedule;
use super::strength::{self, Strength, StrengthLevel};
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};
use crate::probe::ProbeOutcome;
use crate::wire::suites::{self, CipherSuite, CipherSuiteId};
use crate::wire::{ClientHello, Codec, ProtocolVersion, Sslv2ClientHello};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

/// How many parallel elimination chains one version's candidates are split into, where
/// the server follows the client's order.
const CHAINS: usize = 4;

/// Where the server has an order of its own: how many candidates per block of parallel
/// elimination, and at most how many blocks (see [`crate::scan::schedule_order`]). A block
/// costs one refusal and one merge probe more than a single chain; fewer, longer blocks
/// cost round trips instead. Five at most: on bench server b (OpenSSL's ALL, 91 suites) twelve
/// blocks cost 196 connections, more than sslscan's 184, five 181.
const PER_BLOCK: usize = 10;
pub const MOST_BLOCKS: usize = 5;

/// One accepted cipher suite, described.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AcceptedSuite {
    pub id: String,
    pub iana: String,
    pub openssl: Option<String>,
    pub kx: String,
    pub auth: String,
    pub enc: String,
    pub bits: u16,
    pub mac: String,
    /// None for ids the registry does not know.
    pub strength: Option<Strength>,
}

impl AcceptedSuite {
    fn from_registry(id: u32) -> AcceptedSuite {
        match suites::by_id(id) {
            Some(s) => AcceptedSuite::from(s),
            None => AcceptedSuite {
                id: format!("0x{id:04x}"),
                iana: format!("unassigned 0x{id:04x}"),
                openssl: None,
                kx: "?".into(),
                auth: "?".into(),
                enc: "?".into(),
                bits: 0,
                mac: "?".into(),
                strength: None,
            },
        }
    }
}

impl From<&CipherSuite> for AcceptedSuite {
    fn from(s: &CipherSuite) -> Self {
        AcceptedSuite {
            id: if s.id > 0xffff {
                format!("0x{:06x}", s.id)
            } else {
                format!("0x{:04x}", s.id)
            },
            iana: s.iana.to_string(),
            openssl: s.openssl.map(str::to_string),
            kx: s.kx.to_string(),
            auth: s.auth.to_string(),
            enc: s.enc.to_string(),
            bits: s.bits,
            mac: s.mac.to_string(),
            strength: Some(strength::rate(s)),
        }
    }
}

/// The suites one protocol version accepts, and whose order wins.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionSuites {
    pub version: ProtocolVersion,
    /// Whether the server picks by its own order (true), the client's (false), or unknown
    /// (fewer than two suites).
    pub server_preference: Option<bool>,
    /// Accepted suites: in the server's order when it enforces one, else in registry order.
    pub suites: Vec<AcceptedSuite>,
}

/// The suites of every accepted version, and whose order wins: one job per version.
pub struct Suites;

impl Check for Suites {
    const NAME: &'static str = "suites";
    const TITLE: &'static str = "Cipher suites";
    type Answer = VersionSuites;
    type Evidence = Vec<VersionSuites>;

    /// One job per accepted version. Where SSL 3.0 to TLS 1.1 show an order of the
    /// server's own, it is usually TLS 1.2's (OpenSSL keeps one list): they then wait for
    /// TLS 1.2's suites and confirm that order in one round (`schedule::confirm_order`).
    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, VersionSuites>> {
        use futures::FutureExt;
        let accepted = basis.accepted();
        let tls12 = accepted.contains(&ProtocolVersion::Tls12).then(|| {
            let v = ProtocolVersion::Tls12;
            let job: Job<'a, VersionSuites> = Box::pin(enumerate_version(
                basis.ctx,
                v,
                basis.version_probe(v),
                None,
            ));
            job.shared()
        });
        let head = basis.head_start();
        accepted
            .into_iter()
            .map(|v| -> Job<'a, VersionSuites> {
                let probe = basis.version_probe(v);
                let job: Job<'a, VersionSuites> = match &tls12 {
                    Some(t) if v == ProtocolVersion::Tls12 => Box::pin(t.clone()),
                    Some(t) if follows_tls12(v) => {
                        let t = t.clone();
                        let guess: BoxFuture<'a, Vec<CipherSuiteId>> = Box::pin(async move {
                            let known = t.await;
                            if known.server_preference == Some(true) {
                                suite_ids(&known)
                            } else {
                                Vec::new()
                            }
                        });
                        Box::pin(enumerate_version(basis.ctx, v, probe, Some(guess)))
                    }
                    _ => Box::pin(enumerate_version(basis.ctx, v, probe, None)),
                };
                // Published for the checks whose probe the suites may make needless.
                Box::pin(async move {
                    let found = job.await;
                    if let Some(h) = head {
                        h.suites_found(v, suite_ids(&found));
                    }
                    found
                })
            })
            .collect()
    }

    fn fold(&self, _: &Basis<'_>, answers: Vec<VersionSuites>) -> Vec<VersionSuites> {
        answers
    }

    /// Suites rated insecure, with the reasons.
    fn findings(&self, suites: &Vec<VersionSuites>) -> Vec<Finding> {
        let insecure: Vec<String> = suites
            .iter()
            .flat_map(|vs| vs.suites.iter())
            .filter_map(|s| {
                let st = s.strength.as_ref()?;
                (st.level == StrengthLevel::Insecure).then(|| {
                    format!(
                        "{} ({})",
                        s.openssl.clone().unwrap_or_else(|| s.iana.clone()),
                        st.reasons.join(", ")
                    )
                })
            })
            .collect();
        if insecure.is_empty() {
            return Vec::new();
        }
        let list = insecure.join(", ");
        vec![
            finding(FindingId::InsecureCipherSuites, &[("suites", list.clone())])
                .evidence(format!("accepted: {list}")),
        ]
    }
}

/// Candidates for `v`: TLS 1.3 suites for TLS 1.3, else every registry suite allowed in `v`.
pub fn candidates(v: ProtocolVersion) -> Vec<CipherSuiteId> {
    candidates_where(v, |_| true)
}

/// The candidates for `v` that satisfy `keep` (e.g. only ECDHE key exchange).
pub fn candidates_where(
    v: ProtocolVersion,
    keep: impl Fn(&CipherSuite) -> bool,
) -> Vec<CipherSuiteId> {
    match v {
        ProtocolVersion::Tls13 => suites::tls13_suites()
            .filter(|s| keep(s))
            .map(|s| CipherSuiteId(s.id as u16))
            .collect(),
        _ => suites::tls_suites()
            .filter(|s| offered_in(s, v) && keep(s))
            .map(|s| CipherSuiteId(s.id as u16))
            .collect(),
    }
}

/// Whether scans offer suite `s` when probing SSLv3 to TLS 1.2 version `v`: wherever
/// [`CipherSuite::versions`] allows it, and also the ECDH/ECDHE suites that the RFCs (and
/// OpenSSL 3) start at TLS 1.0 when probing SSLv3, because servers do negotiate those in SSLv3
/// (tlslite-ng picks ECDHE-RSA-AES256-SHA there; tests/integration/scan/legacy_versions.rs measures it).
/// Leaving them out would hide them from the SSLv3 suite list, and hide SSLv3 entirely on a
/// server whose SSLv3 suites are all ECDHE.
pub fn offered_in(s: &CipherSuite, v: ProtocolVersion) -> bool {
    let (lo, hi) = s.versions();
    let ecc_in_ssl3 = v == ProtocolVersion::Ssl3
        && lo == ProtocolVersion::Tls10
        && matches!(s.kx, "ECDH" | "ECDHE");
    (lo <= v || ecc_in_ssl3) && v <= hi
}

/// What suite enumeration asks of a server: the suite it picks from `offer` in version `v`,
/// if it accepts any. The scan asks the real server ([`pick`]); the scheduler's tests ask a
/// simulated one in virtual time.
pub trait Picker: Sync {
    /// How many connections to the server may be open at once (`--max-connections`).
    fn cap(&self) -> usize;

    /// Whether round 2 may verify OpenSSL's predicted order ([`super::cipher_order`]). Its
    /// offers go out together and stop at the first contradiction, so how many were sent
    /// by then depends on timing: worth it for a far server, where they save round trips,
    /// not for a near one, whose scans keep the same connection count from run to run.
    fn verifies_predicted_order(&self) -> bool {
        true
    }

    /// Whether TLS 1.3's usual suites are asked one by one in round 2
    /// ([`schedule::enumerate_alone`]): for a far server, where that saves the rounds of an
    /// elimination for a few connections more or less.
    fn asks_usual_alone(&self) -> bool {
        false
    }

    fn pick<'a>(
        &'a self,
        v: ProtocolVersion,
        offer: &'a [CipherSuiteId],
    ) -> BoxFuture<'a, Option<CipherSuiteId>>;
}

impl Picker for ScanContext {
    fn cap(&self) -> usize {
        self.prober.config().max_connections
    }

    fn verifies_predicted_order(&self) -> bool {
        self.prober.is_far()
    }

    fn asks_usual_alone(&self) -> bool {
        self.prober.is_far()
    }

    fn pick<'a>(
        &'a self,
        v: ProtocolVersion,
        offer: &'a [CipherSuiteId],
    ) -> BoxFuture<'a, Option<CipherSuiteId>> {
        Box::pin(pick(self, v, offer))
    }
}

/// The suites of `v`, the version probe's pick the first step; `guess`: the order another
/// version showed, to confirm where `v` has one of its own ([`enumerate_guessing`]).
async fn enumerate_version<'a>(
    ctx: &'a ScanContext,
    v: ProtocolVersion,
    version_probe: Option<&ProbeOutcome>,
    guess: Option<BoxFuture<'a, Vec<CipherSuiteId>>>,
) -> VersionSuites {
    if v == ProtocolVersion::Ssl2 {
        return sslv2_kinds(ctx, version_probe).await;
    }
    let first = version_probe.and_then(|o| picked_by(v, o));
    let found = enumerate_guessing(ctx, v, &candidates(v), first, guess).await;
    VersionSuites {
        version: v,
        server_preference: found.server_preference,
        suites: found
            .suites
            .iter()
            .map(|&id| AcceptedSuite::from_registry(u32::from(id.0)))
            .collect(),
    }
}

/// The versions whose suites are confirmed from TLS 1.2's order: SSL 3.0 to TLS 1.1.
fn follows_tls12(v: ProtocolVersion) -> bool {
    matches!(
        v,
        ProtocolVersion::Ssl3 | ProtocolVersion::Tls10 | ProtocolVersion::Tls11
    )
}

/// The ids of `known`'s suites, in its order.
fn suite_ids(known: &VersionSuites) -> Vec<CipherSuiteId> {
    known
        .suites
        .iter()
        .filter_map(|s| u16::from_str_radix(s.id.strip_prefix("0x")?, 16).ok())
        .map(CipherSuiteId)
        .collect()
}

/// The suite the version probe of `v` (which offered every candidate, as [`pick`] does)
/// saw the server pick: the first step of the enumeration, already taken.
fn picked_by(v: ProtocolVersion, outcome: &ProbeOutcome) -> Option<CipherSuiteId> {
    let sh = outcome.flight()?.server_hello.as_ref()?;
    (sh.negotiated_version() == v).then_some(sh.cipher_suite)
}

/// What the enumeration of one version found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enumerated {
    /// In the server's order when it enforces one, else in the order of `all`.
    pub suites: Vec<CipherSuiteId>,
    pub server_preference: Option<bool>,
}

/// Enumerate the suites of `v` among `all` (in the order clients offer them), given the
/// server's pick from all of them when the version probe already made it (`first`): see
/// [`schedule::enumerate`] for the rounds.
pub async fn enumerate<P: Picker + ?Sized>(
    server: &P,
    v: ProtocolVersion,
    all: &[CipherSuiteId],
    first: Option<CipherSuiteId>,
) -> Enumerated {
    enumerate_guessing(server, v, all, first, None).await
}

/// [`enumerate`], confirming `guess` (another version's order) where `v` shows an order of
/// the server's own ([`schedule::enumerate_guessing`]).
pub async fn enumerate_guessing<'g, P: Picker + ?Sized>(
    server: &P,
    v: ProtocolVersion,
    all: &[CipherSuiteId],
    first: Option<CipherSuiteId>,
    guess: Option<BoxFuture<'g, Vec<CipherSuiteId>>>,
) -> Enumerated {
    let ask = asker(server, v);
    let (prior, likely) = likely_order(all);
    // Where the first pick is the head of OpenSSL's order, round 2 verifies that order.
    let predicted = first
        .filter(|_| server.verifies_predicted_order())
        .map(|p1| super::cipher_order::predicted(v, p1))
        .unwrap_or_default();
    let predicted_head = predicted.iter().find(|x| all.contains(x));
    let alone_from = first.filter(|p1| {
        v == ProtocolVersion::Tls13 && server.asks_usual_alone() && predicted_head != Some(p1)
    });
    if let Some(p1) = alone_from {
        let found =
            schedule::enumerate_alone(&ask, all, p1, None, &usual_tls13_suites(), CHAINS).await;
        return Enumerated {
            suites: found.items,
            server_preference: found.own_order,
        };
    }
    let own = schedule::OwnOrder {
        prior: &prior,
        likely,
        blocks: blocks(likely, server.cap()),
        predicted: &predicted,
    };
    let found = schedule::enumerate_guessing(&ask, all, first, CHAINS, own, guess).await;
    Enumerated {
        suites: found.items,
        server_preference: found.own_order,
    }
}

/// The TLS 1.3 suites servers accept: the five of RFC 8446 (B.4), in the order of OpenSSL's
/// default list (data/openssl-cipher-order.tsv) and then the two CCM suites it leaves out.
/// The registry's others (SM4, GOST, AEGIS, integrity-only) are rare enough to be offered
/// together.
pub fn usual_tls13_suites() -> Vec<CipherSuiteId> {
    let rfc8446 = |id: &CipherSuiteId| (0x1301..=0x1305).contains(&id.0);
    let mut usual: Vec<CipherSuiteId> = super::cipher_order::openssl_order()
        .iter()
        .copied()
        .filter(rfc8446)
        .collect();
    let ccm: Vec<CipherSuiteId> = candidates(ProtocolVersion::Tls13)
        .into_iter()
        .filter(|id| rfc8446(id) && !usual.contains(id))
        .collect();
    usual.extend(ccm);
    usual
}

/// The candidates in the order servers commonly prefer them, and how many of the first are
/// plausible at all. A guess that only speeds the enumeration up (blocks that hold
/// stretches of the server's order merge with few probes); a wrong one costs probes, not
/// correctness. Plausible: the key exchanges and signatures of ordinary certificates
/// (ECDHE, DHE, RSA; RSA, ECDSA, DSS or none), not PSK, SRP, Kerberos, GOST or static DH.
/// Preferred: forward secrecy, then AEAD, then SHA-2 over SHA-1 and MD5, then longer keys,
/// ECDHE before DHE, authenticated before anonymous; export and NULL last.
pub fn likely_order(all: &[CipherSuiteId]) -> (Vec<CipherSuiteId>, usize) {
    let key = |id: &CipherSuiteId| {
        let Some(s) = suites::by_id(u32::from(id.0)) else {
            return (true, true, true, true, true, 0, true, true);
        };
        let plausible = matches!(s.kx, "ECDHE" | "DHE" | "RSA" | "any")
            && matches!(s.auth, "RSA" | "ECDSA" | "DSS" | "anon" | "any");
        let weak = s.export || s.bits == 0;
        (
            !plausible,
            weak,
            !s.forward_secret(),
            !s.aead(),
            matches!(s.mac, "SHA" | "MD5"),
            u16::MAX - s.bits,
            s.kx != "ECDHE",
            s.is_anonymous(),
        )
    };
    let mut prior = all.to_vec();
    prior.sort_by_key(key);
    let likely = prior.iter().take_while(|id| !key(id).0).count();
    (prior, likely)
}

/// How many blocks a version's `likely` plausible candidates are cut into (one more holds
/// the rest) under a cap of `cap` connections at once: about one per `PER_BLOCK`
/// candidates, at most [`MOST_BLOCKS`], and no more than half the cap, which the versions
/// enumerated together share (beyond it, blocks only add connections that wait for slots).
fn blocks(likely: usize, cap: usize) -> usize {
    (likely / PER_BLOCK + 1).min(MOST_BLOCKS).min(cap.max(1))
}

/// [`Picker::pick`] as an enumeration asks it.
fn asker<'a, P: Picker + ?Sized>(
    server: &'a P,
    v: ProtocolVersion,
) -> impl Fn(Vec<CipherSuiteId>) -> BoxFuture<'a, Option<CipherSuiteId>> + Sync + 'a {
    move |offer| Box::pin(async move { server.pick(v, &offer).await })
}

/// The suite the server picks from `offer` in version `v`, if it accepts any.
pub async fn pick(
    ctx: &ScanContext,
    v: ProtocolVersion,
    offer: &[CipherSuiteId],
) -> Option<CipherSuiteId> {
    let mut ids = offer.to_vec();
    if v != ProtocolVersion::Tls13 {
        ids.push(suites::TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
    }
    let hello = ClientHello::for_probe(v, ctx.sni.as_deref(), &ids).encode_probe();
    match ctx.prober.send_hello(&hello).await.outcome {
        ProbeOutcome::Accepted(flight) => flight.server_hello.as_ref().and_then(|sh| {
            // A server that answers another version, or a suite we did not offer, has not
            // accepted anything from this offer.
            (sh.negotiated_version() == v && offer.contains(&sh.cipher_suite))
                .then_some(sh.cipher_suite)
        }),
        _ => None,
    }
}

/// SSLv2 lists every cipher kind both sides share in its ServerHello: one probe suffices,
/// and the version probe (the same hello) already was that probe.
async fn sslv2_kinds(ctx: &ScanContext, version_probe: Option<&ProbeOutcome>) -> VersionSuites {
    let kinds_in = |o: &ProbeOutcome| match o {
        ProbeOutcome::Accepted(f) => f.sslv2.as_ref().map(|s| s.cipher_specs.clone()),
        _ => None,
    };
    let kinds = match version_probe.and_then(kinds_in) {
        Some(k) => k,
        None => {
            let hello = Sslv2ClientHello::for_probe().to_bytes();
            kinds_in(&ctx.prober.send_hello(&hello).await.outcome).unwrap_or_default()
        }
    };
    VersionSuites {
        version: ProtocolVersion::Ssl2,
        server_preference: None,
        suites: kinds
            .into_iter()
            .map(AcceptedSuite::from_registry)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProtocolVersion::*;

    #[test]
    fn ssl3_offers_include_sha1_ecc_suites() {
        let offered = |name: &str, v| offered_in(suites::by_name(name).unwrap(), v);
        assert!(offered("ECDHE-RSA-AES128-SHA", Ssl3));
        assert!(offered("ECDH-ECDSA-AES256-SHA", Ssl3));
        assert!(offered("AES128-SHA", Ssl3));
        // SHA-256 and AEAD suites need TLS 1.2 whatever the key exchange.
        assert!(!offered("ECDHE-RSA-AES128-SHA256", Ssl3));
        assert!(!offered("ECDHE-RSA-AES128-GCM-SHA256", Ssl3));
        // Only ECDH/ECDHE are widened: ECDHE_PSK stays at TLS 1.0 as the registry says.
        assert!(!offered("ECDHE-PSK-AES128-CBC-SHA", Ssl3));
        assert!(offered("ECDHE-PSK-AES128-CBC-SHA", Tls10));
        assert!(!offered("EXP-RC4-MD5", Tls11));
        assert!(candidates(Ssl3).contains(&CipherSuiteId(0xc013)));
        assert!(!candidates(Ssl2).contains(&CipherSuiteId(0xc013)));
    }
}
