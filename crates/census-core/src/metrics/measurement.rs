//! One call's measurement: started with its span, recorded when the span
//! ends.

// The time-stamp counter where the CPU's is invariant, else the OS clock:
// two readings are half of what measuring a call costs with the OS clock,
// a third with the counter (see `instruments::install`).
use quanta::Instant;

use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::ERROR_TYPE;

use super::{CallKind, CallMetric};
use crate::model::Outcome;
use crate::registry::Integration;

/// `error.type` of a call that ended without an outcome: its future or
/// stream was dropped before it completed.
const CANCELLED: &str = "cancelled";

/// A call being measured.
#[derive(Debug)]
pub(crate) struct Measurement {
    integration: &'static Integration,
    start: Instant,
    /// The call, with what the outcomes given so far add.
    metric: CallMetric,
    ended: bool,
}

impl Measurement {
    /// Starts measuring the call `metric` describes; an HTTP server
    /// request counts as active until it ends.
    pub(crate) fn start(integration: &'static Integration, metric: CallMetric) -> Self {
        if metric.kind() == CallKind::HttpServer {
            integration.with_instruments(|instruments| {
                instruments.add_active_request(1, active_request_attributes(metric.attributes()));
            });
        }
        Self {
            integration,
            start: Instant::now(),
            metric,
            ended: false,
        }
    }

    /// How the call ended: a server that recorded its status and then
    /// the failure behind it gets both.
    pub(crate) fn add_outcome(&mut self, outcome: &Outcome) {
        outcome.for_each_attribute(|attribute| self.metric.set(attribute));
        self.ended = true;
    }

    /// Records the call's duration, with its outcome's attributes.
    pub(crate) fn end(self) {
        let seconds = Instant::now()
            .saturating_duration_since(self.start)
            .as_secs_f64();
        let kind = self.metric.kind();
        let mut metric = self.metric;
        if !self.ended {
            metric.set(KeyValue::new(ERROR_TYPE, CANCELLED));
        }
        // A call that added nothing to a shared description (a statement
        // that succeeded; only database calls have one) records through
        // the handle bound to it: no lookup at all.
        if let Some(bound) = metric
            .site()
            .and_then(|site| site.bound_on(super::instruments::generation()))
        {
            bound.record(seconds);
            return;
        }
        let attributes = metric.attributes();
        self.integration.with_instruments(|instruments| {
            match metric.site() {
                Some(site) => instruments.record_at(kind, seconds, site),
                None => instruments.record_duration(kind, seconds, attributes),
            }
            if kind == CallKind::HttpServer {
                instruments.add_active_request(-1, active_request_attributes(attributes));
            }
        });
    }
}

/// `http.server.active_requests`' attributes: the method and scheme an
/// HTTP server call's attributes start with.
fn active_request_attributes(attributes: &[KeyValue]) -> &[KeyValue] {
    &attributes[..CallMetric::ACTIVE_REQUEST_ATTRIBUTES]
}
