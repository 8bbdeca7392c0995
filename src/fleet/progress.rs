//! The fleet run's progress bar on stderr (indicatif): targets done and failed, the rate
//! and, when the input is a file counted ahead, the ETA. Drawn only when stderr is a
//! terminal; never part of the JSON Lines.

use super::input::target_of;
use super::line::LineStatus;
use super::run::{Filter, Watcher};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::time::Duration;

/// The bar, or nothing when stderr is not a terminal.
pub struct Bar {
    bar: Option<ProgressBar>,
    failed: u64,
}

impl Bar {
    /// A bar on stderr if it is a terminal; `total` is the number of targets to run when
    /// known (it gives the bar its length and the ETA).
    pub fn on_stderr(total: Option<u64>) -> Bar {
        if !std::io::stderr().is_terminal() {
            return Bar::hidden();
        }
        let with_total = "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} done, {msg}, {per_sec}, ETA {eta}";
        let without = "{spinner} [{elapsed_precise}] {pos} done, {msg}, {per_sec}";
        let template = if total.is_some() { with_total } else { without };
        let style =
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr())
            .with_style(style)
            .with_message("0 failed");
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar {
            bar: Some(bar),
            failed: 0,
        }
    }

    /// No bar at all.
    pub fn hidden() -> Bar {
        Bar {
            bar: None,
            failed: 0,
        }
    }

    /// Whether anything is drawn.
    pub fn is_drawn(&self) -> bool {
        self.bar.is_some()
    }

    /// Take the bar off the terminal (the run's summary line follows it).
    pub fn done(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Watcher for Bar {
    fn finished(&mut self, status: LineStatus) {
        let Some(b) = &self.bar else { return };
        b.inc(1);
        if status == LineStatus::Error {
            self.failed += 1;
            b.set_message(format!("{} failed", self.failed));
        }
    }
}

/// How many targets of the file at `path` the run will take (a first pass that keeps
/// nothing but the count); `None` when it cannot be read.
pub fn count_kept(path: &Path, filter: &Filter) -> Option<u64> {
    let file = std::fs::File::open(path).ok()?;
    let mut n = 0;
    for (i, line) in std::io::BufReader::new(file).split(b'\n').enumerate() {
        let line = line.ok()?;
        let text = String::from_utf8_lossy(&line);
        if let Some(t) = target_of(i as u64 + 1, &text) {
            if filter.keeps(&t.key) {
                n += 1;
            }
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_follows_the_filter() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("in.txt");
        std::fs::write(&p, "# fleet\na:1\n\nb:1\nc:1\n").unwrap();
        assert_eq!(count_kept(&p, &Filter::default()), Some(3));
        let mut f = Filter::default();
        f.done.insert("b:1".into());
        assert_eq!(count_kept(&p, &f), Some(2));
        assert_eq!(count_kept(&dir.path().join("none"), &f), None);
        // Without a terminal on stderr nothing is drawn.
        if !std::io::stderr().is_terminal() {
            assert!(!Bar::on_stderr(Some(3)).is_drawn());
        }
    }
}
