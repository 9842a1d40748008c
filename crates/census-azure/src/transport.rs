//! One POST of a batch to `/v2.1/track`, and what its answer means for the
//! items in it. Blocking on purpose: exports run on the batch processor's
//! own thread, where no async runtime is needed.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Deserialize;
use url::Url;

use crate::credential::Bearer;
use crate::sdk_stats::Code;

/// Redirects followed for one send (307/308 move the ingestion endpoint).
const MAX_REDIRECTS: usize = 3;

/// What became of a batch.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    /// Every item accepted.
    Accepted,
    /// Some items failed: `retry` lists the retryable ones by index, the
    /// `rejected` others are lost for good, each with its status.
    Partial {
        retry: Vec<(usize, u16)>,
        rejected: Vec<(usize, u16)>,
    },
    /// Nothing accepted, worth retrying (after `after`, when the server said).
    Retry {
        after: Option<Duration>,
        reason: String,
        code: Code,
    },
    /// Nothing accepted, and retrying cannot help.
    Rejected { reason: String, code: Code },
}

#[derive(Deserialize)]
struct TrackResponse {
    #[serde(default)]
    errors: Vec<ItemError>,
}

#[derive(Deserialize)]
struct ItemError {
    index: usize,
    #[serde(rename = "statusCode")]
    status_code: u16,
}

/// Status codes worth another try, for a whole batch or one item.
pub(crate) fn is_retryable(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// A whole batch refused for its authentication: kept and retried, as
/// Microsoft's exporters do, since fixing the identity's role or the
/// exporter's credential lets the stored telemetry through.
fn is_unauthorized(status: u16) -> bool {
    matches!(status, 401 | 403)
}

#[derive(Debug)]
pub(crate) struct Transport {
    agent: ureq::Agent,
    /// The track URL; a 307/308 moves it for every later send.
    url: Mutex<Url>,
    /// Microsoft Entra ID authentication, when the exporter has a credential.
    bearer: Option<Bearer>,
    /// Whether the warning about a refused authentication was given.
    warned_unauthorized: AtomicBool,
}

impl Transport {
    pub(crate) fn new(url: Url, timeout: Duration, bearer: Option<Bearer>) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(timeout))
            .build();
        Self {
            agent: ureq::Agent::new_with_config(config),
            url: Mutex::new(url),
            bearer,
            warned_unauthorized: AtomicBool::new(false),
        }
    }

    /// Warns once that ingestion refused the batch's authentication, with
    /// the likely cause.
    fn warn_unauthorized(&self, status: u16) {
        if self.warned_unauthorized.swap(true, Ordering::Relaxed) {
            return;
        }
        let cause = match &self.bearer {
            Some(_) => {
                "the Microsoft Entra ID token was refused: check that the identity has the \
                 Monitoring Metrics Publisher role on the resource, and the connection string's \
                 AADAudience"
            }
            None => {
                "the resource requires Microsoft Entra ID authentication (local authentication \
                 is disabled): give the exporter a credential with `credential(...)`"
            }
        };
        census_core::diagnostics::warn(&format!(
            "Application Insights answered {status}: {cause}; telemetry is kept and retried"
        ));
    }

    fn url(&self) -> Url {
        self.url.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sends `items` (serialized envelopes) as one gzip JSON array.
    pub(crate) fn send(&self, items: &[String]) -> Outcome {
        let body = match gzip_array(items) {
            Ok(body) => body,
            Err(e) => {
                return Outcome::Rejected {
                    reason: format!("compressing failed: {e}"),
                    code: Code::ClientException,
                };
            }
        };
        for _ in 0..=MAX_REDIRECTS {
            let url = self.url();
            let mut request = self
                .agent
                .post(url.as_str())
                .header("Content-Type", "application/json")
                .header("Content-Encoding", "gzip");
            if let Some(bearer) = &self.bearer {
                match bearer.header() {
                    Ok(value) => request = request.header("Authorization", value),
                    Err(e) => {
                        return Outcome::Retry {
                            after: None,
                            reason: e.to_string(),
                            code: Code::ClientException,
                        };
                    }
                }
            }
            let response = request.send(&body[..]);
            let mut response = match response {
                Ok(response) => response,
                Err(e) => {
                    let code = if matches!(e, ureq::Error::Timeout(_)) {
                        Code::ClientTimeout
                    } else {
                        Code::ClientException
                    };
                    return Outcome::Retry {
                        after: None,
                        reason: format!("sending failed: {e}"),
                        code,
                    };
                }
            };
            let status = response.status().as_u16();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            match status {
                200 => return Outcome::Accepted,
                206 => {
                    let text = response.body_mut().read_to_string().unwrap_or_default();
                    return partial(&text, items.len());
                }
                307 | 308 => {
                    let Some(next) = header("Location").and_then(|l| url.join(&l).ok()) else {
                        return Outcome::Retry {
                            after: None,
                            reason: format!("{status} without a usable Location"),
                            code: Code::Status(status),
                        };
                    };
                    *self.url.lock().unwrap_or_else(|p| p.into_inner()) = next;
                }
                _ if is_unauthorized(status) => {
                    if let Some(bearer) = &self.bearer {
                        // The next send asks the credential for a new token.
                        bearer.forget();
                    }
                    self.warn_unauthorized(status);
                    return Outcome::Retry {
                        after: None,
                        reason: format!("ingestion answered {status}"),
                        code: Code::Status(status),
                    };
                }
                _ if is_retryable(status) => {
                    let after = header("Retry-After")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    return Outcome::Retry {
                        after,
                        reason: format!("ingestion answered {status}"),
                        code: Code::Status(status),
                    };
                }
                _ => {
                    return Outcome::Rejected {
                        reason: format!("ingestion answered {status}"),
                        code: Code::Status(status),
                    };
                }
            }
        }
        Outcome::Retry {
            after: None,
            reason: format!("more than {MAX_REDIRECTS} redirects"),
            code: Code::ClientException,
        }
    }
}

/// A 206: only the failed items whose own status is retryable are resent.
pub(crate) fn partial(text: &str, sent: usize) -> Outcome {
    let Ok(response) = serde_json::from_str::<TrackResponse>(text) else {
        // An unreadable partial answer: resending all risks duplicates,
        // resending none risks loss; duplicates are the lesser harm.
        return Outcome::Retry {
            after: None,
            reason: "unreadable 206 response".into(),
            code: Code::Status(206),
        };
    };
    // Each failed item counts once, and one that may be retried is
    // retried (with the status that allows it).
    let mut failed: std::collections::BTreeMap<usize, u16> = std::collections::BTreeMap::new();
    for error in response.errors.iter().filter(|e| e.index < sent) {
        let status = failed.entry(error.index).or_insert(error.status_code);
        if is_retryable(error.status_code) {
            *status = error.status_code;
        }
    }
    let (retry, rejected): (Vec<_>, Vec<_>) = failed
        .into_iter()
        .partition(|&(_, status)| is_retryable(status));
    if retry.is_empty() && rejected.is_empty() {
        Outcome::Accepted
    } else {
        Outcome::Partial { retry, rejected }
    }
}

pub(crate) fn gzip_array(items: &[String]) -> std::io::Result<Vec<u8>> {
    let size: usize = items.iter().map(|i| i.len() + 1).sum();
    let mut encoder = GzEncoder::new(Vec::with_capacity(size / 4 + 64), Compression::fast());
    encoder.write_all(b"[")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            encoder.write_all(b",")?;
        }
        encoder.write_all(item.as_bytes())?;
    }
    encoder.write_all(b"]")?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_responses_keep_only_retryable_items() {
        let text = r#"{"itemsReceived":5,"itemsAccepted":2,"errors":[
            {"index":1,"statusCode":500,"message":"x"},
            {"index":3,"statusCode":400,"message":"bad"},
            {"index":4,"statusCode":429,"message":"slow"}]}"#;
        assert_eq!(
            partial(text, 5),
            Outcome::Partial {
                retry: vec![(1, 500), (4, 429)],
                rejected: vec![(3, 400)]
            }
        );
        assert_eq!(
            partial(r#"{"itemsReceived":1,"itemsAccepted":1,"errors":[]}"#, 1),
            Outcome::Accepted
        );
        assert!(matches!(partial("oops", 3), Outcome::Retry { .. }));
        // Repeated and out-of-range indices count once, or not at all.
        let odd = r#"{"errors":[{"index":0,"statusCode":400},{"index":0,"statusCode":400},
            {"index":1,"statusCode":500},{"index":1,"statusCode":400},{"index":9,"statusCode":500}]}"#;
        assert_eq!(
            partial(odd, 2),
            Outcome::Partial {
                retry: vec![(1, 500)],
                rejected: vec![(0, 400)]
            }
        );
    }

    #[test]
    fn retryable_statuses_follow_the_reference() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable(s), "{s}");
        }
        for s in [200, 206, 400, 401, 402, 403, 404, 439] {
            assert!(!is_retryable(s), "{s}");
        }
    }
}
