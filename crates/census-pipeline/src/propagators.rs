//! Propagators named as `OTEL_PROPAGATORS` names them, and the composite
//! a list of them makes.

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry_sdk::propagation::BaggagePropagator;

use census_core::propagation::{B3Propagator, TraceContextPropagator};

/// One entry of `OTEL_PROPAGATORS`.
///
/// ```
/// use census_pipeline::propagators::PropagatorName;
/// assert_eq!("b3multi".parse::<PropagatorName>(), Ok(PropagatorName::B3Multi));
/// assert!("jaeger".parse::<PropagatorName>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropagatorName {
    /// W3C Trace Context, `tracecontext` ([`TraceContextPropagator`]).
    TraceContext,
    /// W3C Baggage, `baggage`.
    Baggage,
    /// Zipkin's single `b3` header, `b3` ([`B3Propagator::single`]).
    B3,
    /// Zipkin's `X-B3-*` headers, `b3multi` ([`B3Propagator::multi`]).
    B3Multi,
    /// `none`: census installs no propagator (the global one stays as
    /// it is: OpenTelemetry's no-op unless the application set one).
    None,
}

/// An `OTEL_PROPAGATORS` list census cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PropagatorListError {
    /// An entry names a propagator census does not have.
    #[error(
        "unknown propagator `{name}` in {list:?}: census has `tracecontext`, `baggage`, `b3`, \
         `b3multi` and `none` (a comma-separated list; the default is `tracecontext,baggage`)"
    )]
    Unknown {
        /// The unknown entry.
        name: String,
        /// The whole list.
        list: String,
    },
    /// `none` is listed together with propagators.
    #[error(
        "{list:?} lists `none` together with propagators; `none` means census installs no \
         propagator, so set it alone or remove it"
    )]
    NoneWithOthers {
        /// The whole list.
        list: String,
    },
}

impl std::str::FromStr for PropagatorName {
    type Err = PropagatorListError;

    fn from_str(name: &str) -> Result<Self, PropagatorListError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "tracecontext" => Ok(Self::TraceContext),
            "baggage" => Ok(Self::Baggage),
            "b3" => Ok(Self::B3),
            "b3multi" => Ok(Self::B3Multi),
            "none" => Ok(Self::None),
            _ => Err(PropagatorListError::Unknown {
                name: name.trim().to_owned(),
                list: name.to_owned(),
            }),
        }
    }
}

impl PropagatorName {
    /// OpenTelemetry's default, `tracecontext,baggage`.
    pub const DEFAULT: [Self; 2] = [Self::TraceContext, Self::Baggage];

    /// The entries of a comma-separated list such as `OTEL_PROPAGATORS`'s
    /// value, in order, each once; empty entries are skipped, so a list of
    /// none is empty (unset). `none` must stand alone.
    ///
    /// ```
    /// use census_pipeline::propagators::PropagatorName;
    /// assert_eq!(
    ///     PropagatorName::parse_list("tracecontext, baggage,,tracecontext")?,
    ///     [PropagatorName::TraceContext, PropagatorName::Baggage]
    /// );
    /// assert!(PropagatorName::parse_list(" , ")?.is_empty());
    /// assert!(PropagatorName::parse_list("none,b3").is_err());
    /// # Ok::<(), census_pipeline::propagators::PropagatorListError>(())
    /// ```
    pub fn parse_list(list: &str) -> Result<Vec<Self>, PropagatorListError> {
        let mut names = Vec::new();
        for entry in list.split(',').filter(|entry| !entry.trim().is_empty()) {
            let name = entry.parse().map_err(|error| match error {
                PropagatorListError::Unknown { name, .. } => PropagatorListError::Unknown {
                    name,
                    list: list.to_owned(),
                },
                other => other,
            })?;
            if !names.contains(&name) {
                names.push(name);
            }
        }
        if names.len() > 1 && names.contains(&Self::None) {
            return Err(PropagatorListError::NoneWithOthers {
                list: list.to_owned(),
            });
        }
        Ok(names)
    }

    /// The composite propagator of `names`, in their order; `none` adds
    /// nothing.
    ///
    /// ```
    /// use census_pipeline::propagators::PropagatorName;
    /// use opentelemetry::propagation::TextMapPropagator;
    /// let propagator = PropagatorName::composite(&PropagatorName::DEFAULT);
    /// let mut fields: Vec<&str> = propagator.fields().collect(); // in no set order
    /// fields.sort_unstable();
    /// assert_eq!(fields, ["baggage", "traceparent", "tracestate"]);
    /// ```
    pub fn composite(names: &[Self]) -> TextMapCompositePropagator {
        let propagators = names
            .iter()
            .filter_map(|name| -> Option<Box<dyn TextMapPropagator + Send + Sync>> {
                match name {
                    Self::TraceContext => Some(Box::new(TraceContextPropagator::new())),
                    Self::Baggage => Some(Box::new(BaggagePropagator::new())),
                    Self::B3 => Some(Box::new(B3Propagator::single())),
                    Self::B3Multi => Some(Box::new(B3Propagator::multi())),
                    Self::None => None,
                }
            })
            .collect();
        TextMapCompositePropagator::new(propagators)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::propagation::TextMapPropagator as _;

    use super::*;

    #[test]
    fn propagator_lists_read_as_otel_propagators_lists_them() {
        assert_eq!(
            PropagatorName::parse_list("tracecontext,baggage").unwrap(),
            PropagatorName::DEFAULT
        );
        assert_eq!(
            PropagatorName::parse_list(" B3Multi , baggage ").unwrap(),
            [PropagatorName::B3Multi, PropagatorName::Baggage]
        );
        let error = PropagatorName::parse_list("tracecontext,xray").unwrap_err();
        assert_eq!(
            error,
            PropagatorListError::Unknown {
                name: "xray".to_owned(),
                list: "tracecontext,xray".to_owned()
            }
        );
        assert!(
            error
                .to_string()
                .contains("`tracecontext`, `baggage`, `b3`, `b3multi`")
        );
        assert_eq!(
            PropagatorName::parse_list("none, b3"),
            Err(PropagatorListError::NoneWithOthers {
                list: "none, b3".to_owned()
            })
        );
        assert_eq!(PropagatorName::parse_list(" ,, "), Ok(Vec::new()));
        // The composite lists its fields in no set order.
        let fields = |names: &[PropagatorName]| -> Vec<String> {
            let mut fields: Vec<String> = PropagatorName::composite(names)
                .fields()
                .map(str::to_owned)
                .collect();
            fields.sort_unstable();
            fields
        };
        let b3 = [
            "b3",
            "x-b3-flags",
            "x-b3-parentspanid",
            "x-b3-sampled",
            "x-b3-spanid",
            "x-b3-traceid",
        ];
        assert_eq!(fields(&[PropagatorName::B3Multi]), b3);
        assert_eq!(fields(&[PropagatorName::B3]), b3);
        assert_eq!(
            fields(&[PropagatorName::Baggage, PropagatorName::TraceContext]),
            ["baggage", "traceparent", "tracestate"]
        );
        assert!(fields(&[PropagatorName::None]).is_empty());
    }
}
