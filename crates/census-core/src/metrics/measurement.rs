//! One call's measurement: started with its span, recorded when the span
//! ends.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{BoundUpDownCounter, UpDownCounter};
use opentelemetry_semantic_conventions::attribute::ERROR_TYPE;

use super::clock::Start;
use super::site::Owner;
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
    start: Start,
    /// The call, with what the outcomes given so far add.
    metric: CallMetric,
    /// How an HTTP server request counted in is counted out.
    active: Active,
    ended: bool,
}

#[derive(Debug)]
enum Active {
    /// Not an HTTP server request, or measured with no provider.
    None,
    /// Through the handle its route's site holds for this owner.
    Site(Owner),
    /// Through the handle bound when it came in.
    Bound(BoundUpDownCounter<i64>),
    /// Through the counter that counted it in, by its attributes.
    Unbound(UpDownCounter<i64>),
}

impl Measurement {
    /// Starts measuring the call `metric` describes; an HTTP server
    /// request counts as active until it ends.
    // Inlined, so that the measurement is made where the span keeps it.
    #[inline]
    pub(crate) fn start(integration: &'static Integration, metric: CallMetric) -> Self {
        let active = if metric.kind() == CallKind::HttpServer {
            count_in(integration, &metric)
        } else {
            Active::None
        };
        Self {
            integration,
            start: Start::now(),
            metric,
            active,
            ended: false,
        }
    }

    /// How the call ended: a server that recorded its status and then
    /// the failure behind it gets both.
    pub(crate) fn add_outcome(&mut self, outcome: &Outcome) {
        self.metric.add_outcome(outcome);
        self.ended = true;
    }

    /// Records the call's duration, with its outcome's attributes.
    pub(crate) fn end(self) {
        let seconds = self.start.elapsed_seconds();
        let kind = self.metric.kind();
        let mut metric = self.metric;
        // Counted out by the provider that counted it in, even one
        // replaced since.
        match self.active {
            Active::None => {}
            Active::Site(owner) => {
                if let Some(active) = metric.site().and_then(|site| site.active(owner)) {
                    active.add(-1);
                }
            }
            Active::Bound(bound) => bound.add(-1),
            Active::Unbound(counter) => {
                counter.add(
                    -1,
                    CallMetric::active_request_attributes(metric.attributes()),
                );
            }
        }
        if !self.ended {
            metric.set(KeyValue::new(ERROR_TYPE, CANCELLED));
        }
        // A call whose outcome added at most a status code to a shared
        // description (a statement that succeeded, a route's response)
        // records through the handle bound to both: no lookup at all.
        let owner = Owner::new(self.integration, super::instruments::generation());
        if let Some(bound) = metric
            .site_and_status()
            .and_then(|(site, status)| site.duration(owner, status))
        {
            bound.record(seconds);
            return;
        }
        self.integration.with_instruments(|instruments| {
            let recorded = metric.site_and_status().is_some_and(|(site, status)| {
                instruments.record_at(self.integration, kind, seconds, site, status)
            });
            if !recorded {
                instruments.record_duration(kind, seconds, &metric.into_attributes());
            }
        });
    }
}

/// Counts an HTTP server request in: through its route's site when it
/// has one, else through the handle bound to its method and scheme.
fn count_in(integration: &'static Integration, metric: &CallMetric) -> Active {
    let owner = Owner::new(integration, super::instruments::generation());
    if let Some(active) = metric.site().and_then(|site| site.active(owner)) {
        active.add(1);
        return Active::Site(owner);
    }
    let mut active = Active::None;
    integration.with_instruments(|instruments| {
        if let Some(site) = metric.site()
            && let Some(owner) = instruments.active_request_in_at(integration, site)
        {
            active = Active::Site(owner);
            return;
        }
        let attributes = CallMetric::active_request_attributes(metric.attributes());
        active = match instruments.active_request_in(attributes) {
            Ok(bound) => Active::Bound(bound),
            Err(counter) => Active::Unbound(counter),
        };
    });
    active
}
