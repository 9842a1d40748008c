//! A local managed-identity endpoint, as App Service and Azure Functions
//! run one for their applications (`IDENTITY_ENDPOINT`, with the secret
//! `IDENTITY_HEADER` in `X-IDENTITY-HEADER`): `GET ?api-version=2019-08-01
//! &resource=...[&client_id=...]` answers a token for the resource, and a
//! request without the secret is refused, as the real one refuses it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::server::LocalServer;

/// The header the secret travels in.
const SECRET_HEADER: &str = "x-identity-header";

#[derive(Debug, Default)]
struct Shared {
    secret: String,
    lifetime: Duration,
    /// The query of every request answered with a token.
    issued: Vec<BTreeMap<String, String>>,
    refused: usize,
}

/// The running endpoint; stops when dropped.
#[derive(Debug)]
pub struct IdentityEndpoint {
    server: LocalServer,
    shared: Arc<Mutex<Shared>>,
}

impl IdentityEndpoint {
    /// Starts an endpoint on a free loopback port that requires `secret`
    /// and hands out `mi-token-1`, `mi-token-2`, ... each valid for
    /// `lifetime`.
    pub fn start(secret: &str, lifetime: Duration) -> Self {
        let shared = Arc::new(Mutex::new(Shared {
            secret: secret.to_owned(),
            lifetime,
            ..Shared::default()
        }));
        let app = axum::Router::new()
            .fallback(token)
            .with_state(shared.clone());
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            server: LocalServer::start(loopback, 1, app),
            shared,
        }
    }

    /// The `IDENTITY_ENDPOINT` value.
    pub fn endpoint(&self) -> String {
        format!("http://{}/msi/token", self.server.addr())
    }

    /// The query of every request answered with a token, in order.
    pub fn issued(&self) -> Vec<BTreeMap<String, String>> {
        self.shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .issued
            .clone()
    }

    /// Requests refused for a missing or wrong secret.
    pub fn refused(&self) -> usize {
        self.shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .refused
    }
}

async fn token(State(shared): State<Arc<Mutex<Shared>>>, uri: Uri, headers: HeaderMap) -> Response {
    let query: BTreeMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let mut shared = shared.lock().unwrap_or_else(|p| p.into_inner());
    let secret = headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok());
    if secret != Some(shared.secret.as_str()) {
        shared.refused += 1;
        return (
            StatusCode::UNAUTHORIZED,
            "missing or wrong X-IDENTITY-HEADER",
        )
            .into_response();
    }
    let Some(resource) = query.get("resource").cloned() else {
        return (StatusCode::BAD_REQUEST, "no resource").into_response();
    };
    shared.issued.push(query);
    let expires_on = (SystemTime::now() + shared.lifetime)
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let body = json!({
        "access_token": format!("mi-token-{}", shared.issued.len()),
        "expires_on": expires_on.to_string(),
        "resource": resource,
        "token_type": "Bearer",
    });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}
