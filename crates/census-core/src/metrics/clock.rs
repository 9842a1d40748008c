//! The clock calls are measured with: the CPU's time-stamp counter where
//! it is invariant, else the OS's monotonic clock. Reading the counter
//! costs a third of what the OS clock does, and a call's start is kept
//! unscaled: the one scaling is of the duration, at the end.

use std::sync::OnceLock;

use quanta::Clock;

static CLOCK: OnceLock<Clock> = OnceLock::new();

/// The clock, calibrated against the OS clock on first use (under a
/// millisecond here, up to 200 ms by quanta's documentation): done when
/// a meter provider is installed, rather than in the first call measured.
pub(crate) fn calibrate() {
    clock();
}

fn clock() -> &'static Clock {
    CLOCK.get_or_init(Clock::new)
}

/// When a call started, as the clock reads it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start(u64);

impl Start {
    pub(crate) fn now() -> Self {
        Self(clock().raw())
    }

    /// The seconds since the start; 0 for a counter read on a core whose
    /// counter is behind the first one's.
    pub(crate) fn elapsed_seconds(self) -> f64 {
        let clock = clock();
        // Whole nanoseconds are exact in an f64 for 104 days.
        clock.delta_as_nanos(self.0, clock.raw()) as f64 * 1e-9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_time_is_in_seconds() {
        let start = Start::now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let elapsed = start.elapsed_seconds();
        assert!((0.019..1.0).contains(&elapsed), "{elapsed}");
    }
}
