//! census-mongodb against a real MongoDB-protocol server: one span per
//! command with the exact attributes, server errors, no plumbing commands,
//! and masked command text.

use census_integration_tests::{secrets, services};
use census_pipeline::testing::{SpanCapture, attributes, capture, names};
use mongodb::bson::{Document, doc};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, IndexModel};
use opentelemetry::Value;
use opentelemetry::trace::{SpanKind, Status};

fn spans() -> &'static SpanCapture {
    capture(&[&census::mongodb::INTEGRATION])
}

/// A client with census installed (command text captured) and a database
/// of its own (tests run in parallel).
async fn database(test: &str) -> mongodb::Database {
    spans();
    let url = services::mongodb_url();
    let mut options = ClientOptions::parse(&url)
        .await
        .unwrap_or_else(|e| services::unreachable("mongodb", &url, &e));
    census::mongodb::Commands::new()
        .capture_text(true)
        .install(&mut options);
    let client = Client::with_options(options).unwrap();
    let db = client.database(&format!("census_{test}_{}", std::process::id()));
    db.drop()
        .await
        .unwrap_or_else(|e| services::unreachable("mongodb", &url, &e));
    db
}

#[tokio::test]
async fn a_find_is_one_client_span_with_its_target_and_masked_text() {
    let db = database("find").await;
    let orders = db.collection::<Document>("orders");
    orders
        .insert_one(doc! { "_id": 1, "email": "bob@example.com", "total": 42 })
        .await
        .unwrap();
    let (root, children, found) = spans()
        .traced(
            orders
                .find_one(doc! { "email": "bob@example.com", "total": { "$gt": 10 } })
                .into_future(),
        )
        .await;
    assert!(found.unwrap().is_some());
    assert_eq!(names(&children), ["find orders"]);
    let span = &children[0];
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(span.parent_span_id, root.span_context.span_id());
    assert_eq!(span.status, Status::Unset);
    let a = attributes(span);
    let expected: [(&str, Value); 7] = [
        ("db.system.name", "mongodb".into()),
        ("db.namespace", db.name().to_owned().into()),
        ("db.collection.name", "orders".into()),
        ("db.operation.name", "find".into()),
        ("server.address", "127.0.0.1".into()),
        ("server.port", 27017.into()),
        (
            "db.query.text",
            r#"{"find": "orders", "singleBatch": ?, "limit": ?, "filter": {"email": ?, "total": {"$gt": ?}}}"#.into(),
        ),
    ];
    for (key, value) in expected {
        assert_eq!(a.get(key), Some(&value), "{key} in {a:?}");
    }
    assert_eq!(a.len(), 7, "{a:?}");
    secrets::assert_none_of(&["bob@example.com"], &children);
}

#[tokio::test]
async fn server_errors_record_their_code_and_no_value() {
    let db = database("errors").await;
    let users = db.collection::<Document>("users");
    users
        .create_index(
            IndexModel::builder()
                .keys(doc! { "email": 1 })
                .options(IndexOptions::builder().unique(true).build())
                .build(),
        )
        .await
        .unwrap();
    users
        .insert_one(doc! { "_id": 987654, "email": "bob@example.com" })
        .await
        .unwrap();
    let (_, children, _) = spans()
        .traced(async {
            users
                .insert_one(doc! { "email": "bob@example.com" })
                .await
                .unwrap_err();
            users.insert_one(doc! { "_id": 987654 }).await.unwrap_err();
            db.run_command(doc! { "noSuchCommand": 1 })
                .await
                .unwrap_err();
            // An unknown collection.
            db.collection::<Document>("no_such")
                .list_index_names()
                .await
                .unwrap_err();
        })
        .await;
    assert_eq!(
        names(&children),
        [
            "insert users",
            "insert users",
            "noSuchCommand",
            "listIndexes no_such"
        ]
    );
    let codes: Vec<String> = children
        .iter()
        .map(|s| {
            attributes(s)["db.response.status_code"]
                .as_str()
                .into_owned()
        })
        .collect();
    assert_eq!(codes, ["11000", "11000", "59", "26"]);
    let types: Vec<String> = children
        .iter()
        .map(|s| attributes(s)["error.type"].as_str().into_owned())
        .collect();
    assert_eq!(
        types,
        ["11000", "11000", "CommandNotFound", "NamespaceNotFound"],
        "the server's code name where it gives one; write errors carry only a code"
    );
    for span in &children {
        assert!(matches!(span.status, Status::Error { .. }), "{}", span.name);
        assert!(attributes(span).contains_key("error.type"), "{}", span.name);
    }
    secrets::assert_none_of(&["bob@example.com", "987654"], &children);
}

#[tokio::test]
async fn every_command_of_an_operation_is_reported_and_plumbing_is_not() {
    let db = database("many").await;
    let items = db.collection::<Document>("items");
    let (root, children, _) = spans()
        .traced(async {
            items
                .insert_many((0..3).map(|i| doc! { "n": i, "secret": format!("s-{i}") }))
                .await
                .unwrap();
            items
                .update_one(doc! { "n": 1 }, doc! { "$set": { "n": 10 } })
                .await
                .unwrap();
            items.delete_many(doc! { "n": { "$lt": 5 } }).await.unwrap();
            let left = items.count_documents(doc! {}).await.unwrap();
            assert_eq!(left, 1);
        })
        .await;
    assert_eq!(
        names(&children),
        [
            "insert items",
            "update items",
            "delete items",
            "aggregate items"
        ]
    );
    assert!(
        children
            .iter()
            .all(|s| s.parent_span_id == root.span_context.span_id())
    );
    assert!(!names(&children).iter().any(|n| {
        let n = n.to_ascii_lowercase();
        n.starts_with("hello") || n.starts_with("ismaster") || n.starts_with("sasl")
    }));
    secrets::assert_none_of(&["s-0", "s-1", "s-2"], &children);
}

#[tokio::test]
async fn without_capture_the_command_text_is_not_recorded() {
    spans();
    let url = services::mongodb_url();
    let mut options = ClientOptions::parse(&url).await.unwrap();
    census::mongodb::install(&mut options);
    let client = Client::with_options(options).unwrap();
    let db = client.database(&format!("census_plain_{}", std::process::id()));
    let (_, children, _) = spans()
        .traced(
            db.collection::<Document>("t")
                .find_one(doc! { "x": "hidden" })
                .into_future(),
        )
        .await;
    assert_eq!(names(&children), ["find t"]);
    assert!(!attributes(&children[0]).contains_key("db.query.text"));
}

// Multi-threaded: the pool's worker task, which hears the connection come
// back, must run while the test waits for the span.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_whose_caller_gives_up_ends_its_span() {
    let db = database("cancel").await;
    let big = db.collection::<Document>("big");
    let docs: Vec<Document> = (0..100_000).map(|n| doc! { "n": n, "s": "x" }).collect();
    big.insert_many(docs).await.unwrap();
    // Grouping 100 000 documents takes the server well over the 20 ms the
    // caller waits.
    let pipeline = [
        doc! { "$group": { "_id": { "$mod": ["$n", 1000] }, "c": { "$sum": 1 } } },
        doc! { "$sort": { "c": -1 } },
    ];
    let (cx, trace) = spans().root("test");
    let timed_out = tokio::time::timeout(
        std::time::Duration::from_millis(20),
        opentelemetry::context::FutureExt::with_context(
            big.aggregate(pipeline).into_future(),
            cx.clone(),
        ),
    )
    .await;
    assert!(timed_out.is_err(), "the aggregate finished within 20 ms");
    let root = {
        use opentelemetry::trace::TraceContextExt as _;
        let id = cx.span().span_context().span_id();
        cx.span().end();
        id
    };
    let ended = spans().wait_for(trace, 2);
    let aggregate: Vec<_> = ended.iter().filter(|s| s.name == "aggregate big").collect();
    assert_eq!(aggregate.len(), 1, "{:?}", names(&ended));
    assert_eq!(aggregate[0].parent_span_id, root);
    assert_eq!(aggregate[0].status, Status::Unset, "abandoned, not failed");
    let lasted = aggregate[0]
        .end_time
        .duration_since(aggregate[0].start_time)
        .unwrap();
    assert!(lasted < std::time::Duration::from_secs(1), "{lasted:?}");
}

/// Every command is measured, sampled or not:
/// `db.client.operation.duration` by command and collection, with the
/// server's code of a failure.
#[tokio::test]
async fn every_command_is_measured_by_command_and_collection_sampled_or_not() {
    use opentelemetry::context::FutureExt as _;
    use opentelemetry::trace::TraceContextExt as _;
    let metrics = census_pipeline::testing::metrics();
    let db = database("metered").await;
    let orders = db.collection::<Document>("orders");
    let (caller, _) = census_pipeline::testing::unsampled_caller();
    let unsampled = || opentelemetry::Context::new().with_remote_span_context(caller.clone());
    let (_, _, inserted) = spans()
        .traced(orders.insert_one(doc! { "_id": 7 }).into_future())
        .await;
    inserted.unwrap();
    orders
        .find_one(doc! { "_id": 7 })
        .into_future()
        .with_context(unsampled())
        .await
        .unwrap();
    orders
        .insert_one(doc! { "_id": 7 })
        .into_future()
        .with_context(unsampled())
        .await
        .unwrap_err();

    let metric = |operation: &'static str, extra: &[(&'static str, Value)]| {
        let mut attributes: std::collections::BTreeMap<String, Value> = [
            ("db.system.name", Value::from("mongodb")),
            ("db.namespace", db.name().to_owned().into()),
            ("db.collection.name", "orders".into()),
            ("db.operation.name", operation.into()),
            ("server.address", "127.0.0.1".into()),
            ("server.port", 27017.into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        attributes.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        attributes
    };
    // `database()` drops the database first: a command on no collection.
    let mut dropped = metric("dropDatabase", &[]);
    dropped.remove("db.collection.name");
    let wanted = census_pipeline::testing::sorted_counts(vec![
        (dropped, 1),
        (metric("insert", &[]), 1),
        (metric("find", &[]), 1),
        (
            metric(
                "insert",
                &[
                    ("error.type", "11000".into()),
                    ("db.response.status_code", "11000".into()),
                ],
            ),
            1,
        ),
    ]);
    assert_eq!(
        metrics.counts(
            "db.client.operation.duration",
            &[("db.namespace", db.name().to_owned().into())],
            "census-mongodb"
        ),
        wanted
    );
}
