//! The sampling scenario of `scripts/parity`: census's rate-limited
//! sampler (5 operations a second) fed 25 seconds of operations whose
//! rate changes — 200 a second, a burst of 2000 a second, a quiet 2 a
//! second, 200 again — with trace ids from a fixed generator. It prints
//! one JSON document with the start time, the target and every call's
//! trace id, time, decision and percentage; `scripts/parity_sampling.py`
//! replays the same trace ids at the same times through Microsoft's
//! `RateLimitedSampler` and compares.

use census::sampling::RateLimitedSampler;
use opentelemetry::trace::TraceId;
use serde_json::json;

const START: u64 = 1_700_000_000_000_000_000;
const TARGET: f64 = 5.0;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sampler = RateLimitedSampler::starting_at(TARGET, START)?;
    // (operations a second, seconds)
    let phases = [(200u64, 10u64), (2000, 5), (2, 5), (200, 5)];
    let mut now = START;
    let mut state = 0x853c_49e6_748f_ea9b_u64;
    let mut calls = Vec::new();
    for (per_second, seconds) in phases {
        let step = 1_000_000_000 / per_second;
        for _ in 0..per_second * seconds {
            now += step;
            let trace_id =
                TraceId::from(u128::from(next(&mut state)) << 64 | u128::from(next(&mut state)));
            let decision = sampler.decide_at(trace_id, now);
            calls.push(json!({
                "trace_id": trace_id.to_string(),
                "time": now,
                "keep": decision.keep,
                "percentage": decision.percentage,
            }));
        }
    }
    println!(
        "{}",
        json!({"start": START, "target": TARGET, "calls": calls})
    );
    Ok(())
}

/// splitmix64: trace ids that look random, the same every run.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
