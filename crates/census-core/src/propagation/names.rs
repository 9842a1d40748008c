//! Propagators named as `OTEL_PROPAGATORS` names them, and the composite
//! a list of them makes.

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry_sdk::propagation::BaggagePropagator;

use super::{B3Propagator, TraceContextPropagator};

/// One entry of `OTEL_PROPAGATORS`.
///
/// ```
/// use census_core::propagation::PropagatorName;
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
    /// `none`: no propagation at all.
    None,
}

/// A propagator name census does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown propagator `{0}`: census has `tracecontext`, `baggage`, `b3`, `b3multi` and \
     `none` (a comma-separated list; the default is `tracecontext,baggage`)"
)]
pub struct UnknownPropagator(pub String);

impl std::str::FromStr for PropagatorName {
    type Err = UnknownPropagator;

    fn from_str(name: &str) -> Result<Self, UnknownPropagator> {
        match name.trim().to_ascii_lowercase().as_str() {
            "tracecontext" => Ok(Self::TraceContext),
            "baggage" => Ok(Self::Baggage),
            "b3" => Ok(Self::B3),
            "b3multi" => Ok(Self::B3Multi),
            "none" => Ok(Self::None),
            _ => Err(UnknownPropagator(name.trim().to_owned())),
        }
    }
}

impl PropagatorName {
    /// OpenTelemetry's default, `tracecontext,baggage`.
    pub const DEFAULT: [Self; 2] = [Self::TraceContext, Self::Baggage];

    /// The entries of a comma-separated list such as `OTEL_PROPAGATORS`'s
    /// value, in order, each once; empty entries are skipped.
    ///
    /// ```
    /// use census_core::propagation::PropagatorName;
    /// assert_eq!(
    ///     PropagatorName::parse_list("tracecontext, baggage,,tracecontext")?,
    ///     [PropagatorName::TraceContext, PropagatorName::Baggage]
    /// );
    /// # Ok::<(), census_core::propagation::UnknownPropagator>(())
    /// ```
    pub fn parse_list(list: &str) -> Result<Vec<Self>, UnknownPropagator> {
        let mut names = Vec::new();
        for entry in list.split(',').filter(|entry| !entry.trim().is_empty()) {
            let name = entry.parse()?;
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// The composite propagator of `names`, in their order; `none` adds
    /// nothing, so `[None]` propagates nothing.
    ///
    /// ```
    /// use census_core::propagation::PropagatorName;
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
