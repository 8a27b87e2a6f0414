//! Each movie's nearest neighbours by one model, with their reasons, computed the first time the
//! movie is asked about and kept for the engine's life. An engine is never mutated (a newer
//! catalog or model makes a new engine, with empty caches), so a kept list never goes stale and
//! answers borrow it. Filtered questions scan, as before: they are not kept.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Neighbours kept a movie: twice the usual question (`n=10`, the dashboard's and the API's
/// default); a question for more scans. A kept neighbour's reason is written when a question
/// first reaches it, so a first question costs what it did before lists were kept.
pub const KEPT: usize = 20;

/// Bytes counted for a reason against the budget when its list is kept (reasons are written
/// later, when asked for; most are a line of 60 to 120 characters).
const REASON_BYTES: usize = 96;

/// What one model's cache may hold, in bytes of lists and reasons; past it, answers for movies
/// not yet kept are computed per request. 64 MiB keeps about 40,000 movies' lists.
const BUDGET: usize = 64 << 20;

/// A kept neighbour: its position in the engine's movies, its score and, once asked for, its
/// reason.
pub(super) struct Neighbour {
    pub position: u32,
    pub score: f64,
    reason: OnceLock<Box<str>>,
}

impl Neighbour {
    pub(super) fn new(position: u32, score: f64) -> Self {
        Self {
            position,
            score,
            reason: OnceLock::new(),
        }
    }

    /// Its reason, written by `explain` the first time it is asked for.
    pub(super) fn reason(&self, explain: impl FnOnce() -> String) -> &str {
        self.reason.get_or_init(|| explain().into_boxed_str())
    }
}

/// A slot per catalog movie, each filled once with the movie's kept list.
type Slots = Box<[OnceLock<Box<[Neighbour]>>]>;

/// One model's kept lists, by the asked movie's position in the engine's movies.
pub(super) struct NeighbourCache {
    /// Made on the first question (a model never asked about costs nothing): 24 bytes a movie.
    slots: OnceLock<Slots>,
    /// Bytes kept so far, against [`BUDGET`].
    bytes: AtomicUsize,
}

impl NeighbourCache {
    pub(super) fn new() -> Self {
        Self {
            slots: OnceLock::new(),
            bytes: AtomicUsize::new(0),
        }
    }

    /// The kept list of the movie at `at` (of `movies`), making it with `make` if there is room.
    /// `None` when the budget is spent: the caller computes the answer itself.
    pub(super) fn get_or_make<E>(
        &self,
        at: usize,
        movies: usize,
        make: impl FnOnce() -> Result<Vec<Neighbour>, E>,
    ) -> Result<Option<&[Neighbour]>, E> {
        let slots = self
            .slots
            .get_or_init(|| (0..movies).map(|_| OnceLock::new()).collect());
        let Some(slot) = slots.get(at) else {
            return Ok(None);
        };
        if let Some(kept) = slot.get() {
            return Ok(Some(kept));
        }
        if self.bytes.load(Ordering::Relaxed) >= BUDGET {
            return Ok(None);
        }
        let list = make()?.into_boxed_slice();
        let size = list.len() * (std::mem::size_of::<Neighbour>() + REASON_BYTES);
        // Two threads may make the same list at once: one is kept, and counted.
        let mut stored = false;
        let kept = slot.get_or_init(|| {
            stored = true;
            list
        });
        if stored {
            self.bytes.fetch_add(size, Ordering::Relaxed);
        }
        Ok(Some(kept))
    }

    /// Whether the movie at `at` has its list kept (answering needs no scoring).
    pub(super) fn has(&self, at: usize) -> bool {
        self.slots
            .get()
            .and_then(|s| s.get(at))
            .is_some_and(|s| s.get().is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(n: usize) -> Vec<Neighbour> {
        (0..n)
            .map(|i| Neighbour::new(i as u32, 1.0 / (i + 1) as f64))
            .collect()
    }

    #[test]
    fn a_list_is_made_once_and_the_budget_bounds_what_is_kept() {
        let cache = NeighbourCache::new();
        let mut made = 0;
        for _ in 0..3 {
            let kept = cache
                .get_or_make::<()>(2, 10, || {
                    made += 1;
                    Ok(list(3))
                })
                .expect("made")
                .expect("kept");
            assert_eq!(kept.len(), 3);
        }
        assert_eq!(made, 1, "made once, then read");
        assert!(cache.has(2) && !cache.has(3));
        assert!(matches!(
            cache.get_or_make::<()>(10, 10, || Ok(list(1))),
            Ok(None)
        ));
        assert!(
            matches!(
                cache.get_or_make(6, 10, || Err("scan failed")),
                Err("scan failed")
            ),
            "a failure is the caller's"
        );
        assert!(!cache.has(6), "and nothing is kept");
        // A reason is written once, when first asked for.
        let kept = cache
            .get_or_make::<()>(2, 10, || Ok(list(3)))
            .expect("kept")
            .expect("kept");
        let mut written = 0;
        for _ in 0..2 {
            let reason = kept[0].reason(|| {
                written += 1;
                "same director".into()
            });
            assert_eq!(reason, "same director");
        }
        assert_eq!(written, 1);
        // A list past the budget is made and given, but the next movie's is not kept.
        let per = std::mem::size_of::<Neighbour>() + REASON_BYTES;
        assert!(matches!(
            cache.get_or_make::<()>(4, 10, || Ok(list(BUDGET / per + 1))),
            Ok(Some(_))
        ));
        assert!(matches!(
            cache.get_or_make::<()>(5, 10, || Ok(list(1))),
            Ok(None)
        ));
        assert!(!cache.has(5));
    }
}
