//! How a scan spends round trips, and the count of them it reports.
//!
//! At Internet latency a scan's wall time is the number of sequential round trips, not
//! CPU: every probe is a TCP connect and one hello, about two round trips, and what can go
//! at once goes at once under the per-server cap (`--max-connections`). The scan is planned
//! for that:
//!
//! - round 1 asks everything that depends on nothing: the protocol versions, each version
//!   probe being also the first step of that version's suite enumeration (its pick from
//!   every candidate), the full handshakes that `check` makes beside the scan, and the
//!   [`HeadStart`] probes;
//! - every other check starts as soon as the versions answer, all at once;
//! - suite enumeration picks its strategy by what round 2 shows ([`super::ciphers::enumerate`]):
//!   elimination, which reveals the order as it goes, where the server has one; where it
//!   follows the client's order, one offer of everything left (usually refused), then
//!   parallel chains only if that found more ([`rest_in_chains`]); where the first pick is the
//!   head of OpenSSL's order, that order is verified in round 2 instead, one probe per place at
//!   once ([`super::schedule_order::verify`]); SSL 3.0 to TLS 1.1 confirm
//!   TLS 1.2's own order in one round ([`confirm_order`]) instead of revealing it again;
//! - nothing is asked twice: the SSLv2 kinds and each version's first suite come from the
//!   version probes, the certificate for the key type the TLS 1.2 flight (or, TLS 1.3 only,
//!   the first ALPN handshake) already showed from that flight; and questions whose answers
//!   cannot hide each other share one hello (compression and the first ALPN offer; the
//!   intolerance variations of one version); and what the suite enumeration shows is not
//!   asked again (no DHE-only or key-type hello where no such suite was found:
//!   [`HeadStart::accepted_suites`]).
//!
//! [`rounds`] is what the scan reports as `rounds`: the longest chain of its connections,
//! each put to use (opened, or taken ready from those dialled ahead: `probe/warm.rs`) only
//! after the one before it closed. Times one to two round trips (two for a connection dialled
//! then, one for one dialled ahead), that is roughly the scan's wall time on a distant server.

use super::groups::{self, Group};
use super::{ScanContext, ciphers, resumption, schedule_order};
use crate::wire::ProtocolVersion;
use crate::wire::suites::CipherSuiteId;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The longest chain of connections in which each one opened after the previous one
/// closed. `spans` are (opened, closed) pairs in any order; a connection still open counts
/// as closing at `now`.
pub fn rounds(spans: &[(Instant, Option<Instant>)], now: Instant) -> usize {
    let mut spans: Vec<(Instant, Instant)> =
        spans.iter().map(|(a, b)| (*a, b.unwrap_or(now))).collect();
    spans.sort();
    // depth[i]: the longest chain ending with connection i.
    let mut depth: Vec<usize> = Vec::with_capacity(spans.len());
    for i in 0..spans.len() {
        let before = (0..i)
            .filter(|&j| spans[j].1 <= spans[i].0)
            .map(|j| depth[j])
            .max()
            .unwrap_or(0);
        depth.push(before + 1);
    }
    depth.into_iter().max().unwrap_or(0)
}

/// A round trip of `rtt` expressed as a whole number of rounds of `per_round`, rounded up.
pub fn in_rounds(elapsed: Duration, per_round: Duration) -> usize {
    let per = per_round.as_nanos().max(1);
    elapsed.as_nanos().div_ceil(per) as usize
}

/// What one probe of an enumeration asks the server: its choice from an offer (a suite, a
/// group), if it accepts any.
pub trait Ask<'a, T>: Sync {
    fn ask(&self, offer: Vec<T>) -> BoxFuture<'a, Option<T>>;
}

impl<'a, T, F> Ask<'a, T> for F
where
    F: Fn(Vec<T>) -> BoxFuture<'a, Option<T>> + Sync,
{
    fn ask(&self, offer: Vec<T>) -> BoxFuture<'a, Option<T>> {
        self(offer)
    }
}

/// What an enumeration found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<T> {
    /// In the server's order when it has one, else in the order of the candidates.
    pub items: Vec<T>,
    /// Whether the server chooses by an order of its own (`None`: fewer than two found, or a
    /// probe that tells it went unanswered).
    pub own_order: Option<bool>,
}

/// How an enumeration reveals an order of the server's own: the likely order of every
/// candidate, its first `likely` items the plausible ones, and into how many blocks the
/// plausible ones are cut (see [`super::schedule_order`]). One block and no guess is plain
/// elimination.
#[derive(Debug, Clone, Copy)]
pub struct OwnOrder<'p, T> {
    pub prior: &'p [T],
    pub likely: usize,
    pub blocks: usize,
    /// The order the server likely has if it orders as a known library does (possibly with
    /// items it lacks): where its head is the server's first pick, it is verified in round 2
    /// ([`super::schedule_order::verify`]) beside the reverse pick. Empty: no prediction.
    pub predicted: &'p [T],
}

impl<T: PartialEq> OwnOrder<'_, T> {
    /// One chain of elimination over everything left.
    pub fn sequential() -> Self {
        OwnOrder {
            prior: &[],
            likely: 0,
            blocks: 1,
            predicted: &[],
        }
    }

    /// This strategy if the server's first choices (`top`) are where the guess puts them,
    /// near its head (within two blocks' worth); else elimination. A server whose order is
    /// far from the guess would make the merge ask about once per item on top of the
    /// blocks' own probes, twice the connections of one chain.
    pub fn if_guessed(self, top: &[T]) -> Self {
        let block = self.likely.div_ceil(self.blocks.saturating_sub(1).max(1));
        let near = |x: &T| {
            self.prior[..self.likely.min(self.prior.len())]
                .iter()
                .position(|y| y == x)
                .is_some_and(|at| at < 2 * block)
        };
        if self.blocks > 1 && top.iter().all(near) {
            self
        } else {
            Self::sequential()
        }
    }
}

/// Everything of `all` the server accepts, by elimination (offer, take the choice away,
/// offer again), planned in rounds by what is known:
///
/// - first round: the choice from everything (unless `first` already is that answer,
///   e.g. from the version probe) and the choice from everything in reverse order; with
///   `first` known, the choice from everything but `first` instead;
/// - the same choice both ways means an order of the server's own: it is revealed as
///   [`OwnOrder`] says, by blocks eliminated in parallel and merged
///   ([`super::schedule_order::reveal`]), or by elimination over everything left;
/// - another choice means the server follows the client's order, so there is no order to
///   reveal: what is left is offered once, and only if the server takes one of it, the
///   rest is split into `chains` parts eliminated in parallel ([`rest_in_chains`]); the
///   items keep the candidates' order.
pub async fn enumerate<'a, T, A>(
    ask: &A,
    all: &[T],
    first: Option<T>,
    chains: usize,
    own: OwnOrder<'_, T>,
) -> Found<T>
where
    T: Copy + PartialEq + Send + Sync,
    A: Ask<'a, T> + ?Sized,
{
    enumerate_guessing(ask, all, first, chains, own, None).await
}

/// `all` in its order, less what was `taken`.
fn all_but<T: Copy + PartialEq>(all: &[T], taken: &[T]) -> Vec<T> {
    all.iter().copied().filter(|x| !taken.contains(x)).collect()
}

/// [`enumerate`], with `guess`: where round 2 shows an order of the server's own, the
/// order it likely is (another version's, as the same server showed it), awaited only then
/// and confirmed in one round ([`confirm_order`]) before anything is revealed anew.
pub async fn enumerate_guessing<'a, T, A>(
    ask: &A,
    all: &[T],
    first: Option<T>,
    chains: usize,
    own: OwnOrder<'_, T>,
    guess: Option<BoxFuture<'_, Vec<T>>>,
) -> Found<T>
where
    T: Copy + PartialEq + Send + Sync,
    A: Ask<'a, T> + ?Sized,
{
    let without = |taken: &[T]| all_but(all, taken);
    let offered = |x: &T| all.contains(x);
    let reversed: Vec<T> = all.iter().rev().copied().collect();
    let first = first.filter(offered);
    let predicted_head = own.predicted.iter().find(|x| offered(x));
    if let Some(p1) = first.filter(|p1| predicted_head == Some(p1)) {
        return enumerate_predicted(ask, all, p1, chains, own, guess).await;
    }
    let (forward, backward, second) = match first {
        Some(p1) => {
            let rest = without(&[p1]);
            let (backward, second) = futures::join!(ask.ask(reversed), async {
                if rest.is_empty() {
                    None
                } else {
                    ask.ask(rest.clone()).await.filter(|s| rest.contains(s))
                }
            });
            (Some(p1), backward, second)
        }
        None if all.is_empty() => (None, None, None),
        None => {
            let (forward, backward) = futures::join!(ask.ask(all.to_vec()), ask.ask(reversed));
            (forward.filter(offered), backward, None)
        }
    };
    let Some(p1) = forward else {
        return Found {
            items: Vec::new(),
            own_order: None,
        };
    };
    let mut found = vec![p1];
    found.extend(second);
    if first.is_some() && second.is_none() {
        // Nothing but `first` is accepted: no order to tell.
        return Found {
            items: found,
            own_order: None,
        };
    }
    let backward = backward.filter(offered);
    if let Some(b) = backward.filter(|b| !found.contains(b)) {
        found.push(b);
    }
    // Two items at least, or the same one both ways: the first choice tells the order.
    let own_order = match backward {
        Some(b) if found.len() >= 2 => Some(b == p1),
        _ => None,
    };
    if own_order == Some(true) {
        if let Some(guess) = guess {
            let guess = guess.await;
            if let Some(more) = confirm_order(ask, all, &found, &guess).await {
                found.extend(more);
                return Found {
                    items: found,
                    own_order,
                };
            }
        }
        let more = schedule_order::reveal(ask, &without(&found), own.if_guessed(&found)).await;
        found.extend(more);
        return Found {
            items: found,
            own_order,
        };
    }
    if backward == Some(p1) {
        // The same single item both ways, and nothing else known yet (no `first`): what
        // is left may still hold items, in the server's order if it has one.
        let more = schedule_order::reveal(ask, &without(&found), own.if_guessed(&found)).await;
        found.extend(more);
        let own_order = (found.len() >= 2).then_some(true);
        return Found {
            items: found,
            own_order,
        };
    }
    found.extend(rest_in_chains(ask, without(&found), chains).await);
    found.sort_by_key(|x| all.iter().position(|y| y == x));
    Found {
        items: found,
        own_order,
    }
}

/// [`enumerate_guessing`] where the server's first pick `p1` is the head of the prediction
/// (`own.predicted`): round 2 is the reverse pick and the wave that verifies the predicted
/// order ([`schedule_order::verify`]), cut short as soon as the reverse pick shows the client's
/// order. What the wave leaves unproven is enumerated as [`enumerate_guessing`] would from there.
async fn enumerate_predicted<'a, T, A>(
    ask: &A,
    all: &[T],
    p1: T,
    chains: usize,
    own: OwnOrder<'_, T>,
    guess: Option<BoxFuture<'_, Vec<T>>>,
) -> Found<T>
where
    T: Copy + PartialEq + Send + Sync,
    A: Ask<'a, T> + ?Sized,
{
    use std::sync::atomic::{AtomicBool, Ordering};
    let without = |taken: &[T]| all_but(all, taken);
    let reversed: Vec<T> = all.iter().rev().copied().collect();
    let stop = AtomicBool::new(false);
    let known = [p1];
    let (backward, verified) = futures::join!(
        async {
            let b = ask.ask(reversed).await.filter(|x| all.contains(x));
            if b != Some(p1) {
                stop.store(true, Ordering::Relaxed);
            }
            b
        },
        schedule_order::verify(ask, all, &known, own.predicted, &stop),
    );
    let mut found = vec![p1];
    found.extend(verified.proven);
    let complete = verified.complete && backward.is_none_or(|b| found.contains(&b));
    if let Some(b) = backward.filter(|b| !found.contains(b)) {
        found.push(b);
    }
    if backward == Some(p1) {
        if !complete {
            let mut more = None;
            if let Some(guess) = guess {
                more = confirm_order(ask, all, &found, &guess.await).await;
            }
            let more = match more {
                Some(more) => more,
                None => schedule_order::reveal(ask, &without(&found), own.if_guessed(&found)).await,
            };
            found.extend(more);
        }
        let own_order = (found.len() >= 2).then_some(true);
        return Found {
            items: found,
            own_order,
        };
    }
    if !complete {
        found.extend(rest_in_chains(ask, without(&found), chains).await);
    }
    found.sort_by_key(|x| all.iter().position(|y| y == x));
    // Another pick in reverse: the client's order (two items found at least).
    let own_order = backward.map(|_| false).filter(|_| found.len() >= 2);
    Found {
        items: found,
        own_order,
    }
}

/// [`enumerate`] where the server's first pick `first` is known (the version probe's) and
/// round trips cost more than connections (a server that may be far away): round 2 asks,
/// beside the reverse pick, each of the `alone` items (the ones servers usually accept, in
/// the order a server that orders them itself likely has) by itself, and everything else
/// in one offer (usually refused; if not, the rest is eliminated in `chains` parallel
/// parts). A server in the client's order is done in that round, where elimination needs a
/// round per item after it. A server with an order of its own (the same pick both ways)
/// has it verified as the likely order by adjacent pairs in one more round
/// (`order_of_accepted`, elimination where the pairs disagree).
///
/// `backward`: the reverse pick when round 1 already made it (`None`: it is asked in round
/// 2 with the rest).
pub async fn enumerate_alone<'a, T, A>(
    ask: &A,
    all: &[T],
    first: T,
    backward: Option<Option<T>>,
    alone: &[T],
    chains: usize,
) -> Found<T>
where
    T: Copy + PartialEq + Send + Sync,
    A: Ask<'a, T> + ?Sized,
{
    let offered = |x: &T| all.contains(x);
    let singles: Vec<T> = alone
        .iter()
        .copied()
        .filter(|x| offered(x) && *x != first)
        .collect();
    let others: Vec<T> = all
        .iter()
        .copied()
        .filter(|x| *x != first && !singles.contains(x))
        .collect();
    let reversed: Vec<T> = all.iter().rev().copied().collect();
    let (backward, answers, more) = futures::join!(
        async {
            match backward {
                Some(known) => known,
                None => ask.ask(reversed).await,
            }
        },
        futures::future::join_all(singles.iter().map(|x| ask.ask(vec![*x]))),
        rest_in_chains(ask, others, chains),
    );
    let backward = backward.filter(offered);
    let mut accepted = vec![first];
    for (x, answer) in singles.iter().zip(answers) {
        if answer == Some(*x) {
            accepted.push(*x);
        }
    }
    for x in more.into_iter().chain(backward) {
        if !accepted.contains(&x) {
            accepted.push(x);
        }
    }
    if accepted.len() < 2 {
        return Found {
            items: accepted,
            own_order: None,
        };
    }
    if backward == Some(first) {
        return order_of_accepted(ask, accepted).await;
    }
    accepted.sort_by_key(|x| all.iter().position(|y| y == x));
    Found {
        items: accepted,
        own_order: backward.map(|_| false),
    }
}

/// What a server that follows the client's order accepts of `left`: everything left in one
/// offer first, since after round 1 usually nothing is (one refusal shows it, where parallel
/// chains would each end in one); only if it accepts one is the remainder split into
/// `chains` parts eliminated in parallel.
pub async fn rest_in_chains<'a, T, A>(ask: &A, left: Vec<T>, chains: usize) -> Vec<T>
where
    T: Copy + PartialEq + Send + Sync,
    A: Ask<'a, T> + ?Sized,
{
    if left.is_empty() {
        return Vec::new();
    }
    let Some(one) = ask.ask(left.clone()).await.filter(|x| left.contains(x)) else {
        return Vec::new();
    };
    let rest: Vec<T> = left.into_iter().filter(|x| *x != one).collect();
    let chunk = rest.len().div_ceil(chains.max(1)).max(1);
    let more =
        futures::future::join_all(rest.chunks(chunk).map(|c| eliminate(ask, c.to_vec()))).await;
    std::iter::once(one)
        .chain(more.into_iter().flatten())
        .collect()
}

/// [`enumerate`] for a server that may be far away, where round trips cost more than
/// connections: one or two waves instead of three to five rounds. `likely` are the items
/// servers usually accept, in the order a server that orders them itself most likely has.
///
/// - First wave: each likely item asked alone; everything else offered once (eliminated
///   further only if the server takes one of it); and the pick from the likely items
///   forward and in reverse.
/// - Different picks: the server follows the client's order, and that is all; the items
///   keep the candidates' order.
/// - The same pick, and it heads what was accepted: an order of the server's own, verified
///   as the likely one in a second wave (`order_of_accepted`).
/// - Anything else (fewer than two likely items accepted, an unanswered probe, another
///   first pick): the order among what was accepted by elimination.
pub async fn enumerate_in_waves<'a, T, A>(ask: &A, all: &[T], likely: &[T]) -> Found<T>
where
    T: Copy + PartialEq + Send + Sync,
    A: Ask<'a, T> + ?Sized,
{
    let alone: Vec<T> = likely.iter().copied().filter(|x| all.contains(x)).collect();
    let reversed: Vec<T> = alone.iter().rev().copied().collect();
    let (answers, more, forward, backward) = futures::join!(
        futures::future::join_all(alone.iter().map(|x| ask.ask(vec![*x]))),
        eliminate(ask, all_but(all, &alone)),
        ask.ask(alone.clone()),
        ask.ask(reversed),
    );
    let mut accepted: Vec<T> = alone
        .iter()
        .zip(answers)
        .filter(|(x, answer)| answer.as_ref() == Some(*x))
        .map(|(x, _)| *x)
        .collect();
    let likely_accepted = accepted.len();
    accepted.extend(more);
    if accepted.len() < 2 {
        return Found {
            items: accepted,
            own_order: None,
        };
    }
    // The picks tell the order only where two likely items are accepted.
    let picks = (likely_accepted >= 2).then_some((forward, backward));
    match picks {
        Some((Some(f), Some(b))) if f != b => {
            accepted.sort_by_key(|x| all.iter().position(|y| y == x));
            Found {
                items: accepted,
                own_order: Some(false),
            }
        }
        Some((Some(f), Some(b))) if f == b && f == accepted[0] => {
            order_of_accepted(ask, accepted).await
        }
        _ => Found {
            own_order: picks.map(|(f, b)| f.is_some() && f == b),
            items: eliminate(ask, accepted).await,
        },
    }
}

/// The order of a server that has one of its own among `accepted` (everything it accepts,
/// in its likely order, the first its proven first pick), in one round: each adjacent pair
/// offered the later first, `[a(i+1), a(i)]`. Every pair answered with its earlier item: the
/// likely order is the server's, proven step by step. Otherwise (another order, an
/// unanswered probe) the order is left to elimination over `accepted`, the server's pick
/// each time.
async fn order_of_accepted<'a, T, A>(ask: &A, accepted: Vec<T>) -> Found<T>
where
    T: Copy + PartialEq + Send + Sync,
    A: Ask<'a, T> + ?Sized,
{
    let pairs =
        futures::future::join_all(accepted.windows(2).map(|w| ask.ask(vec![w[1], w[0]]))).await;
    let proven = accepted
        .windows(2)
        .zip(&pairs)
        .all(|(w, answer)| *answer == Some(w[0]));
    Found {
        items: if proven {
            accepted
        } else {
            eliminate(ask, accepted).await
        },
        own_order: Some(true),
    }
}

/// Offer, take the choice away, offer again, until the server refuses: what it chose, in
/// the order chosen.
pub async fn eliminate<'a, T, A>(ask: &A, mut offer: Vec<T>) -> Vec<T>
where
    T: Copy + PartialEq + Send + Sync,
    A: Ask<'a, T> + ?Sized,
{
    let mut found = Vec::new();
    while !offer.is_empty() {
        match ask.ask(offer.clone()).await {
            Some(x) if offer.contains(&x) => {
                offer.retain(|y| *y != x);
                found.push(x);
            }
            _ => break,
        }
    }
    found
}

/// The rest of what `all` the server accepts, in its own order, after the places already
/// `proven` (each the server's pick from everything but those before it), when `guess` is
/// likely the whole order (another version's, as the same server revealed it): one round of
/// probes, each proving one step, instead of revealing the order anew. With `g` the guess's
/// items in `all`, `m` of them, and `k` places proven (the guess must start with them):
///
/// - each adjacent pair after them offered the less preferred first, `[g[i+1], g[i]]` for
///   i ≥ k, answered `g[i]`: `g[i]` is accepted and preferred to `g[i+1]` by the server
///   (a server that follows the client's order answers `g[i+1]`);
/// - everything but `g[..m-1]`, answered with the last item: it is accepted too;
/// - everything outside the guess, refused: nothing else is accepted.
///
/// That is `m - k + 1` probes, all at once, and the order they prove is the guess. `None`
/// when any answer departs from it (the caller then reveals the order as usual), or when the
/// guess does not start with `proven`.
pub async fn confirm_order<'a, T, A>(
    ask: &A,
    all: &[T],
    proven: &[T],
    guess: &[T],
) -> Option<Vec<T>>
where
    T: Copy + PartialEq + Send + Sync,
    A: Ask<'a, T> + ?Sized,
{
    let guess: Vec<T> = guess.iter().copied().filter(|x| all.contains(x)).collect();
    let (k, m) = (proven.len(), guess.len());
    if k == 0 || m < k || guess[..k] != *proven {
        return None;
    }
    let mut offers: Vec<(Vec<T>, Option<T>)> = Vec::new();
    for i in k..m.saturating_sub(1) {
        offers.push((vec![guess[i + 1], guess[i]], Some(guess[i])));
    }
    if m > k {
        let tail: Vec<T> = all
            .iter()
            .copied()
            .filter(|x| !guess[..m - 1].contains(x))
            .collect();
        offers.push((tail, Some(guess[m - 1])));
    }
    let outside: Vec<T> = all.iter().copied().filter(|x| !guess.contains(x)).collect();
    if !outside.is_empty() {
        offers.push((outside, None));
    }
    let answers = futures::future::join_all(offers.iter().map(|(o, _)| ask.ask(o.clone()))).await;
    let proven_all = offers
        .iter()
        .zip(answers)
        .all(|((offer, want), got)| got.filter(|g| offer.contains(g)) == *want);
    proven_all.then(|| guess[k..].to_vec())
}

/// What a probe started ahead of its check answers, once it has.
pub type Started<T> = Shared<BoxFuture<'static, Option<T>>>;

/// Probes that need nothing the versions tell, or that guess it, started with the version
/// probes in round 1 instead of after them; the checks take their answers where they
/// apply (a guess that proves wrong is not used, and the check probes as usual). They are
/// the longest chains of a scan on a modern server: the TLS 1.3 groups, the ECDHE curves of
/// TLS 1.2 (the guess: TLS 1.2 is the highest version below 1.3) and the two full
/// handshakes of resumption by session ID (the guess: TLS 1.2 is accepted). A server
/// without TLS 1.2 or 1.3 costs a connection or two for the guess.
#[derive(Default)]
pub struct HeadStart {
    pub tls13_groups: Option<Started<Vec<Group>>>,
    pub tls12_curves: Option<Started<Vec<Group>>>,
    pub resumed_by_id: Option<Started<Result<Option<bool>, String>>>,
    /// The suites each version accepts, as the suites check publishes them (when it runs):
    /// a probe that only asks whether some of them are accepted needs no connection when
    /// the enumeration shows none is ([`HeadStart::accepted_suites`]).
    suites: Option<tokio::sync::watch::Sender<BTreeMap<ProtocolVersion, Vec<CipherSuiteId>>>>,
    /// Aborted when the scan ends, so no probe outlives it.
    tasks: Vec<tokio::task::AbortHandle>,
}

impl HeadStart {
    /// Start what the selected checks can use, each through the context of the check that
    /// takes its answer (`ctx_of(NAME)`, so its connections count as that check's). Call it
    /// once the version probes wait for their slots, so that they come first under the
    /// connection cap.
    pub fn start<'c>(ctx_of: &dyn Fn(&str) -> &'c ScanContext) -> HeadStart {
        let mut head = HeadStart::default();
        // Resumption first: its two full handshakes, one after the other, are the
        // longest chain.
        let resumption_ctx = ctx_of(<resumption::Resumption as super::Check>::NAME);
        if resumption_ctx.checks.runs(&resumption::Resumption) {
            let c = resumption_ctx.clone();
            head.resumed_by_id = Some(head.spawn_asking_first(async move {
                resumption::resumed(&c, rustls::client::Tls12Resumption::SessionIdOnly).await
            }));
        }
        let groups_ctx = ctx_of(<groups::Groups as super::Check>::NAME);
        if groups_ctx.checks.runs(&groups::Groups) {
            // TLS 1.2's curves first: their elimination is the longer chain where TLS 1.3's
            // groups go in waves (a server that may be far away), and the first slots
            // under the cap are few.
            let c = groups_ctx.clone();
            head.tls12_curves = Some(head.spawn(async move {
                let ecdhe = ciphers::candidates_where(ProtocolVersion::Tls12, |s| s.kx == "ECDHE");
                groups::ecdhe_curves(&c, ProtocolVersion::Tls12, &ecdhe).await
            }));
            let c = groups_ctx.clone();
            head.tls13_groups = Some(head.spawn(async move { groups::tls13_groups(&c).await }));
        }
        if ctx_of(<ciphers::Suites as super::Check>::NAME)
            .checks
            .runs(&ciphers::Suites)
        {
            head.suites = Some(tokio::sync::watch::channel(BTreeMap::new()).0);
        }
        head
    }

    /// What the suites check found in `v` (it calls this once per accepted version).
    pub fn suites_found(&self, v: ProtocolVersion, ids: Vec<CipherSuiteId>) {
        if let Some(tx) = &self.suites {
            tx.send_modify(|found| {
                found.insert(v, ids);
            });
        }
    }

    /// The suites version `v` accepts, once the suites check has enumerated them; `None`
    /// at once when the suites check does not run. Only for an accepted `v` (the suites
    /// check enumerates every one).
    pub async fn accepted_suites(&self, v: ProtocolVersion) -> Option<Vec<CipherSuiteId>> {
        let mut found = self.suites.as_ref()?.subscribe();
        let found = found.wait_for(|f| f.contains_key(&v)).await.ok()?;
        found.get(&v).cloned()
    }

    /// Wait until every probe started ahead has ended (each is bounded by the probe
    /// deadlines), so that the scan's connection count does not depend on how far an
    /// unused one got.
    pub async fn settle(&self) {
        let HeadStart {
            tls13_groups,
            tls12_curves,
            resumed_by_id,
            ..
        } = self;
        let _ = futures::join!(
            ahead_or(tls13_groups.clone(), async { Vec::new() }),
            ahead_or(tls12_curves.clone(), async { Vec::new() }),
            ahead_or(resumed_by_id.clone(), async { Ok(None) }),
        );
    }

    /// [`HeadStart::spawn`], but the probe asks for its first slot before this returns:
    /// a spawned task is first polled whenever the runtime gets to it, so the tasks
    /// spawned after it (the groups' chains) could take the last free slots of round 1
    /// first, and the longest chain would start a round late.
    fn spawn_asking_first<T: Clone + Send + Sync + 'static>(
        &mut self,
        probe: impl Future<Output = T> + Send + 'static,
    ) -> Started<T> {
        let mut probe = crate::probe::Priority::Chain.scope(probe).boxed();
        if let Some(answer) = (&mut probe).now_or_never() {
            return futures::future::ready(Some(answer)).boxed().shared();
        }
        self.keep(tokio::spawn(probe))
    }

    fn spawn<T: Clone + Send + Sync + 'static>(
        &mut self,
        probe: impl Future<Output = T> + Send + 'static,
    ) -> Started<T> {
        // The longest chains of a modern server's scan: ahead of independent probes.
        self.keep(tokio::spawn(crate::probe::Priority::Chain.scope(probe)))
    }

    /// A spawned probe's answer, the task aborted with the head start.
    fn keep<T: Clone + Send + Sync + 'static>(
        &mut self,
        task: tokio::task::JoinHandle<T>,
    ) -> Started<T> {
        self.tasks.push(task.abort_handle());
        async move { task.await.ok() }.boxed().shared()
    }
}

impl Drop for HeadStart {
    fn drop(&mut self) {
        self.tasks.iter().for_each(|t| t.abort());
    }
}

/// [`HeadStart::accepted_suites`], when there is a head start.
pub async fn accepted_suites(
    head: Option<&HeadStart>,
    v: ProtocolVersion,
) -> Option<Vec<CipherSuiteId>> {
    head?.accepted_suites(v).await
}

/// The answer of a probe started ahead (`started`), or, when there is none or it failed,
/// of `probe` now.
pub async fn ahead_or<T: Clone, F: Future<Output = T>>(started: Option<Started<T>>, probe: F) -> T {
    if let Some(s) = started {
        if let Some(answer) = s.await {
            return answer;
        }
    }
    probe.await
}

/// The scheduler against simulated servers: no sockets, virtual time. Each simulated probe
/// holds one of the server's connection slots for two round trips (connect, then hello and
/// answer), so elapsed virtual time divided by that is the number of rounds.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::ciphers::{self, Enumerated, Picker, candidates, enumerate};
    use crate::wire::ProtocolVersion::*;
    use crate::wire::suites::{self, CipherSuiteId};
    use futures::future::BoxFuture;
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::sync::Semaphore;

    const RTT: Duration = Duration::from_millis(50);
    const PROBE: Duration = Duration::from_millis(100);

    /// One version as a server configures it: the suites it accepts, in its own order when
    /// `own_order`, else it picks the client's first acceptable suite.
    #[derive(Clone)]
    struct Version {
        accepts: Vec<CipherSuiteId>,
        own_order: bool,
    }

    struct Simulated {
        versions: BTreeMap<ProtocolVersion, Version>,
        slots: Semaphore,
        cap: usize,
        connections: AtomicUsize,
        /// Whether the scan takes it for a far server ([`Picker::asks_usual_alone`]).
        far: bool,
    }

    impl Simulated {
        fn with_cap(versions: Vec<(ProtocolVersion, Version)>, cap: usize) -> Self {
            Simulated {
                versions: versions.into_iter().collect(),
                slots: Semaphore::new(cap),
                cap,
                connections: AtomicUsize::new(0),
                far: false,
            }
        }

        fn answer(&self, v: ProtocolVersion, offer: &[CipherSuiteId]) -> Option<CipherSuiteId> {
            let ver = self.versions.get(&v)?;
            if ver.own_order {
                ver.accepts.iter().copied().find(|s| offer.contains(s))
            } else {
                offer.iter().copied().find(|s| ver.accepts.contains(s))
            }
        }
    }

    impl Picker for Simulated {
        fn cap(&self) -> usize {
            self.cap
        }

        fn asks_usual_alone(&self) -> bool {
            self.far
        }

        fn pick<'a>(
            &'a self,
            v: ProtocolVersion,
            offer: &'a [CipherSuiteId],
        ) -> BoxFuture<'a, Option<CipherSuiteId>> {
            Box::pin(async move {
                let _slot = self.slots.acquire().await.expect("open semaphore");
                self.connections.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(PROBE).await;
                self.answer(v, offer)
            })
        }
    }

    /// The basis stage and the suite check as the scan runs them: every version probe at
    /// once (each the pick from all candidates), then every accepted version enumerated at
    /// once from its version probe's pick. Answers the findings, the rounds and the
    /// connections.
    async fn scan_suites(server: &Simulated) -> (Vec<(ProtocolVersion, Enumerated)>, usize, usize) {
        let start = Instant::now();
        let all: Vec<(ProtocolVersion, Vec<CipherSuiteId>)> = [Ssl3, Tls10, Tls11, Tls12, Tls13]
            .into_iter()
            .map(|v| (v, candidates(v)))
            .collect();
        // SSLv2's probe has its own format; the simulation only counts it.
        let sslv2 = async {
            let _slot = server.slots.acquire().await.expect("open semaphore");
            server.connections.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(PROBE).await;
        };
        let (firsts, ()) = futures::join!(
            futures::future::join_all(all.iter().map(|(v, c)| server.pick(*v, c))),
            sslv2
        );
        let found = futures::future::join_all(
            all.iter()
                .zip(firsts)
                .filter(|(_, first)| first.is_some())
                .map(|((v, c), first)| async move { (*v, enumerate(server, *v, c, first).await) }),
        )
        .await;
        let rounds = in_rounds(start.elapsed(), PROBE);
        (found, rounds, server.connections.load(Ordering::Relaxed))
    }

    fn ids(names: &[&str]) -> Vec<CipherSuiteId> {
        names
            .iter()
            .map(|n| {
                let s = suites::by_name(n).unwrap_or_else(|| panic!("{n} not in the registry"));
                CipherSuiteId(s.id as u16)
            })
            .collect()
    }

    /// The five TLS 1.3 suites OpenSSL knows (the registry has more: SM4, AEGIS, GOST, …).
    fn tls13_all() -> Vec<CipherSuiteId> {
        ids(&[
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_AES_128_CCM_SHA256",
            "TLS_AES_128_CCM_8_SHA256",
        ])
    }

    /// What the enumeration must report for `ver`: its suites in its own order, or in the
    /// client's (candidate) order; the order is known once two suites are accepted.
    fn expected(v: ProtocolVersion, ver: &Version) -> Enumerated {
        let mut suites = ver.accepts.clone();
        if !ver.own_order {
            let all = candidates(v);
            suites.sort_by_key(|id| all.iter().position(|x| x == id));
        }
        Enumerated {
            server_preference: (suites.len() >= 2).then_some(ver.own_order),
            suites,
        }
    }

    async fn check(name: &str, versions: Vec<(ProtocolVersion, Version)>) -> (usize, usize) {
        check_with(name, versions, crate::probe::DEFAULT_MAX_CONNECTIONS).await
    }

    /// [`check`] under a cap of `cap` connections at once.
    async fn check_with(
        name: &str,
        versions: Vec<(ProtocolVersion, Version)>,
        cap: usize,
    ) -> (usize, usize) {
        check_server(name, Simulated::with_cap(versions, cap)).await
    }

    /// [`check`] of `server` as it is set up.
    async fn check_server(name: &str, server: Simulated) -> (usize, usize) {
        let cap = server.cap;
        let (found, rounds, connections) = scan_suites(&server).await;
        let accepted: Vec<ProtocolVersion> = server.versions.keys().copied().collect();
        assert_eq!(
            found.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
            accepted,
            "{name}"
        );
        for (v, e) in &found {
            assert_eq!(*e, expected(*v, &server.versions[v]), "{name} {v}");
        }
        eprintln!(
            "simulated server {name}, cap {cap}: suites of {} version(s) in {rounds} rounds ({:.2} s at RTT {} ms), {connections} connections",
            found.len(),
            rounds as f64 * PROBE.as_secs_f64(),
            RTT.as_millis()
        );
        (rounds, connections)
    }

    /// bench server a: Mozilla intermediate on an ECDSA key, TLS 1.2 and 1.3, the client's
    /// order.
    #[tokio::test(start_paused = true)]
    async fn mozilla_intermediate_takes_three_rounds() {
        let tls12 = ids(&[
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-CHACHA20-POLY1305",
        ]);
        let tls13 = tls13_all()[..3].to_vec();
        let (rounds, connections) = check(
            "a",
            vec![
                (
                    Tls12,
                    Version {
                        accepts: tls12,
                        own_order: false,
                    },
                ),
                (
                    Tls13,
                    Version {
                        accepts: tls13,
                        own_order: false,
                    },
                ),
            ],
        )
        .await;
        // Round 1 the versions, round 2 the reverse pick and the second suite (which find
        // all three suites of each version), round 3 one refusal of everything left.
        assert_eq!(rounds, 3);
        assert_eq!(connections, 6 + (2 + 1) + (2 + 1));
    }

    /// bench server c: TLS 1.3 only with all five suites, the client's order.
    #[tokio::test(start_paused = true)]
    async fn tls13_only_takes_five_rounds() {
        let (rounds, connections) = check(
            "c",
            vec![(
                Tls13,
                Version {
                    accepts: tls13_all(),
                    own_order: false,
                },
            )],
        )
        .await;
        // Round 2 finds the second and the last suite; round 3 offers the other twelve
        // candidates, and the server takes one; round 4 splits the eleven left into four
        // chains, one of which finds the fifth suite and asks once more.
        assert_eq!(rounds, 5);
        assert_eq!(connections, 6 + 2 + 1 + 4 + 1);
    }

    /// The same server far away: round 2 asks the usual suites alone beside the reverse
    /// pick and offers the registry's other ten once, which ends it; fewer connections too.
    #[tokio::test(start_paused = true)]
    async fn tls13_only_far_away_takes_two_rounds() {
        let c = |own_order| {
            vec![(
                Tls13,
                Version {
                    accepts: tls13_all(),
                    own_order,
                },
            )]
        };
        let mut server = Simulated::with_cap(c(false), crate::probe::FAR_MAX_CONNECTIONS);
        server.far = true;
        let (rounds, connections) = check_server("c far", server).await;
        assert_eq!(rounds, 2);
        assert_eq!(connections, 6 + 1 + 4 + 1);
        // In an order of its own that is not OpenSSL's (its first pick, AES-128-GCM, is
        // not the head of the prediction): one more round of adjacent pairs, which prove
        // it (the usual order after that first pick is this server's).
        let mut server = Simulated::with_cap(c(true), crate::probe::FAR_MAX_CONNECTIONS);
        server.far = true;
        let (rounds, connections) = check_server("c far, own order", server).await;
        assert_eq!((rounds, connections), (3, 6 + 1 + 4 + 1 + 4));
    }

    /// bench server b's kind: a legacy list (every registry suite with RSA or no
    /// authentication and RSA, DHE or ECDHE key exchange: more than OpenSSL has) in the
    /// server's own order, here far from the order the scan guesses (the weakest first):
    /// its first choices are not where the guess puts them, so the scan
    /// eliminates in one chain as before rather than spend twice the connections on blocks
    /// and a merge that would go against the guess.
    #[tokio::test(start_paused = true)]
    async fn legacy_server_in_an_unlikely_order_is_still_revealed() {
        let legacy = legacy_server(|all| {
            let mut order = likely(all);
            order.reverse();
            order
        });
        let most = legacy.iter().map(|(_, v)| v.accepts.len()).max().unwrap();
        let total: usize = legacy.iter().map(|(_, v)| v.accepts.len()).sum();
        let (rounds, connections) = check("b, unlikely order", legacy).await;
        assert!(rounds <= most + 2, "{rounds} rounds for {most} suites");
        assert!(
            connections <= total + 4 * 2 + 2,
            "{connections} for {total} suites"
        );
    }

    /// The same server with the order the scan guesses (forward secrecy, AEAD, SHA-2, key
    /// length, as [`ciphers::likely_order`] ranks them): each block is a stretch of the
    /// server's order, the merge is one round.
    #[tokio::test(start_paused = true)]
    async fn legacy_server_in_the_likely_order_takes_under_half_the_rounds() {
        let legacy = legacy_server(likely);
        let most = legacy.iter().map(|(_, v)| v.accepts.len()).max().unwrap();
        let (rounds, _) = check("b, likely order", legacy).await;
        assert!(rounds < most / 2, "{rounds} rounds for {most} suites");
    }

    /// Under a cap of 10 connections (the default) a legacy server's scan is bound by its
    /// longest block's chain and the cap together: never more rounds than twice the floor
    /// the cap sets (connections / cap).
    #[tokio::test(start_paused = true)]
    async fn under_the_cap_the_scan_stays_near_the_throughput_floor() {
        let (rounds, connections) = check("b, likely order", legacy_server(likely)).await;
        let floor = connections.div_ceil(crate::probe::DEFAULT_MAX_CONNECTIONS);
        assert!(
            rounds <= 2 * floor,
            "{rounds} rounds, {connections} connections"
        );
    }

    /// With a higher cap the same server takes fewer rounds (more blocks at once).
    #[tokio::test(start_paused = true)]
    async fn a_higher_cap_buys_rounds() {
        let total: usize = legacy_server(likely)
            .iter()
            .map(|(_, v)| v.accepts.len())
            .sum();
        let (at_10, _) = check_with("b", legacy_server(likely), 10).await;
        let (at_32, connections) = check_with("b", legacy_server(likely), 32).await;
        assert!(at_32 < at_10, "{at_32} rounds at cap 32, {at_10} at cap 10");
        // Each suite once; per version the reverse pick, a refusal per block and the merge
        // probes; the probes of the versions not accepted (SSLv2, SSLv3); and, since the
        // first picks are OpenSSL's too, the first places of a prediction that fails.
        assert!(
            connections
                <= total
                    + 4 * 2
                    + 2
                    + 3 * 2 * ciphers::MOST_BLOCKS
                    + 3 * (schedule_order::FIRST_PLACES + 1),
            "{connections} for {total} suites"
        );
    }

    /// bench server b itself: OpenSSL's ALL:@SECLEVEL=0 on an RSA key (no eNULL, which ALL
    /// leaves out), TLS 1.0 to 1.3 in OpenSSL's order. Each version's order is verified in one
    /// wave beside its reverse pick, the waves of all versions at once: the rounds are what the
    /// cap allows (every suite once, per version the reverse pick and a refusal), never a chain
    /// per suite.
    #[tokio::test(start_paused = true)]
    async fn openssl_all_in_its_own_order_is_verified_in_waves() {
        let server = openssl_server(|_| true);
        let total: usize = server.iter().map(|(_, v)| v.accepts.len()).sum();
        assert!(total > 80, "{total}");
        let cap = crate::probe::FAR_MAX_CONNECTIONS;
        let (rounds, connections) = check_with("b, OpenSSL's order", server, cap).await;
        // The versions' round, then the suites' probes at the cap's pace.
        let floor = 1 + (total + 4 * 3).div_ceil(cap);
        assert!(rounds <= floor + 1, "{rounds} rounds, floor {floor}");
        // Per version: the reverse pick, the refusal, and the places after it sent ahead.
        let most = 6 + total + 4 * (2 + schedule_order::FIRST_PLACES / 2);
        assert!(connections <= most, "{connections} for {total} suites");
    }

    /// The same without DH parameters (no DHE suite: gaps all through the prediction) costs
    /// one more round, and stays within a connection per predicted suite.
    #[tokio::test(start_paused = true)]
    async fn gaps_in_openssl_order_cost_a_round_not_a_chain() {
        let server = openssl_server(|s| s.kx != "DHE");
        let total: usize = server.iter().map(|(_, v)| v.accepts.len()).sum();
        let cap = crate::probe::FAR_MAX_CONNECTIONS;
        let (rounds, connections) = check_with("b without DHE", server, cap).await;
        assert!(
            rounds <= 2 + (2 * total).div_ceil(cap) + 1,
            "{rounds} rounds"
        );
        assert!(
            connections <= 6 + 2 * total + 4 * 4,
            "{connections} for {total} suites"
        );
    }

    /// A server in the client's order whose first pick happens to be OpenSSL's head: the
    /// reverse pick stops the wave, so it costs at most what was in flight.
    #[tokio::test(start_paused = true)]
    async fn a_client_order_server_stops_the_wave() {
        let tls12 = ids(&["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"]);
        let (_, connections) = check_with(
            "client order, OpenSSL's head",
            vec![(
                Tls12,
                Version {
                    accepts: tls12,
                    own_order: false,
                },
            )],
            8,
        )
        .await;
        assert!(connections <= 6 + 2 * 8 + 4, "{connections}");
    }

    /// OpenSSL's ALL:@SECLEVEL=0 for an RSA key in TLS 1.0 to 1.2 (the suites of `keep`) and
    /// its three default TLS 1.3 suites, in OpenSSL's order.
    fn openssl_server(
        keep: impl Fn(&suites::CipherSuite) -> bool,
    ) -> Vec<(ProtocolVersion, Version)> {
        let head = ids(&["ECDHE-RSA-AES256-GCM-SHA384"])[0];
        let mut out: Vec<(ProtocolVersion, Version)> = [Tls10, Tls11, Tls12]
            .into_iter()
            .map(|v| {
                let head = if v == Tls12 {
                    head
                } else {
                    ids(&["ECDHE-RSA-AES256-SHA"])[0]
                };
                let accepts = crate::scan::cipher_order::predicted(v, head)
                    .into_iter()
                    .filter(|id| {
                        let s = suites::by_id(u32::from(id.0)).unwrap();
                        s.enc != "NULL" && keep(s)
                    })
                    .collect();
                (
                    v,
                    Version {
                        accepts,
                        own_order: true,
                    },
                )
            })
            .collect();
        out.push((
            Tls13,
            Version {
                accepts: ids(&[
                    "TLS_AES_256_GCM_SHA384",
                    "TLS_CHACHA20_POLY1305_SHA256",
                    "TLS_AES_128_GCM_SHA256",
                ]),
                own_order: true,
            },
        ));
        out
    }

    /// The server's order as the scan guesses it ([`ciphers::likely_order`]).
    fn likely(all: Vec<CipherSuiteId>) -> Vec<CipherSuiteId> {
        let (prior, _) = ciphers::likely_order(&all);
        prior.into_iter().filter(|id| all.contains(id)).collect()
    }

    /// Every suite OpenSSL's ALL:@SECLEVEL=0 has for an RSA key in TLS 1.0 to 1.2 (and three
    /// of TLS 1.3), each version in the server's own order made by `order` from the
    /// candidates.
    fn legacy_server(
        order: impl Fn(Vec<CipherSuiteId>) -> Vec<CipherSuiteId>,
    ) -> Vec<(ProtocolVersion, Version)> {
        let rsa_or_anon = |v: ProtocolVersion| -> Vec<CipherSuiteId> {
            candidates(v)
                .into_iter()
                .filter(|id| {
                    suites::by_id(u32::from(id.0)).is_some_and(|s| {
                        matches!(s.auth, "RSA" | "anon") && matches!(s.kx, "RSA" | "DHE" | "ECDHE")
                    })
                })
                .collect()
        };
        [Tls10, Tls11, Tls12]
            .into_iter()
            .map(|v| {
                (
                    v,
                    Version {
                        accepts: order(rsa_or_anon(v)),
                        own_order: true,
                    },
                )
            })
            .chain([(
                Tls13,
                Version {
                    accepts: tls13_all()[..3].to_vec(),
                    own_order: true,
                },
            )])
            .collect()
    }

    /// The probes of [`confirm_order`] against `server`'s version `v`: what it confirmed,
    /// in how many rounds, with how many connections.
    async fn confirm(
        server: &Simulated,
        v: ProtocolVersion,
        guess: &[CipherSuiteId],
    ) -> (Option<Vec<CipherSuiteId>>, usize, usize) {
        let ask = |offer: Vec<CipherSuiteId>| -> BoxFuture<'_, Option<CipherSuiteId>> {
            Box::pin(async move { server.pick(v, &offer).await })
        };
        let all = candidates(v);
        let first: Vec<CipherSuiteId> = server.answer(v, &all).into_iter().collect();
        let (start, before) = (Instant::now(), server.connections.load(Ordering::Relaxed));
        let got = confirm_order(&ask, &all, &first, guess)
            .await
            .map(|rest| first.iter().copied().chain(rest).collect());
        let rounds = in_rounds(start.elapsed(), PROBE);
        (
            got,
            rounds,
            server.connections.load(Ordering::Relaxed) - before,
        )
    }

    /// TLS 1.0 of a legacy server in its own order, the same list as its TLS 1.2: confirmed
    /// from TLS 1.2's order in one round, one connection per suite; any departure from the
    /// guess (another order, the client's order, one suite more or less) is no
    /// confirmation. (Here only the first pick is proven; the scan has its second too.)
    #[tokio::test(start_paused = true)]
    async fn an_order_another_version_showed_is_confirmed_in_one_round() {
        let mut versions = legacy_server(likely);
        let tls12 = versions
            .iter()
            .find(|(v, _)| *v == Tls12)
            .unwrap()
            .1
            .accepts
            .clone();
        // The simulated list has export suites TLS 1.2 cannot have, which OpenSSL 3 no
        // longer has: one server of that kind is not confirmed from TLS 1.2's order.
        let with_export = Simulated::with_cap(versions.clone(), 64);
        assert_eq!(confirm(&with_export, Tls10, &tls12).await.0, None);
        let in_tls10 = candidates(Tls10);
        let (_, ver) = versions.iter_mut().find(|(v, _)| *v == Tls10).unwrap();
        ver.accepts = tls12
            .iter()
            .copied()
            .filter(|id| in_tls10.contains(id))
            .collect();
        let server = Simulated::with_cap(versions, 64);
        let tls10 = server.versions[&Tls10].accepts.clone();
        assert!(tls10.len() > 10 && tls10.len() < tls12.len());
        let (got, rounds, connections) = confirm(&server, Tls10, &tls12).await;
        assert_eq!(got.as_ref(), Some(&tls10));
        assert_eq!(rounds, 1);
        assert_eq!(connections, tls10.len());

        let mut swapped = tls12.clone();
        let (a, b) = (
            swapped.iter().position(|x| *x == tls10[3]).unwrap(),
            swapped.iter().position(|x| *x == tls10[4]).unwrap(),
        );
        swapped.swap(a, b);
        assert_eq!(confirm(&server, Tls10, &swapped).await.0, None);
        let fewer: Vec<CipherSuiteId> = tls12.iter().copied().filter(|x| *x != tls10[5]).collect();
        assert_eq!(confirm(&server, Tls10, &fewer).await.0, None);
        let last = *tls10.last().unwrap();
        let without_last: Vec<CipherSuiteId> =
            tls12.iter().copied().filter(|x| *x != last).collect();
        assert_eq!(confirm(&server, Tls10, &without_last).await.0, None);
        // A head that is not the server's first pick: nothing is asked.
        let (got, _, connections) = confirm(&server, Tls10, &tls10[1..]).await;
        assert_eq!((got, connections), (None, 0));

        // Two suites: the second and the refusal of the rest.
        let two = tls13_all()[..2].to_vec();
        let server = Simulated::with_cap(
            vec![(
                Tls13,
                Version {
                    accepts: two.clone(),
                    own_order: true,
                },
            )],
            8,
        );
        let (got, _, connections) = confirm(&server, Tls13, &two).await;
        assert_eq!((got, connections), (Some(two), 2));
        // The client's order with more suites: the pairs offered the less preferred first
        // are answered with it.
        let client = vec![(
            Tls10,
            Version {
                accepts: tls10.clone(),
                own_order: false,
            },
        )];
        let server = Simulated::with_cap(client, 64);
        assert_eq!(confirm(&server, Tls10, &tls12).await.0, None);
    }

    /// A server of plain items (groups, say) for [`enumerate_in_waves`]: what it accepts, in
    /// its own order when `own`, else it takes the client's first acceptable item.
    struct Items {
        accepts: Vec<u16>,
        own: bool,
        slots: Semaphore,
        connections: AtomicUsize,
    }

    impl Items {
        fn new(accepts: &[u16], own: bool) -> Self {
            Items {
                accepts: accepts.to_vec(),
                own,
                slots: Semaphore::new(32),
                connections: AtomicUsize::new(0),
            }
        }

        fn ask(&self, offer: Vec<u16>) -> BoxFuture<'_, Option<u16>> {
            Box::pin(async move {
                let _slot = self.slots.acquire().await.expect("open semaphore");
                self.connections.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(PROBE).await;
                if self.own {
                    self.accepts.iter().copied().find(|x| offer.contains(x))
                } else {
                    offer.iter().copied().find(|x| self.accepts.contains(x))
                }
            })
        }

        /// The waves' finding, rounds and connections, and what elimination in rounds finds.
        async fn both(&self, all: &[u16], likely: &[u16]) -> (Found<u16>, usize, usize, Vec<u16>) {
            let ask = |offer: Vec<u16>| self.ask(offer);
            let start = Instant::now();
            let found = enumerate_in_waves(&ask, all, likely).await;
            let rounds = in_rounds(start.elapsed(), PROBE);
            let connections = self.connections.swap(0, Ordering::Relaxed);
            let own = OwnOrder::sequential();
            let eliminated = super::enumerate(&ask, all, None, 2, own).await.items;
            (found, rounds, connections, eliminated)
        }
    }

    /// [`enumerate_alone`] after round 1's two picks (a far server's TLS 1.2 curves with an
    /// RSA certificate): the usual items alone and the rest once in one round, an order of
    /// the server's own proven by pairs in one more; the same items as elimination.
    #[tokio::test(start_paused = true)]
    async fn alone_after_round_one_finds_what_elimination_finds() {
        let candidates: Vec<u16> = (1..=40).collect();
        let all = candidates.as_slice();
        let usual = [29, 23, 30, 25, 24];
        let run = |accepts: &'static [u16], own: bool| async move {
            let server = Items::new(accepts, own);
            let ask = |offer: Vec<u16>| server.ask(offer);
            let reversed: Vec<u16> = all.iter().rev().copied().collect();
            let (first, backward) = futures::join!(ask(all.to_vec()), ask(reversed));
            let start = Instant::now();
            let found = enumerate_alone(&ask, all, first.unwrap(), Some(backward), &usual, 2).await;
            let rounds = in_rounds(start.elapsed(), PROBE);
            let connections = server.connections.swap(0, Ordering::Relaxed);
            let eliminated = eliminate(&ask, all.to_vec()).await;
            (found, rounds, connections, eliminated)
        };
        // OpenSSL's default curves in its own order: singles and the rest, then four pairs.
        let (found, rounds, connections, eliminated) = run(&[29, 23, 30, 25, 24], true).await;
        assert_eq!(found.items, eliminated);
        assert_eq!(found.own_order, Some(true));
        assert_eq!((rounds, connections), (2, 2 + 4 + 1 + 4));
        // The client's order: done in one round, in the candidates' order.
        let (found, rounds, _, _) = run(&[23, 24, 29], false).await;
        assert_eq!(
            (found.items.as_slice(), found.own_order),
            (&[23, 24, 29][..], Some(false))
        );
        assert_eq!(rounds, 1);
        // An unusual curve too: found by the rest's elimination.
        let (found, _, _, eliminated) = run(&[3, 29, 23], true).await;
        let mut sorted = found.items.clone();
        sorted.sort();
        assert_eq!(sorted, [3, 23, 29]);
        assert_eq!(found.items, eliminated);
    }

    #[tokio::test(start_paused = true)]
    async fn waves_find_what_elimination_finds_in_one_or_two_rounds() {
        let all: Vec<u16> = (1..=40).collect();
        let likely = [29, 23, 30, 25, 24, 256, 257];
        // The client's order: one wave (the likely ones alone, the rest once, both picks).
        let server = Items::new(&[23, 24, 29], false);
        let (found, rounds, connections, eliminated) = server.both(&all, &likely).await;
        assert_eq!(found.items, [23, 24, 29]);
        assert_eq!(found.items, eliminated);
        assert_eq!(found.own_order, Some(false));
        assert_eq!((rounds, connections), (1, 5 + 1 + 2));
        // An order of its own, the likely one: a second wave of adjacent pairs proves it.
        let server = Items::new(&[29, 23, 24], true);
        let (found, rounds, connections, eliminated) = server.both(&all, &likely).await;
        assert_eq!(found.items, [29, 23, 24]);
        assert_eq!(found.items, eliminated);
        assert_eq!(found.own_order, Some(true));
        assert_eq!((rounds, connections), (2, 5 + 1 + 2 + 2));
        // Another order of its own: a pair departs, and elimination over what was
        // accepted gives the server's order.
        let server = Items::new(&[29, 24, 23], true);
        let (found, _, _, eliminated) = server.both(&all, &likely).await;
        assert_eq!(found.items, [29, 24, 23]);
        assert_eq!(found.items, eliminated);
        // A first pick that is not the likely head: elimination from the start.
        let server = Items::new(&[24, 29, 23], true);
        let (found, _, _, eliminated) = server.both(&all, &likely).await;
        assert_eq!(found.items, [24, 29, 23]);
        assert_eq!(found.items, eliminated);
        // Something outside the likely ones is accepted too: found by the rest's elimination.
        let server = Items::new(&[3, 23, 29], false);
        let (found, rounds, _, eliminated) = server.both(&all, &likely).await;
        assert_eq!(found.items, [3, 23, 29]);
        assert_eq!(found.items, eliminated);
        assert_eq!(rounds, 2);
        // One item, or none: no order to tell.
        let server = Items::new(&[25], true);
        let (found, rounds, _, eliminated) = server.both(&all, &likely).await;
        assert_eq!((found.items.as_slice(), found.own_order), (&[25][..], None));
        assert_eq!((found.items, rounds), (eliminated, 1));
        let server = Items::new(&[], false);
        let (found, _, connections, _) = server.both(&all, &likely).await;
        assert!(found.items.is_empty());
        assert_eq!(connections, 5 + 1 + 2);
    }

    #[test]
    fn rounds_follow_the_longest_chain_of_connections() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // Two at once, then one after both, then one more after that: three rounds. The
        // last one overlaps the second and does not lengthen the chain.
        let spans = [
            (at(0), Some(at(100))),
            (at(0), Some(at(100))),
            (at(100), Some(at(200))),
            (at(150), Some(at(250))),
            (at(200), Some(at(300))),
        ];
        assert_eq!(rounds(&spans, at(300)), 3);
        assert_eq!(rounds(&[], t0), 0);
        // Still open: counts as closing now.
        assert_eq!(rounds(&[(at(0), None), (at(10), Some(at(20)))], at(50)), 1);
        assert_eq!(in_rounds(Duration::from_millis(250), PROBE), 3);
    }
}
