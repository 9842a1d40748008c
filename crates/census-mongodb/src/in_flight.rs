//! Spans of commands sent and not yet answered, by request id, with the
//! connection each went out on. A command whose caller dropped its future
//! gets no reply event; its connection goes back to the pool, which
//! [`InFlight::connection_released`] hears, and the span ends there. The map
//! is bounded too, for anything else that never answers: past the bound
//! the oldest span is ended as failed.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use census_core::model::{Failure, Outcome};
use census_core::span::ActiveSpan;
use mongodb::options::ServerAddress;

/// `error.type` of a span ended because its reply never came in time.
pub(crate) const EVICTED: &str = "census.no_reply";

#[derive(Debug)]
pub(crate) struct InFlight {
    capacity: usize,
    state: Mutex<State>,
}

/// A command's span and the connection it was sent on.
#[derive(Debug)]
struct Sent {
    span: ActiveSpan,
    address: ServerAddress,
    connection: u32,
}

#[derive(Debug, Default)]
struct State {
    spans: HashMap<i32, Sent>,
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

    pub(crate) fn insert(
        &self,
        request_id: i32,
        span: ActiveSpan,
        address: ServerAddress,
        connection: u32,
    ) {
        let evicted = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let sent = Sent {
                span,
                address,
                connection,
            };
            state.spans.insert(request_id, sent);
            state.order.push_back(request_id);
            let mut evicted = Vec::new();
            while state.spans.len() > self.capacity {
                let Some(oldest) = state.order.pop_front() else {
                    break;
                };
                evicted.extend(state.spans.remove(&oldest).map(|sent| sent.span));
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
            .map(|sent| sent.span)
    }

    /// The connection is back in the pool (or closed): a command still in
    /// flight on it was abandoned by its caller, so its span ends now,
    /// without an outcome, as a dropped future's does.
    pub(crate) fn connection_released(&self, address: &ServerAddress, connection: u32) {
        let abandoned: Vec<ActiveSpan> = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let ids: Vec<i32> = state
                .spans
                .iter()
                .filter(|(_, sent)| sent.connection == connection && sent.address == *address)
                .map(|(id, _)| *id)
                .collect();
            ids.iter()
                .filter_map(|id| state.spans.remove(id))
                .map(|sent| sent.span)
                .collect()
        };
        drop(abandoned);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.state.lock().unwrap().spans.len()
    }
}

#[cfg(test)]
mod tests {
    use census_pipeline::testing::{attributes, capture};
    use opentelemetry::context::FutureExt as _;
    use opentelemetry::trace::SpanKind;

    use super::*;

    fn address() -> ServerAddress {
        ServerAddress::Tcp {
            host: "db".into(),
            port: Some(27017),
        }
    }

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
                in_flight.insert(id, span, address(), 1);
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

    #[tokio::test]
    async fn a_released_connection_ends_the_spans_still_on_it_and_only_those() {
        let capture = capture(&[&crate::INTEGRATION]);
        let (root, trace) = capture.root("test");
        let in_flight = InFlight::new(10);
        async {
            for (id, connection) in [(1, 7), (2, 8)] {
                let parent = census_core::context::current();
                let span = crate::INTEGRATION.start(
                    SpanKind::Client,
                    format!("find on {connection}"),
                    &parent,
                    Vec::new,
                );
                in_flight.insert(id, span, address(), connection);
            }
        }
        .with_context(root)
        .await;
        let other_server = ServerAddress::Tcp {
            host: "elsewhere".into(),
            port: Some(27017),
        };
        in_flight.connection_released(&other_server, 7);
        assert_eq!(in_flight.len(), 2, "same id on another server: not ours");
        in_flight.connection_released(&address(), 7);
        assert_eq!(in_flight.len(), 1);
        let ended: Vec<_> = capture
            .spans(trace)
            .into_iter()
            .filter(|s| s.name != "test")
            .collect();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].name, "find on 7");
        assert_eq!(
            ended[0].status,
            opentelemetry::trace::Status::Unset,
            "abandoned, not failed"
        );
        assert!(in_flight.take(2).is_some());
    }
}
