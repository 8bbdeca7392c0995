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
    /// A full dialogue succeeded in `took` and showed the server allows the shortcut.
    Learned { took: Duration },
    /// The server does not allow the shortcut, it failed once, or it was turned off.
    Off,
}

/// One address's memory of its upgrade.
#[derive(Debug)]
pub struct Memory {
    state: Mutex<State>,
}

impl Memory {
    /// `enabled` false (`--starttls-full`): always the full dialogue.
    pub fn new(enabled: bool) -> Self {
        Memory {
            state: Mutex::new(if enabled { State::Unknown } else { State::Off }),
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
    pub fn budget(&self) -> Option<Duration> {
        match self.get() {
            State::Learned { took } => Some((took * BUDGET_FACTOR).max(MIN_BUDGET)),
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

    #[test]
    fn learns_once_and_gives_up_for_good() {
        let m = Memory::new(true);
        assert_eq!(m.budget(), None, "nothing learned yet: the full dialogue");
        m.learn(Duration::from_millis(600), true);
        assert_eq!(m.budget(), Some(Duration::from_millis(2400)));
        // A later, slower dialogue does not change what was learned.
        m.learn(Duration::from_secs(5), true);
        assert_eq!(m.budget(), Some(Duration::from_millis(2400)));
        m.give_up();
        assert_eq!(m.budget(), None);
        m.learn(Duration::from_millis(10), true);
        assert_eq!(m.budget(), None, "a failed shortcut stays off");
    }

    #[test]
    fn a_server_that_does_not_allow_it_or_the_option_keeps_the_full_dialogue() {
        let m = Memory::new(true);
        m.learn(Duration::from_millis(10), false);
        assert_eq!(m.budget(), None);
        let off = Memory::new(false);
        off.learn(Duration::from_millis(10), true);
        assert_eq!(off.budget(), None);
        let fast = Memory::new(true);
        fast.learn(Duration::from_millis(10), true);
        assert_eq!(fast.budget(), Some(MIN_BUDGET));
    }
}
