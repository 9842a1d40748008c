//! A request counted in by one meter provider is counted out by it, even
//! when another provider replaced it meanwhile and other requests of its
//! route already record through the new provider's bound handles. A
//! process of its own: it installs providers.

use census_core::metrics::CallMetric;
use census_core::model::Outcome;
use census_core::registry::Integration;
use census_pipeline::testing::MetricCapture;
use opentelemetry::Context;
use opentelemetry::trace::SpanKind;

static SERVER: Integration = Integration::new("server", "census-server", "1.0.0");

fn active(capture: &MetricCapture) -> Vec<i64> {
    capture
        .sum("http.server.active_requests")
        .into_iter()
        .map(|point| point.value)
        .collect()
}

fn requests(capture: &MetricCapture) -> u64 {
    capture
        .histogram("http.server.request.duration")
        .iter()
        .map(|point| point.count)
        .sum()
}

#[test]
fn a_request_is_counted_out_by_the_provider_that_counted_it_in() {
    SERVER.set_enabled(true);
    let request = || {
        SERVER
            .start(SpanKind::Server, "GET /orders", &Context::new(), Vec::new)
            .measured(|| CallMetric::http_server(&http::Method::GET, false, Some("/orders")))
    };
    // A provider census cannot bind with, then one it can.
    let (first, second) = (MetricCapture::new(), MetricCapture::new());
    census_core::metrics::set_meter_provider(first.provider().clone());
    let long = request();
    assert_eq!(active(&first), [1]);

    census_core::metrics::set_meter_provider_binding(second.provider().clone());
    for _ in 0..3 {
        request().finish(&Outcome::HttpServer(200));
    }
    long.finish(&Outcome::HttpServer(200));

    assert_eq!(active(&first), [0], "counted out where counted in");
    assert_eq!(active(&second), [0]);
    assert_eq!(
        requests(&first),
        0,
        "recorded by the provider installed at its end"
    );
    assert_eq!(requests(&second), 4);
}
