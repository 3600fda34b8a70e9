//! Progress on stderr: an indicatif bar when stderr is a terminal, otherwise plain lines (at most
//! one a second, and one at the end) that logs and CI output can keep.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Records.
    Records,
    /// Bytes.
    Bytes,
}

/// One task's progress.
#[derive(Debug)]
pub struct Progress {
    label: String,
    unit: Unit,
    bar: Option<ProgressBar>,
    total: Option<u64>,
    done: u64,
    started: Instant,
    /// The count when this run started (a resumed export starts above 0): the rate counts only
    /// this run's work.
    start_count: u64,
    last_line: Instant,
}

/// Whether progress is drawn as a bar (stderr is a terminal).
pub fn is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

fn style(unit: Unit, known_total: bool) -> ProgressStyle {
    let template = match (unit, known_total) {
        (Unit::Records, true) => {
            "{msg:12} [{bar:30.cyan/blue}] {pos}/{len} records ({rate}, {eta} left)"
        }
        (Unit::Records, false) => "{msg:12} {spinner} {pos} records ({rate})",
        (Unit::Bytes, true) => {
            "{msg:24} [{bar:30.cyan/blue}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)"
        }
        (Unit::Bytes, false) => "{msg:24} {spinner} {bytes} ({bytes_per_sec})",
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}/s", state.per_sec());
            },
        )
        .progress_chars("=> ")
}

impl Progress {
    /// Progress of `label`, `already` done of `total`.
    pub fn new(label: &str, unit: Unit, total: Option<u64>, already: u64) -> Progress {
        Self::with(label, unit, total, already, None)
    }

    /// Progress drawn in `multi` (one bar per file of an upload).
    pub fn in_multi(
        multi: &MultiProgress,
        label: &str,
        unit: Unit,
        total: Option<u64>,
    ) -> Progress {
        Self::with(label, unit, total, 0, Some(multi))
    }

    fn with(
        label: &str,
        unit: Unit,
        total: Option<u64>,
        already: u64,
        multi: Option<&MultiProgress>,
    ) -> Progress {
        let bar = is_terminal().then(|| {
            let bar = match total {
                Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr()),
                None => ProgressBar::new_spinner(),
            };
            let bar = match multi {
                Some(m) => m.add(bar),
                None => bar,
            };
            bar.set_style(style(unit, total.is_some()));
            bar.set_message(label.to_owned());
            bar.set_position(already);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let now = Instant::now();
        Progress {
            label: label.to_owned(),
            unit,
            bar,
            total,
            done: already,
            started: now,
            start_count: already,
            last_line: now,
        }
    }

    /// `n` more done.
    pub fn inc(&mut self, n: u64) {
        self.set(self.done + n);
    }

    /// `done` in all.
    pub fn set(&mut self, done: u64) {
        self.done = done;
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None => {
                if self.last_line.elapsed() >= Duration::from_secs(1) {
                    self.last_line = Instant::now();
                    self.line();
                }
            }
        }
    }

    fn line(&self) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = (self.done - self.start_count.min(self.done)) as f64 / secs;
        let (done, total, rate) = match self.unit {
            Unit::Records => (
                self.done.to_string(),
                self.total.map(|t| t.to_string()),
                format!("{rate:.0} records/s"),
            ),
            Unit::Bytes => (
                indicatif::HumanBytes(self.done).to_string(),
                self.total.map(|t| indicatif::HumanBytes(t).to_string()),
                format!("{}/s", indicatif::HumanBytes(rate as u64)),
            ),
        };
        let of = total.map(|t| format!("/{t}")).unwrap_or_default();
        let unit = if self.unit == Unit::Records {
            " records"
        } else {
            ""
        };
        let _ = writeln!(
            std::io::stderr(),
            "{}: {done}{of}{unit} ({rate})",
            self.label
        );
    }

    /// The end: the bar stays on screen with its last state, or a last plain line.
    pub fn finish(&self) {
        match &self.bar {
            Some(bar) => bar.finish(),
            None => self.line(),
        }
    }

    /// The end after a failure: the bar stops where it was.
    pub fn abandon(&self) {
        match &self.bar {
            Some(bar) => bar.abandon(),
            None => self.line(),
        }
    }
}
