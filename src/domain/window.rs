//! Date windows: how a date range is cut into queries the API will answer in full.

use chrono::{Days, NaiveDate};
use std::fmt;

/// An inclusive range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Window {
    /// `None` when `from` is after `to`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Option<Self> {
        (from <= to).then_some(Self { from, to })
    }

    /// Number of days covered, both ends included.
    pub fn days(self) -> u64 {
        (self.to - self.from).num_days().unsigned_abs() + 1
    }

    /// Halves a window of two or more days into two disjoint windows covering it exactly;
    /// `None` for a single day, which cannot be narrowed by date.
    pub fn split(self) -> Option<(Window, Window)> {
        if self.from == self.to {
            return None;
        }
        let left_days = (self.days() / 2).max(1);
        let left_to = self.from + Days::new(left_days - 1);
        let right_from = left_to + Days::new(1);
        Some((
            Window {
                from: self.from,
                to: left_to,
            },
            Window {
                from: right_from,
                to: self.to,
            },
        ))
    }

    /// Consecutive windows of at most `max_days` days covering this one, in order.
    pub fn chunks(self, max_days: u64) -> Vec<Window> {
        let max_days = max_days.max(1);
        let mut out = Vec::new();
        let mut from = self.from;
        loop {
            let to = (from + Days::new(max_days - 1)).min(self.to);
            out.push(Window { from, to });
            if to >= self.to {
                return out;
            }
            from = to + Days::new(1);
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.from, self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(offset: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(1990, 1, 1).expect("date") + Days::new(u64::from(offset))
    }

    #[test]
    fn single_day_cannot_split() {
        let w = Window::new(day(3), day(3)).expect("window");
        assert_eq!(w.days(), 1);
        assert_eq!(w.split(), None);
        assert!(Window::new(day(4), day(3)).is_none());
    }

    proptest! {
        #[test]
        fn split_halves_cover_exactly(start in 0u32..40_000, len in 1u32..40_000) {
            let w = Window::new(day(start), day(start + len)).expect("window");
            let (a, b) = w.split().expect("splits");
            prop_assert_eq!(a.from, w.from);
            prop_assert_eq!(b.to, w.to);
            prop_assert_eq!(a.to + Days::new(1), b.from);
            prop_assert!(a.days() >= 1 && b.days() >= 1);
            prop_assert!(a.days().abs_diff(b.days()) <= 1);
        }

        #[test]
        fn chunks_are_bounded_contiguous_and_complete(start in 0u32..40_000, len in 0u32..400, max in 1u64..30) {
            let w = Window::new(day(start), day(start + len)).expect("window");
            let chunks = w.chunks(max);
            prop_assert_eq!(chunks[0].from, w.from);
            prop_assert_eq!(chunks[chunks.len() - 1].to, w.to);
            for pair in chunks.windows(2) {
                prop_assert_eq!(pair[0].to + Days::new(1), pair[1].from);
            }
            prop_assert!(chunks.iter().all(|c| c.days() <= max));
            prop_assert_eq!(chunks.iter().map(|c| c.days()).sum::<u64>(), w.days());
        }
    }
}
