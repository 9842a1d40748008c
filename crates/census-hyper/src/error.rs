//! What a failed request's `error.type` and message say.

use std::any::Any;
use std::error::Error;
use std::io::ErrorKind;

use census_core::model::Failure;
use tower::BoxError;

/// The failure of a request that got no response. Error types census can
/// read (hyper-util's client error, tower's boxed errors, I/O errors) give
/// a kind and their causes; any other only its type, because its message
/// may name the URL, secrets included.
pub(crate) fn describe<E: 'static>(error: &E) -> Failure {
    let type_name = std::any::type_name::<E>();
    match readable(error) {
        Some(error) => Failure::from_causes(kind(error), error),
        None => Failure::new(
            type_name,
            format!("{type_name} (its message is not recorded)"),
        ),
    }
}

fn readable<E: 'static>(error: &E) -> Option<&(dyn Error + 'static)> {
    let any: &dyn Any = error;
    if let Some(boxed) = any.downcast_ref::<BoxError>() {
        return Some(&**boxed);
    }
    if let Some(client) = any.downcast_ref::<hyper_util::client::legacy::Error>() {
        return Some(client);
    }
    any.downcast_ref::<std::io::Error>()
        .map(|io| io as &(dyn Error + 'static))
}

/// `connect` or `timeout` when any error in the chain says so.
fn kind(error: &(dyn Error + 'static)) -> &'static str {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<tower::timeout::error::Elapsed>() {
            return "timeout";
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::TimedOut => return "timeout",
                ErrorKind::ConnectionRefused
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::NotConnected
                | ErrorKind::AddrNotAvailable
                | ErrorKind::HostUnreachable
                | ErrorKind::NetworkUnreachable => return "connect",
                _ => {}
            }
        }
        if error
            .downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect)
        {
            return "connect";
        }
        current = error.source();
    }
    "_OTHER"
}
