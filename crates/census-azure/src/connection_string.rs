//! Application Insights connection strings:
//! `InstrumentationKey=...;IngestionEndpoint=https://...;...`.

use std::fmt;

use url::Url;

/// Environment variable read when no connection string is given in code.
pub const ENV_CONNECTION_STRING: &str = "APPLICATIONINSIGHTS_CONNECTION_STRING";

const DEFAULT_INGESTION: &str = "https://dc.services.visualstudio.com";

/// Where telemetry goes and under which instrumentation key.
///
/// ```
/// use census_azure::ConnectionString;
/// let cs: ConnectionString =
///     "InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/".parse()?;
/// assert_eq!(cs.track_url().as_str(), "https://westeurope-5.in.applicationinsights.azure.com/v2.1/track");
/// # Ok::<(), census_azure::ConnectionStringError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionString {
    instrumentation_key: String,
    ingestion_endpoint: Url,
    aad_audience: Option<String>,
}

/// A connection string census cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionStringError {
    /// Nothing given, and `APPLICATIONINSIGHTS_CONNECTION_STRING` unset or empty.
    #[error(
        "the Application Insights connection string is empty: pass the one from the portal \
         (Overview > Connection String) or set {ENV_CONNECTION_STRING}"
    )]
    Empty,
    /// A part is not `Key=Value`.
    #[error("connection string part `{part}` is not `Key=Value`; parts are separated by `;`")]
    Malformed {
        /// The offending part, with any value cut off.
        part: String,
    },
    /// No `InstrumentationKey`.
    #[error("the connection string has no `InstrumentationKey=<GUID>` part")]
    MissingInstrumentationKey,
    /// The key is not a GUID.
    #[error(
        "`InstrumentationKey` must be a GUID like 00000000-0000-0000-0000-000000000000, \
         found {length} characters starting `{prefix}`"
    )]
    InvalidInstrumentationKey {
        /// The first characters of what was given.
        prefix: String,
        /// Its length.
        length: usize,
    },
    /// An endpoint is not an absolute http(s) URL.
    #[error("`{key}` must be an absolute http or https URL, found `{value}`")]
    InvalidEndpoint {
        /// The key whose value is wrong.
        key: &'static str,
        /// The value given.
        value: String,
    },
    /// An authorization scheme census does not implement.
    #[error(
        "`Authorization={scheme}` is not supported: census authenticates with the \
         instrumentation key only (`Authorization=ikey` or no Authorization part)"
    )]
    UnsupportedAuthorization {
        /// The scheme given.
        scheme: String,
    },
}

impl ConnectionString {
    /// Parses `APPLICATIONINSIGHTS_CONNECTION_STRING`.
    pub fn from_env() -> Result<Self, ConnectionStringError> {
        std::env::var(ENV_CONNECTION_STRING)
            .unwrap_or_default()
            .parse()
    }

    /// The instrumentation key (`iKey` of every envelope).
    pub fn instrumentation_key(&self) -> &str {
        &self.instrumentation_key
    }

    /// The ingestion endpoint, e.g. `https://dc.services.visualstudio.com/`.
    pub fn ingestion_endpoint(&self) -> &Url {
        &self.ingestion_endpoint
    }

    /// `{IngestionEndpoint}/v2.1/track`.
    pub fn track_url(&self) -> Url {
        track_url(&self.ingestion_endpoint)
    }

    /// `AADAudience`: the audience of Microsoft Entra ID tokens for this
    /// resource (sovereign clouds), when the string names one.
    ///
    /// ```
    /// let cs: census_azure::ConnectionString =
    ///     "InstrumentationKey=00000000-0000-0000-0000-000000000001;AADAudience=https://monitor.azure.us".parse()?;
    /// assert_eq!(cs.aad_audience(), Some("https://monitor.azure.us"));
    /// # Ok::<(), census_azure::ConnectionStringError>(())
    /// ```
    pub fn aad_audience(&self) -> Option<&str> {
        self.aad_audience.as_deref()
    }
}

pub(crate) fn track_url(endpoint: &Url) -> Url {
    let mut url = endpoint.clone();
    let path = format!("{}/v2.1/track", url.path().trim_end_matches('/'));
    url.set_path(&path);
    url
}

/// The key as logs may show it: enough to tell keys apart, not to use one.
pub(crate) fn masked_key(key: &str) -> String {
    format!("{}…", key.get(..8).unwrap_or(key))
}

impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionString")
            .field(
                "instrumentation_key",
                &masked_key(&self.instrumentation_key),
            )
            .field("ingestion_endpoint", &self.ingestion_endpoint.as_str())
            .finish()
    }
}

impl std::str::FromStr for ConnectionString {
    type Err = ConnectionStringError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut key = None;
        let mut ingestion = None;
        let mut suffix = None;
        let mut location = None;
        let mut audience = None;
        let mut any = false;
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            any = true;
            let Some((name, value)) = part.split_once('=') else {
                // A bare key is a common mistake: show no more of it than logs may.
                return Err(ConnectionStringError::Malformed {
                    part: part.chars().take(8).collect(),
                });
            };
            let (name, value) = (name.trim(), value.trim());
            match name.to_ascii_lowercase().as_str() {
                "instrumentationkey" => key = Some(value),
                "ingestionendpoint" => ingestion = Some(value),
                "endpointsuffix" => suffix = Some(value),
                "location" => location = Some(value),
                "aadaudience" => audience = Some(value),
                "authorization" if value.eq_ignore_ascii_case("ikey") => {}
                "authorization" => {
                    return Err(ConnectionStringError::UnsupportedAuthorization {
                        scheme: value.to_owned(),
                    });
                }
                // Other keys (LiveEndpoint, ApplicationId, ...) do not affect ingestion.
                _ => {}
            }
        }
        if !any {
            return Err(ConnectionStringError::Empty);
        }
        let key = key.ok_or(ConnectionStringError::MissingInstrumentationKey)?;
        if !is_guid(key) {
            return Err(ConnectionStringError::InvalidInstrumentationKey {
                prefix: key.chars().take(4).collect(),
                length: key.chars().count(),
            });
        }
        let endpoint = match (ingestion, suffix) {
            (Some(endpoint), _) => parse_endpoint("IngestionEndpoint", endpoint)?,
            (None, Some(suffix)) => {
                let suffix = suffix.trim_matches('.');
                let host = match location.filter(|l| !l.is_empty()) {
                    Some(location) => format!("https://{location}.dc.{suffix}"),
                    None => format!("https://dc.{suffix}"),
                };
                parse_endpoint("EndpointSuffix", &host)?
            }
            (None, None) => parse_endpoint("IngestionEndpoint", DEFAULT_INGESTION)?,
        };
        Ok(Self {
            instrumentation_key: key.to_ascii_lowercase(),
            ingestion_endpoint: endpoint,
            aad_audience: audience.filter(|a| !a.is_empty()).map(str::to_owned),
        })
    }
}

fn parse_endpoint(key: &'static str, value: &str) -> Result<Url, ConnectionStringError> {
    let invalid = || ConnectionStringError::InvalidEndpoint {
        key,
        value: value.to_owned(),
    };
    let url = Url::parse(value).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid());
    }
    Ok(url)
}

fn is_guid(key: &str) -> bool {
    let groups: Vec<&str> = key.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0f6c9b11-3b55-4a5e-9f7b-2c1d4e5f6a7b";

    fn parse(text: &str) -> Result<ConnectionString, ConnectionStringError> {
        text.parse()
    }

    #[test]
    fn keys_are_case_insensitive_and_whitespace_and_trailing_semicolons_are_tolerated() {
        let cs = parse(&format!(
            " instrumentationkey = {} ; INGESTIONENDPOINT=https://westus2-1.in.applicationinsights.azure.com/ ;LiveEndpoint=https://x/;",
            KEY.to_uppercase()
        ))
        .unwrap();
        assert_eq!(cs.instrumentation_key(), KEY);
        assert_eq!(
            cs.track_url().as_str(),
            "https://westus2-1.in.applicationinsights.azure.com/v2.1/track"
        );
    }

    #[test]
    fn endpoint_defaults_and_suffix_rules() {
        let cs = parse(&format!("InstrumentationKey={KEY}")).unwrap();
        assert_eq!(
            cs.track_url().as_str(),
            "https://dc.services.visualstudio.com/v2.1/track"
        );
        let cs = parse(&format!(
            "InstrumentationKey={KEY};EndpointSuffix=applicationinsights.azure.cn"
        ))
        .unwrap();
        assert_eq!(
            cs.track_url().as_str(),
            "https://dc.applicationinsights.azure.cn/v2.1/track"
        );
        let cs = parse(&format!(
            "InstrumentationKey={KEY};EndpointSuffix=ai.contoso.com;Location=westus2"
        ))
        .unwrap();
        assert_eq!(
            cs.track_url().as_str(),
            "https://westus2.dc.ai.contoso.com/v2.1/track"
        );
        // An explicit endpoint wins over the suffix; a path prefix is kept.
        let cs = parse(&format!(
            "InstrumentationKey={KEY};EndpointSuffix=ignored.example;IngestionEndpoint=http://127.0.0.1:9/proxy/"
        ))
        .unwrap();
        assert_eq!(
            cs.track_url().as_str(),
            "http://127.0.0.1:9/proxy/v2.1/track"
        );
        assert!(parse(&format!("InstrumentationKey={KEY};Authorization=ikey")).is_ok());
    }

    #[test]
    fn every_documented_error() {
        assert_eq!(parse(""), Err(ConnectionStringError::Empty));
        assert_eq!(parse(" ; ;"), Err(ConnectionStringError::Empty));
        assert_eq!(
            parse(&format!("InstrumentationKey={KEY};garbage")),
            Err(ConnectionStringError::Malformed {
                part: "garbage".into()
            })
        );
        assert_eq!(
            parse("IngestionEndpoint=https://x.example/"),
            Err(ConnectionStringError::MissingInstrumentationKey)
        );
        assert_eq!(
            parse("InstrumentationKey=not-a-guid"),
            Err(ConnectionStringError::InvalidInstrumentationKey {
                prefix: "not-".into(),
                length: 10
            })
        );
        assert_eq!(
            parse(&format!(
                "InstrumentationKey={KEY};IngestionEndpoint=dc.example"
            )),
            Err(ConnectionStringError::InvalidEndpoint {
                key: "IngestionEndpoint",
                value: "dc.example".into()
            })
        );
        assert_eq!(
            parse(&format!(
                "InstrumentationKey={KEY};IngestionEndpoint=ftp://dc.example"
            )),
            Err(ConnectionStringError::InvalidEndpoint {
                key: "IngestionEndpoint",
                value: "ftp://dc.example".into()
            })
        );
        assert_eq!(
            parse(&format!("InstrumentationKey={KEY};Authorization=AAD")),
            Err(ConnectionStringError::UnsupportedAuthorization {
                scheme: "AAD".into()
            })
        );
    }

    #[test]
    fn messages_name_the_problem_and_never_the_whole_key() {
        let err = parse(KEY).unwrap_err();
        assert_eq!(
            err,
            ConnectionStringError::Malformed {
                part: "0f6c9b11".into()
            }
        );
        let err = parse("InstrumentationKey=0f6c9b11-3b55-4a5e-9f7b").unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("`InstrumentationKey` must be a GUID"),
            "{message}"
        );
        assert!(!message.contains("3b55"), "{message}");
        assert!(
            ConnectionStringError::Empty
                .to_string()
                .contains(ENV_CONNECTION_STRING)
        );
        let cs = parse(&format!("InstrumentationKey={KEY}")).unwrap();
        let debug = format!("{cs:?}");
        assert!(
            debug.contains("0f6c9b11…") && !debug.contains("2c1d4e5f6a7b"),
            "{debug}"
        );
    }
}
