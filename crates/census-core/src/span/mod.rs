//! The one span lifecycle every integration uses.
//!
//! 1. Ask the integration whether it traces
//!    ([`Integration::should_trace`](crate::registry::Integration::should_trace),
//!    one atomic load);
//! 2. start a span of the right kind as a child of the current (or a given)
//!    context with [`Integration::start`](crate::registry::Integration::start),
//!    from the integration's cached tracer;
//! 3. run the work inside the span's context: a future ([`InSpan`]), a
//!    stream ([`InSpanStream`]), or synchronous code ([`ActiveSpan::enter`]);
//! 4. classify the outcome ([`Outcome`](crate::model::Outcome));
//! 5. end the span exactly once: on completion, on error, at the end of a
//!    stream, or when dropped or cancelled ([`ActiveSpan`] ends on drop).
//!
//! An integration supplies only where to hook, the target, the command
//! and how to read its library's errors.

mod active;
mod body;
mod future;
mod sql;
mod stream;

pub use active::{ActiveSpan, EnteredSpan};
pub use body::body_polled;
pub use future::{Classify, InSpan};
pub use sql::SqlSpans;
pub use stream::InSpanStream;
