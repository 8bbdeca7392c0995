//! The spinner on stderr that says what a long `check`, `scan` or `simulate` is probing.
//!
//! It appears only when stderr is a terminal and the run has lasted a second (a quick run
//! stays silent), redraws a few times a second from [`Progress::snapshot`], and is cleared
//! before the report is written, so nothing of it reaches stdout, a `-o` file or a pipe.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;
use tlsdoctor::escape::escape;
use tlsdoctor::progress::{Progress, Snapshot};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a run goes before the spinner shows.
const DELAY: Duration = Duration::from_secs(1);
/// How often the line is rewritten.
const TICK: Duration = Duration::from_millis(120);
/// Tasks named on the line before "+N more".
const SHOWN_TASKS: usize = 3;

/// A running spinner; [`Spinner::stop`] clears it.
pub struct Spinner {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Spinner {
    /// A spinner for a run on `target` when stderr is a terminal and `wanted`; the progress
    /// handle to give the run (not watched when there is no spinner).
    pub fn for_terminal(target: &str, wanted: bool) -> (Progress, Option<Spinner>) {
        if !wanted || !std::io::stderr().is_terminal() {
            return (Progress::none(), None);
        }
        let progress = Progress::watched();
        let spinner = Spinner::start(
            progress.clone(),
            target,
            ProgressDrawTarget::stderr(),
            DELAY,
        );
        (progress, Some(spinner))
    }

    /// Draw `progress` on `draw` from `delay` on, until stopped.
    pub fn start(
        progress: Progress,
        target: &str,
        draw: ProgressDrawTarget,
        delay: Duration,
    ) -> Spinner {
        let (stop, mut stopped) = watch::channel(false);
        let target = escape(target).into_owned();
        let started = tokio::time::Instant::now();
        let task = tokio::spawn(async move {
            if tokio::time::timeout(delay, stopped.changed()).await.is_ok() {
                return;
            }
            let bar = ProgressBar::with_draw_target(None, draw);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            loop {
                let elapsed = started.elapsed().as_secs();
                bar.set_message(format!(
                    "{elapsed:>3}s {}",
                    line(&target, &progress.snapshot())
                ));
                bar.tick();
                if tokio::time::timeout(TICK, stopped.changed()).await.is_ok() {
                    break;
                }
            }
            bar.finish_and_clear();
        });
        Spinner { stop, task }
    }

    /// Clear the spinner (waiting until it is gone from the terminal).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Stop the spinner, if any, before anything is written after the run.
pub async fn stop(spinner: Option<Spinner>) {
    if let Some(s) = spinner {
        s.stop().await;
    }
}

/// "probing host:443 · Cipher suites, Key exchange ×2 · 37 connections".
fn line(target: &str, s: &Snapshot) -> String {
    let mut tasks: Vec<String> = s
        .active
        .iter()
        .take(SHOWN_TASKS)
        .map(|(label, n)| match n {
            1 => escape(label).into_owned(),
            n => format!("{} ×{n}", escape(label)),
        })
        .collect();
    if s.active.len() > SHOWN_TASKS {
        tasks.push(format!("+{} more", s.active.len() - SHOWN_TASKS));
    }
    let doing = if tasks.is_empty() {
        "finishing".to_string()
    } else {
        tasks.join(", ")
    };
    let plural = if s.connections == 1 { "" } else { "s" };
    format!(
        "probing {target} · {doing} · {} connection{plural}",
        s.connections
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::TermLike;
    use std::sync::{Arc, Mutex};

    /// A terminal that keeps what was written to it.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl Screen {
        fn text(&self) -> String {
            self.0.lock().unwrap().clone()
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str("<clear>");
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn draw(screen: &Screen) -> ProgressDrawTarget {
        ProgressDrawTarget::term_like(Box::new(screen.clone()))
    }

    #[tokio::test]
    async fn a_quick_run_draws_nothing() {
        let screen = Screen::default();
        let progress = Progress::watched();
        let _t = progress.task("Protocol versions");
        let s = Spinner::start(progress.clone(), "h:443", draw(&screen), DELAY);
        tokio::time::sleep(Duration::from_millis(50)).await;
        s.stop().await;
        assert_eq!(screen.text(), "");
    }

    #[tokio::test]
    async fn a_long_run_says_what_is_probed_then_clears() {
        let screen = Screen::default();
        let progress = Progress::watched();
        let task = progress.task("Cipher suites");
        progress.connection_opened();
        let s = Spinner::start(
            progress.clone(),
            "h\x1b[2J:443",
            draw(&screen),
            Duration::from_millis(10),
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let shown = screen.text();
        assert!(
            shown.contains("probing h\\x1b[2J:443 · Cipher suites · 1 connection"),
            "{shown:?}"
        );
        // The target's escape sequence reaches the terminal only as text.
        assert!(!shown.contains('\x1b'), "{shown:?}");
        drop(task);
        s.stop().await;
        assert!(screen.text().ends_with("<clear>"), "{:?}", screen.text());
    }

    #[test]
    fn the_line_names_a_few_tasks_and_counts_the_rest() {
        let s = Snapshot {
            active: vec![
                ("a".into(), 1),
                ("b".into(), 2),
                ("c".into(), 1),
                ("d".into(), 1),
                ("e".into(), 1),
            ],
            connections: 12,
        };
        assert_eq!(
            line("t", &s),
            "probing t · a, b ×2, c, +2 more · 12 connections"
        );
        assert_eq!(
            line("t", &Snapshot::default()),
            "probing t · finishing · 0 connections"
        );
    }
}
