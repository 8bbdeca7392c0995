//! Key exchange: the groups a server supports for TLS 1.3 and for ECDHE in TLS 1.2 and
//! below, and the size of its finite-field DH parameters for DHE suites.

use super::ScanContext;
use super::check::{Basis, Check, Job};
use super::schedule;
use crate::probe::ProbeOutcome;
use crate::wire::groups::{self, NamedGroup};
use crate::wire::handshake::ServerKeyExchange;
use crate::wire::suites::{self, CipherSuiteId};
use crate::wire::{ClientExtension, ClientHello, ProtocolVersion, ServerFlight};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub id: u16,
    pub name: String,
}

impl Group {
    fn new(group: NamedGroup) -> Group {
        let id = group.0;
        Group {
            id,
            name: groups::group_name(group)
                .map(str::to_string)
                .unwrap_or_else(|| format!("0x{id:04x}")),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyExchange {
    /// Groups accepted in TLS 1.3, in the order the server chose them.
    pub tls13_groups: Vec<Group>,
    /// Curves accepted for ECDHE in TLS 1.2 and below, in the order the server chose them.
    pub ecdhe_curves: Vec<Group>,
    /// Bit size of the DH prime for DHE suites, when the server has any.
    pub dh_bits: Option<usize>,
    /// That prime, big-endian: not serialised (the report shows its size); the audit compares
    /// it with the widely shared primes.
    #[serde(skip)]
    pub dh_prime: Option<Vec<u8>>,
}

/// Replace (or add) the extension of the same kind in `hello`.
pub fn set_extension(hello: &mut ClientHello, ext: ClientExtension) {
    let same = |e: &ClientExtension| std::mem::discriminant(e) == std::mem::discriminant(&ext);
    if let Some(slot) = hello.extensions.iter_mut().find(|e| same(e)) {
        *slot = ext;
    } else {
        hello.extensions.push(ext);
    }
}

/// Key exchange: TLS 1.3 groups, and ECDHE curves and DH size in the highest accepted
/// version below TLS 1.3; one job each.
pub struct Groups;

/// What one key-exchange job found.
pub enum KxAnswer {
    Tls13Groups(Vec<Group>),
    EcdheCurves(Vec<Group>),
    /// The prime's size and the prime.
    DhBits(Option<(usize, Vec<u8>)>),
}

impl Check for Groups {
    const NAME: &'static str = "groups";
    const TITLE: &'static str = "Key exchange";
    type Answer = KxAnswer;
    type Evidence = KeyExchange;

    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, KxAnswer>> {
        let ctx = basis.ctx;
        let legacy = basis.legacy();
        let of_kx = |kx: &'static str| {
            legacy
                .map(|v| super::ciphers::candidates_where(v, |s| s.kx == kx))
                .unwrap_or_default()
        };
        let (ecdhe_suites, dhe_suites) = (of_kx("ECDHE"), of_kx("DHE"));
        let mut jobs: Vec<Job<'a, KxAnswer>> = Vec::new();
        let head = basis.head_start();
        if basis.accepts(ProtocolVersion::Tls13) {
            let ahead = head.and_then(|h| h.tls13_groups.clone());
            jobs.push(Box::pin(async move {
                KxAnswer::Tls13Groups(schedule::ahead_or(ahead, tls13_groups(ctx)).await)
            }));
        }
        if let Some(v) = legacy {
            if !ecdhe_suites.is_empty() {
                // Started ahead on the guess of TLS 1.2, with the same suites.
                let ahead = head
                    .filter(|_| v == ProtocolVersion::Tls12)
                    .and_then(|h| h.tls12_curves.clone());
                jobs.push(Box::pin(async move {
                    let curves = ecdhe_curves(ctx, v, &ecdhe_suites);
                    KxAnswer::EcdheCurves(schedule::ahead_or(ahead, curves).await)
                }));
            }
            if !dhe_suites.is_empty() {
                jobs.push(Box::pin(async move {
                    // No DHE suite among those the suites check found: a DHE-only hello
                    // would be refused, so it is not sent. A far server is asked at once
                    // instead: waiting for the suites costs a round trip or more, where
                    // the hello costs at most a refused connection.
                    let wait = !ctx.prober.is_far();
                    if let Some(found) = schedule::accepted_suites(head.filter(|_| wait), v).await {
                        if !found.iter().any(|id| dhe_suites.contains(id)) {
                            return KxAnswer::DhBits(None);
                        }
                    }
                    KxAnswer::DhBits(dh_bits(ctx, v, &dhe_suites).await)
                }));
            }
        }
        jobs
    }

    fn fold(&self, _: &Basis<'_>, answers: Vec<KxAnswer>) -> KeyExchange {
        let mut kx = KeyExchange::default();
        for a in answers {
            match a {
                KxAnswer::Tls13Groups(g) => kx.tls13_groups = g,
                KxAnswer::EcdheCurves(g) => kx.ecdhe_curves = g,
                KxAnswer::DhBits(b) => {
                    kx.dh_bits = b.as_ref().map(|(bits, _)| *bits);
                    kx.dh_prime = b.map(|(_, p)| p);
                }
            }
        }
        kx
    }
}

/// How many parallel elimination chains a group enumeration splits into, once round 1
/// shows the server follows the client's order (see [`schedule::enumerate`]). Servers
/// accept a handful of groups, and round 1 finds the first and the last of them: two
/// chains find the rest about as soon as four would, with two refusals fewer.
const CHAINS: usize = 2;

/// TLS 1.3: offer groups with an empty key_share list, so the server must name its choice
/// in a HelloRetryRequest; take it away and ask again. Every group of the registry is a
/// candidate, in the registry's order.
pub(crate) async fn tls13_groups(ctx: &ScanContext) -> Vec<Group> {
    let all: Vec<NamedGroup> = groups::all_groups().iter().map(|(id, _)| *id).collect();
    let ask = move |offer: Vec<NamedGroup>| tls13_choice(ctx, offer);
    // A server that may be far away: two waves, the deployed groups each asked alone (in
    // OpenSSL's default order, which is the probing hello's), instead of three to five
    // rounds. Not for TLS 1.2's curves: there an ECDSA certificate's own curve must be
    // offered too, so a curve alone is refused although the server accepts it.
    let found = if ctx.prober.may_be_far() {
        let likely = groups::tls13_likely_groups();
        schedule::enumerate_in_waves(&ask, &all, likely).await
    } else {
        elimination(&ask, &all, ctx).await
    };
    found.items.into_iter().map(Group::new).collect()
}

/// [`schedule::enumerate`] over `all` with the groups' likely order.
async fn elimination<'a>(
    ask: &(dyn schedule::Ask<'a, NamedGroup> + 'a),
    all: &[NamedGroup],
    ctx: &ScanContext,
) -> schedule::Found<NamedGroup> {
    let (prior, likely) = likely_order(all);
    let own = own_order(&prior, likely, ctx.prober.config().max_connections);
    schedule::enumerate(ask, all, None, CHAINS, own).await
}

/// The groups in the order servers commonly prefer them: the ones probing hellos offer
/// (what deployed servers pick), in clients' order, then the rest; and how many of the
/// first those are. A guess that only speeds up a server's own order being revealed.
fn likely_order(all: &[NamedGroup]) -> (Vec<NamedGroup>, usize) {
    let mut prior: Vec<NamedGroup> = groups::probe_groups()
        .iter()
        .copied()
        .filter(|g| all.contains(g))
        .collect();
    let likely = prior.len();
    let rest: Vec<NamedGroup> = all.iter().copied().filter(|g| !prior.contains(g)).collect();
    prior.extend(rest);
    (prior, likely)
}

/// Blocks for revealing a server's own order of groups (see [`schedule::OwnOrder`]): about
/// one per three deployed groups, at most four and the cap. A server accepts a handful;
/// each block costs a refusal and a merge probe, and saves a few round trips.
fn own_order(
    prior: &[NamedGroup],
    likely: usize,
    cap: usize,
) -> schedule::OwnOrder<'_, NamedGroup> {
    schedule::OwnOrder {
        prior,
        likely,
        blocks: (likely / 3 + 1).min(4).min(cap.max(1)),
        predicted: &[],
    }
}

/// The group a TLS 1.3 server names when offered `offer` and no key share.
fn tls13_choice(ctx: &ScanContext, offer: Vec<NamedGroup>) -> BoxFuture<'_, Option<NamedGroup>> {
    Box::pin(async move {
        let suites13: Vec<CipherSuiteId> = suites::tls13_suites()
            .map(|s| CipherSuiteId(s.id as u16))
            .collect();
        let mut hello =
            ClientHello::for_probe(ProtocolVersion::Tls13, ctx.sni.as_deref(), &suites13);
        set_extension(&mut hello, ClientExtension::SupportedGroups(offer.clone()));
        set_extension(&mut hello, ClientExtension::KeyShare(Vec::new()));
        let bytes = hello.encode_probe();
        match ctx.prober.send_hello(&bytes).await.outcome {
            ProbeOutcome::Accepted(f) => f
                .server_hello
                .as_ref()
                .filter(|sh| sh.negotiated_version() == ProtocolVersion::Tls13)
                .and_then(|sh| sh.selected_group())
                .filter(|g| offer.contains(g)),
            _ => None,
        }
    })
}

/// TLS ≤1.2 ECDHE: offer only ECDHE suites; the curve is in the ServerKeyExchange.
pub(crate) async fn ecdhe_curves(
    ctx: &ScanContext,
    v: ProtocolVersion,
    ecdhe: &[CipherSuiteId],
) -> Vec<Group> {
    let all: Vec<NamedGroup> = groups::all_groups()
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| is_elliptic_curve(*id))
        .collect();
    let found = if ctx.prober.may_be_far() {
        ecdhe_curves_far(ctx, v, ecdhe, &all).await
    } else {
        let ask = move |offer: Vec<NamedGroup>| ecdhe_choice(ctx, v, ecdhe, offer);
        elimination(&ask, &all, ctx).await
    };
    found.items.into_iter().map(Group::new).collect()
}

/// [`ecdhe_curves`] for a server that may be far away. Round 1 is elimination's (the pick
/// from every curve, both ways), and its answers also show the certificate: where the
/// server chose an ECDHE_RSA suite, a curve offered alone with only ECDHE_RSA suites is
/// accepted exactly when the server has it, so round 2 asks the usual curves alone and the
/// others once ([`schedule::enumerate_alone`]; an order of the server's own is verified by
/// adjacent pairs in round 3) instead of revealing them one round after another. With an
/// ECDSA certificate its own curve must be offered beside any other, so elimination goes
/// on from round 1's answers (asked once).
async fn ecdhe_curves_far(
    ctx: &ScanContext,
    v: ProtocolVersion,
    ecdhe: &[CipherSuiteId],
    all: &[NamedGroup],
) -> schedule::Found<NamedGroup> {
    let reversed: Vec<NamedGroup> = all.iter().rev().copied().collect();
    let (forward, backward) = futures::join!(
        ecdhe_pick(ctx, v, ecdhe, all.to_vec()),
        ecdhe_pick(ctx, v, ecdhe, reversed.clone()),
    );
    let by_rsa = |s: CipherSuiteId| suites::by_id(u32::from(s.0)).is_some_and(|s| s.auth == "RSA");
    let rsa: Vec<CipherSuiteId> = ecdhe.iter().copied().filter(|s| by_rsa(*s)).collect();
    if let Some((first, _)) = forward.filter(|(_, suite)| by_rsa(*suite)) {
        let ask = |offer: Vec<NamedGroup>| ecdhe_choice(ctx, v, &rsa, offer);
        let usual: Vec<NamedGroup> = groups::tls13_likely_groups()
            .iter()
            .copied()
            .filter(|g| is_elliptic_curve(*g))
            .collect();
        let backward = Some(backward.map(|(curve, _)| curve));
        return schedule::enumerate_alone(&ask, all, first, backward, &usual, CHAINS).await;
    }
    // Round 1's two offers are not made again.
    let (forward, backward) = (forward.map(|(c, _)| c), backward.map(|(c, _)| c));
    let all_offer = all.to_vec();
    let ask = move |offer: Vec<NamedGroup>| -> BoxFuture<'_, Option<NamedGroup>> {
        if offer == all_offer {
            return Box::pin(async move { forward });
        }
        if offer == reversed {
            return Box::pin(async move { backward });
        }
        ecdhe_choice(ctx, v, ecdhe, offer)
    };
    elimination(&ask, all, ctx).await
}

/// The curve and the suite of the ServerKeyExchange's handshake when `ecdhe` suites and the
/// curves `offer` are offered.
async fn ecdhe_pick(
    ctx: &ScanContext,
    v: ProtocolVersion,
    ecdhe: &[CipherSuiteId],
    offer: Vec<NamedGroup>,
) -> Option<(NamedGroup, CipherSuiteId)> {
    let mut hello = ClientHello::for_probe(v, ctx.sni.as_deref(), ecdhe);
    set_extension(&mut hello, ClientExtension::SupportedGroups(offer.clone()));
    let bytes = hello.encode_probe();
    match ctx.prober.send_hello(&bytes).await.outcome {
        ProbeOutcome::Accepted(f) => {
            let curve = ske_curve(&f).filter(|c| offer.contains(c))?;
            Some((curve, f.server_hello.as_ref()?.cipher_suite))
        }
        _ => None,
    }
}

/// The curve of the ServerKeyExchange when `ecdhe` suites and the curves `offer` are offered.
fn ecdhe_choice<'a>(
    ctx: &'a ScanContext,
    v: ProtocolVersion,
    ecdhe: &'a [CipherSuiteId],
    offer: Vec<NamedGroup>,
) -> BoxFuture<'a, Option<NamedGroup>> {
    Box::pin(async move {
        ecdhe_pick(ctx, v, ecdhe, offer)
            .await
            .map(|(curve, _)| curve)
    })
}

/// Named elliptic curves occupy the ids below 256 (RFC 8422); 256-511 are FFDHE groups and
/// higher values are hybrids or private use, which TLS 1.2 ECDHE cannot negotiate.
fn is_elliptic_curve(group: NamedGroup) -> bool {
    (1..0x0100).contains(&group.0)
}

fn ske_curve(f: &ServerFlight) -> Option<NamedGroup> {
    match f.server_key_exchange.as_ref()? {
        ServerKeyExchange::Ecdhe { curve, .. } => Some(*curve),
        _ => None,
    }
}

/// DHE: offer only DHE suites and read the prime (and its size) from the ServerKeyExchange.
async fn dh_bits(
    ctx: &ScanContext,
    v: ProtocolVersion,
    dhe: &[CipherSuiteId],
) -> Option<(usize, Vec<u8>)> {
    let bytes = ClientHello::for_probe(v, ctx.sni.as_deref(), dhe).encode_probe();
    match ctx.prober.send_hello(&bytes).await.outcome {
        ProbeOutcome::Accepted(f) => match f.server_key_exchange.as_ref()? {
            ServerKeyExchange::Dhe { p_bits, p, .. } => Some((*p_bits, p.clone())),
            _ => None,
        },
        _ => None,
    }
}
