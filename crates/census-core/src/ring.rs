//! The last few values a thread made, kept so that the next request can
//! share them rather than make its own.

/// At most `N` values; a new one takes the place of the oldest.
#[derive(Debug)]
pub(crate) struct Ring<T, const N: usize> {
    slots: [Option<T>; N],
    next: usize,
}

impl<T, const N: usize> Ring<T, N> {
    pub(crate) const fn new() -> Self {
        Self {
            slots: [const { None }; N],
            next: 0,
        }
    }

    /// The first value kept that `is_it` accepts.
    pub(crate) fn find(&self, is_it: impl Fn(&T) -> bool) -> Option<&T> {
        self.slots.iter().flatten().find(|value| is_it(value))
    }

    /// Keeps `value`, in place of the oldest when full.
    pub(crate) fn push(&mut self, value: T) {
        self.slots[self.next] = Some(value);
        self.next = (self.next + 1) % N;
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    #[test]
    fn the_oldest_value_makes_way() {
        let mut ring = Ring::<u8, 2>::new();
        assert_eq!(ring.find(|_| true), None);
        ring.push(1);
        ring.push(2);
        assert_eq!(ring.find(|v| *v == 1), Some(&1));
        ring.push(3);
        assert_eq!(ring.find(|v| *v == 1), None);
        assert_eq!(ring.find(|v| *v > 1), Some(&3), "3 took 1's place");
        assert_eq!(ring.find(|v| *v == 2), Some(&2));
    }
}
