//! The port the server examples listen on.

/// The port from `PORT`, 8080 without it.
pub(crate) fn port() -> Result<u16, String> {
    match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|_| format!("PORT={port:?} is not a port number; set it to e.g. 8080")),
        Err(_) => Ok(8080),
    }
}
