//! Secrets never reach a log record: the same rules census applies to
//! span attributes, applied to each field as the bridge records it.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord, Logger, LoggerProvider, Severity};
use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
use opentelemetry::{InstrumentationScope, Key};
use opentelemetry_sdk::logs::{SdkLogRecord, SdkLogger, SdkLoggerProvider};

/// A logger provider that hands the log bridges loggers whose records
/// redact, as each field is added:
/// - the value of a field whose name looks secret (`password`, `secret`,
///   `token`, `authorization`, `api_key`, ...: the rule of
///   [`census_sanitize::is_secret_name`], which URL query parameters
///   follow too), replaced by `REDACTED`;
/// - a URL's credentials and secret query parameters, in any text value
///   that is a URL ([`census_sanitize::redact_url`], as for
///   `url.full` on spans).
///
/// The message (body) is kept as written.
///
/// ```
/// use census_pipeline::logs::RedactingLoggerProvider;
/// use opentelemetry::logs::{Logger as _, LoggerProvider as _, LogRecord as _};
/// use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
/// let memory = InMemoryLogExporter::default();
/// let sdk = SdkLoggerProvider::builder().with_simple_exporter(memory.clone()).build();
/// let logger = RedactingLoggerProvider::new(sdk).logger("shop");
/// let mut record = logger.create_log_record();
/// record.add_attribute("db_password", "hunter2");
/// record.add_attribute("callback", "https://shop.example/done?sig=abc&order=42");
/// logger.emit(record);
/// let logs = memory.get_emitted_logs()?;
/// let values: Vec<_> = logs[0].record.attributes_iter().map(|(_, v)| v.clone()).collect();
/// assert_eq!(values, ["REDACTED".into(), "https://shop.example/done?sig=REDACTED&order=42".into()]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RedactingLoggerProvider {
    inner: SdkLoggerProvider,
}

impl RedactingLoggerProvider {
    /// Wraps `inner`, which exports the records.
    pub fn new(inner: SdkLoggerProvider) -> Self {
        Self { inner }
    }
}

impl LoggerProvider for RedactingLoggerProvider {
    type Logger = RedactingLogger;

    fn logger_with_scope(&self, scope: InstrumentationScope) -> RedactingLogger {
        RedactingLogger {
            inner: self.inner.logger_with_scope(scope),
        }
    }
}

/// The logger of a [`RedactingLoggerProvider`].
///
/// ```
/// use census_pipeline::logs::RedactingLoggerProvider;
/// use opentelemetry::logs::LoggerProvider as _;
/// let provider = RedactingLoggerProvider::new(opentelemetry_sdk::logs::SdkLoggerProvider::builder().build());
/// let logger: census_pipeline::logs::RedactingLogger = provider.logger("shop");
/// ```
#[derive(Debug)]
pub struct RedactingLogger {
    inner: SdkLogger,
}

impl Logger for RedactingLogger {
    type LogRecord = RedactingLogRecord;

    fn create_log_record(&self) -> RedactingLogRecord {
        RedactingLogRecord(self.inner.create_log_record())
    }

    fn emit(&self, record: RedactingLogRecord) {
        self.inner.emit(record.0);
    }

    fn event_enabled(&self, level: Severity, target: &str, name: Option<&str>) -> bool {
        self.inner.event_enabled(level, target, name)
    }
}

/// A record of a [`RedactingLogger`]: each attribute is redacted by
/// [`redact_attribute`] as it is added.
///
/// ```
/// use census_pipeline::logs::RedactingLoggerProvider;
/// use opentelemetry::logs::{Logger as _, LoggerProvider as _, LogRecord as _};
/// let provider = RedactingLoggerProvider::new(opentelemetry_sdk::logs::SdkLoggerProvider::builder().build());
/// let mut record = provider.logger("shop").create_log_record();
/// record.add_attribute("token", "abc");
/// ```
#[derive(Debug)]
pub struct RedactingLogRecord(SdkLogRecord);

impl LogRecord for RedactingLogRecord {
    fn set_event_name(&mut self, name: &'static str) {
        self.0.set_event_name(name);
    }

    fn set_target<T>(&mut self, target: T)
    where
        T: Into<Cow<'static, str>>,
    {
        self.0.set_target(target);
    }

    fn set_timestamp(&mut self, timestamp: SystemTime) {
        self.0.set_timestamp(timestamp);
    }

    fn set_observed_timestamp(&mut self, timestamp: SystemTime) {
        self.0.set_observed_timestamp(timestamp);
    }

    fn set_severity_text(&mut self, text: &'static str) {
        self.0.set_severity_text(text);
    }

    fn set_severity_number(&mut self, number: Severity) {
        self.0.set_severity_number(number);
    }

    fn set_body(&mut self, body: AnyValue) {
        self.0.set_body(body);
    }

    fn add_attributes<I, K, V>(&mut self, attributes: I)
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<Key>,
        V: Into<AnyValue>,
    {
        for (key, value) in attributes {
            self.add_attribute(key, value);
        }
    }

    fn add_attribute<K, V>(&mut self, key: K, value: V)
    where
        K: Into<Key>,
        V: Into<AnyValue>,
    {
        let key = key.into();
        let value = redact_attribute(&key, value.into());
        self.0.add_attribute(key, value);
    }

    fn set_trace_context(
        &mut self,
        trace_id: TraceId,
        span_id: SpanId,
        trace_flags: Option<TraceFlags>,
    ) {
        self.0.set_trace_context(trace_id, span_id, trace_flags);
    }
}

/// `value` as a log record may carry it under `key`: `REDACTED` when the
/// name looks secret, a URL with its credentials and secret parameters
/// redacted, anything else as it is.
///
/// ```
/// use census_pipeline::logs::redact_attribute;
/// use opentelemetry::{Key, logs::AnyValue};
/// assert_eq!(redact_attribute(&Key::from("password"), "hunter2".into()), AnyValue::from("REDACTED"));
/// assert_eq!(
///     redact_attribute(&Key::from("url"), "postgres://app:hunter2@db/shop".into()),
///     AnyValue::from("postgres://REDACTED:REDACTED@db/shop"),
/// );
/// assert_eq!(redact_attribute(&Key::from("order_id"), 42.into()), AnyValue::Int(42));
/// ```
pub fn redact_attribute(key: &Key, value: AnyValue) -> AnyValue {
    if census_sanitize::is_secret_name(key.as_str()) {
        return AnyValue::from(census_sanitize::REDACTED);
    }
    match &value {
        AnyValue::String(text) => match as_url(text.as_str()) {
            Some(url) => AnyValue::from(census_sanitize::redact_url(&url)),
            None => value,
        },
        _ => value,
    }
}

/// `text` as a URL, when it is one with an authority (`scheme://...`):
/// plain words with a colon (`note: x`) are not.
fn as_url(text: &str) -> Option<url::Url> {
    let (scheme, rest) = text.split_once("://")?;
    let scheme_like = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_like || rest.contains(char::is_whitespace) {
        return None;
    }
    url::Url::parse(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(key: &str, value: &str) -> String {
        match redact_attribute(&Key::from(key.to_owned()), AnyValue::from(value.to_owned())) {
            AnyValue::String(s) => s.as_str().to_owned(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secret_names_are_redacted_whatever_their_value() {
        for key in [
            "password",
            "db.password",
            "client_secret",
            "access_token",
            "Authorization",
            "api-key",
        ] {
            assert_eq!(redacted(key, "hunter2"), "REDACTED", "{key}");
        }
        assert_eq!(redacted("order_id", "hunter2"), "hunter2");
    }

    #[test]
    fn urls_in_any_field_lose_credentials_and_secret_parameters() {
        assert_eq!(
            redacted("target", "https://bob:pw@blob.example/c?sv=1&sig=x"),
            "https://REDACTED:REDACTED@blob.example/c?sv=1&sig=REDACTED"
        );
        assert_eq!(
            redacted("dsn", "mysql://root:pw@127.0.0.1:3306/shop"),
            "mysql://REDACTED:REDACTED@127.0.0.1:3306/shop"
        );
        for text in [
            "https://shop.example/orders/42",
            "note: see https://x.example?token=1 later",
            "a://",
            "not a url",
        ] {
            assert_eq!(redacted("text", text), text);
        }
    }
}
