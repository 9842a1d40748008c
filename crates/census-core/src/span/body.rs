use std::task::Poll;

use super::ActiveSpan;
use crate::model::{Failure, Outcome};

/// For a response body that carries its request's span (tower's, actix's):
/// after each poll, ends the span when the body is over (`None`, or
/// `at_end` after a chunk) and fails it when the body failed, so that a
/// streamed response is timed whole.
///
/// ```
/// use std::task::Poll;
/// use census_core::registry::Integration;
/// static WEB: Integration = Integration::new("web", "my-web", "0.1.0");
/// let mut span = Some(WEB.start(opentelemetry::trace::SpanKind::Server, "GET", &census_core::context::current(), Vec::new));
/// let chunk: Poll<Option<Result<&str, std::io::Error>>> = Poll::Ready(Some(Ok("last")));
/// census_core::span::body_polled(&mut span, &chunk, true);
/// assert!(span.is_none(), "ended with the last chunk");
/// ```
pub fn body_polled<T, E>(
    span: &mut Option<ActiveSpan>,
    polled: &Poll<Option<Result<T, E>>>,
    at_end: bool,
) {
    match polled {
        Poll::Ready(None) => drop(span.take()),
        Poll::Ready(Some(Err(_))) => {
            if let Some(span) = span.take() {
                span.finish(&Outcome::Failed(Failure::new(
                    std::any::type_name::<E>(),
                    "the response body failed",
                )));
            }
        }
        Poll::Ready(Some(Ok(_))) if at_end => drop(span.take()),
        _ => {}
    }
}
