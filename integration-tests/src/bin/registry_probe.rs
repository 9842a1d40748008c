//! Runs `census::config_integration::try_trace_integrations` with the
//! names given as arguments (or the lenient `trace_integrations` after
//! `--lenient`), under the environment it was started with, and prints
//! the outcome as one JSON object.

use census::config_integration::{OFFERED, trace_integrations, try_trace_integrations};

fn main() {
    let mut names: Vec<String> = std::env::args().skip(1).collect();
    let lenient = names.first().is_some_and(|n| n == "--lenient");
    if lenient {
        names.remove(0);
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let outcome = if lenient {
        serde_json::json!({ "returned": trace_integrations(&names) })
    } else {
        match try_trace_integrations(&names) {
            Ok(returned) => serde_json::json!({ "returned": returned }),
            Err(error) => serde_json::json!({ "error": error.to_string() }),
        }
    };
    let enabled: Vec<&str> = OFFERED
        .iter()
        .filter_map(|offer| offer.integration())
        .filter(|i| i.is_enabled())
        .map(|i| i.name())
        .collect();
    println!(
        "{}",
        serde_json::json!({ "outcome": outcome, "enabled": enabled })
    );
}
