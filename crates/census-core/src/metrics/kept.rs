//! A bounded table of values kept for the life of the process, like
//! `tracing`'s callsites: what calls share (a route's or a statement's
//! site) is then held by a plain reference, which costs a call no
//! reference count.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use foldhash::fast::FixedState;

/// Values kept, found by a hash the caller takes and a test of equality.
pub(super) struct Kept<T: 'static> {
    table: RwLock<Table<T>>,
    capacity: usize,
}

struct Table<T: 'static> {
    by_hash: HashMap<u64, Vec<&'static T>, FixedState>,
    len: usize,
}

impl<T: 'static> Kept<T> {
    /// A table of at most `capacity` values.
    pub(super) const fn new(capacity: usize) -> Self {
        Self {
            table: RwLock::new(Table {
                by_hash: HashMap::with_hasher(FixedState::with_seed(0x6b65_7074)),
                len: 0,
            }),
            capacity,
        }
    }

    /// The value kept under `hash` that `is_it` accepts, or the one `make`
    /// makes, kept; `None` once the table is full.
    pub(super) fn find_or_add(
        &self,
        hash: u64,
        is_it: impl Fn(&T) -> bool,
        make: impl FnOnce() -> T,
    ) -> Option<&'static T> {
        let find = |table: &Table<T>| {
            table
                .by_hash
                .get(&hash)?
                .iter()
                .copied()
                .find(|kept| is_it(kept))
        };
        if let Some(kept) = find(&self.table.read().unwrap_or_else(PoisonError::into_inner)) {
            return Some(kept);
        }
        let mut table = self.table.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = find(&table) {
            return Some(kept);
        }
        if table.len >= self.capacity {
            return None;
        }
        table.len += 1;
        // Never freed: the table is bounded, and it is what keeps it.
        let added: &'static T = Box::leak(Box::new(make()));
        table.by_hash.entry(hash).or_default().push(added);
        Some(added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_kept_once_until_the_table_is_full() {
        static KEPT: Kept<String> = Kept::new(2);
        let a = KEPT
            .find_or_add(1, |v| v == "a", || "a".to_owned())
            .unwrap();
        let again = KEPT
            .find_or_add(1, |v| v == "a", || unreachable!("kept"))
            .unwrap();
        assert!(std::ptr::eq(a, again));
        // Same hash, another value.
        let b = KEPT
            .find_or_add(1, |v| v == "b", || "b".to_owned())
            .unwrap();
        assert_eq!(b, "b");
        assert!(
            KEPT.find_or_add(2, |v| v == "c", || "c".to_owned())
                .is_none(),
            "full"
        );
        assert_eq!(KEPT.find_or_add(1, |v| v == "a", String::new), Some(a));
    }
}
