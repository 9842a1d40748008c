//! One call's measurement: started with its span, recorded when the span
//! ends.

// The time-stamp counter where the CPU's is invariant, else the OS clock:
// two readings are half of what measuring a call costs with the OS clock,
// a third with the counter (see `instruments::install`).
use quanta::Instant;

use opentelemetry::KeyValue;
use opentelemetry::metrics::BoundUpDownCounter;
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
    /// How an HTTP server request counted in is counted out: through the
    /// handle bound when it came in, or (`Unbound`) through a lookup.
    active: Active,
    ended: bool,
}

#[derive(Debug)]
enum Active {
    /// Not an HTTP server request, or measured with no provider.
    None,
    Bound(BoundUpDownCounter<i64>),
    Unbound,
}

impl Measurement {
    /// Starts measuring the call `metric` describes; an HTTP server
    /// request counts as active until it ends.
    pub(crate) fn start(integration: &'static Integration, metric: CallMetric) -> Self {
        let mut active = Active::None;
        if metric.kind() == CallKind::HttpServer {
            integration.with_instruments(|instruments| {
                let attributes = active_request_attributes(metric.attributes());
                active = match instruments.active_request_in(attributes) {
                    Some(bound) => Active::Bound(bound),
                    None => Active::Unbound,
                };
            });
        }
        Self {
            integration,
            start: Instant::now(),
            metric,
            active,
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
        // Counted out by the provider that counted it in, even one
        // replaced since.
        let unbound_active = match self.active {
            Active::None => false,
            Active::Bound(bound) => {
                bound.add(-1);
                false
            }
            Active::Unbound => true,
        };
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
            if unbound_active {
                instruments.active_request_out(active_request_attributes(attributes));
            }
        });
    }
}

/// `http.server.active_requests`' attributes: the method and scheme an
/// HTTP server call's attributes start with.
fn active_request_attributes(attributes: &[KeyValue]) -> &[KeyValue] {
    &attributes[..CallMetric::ACTIVE_REQUEST_ATTRIBUTES]
}
