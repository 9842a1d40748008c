//! What the fuzz targets (`fuzz/`) reach that is not public API; compiled
//! only under cargo-fuzz's `--cfg fuzzing`.

use crate::transport::{Outcome, partial};

/// How a 206 body is read for a batch of `sent` items: the indices to
/// resend and the count rejected for good, or `None` when the whole batch
/// is retried.
pub fn partial_response(body: &str, sent: usize) -> Option<(Vec<usize>, usize)> {
    match partial(body, sent) {
        Outcome::Accepted => Some((Vec::new(), 0)),
        Outcome::Partial { retry, rejected } => {
            Some((retry.into_iter().map(|(i, _)| i).collect(), rejected.len()))
        }
        Outcome::Retry { .. } | Outcome::Rejected { .. } => None,
    }
}
