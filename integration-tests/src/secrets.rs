//! Searching everything census exports for values that must never be
//! there: span names, attributes, events, status messages, and the
//! Application Insights envelopes the same spans become.

use std::io::Read as _;

use census::azure::AzureExporter;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;

/// Every text an exporter could send for `spans`, one entry per place.
pub fn exported_texts(spans: &[SpanData]) -> Vec<String> {
    let mut texts = Vec::new();
    for span in spans {
        texts.push(span.name.to_string());
        for kv in &span.attributes {
            texts.push(format!("{}={}", kv.key, text(&kv.value)));
        }
        for event in span.events.iter() {
            texts.push(event.name.to_string());
            for kv in &event.attributes {
                texts.push(format!("{}={}", kv.key, text(&kv.value)));
            }
        }
        texts.push(format!("{:?}", span.status));
    }
    texts.push(envelopes(spans));
    texts
}

/// Panics naming each secret found, and where.
///
/// Make each secret something random ids and timestamps cannot spell by
/// chance: a letter past `f`, or nine digits or more (`abc` is in about
/// one run in ten of a test's hex ids).
pub fn assert_none_of(secrets: &[&str], spans: &[SpanData]) {
    assert!(!spans.is_empty(), "no spans to search");
    let texts = exported_texts(spans);
    let found: Vec<String> = secrets
        .iter()
        .flat_map(|secret| {
            texts
                .iter()
                .filter(move |t| t.contains(secret))
                .map(move |t| format!("`{secret}` in {t}"))
        })
        .collect();
    assert!(found.is_empty(), "secrets reached telemetry: {found:#?}");
}

fn text(value: &Value) -> String {
    value.as_str().into_owned()
}

/// The JSON envelopes Application Insights would receive.
fn envelopes(spans: &[SpanData]) -> String {
    let exporter = AzureExporter::builder()
        .connection_string("InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/")
        .disable_storage()
        .build()
        .expect("exporter for encoding");
    let gzipped = exporter.encode(spans).expect("encode");
    let mut json = String::new();
    flate2::read::GzDecoder::new(gzipped.as_slice())
        .read_to_string(&mut json)
        .expect("gzip");
    json
}
