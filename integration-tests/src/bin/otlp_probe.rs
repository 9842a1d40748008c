//! Builds `census::Tracer::from_env()` under the environment it was started
//! with, records one small operation (`checkout` with the child
//! `price lines`), and shuts down. With `PROBE_COUNTER` set it also adds
//! 1 to its own counter `checkout.placed` through OpenTelemetry's global
//! meter. Exits 2 with the error's message on stderr when `from_env`
//! refuses the configuration.

use std::process::ExitCode;
use std::time::Duration;

use census::prelude::*;
use opentelemetry::KeyValue;

fn main() -> ExitCode {
    let tracer = match Tracer::from_env() {
        Ok(tracer) => tracer,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    {
        let checkout = tracer.span("checkout");
        checkout.set_attribute(KeyValue::new("order.items", 3));
        let _lines = tracer.span("price lines");
    }
    if std::env::var_os("PROBE_COUNTER").is_some() {
        opentelemetry::global::meter("probe")
            .u64_counter("checkout.placed")
            .build()
            .add(1, &[KeyValue::new("channel", "web")]);
    }
    match tracer.shutdown(Duration::from_secs(10)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
