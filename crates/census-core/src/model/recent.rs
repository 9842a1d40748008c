//! Text that repeats from one request to the next (a route, a host, a
//! client's address, a user agent), shared rather than copied.
//!
//! A span's strings are freed on the export thread, and memory freed on
//! another thread than the one that allocated it is the dearest kind: the
//! request thread's allocator cache stays empty and each string goes back
//! through the shared arena. So each thread remembers the last few texts
//! of each kind and hands out counted references to them.

use std::cell::RefCell;
use std::sync::Arc;

use opentelemetry::StringValue;

use crate::ring::Ring;

/// Which texts a text is compared with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Route,
    Host,
    Client,
    UserAgent,
}

const KINDS: usize = 4;
/// Texts remembered per kind and thread.
const SLOTS: usize = 4;
/// Longer texts are copied, so that what a thread keeps stays small.
const MAX_LEN: usize = 256;

thread_local! {
    static RECENT: RefCell<[Ring<Arc<str>, SLOTS>; KINDS]> =
        const { RefCell::new([const { Ring::new() }; KINDS]) };
}

/// `text`, shared with the last requests of this thread that had the same
/// one, or a copy.
pub(crate) fn shared(kind: Kind, text: &str) -> StringValue {
    if text.len() > MAX_LEN {
        return StringValue::from(text.to_owned());
    }
    RECENT
        .try_with(|recent| {
            let ring = &mut recent.borrow_mut()[kind as usize];
            if let Some(known) = ring.find(|kept| **kept == *text) {
                return StringValue::from(Arc::clone(known));
            }
            let fresh = Arc::<str>::from(text);
            ring.push(Arc::clone(&fresh));
            StringValue::from(fresh)
        })
        // This thread is exiting.
        .unwrap_or_else(|_| StringValue::from(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_allocation(a: &StringValue, b: &StringValue) -> bool {
        std::ptr::eq(a.as_str().as_ptr(), b.as_str().as_ptr())
    }

    #[test]
    fn a_repeated_text_is_shared_and_kinds_are_kept_apart() {
        let first = shared(Kind::Host, "shop.local");
        let again = shared(Kind::Host, "shop.local");
        assert_eq!(again.as_str(), "shop.local");
        assert!(same_allocation(&first, &again));
        let route = shared(Kind::Route, "shop.local");
        assert!(!same_allocation(&first, &route), "another kind's text");
    }

    #[test]
    fn the_oldest_text_makes_way_and_long_ones_are_copied() {
        let first = shared(Kind::Client, "10.0.0.0");
        for i in 1..=SLOTS {
            let text = format!("10.0.0.{i}");
            assert_eq!(shared(Kind::Client, &text).as_str(), text);
        }
        let evicted = shared(Kind::Client, "10.0.0.0");
        assert_eq!(evicted.as_str(), "10.0.0.0");
        assert!(!same_allocation(&first, &evicted));
        let long = "a".repeat(MAX_LEN + 1);
        let copies = (
            shared(Kind::UserAgent, &long),
            shared(Kind::UserAgent, &long),
        );
        assert_eq!(copies.0.as_str(), long);
        assert!(!same_allocation(&copies.0, &copies.1));
    }
}
