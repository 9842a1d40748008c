//! Runs `census::config_integration::try_trace_integrations` with the
//! names given as arguments, under the environment it was started with,
//! and prints the outcome as one JSON object.

use census::registry::Integration;

fn main() {
    let names: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let outcome = match census::config_integration::try_trace_integrations(&names) {
        Ok(returned) => serde_json::json!({ "returned": returned }),
        Err(error) => serde_json::json!({ "error": error.to_string() }),
    };
    let enabled: Vec<&str> = Integration::ALL
        .into_iter()
        .filter(|i| i.is_enabled())
        .map(Integration::name)
        .collect();
    println!(
        "{}",
        serde_json::json!({ "outcome": outcome, "enabled": enabled })
    );
}
