//! A description many calls share (a statement, a server route), and the
//! instruments bound to it once, so that a call records without looking
//! its attributes up.

use std::sync::OnceLock;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{BoundHistogram, BoundUpDownCounter};

use crate::model::Outcome;
use crate::registry::Integration;

/// Status codes bound per site: a route answers with a few (200, 304,
/// 404, 500); calls with others record through the instrument's lookup.
const STATUS_SLOTS: usize = 6;

/// The attributes every call of one description shares, and the handles
/// bound to them: the duration histogram per status code the call adds
/// (none for a statement that succeeded), and a server route's
/// `http.server.active_requests` counter.
#[derive(Debug)]
pub(crate) struct Site {
    attributes: Box<[KeyValue]>,
    durations: [OnceLock<Binding<BoundHistogram<f64>>>; STATUS_SLOTS],
    active: OnceLock<Binding<BoundUpDownCounter<i64>>>,
}

impl PartialEq for Site {
    fn eq(&self, other: &Self) -> bool {
        self.attributes == other.attributes
    }
}

/// Whose instruments a handle was bound on, and with which status code.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Owner {
    /// Each integration has instruments of its own (its own scope).
    integration: &'static Integration,
    /// The meter provider's generation: a handle records into the
    /// provider it was bound on.
    generation: u64,
}

impl Owner {
    pub(crate) fn new(integration: &'static Integration, generation: u64) -> Self {
        Self {
            integration,
            generation,
        }
    }

    fn is(self, other: Self) -> bool {
        std::ptr::eq(self.integration, other.integration) && self.generation == other.generation
    }
}

/// A handle, and what it was bound for.
#[derive(Debug)]
struct Binding<B> {
    owner: Owner,
    status: Option<u16>,
    handle: B,
}

impl<B> Binding<B> {
    fn is_for(&self, owner: Owner, status: Option<u16>) -> bool {
        self.owner.is(owner) && self.status == status
    }
}

impl Site {
    pub(crate) fn new(attributes: Box<[KeyValue]>) -> Self {
        Self {
            attributes,
            durations: Default::default(),
            active: OnceLock::new(),
        }
    }

    pub(crate) fn attributes(&self) -> &[KeyValue] {
        &self.attributes
    }

    /// The site's attributes with those the response's `status` adds.
    pub(crate) fn attributes_with(&self, status: Option<u16>) -> Vec<KeyValue> {
        let mut attributes = Vec::with_capacity(self.attributes.len() + 2);
        attributes.extend_from_slice(&self.attributes);
        if let Some(status) = status {
            Outcome::HttpServer(status).for_each_attribute(|attribute| attributes.push(attribute));
        }
        attributes
    }

    /// The histogram `owner` bound for calls that ended with `status`,
    /// if it was bound already: the path of every call but the first.
    #[inline]
    pub(crate) fn duration(
        &self,
        owner: Owner,
        status: Option<u16>,
    ) -> Option<&BoundHistogram<f64>> {
        // Slots fill in order: the first empty one ends the search.
        self.durations
            .iter()
            .map_while(OnceLock::get)
            .find(|binding| binding.is_for(owner, status))
            .map(|binding| &binding.handle)
    }

    /// [`duration`](Self::duration), bound by `bind` in a free slot;
    /// `None` when every slot holds another binding, or `bind` gives no
    /// handle (the instrument has bound all it may).
    pub(crate) fn bind_duration(
        &self,
        owner: Owner,
        status: Option<u16>,
        bind: impl Fn() -> Option<BoundHistogram<f64>>,
    ) -> Option<&BoundHistogram<f64>> {
        bind_in(&self.durations, owner, status, bind)
    }

    /// The `http.server.active_requests` counter `owner` bound, if it
    /// was bound already.
    #[inline]
    pub(crate) fn active(&self, owner: Owner) -> Option<&BoundUpDownCounter<i64>> {
        self.active
            .get()
            .filter(|binding| binding.is_for(owner, None))
            .map(|binding| &binding.handle)
    }

    /// [`active`](Self::active), bound by `bind` if nobody bound it yet;
    /// `None` when another owner did, or `bind` gives no handle.
    pub(crate) fn bind_active(
        &self,
        owner: Owner,
        bind: impl Fn() -> Option<BoundUpDownCounter<i64>>,
    ) -> Option<&BoundUpDownCounter<i64>> {
        bind_in(std::slice::from_ref(&self.active), owner, None, bind)
    }
}

/// The handle in `slots` bound for `owner` and `status`, or one `bind`
/// makes in the first free slot; `None` when `bind` makes none.
fn bind_in<B>(
    slots: &[OnceLock<Binding<B>>],
    owner: Owner,
    status: Option<u16>,
    bind: impl Fn() -> Option<B>,
) -> Option<&B> {
    for slot in slots {
        if slot.get().is_none() {
            // Another thread may fill the slot first: its binding stays,
            // and this handle is dropped.
            let _ = slot.set(Binding {
                owner,
                status,
                handle: bind()?,
            });
        }
        let binding = slot.get()?;
        if binding.is_for(owner, status) {
            return Some(&binding.handle);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::SdkMeterProvider;

    static ONE: Integration = Integration::new("one", "census-one", "0");
    static OTHER: Integration = Integration::new("other", "census-other", "0");

    #[test]
    fn each_owner_and_status_has_a_slot_of_its_own_until_they_run_out() {
        let histogram = SdkMeterProvider::builder()
            .build()
            .meter("test")
            .f64_histogram("duration")
            .build();
        let site = Site::new(vec![KeyValue::new("http.route", "/")].into());
        let bind = || Some(histogram.bind(&[]));
        let one = Owner::new(&ONE, 1);
        assert!(site.duration(one, Some(200)).is_none(), "nothing bound yet");
        let first: *const _ = site.bind_duration(one, Some(200), bind).unwrap();
        assert!(std::ptr::eq(site.duration(one, Some(200)).unwrap(), first));
        for owner in [Owner::new(&OTHER, 1), Owner::new(&ONE, 2)] {
            assert!(site.duration(owner, Some(200)).is_none(), "{owner:?}");
        }
        assert!(site.duration(one, None).is_none(), "another status");
        for status in 1..STATUS_SLOTS as u16 {
            assert!(site.bind_duration(one, Some(status), bind).is_some());
        }
        assert!(site.bind_duration(one, Some(999), bind).is_none(), "full");
        let spent = Site::new(Box::default());
        assert!(
            spent.bind_duration(one, None, || None).is_none(),
            "no handle"
        );
        assert!(spent.duration(one, None).is_none());
        assert!(std::ptr::eq(site.duration(one, Some(200)).unwrap(), first));
    }

    #[test]
    fn a_status_adds_its_code_and_a_server_error_its_type() {
        let site = Site::new(vec![KeyValue::new("http.route", "/")].into());
        assert_eq!(site.attributes_with(None), site.attributes());
        let keys = |status| -> Vec<_> {
            site.attributes_with(Some(status))
                .into_iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect()
        };
        assert_eq!(keys(404), ["http.route=/", "http.response.status_code=404"]);
        assert_eq!(
            keys(503),
            [
                "http.route=/",
                "http.response.status_code=503",
                "error.type=503"
            ]
        );
    }
}
