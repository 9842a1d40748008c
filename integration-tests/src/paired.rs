//! Measurements taken in pairs: a baseline and the variant measured
//! against it, run one after the other, in alternating order, inside the
//! same window of time.
//!
//! The machines here are shared and noisy: a whole run can be 4× faster
//! than the next one when the scheduler puts a database client and its
//! server on the same core. Two variants measured in separate windows
//! therefore differ by more than what tracing costs. Timed call by call
//! in the same window, both see the same machine, and the ratio of their
//! totals is what the variant costs. The benches write these totals next
//! to criterion's results, in `<criterion dir>/<group>/pairs.json`, where
//! `bench_table` reads them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

/// Which side of a pair runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The baseline, e.g. the raw client.
    Baseline,
    /// What is measured against it, e.g. the traced client.
    Measured,
}

impl Side {
    /// The order of the pair number `i`: alternating, so that neither side
    /// always runs on what the other left behind (warm caches, a socket
    /// with data ready).
    pub fn order(i: u64) -> [Side; 2] {
        if i.is_multiple_of(2) {
            [Side::Baseline, Side::Measured]
        } else {
            [Side::Measured, Side::Baseline]
        }
    }
}

/// What one side of a pair took, summed over the pairs run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    /// The baseline's time.
    pub baseline: Duration,
    /// The measured variant's time.
    pub measured: Duration,
}

impl Totals {
    /// Adds the time since `start` to `side`'s total.
    pub fn add(&mut self, side: Side, start: Instant) {
        match side {
            Side::Baseline => self.baseline += start.elapsed(),
            Side::Measured => self.measured += start.elapsed(),
        }
    }

    /// Both sides' time: what a criterion iteration of a pair took.
    pub fn both(&self) -> Duration {
        self.baseline + self.measured
    }
}

/// The pairs of one criterion group, kept until [`write`](Self::write).
#[derive(Debug)]
pub struct Pairs {
    group: String,
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    measured: String,
    baseline: String,
    round: usize,
    pairs: u64,
    totals: Totals,
}

impl Pairs {
    /// The pairs of criterion group `group`.
    pub fn new(group: &str) -> Self {
        Self {
            group: group.to_owned(),
            entries: Vec::new(),
        }
    }

    /// Adds `pairs` pairs that took `totals` to round `round` of `measured`
    /// against `baseline`; criterion's warm-up calls count too, as they ran
    /// in the same window.
    pub fn record(
        &mut self,
        measured: &str,
        baseline: &str,
        round: usize,
        pairs: u64,
        totals: Totals,
    ) {
        let entry = self
            .entries
            .iter_mut()
            .find(|e| e.measured == measured && e.baseline == baseline && e.round == round);
        match entry {
            Some(entry) => {
                entry.pairs += pairs;
                entry.totals.baseline += totals.baseline;
                entry.totals.measured += totals.measured;
            }
            None => self.entries.push(Entry {
                measured: measured.to_owned(),
                baseline: baseline.to_owned(),
                round,
                pairs,
                totals,
            }),
        }
    }

    /// Writes the mean time per call of each side, by round, to
    /// `<criterion dir>/<group>/pairs.json`, replacing an earlier run's;
    /// nothing when no pair ran (a filter left the group out), or when the
    /// bench runs as a test (`cargo test --benches`, one iteration each),
    /// whose figures would replace a real run's in the README's table.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write(&self) -> std::io::Result<Option<PathBuf>> {
        // cargo bench passes `--bench`; cargo test --benches does not.
        let measuring = std::env::args().any(|arg| arg == "--bench");
        if self.entries.is_empty() || !measuring {
            return Ok(None);
        }
        let dir = criterion_dir().join(&self.group);
        std::fs::create_dir_all(&dir)?;
        let per_call = |total: Duration, pairs: u64| total.as_nanos() as f64 / pairs.max(1) as f64;
        let pairs: Vec<_> = self
            .entries
            .iter()
            .map(|e| {
                json!({
                    "measured": e.measured,
                    "baseline": e.baseline,
                    "round": e.round,
                    "pairs": e.pairs,
                    "measured_ns": per_call(e.totals.measured, e.pairs),
                    "baseline_ns": per_call(e.totals.baseline, e.pairs),
                })
            })
            .collect();
        let path = dir.join("pairs.json");
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&json!({ "group": self.group, "pairs": pairs }))?,
        )?;
        Ok(Some(path))
    }
}

/// Where criterion writes its results: `CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else the workspace's `target/criterion`.
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("criterion")
}
