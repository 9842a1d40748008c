//! Every measured call records its duration metric when its span ends,
//! sampled or not, with the outcome's attributes; HTTP server requests
//! are counted as active until they end.

use census_core::metrics::CallMetric;
use census_core::model::{DbSystem, Failure, Outcome, Target};
use census_core::registry::Integration;
use census_pipeline::testing::{capture, metrics, unsampled_caller};
use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::{Context, Value};

static MEASURED: Integration = Integration::new("measured", "census-measured", "9.9.9");

const DB: &str = "db.client.operation.duration";

fn target(host: &str) -> Target {
    Target::new()
        .with_host(host)
        .with_port(5432)
        .with_namespace("shop")
}

/// A database call under `parent`, ended with `outcome` (or dropped).
fn database_call(parent: &Context, host: &str, outcome: Option<Outcome>) -> bool {
    let span = MEASURED
        .start(SpanKind::Client, "SELECT users", parent, Vec::new)
        .measured(|| {
            CallMetric::database(DbSystem::Postgres, &target(host))
                .with_operation("SELECT")
                .with_collection("users")
        });
    let recording = span.is_recording();
    match outcome {
        Some(outcome) => span.finish(&outcome),
        None => drop(span),
    }
    recording
}

fn text(value: &str) -> Value {
    Value::from(value.to_owned())
}

#[test]
fn a_database_call_is_measured_sampled_or_not_with_its_outcome() {
    let spans = capture(&[&MEASURED]);
    let capture = metrics();
    let (root, _) = spans.root("test");
    let (caller, _) = unsampled_caller();
    let unsampled = Context::new().with_remote_span_context(caller);
    let host = "db-outcomes";

    assert!(database_call(&root, host, Some(Outcome::Ok)));
    assert!(!database_call(&unsampled, host, Some(Outcome::Ok)));
    let failure = Failure::new("23505", "duplicate key").with_db_status_code("23505");
    assert!(!database_call(
        &unsampled,
        host,
        Some(Outcome::Failed(failure))
    ));
    database_call(&root, host, None);

    let points = capture.histogram_with(DB, &[("server.address", text(host))]);
    assert_eq!(points.len(), 3, "{points:#?}");
    let base = [
        ("db.system.name", text("postgresql")),
        ("server.address", text(host)),
        ("server.port", Value::I64(5432)),
        ("db.namespace", text("shop")),
        ("db.operation.name", text("SELECT")),
        ("db.collection.name", text("users")),
    ];
    let with = |extra: &[(&str, Value)]| {
        base.iter()
            .chain(extra)
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    let find = |attributes| {
        points
            .iter()
            .find(|p| p.attributes == attributes)
            .unwrap_or_else(|| panic!("no point with {attributes:?} in {points:#?}"))
    };
    let ok = find(with(&[]));
    assert_eq!(ok.count, 2, "sampled and unsampled calls both count");
    let failed = find(with(&[
        ("db.response.status_code", text("23505")),
        ("error.type", text("23505")),
    ]));
    assert_eq!(failed.count, 1);
    let cancelled = find(with(&[("error.type", text("cancelled"))]));
    assert_eq!(cancelled.count, 1);
    for point in &points {
        assert_eq!(point.scope, "census-measured");
        assert_eq!(point.unit, "s");
        assert_eq!(point.bounds, census_core::metrics::DB_DURATION_BOUNDARIES);
        assert!(point.sum >= 0.0 && point.sum < 5.0, "{point:?}");
    }
}

#[test]
fn http_server_requests_are_measured_by_status_and_counted_while_active() {
    capture(&[&MEASURED]);
    let capture = metrics();
    let route = "/orders/{id}";
    let request = |status: Option<u16>, failure: Option<Failure>| {
        let mut span = MEASURED
            .start(
                SpanKind::Server,
                "GET /orders/{id}",
                &Context::new(),
                Vec::new,
            )
            .measured(|| CallMetric::http_server(&http::Method::PUT, true, Some(route)));
        let active = capture.sum("http.server.active_requests");
        if let Some(status) = status {
            span.record(&Outcome::HttpServer(status));
        }
        if let Some(failure) = failure {
            span.record(&Outcome::Failed(failure));
        }
        drop(span);
        active
    };
    let active_put = |points: Vec<census_pipeline::testing::SumPoint>| {
        points
            .into_iter()
            .find(|p| p.attributes.get("http.request.method") == Some(&text("PUT")))
            .map(|p| p.value)
    };
    assert_eq!(active_put(request(Some(200), None)), Some(1));
    request(Some(404), None);
    request(Some(500), Some(Failure::new("500", "handler failed")));
    request(None, None);
    assert_eq!(
        active_put(capture.sum("http.server.active_requests")),
        Some(0)
    );

    let points = capture.histogram_with(
        "http.server.request.duration",
        &[("http.route", text(route))],
    );
    let statuses: Vec<_> = {
        let mut statuses: Vec<_> = points
            .iter()
            .map(|p| {
                (
                    p.attributes.get("http.response.status_code").cloned(),
                    p.attributes.get("error.type").cloned(),
                    p.count,
                )
            })
            .collect();
        statuses.sort_by_key(|s| format!("{s:?}"));
        statuses
    };
    assert_eq!(
        statuses,
        [
            (None, Some(text("cancelled")), 1),
            (Some(Value::I64(200)), None, 1),
            (Some(Value::I64(404)), None, 1),
            (Some(Value::I64(500)), Some(text("500")), 1),
        ]
    );
    for point in &points {
        assert_eq!(
            point.attributes.get("http.request.method"),
            Some(&text("PUT"))
        );
        assert_eq!(point.attributes.get("url.scheme"), Some(&text("https")));
        assert_eq!(point.bounds, census_core::metrics::HTTP_DURATION_BOUNDARIES);
    }
}

/// Past the 1,024 attribute sets census binds an instrument to, calls are
/// still recorded, unbound, each in its own point (below the SDK's own
/// limit of 2,000 sets per instrument).
#[test]
fn calls_past_the_bound_attribute_sets_are_all_counted() {
    static MANY: Integration = Integration::new("many-sets", "census-many-sets", "1.0.0");
    capture(&[&MANY]);
    let capture = metrics();
    let sets = 1_100;
    for table in 0..sets {
        MANY.start(SpanKind::Client, "SELECT", &Context::new(), Vec::new)
            .measured(|| {
                CallMetric::database(DbSystem::Sqlite, &Target::new())
                    .with_collection(format!("t{table}"))
            })
            .finish(&Outcome::Ok);
    }
    // A table bound and one past the bound sets, again: each adds to its
    // own point.
    for table in ["t0", "t1099"] {
        MANY.start(SpanKind::Client, "SELECT", &Context::new(), Vec::new)
            .measured(|| {
                CallMetric::database(DbSystem::Sqlite, &Target::new()).with_collection(table)
            })
            .finish(&Outcome::Ok);
    }
    let points: Vec<_> = capture
        .histogram(DB)
        .into_iter()
        .filter(|p| p.scope == "census-many-sets")
        .collect();
    assert_eq!(points.len(), sets);
    assert_eq!(points.iter().map(|p| p.count).sum::<u64>(), 1_102);
    for table in ["t0", "t1099"] {
        let point = points
            .iter()
            .find(|p| p.attributes.get("db.collection.name") == Some(&text(table)))
            .unwrap();
        assert_eq!(point.count, 2, "{table}");
    }
}

/// A server route's requests record through handles bound to the route
/// per status code and integration: every request counts once, in its
/// integration's scope, whether its status has a bound handle or came
/// after the bound ones, from any number of threads, for more routes than
/// the process keeps.
#[test]
fn every_request_of_every_route_and_status_counts_once_in_its_own_scope() {
    static SERVER: Integration = Integration::new("server", "census-server", "1.0.0");
    static PROXY: Integration = Integration::new("proxy", "census-proxy", "1.0.0");
    capture(&[&SERVER, &PROXY]);
    let capture = metrics();
    let request = |integration: &'static Integration, route: &str, status: u16| {
        integration
            .start(SpanKind::Server, "GET", &Context::new(), Vec::new)
            .measured(|| CallMetric::http_server(&http::Method::GET, false, Some(route)))
            .finish(&Outcome::HttpServer(status));
    };
    // More statuses than a route binds, each twice, on 4 threads at once,
    // and the same route through a second integration.
    let statuses: Vec<u16> = (200..210).chain([404, 500, 503]).collect();
    std::thread::scope(|threads| {
        for _ in 0..4 {
            threads.spawn(|| {
                for _ in 0..2 {
                    for &status in &statuses {
                        request(&SERVER, "/shared/{id}", status);
                    }
                }
                request(&PROXY, "/shared/{id}", 200);
            });
        }
    });
    let counts_in = |scope: &str| {
        census_pipeline::testing::sorted_counts(
            capture
                .histogram_with(
                    "http.server.request.duration",
                    &[("http.route", text("/shared/{id}"))],
                )
                .into_iter()
                .filter(|p| p.scope == scope)
                .map(|p| (p.attributes, p.count))
                .collect(),
        )
    };
    let expected: Vec<_> = statuses
        .iter()
        .map(|&status| {
            let error = (status >= 500).then(|| status.to_string());
            (
                census_pipeline::testing::get_route_attributes(
                    "/shared/{id}",
                    i64::from(status),
                    error.as_deref(),
                ),
                8,
            )
        })
        .collect();
    assert_eq!(
        counts_in("census-server"),
        census_pipeline::testing::sorted_counts(expected)
    );
    assert_eq!(
        counts_in("census-proxy"),
        [(
            census_pipeline::testing::get_route_attributes("/shared/{id}", 200, None),
            4
        )]
    );

    // Counted in and out, in each integration's scope.
    let active: Vec<_> = capture
        .sum("http.server.active_requests")
        .into_iter()
        .filter(|p| p.attributes.get("http.request.method") == Some(&text("GET")))
        .map(|p| p.value)
        .collect();
    assert_eq!(active, [0, 0]);

    // More routes than the process keeps sites for (256): each counts.
    for i in 0..300 {
        request(&SERVER, &format!("/many/{i}"), 200);
        request(&SERVER, &format!("/many/{i}"), 200);
    }
    let many: Vec<_> = capture
        .histogram("http.server.request.duration")
        .into_iter()
        .filter(|p| {
            p.attributes
                .get("http.route")
                .is_some_and(|route| route.as_str().starts_with("/many/"))
        })
        .collect();
    assert_eq!(many.len(), 300);
    assert!(
        many.iter()
            .all(|p| p.count == 2 && p.scope == "census-server")
    );
}
