//! What the first upgrade to a server taught, so that later connections to it can take the
//! pipelined dialogue: the command that starts TLS sent without waiting for the answer it
//! would otherwise wait for (IMAP's `STARTTLS` without `CAPABILITY`, SMTP's `EHLO` and
//! `STARTTLS` in one write where `PIPELINING` was advertised, …). A scan opens hundreds of
//! connections to one server; each skipped round trip is paid on every one of them.
//!
//! The memory belongs to one prelude, i.e. one address of one run. It starts unknown
//! (every connection takes the full dialogue), learns from the first full dialogue that
//! succeeds, and turns the shortcut off for good the first time the shortcut fails, so a
//! server that does not take it costs one extra connection and never a wrong result.
//!
//! A protocol whose shortcut goes out with the connection (IMAP, POP3, FTP, ManageSieve
//! before the greeting; XMPP's header and `<starttls/>` together) starts *optimistic*
//! instead: the user asked for that upgrade, so even the first connections, opened before
//! any upgrade could finish, try the shortcut, and a server that does not take it costs one
//! extra connection per connection then in flight (at most the connection cap). SMTP and
//! LMTP never start optimistic: their shortcut needs PIPELINING from the EHLO answer, and
//! speaking before their greeting is what pregreet checks punish.

use std::sync::Mutex;
use std::time::Duration;

/// Least time a shortcut is given before it counts as failed (a loaded machine, a slow
/// greeting), whatever the full dialogue took.
const MIN_BUDGET: Duration = Duration::from_secs(1);
/// A shortcut has one round trip fewer than the full dialogue; it may take this many times
/// as long as the full dialogue did before it counts as failed (a server that silently
/// discards what it reads before its greeting would otherwise hold it to the deadline).
const BUDGET_FACTOR: u32 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No upgrade has finished yet.
    Unknown,
    /// The shortcut is tried without having been learned (see the module comment).
    Optimistic,
    /// A full dialogue succeeded in `took` and showed the server allows the shortcut.
    Learned { took: Duration },
    /// The server does not allow the shortcut, it failed once, or it was turned off.
    Off,
}

/// How long a shortcut may take before it counts as failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Learned: the whole dialogue within this.
    Within(Duration),
    /// Optimistic, nothing measured yet: the answers must follow the server's first byte
    /// within [`after_first_byte`] of the wait for that byte.
    AfterFirstByte,
}

/// How long an optimistic shortcut's answers may take once the server's first byte came
/// `first_byte` after the request went out. The answer to a request the server already
/// holds comes with or right after that byte; a server that read and dropped it (speech
/// before its greeting discarded) never answers, and costs this instead of the deadline.
pub fn after_first_byte(first_byte: Duration) -> Duration {
    (first_byte * BUDGET_FACTOR).max(MIN_BUDGET)
}

/// One address's memory of its upgrade.
#[derive(Debug)]
pub struct Memory {
    state: Mutex<State>,
}

impl Memory {
    /// `enabled` false (`--starttls-full`): always the full dialogue. `optimistic`: the
    /// shortcut is tried from the first connection (see the module comment).
    pub fn new(enabled: bool, optimistic: bool) -> Self {
        let state = match (enabled, optimistic) {
            (false, _) => State::Off,
            (true, true) => State::Optimistic,
            (true, false) => State::Unknown,
        };
        Memory {
            state: Mutex::new(state),
        }
    }

    fn get(&self) -> State {
        self.state.lock().map_or(State::Off, |s| *s)
    }

    fn set(&self, f: impl FnOnce(State) -> State) {
        if let Ok(mut s) = self.state.lock() {
            *s = f(*s);
        }
    }

    /// When the next connection may take the shortcut: how long it may take before it
    /// counts as failed.
    pub fn budget(&self) -> Option<Budget> {
        match self.get() {
            State::Learned { took } => Some(Budget::Within((took * BUDGET_FACTOR).max(MIN_BUDGET))),
            State::Optimistic => Some(Budget::AfterFirstByte),
            State::Unknown | State::Off => None,
        }
    }

    /// A full dialogue succeeded in `took`; `allows` says whether what the server said in
    /// it permits the shortcut (SMTP: `PIPELINING` advertised). Only the first one counts.
    pub fn learn(&self, took: Duration, allows: bool) {
        self.set(|s| match s {
            State::Unknown if allows => State::Learned { took },
            State::Unknown => State::Off,
            other => other,
        });
    }

    /// The shortcut failed: full dialogues from now on.
    pub fn give_up(&self) {
        self.set(|_| State::Off);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within(ms: u64) -> Option<Budget> {
        Some(Budget::Within(Duration::from_millis(ms)))
    }

    #[test]
    fn learns_once_and_gives_up_for_good() {
        let m = Memory::new(true, false);
        assert_eq!(m.budget(), None, "nothing learned yet: the full dialogue");
        m.learn(Duration::from_millis(600), true);
        assert_eq!(m.budget(), within(2400));
        // A later, slower dialogue does not change what was learned.
        m.learn(Duration::from_secs(5), true);
        assert_eq!(m.budget(), within(2400));
        m.give_up();
        assert_eq!(m.budget(), None);
        m.learn(Duration::from_millis(10), true);
        assert_eq!(m.budget(), None, "a failed shortcut stays off");
    }

    #[test]
    fn a_server_that_does_not_allow_it_or_the_option_keeps_the_full_dialogue() {
        let m = Memory::new(true, false);
        m.learn(Duration::from_millis(10), false);
        assert_eq!(m.budget(), None);
        let off = Memory::new(false, true);
        off.learn(Duration::from_millis(10), true);
        assert_eq!(off.budget(), None, "--starttls-full wins over optimism");
        let fast = Memory::new(true, false);
        fast.learn(Duration::from_millis(10), true);
        assert_eq!(fast.budget(), Some(Budget::Within(MIN_BUDGET)));
    }

    #[test]
    fn optimistic_tries_at_once_until_the_first_failure() {
        let m = Memory::new(true, true);
        assert_eq!(m.budget(), Some(Budget::AfterFirstByte));
        // Nothing a full dialogue teaches changes it (none runs while it holds)...
        m.learn(Duration::from_millis(10), false);
        assert_eq!(m.budget(), Some(Budget::AfterFirstByte));
        // ... and the first failure ends it for good.
        m.give_up();
        assert_eq!(m.budget(), None);
        m.learn(Duration::from_millis(10), true);
        assert_eq!(m.budget(), None);
        assert_eq!(
            after_first_byte(Duration::from_millis(50)),
            MIN_BUDGET,
            "a loaded machine gets at least a second"
        );
        assert_eq!(
            after_first_byte(Duration::from_millis(800)),
            Duration::from_millis(3200)
        );
    }
}
