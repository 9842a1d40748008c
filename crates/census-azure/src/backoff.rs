//! How long to wait before another try.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

/// Exponential back-off with ±20 % jitter, so that many processes that
/// failed together do not retry together.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    first: Duration,
    longest: Duration,
}

impl Backoff {
    pub(crate) fn new(first: Duration, longest: Duration) -> Self {
        Self {
            first,
            longest: longest.max(first),
        }
    }

    /// The wait before try `attempt` (1 for the first retry); never less
    /// than what the server asked for with `Retry-After`.
    pub(crate) fn wait(&self, attempt: u32, server_asked: Option<Duration>) -> Duration {
        let doubled = self
            .first
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.longest);
        let jitter = 0.8 + 0.4 * unit_random();
        let ours = doubled.mul_f64(jitter);
        server_asked.map_or(ours, |asked| ours.max(asked))
    }
}

/// A number in `[0, 1)`; jitter needs spread, not cryptographic quality.
fn unit_random() -> f64 {
    let bits = RandomState::new().hash_one(std::time::Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_within_jitter_up_to_the_cap_and_honour_retry_after() {
        let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        for (attempt, base) in [
            (1, 1.0),
            (2, 2.0),
            (3, 4.0),
            (4, 8.0),
            (5, 10.0),
            (30, 10.0),
        ] {
            let wait = backoff.wait(attempt, None).as_secs_f64();
            assert!(
                (base * 0.8..=base * 1.2).contains(&wait),
                "attempt {attempt}: {wait}"
            );
        }
        let asked = backoff.wait(1, Some(Duration::from_secs(7)));
        assert!(asked >= Duration::from_secs(7), "{asked:?}");
    }
}
