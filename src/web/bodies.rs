//! Answers to unfiltered `/similar` questions, byte for byte, kept for the engine that made
//! them: a popular movie's neighbours are ranked and explained once by the engine
//! ([`crate::recommend::Engine::similar`] keeps them), and written as JSON once here, so a repeated
//! question costs a lookup. Bounded by [`BUDGET`]; a newer engine starts an empty set.

use crate::domain::MovieId;
use crate::recommend::SimilarModel;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;

/// Bytes of answers kept; past it, answers are written per request.
const BUDGET: usize = 32 << 20;

/// A question: the model, the movie and how many.
type Question = (SimilarModel, MovieId, usize);

#[derive(Default)]
pub struct SimilarBodies {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    /// The engine the answers are from ([`crate::recommend::Engine::generation`]).
    generation: u64,
    answers: HashMap<Question, Bytes>,
    bytes: usize,
}

impl SimilarBodies {
    /// The kept answer to `question` by the engine of `generation`.
    pub fn get(&self, generation: u64, question: Question) -> Option<Bytes> {
        let kept = self.kept.lock().ok()?;
        (kept.generation == generation)
            .then(|| kept.answers.get(&question).cloned())
            .flatten()
    }

    /// Keeps `body`, the answer to `question` by the engine of `generation`, if there is room;
    /// a newer generation's first answer forgets the older ones.
    pub fn put(&self, generation: u64, question: Question, body: Bytes) {
        let Ok(mut kept) = self.kept.lock() else {
            return;
        };
        if kept.generation < generation {
            *kept = Kept {
                generation,
                ..Kept::default()
            };
        }
        if kept.generation == generation && kept.bytes + body.len() <= BUDGET {
            kept.bytes += body.len();
            kept.answers.insert(question, body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_per_engine_and_within_the_budget() {
        let bodies = SimilarBodies::default();
        let q = (SimilarModel::Content, MovieId(1), 10);
        bodies.put(1, q, Bytes::from_static(b"one"));
        assert_eq!(bodies.get(1, q), Some(Bytes::from_static(b"one")));
        assert_eq!(bodies.get(2, q), None, "another engine's answer");
        bodies.put(
            2,
            (SimilarModel::Content, MovieId(2), 10),
            Bytes::from_static(b"two"),
        );
        assert_eq!(
            bodies.get(1, q),
            None,
            "a newer engine forgets the older answers"
        );
        bodies.put(1, q, Bytes::from_static(b"stale"));
        assert_eq!(
            bodies.get(1, q),
            None,
            "an older engine's answer is not kept"
        );
        bodies.put(2, q, Bytes::from(vec![b'x'; BUDGET]));
        assert_eq!(bodies.get(2, q), None, "past the budget");
    }
}
