//! Microsoft Entra ID authentication against a local ingestion endpoint
//! that requires a bearer token, as a resource with local authentication
//! disabled does: every request carries the credential's token, a token
//! about to expire is renewed, a refused batch is kept and sent once the
//! endpoint accepts, and nothing is lost.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use census::azure::{AccessToken, AzureExporter, CredentialError, DEFAULT_SCOPE, TokenCredential};
use census_integration_tests::identity::IdentityEndpoint;
use census_integration_tests::ingestion::{Ingestion, Reply, export_now, internal_spans};

/// Hands out `token-1`, `token-2`, ... each valid for `lifetime`, and
/// records the scopes asked for.
#[derive(Debug, Clone)]
struct Issuer {
    lifetime: Duration,
    issued: Arc<Mutex<Vec<String>>>,
}

impl TokenCredential for Issuer {
    fn get_token(&self, scope: &str) -> Result<AccessToken, CredentialError> {
        let mut issued = self.issued.lock().unwrap();
        issued.push(scope.to_owned());
        Ok(AccessToken::new(
            format!("token-{}", issued.len()),
            SystemTime::now() + self.lifetime,
        ))
    }
}

fn exporter(ingestion: &Ingestion, issuer: &Issuer, audience: &str) -> AzureExporter {
    AzureExporter::builder()
        .connection_string(format!("{};{audience}", ingestion.connection_string()))
        .credential(issuer.clone())
        .disable_storage()
        .retry_backoff(Duration::from_millis(50), Duration::from_millis(100))
        .export_wait(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[test]
fn every_request_carries_the_token_which_is_renewed_before_it_expires() {
    let ingestion = Ingestion::start();
    ingestion.require_tokens(&["token-1", "token-2", "token-3"]);
    // Valid for 301 s: fresh for one second, then renewed.
    let issuer = Issuer {
        lifetime: Duration::from_secs(301),
        issued: Arc::default(),
    };
    let exporter = exporter(&ingestion, &issuer, "");
    export_now(&exporter, internal_spans("first", 2));
    export_now(&exporter, internal_spans("second", 2));
    std::thread::sleep(Duration::from_millis(1100));
    export_now(&exporter, internal_spans("third", 2));
    let authorizations: Vec<_> = ingestion
        .received()
        .into_iter()
        .map(|r| r.authorization)
        .collect();
    assert_eq!(
        authorizations,
        [
            Some("Bearer token-1".to_owned()),
            Some("Bearer token-1".to_owned()),
            Some("Bearer token-2".to_owned())
        ]
    );
    assert_eq!(ingestion.accepted().len(), 6);
    assert_eq!(
        *issuer.issued.lock().unwrap(),
        [DEFAULT_SCOPE, DEFAULT_SCOPE]
    );
    let stats = exporter.stats();
    assert_eq!((stats.sent(), stats.dropped()), (6, 0));
}

#[test]
fn a_refused_token_is_retried_with_a_new_one_and_nothing_is_lost() {
    let ingestion = Ingestion::start();
    // The endpoint does not take the first token (its role assignment is
    // not there yet, say), then takes the next.
    ingestion.require_tokens(&["token-2"]);
    let issuer = Issuer {
        lifetime: Duration::from_secs(3600),
        issued: Arc::default(),
    };
    let exporter = exporter(&ingestion, &issuer, "AADAudience=https://monitor.azure.us");
    export_now(&exporter, internal_spans("refused", 3));
    let accepted = ingestion.wait_accepted(3, Duration::from_secs(10));
    assert_eq!(
        accepted.len(),
        3,
        "the stored batch was sent with a new token"
    );
    let replies: Vec<_> = ingestion
        .received()
        .into_iter()
        .map(|r| (r.authorization, matches!(r.reply, Reply::Status(401, _))))
        .collect();
    assert_eq!(
        replies,
        [
            (Some("Bearer token-1".to_owned()), true),
            (Some("Bearer token-2".to_owned()), false)
        ]
    );
    assert_eq!(
        *issuer.issued.lock().unwrap(),
        ["https://monitor.azure.us/.default"; 2]
    );
    // The server answers before the delivery thread counts.
    let stats = exporter.stats();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while stats.sent() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!((stats.sent(), stats.retried(), stats.dropped()), (3, 3, 0));
}

#[test]
fn without_a_credential_a_401_keeps_the_telemetry_for_later() {
    let ingestion = Ingestion::start();
    ingestion.require_tokens(&["token-1"]);
    let exporter = AzureExporter::builder()
        .connection_string(ingestion.connection_string())
        .disable_storage()
        .retry_backoff(Duration::from_secs(60), Duration::from_secs(60))
        .export_wait(Duration::from_secs(5))
        .build()
        .unwrap();
    export_now(&exporter, internal_spans("local-auth-off", 2));
    let stats = exporter.stats();
    assert_eq!((stats.sent(), stats.retried(), stats.dropped()), (0, 2, 0));
    assert_eq!(ingestion.received()[0].authorization, None);
}

/// `entra_probe` under `env` and nothing else of Application Insights'
/// or the managed identity's from the test's environment.
fn probe(env: &[(&str, String)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_entra_probe"));
    for (key, _) in std::env::vars() {
        if key.starts_with("APPLICATIONINSIGHTS_")
            || key.starts_with("IDENTITY_")
            || key.starts_with("MSI_")
            || key.starts_with("OTEL_")
        {
            command.env_remove(key);
        }
    }
    command
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap()
}

/// The environment of a process on App Service sending to `ingestion`
/// with `authentication`, its managed identity served by `identity` (whose
/// secret is `hdr-7`).
fn managed_identity(
    ingestion: &Ingestion,
    identity: &IdentityEndpoint,
    authentication: &str,
) -> Vec<(&'static str, String)> {
    vec![
        (
            "APPLICATIONINSIGHTS_CONNECTION_STRING",
            ingestion.connection_string(),
        ),
        (
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
            authentication.to_owned(),
        ),
        ("IDENTITY_ENDPOINT", identity.endpoint()),
        ("IDENTITY_HEADER", "hdr-7".to_owned()),
    ]
}

#[test]
fn a_managed_identity_from_the_environment_authenticates_every_request() {
    let ingestion = Ingestion::start();
    ingestion.require_tokens(&["mi-token-1"]);
    let identity = IdentityEndpoint::start("hdr-7", Duration::from_secs(3600));
    let output = probe(&managed_identity(
        &ingestion,
        &identity,
        "Authorization=AAD;ClientId=cid-42",
    ));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.trim(), "sent 3 0 0");
    let issued = identity.issued();
    assert_eq!(issued.len(), 1, "one token, cached: {issued:?}");
    assert_eq!(issued[0]["resource"], "https://monitor.azure.com/");
    assert_eq!(issued[0]["client_id"], "cid-42");
    assert_eq!(identity.refused(), 0);
    // The spans and, at shutdown, the exporter's statistics: every
    // request with the token.
    let received = ingestion.received();
    assert!(received.len() >= 2, "{received:?}");
    for request in &received {
        assert_eq!(request.authorization.as_deref(), Some("Bearer mi-token-1"));
    }
    let spans = ingestion
        .accepted()
        .into_iter()
        .filter(|i| i["data"]["baseType"] != "MetricData")
        .count();
    assert_eq!(spans, 3);
    // Neither the token nor the identity endpoint's secret is telemetry.
    let sent = serde_json::to_string(&ingestion.accepted()).unwrap();
    assert!(
        !sent.contains("mi-token") && !sent.contains("hdr-7"),
        "{sent}"
    );
}

#[test]
fn a_managed_identity_token_about_to_expire_is_renewed_and_a_refused_batch_resent() {
    let ingestion = Ingestion::start();
    // The first token is refused (its role assignment not there yet, say);
    // every later one is taken.
    ingestion.require_tokens(&["mi-token-2", "mi-token-3", "mi-token-4", "mi-token-5"]);
    // Each token lives 300 s: within the renewal margin at once, so every
    // send asks for a new one, as with a token about to expire.
    let identity = IdentityEndpoint::start("hdr-7", Duration::from_secs(300));
    let mut env = managed_identity(&ingestion, &identity, "Authorization=AAD");
    env.push(("APPLICATIONINSIGHTS_SDKSTATS_DISABLED", "true".to_owned()));
    let output = probe(&env);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.trim(),
        "sent 3 3 0",
        "all sent after one retry, none lost"
    );
    let requests: Vec<_> = ingestion
        .received()
        .into_iter()
        .map(|r| {
            (
                r.authorization.unwrap_or_default(),
                r.items.len(),
                matches!(r.reply, Reply::Status(401, _)),
            )
        })
        .collect();
    assert_eq!(
        requests,
        [
            ("Bearer mi-token-1".to_owned(), 3, true),
            ("Bearer mi-token-2".to_owned(), 3, false)
        ]
    );
    assert!(
        identity.issued().len() >= 2,
        "a new token after the refusal"
    );
    assert_eq!(ingestion.accepted().len(), 3);
}

#[test]
fn a_bad_authentication_string_is_a_typed_error_naming_the_fix() {
    let output = probe(&[
        (
            "APPLICATIONINSIGHTS_CONNECTION_STRING",
            "InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=http://127.0.0.1:9/".to_owned(),
        ),
        (
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
            "Authorization=Basic".to_owned(),
        ),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Authorization=Basic") && stderr.contains("`AAD`"),
        "{stderr}"
    );
}
