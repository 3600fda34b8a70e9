//! Medians and the printed tables.

use std::time::Duration;

/// The median (upper median for an even count); zero for no values.
pub(super) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// The median of floats (upper median for an even count); zero for no values.
pub(super) fn median_f64(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Milliseconds with one decimal.
pub(super) fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// Seconds with one decimal.
pub(super) fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// One line of the client table.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    name: String,
    ours: String,
    base: String,
    ratio: Option<f64>,
    goal: String,
    met: bool,
    note: String,
}

impl Row {
    /// A throughput of ours against the baseline's, with the goal `ours / base >= goal`.
    pub(super) fn ratio(
        name: String,
        unit: &str,
        ours: f64,
        base: f64,
        goal: f64,
        note: String,
    ) -> Self {
        let ratio = ours / base;
        Self {
            name,
            ours: format!("{ours:.0} {unit}"),
            base: format!("{base:.0} {unit}"),
            ratio: Some(ratio),
            goal: format!(">= {goal:.2}"),
            met: ratio >= goal,
            note,
        }
    }

    /// A throughput against the baseline's with no goal: a timing breakdown.
    pub(super) fn breakdown(name: String, unit: &str, ours: f64, base: f64, note: String) -> Self {
        Self {
            goal: "(breakdown)".into(),
            met: true,
            ..Self::ratio(name, unit, ours, base, 0.0, note)
        }
    }

    /// A figure of ours against a limit (the baseline's shown for reference).
    pub(super) fn limit(name: String, ours: u64, base: u64, limit: u64) -> Self {
        let mib = |b: u64| format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64);
        Self {
            name,
            ours: mib(ours),
            base: mib(base),
            ratio: None,
            goal: format!("<= {}", mib(limit)),
            met: ours <= limit,
            note: String::new(),
        }
    }
}

/// How the client rows were measured, for the table's heading.
pub(crate) struct ClientRun {
    /// Tiny sizes, one run, a debug build: a correctness check, not a measurement.
    pub(crate) smoke: bool,
    pub(crate) runs: u32,
    pub(crate) upload_runs: u32,
}

/// Prints the client rows as a table.
pub(crate) fn print_client(rows: &[Row], cfg: &ClientRun) {
    println!();
    if cfg.smoke {
        println!(
            "client overhead, SMOKE run (tiny sizes, debug build, one run): every result was \
             checked; the figures are not measurements"
        );
    } else {
        println!(
            "client overhead: ours = the generated client through the runtime, baseline = \
             hand-written reqwest + serde_json doing the same work; separate processes against \
             the bench server; median of {} runs ({} for uploads), alternating",
            cfg.runs, cfg.upload_runs
        );
    }
    println!(
        "{:<38} {:>17} {:>17} {:>6} {:>12} {:>7}  note",
        "benchmark", "ours", "baseline", "ratio", "goal", ""
    );
    for r in rows {
        let verdict = if cfg.smoke || r.goal == "(breakdown)" {
            "-"
        } else if r.met {
            "met"
        } else {
            "MISSED"
        };
        println!(
            "{:<38} {:>17} {:>17} {:>6} {:>12} {:>7}  {}",
            r.name,
            r.ours,
            r.base,
            r.ratio.map_or(String::new(), |x| format!("{x:.2}")),
            r.goal,
            verdict,
            r.note
        );
    }
}
