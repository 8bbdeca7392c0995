//! Revealing a server's own order of preference in rounds, not one probe after another.
//!
//! Elimination over everything (offer all, take the choice away, offer again) finds the
//! order as it goes but is one chain: a server with 60 suites costs 60 sequential round
//! trips. Here the candidates are cut into disjoint blocks, each eliminated on its own, all
//! blocks at once: each block's chain is that block's members in the server's order. The
//! chains are then merged by asking the server to choose between their heads: an offer of
//! several suites is answered with the one the server prefers, so one probe compares a
//! whole set at once.
//!
//! The blocks follow a likely order of preference (the caller's `prior`), so that when the
//! guess is good each block holds a stretch of the server's order and the merge needs one
//! probe per block boundary, all in one round. A wrong guess costs probes and rounds, never
//! correctness: every place of the merged order is taken only once the answers prove it
//! (each answer is the most preferred of its offer), and every round includes the probe
//! offering all the heads, whose answer is always the next place. So the merge is never
//! slower, in rounds, than elimination over what is left.

use super::schedule::{Ask, OwnOrder, eliminate};
use futures::StreamExt;
use futures::future::{AbortHandle, Abortable};
use futures::stream::FuturesUnordered;
use std::sync::atomic::{AtomicBool, Ordering};

/// Every member of `left` (in the server's own order), found by eliminating disjoint
/// blocks of it in parallel and merging the chains: the plausible items (`own.prior`'s
/// first `own.likely`) cut into `own.blocks - 1` blocks in their likely order, everything
/// else in one more (where a server seldom accepts anything: one refusal, as a rule).
/// Items of `left` not in the prior count as implausible.
pub async fn reveal<'a, T, A>(ask: &A, left: &[T], own: OwnOrder<'_, T>) -> Vec<T>
where
    T: Copy + PartialEq + Send + Sync,
    A: Ask<'a, T> + ?Sized,
{
    let likely = own.likely.min(own.prior.len());
    let plausible: Vec<T> = own.prior[..likely]
        .iter()
        .copied()
        .filter(|x| left.contains(x))
        .collect();
    let rest: Vec<T> = own.prior[likely..]
        .iter()
        .copied()
        .filter(|x| left.contains(x) && !plausible.contains(x))
        .chain(left.iter().copied().filter(|x| !own.prior.contains(x)))
        .collect();
    if own.blocks <= 1 {
        return eliminate(ask, plausible.into_iter().chain(rest).collect()).await;
    }
    let size = plausible.len().div_ceil(own.blocks - 1).max(1);
    let mut blocks: Vec<Vec<T>> = plausible.chunks(size).map(<[T]>::to_vec).collect();
    blocks.push(rest);
    blocks.retain(|b| !b.is_empty());
    let chains = futures::future::join_all(blocks.into_iter().map(|b| eliminate(ask, b))).await;
    merge(ask, chains).await
}

/// What is known of the merge: the members (every chain's, concatenated), and which is
/// known to be preferred to which.
struct Known<T> {
    items: Vec<T>,
    /// `chains[c]`: the indices into `items` of chain `c`, most preferred first.
    chains: Vec<Vec<usize>>,
    /// `over[a][b]`: the server is known to prefer item `a` to item `b` (closed
    /// transitively).
    over: Vec<Vec<bool>>,
}

impl<T: Copy + PartialEq> Known<T> {
    fn new(chains: Vec<Vec<T>>) -> Self {
        let mut items = Vec::new();
        let mut idx = Vec::new();
        for chain in chains.into_iter().filter(|c| !c.is_empty()) {
            let start = items.len();
            items.extend(chain);
            idx.push((start..items.len()).collect::<Vec<usize>>());
        }
        let n = items.len();
        let mut over = vec![vec![false; n]; n];
        for chain in &idx {
            for (i, &a) in chain.iter().enumerate() {
                for &b in &chain[i + 1..] {
                    over[a][b] = true;
                }
            }
        }
        Known {
            items,
            chains: idx,
            over,
        }
    }

    /// The server chose `chosen` from `offer`: it prefers it to every other item offered.
    fn learn(&mut self, chosen: usize, offer: &[usize]) {
        for &b in offer.iter().filter(|&&b| b != chosen) {
            self.over[chosen][b] = true;
        }
        // Transitive closure (a few dozen items: cubic is cheap next to a round trip).
        let n = self.items.len();
        for k in 0..n {
            for a in 0..n {
                if self.over[a][k] {
                    for b in 0..n {
                        if self.over[k][b] {
                            self.over[a][b] = true;
                        }
                    }
                }
            }
        }
    }

    fn index(&self, x: &T) -> Option<usize> {
        self.items.iter().position(|y| y == x)
    }
}

/// The chains' heads from position `next` on: (chain, item) for each chain not used up.
fn heads(known: &Known<impl Copy>, next: &[usize]) -> Vec<(usize, usize)> {
    known
        .chains
        .iter()
        .enumerate()
        .filter_map(|(c, chain)| chain.get(next[c]).map(|&i| (c, i)))
        .collect()
}

/// Merge chains (each in the server's order, disjoint) into one, in the server's order.
pub async fn merge<'a, T, A>(ask: &A, chains: Vec<Vec<T>>) -> Vec<T>
where
    T: Copy + PartialEq + Send + Sync,
    A: Ask<'a, T> + ?Sized,
{
    let mut known = Known::new(chains);
    let mut next = vec![0usize; known.chains.len()];
    let mut merged: Vec<usize> = Vec::new();
    // How many offers a round may make: all chains' worth while the guess proves right,
    // halved each round it proves wrong (down to the one offer of all heads, which is
    // elimination), so that a server whose order is far from the guess costs about one
    // probe per place, not one per chain and place.
    let mut budget = known.chains.len();
    let mut asked = 0usize;
    loop {
        let before = merged.len();
        // Take every place the answers so far prove.
        loop {
            let live = heads(&known, &next);
            match live.as_slice() {
                [] => return merged.into_iter().map(|i| known.items[i]).collect(),
                [(c, _)] => {
                    merged.extend_from_slice(&known.chains[*c][next[*c]..]);
                    return merged.into_iter().map(|i| known.items[i]).collect();
                }
                _ => {}
            }
            let Some(&(c, i)) = live
                .iter()
                .find(|(_, h)| live.iter().all(|(_, o)| o == h || known.over[*h][*o]))
            else {
                break;
            };
            merged.push(i);
            next[c] += 1;
        }
        if asked > 0 {
            let gained = merged.len() - before;
            budget = if gained > asked || (gained == asked && asked > 1) {
                (budget * 2).min(known.chains.len())
            } else {
                (budget / 2).max(1)
            };
        }
        let offers = plan(&known, &next, budget);
        asked = offers.len();
        let answers = futures::future::join_all(offers.iter().map(|offer| {
            let suites: Vec<T> = offer.iter().map(|&i| known.items[i]).collect();
            ask.ask(suites)
        }))
        .await;
        for (offer, answer) in offers.iter().zip(answers) {
            match answer
                .and_then(|x| known.index(&x))
                .filter(|i| offer.contains(i))
            {
                Some(chosen) => known.learn(chosen, offer),
                // The server refused suites it accepted a moment ago, or answered one not
                // offered: the answers cannot be trusted to merge; what is left goes by
                // elimination, which reveals it on its own terms.
                None => {
                    let left: Vec<T> = heads(&known, &next)
                        .iter()
                        .flat_map(|&(c, _)| known.chains[c][next[c]..].to_vec())
                        .map(|i| known.items[i])
                        .collect();
                    let mut out: Vec<T> = merged.into_iter().map(|i| known.items[i]).collect();
                    out.extend(eliminate(ask, left).await);
                    return out;
                }
            }
        }
    }
}

/// The offers of one merge round. The guess of the merged order takes, at each place, the
/// head no other head is known to beat, the earlier chain first (the chains come from
/// blocks in the likely order). Each run of the guess from one chain is checked with one
/// offer: its last item against the other heads at that point (which, if chosen, proves the
/// whole run, its earlier items being preferred to its last). The first offer is always all
/// the current heads: its answer is the next place whatever the guess.
fn plan<T: Copy + PartialEq>(known: &Known<T>, next: &[usize], budget: usize) -> Vec<Vec<usize>> {
    let mut offers: Vec<Vec<usize>> = vec![heads(known, next).iter().map(|&(_, i)| i).collect()];
    if budget <= 1 {
        return offers;
    }
    let mut at = next.to_vec();
    // How often each chain's items won against another chain's, less how often they lost:
    // a block that beat another once is likely before it as a whole.
    let n = known.items.len();
    let chain_of: Vec<usize> = {
        let mut c = vec![0; n];
        for (ci, chain) in known.chains.iter().enumerate() {
            chain.iter().for_each(|&i| c[i] = ci);
        }
        c
    };
    let mut standing = vec![0i64; known.chains.len()];
    for a in 0..n {
        for b in 0..n {
            if known.over[a][b] && chain_of[a] != chain_of[b] {
                standing[chain_of[a]] += 1;
                standing[chain_of[b]] -= 1;
            }
        }
    }
    let mut run: Option<(usize, usize)> = None;
    loop {
        let live = heads(known, &at);
        let chosen = (live.len() >= 2).then(|| {
            // A head no other head is known to beat; among those, the chain standing best,
            // the earlier chain (the likelier block) on a tie.
            *live
                .iter()
                .filter(|(_, h)| !live.iter().any(|(_, o)| known.over[*o][*h]))
                .max_by_key(|(c, _)| (standing[*c], std::cmp::Reverse(*c)))
                .unwrap_or(&live[0])
        });
        // The run from chain `rc` ended with `last` (another chain's turn, or only one
        // chain left): check it against the other heads as they are now.
        if let Some((rc, last)) = run.filter(|(rc, _)| chosen.is_none_or(|(c, _)| c != *rc)) {
            let mut others: Vec<usize> = live
                .iter()
                .filter(|(oc, o)| *oc != rc && !known.over[last][*o])
                .map(|&(_, o)| o)
                .collect();
            if !others.is_empty() {
                others.insert(0, last);
                if !offers.contains(&others) {
                    offers.push(others);
                }
            }
        }
        let Some((c, i)) = chosen else { break };
        if offers.len() >= budget {
            break;
        }
        run = Some((c, i));
        at[c] += 1;
    }
    offers
}

/// How many places of a prediction [`verify`] sends before any answer fits it: a prediction
/// that is wrong from the start costs no more. Each answer that fits releases
/// [`PLACES_PER_FIT`] more, so a right one is sent as fast as the connection cap allows after
/// a round or two.
pub const FIRST_PLACES: usize = 16;

/// How many more places of a prediction [`verify`] sends for each answer that fits it: with
/// [`FIRST_PLACES`] fitting, 128 more may go in the next round, so OpenSSL's 56 TLS 1.2 places
/// of bench server b are proven in two rounds, as fast as the connection cap lets them go
/// (with 8 first and 4 per fit, three: b's scan at RTT 50 ms took 0.38-0.43 s, now 0.38-0.39 s,
/// 165-168 connections either way).
pub const PLACES_PER_FIT: usize = 8;

/// What a wave of [`verify`] proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<T> {
    /// The places after those already known, in the server's order, each one proven.
    pub proven: Vec<T>,
    /// Whether the server accepts nothing else: the order is then complete.
    pub complete: bool,
}

/// The server's order after the places already `known`, when it is likely `predicted` (the
/// prior's order, which may name suites the server lacks): verified in one wave instead of
/// revealed one step after another. With `q` the predicted items not yet known, the probe of
/// place `i` offers everything but `known` and `q[..i]`; its answer is a proven fact either
/// way (the server's choice from what is left once those are gone), and where the prediction
/// holds it is `q[i]`. They go at once (the first [`FIRST_PLACES`] of them and the offer of
/// everything outside the prediction, then [`PLACES_PER_FIT`] more per answer that fits), so a round or
/// two proves the whole order:
///
/// - every answer `q[i]` (and the first refusal, which shows nothing else is accepted):
///   the order is `q` up to that refusal;
/// - an answer further down the prediction, `q[j]` with `j > i`, says `q[i..j]` are not
///   accepted, or are accepted below `q[j]`: such a gap inside the order costs one more
///   probe, everything but the answers, which must be refused;
/// - an answer outside the prediction, or answers that contradict each other, end the wave
///   (the probes still waiting for a connection are dropped and never sent), as does
///   `stop` (set when another probe shows the server follows the client's order).
///
/// What is proven then is the run of answers that matched from the start, and the answer
/// after it; the caller reveals the rest as usual. The probes after a refusal are not sent:
/// their smaller offers would be refused too.
pub async fn verify<'a, T, A>(
    ask: &A,
    all: &[T],
    known: &[T],
    predicted: &[T],
    stop: &AtomicBool,
) -> Verified<T>
where
    T: Copy + PartialEq + Send + Sync,
    A: Ask<'a, T> + ?Sized,
{
    let mut q: Vec<T> = Vec::new();
    for x in predicted {
        if all.contains(x) && !known.contains(x) && !q.contains(x) {
            q.push(*x);
        }
    }
    let n = q.len();
    let offer = |i: usize| -> Vec<T> {
        all.iter()
            .copied()
            .filter(|x| !known.contains(x) && !q[..i].contains(x))
            .collect()
    };
    // answers[i]: the answer to the offer of place i (None: not known).
    let mut answers: Vec<Option<Option<T>>> = vec![None; n + 1];
    {
        let mut handles: Vec<Option<AbortHandle>> = vec![None; n + 1];
        let mut wave = FuturesUnordered::new();
        // The places sent so far (the offer outside the prediction goes with the first).
        let mut sent = 0usize;
        let mut released = FIRST_PLACES.min(n);
        let send = |i: usize,
                    answers: &mut Vec<Option<Option<T>>>,
                    handles: &mut Vec<Option<AbortHandle>>| {
            if answers[i].is_some() {
                return None;
            }
            let o = offer(i);
            if o.is_empty() {
                answers[i] = Some(None);
                return None;
            }
            let (handle, registration) = AbortHandle::new_pair();
            handles[i] = Some(handle);
            let asked = ask.ask(o.clone());
            Some(Abortable::new(
                async move { (i, asked.await.filter(|x| o.contains(x))) },
                registration,
            ))
        };
        if let Some(f) = send(n, &mut answers, &mut handles) {
            wave.push(f);
        }
        loop {
            while sent < released {
                if let Some(f) = send(sent, &mut answers, &mut handles) {
                    wave.push(f);
                }
                sent += 1;
            }
            let Some(done) = wave.next().await else { break };
            let Ok((i, answer)) = done else { continue };
            answers[i] = Some(answer);
            if answer.is_none() {
                // Every later offer is a part of this one: refused too, and not sent.
                for j in i + 1..=n {
                    if let Some(h) = &handles[j] {
                        h.abort();
                    }
                    answers[j].get_or_insert(None);
                }
            }
            if stop.load(Ordering::Relaxed) || !consistent(&q, &answers) {
                // The answer after the run that matched is still worth its connection
                // (what the caller goes on from); nothing else is.
                let k = matched(&q, &answers);
                let keep = k..(k + FIRST_PLACES).min(n);
                for (j, h) in handles.iter().enumerate() {
                    if let Some(h) = h.as_ref().filter(|_| !keep.contains(&j)) {
                        h.abort();
                    }
                }
                loop {
                    let k = matched(&q, &answers);
                    if answers[k].is_some() || !keep.contains(&k) {
                        break;
                    }
                    match wave.next().await {
                        Some(Ok((i, answer))) => answers[i] = Some(answer),
                        Some(Err(_)) => {}
                        None => break,
                    }
                }
                break;
            }
            // Each answer that fits lets more places go.
            released = (released + PLACES_PER_FIT).min(n);
        }
    }
    let settled = answers.iter().all(Option::is_some) && consistent(&q, &answers);
    let gaps = (0..n).any(|i| matches!(answers[i], Some(Some(x)) if x != q[i]));
    // A wave that ran to its end proves its order whoever's order the server follows.
    if settled {
        let mut order: Vec<T> = Vec::new();
        for x in answers.iter().flatten().flatten() {
            if !order.contains(x) {
                order.push(*x);
            }
        }
        if !gaps {
            return Verified {
                proven: order,
                complete: true,
            };
        }
        let rest: Vec<T> = all
            .iter()
            .copied()
            .filter(|x| !known.contains(x) && !order.contains(x))
            .collect();
        let refused = rest.is_empty()
            || ask
                .ask(rest.clone())
                .await
                .filter(|x| rest.contains(x))
                .is_none();
        if refused {
            return Verified {
                proven: order,
                complete: true,
            };
        }
    }
    // The run that matched from the start, and the answer after it.
    let k = matched(&q, &answers);
    let mut proven = q[..k].to_vec();
    match answers[k] {
        Some(Some(x)) => {
            proven.push(x);
            Verified {
                proven,
                complete: false,
            }
        }
        Some(None) => Verified {
            proven,
            complete: true,
        },
        None => Verified {
            proven,
            complete: false,
        },
    }
}

/// How many places from the start were answered with their own item of `q`.
fn matched<T: PartialEq>(q: &[T], answers: &[Option<Option<T>>]) -> usize {
    (0..q.len())
        .take_while(|&i| matches!(&answers[i], Some(Some(x)) if *x == q[i]))
        .count()
}

/// Whether the answers so far (`answers[i]` to the offer of place `i` of the prediction `q`,
/// see [`verify`]) fit an order that follows `q` with some of its items missing: each answer
/// is at or after its place, the same answer holds until its own place, and after a refusal
/// everything is refused.
fn consistent<T: PartialEq>(q: &[T], answers: &[Option<Option<T>>]) -> bool {
    let at = |x: &T| q.iter().position(|y| y == x);
    for (i, a) in answers.iter().enumerate() {
        let Some(a) = a else { continue };
        let p = match a {
            Some(x) => match at(x) {
                Some(p) if p >= i => Some(p),
                _ => return false,
            },
            None => None,
        };
        for b in answers[i + 1..]
            .iter()
            .enumerate()
            .filter_map(|(d, b)| Some((i + 1 + d, b.as_ref()?)))
        {
            let (j, b) = b;
            match (a, p) {
                (None, _) if b.is_some() => return false,
                (Some(x), Some(p)) if j <= p && b.as_ref() != Some(x) => return false,
                _ => {}
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;
    use futures::future::BoxFuture;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;
    use tokio::sync::Semaphore;
    use tokio::time::Instant;

    const PROBE: Duration = Duration::from_millis(100);

    /// A server with an order of its own over `accepts` (most preferred first), in virtual
    /// time: each probe holds one of `cap` slots for one probe time.
    struct Server {
        accepts: Vec<u16>,
        slots: Semaphore,
        asked: Mutex<usize>,
        most_at_once: Mutex<(usize, usize)>,
    }

    impl Server {
        fn new(accepts: Vec<u16>, cap: usize) -> Self {
            Server {
                accepts,
                slots: Semaphore::new(cap),
                asked: Mutex::new(0),
                most_at_once: Mutex::new((0, 0)),
            }
        }

        fn ask<'s>(&'s self) -> impl Fn(Vec<u16>) -> BoxFuture<'s, Option<u16>> + Sync + 's {
            move |offer: Vec<u16>| {
                async move {
                    let _slot = self.slots.acquire().await.expect("open semaphore");
                    *self.asked.lock().unwrap() += 1;
                    {
                        let mut m = self.most_at_once.lock().unwrap();
                        m.0 += 1;
                        m.1 = m.1.max(m.0);
                    }
                    tokio::time::sleep(PROBE).await;
                    self.most_at_once.lock().unwrap().0 -= 1;
                    self.accepts.iter().copied().find(|s| offer.contains(s))
                }
                .boxed()
            }
        }
    }

    /// A pseudo-random permutation (an LCG), so the tests need no crate.
    fn shuffled(n: u16, seed: u64) -> Vec<u16> {
        let mut v: Vec<u16> = (0..n).collect();
        let mut s = seed;
        for i in (1..v.len()).rev() {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            v.swap(i, (s >> 33) as usize % (i + 1));
        }
        v
    }

    /// Reveal the order of a server accepting `members` of `candidates`, guessing `prior`;
    /// answers the rounds and the connections.
    async fn run(
        members: Vec<u16>,
        candidates: &[u16],
        prior: &[u16],
        blocks: usize,
        cap: usize,
    ) -> (usize, usize, usize) {
        let server = Server::new(members.clone(), cap);
        let start = Instant::now();
        let own = OwnOrder {
            prior,
            likely: prior.len(),
            blocks,
            predicted: &[],
        };
        let found = reveal(&server.ask(), candidates, own).await;
        assert_eq!(found, members, "the server's order, revealed");
        let rounds = start.elapsed().as_nanos().div_ceil(PROBE.as_nanos()) as usize;
        let asked = *server.asked.lock().unwrap();
        let most = server.most_at_once.lock().unwrap().1;
        eprintln!(
            "{} of {} candidates, {blocks} blocks, cap {cap}: {rounds} rounds, {asked} connections",
            members.len(),
            candidates.len()
        );
        (rounds, asked, most)
    }

    /// A good guess: 60 members among 300 candidates in the guessed order; 8 blocks.
    /// Elimination would take 61 rounds.
    #[tokio::test(start_paused = true)]
    async fn a_good_guess_reveals_sixty_in_a_few_rounds() {
        let candidates: Vec<u16> = (0..300).collect();
        let members: Vec<u16> = (0..300).filter(|x| x % 5 == 0).collect();
        let (rounds, asked, most) = run(members, &candidates, &candidates, 8, 64).await;
        // 7 blocks of the likely ones (the eighth, of implausible ones, is empty), 8 or 9
        // members each: 9 or 10 rounds of elimination, one merge round.
        assert!(rounds <= 11, "{rounds} rounds");
        // The members, one refusal per block, one merge offer per block boundary and the
        // offer of all heads.
        assert!(asked <= 60 + 7 + 7, "{asked} connections");
        assert!(most <= 64);
    }

    /// A useless guess (the server's order is a random permutation): still right, at most
    /// a block's worth of rounds more than elimination, and once the guess proves wrong the
    /// merge asks about one offer a place.
    #[tokio::test(start_paused = true)]
    async fn a_wrong_guess_costs_probes_not_correctness() {
        for seed in 1..6 {
            let candidates: Vec<u16> = (0..120).collect();
            let members: Vec<u16> = shuffled(120, seed).into_iter().take(40).collect();
            let (rounds, asked, _) = run(members, &candidates, &candidates, 6, 64).await;
            assert!(rounds <= 41 + 120 / 5, "seed {seed}: {rounds} rounds");
            assert!(asked <= 2 * 40 + 6 * 6, "seed {seed}: {asked} connections");
        }
    }

    /// Under a cap of 3 connections the blocks wait for slots; the cap is never exceeded.
    #[tokio::test(start_paused = true)]
    async fn the_cap_is_respected() {
        let candidates: Vec<u16> = (0..100).collect();
        let members: Vec<u16> = (0..100).filter(|x| x % 4 == 1).collect();
        let (_, _, most) = run(members, &candidates, &candidates, 8, 3).await;
        assert_eq!(most, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn small_and_empty_sets() {
        assert_eq!(run(vec![], &[1, 2, 3], &[1, 2, 3], 4, 8).await.1, 3);
        run(vec![2], &[1, 2, 3], &[3, 2, 1], 4, 8).await;
        run(vec![3, 1], &[1, 2, 3], &[], 2, 8).await;
        // One block: plain elimination.
        let (rounds, asked, _) = run(vec![3, 1, 2], &[1, 2, 3], &[1, 2, 3], 1, 8).await;
        assert_eq!((rounds, asked), (3, 3));
    }

    /// [`verify`] against a server accepting `members` (its order) of 0..100, predicting
    /// `predicted`, `known` its first pick; answers what was proven, the rounds and the
    /// connections.
    async fn verified(
        members: &[u16],
        predicted: &[u16],
        cap: usize,
    ) -> (Verified<u16>, usize, usize) {
        let server = Server::new(members.to_vec(), cap);
        let all: Vec<u16> = (0..100).collect();
        let stop = AtomicBool::new(false);
        let start = Instant::now();
        let got = verify(&server.ask(), &all, &members[..1], predicted, &stop).await;
        let rounds = start.elapsed().as_nanos().div_ceil(PROBE.as_nanos()) as usize;
        let asked = *server.asked.lock().unwrap();
        (got, rounds, asked)
    }

    /// The server's order as predicted: proven in a few rounds, one probe per place and the
    /// refusal of the rest.
    #[tokio::test(start_paused = true)]
    async fn a_right_prediction_is_proven_in_a_few_rounds() {
        let members: Vec<u16> = (0..100).rev().filter(|x| x % 3 == 0).collect();
        let (got, rounds, asked) = verified(&members, &members, 64).await;
        assert_eq!(got.proven, members[1..]);
        assert!(got.complete);
        // The first places, then PLACES_PER_FIT more per answer: two rounds for 34 places.
        assert_eq!(asked, members.len());
        assert!(rounds <= 2, "{rounds} rounds");
    }

    /// A prediction naming suites the server lacks: gaps inside the order cost one more
    /// probe (everything but the answers, refused), those after its end none (the offers
    /// after the first refusal are not sent).
    #[tokio::test(start_paused = true)]
    async fn gaps_in_a_prediction_cost_one_more_round() {
        let predicted: Vec<u16> = (0..60).collect();
        let members: Vec<u16> = (0..40).filter(|x| x % 4 != 1).collect();
        let (got, rounds, asked) = verified(&members, &predicted, 64).await;
        assert_eq!(got.proven, members[1..]);
        assert!(got.complete);
        assert!(rounds <= 4, "{rounds} rounds");
        assert!(asked <= predicted.len() + 1, "{asked}");
        // Only the tail missing: one round; under a cap of 8 the places after the refusal
        // are dropped before they are sent.
        let members: Vec<u16> = (0..20).collect();
        let (got, rounds, asked) = verified(&members, &predicted, 8).await;
        assert_eq!(got.proven, members[1..]);
        assert!(got.complete);
        assert!(asked <= 20 + 8, "{asked} connections");
        assert!(rounds <= 4, "{rounds} rounds");
    }

    /// A prediction that departs from the order: what is proven is the run that matched and
    /// the answer after it, never more; the probes still waiting are not sent.
    #[tokio::test(start_paused = true)]
    async fn a_wrong_prediction_proves_only_its_matching_start() {
        let predicted: Vec<u16> = (0..60).collect();
        let mut members: Vec<u16> = (0..60).collect();
        members.swap(10, 11);
        // 10 looks missing until the probe for the gap finds it.
        let (got, _, asked) = verified(&members, &predicted, 8).await;
        assert!(!got.complete);
        assert_eq!(got.proven, members[1..11]);
        assert!(asked <= predicted.len() + 1, "{asked} connections");
        // A suite outside the prediction ends the wave at once.
        let mut members: Vec<u16> = (0..60).collect();
        members.insert(3, 70);
        let (got, _, asked) = verified(&members, &predicted, 8).await;
        assert!(!got.complete);
        assert_eq!(got.proven, [1, 2, 70]);
        assert!(asked <= 3 + PLACES_PER_FIT * 8, "{asked} connections");
        // Accepted below where the prediction puts it: the gap probe is answered.
        let members: Vec<u16> = vec![0, 2, 3, 1];
        let (got, _, _) = verified(&members, &[0, 1, 2, 3], 64).await;
        assert!(!got.complete);
        assert_eq!(got.proven, [2]);
    }

    /// Stopped (the client's order showed): nothing more is sent than the places after what
    /// matched, and what was answered stands.
    #[tokio::test(start_paused = true)]
    async fn a_stopped_wave_sends_nothing_more() {
        let members: Vec<u16> = (0..50).collect();
        let server = Server::new(members.clone(), 4);
        let all: Vec<u16> = (0..100).collect();
        let stop = AtomicBool::new(true);
        let got = verify(&server.ask(), &all, &[0], &members, &stop).await;
        assert!(!got.complete);
        assert_eq!(got.proven, members[1..got.proven.len() + 1]);
        assert!(*server.asked.lock().unwrap() <= 4 + FIRST_PLACES);
    }

    #[test]
    fn answers_fit_a_prediction_with_gaps() {
        let q = [1, 2, 3, 4];
        assert!(consistent(
            &q,
            &[Some(Some(1)), None, Some(Some(3)), None, None]
        ));
        // 2 missing: place 1 answers 3, and so does place 2.
        assert!(consistent(
            &q,
            &[
                Some(Some(1)),
                Some(Some(3)),
                Some(Some(3)),
                Some(None),
                Some(None)
            ]
        ));
        assert!(!consistent(
            &q,
            &[Some(Some(1)), Some(Some(3)), Some(Some(4)), None, None]
        ));
        // An answer before its place, or after a refusal.
        assert!(!consistent(&q, &[None, Some(Some(1)), None, None, None]));
        assert!(!consistent(
            &q,
            &[Some(None), None, Some(Some(3)), None, None]
        ));
        // The last offer holds nothing predicted: any answer departs.
        assert!(!consistent(&q, &[None, None, None, None, Some(Some(9))]));
    }

    /// A guess that puts the blocks in reverse order: still right, and not much dearer
    /// than elimination (once the first merge rounds prove the guess wrong, about one offer
    /// per place).
    #[tokio::test(start_paused = true)]
    async fn blocks_in_the_wrong_order_still_merge_right() {
        let candidates: Vec<u16> = (0..64).collect();
        let members: Vec<u16> = (0..64).rev().filter(|x| x % 2 == 0).collect();
        let (rounds, asked, _) = run(members, &candidates, &candidates, 8, 64).await;
        assert!(rounds <= 33 + 6, "{rounds} rounds");
        assert!(asked <= 2 * 32 + 8 + 8, "{asked} connections");
    }
}
