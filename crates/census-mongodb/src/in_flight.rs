//! Spans of commands sent and not yet answered, by request id. Bounded: a
//! command whose reply never comes (a connection dropped mid-flight, an
//! event the driver never sends) must not keep its span forever, so past
//! the bound the oldest is ended as failed.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use census_core::model::{Failure, Outcome};
use census_core::span::ActiveSpan;

/// `error.type` of a span ended because its reply never came in time.
pub(crate) const EVICTED: &str = "census.no_reply";

#[derive(Debug)]
pub(crate) struct InFlight {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    spans: HashMap<i32, ActiveSpan>,
    /// Request ids in the order they started; may hold ids already
    /// answered, skipped when evicting.
    order: VecDeque<i32>,
}

impl InFlight {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            state: Mutex::default(),
        }
    }

    pub(crate) fn insert(&self, request_id: i32, span: ActiveSpan) {
        let evicted = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.spans.insert(request_id, span);
            state.order.push_back(request_id);
            let mut evicted = Vec::new();
            while state.spans.len() > self.capacity {
                let Some(oldest) = state.order.pop_front() else {
                    break;
                };
                evicted.extend(state.spans.remove(&oldest));
            }
            // Answered ids pile up at the front otherwise.
            if state.order.len() > 2 * self.capacity {
                let State { spans, order } = &mut *state;
                order.retain(|id| spans.contains_key(id));
            }
            evicted
        };
        // Ended outside the lock: ending runs span processors.
        for span in evicted {
            span.finish(&Outcome::Failed(Failure::new(
                EVICTED,
                "no reply seen before the in-flight command limit was reached",
            )));
        }
    }

    pub(crate) fn take(&self, request_id: i32) -> Option<ActiveSpan> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .spans
            .remove(&request_id)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.state.lock().unwrap().spans.len()
    }
}

#[cfg(test)]
mod tests {
    use census_core::testing::{attributes, capture};
    use opentelemetry::context::FutureExt as _;
    use opentelemetry::trace::SpanKind;

    use super::*;

    #[tokio::test]
    async fn past_the_bound_the_oldest_span_ends_as_failed() {
        let capture = capture(&[&crate::INTEGRATION]);
        let (root, trace) = capture.root("test");
        let in_flight = InFlight::new(2);
        async {
            for id in 1..=3 {
                let parent = census_core::context::current();
                let span = crate::INTEGRATION.start(
                    SpanKind::Client,
                    format!("find c{id}"),
                    &parent,
                    Vec::new,
                );
                in_flight.insert(id, span);
            }
        }
        .with_context(root)
        .await;
        assert_eq!(in_flight.len(), 2);
        assert!(in_flight.take(1).is_none(), "the oldest was evicted");
        // The root ended when its context was dropped.
        let ended: Vec<_> = capture
            .spans(trace)
            .into_iter()
            .filter(|s| s.name != "test")
            .collect();
        let names: Vec<_> = ended.iter().map(|s| s.name.to_string()).collect();
        assert_eq!(names, ["find c1"]);
        assert_eq!(attributes(&ended[0])["error.type"].as_str(), EVICTED);
        drop(in_flight.take(2));
        drop(in_flight.take(3));
        assert_eq!(in_flight.len(), 0);
        assert_eq!(capture.spans(trace).len(), 4);
    }
}
