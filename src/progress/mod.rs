//! What a run is doing right now, for a person watching a terminal.
//!
//! The pipeline marks what it is probing (`Progress::track`: "Protocol versions", "full
//! handshakes", "client simulations", …) and the probe engine counts each connection it
//! opens; a renderer (the CLI's spinner, `cli/progress.rs`) reads [`Progress::snapshot`] a
//! few times a second. Nothing here prints: the library never writes to a terminal, and a
//! run without a renderer carries [`Progress::none`], which costs one branch per call.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A shared handle on a run's progress; cheap to clone, every clone reports to the same run.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<Inner>>);

#[derive(Default)]
struct Inner {
    /// What is in progress, oldest first; a task is listed until its guard drops.
    active: Mutex<Vec<(u64, String)>>,
    next_task: AtomicU64,
    connections: AtomicUsize,
}

/// What a run is doing at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// The tasks in progress, oldest first, each once with how many run at once
    /// (e.g. the same check on two addresses).
    pub active: Vec<(String, usize)>,
    /// Connections opened so far by the whole run.
    pub connections: usize,
}

impl Progress {
    /// No one is watching: every call is a no-op.
    pub fn none() -> Self {
        Progress(None)
    }

    /// A handle whose progress can be read with [`Progress::snapshot`].
    pub fn watched() -> Self {
        Progress(Some(Arc::default()))
    }

    /// Whether anyone reads this run's progress.
    pub fn is_watched(&self) -> bool {
        self.0.is_some()
    }

    /// The probe engine opened a connection.
    pub fn connection_opened(&self) {
        if let Some(i) = &self.0 {
            i.connections.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Mark `label` as in progress until the returned guard is dropped.
    pub fn task(&self, label: impl Into<String>) -> Task {
        let Some(inner) = &self.0 else {
            return Task(None);
        };
        let id = inner.next_task.fetch_add(1, Ordering::Relaxed);
        lock(&inner.active).push((id, label.into()));
        Task(Some((inner.clone(), id)))
    }

    /// Run `fut` with `label` marked as in progress.
    pub async fn track<F: Future>(&self, label: impl Into<String>, fut: F) -> F::Output {
        let _task = self.task(label);
        fut.await
    }

    /// What is in progress now; empty for [`Progress::none`].
    pub fn snapshot(&self) -> Snapshot {
        let Some(inner) = &self.0 else {
            return Snapshot::default();
        };
        let mut active: Vec<(String, usize)> = Vec::new();
        for (_, label) in lock(&inner.active).iter() {
            match active.iter_mut().find(|(l, _)| l == label) {
                Some((_, n)) => *n += 1,
                None => active.push((label.clone(), 1)),
            }
        }
        Snapshot {
            active,
            connections: inner.connections.load(Ordering::Relaxed),
        }
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("Progress::none"),
            Some(_) => f.write_str("Progress::watched"),
        }
    }
}

/// A task in progress; dropping it marks the task finished.
#[must_use = "the task is finished as soon as this guard is dropped"]
pub struct Task(Option<(Arc<Inner>, u64)>);

impl Drop for Task {
    fn drop(&mut self) {
        if let Some((inner, id)) = self.0.take() {
            lock(&inner.active).retain(|(i, _)| *i != id);
        }
    }
}

/// The list stays usable even if a holder panicked: progress is only ever informative.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_are_listed_until_their_guard_drops() {
        let p = Progress::watched();
        let a = p.task("Protocol versions");
        let b = p.task("Cipher suites");
        let c = p.task("Cipher suites");
        p.connection_opened();
        p.connection_opened();
        let s = p.snapshot();
        assert_eq!(
            s.active,
            vec![
                ("Protocol versions".to_string(), 1),
                ("Cipher suites".to_string(), 2)
            ]
        );
        assert_eq!(s.connections, 2);
        drop(a);
        drop(c);
        let s = p.snapshot();
        assert_eq!(s.active, vec![("Cipher suites".to_string(), 1)]);
        drop(b);
        assert!(p.snapshot().active.is_empty());
    }

    #[test]
    fn nobody_watching_records_nothing() {
        let p = Progress::none();
        let _t = p.task("x");
        p.connection_opened();
        assert_eq!(p.snapshot(), Snapshot::default());
        assert!(!p.is_watched());
    }

    #[tokio::test]
    async fn track_marks_the_future_while_it_runs() {
        let p = Progress::watched();
        let seen = p
            .track("full handshakes", async { p.snapshot().active })
            .await;
        assert_eq!(seen, vec![("full handshakes".to_string(), 1)]);
        assert!(p.snapshot().active.is_empty());
    }
}
