//! Entity resolution: which catalog movie a provider's record is. Pure policy; the store only
//! stages records, fetches the candidates blocking finds, and writes the decisions.
//!
//! The design is record linkage's (Fellegi–Sunter, as Splink implements it):
//! 1. **Ids first.** A record whose own id (TMDB id, MovieLens id, vega's natural key) or a shared
//!    one (IMDb id, a MovieLens link) is already mapped is that movie; nothing else is weighed.
//! 2. **Blocking.** Otherwise the candidates are the movies sharing a blocking key with the
//!    record: the compact normal form of any of their titles, original titles or partial titles
//!    ([`normalize`]). Years do not block, so a two-digit slip or a re-release date still meets
//!    its film; they weigh in the score.
//! 3. **Scored comparisons** ([`score`]): title, year, director and runtime levels, summed weights.
//! 4. **A decision** ([`Thresholds`]): the best candidate *matches* when it scores at least
//!    `matching` and no other comes within `margin` of it; a best score of at least `review` that does not
//!    match — several close candidates, too little evidence, or a candidate that already has
//!    another id in one of the record's namespaces (two sources disagreeing on a film's TMDB id)
//!    — is *ambiguous*: the record becomes a movie of its own and the pair is listed for review,
//!    never merged in silence; below that the record is *new*.
//!
//! [`Catalog`] runs the same policy record by record over an in-memory catalog: it is the gold
//! standard's evaluator and the test oracle of the store's set-based load.

pub mod normalize;
pub mod overrides;
pub mod score;

use super::movie::{match_key, Movie};
use super::source::ExternalId;
use super::MovieId;
use score::{Comparison, TitleLevel};
use serde::Serialize;
use std::collections::HashMap;

/// A blocking key shared by more movies than this is too common to find candidates by (a
/// generic word left by a fragment): it is skipped, so blocking stays linear in the catalog.
pub const MAX_BLOCK: usize = 50;

/// Where the decision's lines are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// A best candidate scoring this much or more matches (when no other is within `margin`).
    pub matching: f64,
    /// A best candidate scoring this much or more, that does not match, is listed for review.
    pub review: f64,
    /// How far ahead of the runner-up a match must be.
    pub margin: f64,
}

impl Thresholds {
    /// The load's thresholds, chosen on the training half of the gold pairs (see the README's
    /// identity figures).
    pub const DEFAULT: Thresholds = Thresholds {
        matching: 10.0,
        review: 6.0,
        margin: 3.0,
    };
}

impl Default for Thresholds {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Clean records with what identity needs of each that the catalog does not decide: their
/// profiles and blocking keys. Made where the records are read, so that work runs on the reading
/// thread while the load writes the batch before.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub movies: Vec<Movie>,
    pub profiles: Vec<Profile>,
    pub keys: Vec<Vec<String>>,
}

impl Batch {
    pub fn new(movies: Vec<Movie>) -> Self {
        let profiles: Vec<Profile> = movies.iter().map(Profile::of).collect();
        let keys = profiles.iter().map(Profile::block_keys).collect();
        Self {
            movies,
            profiles,
            keys,
        }
    }
}

/// What identity knows of a record, or of a catalog movie (all its providers' facts together).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub titles: Vec<normalize::TitleForm>,
    pub years: Vec<i32>,
    /// Directors' names as [`match_key`] reads them.
    pub directors: Vec<String>,
    pub runtimes: Vec<u32>,
    pub ids: Vec<ExternalId>,
}

impl Profile {
    /// The profile of a clean record, its own id included.
    pub fn of(m: &Movie) -> Self {
        let mut p = Profile::default();
        let directors = m.directors.join(", ");
        p.add_facts(
            m.title.as_str(),
            m.original_title.as_ref().map(|t| t.as_str()),
            m.year,
            Some(directors.as_str()).filter(|d| !d.is_empty()),
            m.runtime,
        );
        p.ids = m.all_ids();
        p
    }

    /// Adds one provider's facts (as `movie_sources` keeps them: directors comma-separated).
    pub fn add_facts(
        &mut self,
        title: &str,
        original_title: Option<&str>,
        year: i32,
        directors: Option<&str>,
        runtime: Option<u32>,
    ) {
        for t in std::iter::once(title).chain(original_title) {
            add_new(&mut self.titles, normalize::forms(t));
        }
        add_new(&mut self.years, [year]);
        let names = directors
            .into_iter()
            .flat_map(|d| d.split(", "))
            .map(match_key);
        add_new(&mut self.directors, names.filter(|k| !k.is_empty()));
        add_new(&mut self.runtimes, runtime);
    }

    /// Adds the ids of a movie.
    pub fn add_id(&mut self, id: ExternalId) {
        add_new(&mut self.ids, [id]);
    }

    /// Everything `other` knows too.
    pub fn merge(&mut self, other: &Profile) {
        add_new(&mut self.titles, other.titles.iter().cloned());
        add_new(&mut self.years, other.years.iter().copied());
        add_new(&mut self.directors, other.directors.iter().cloned());
        add_new(&mut self.runtimes, other.runtimes.iter().copied());
        add_new(&mut self.ids, other.ids.iter().cloned());
    }

    /// The blocking keys: the compact forms of every title, whole or partial.
    pub fn block_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.titles.iter().map(|t| t.compact.clone()).collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Whether `movie` has another id in a namespace this record has an id in: another film
    /// to that source.
    fn conflicts_with(&self, movie: &Profile) -> bool {
        self.ids.iter().any(|mine| {
            let theirs: Vec<&ExternalId> = movie
                .ids
                .iter()
                .filter(|i| i.namespace == mine.namespace)
                .collect();
            !theirs.is_empty() && !theirs.contains(&mine)
        })
    }
}

/// Appends the items `list` does not hold yet, in order: a profile's lists are sets that keep
/// the order facts arrived in.
fn add_new<T: PartialEq>(list: &mut Vec<T>, items: impl IntoIterator<Item = T>) {
    for item in items {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

/// Why a record was kept apart and listed for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewReason {
    /// Several candidates score within the margin of the best.
    Several,
    /// The best candidate scores too little to match and too much to ignore.
    LowConfidence,
    /// The best candidate has another id in one of the record's namespaces.
    ConflictingIds,
}

impl ReviewReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewReason::Several => "several",
            ReviewReason::LowConfidence => "low_confidence",
            ReviewReason::ConflictingIds => "conflicting_ids",
        }
    }

    /// The reason stored as `code` (an audit report's), in words for a person; an unknown code
    /// as it is.
    pub fn describe(code: &str) -> &str {
        match [Self::Several, Self::LowConfidence, Self::ConflictingIds]
            .into_iter()
            .find(|r| r.as_str() == code)
        {
            Some(Self::Several) => "several candidates score alike",
            Some(Self::LowConfidence) => "the best candidate scores below the match threshold",
            Some(Self::ConflictingIds) => {
                "the candidate already has another id of the record's source"
            }
            None => code,
        }
    }
}

/// What the policy decided for a record that no id placed.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Match {
        movie: MovieId,
        comparison: Comparison,
    },
    New,
    /// A new movie, listed for review with the candidates it could be (best first).
    Review {
        reason: ReviewReason,
        candidates: Vec<(MovieId, Comparison)>,
    },
}

/// Decides which of the blocked candidates a record is (see the module docs). Deterministic:
/// candidates are ranked by score, then by MovieID.
pub fn decide<'p>(
    record: &Profile,
    candidates: impl IntoIterator<Item = (MovieId, &'p Profile)>,
    t: &Thresholds,
) -> Decision {
    let mut open: Vec<(MovieId, Comparison)> = Vec::new();
    let mut conflicting: Vec<(MovieId, Comparison)> = Vec::new();
    for (movie, profile) in candidates {
        let c = score::compare(record, profile);
        if c.score < t.review {
            continue;
        }
        if record.conflicts_with(profile) {
            conflicting.push((movie, c));
        } else {
            open.push((movie, c));
        }
    }
    let rank = |list: &mut Vec<(MovieId, Comparison)>| {
        list.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
    };
    rank(&mut open);
    rank(&mut conflicting);
    let best = open.first().map(|(_, c)| c.score);
    match best {
        Some(top) if top >= t.matching => {
            // A rival within the margin only by a part of the title is no rival to the whole
            // title ("War" beside "Charlie Wilson's War").
            let best_title = open[0].1.title;
            let close: Vec<(MovieId, Comparison)> = open
                .iter()
                .filter(|(_, c)| c.score > top - t.margin)
                .filter(|(_, c)| {
                    !(best_title == TitleLevel::Exact && c.title == TitleLevel::Contained)
                })
                .cloned()
                .collect();
            if let [(movie, comparison)] = close.as_slice() {
                Decision::Match {
                    movie: *movie,
                    comparison: *comparison,
                }
            } else {
                Decision::Review {
                    reason: ReviewReason::Several,
                    candidates: close,
                }
            }
        }
        _ if conflicting
            .first()
            .is_some_and(|(_, c)| c.score >= t.matching) =>
        {
            Decision::Review {
                reason: ReviewReason::ConflictingIds,
                candidates: conflicting,
            }
        }
        Some(_) => Decision::Review {
            reason: ReviewReason::LowConfidence,
            candidates: open,
        },
        None => Decision::New,
    }
}

/// How a record found its movie.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// By one of its ids.
    Id(MovieId),
    /// By the policy's decision: matched, new or kept apart for review.
    Decided(Decision),
}

/// An in-memory catalog resolved record by record: the gold standard's evaluator and the
/// store's test oracle. Movies are numbered from 1 in order of creation.
#[derive(Debug, Default)]
pub struct Catalog {
    thresholds: Thresholds,
    movies: Vec<Profile>,
    by_id: HashMap<ExternalId, MovieId>,
    by_key: HashMap<String, Vec<MovieId>>,
}

impl Catalog {
    /// An empty catalog deciding by `thresholds`.
    pub fn new(thresholds: Thresholds) -> Self {
        Self {
            thresholds,
            ..Self::default()
        }
    }

    /// Resolves one record and adds what it says to the movie it is (a new one if need be);
    /// returns that movie and how it was found.
    pub fn resolve(&mut self, record: &Profile) -> (MovieId, Resolved) {
        let by_id = record.ids.iter().find_map(|i| self.by_id.get(i).copied());
        let (movie, how) = match by_id {
            Some(m) => (m, Resolved::Id(m)),
            None => {
                let decision = self.decide(record);
                let movie = match &decision {
                    Decision::Match { movie, .. } => *movie,
                    Decision::New | Decision::Review { .. } => {
                        self.movies.push(Profile::default());
                        MovieId(self.movies.len() as i64)
                    }
                };
                (movie, Resolved::Decided(decision))
            }
        };
        self.add(movie, record);
        (movie, how)
    }

    /// The decision for a record that no id places, without changing the catalog.
    pub fn decide(&self, record: &Profile) -> Decision {
        let mut ids: Vec<MovieId> = record
            .block_keys()
            .iter()
            .filter_map(|k| self.by_key.get(k))
            .filter(|list| list.len() <= MAX_BLOCK)
            .flatten()
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        decide(
            record,
            ids.into_iter().map(|m| (m, self.profile(m))),
            &self.thresholds,
        )
    }

    /// The profile of a movie of this catalog.
    pub fn profile(&self, movie: MovieId) -> &Profile {
        &self.movies[(movie.0 - 1) as usize]
    }

    fn add(&mut self, movie: MovieId, record: &Profile) {
        for id in &record.ids {
            self.by_id.entry(id.clone()).or_insert(movie);
        }
        for key in record.block_keys() {
            let list = self.by_key.entry(key).or_default();
            if !list.contains(&movie) {
                list.push(movie);
            }
        }
        self.movies[(movie.0 - 1) as usize].merge(record);
    }
}

/// A movie of the catalog that is another movie's film: merged into the survivor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Duplicate {
    pub movie: MovieId,
    pub survivor: MovieId,
}

/// Which catalog movies are one film, re-resolving the movies of `scope` (in MovieID order)
/// against their blocked `candidates` as a load resolves a record: every movie of a catalog
/// built before identity (each source's spelling of a film a movie of its own), or the movies
/// whose facts a load changed (a new original title may reveal the film). A movie of the scope
/// meets only the scope's earlier movies, so three copies of a film merge one by one instead of
/// each seeing two alike; a match merges the later MovieID into the earlier, whose profile then
/// holds both. `keep_apart` is the overrides' never rule.
pub fn duplicates(
    scope: &[MovieId],
    candidates: &HashMap<MovieId, Vec<MovieId>>,
    profiles: &HashMap<MovieId, Profile>,
    thresholds: Thresholds,
    keep_apart: impl Fn(&Profile, &Profile) -> bool,
) -> Vec<Duplicate> {
    let in_scope: std::collections::HashSet<MovieId> = scope.iter().copied().collect();
    // The survivors' profiles, grown by what they absorbed.
    let mut grown: HashMap<MovieId, Profile> = HashMap::new();
    let mut survivor_of: HashMap<MovieId, MovieId> = HashMap::new();
    let survivor = |links: &HashMap<MovieId, MovieId>, mut m: MovieId| {
        while let Some(&s) = links.get(&m) {
            m = s;
        }
        m
    };
    for &movie in scope {
        if survivor_of.contains_key(&movie) {
            continue;
        }
        let profile_of = |m: MovieId| grown.get(&m).or_else(|| profiles.get(&m));
        let Some(me) = profile_of(movie) else {
            continue;
        };
        let mut others: Vec<MovieId> = candidates
            .get(&movie)
            .into_iter()
            .flatten()
            .filter(|c| !(in_scope.contains(c) && **c > movie))
            .map(|c| survivor(&survivor_of, *c))
            .filter(|c| *c != movie)
            .collect();
        others.sort_unstable();
        others.dedup();
        let decision = decide(
            me,
            others
                .iter()
                .filter_map(|c| profile_of(*c).map(|p| (*c, p)))
                .filter(|(_, p)| !keep_apart(me, p)),
            &thresholds,
        );
        if let Decision::Match { movie: other, .. } = decision {
            let (lost, kept) = (movie.max(other), movie.min(other));
            let mut both = profile_of(kept).cloned().unwrap_or_default();
            both.merge(profile_of(lost).unwrap_or(&Profile::default()));
            grown.insert(kept, both);
            survivor_of.insert(lost, kept);
        }
    }
    let mut out: Vec<Duplicate> = survivor_of
        .keys()
        .map(|&movie| Duplicate {
            movie,
            survivor: survivor(&survivor_of, movie),
        })
        .collect();
    out.sort_unstable_by_key(|d| d.movie);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::movie::Title;
    use crate::domain::source::{Namespace, Provider};

    fn record(provider: Provider, title: &str, year: i32) -> Movie {
        Movie::new(provider, Title::parse(title).expect("title"), year, 1)
    }

    fn tmdb(id: u32, title: &str, year: i32) -> Movie {
        let mut m = record(Provider::Tmdb, title, year);
        m.ids = vec![ExternalId::new(Namespace::Tmdb, id.to_string())];
        m
    }

    fn decided(c: &mut Catalog, m: &Movie) -> (MovieId, Resolved) {
        c.resolve(&Profile::of(m))
    }

    #[test]
    fn spellings_of_one_film_match_and_remakes_stay_apart() {
        let mut c = Catalog::default();
        let (et, _) = decided(&mut c, &tmdb(601, "E.T. the Extra-Terrestrial", 1982));
        let (psycho, _) = decided(&mut c, &tmdb(539, "Psycho", 1960));
        let (m, how) = decided(
            &mut c,
            &record(Provider::Vega, "ET: The Extra-Terrestrial", 1982),
        );
        assert_eq!(m, et);
        assert!(
            matches!(how, Resolved::Decided(Decision::Match { .. })),
            "{how:?}"
        );
        let (remake, how) = decided(&mut c, &record(Provider::Vega, "Psycho", 1998));
        assert_ne!(remake, psycho);
        assert_eq!(how, Resolved::Decided(Decision::New));
        // A reload finds both by id.
        assert_eq!(
            decided(&mut c, &tmdb(601, "E.T.", 1982)),
            (et, Resolved::Id(et))
        );
    }

    #[test]
    fn the_empire_strikes_back_meets_its_episode_title() {
        let mut c = Catalog::default();
        let mut ml = record(
            Provider::Movielens,
            "Star Wars: Episode V - The Empire Strikes Back",
            1980,
        );
        ml.ids = vec![ExternalId::new(Namespace::Movielens, "1196")];
        let (empire, _) = decided(&mut c, &ml);
        let vega = record(Provider::Vega, "The Empire Strikes Back", 1980);
        let d = c.decide(&Profile::of(&vega));
        assert!(
            matches!(d, Decision::Match { movie, .. } if movie == empire),
            "{d:?}"
        );
        // A year off, a part of a title is not enough: listed for review.
        let late = record(Provider::Vega, "The Empire Strikes Back", 1981);
        let d = c.decide(&Profile::of(&late));
        assert!(matches!(d, Decision::Review { .. }), "{d:?}");
    }

    #[test]
    fn a_two_digit_year_slip_matches_with_one_more_agreeing_fact() {
        let mut c = Catalog::default();
        let mut wings = tmdb(28966, "Wings", 1927);
        wings.runtime = Some(144);
        let (w, _) = decided(&mut c, &wings);
        let mut slip = record(Provider::Vega, "Wings", 2027);
        let alone = c.decide(&Profile::of(&slip));
        assert!(
            matches!(&alone, Decision::Review { reason: ReviewReason::LowConfidence, candidates } if candidates[0].0 == w),
            "exact title, 100 years off, nothing else: listed for review, {alone:?}"
        );
        slip.runtime = Some(143);
        let decision = c.decide(&Profile::of(&slip));
        assert!(
            matches!(&decision, Decision::Match { movie, .. } if *movie == w),
            "and the same runtime: a match, {decision:?}"
        );
        // A remake far off in years stays apart even with its runtime.
        let mut remake = record(Provider::Vega, "Wings", 1990);
        remake.runtime = Some(144);
        assert_eq!(c.decide(&Profile::of(&remake)), Decision::New);
    }

    #[test]
    fn a_rival_by_a_part_of_the_title_does_not_hold_back_the_whole_title() {
        let mut c = Catalog::default();
        let mut vega = record(Provider::Vega, "Charlie Wilson's War", 2007);
        vega.directors = vec!["Mike Nichols".into()];
        let (cww, _) = decided(&mut c, &vega);
        // vega's "War" is another film of that year (another vega key).
        let mut war = record(Provider::Vega, "War", 2007);
        war.runtime = Some(99);
        let (war, _) = decided(&mut c, &war);
        assert_ne!(war, cww);
        // TMDB's Charlie Wilson's War: the whole title scores 13, "War" through the title
        // after the possessive and the runtime 12, within the margin.
        let mut record = tmdb(6538, "Charlie Wilson's War", 2007);
        record.runtime = Some(102);
        let d = c.decide(&Profile::of(&record));
        assert!(
            matches!(&d, Decision::Match { movie, .. } if *movie == cww),
            "{d:?}"
        );
    }

    #[test]
    fn a_conflicting_tmdb_id_is_held_for_review_and_several_candidates_are_not_guessed() {
        let mut c = Catalog::default();
        let (grindhouse, _) = decided(&mut c, &tmdb(253768, "Grindhouse", 2007));
        let mut other = tmdb(1991, "Grindhouse", 2007);
        other.source_row = 2;
        let (m, how) = decided(&mut c, &other);
        assert_ne!(m, grindhouse);
        assert!(
            matches!(&how, Resolved::Decided(Decision::Review { reason: ReviewReason::ConflictingIds, candidates }) if candidates[0].0 == grindhouse),
            "{how:?}"
        );
        // Now two movies named Grindhouse (2007): a vega record cannot tell which.
        let d = c.decide(&Profile::of(&record(Provider::Vega, "Grindhouse", 2007)));
        assert!(
            matches!(&d, Decision::Review { reason: ReviewReason::Several, candidates } if candidates.len() == 2),
            "{d:?}"
        );
    }

    #[test]
    fn an_older_catalogs_copies_of_one_film_merge_into_the_earliest_unless_kept_apart() {
        let stored = [
            (
                3,
                record(Provider::Vega, "Star Wars Ep. IV: A New Hope", 1977),
            ),
            (5, record(Provider::Vega, "Psycho", 1960)),
            (6, record(Provider::Vega, "Beetle Juice", 1988)),
            (8, tmdb(11, "Star Wars", 1977)),
            (9, tmdb(11479, "Psycho", 1998)),
            (10, tmdb(4011, "Beetlejuice", 1988)),
            (
                12,
                record(Provider::Movielens, "Star Wars (Special Edition)", 1977),
            ),
        ];
        let profiles: HashMap<MovieId, Profile> = stored
            .iter()
            .map(|(id, m)| (MovieId(*id), Profile::of(m)))
            .collect();
        let scope: Vec<MovieId> = stored.iter().map(|(id, _)| MovieId(*id)).collect();
        // As blocking finds them: every movie sharing a title key.
        let candidates: HashMap<MovieId, Vec<MovieId>> = scope
            .iter()
            .map(|&m| {
                let keys = profiles[&m].block_keys();
                let shared = scope.iter().copied().filter(|&o| {
                    o != m && profiles[&o].block_keys().iter().any(|k| keys.contains(k))
                });
                (m, shared.collect())
            })
            .collect();
        let found = |scope: &[MovieId], keep_apart: &dyn Fn(&Profile, &Profile) -> bool| {
            duplicates(
                scope,
                &candidates,
                &profiles,
                Thresholds::DEFAULT,
                keep_apart,
            )
            .iter()
            .map(|d| (d.movie.0, d.survivor.0))
            .collect::<Vec<_>>()
        };
        let never = |_: &Profile, _: &Profile| false;
        assert_eq!(
            found(&scope, &never),
            [(8, 3), (10, 6), (12, 3)],
            "the remake stays apart"
        );
        // Only a movie whose facts changed: it meets the copy before it.
        assert_eq!(found(&scope[5..6], &never), [(10, 6)]);
        let tmdb_11 = ExternalId::new(Namespace::Tmdb, "11");
        let kept = found(&scope, &|a, b| {
            a.ids.contains(&tmdb_11) || b.ids.contains(&tmdb_11)
        });
        assert!(
            kept.iter().all(|&(movie, _)| movie != 8),
            "a never rule keeps tmdb:11 apart: {kept:?}"
        );
    }

    #[test]
    fn the_catalog_is_the_same_whatever_the_order_of_sources() {
        let sources = [
            tmdb(11, "Star Wars", 1977),
            record(Provider::Vega, "Star Wars Ep. IV: A New Hope", 1977),
            record(Provider::Vega, "Beetle Juice", 1988),
            tmdb(4011, "Beetlejuice", 1988),
            record(Provider::Movielens, "Heat", 1995),
            tmdb(949, "Heat", 1995),
        ];
        let groups = |order: &[usize]| -> Vec<Vec<usize>> {
            let mut c = Catalog::default();
            let mut by_movie: std::collections::BTreeMap<MovieId, Vec<usize>> = Default::default();
            for &i in order {
                let (m, _) = decided(&mut c, &sources[i]);
                by_movie.entry(m).or_default().push(i);
            }
            let mut g: Vec<Vec<usize>> = by_movie
                .into_values()
                .map(|mut v| {
                    v.sort_unstable();
                    v
                })
                .collect();
            g.sort();
            g
        };
        let forward = groups(&[0, 1, 2, 3, 4, 5]);
        assert_eq!(forward, groups(&[5, 4, 3, 2, 1, 0]));
        assert_eq!(forward, groups(&[1, 3, 5, 0, 2, 4]));
        assert_eq!(forward.len(), 3, "{forward:?}");
    }
}
