//! With the `sqlx` integration off, traced wrappers pass calls through
//! unchanged and record nothing. A separate test binary: the registry is
//! process-wide.

use census_pipeline::testing::capture;
use census_sqlx::Traced;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::TraceContextExt;
use sqlx::Row;
use sqlx::sqlite::SqlitePool;

#[tokio::test]
async fn disabled_integration_records_nothing_and_returns_the_same_results() {
    let spans = capture(&[]);
    assert!(!census_sqlx::INTEGRATION.is_enabled());
    let raw = SqlitePool::connect("sqlite::memory:").await.unwrap();
    let traced = Traced::new(raw.clone());
    let sql = "SELECT 'a' AS s, 2 AS n UNION ALL SELECT 'b', 3";

    let (cx, trace_id) = spans.root("disabled");
    let (from_traced, from_raw) = async {
        let traced_rows = sqlx::query(sql).fetch_all(&traced).await.unwrap();
        let raw_rows = sqlx::query(sql).fetch_all(&raw).await.unwrap();
        let err = sqlx::query("SELECT * FROM missing")
            .fetch_one(&traced)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            sqlx::query("SELECT * FROM missing")
                .fetch_one(&raw)
                .await
                .unwrap_err()
                .to_string()
        );
        (traced_rows, raw_rows)
    }
    .with_context(cx.clone())
    .await;
    cx.span().end();

    let decode = |rows: &[sqlx::sqlite::SqliteRow]| -> Vec<(String, i64)> {
        rows.iter().map(|r| (r.get("s"), r.get("n"))).collect()
    };
    assert_eq!(decode(&from_traced), vec![("a".into(), 2), ("b".into(), 3)]);
    assert_eq!(decode(&from_traced), decode(&from_raw));
    let recorded = spans.spans(trace_id);
    assert_eq!(
        recorded.iter().map(|s| s.name.as_ref()).collect::<Vec<_>>(),
        ["disabled"],
        "only the test's own root span"
    );
}
