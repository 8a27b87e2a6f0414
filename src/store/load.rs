//! The ETL's load: one IMMEDIATE transaction per run, holding its lineage row, its rejects and
//! every catalog change, so a failure or a kill leaves the database as it was.
//!
//! **Identity.** Each record is what one provider says of one film; which movie it is, is
//! decided by the pure policy in [`crate::domain::identity`] (and the run's overrides). The load
//! only stages and writes: per batch of records, many-row `VALUES` lists join all their ids
//! against `movie_ids` and their blocking keys against `movie_keys`, two statements read the
//! candidates' facts; each record is decided in memory, in input order (a record may be the film an earlier
//! one of the batch made); then every table gets the batch's rows in many-row statements
//! ([`super::bulk`]): new movies, newly mapped ids and keys, facts, lists. A record held for
//! review becomes a movie of its own and is listed in the run's identity report with its
//! candidates and the reason.
//!
//! **Facts.** The record's facts go to `movie_sources` under its provider, untouched by any
//! other provider's load; its lists (genres, keywords, cast, crew) to the attribute tables. A
//! record equal to what its provider said before writes nothing. When the run ends, `settle`
//! derives the touched movies' `Movies` row: descriptive fields from the first provider with a
//! value in [`Provider::ATTRIBUTE_PRIORITY`], the rating by the run's [`RatingPolicy`].

use super::bulk::{nullable, text, Rows, Ty};
use super::codec::timestamp;
use super::sql::{args, Arg, Db};
use super::touched::{touched_table, INSERTED, UNCHANGED, UPDATED};
use super::{Store, StoreError};
use crate::domain::audit::{
    AmbiguousRecord, AuditReport, ConflictGroup, Example, IdentityReport, MatchKind,
    OverridesApplied,
};
use crate::domain::derive::{derive, search_key, Derived, ProviderFacts};
use crate::domain::etl::{EtlRunStatus, LoadCounts, Reason, Reject, RunStart};
use crate::domain::genre::Genre;
use crate::domain::identity::overrides::Overrides;
use crate::domain::identity::score::YearLevel;
use crate::domain::identity::{self, Batch, Decision, Profile, Thresholds};
use crate::domain::movie::{Movie, Title};
use crate::domain::source::{ExternalId, Namespace, Provider, RatingPolicy};
use crate::domain::{EtlRunId, MovieId, Timestamp};
use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// An ETL run's load. Dropped without [`Load::commit`], it leaves the database as it was.
pub struct Load<'s> {
    pub(super) tx: super::WriteTx<'s>,
    pub(super) run_id: EtlRunId,
    pub(super) identity: IdentityReport,
    duplicates: u64,
    duplicate_examples: Vec<Example>,
    /// The file of a multi-file input being loaded (empty for a single file): rejects name it.
    file: String,
    /// The number the next new movie gets: the load numbers movies as identity makes them and
    /// writes them with their batch (the IMMEDIATE transaction holds off every other writer).
    next_movie: MovieId,
    /// A person's word over identity's policy (empty without an overrides file).
    pub(super) overrides: Overrides,
    /// Whether the catalog was built before identity resolved records: its duplicates are
    /// merged before the first batch ([`Load::merge_duplicates`]).
    pub(super) before_identity: bool,
    /// How the run derives each movie's rating from its providers' ratings.
    policy: RatingPolicy,
    /// The movies this run made whose row `write` derived at insert, in MovieID order.
    presettled: Vec<Presettled>,
    /// The distinct `supplied_by` lists of presettled movies (most share a few).
    supplied: Supplied,
    /// The ids of the people and keywords the run has named.
    people: Names,
    keywords: Names,
    /// New users' ratings waiting for PostgreSQL's `COPY` ([`Load::flush_ratings`]).
    pub(super) copying: Vec<(super::ratings::UserKey, super::ratings::NewRating)>,
    /// The users of the ratings dataset being loaded, once it names one.
    pub(super) users: Option<super::ratings::Users>,
}

/// Names (of people or keywords) and their ids, as the run has met them: each name is looked up
/// or added once per run, and the attribute rows are written with its id, instead of joining
/// every row to the names table by name.
struct Names {
    table: &'static str,
    id: &'static str,
    ids: HashMap<String, i64>,
}

impl Names {
    /// Names kept at most: past that the map starts again (a run naming millions of people
    /// stays in bounded memory).
    const MAX: usize = 200_000;

    fn new(table: &'static str, id: &'static str) -> Self {
        Self {
            table,
            id,
            ids: HashMap::new(),
        }
    }

    /// Makes sure every one of `names` has its id here: reads those the table has, adds the
    /// others.
    fn resolve<'n>(
        &mut self,
        db: &Db<'_>,
        names: impl Iterator<Item = &'n str>,
    ) -> Result<(), StoreError> {
        if self.ids.len() > Self::MAX {
            self.ids.clear();
        }
        let mut missing: Vec<&str> = names.filter(|n| !self.ids.contains_key(*n)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        missing.sort_unstable();
        missing.dedup();
        let mut rows = Rows::new(&[Ty::Text]);
        for name in &missing {
            rows.push([(*name).into()]);
        }
        let (table, id) = (self.table, self.id);
        rows.run(
            db,
            &format!("SELECT t.{id}, t.name FROM ("),
            &format!(") AS v JOIN {table} AS t ON t.name = v.column1"),
            |r| {
                self.ids.insert(r.get(1)?, r.get(0)?);
                Ok(())
            },
        )?;
        let mut new = Rows::new(&[Ty::Text]);
        for name in missing.into_iter().filter(|n| !self.ids.contains_key(*n)) {
            new.push([name.into()]);
        }
        new.run(
            db,
            &format!("INSERT INTO {table} (name)"),
            &format!("RETURNING {id}, name"),
            |r| {
                self.ids.insert(r.get(1)?, r.get(0)?);
                Ok(())
            },
        )
    }

    fn id(&self, name: &str) -> Result<i64, StoreError> {
        self.ids
            .get(name)
            .copied()
            .ok_or_else(|| StoreError::Corrupt(format!("{} has no id for {name:?}", self.table)))
    }
}

/// A movie this run made whose `Movies` row `write` derived from its one record
/// ([`derive_one`]): what settling sums up of it, kept so settling need not read it back. It
/// stays settled unless a later record of the run changes its facts (which clears its
/// `etl_touched.settled`).
///
/// 16 bytes a movie (a load of a million new movies keeps a million of these): a movie whose id,
/// year or list does not fit the narrow fields is settled by reading it back instead.
struct Presettled {
    /// NaN for none, where an `Option<f64>` would take 16 bytes.
    rating: f64,
    /// Its MovieID.
    movie: u32,
    year: i16,
    /// Its `supplied_by` list, in [`Supplied`].
    supplied: u16,
}

const _: () = assert!(std::mem::size_of::<Presettled>() == 16);

impl Presettled {
    fn rating(&self) -> Option<f64> {
        (!self.rating.is_nan()).then_some(self.rating)
    }
}

/// Interned `supplied_by` lists (field, provider): a million presettled movies share a few.
#[derive(Default)]
struct Supplied {
    lists: Vec<Vec<(&'static str, &'static str)>>,
    index: HashMap<Vec<(&'static str, &'static str)>, u16>,
}

impl Supplied {
    /// The list's number; `None` once 65,536 distinct lists are kept (its movie is then
    /// settled by reading it back).
    fn intern(&mut self, list: &[(&'static str, &'static str)]) -> Option<u16> {
        if let Some(&i) = self.index.get(list) {
            return Some(i);
        }
        let i = u16::try_from(self.lists.len()).ok()?;
        self.lists.push(list.to_vec());
        self.index.insert(list.to_vec(), i);
        Some(i)
    }
}

/// What settling adds up over the run's movies.
#[derive(Default)]
struct Sums {
    loaded: u64,
    supplied_by: BTreeMap<String, BTreeMap<String, u64>>,
    conflicts: BTreeMap<String, BTreeMap<String, ConflictGroup>>,
}

impl Sums {
    /// Counts a movie settled, with the provider that supplied each of its fields.
    fn supplied(&mut self, list: &[(&'static str, &'static str)]) {
        self.loaded += 1;
        for (field, provider) in list {
            *self
                .supplied_by
                .entry((*field).to_owned())
                .or_default()
                .entry((*provider).to_owned())
                .or_default() += 1;
        }
    }
}

/// What settling the run's movies did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadSummary {
    pub counts: LoadCounts,
    /// Movies this run's records are (after dedupe).
    pub loaded: u64,
    /// Records merged into another record of the same film in the same input.
    pub duplicates: u64,
    /// The first few of them.
    pub duplicate_examples: Vec<Example>,
    pub identity: IdentityReport,
    pub supplied_by: BTreeMap<String, BTreeMap<String, u64>>,
    pub conflicts: BTreeMap<String, BTreeMap<String, ConflictGroup>>,
}

impl Store {
    /// Starts an ETL run's load: takes the write lock and opens the run's lineage row, which only
    /// becomes visible, as `succeeded`, when the load commits.
    pub fn begin_load(
        &mut self,
        run: &RunStart,
        policy: &RatingPolicy,
    ) -> Result<Load<'_>, StoreError> {
        if let Ok(conn) = self.owned() {
            // Each table's many-row statements (about twenty shapes, a few lengths each), the
            // staging joins and the settling.
            conn.set_prepared_statement_cache_capacity(24 * super::bulk::STATEMENTS_PER_SHAPE);
        }
        let tx = self.begin_write(super::KeyChecks::Off)?;
        let db = tx.db();
        if db.is_postgres() {
            // A plan made for each execution: the catalog's tables grow during the load, and a
            // cached plan made while they were small (a hash join over all of `movie_ids`, say)
            // would stay however large they grow.
            db.batch("SET LOCAL plan_cache_mode = force_custom_plan")?;
            skip_key_checks(&db)?;
        }
        let run_id = db.one(
            "INSERT INTO etl_runs (source, source_format, source_sha256, snapshot_path, started_at,
                                   finished_at, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) RETURNING run_id",
            args![
                run.source,
                run.format,
                run.sha256,
                run.snapshot,
                timestamp(run.started_at),
                EtlRunStatus::Succeeded
            ],
        )?;
        db.batch(&touched_table(&db))?;
        let before_identity = backfill_keys(&db)?;
        // A merged-away id stays its redirect's: no new movie takes it.
        let next_movie = db.one(
            "SELECT COALESCE(MAX(id), 0) + 1 FROM (
                 SELECT MAX(MovieID) AS id FROM Movies
                 UNION ALL SELECT MAX(old_id) FROM movie_redirects) AS ids",
            args![],
        )?;
        Ok(Load {
            policy: policy.clone(),
            next_movie,
            before_identity,
            overrides: Overrides::default(),
            tx,
            run_id,
            identity: IdentityReport::default(),
            duplicates: 0,
            duplicate_examples: Vec::new(),
            presettled: Vec::new(),
            supplied: Supplied::default(),
            people: Names::new("people", "person_id"),
            keywords: Names::new("keywords", "keyword_id"),
            file: String::new(),
            copying: Vec::new(),
            users: None,
        })
    }
}

/// What staging a batch finds: the movie each (record, id position) is mapped to, and each
/// record's candidate movies by blocking key.
type Staged = (
    HashMap<(usize, usize), MovieId>,
    HashMap<usize, Vec<MovieId>>,
);

/// The ids and blocking keys a batch has mapped so far, which the catalog's tables will only
/// show the next batch.
#[derive(Default)]
struct BatchIndex<'b> {
    ids: HashMap<&'b ExternalId, MovieId>,
    keys: HashMap<&'b str, Vec<MovieId>>,
}

/// Turns PostgreSQL's foreign-key checks off for the load's transaction where the role may
/// (`session_replication_role`, a superuser's or a managed service's admin role's setting), as
/// SQLite's load does ([`super::KeyChecks::Off`]): the load writes only ids it resolved or made,
/// and the checks, a trigger per row locking the row it names, took 16 of the 26 s of a load of
/// 62,423 new movies. Elsewhere the checks stay on. A test checks every key after loads.
fn skip_key_checks(db: &Db<'_>) -> Result<(), StoreError> {
    db.batch("SAVEPOINT key_checks")?;
    match db.batch("SET LOCAL session_replication_role = replica") {
        Ok(()) => db.batch("RELEASE SAVEPOINT key_checks"),
        Err(_) => db.batch("ROLLBACK TO SAVEPOINT key_checks; RELEASE SAVEPOINT key_checks"),
    }
}

/// The `WHERE` clause selecting the movies whose ids `?1` lists as a JSON array.
pub(super) fn in_id_list(db: &Db<'_>) -> &'static str {
    if db.is_postgres() {
        "WHERE MovieID IN (SELECT jsonb_array_elements_text(CAST(?1 AS TEXT)::JSONB)::BIGINT)"
    } else {
        "WHERE MovieID IN (SELECT value FROM json_each(?1))"
    }
}

/// Fills `movie_keys` and `Movies.SearchKey` for a catalog loaded before identity kept them
/// (schema version 5): from every provider's titles, as the load would have written them.
/// Returns whether it did: whether the catalog has movies identity never resolved.
fn backfill_keys(db: &Db<'_>) -> Result<bool, StoreError> {
    let backfill: bool = db.one(
        "SELECT NOT EXISTS (SELECT 1 FROM movie_keys) AND EXISTS (SELECT 1 FROM movie_sources)",
        args![],
    )?;
    if !backfill {
        return Ok(false);
    }
    let mut titles: BTreeMap<MovieId, Vec<String>> = BTreeMap::new();
    let mut keys: Vec<(MovieId, String)> = Vec::new();
    db.for_each(
        "SELECT MovieID, title, original_title, release_year FROM movie_sources",
        args![],
        |r| {
            let movie: MovieId = r.get(0)?;
            let title: String = r.get(1)?;
            let original: Option<String> = r.get(2)?;
            let mut p = Profile::default();
            p.add_facts(&title, original.as_deref(), r.get(3)?, None, None);
            keys.extend(p.block_keys().into_iter().map(|k| (movie, k)));
            titles.entry(movie).or_default().push(title);
            Ok(())
        },
    )?;
    for (movie, key) in &keys {
        db.execute(
            "INSERT INTO movie_keys (key, MovieID) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            args![key, movie],
        )?;
    }
    for (movie, titles) in titles {
        db.execute(
            "UPDATE Movies SET SearchKey = ?2 WHERE MovieID = ?1",
            args![movie, search_key(titles.iter().map(String::as_str))],
        )?;
    }
    Ok(true)
}

/// The movies sharing a blocking key with each of `keys`' owners — (owner, key) pairs, joined
/// as `VALUES` lists; a key shared by more than [`identity::MAX_BLOCK`] movies is skipped.
pub(super) fn blocked(
    db: &Db<'_>,
    keys: &[(i64, &str)],
) -> Result<HashMap<i64, Vec<MovieId>>, StoreError> {
    let mut hits: HashMap<i64, Vec<MovieId>> = HashMap::new();
    let mut rows = Rows::new(&[Ty::Int, Ty::Text]);
    for (owner, key) in keys {
        rows.push([(*owner).into(), (*key).into()]);
    }
    let max = identity::MAX_BLOCK;
    rows.run(
        db,
        "SELECT DISTINCT v.column1, b.MovieID FROM (",
        &format!(
            ") AS v JOIN movie_keys AS b ON b.key = v.column2
             WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM movie_keys AS c
                                          WHERE c.key = v.column2 LIMIT {}) AS first) <= {max}",
            max + 1
        ),
        |r| {
            hits.entry(r.get(0)?).or_default().push(r.get(1)?);
            Ok(())
        },
    )?;
    Ok(hits)
}

/// What identity knows of the movies `filter` (a `WHERE` clause over `MovieID`, with `args`)
/// selects: every provider's facts and every id.
pub(super) fn profiles(
    db: &Db<'_>,
    filter: &str,
    args: &[&dyn Arg],
) -> Result<HashMap<MovieId, Profile>, StoreError> {
    let mut out: HashMap<MovieId, Profile> = HashMap::new();
    db.for_each(
        &format!(
            "SELECT MovieID, title, original_title, release_year, director, runtime
             FROM movie_sources {filter}"
        ),
        args,
        |r| {
            let title: String = r.get(1)?;
            let original: Option<String> = r.get(2)?;
            let director: Option<String> = r.get(4)?;
            out.entry(r.get(0)?).or_default().add_facts(
                &title,
                original.as_deref(),
                r.get(3)?,
                director.as_deref(),
                r.get(5)?,
            );
            Ok(())
        },
    )?;
    db.for_each(
        &format!("SELECT MovieID, namespace, external_id FROM movie_ids {filter}"),
        args,
        |r| {
            let namespace: Namespace = r.get(1)?;
            out.entry(r.get(0)?)
                .or_default()
                .add_id(ExternalId::new(namespace, r.get::<String>(2)?));
            Ok(())
        },
    )?;
    Ok(out)
}

/// A record's cast and crew by role.
fn crew(m: &Movie) -> [(&'static str, &[String]); 3] {
    [
        ("cast", &m.cast),
        ("director", &m.directors),
        ("writer", &m.writers),
    ]
}

/// The fingerprint of a record's lists, stored beside its facts so an unchanged record skips
/// rewriting them. SipHash with fixed keys: the same in every run.
fn attributes_fingerprint(m: &Movie) -> i64 {
    let mut h = std::hash::DefaultHasher::new();
    (&m.genres, &m.keywords, &m.cast, &m.directors, &m.writers).hash(&mut h);
    h.finish() as i64
}

/// Whether record `a` outranks record `b` of the same film in one input, each given as (votes,
/// rating, row): most votes (none counts as zero), then the highest rating (none lowest), then
/// the earliest row — the same whatever the input order.
fn outranks(a: (u64, Option<f64>, u64), b: (u64, Option<f64>, u64)) -> bool {
    a.0.cmp(&b.0)
        .then_with(|| a.1.unwrap_or(-1.0).total_cmp(&b.1.unwrap_or(-1.0)))
        .then_with(|| b.2.cmp(&a.2))
        .is_gt()
}

/// The `Movies` row of a movie that only `m` describes, as settling derives it from the facts
/// and genres `write` stores for it.
fn derive_one(m: &Movie, policy: &RatingPolicy) -> Derived {
    let facts = ProviderFacts {
        provider: Some(m.provider),
        title: m.title.as_str().to_owned(),
        title_key: m.title.key(),
        release_year: m.year,
        release_date: m.release_date.map(|d| d.to_string()),
        rating: m.rating.map(|r| r.value()),
        scale: m.provider.scale(),
        votes: m.votes,
        director: (!m.directors.is_empty()).then(|| m.directors.join(", ")),
        overview: m.overview.clone(),
        runtime: m.runtime,
        language: m.language.clone(),
        popularity: m.popularity,
    };
    let genres: Vec<(Provider, Genre)> = m.genres.iter().map(|g| (m.provider, *g)).collect();
    derive(&[facts], &genres, policy)
}

/// What a movie's `Movies` row holds before the run settles it, of what settling may change
/// beyond its plain columns.
struct Stored {
    genre: Option<String>,
    title_key: String,
    year: i32,
}

/// Derived `Movies` rows and catalog genres waiting to be written, many per statement.
struct Settled {
    movies: usize,
    /// Movies whose catalog genres are replaced.
    cleared: Rows<'static>,
    genres: Rows<'static>,
    /// Rows whose title key and year stay: written without them, so the `movies_by_title`
    /// index is left alone (SQLite rewrites an index entry whenever its column is SET).
    rows: Rows<'static>,
    /// Rows whose title key or year changes.
    rekeyed: Rows<'static>,
}

impl Settled {
    /// Movies settled per write.
    const FLUSH: usize = 1024;

    fn new() -> Self {
        Self {
            movies: 0,
            cleared: Rows::new(&[Ty::Int]),
            genres: Rows::new(&[Ty::Int, Ty::Int]),
            rows: Rows::new(&[
                Ty::Int,
                Ty::Text,
                Ty::Text,
                Ty::Real,
                Ty::Int,
                Ty::Text,
                Ty::Text,
                Ty::Text,
                Ty::Int,
                Ty::Text,
                Ty::Real,
                Ty::Int,
                Ty::Text,
                Ty::Text,
            ]),
            rekeyed: Rows::new(&[Ty::Int, Ty::Text, Ty::Int, Ty::Int]),
        }
    }

    fn add(&mut self, movie: MovieId, stored: Stored, d: Derived, run: EtlRunId) {
        self.movies += 1;
        if d.genre != stored.genre {
            // A movie without genres has no rows to clear (a new movie among them).
            if stored.genre.is_some() {
                self.cleared.push([movie.0.into()]);
            }
            for g in &d.genres {
                self.genres.push([movie.0.into(), g.id().into()]);
            }
        }
        if d.title_key != stored.title_key || d.release_year != stored.year {
            self.rekeyed.push([
                movie.0.into(),
                d.title_key.into(),
                d.release_year.into(),
                run.0.into(),
            ]);
        }
        self.rows.push([
            movie.0.into(),
            d.title.into(),
            nullable(d.release_date),
            nullable(d.rating),
            nullable(d.votes.map(|v| v as i64)),
            nullable(d.genre),
            nullable(d.director),
            nullable(d.overview),
            nullable(d.runtime),
            nullable(d.language),
            nullable(d.popularity),
            run.0.into(),
            d.search_key.into(),
            text(d.rating_from.code()),
        ]);
    }

    /// Writes what is waiting: each `Movies` row only where a value changed.
    fn write(&mut self, db: &Db<'_>) -> Result<(), StoreError> {
        self.cleared
            .execute(db, "DELETE FROM catalog_genres WHERE MovieID IN (", ")")?;
        self.genres
            .execute(db, "INSERT INTO catalog_genres (MovieID, genre_id)", "")?;
        self.rekeyed.execute(
            db,
            "UPDATE Movies SET TitleKey = v.column2, ReleaseYear = v.column3,
                    UpdatedRunId = v.column4
             FROM (",
            ") AS v WHERE Movies.MovieID = v.column1",
        )?;
        self.rows.execute(
            db,
            "UPDATE Movies SET Title = v.column2, ReleaseDate = v.column3, Rating = v.column4,
                    Votes = v.column5, Genre = v.column6, Director = v.column7,
                    Overview = v.column8, Runtime = v.column9,
                    OriginalLanguage = v.column10, Popularity = v.column11,
                    UpdatedRunId = v.column12, SearchKey = v.column13, RatingFrom = v.column14
             FROM (",
            ") AS v
             WHERE Movies.MovieID = v.column1
               AND NOT (Title IS NOT DISTINCT FROM v.column2
                    AND ReleaseDate IS NOT DISTINCT FROM v.column3
                    AND Rating IS NOT DISTINCT FROM v.column4
                    AND Votes IS NOT DISTINCT FROM v.column5
                    AND Genre IS NOT DISTINCT FROM v.column6
                    AND Director IS NOT DISTINCT FROM v.column7
                    AND Overview IS NOT DISTINCT FROM v.column8
                    AND Runtime IS NOT DISTINCT FROM v.column9
                    AND OriginalLanguage IS NOT DISTINCT FROM v.column10
                    AND Popularity IS NOT DISTINCT FROM v.column11
                    AND SearchKey IS NOT DISTINCT FROM v.column13
                    AND RatingFrom IS NOT DISTINCT FROM v.column14)",
        )?;
        *self = Self::new();
        Ok(())
    }
}

/// Ids a batch maps that the catalog did not know, each with its movie.
type NewIds<'b> = Vec<(&'b ExternalId, MovieId)>;

/// Where identity placed a record.
#[derive(Debug, Clone, Copy)]
struct Placed {
    movie: MovieId,
    kind: MatchKind,
}

impl Placed {
    /// Whether the record made its movie (which has no facts, attributes or records yet).
    fn created(&self) -> bool {
        matches!(self.kind, MatchKind::New | MatchKind::Ambiguous)
    }
}

/// The record the run keeps of a (movie, provider): the best of the film's records in the
/// input (see [`outranks`]). `seq` is its position in the current batch, `None` when an
/// earlier batch wrote it.
struct Kept {
    seq: Option<usize>,
    row: u64,
    votes: u64,
    rating: Option<f64>,
    title: String,
}

impl Load<'_> {
    /// The run this load records.
    pub fn run_id(&self) -> EtlRunId {
        self.run_id
    }

    /// Applies an identity overrides file to the records loaded from now on; `file` and
    /// `sha256` go to the run's lineage.
    pub fn apply_overrides(&mut self, overrides: Overrides, file: String, sha256: String) {
        self.identity.overrides = Some(OverridesApplied {
            file,
            sha256,
            rules: overrides.rules().len() as u64,
            applied: 0,
        });
        self.overrides = overrides;
    }

    /// The override rules naming an id that no movie has, even after this run's records: each
    /// line with the id.
    pub fn unknown_override_ids(&self) -> Result<Vec<(u64, ExternalId)>, StoreError> {
        let db = self.tx.db();
        let mut unknown = Vec::new();
        for rule in self.overrides.rules() {
            for id in &rule.ids {
                let found: bool = db.one(
                    "SELECT EXISTS (SELECT 1 FROM movie_ids WHERE namespace = ?1 AND external_id = ?2)",
                    args![id.namespace, id.value],
                )?;
                if !found {
                    unknown.push((rule.line, id.clone()));
                }
            }
        }
        Ok(unknown)
    }

    fn override_applied(&mut self) {
        if let Some(o) = self.identity.overrides.as_mut() {
            o.applied += 1;
        }
    }

    /// Resolves and writes a batch of clean movie records, set-based: the batch's ids and
    /// blocking keys are joined against the catalog as many-row lists and the candidates'
    /// facts read in two statements; [`identity`] decides record by record in memory (a record may be
    /// the film an earlier record of the batch made); then each table gets the batch's rows in
    /// a few many-row statements.
    pub fn put_movies(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let movies = &batch.movies;
        let (placed, ids) = self.resolve(movies, &batch.profiles, &batch.keys)?;
        let kept = self.dedupe(movies, &placed)?;
        self.write(movies, &batch.keys, &placed, &ids, &kept)
    }

    /// Places each record of the batch, in input order; returns the places and the ids the
    /// catalog does not map yet.
    fn resolve<'b>(
        &mut self,
        movies: &[Movie],
        profiles: &'b [Profile],
        keys: &'b [Vec<String>],
    ) -> Result<(Vec<Placed>, NewIds<'b>), StoreError> {
        // The ids a record is looked up by: its own, then those `merge` rules join to them.
        let lookups: Vec<Vec<ExternalId>> = profiles
            .iter()
            .map(|p| {
                let mut ids = p.ids.clone();
                for partner in self.overrides.partners(&p.ids) {
                    if !ids.contains(partner) {
                        ids.push(partner.clone());
                    }
                }
                ids
            })
            .collect();
        let (id_hits, key_hits) = self.stage(&lookups, keys)?;
        // Borrowed from the batch until a later record of it adds to them.
        let mut known: HashMap<MovieId, Cow<'b, Profile>> = self
            .candidate_profiles(key_hits.values().flatten())?
            .into_iter()
            .map(|(id, p)| (id, Cow::Owned(p)))
            .collect();
        // What the batch says of movies found by id whose stored facts are not read yet.
        let mut pending: HashMap<MovieId, Profile> = HashMap::new();
        let mut batch = BatchIndex::default();
        let mut placed = Vec::with_capacity(movies.len());
        let mut new_ids = Vec::new();
        for (seq, (m, profile)) in movies.iter().zip(profiles).enumerate() {
            let by_id = lookups[seq].iter().enumerate().find_map(|(ord, id)| {
                batch
                    .ids
                    .get(id)
                    .copied()
                    .or_else(|| id_hits.get(&(seq, ord)).copied())
                    .map(|movie| (ord, movie))
            });
            let place = match by_id {
                Some((ord, movie)) => {
                    if ord >= profile.ids.len() {
                        self.override_applied();
                    }
                    Placed {
                        movie,
                        kind: MatchKind::Id,
                    }
                }
                None => {
                    let mut ids: Vec<MovieId> = key_hits.get(&seq).cloned().unwrap_or_default();
                    for key in &keys[seq] {
                        let local = batch
                            .keys
                            .get(key.as_str())
                            .filter(|l| l.len() <= identity::MAX_BLOCK);
                        ids.extend(local.into_iter().flatten());
                    }
                    ids.sort_unstable();
                    ids.dedup();
                    let unknown: Vec<MovieId> = ids
                        .iter()
                        .filter(|id| !known.contains_key(id))
                        .copied()
                        .collect();
                    if !unknown.is_empty() {
                        for (id, mut stored) in self.candidate_profiles(unknown.iter())? {
                            if let Some(said) = pending.remove(&id) {
                                stored.merge(&said);
                            }
                            known.insert(id, Cow::Owned(stored));
                        }
                    }
                    let before = ids.len();
                    ids.retain(|id| {
                        known
                            .get(id)
                            .is_none_or(|p| !self.overrides.forbids(&profile.ids, &p.ids))
                    });
                    if ids.len() < before {
                        self.override_applied();
                    }
                    let decision = identity::decide(
                        profile,
                        ids.iter()
                            .filter_map(|id| known.get(id).map(|p| (*id, &**p))),
                        &Thresholds::DEFAULT,
                    );
                    self.place(m, decision)
                }
            };
            for (ord, i) in profile.ids.iter().enumerate() {
                if !id_hits.contains_key(&(seq, ord)) && !batch.ids.contains_key(i) {
                    batch.ids.insert(i, place.movie);
                    new_ids.push((i, place.movie));
                }
            }
            match known.get_mut(&place.movie) {
                Some(p) => p.to_mut().merge(profile),
                None if place.created() => {
                    known.insert(place.movie, Cow::Borrowed(profile));
                }
                None => pending.entry(place.movie).or_default().merge(profile),
            }
            for k in &keys[seq] {
                let list = batch.keys.entry(k.as_str()).or_default();
                if !list.contains(&place.movie) {
                    list.push(place.movie);
                }
            }
            placed.push(place);
        }
        Ok((placed, new_ids))
    }

    /// Joins the batch's ids and keys (as `VALUES` lists, no temporary rows) against the
    /// catalog.
    fn stage(
        &mut self,
        lookups: &[Vec<ExternalId>],
        keys: &[Vec<String>],
    ) -> Result<Staged, StoreError> {
        let mut ids = Rows::new(&[Ty::Int, Ty::Int, Ty::Text, Ty::Text]);
        for (seq, lookup) in lookups.iter().enumerate() {
            for (ord, id) in lookup.iter().enumerate() {
                ids.push([
                    (seq as i64).into(),
                    (ord as i64).into(),
                    id.namespace.as_str().into(),
                    id.value.as_str().into(),
                ]);
            }
        }
        let mut id_hits = HashMap::new();
        let db = self.tx.db();
        ids.run(
            &db,
            "SELECT v.column1, v.column2, i.MovieID FROM (",
            ") AS v JOIN movie_ids AS i ON i.namespace = v.column3 AND i.external_id = v.column4",
            |r| {
                id_hits.insert((seq(r.get(0)?)?, seq(r.get(1)?)?), r.get(2)?);
                Ok(())
            },
        )?;
        let placed: std::collections::HashSet<usize> =
            id_hits.keys().map(|(seq, _)| *seq).collect();
        let keys: Vec<(i64, &str)> = keys
            .iter()
            .enumerate()
            .filter(|(seq, _)| !placed.contains(seq))
            .flat_map(|(seq, k)| k.iter().map(move |k| (seq as i64, k.as_str())))
            .collect();
        let mut by_key = HashMap::new();
        for (owner, hits) in blocked(&db, &keys)? {
            by_key.insert(seq(owner)?, hits);
        }
        Ok((id_hits, by_key))
    }

    /// What identity knows of the candidate movies: every provider's facts and every id.
    fn candidate_profiles<'m>(
        &mut self,
        movies: impl Iterator<Item = &'m MovieId>,
    ) -> Result<HashMap<MovieId, Profile>, StoreError> {
        let mut wanted: Vec<MovieId> = movies.copied().collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(HashMap::new());
        }
        let list = serde_json::to_string(&wanted.iter().map(|m| m.0).collect::<Vec<_>>())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let db = self.tx.db();
        profiles(&db, in_id_list(&db), args![list])
    }

    /// The movie a decision makes of a record: the matched one, or a new one (listed for
    /// review when the decision says so), numbered here and written with the batch.
    fn place(&mut self, m: &Movie, decision: Decision) -> Placed {
        match decision {
            Decision::Match { movie, comparison } => Placed {
                movie,
                kind: if comparison.year == YearLevel::Same {
                    MatchKind::Title
                } else {
                    MatchKind::NearYear
                },
            },
            Decision::New => Placed {
                movie: self.next_movie(),
                kind: MatchKind::New,
            },
            Decision::Review { reason, candidates } => {
                let loaded_as = self.next_movie();
                self.identity.ambiguous.push(AmbiguousRecord {
                    provider: m.provider,
                    source_row: m.source_row,
                    title: m.title.as_str().to_owned(),
                    year: m.year,
                    reason: reason.as_str().to_owned(),
                    score: candidates.first().map(|(_, c)| c.score),
                    candidates: candidates.iter().map(|(id, _)| *id).collect(),
                    loaded_as,
                });
                Placed {
                    movie: loaded_as,
                    kind: MatchKind::Ambiguous,
                }
            }
        }
    }

    fn next_movie(&mut self) -> MovieId {
        let id = self.next_movie;
        self.next_movie.0 += 1;
        id
    }

    /// Keeps one record per film and provider of the input: the better of two records of the
    /// same film (see [`outranks`]); the other is a `duplicate` reject. Counts each film's
    /// first record in the identity report. Returns the kept records of the batch's films.
    fn dedupe(
        &mut self,
        movies: &[Movie],
        placed: &[Placed],
    ) -> Result<HashMap<(MovieId, Provider), Kept>, StoreError> {
        let mut kept: HashMap<(MovieId, Provider), Kept> = HashMap::new();
        // What earlier batches kept of the movies this one matched.
        let mut matched = Rows::new(&[Ty::Int, Ty::Text]);
        for (m, p) in movies.iter().zip(placed).filter(|(_, p)| !p.created()) {
            matched.push([p.movie.0.into(), m.provider.as_str().into()]);
        }
        matched.run(
            &self.tx.db(),
            "SELECT t.MovieID, t.provider, t.source_row, t.votes, t.rating, s.title FROM (",
            ") AS v JOIN etl_touched AS t ON t.MovieID = v.column1 AND t.provider = v.column2
             JOIN movie_sources AS s ON s.MovieID = t.MovieID AND s.provider = t.provider",
            |r| {
                kept.insert(
                    (r.get(0)?, r.get(1)?),
                    Kept {
                        seq: None,
                        row: r.get(2)?,
                        votes: r.get(3)?,
                        rating: r.get(4)?,
                        title: r.get(5)?,
                    },
                );
                Ok(())
            },
        )?;
        for (seq, (m, p)) in movies.iter().zip(placed).enumerate() {
            let this = Kept {
                seq: Some(seq),
                row: m.source_row,
                votes: m.votes.unwrap_or(0),
                rating: m.rating.map(|r| r.value()),
                title: m.title.as_str().to_owned(),
            };
            match kept.entry((p.movie, m.provider)) {
                Entry::Vacant(e) => {
                    self.identity.count(m.provider, p.kind);
                    e.insert(this);
                }
                Entry::Occupied(mut e) => {
                    let before = e.get();
                    if outranks(
                        (this.votes, this.rating, this.row),
                        (before.votes, before.rating, before.row),
                    ) {
                        let (votes, rating) = (this.votes, this.rating);
                        let lost = e.insert(this);
                        self.duplicate(lost.row, m.source_row, votes, rating, lost.title)?;
                    } else {
                        let (row, votes, rating) = (before.row, before.votes, before.rating);
                        self.duplicate(m.source_row, row, votes, rating, this.title)?;
                    }
                }
            }
        }
        Ok(kept)
    }

    /// Records a `duplicate` reject: row `loser` is the same film as row `winner`, whose
    /// votes and rating were kept.
    fn duplicate(
        &mut self,
        loser: u64,
        winner: u64,
        votes: u64,
        rating: Option<f64>,
        title: String,
    ) -> Result<(), StoreError> {
        self.duplicates += 1;
        if self.duplicate_examples.len() < 3 {
            self.duplicate_examples.push(Example {
                row: loser,
                raw_value: Some(title.clone()),
            });
        }
        let rating = rating.map_or_else(|| "none".to_owned(), |r| r.to_string());
        self.reject(&[Reject::new(
            loser,
            crate::domain::record::Field::Title,
            Reason::Duplicate,
            Some(&title),
            Some(format!(
                "same film as row {winner} (kept: {votes} votes, rating {rating})"
            )),
        )])
    }

    /// Writes what the batch resolved, a few many-row statements per table: the new movies,
    /// the newly mapped ids, the kept records' facts (unless they are what their provider said
    /// before) and, for those that changed, their lists; the blocking keys of every record
    /// not found by id or whose facts changed; and what the run touched.
    fn write(
        &mut self,
        movies: &[Movie],
        keys: &[Vec<String>],
        placed: &[Placed],
        ids: &[(&ExternalId, MovieId)],
        kept: &HashMap<(MovieId, Provider), Kept>,
    ) -> Result<(), StoreError> {
        let run = self.run_id.0;
        // A new movie's row is written as settling would derive it from the record it keeps,
        // so settling finds nothing to change unless a later record of the run does.
        let mut created = Rows::new(&[
            Ty::Int,
            Ty::Text,
            Ty::Int,
            Ty::Text,
            Ty::Text,
            Ty::Real,
            Ty::Int,
            Ty::Text,
            Ty::Text,
            Ty::Text,
            Ty::Int,
            Ty::Text,
            Ty::Real,
            Ty::Text,
            Ty::Text,
            Ty::Int,
            Ty::Int,
        ]);
        let mut genres = Rows::new(&[Ty::Int, Ty::Int]);
        let mut presettled: HashSet<MovieId> = HashSet::new();
        for (m, p) in movies.iter().zip(placed).filter(|(_, p)| p.created()) {
            let m = kept
                .get(&(p.movie, m.provider))
                .and_then(|k| k.seq)
                .map_or(m, |seq| &movies[seq]);
            let d = derive_one(m, &self.policy);
            let narrow = (u32::try_from(p.movie.0), i16::try_from(d.release_year));
            if let (true, Ok(movie), Ok(year)) = (d.conflicts.is_empty(), narrow.0, narrow.1) {
                if let Some(supplied) = self.supplied.intern(&d.supplied_by) {
                    self.presettled.push(Presettled {
                        movie,
                        rating: d.rating.unwrap_or(f64::NAN),
                        year,
                        supplied,
                    });
                    presettled.insert(p.movie);
                }
            }
            for g in &d.genres {
                genres.push([p.movie.0.into(), g.id().into()]);
            }
            created.push([
                p.movie.0.into(),
                d.title.into(),
                d.release_year.into(),
                d.title_key.into(),
                nullable(d.release_date),
                nullable(d.rating),
                nullable(d.votes.map(|v| v as i64)),
                nullable(d.genre),
                nullable(d.director),
                nullable(d.overview),
                nullable(d.runtime),
                nullable(d.language),
                nullable(d.popularity),
                d.search_key.into(),
                text(d.rating_from.code()),
                run.into(),
                run.into(),
            ]);
        }
        let db = self.tx.db();
        created.execute(
            &db,
            "INSERT INTO Movies (MovieID, Title, ReleaseYear, TitleKey, ReleaseDate, Rating, Votes,
                                 Genre, Director, Overview, Runtime, OriginalLanguage, Popularity,
                                 SearchKey, RatingFrom, CreatedRunId, UpdatedRunId)",
            "",
        )?;
        genres.execute(&db, "INSERT INTO catalog_genres (MovieID, genre_id)", "")?;
        let mut mapped = Rows::new(&[Ty::Text, Ty::Text, Ty::Int, Ty::Int]);
        for (id, movie) in ids {
            mapped.push([
                id.namespace.as_str().into(),
                id.value.as_str().into(),
                movie.0.into(),
                run.into(),
            ]);
        }
        mapped.execute(
            &db,
            "INSERT INTO movie_ids (namespace, external_id, MovieID, run_id)",
            "ON CONFLICT DO NOTHING",
        )?;
        let mut winners: Vec<usize> = kept.values().filter_map(|k| k.seq).collect();
        winners.sort_unstable();
        let made_here: HashSet<MovieId> = placed
            .iter()
            .filter(|p| p.created())
            .map(|p| p.movie)
            .collect();
        let changed = self.write_facts(movies, placed, &winners, &made_here)?;
        let rewritten: Vec<usize> = winners
            .iter()
            .copied()
            .filter(|&seq| changed.contains(&(placed[seq].movie, movies[seq].provider)))
            .collect();
        self.write_attributes(movies, placed, &rewritten, &made_here)?;
        let mut block = Rows::new(&[Ty::Text, Ty::Int]);
        let mut touched = Rows::new(&[
            Ty::Int,
            Ty::Text,
            Ty::Int,
            Ty::Int,
            Ty::Real,
            Ty::Int,
            Ty::Int,
        ]);
        for (seq, (m, p)) in movies.iter().zip(placed).enumerate() {
            let key = (p.movie, m.provider);
            let wins = kept.get(&key).is_some_and(|k| k.seq == Some(seq));
            let changed = wins && changed.contains(&key);
            // A record found by id whose facts are as they were has its keys mapped already.
            if changed || p.kind != MatchKind::Id {
                for k in &keys[seq] {
                    block.push([k.as_str().into(), p.movie.0.into()]);
                }
            }
            if wins {
                let outcome = if made_here.contains(&p.movie) {
                    INSERTED
                } else if changed {
                    UPDATED
                } else {
                    UNCHANGED
                };
                touched.push([
                    p.movie.0.into(),
                    m.provider.as_str().into(),
                    (m.source_row as i64).into(),
                    (m.votes.unwrap_or(0) as i64).into(),
                    nullable(m.rating.map(|r| r.value())),
                    outcome.into(),
                    i64::from(presettled.contains(&p.movie)).into(),
                ]);
            }
        }
        let db = self.tx.db();
        block.execute(
            &db,
            "INSERT INTO movie_keys (key, MovieID)",
            "ON CONFLICT DO NOTHING",
        )?;
        touched.execute(
            &db,
            "INSERT INTO etl_touched (MovieID, provider, source_row, votes, rating, outcome,
                                      settled)",
            "ON CONFLICT (MovieID, provider) DO UPDATE SET source_row = excluded.source_row,
                 votes = excluded.votes, rating = excluded.rating,
                 outcome = CASE WHEN excluded.outcome > etl_touched.outcome
                                THEN excluded.outcome ELSE etl_touched.outcome END,
                 settled = 0",
        )
    }

    /// Writes the kept records' facts under their provider unless they are what it said
    /// before; returns the (movie, provider) pairs written. A MovieLens record's rating and
    /// votes are its users' (see `set_rating_facts`), so its movie record leaves them as they
    /// are.
    fn write_facts(
        &mut self,
        movies: &[Movie],
        placed: &[Placed],
        winners: &[usize],
        made_here: &HashSet<MovieId>,
    ) -> Result<HashSet<(MovieId, Provider)>, StoreError> {
        // A movie this batch made has no facts yet: its records are plain inserts, with no
        // conflict to look for and nothing to return.
        const FACTS: &[Ty] = &[
            Ty::Int,
            Ty::Text,
            Ty::Text,
            Ty::Text,
            Ty::Int,
            Ty::Text,
            Ty::Real,
            Ty::Real,
            Ty::Int,
            Ty::Text,
            Ty::Text,
            Ty::Int,
            Ty::Text,
            Ty::Real,
            Ty::Text,
            Ty::Text,
            Ty::Int,
            Ty::Int,
            Ty::Int,
            Ty::Text,
        ];
        let mut fresh = Rows::new(FACTS);
        let mut facts = Rows::new(FACTS);
        let mut written = HashSet::new();
        for &seq in winners {
            let m = &movies[seq];
            let directors = (!m.directors.is_empty()).then(|| m.directors.join(", "));
            let rows = if made_here.contains(&placed[seq].movie) {
                written.insert((placed[seq].movie, m.provider));
                &mut fresh
            } else {
                &mut facts
            };
            rows.push([
                placed[seq].movie.0.into(),
                m.provider.as_str().into(),
                m.title.as_str().into(),
                m.title.key().into(),
                m.year.into(),
                nullable(m.release_date.map(|d| d.to_string())),
                nullable(m.rating.map(|r| r.value())),
                m.provider.scale().into(),
                nullable(m.votes.map(|v| v as i64)),
                nullable(directors),
                nullable(m.overview.as_deref()),
                nullable(m.runtime),
                nullable(m.language.as_deref()),
                nullable(m.popularity),
                nullable(m.certification.as_deref()),
                nullable(m.creative_type.as_deref()),
                attributes_fingerprint(m).into(),
                (m.source_row as i64).into(),
                self.run_id.0.into(),
                nullable(m.original_title.as_ref().map(Title::as_str)),
            ]);
        }
        // `s`: the stored row (PostgreSQL would find a bare column name ambiguous below).
        let insert =
            "INSERT INTO movie_sources AS s (MovieID, provider, title, title_key, release_year,
                 release_date, rating, scale, votes, director, overview, runtime, language,
                 popularity, certification, creative_type, attributes, source_row, run_id,
                 original_title)";
        let db = self.tx.db();
        fresh.execute(&db, insert, "")?;
        facts.run(
            &db,
            insert,
            "ON CONFLICT (MovieID, provider) DO UPDATE SET
                 title = excluded.title, title_key = excluded.title_key,
                 original_title = excluded.original_title,
                 release_year = excluded.release_year, release_date = excluded.release_date,
                 rating = CASE WHEN s.provider = 'movielens' THEN s.rating
                          ELSE excluded.rating END,
                 scale = excluded.scale,
                 votes = CASE WHEN s.provider = 'movielens' THEN s.votes ELSE excluded.votes END,
                 director = excluded.director, overview = excluded.overview,
                 runtime = excluded.runtime, language = excluded.language,
                 popularity = excluded.popularity, certification = excluded.certification,
                 creative_type = excluded.creative_type, attributes = excluded.attributes,
                 source_row = excluded.source_row, run_id = excluded.run_id
             WHERE NOT (s.title IS NOT DISTINCT FROM excluded.title
                 AND s.release_year IS NOT DISTINCT FROM excluded.release_year
                 AND s.original_title IS NOT DISTINCT FROM excluded.original_title
                 AND s.release_date IS NOT DISTINCT FROM excluded.release_date
                 AND (s.provider = 'movielens'
                      OR (s.rating IS NOT DISTINCT FROM excluded.rating
                          AND s.votes IS NOT DISTINCT FROM excluded.votes))
                 AND s.director IS NOT DISTINCT FROM excluded.director
                 AND s.overview IS NOT DISTINCT FROM excluded.overview
                 AND s.runtime IS NOT DISTINCT FROM excluded.runtime
                 AND s.language IS NOT DISTINCT FROM excluded.language
                 AND s.popularity IS NOT DISTINCT FROM excluded.popularity
                 AND s.certification IS NOT DISTINCT FROM excluded.certification
                 AND s.creative_type IS NOT DISTINCT FROM excluded.creative_type
                 AND s.attributes IS NOT DISTINCT FROM excluded.attributes)
             RETURNING MovieID, provider",
            |r| {
                written.insert((r.get(0)?, r.get(1)?));
                Ok(())
            },
        )?;
        Ok(written)
    }

    /// Replaces the providers' genres, keywords and people of the records whose facts were
    /// written (a movie made in this batch has none to replace).
    fn write_attributes(
        &mut self,
        movies: &[Movie],
        placed: &[Placed],
        records: &[usize],
        made_here: &HashSet<MovieId>,
    ) -> Result<(), StoreError> {
        let mut old = Rows::new(&[Ty::Int, Ty::Text]);
        let mut genres = Rows::new(&[Ty::Int, Ty::Text, Ty::Int]);
        let mut keywords = Rows::new(&[Ty::Int, Ty::Text, Ty::Int]);
        let mut people = Rows::new(&[Ty::Int, Ty::Text, Ty::Text, Ty::Int, Ty::Int]);
        let written = || records.iter().map(|&seq| &movies[seq]);
        let db = self.tx.db();
        self.keywords.resolve(
            &db,
            written().flat_map(|m| m.keywords.iter().map(String::as_str)),
        )?;
        self.people.resolve(
            &db,
            written().flat_map(|m| {
                crew(m)
                    .into_iter()
                    .flat_map(|(_, l)| l.iter().map(String::as_str))
            }),
        )?;
        for &seq in records {
            let (m, movie) = (&movies[seq], placed[seq].movie.0);
            let provider = m.provider.as_str();
            if !made_here.contains(&placed[seq].movie) {
                old.push([movie.into(), provider.into()]);
            }
            for g in &m.genres {
                genres.push([movie.into(), provider.into(), g.id().into()]);
            }
            for k in &m.keywords {
                keywords.push([movie.into(), provider.into(), self.keywords.id(k)?.into()]);
            }
            for (role, list) in crew(m) {
                for (position, name) in list.iter().enumerate() {
                    people.push([
                        movie.into(),
                        provider.into(),
                        role.into(),
                        (position as i64).into(),
                        self.people.id(name)?.into(),
                    ]);
                }
            }
        }
        for table in ["movie_genres", "movie_keywords", "movie_people"] {
            old.execute(
                &db,
                &format!("DELETE FROM {table} WHERE (MovieID, provider) IN ("),
                ")",
            )?;
        }
        genres.execute(
            &db,
            "INSERT INTO movie_genres (MovieID, provider, genre_id)",
            "",
        )?;
        keywords.execute(
            &db,
            "INSERT INTO movie_keywords (MovieID, provider, keyword_id)",
            "ON CONFLICT DO NOTHING",
        )?;
        people.execute(
            &db,
            "INSERT INTO movie_people (MovieID, provider, role, position, person_id)",
            "",
        )
    }

    /// Names the file of a multi-file input that the next records and rejects come from.
    pub fn set_file(&mut self, file: &str) {
        file.clone_into(&mut self.file);
    }

    /// Stores a batch of problems of rejected rows of the current file.
    pub fn reject(&mut self, rejects: &[Reject]) -> Result<(), StoreError> {
        let db = self.tx.db();
        for r in rejects {
            db.execute(
                "INSERT INTO etl_rejects (run_id, file, source_row, field, reason, raw_value,
                                          raw_bytes, raw_sha256, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                args![
                    self.run_id,
                    self.file,
                    r.source_row,
                    r.field,
                    r.reason,
                    r.raw_value,
                    r.raw_bytes,
                    r.raw_sha256,
                    r.detail
                ],
            )?;
        }
        Ok(())
    }

    /// Derives the `Movies` row of every movie the run touched from all providers' facts (see
    /// [`crate::domain::derive`]), [`Settled::FLUSH`] movies at a time in MovieID order, writes
    /// the rows that change, and sums up the run. `on_loaded(rating, year)` sees each such
    /// movie.
    pub fn settle(
        &mut self,
        mut on_loaded: impl FnMut(Option<f64>, i32),
    ) -> Result<LoadSummary, StoreError> {
        self.flush_ratings()?;
        self.merge_duplicates()?;
        let db = self.tx.db();
        let mut sums = Sums::default();
        // The movies derived at insert that are still as `write` left them: summed up, not read.
        let mut presettled = std::mem::take(&mut self.presettled);
        presettled.sort_unstable_by_key(|p| p.movie);
        let mut presettled = presettled.into_iter().peekable();
        db.for_each(
            "SELECT MovieID FROM etl_touched WHERE settled = 1 ORDER BY MovieID",
            args![],
            |r| {
                let movie: MovieId = r.get(0)?;
                while presettled
                    .next_if(|p| i64::from(p.movie) < movie.0)
                    .is_some()
                {}
                if let Some(p) = presettled.next_if(|p| i64::from(p.movie) == movie.0) {
                    sums.supplied(&self.supplied.lists[usize::from(p.supplied)]);
                    on_loaded(p.rating(), i32::from(p.year));
                }
                Ok(())
            },
        )?;
        let mut settled = Settled::new();
        let mut after = MovieId(0);
        loop {
            // The next range of movies to derive: each read whole (a bounded range), then
            // derived and written before the next is read, as either engine allows.
            let last: Option<MovieId> = db.one(
                "SELECT MAX(MovieID) FROM (SELECT MovieID FROM etl_touched
                                           WHERE settled = 0 AND MovieID > ?1
                                           ORDER BY MovieID LIMIT ?2) AS next",
                args![after, Settled::FLUSH],
            )?;
            let Some(last) = last else { break };
            let range = args![after, last];
            let mut genres: HashMap<MovieId, Vec<(Provider, Genre)>> = HashMap::new();
            db.for_each(
                "SELECT MovieID, provider, genre_id FROM movie_genres
                 WHERE MovieID > ?1 AND MovieID <= ?2
                   AND MovieID IN (SELECT MovieID FROM etl_touched
                                   WHERE settled = 0 AND MovieID > ?1 AND MovieID <= ?2)
                 ORDER BY MovieID, provider, genre_id",
                range,
                |r| {
                    let id: i64 = r.get(2)?;
                    if let Some(g) = Genre::ALL.into_iter().find(|g| g.id() == id) {
                        genres.entry(r.get(0)?).or_default().push((r.get(1)?, g));
                    }
                    Ok(())
                },
            )?;
            let mut movies: Vec<(MovieId, Stored, Vec<ProviderFacts>)> = Vec::new();
            db.for_each(
                "SELECT s.MovieID, s.provider, s.title, s.title_key, s.release_year,
                        s.release_date, s.rating, s.scale, s.votes, s.director, s.overview,
                        s.runtime, s.language, s.popularity, m.Genre, m.TitleKey, m.ReleaseYear
                 FROM movie_sources AS s JOIN Movies AS m USING (MovieID)
                 WHERE s.MovieID > ?1 AND s.MovieID <= ?2
                   AND s.MovieID IN (SELECT MovieID FROM etl_touched
                                     WHERE settled = 0 AND MovieID > ?1 AND MovieID <= ?2)
                 ORDER BY s.MovieID",
                range,
                |r| {
                    let movie: MovieId = r.get(0)?;
                    if movies.last().is_none_or(|(m, _, _)| *m != movie) {
                        let stored = Stored {
                            genre: r.get(14)?,
                            title_key: r.get(15)?,
                            year: r.get(16)?,
                        };
                        movies.push((movie, stored, Vec::new()));
                    }
                    if let Some((_, _, group)) = movies.last_mut() {
                        group.push(ProviderFacts {
                            provider: r.get(1)?,
                            title: r.get(2)?,
                            title_key: r.get(3)?,
                            release_year: r.get(4)?,
                            release_date: r.get(5)?,
                            rating: r.get(6)?,
                            scale: r.get(7)?,
                            votes: r.get(8)?,
                            director: r.get(9)?,
                            overview: r.get(10)?,
                            runtime: r.get(11)?,
                            language: r.get(12)?,
                            popularity: r.get(13)?,
                        });
                    }
                    Ok(())
                },
            )?;
            for (movie, stored, group) in movies {
                let of_movie = genres.remove(&movie).unwrap_or_default();
                let d = derive(&group, &of_movie, &self.policy);
                sums.supplied(&d.supplied_by);
                ConflictGroup::add_all(&mut sums.conflicts, movie, &d.title, &d.conflicts);
                on_loaded(d.rating, d.release_year);
                settled.add(movie, stored, d, self.run_id);
            }
            settled.write(&db)?;
            after = last;
        }
        let count = |outcome: i64| -> Result<u64, StoreError> {
            db.one(
                "SELECT COUNT(*) FROM etl_touched WHERE outcome = ?1",
                args![outcome],
            )
        };
        let counts = LoadCounts {
            inserted: count(INSERTED)?,
            updated: count(UPDATED)?,
            unchanged: count(UNCHANGED)?,
        };
        db.batch("DROP TABLE etl_touched")?;
        Ok(LoadSummary {
            counts,
            loaded: sums.loaded,
            duplicates: self.duplicates,
            duplicate_examples: std::mem::take(&mut self.duplicate_examples),
            identity: std::mem::take(&mut self.identity),
            supplied_by: sums.supplied_by,
            conflicts: sums.conflicts,
        })
    }

    /// Writes the run's final lineage (the input's hash and snapshot are known only once it has
    /// streamed past), counts and audit report, then commits everything at once.
    pub fn commit(
        mut self,
        run: &RunStart,
        report: &AuditReport,
        finished_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.flush_ratings()?;
        let c = &report.counts;
        let json = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
        self.tx.db().execute(
            "UPDATE etl_runs SET finished_at = ?2, extracted = ?3, loaded = ?4, inserted = ?5,
                    updated = ?6, unchanged = ?7, rejected = ?8, rejects_by_reason = ?9,
                    audit_json = ?10, source_sha256 = ?11, snapshot_path = ?12
             WHERE run_id = ?1",
            args![
                self.run_id,
                timestamp(finished_at),
                c.extracted,
                c.loaded,
                c.inserted,
                c.updated,
                c.unchanged,
                c.rejected,
                serde_json::to_string(&report.rejects_by_reason()).map_err(json)?,
                serde_json::to_string(report).map_err(json)?,
                run.sha256,
                run.snapshot,
            ],
        )?;
        self.tx.db().notify_change()?;
        self.tx.commit()
    }
}

/// A record's position in its batch, as staged.
fn seq(i: i64) -> Result<usize, StoreError> {
    usize::try_from(i).map_err(|_| StoreError::Corrupt(format!("no record {i} in the batch")))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::catalog::CatalogQuery;
    use crate::domain::etl::SourceFormat;
    use crate::domain::genre::Genre;
    use crate::domain::movie::Rating;
    use crate::domain::source::Namespace;

    fn movie(provider: Provider, row: u64, title: &str, year: i32, rating: f64) -> Movie {
        let mut m = Movie::new(provider, Title::parse(title).expect("title"), year, row);
        m.rating = Rating::new(rating);
        m
    }

    fn tmdb(row: u64, id: u32, title: &str, year: i32, rating: f64, votes: u64) -> Movie {
        let mut m = movie(Provider::Tmdb, row, title, year, rating);
        m.ids = vec![ExternalId::new(Namespace::Tmdb, id.to_string())];
        m.votes = Some(votes);
        m
    }

    pub(in crate::store) fn start() -> RunStart {
        RunStart {
            source: "test".into(),
            format: SourceFormat::Csv,
            sha256: None,
            snapshot: None,
            started_at: chrono::Utc::now(),
        }
    }

    pub(in crate::store) fn load_with(
        store: &mut Store,
        policy: &RatingPolicy,
        movies: &[Movie],
    ) -> LoadSummary {
        let mut load = store.begin_load(&start(), policy).expect("begin");
        load.put_movies(&Batch::new(movies.to_vec())).expect("put");
        let summary = load.settle(|_, _| {}).expect("settle");
        load.commit(&start(), &AuditReport::default(), chrono::Utc::now())
            .expect("commit");
        summary
    }

    fn load(store: &mut Store, movies: &[Movie]) -> LoadSummary {
        load_with(store, &RatingPolicy::VoteWeighted, movies)
    }

    /// The catalog as (title, year, rating, votes), by MovieID.
    fn catalog(store: &Store) -> Vec<(String, i32, Option<f64>, Option<u64>)> {
        let (rows, _) = store
            .movies_page(&CatalogQuery {
                limit: 100,
                ..CatalogQuery::default()
            })
            .expect("page");
        rows.into_iter()
            .map(|m| (m.title, m.release_year, m.rating, m.votes))
            .collect()
    }

    fn store() -> (crate::store::testing::Scratch, Store) {
        crate::store::testing::fresh()
    }

    #[test]
    fn dedupe_keeps_the_record_with_most_votes_and_rejects_the_others() {
        let (_dir, mut store) = store();
        let mut a = movie(Provider::File, 1, "Heat", 1995, 8.2);
        a.votes = Some(10);
        let mut b = movie(Provider::File, 2, "HEAT ", 1995, 8.0);
        b.votes = Some(500);
        let mut c = movie(Provider::File, 3, "Heat", 1986, 5.0);
        c.votes = Some(1);
        let summary = load(&mut store, &[a, b, c]);
        assert_eq!((summary.duplicates, summary.loaded), (1, 2));
        assert_eq!(
            catalog(&store),
            [
                ("HEAT".to_owned(), 1995, Some(8.0), Some(500)),
                ("Heat".to_owned(), 1986, Some(5.0), Some(1))
            ]
        );
        let (rejects, _) = store.etl_rejects(EtlRunId(1), 10, 0).expect("rejects");
        assert_eq!(rejects.len(), 1);
        assert_eq!(
            (rejects[0].source_row, rejects[0].reason),
            (1, Reason::Duplicate)
        );
        assert!(rejects[0]
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("row 2")));
    }

    #[test]
    fn dedupe_survivor_does_not_depend_on_input_order() {
        for order in [[1, 2], [2, 1]] {
            let (_dir, mut store) = store();
            let rows: Vec<Movie> = order
                .iter()
                .map(|&r| {
                    let title = if r == 1 { "Crash" } else { "crash" };
                    movie(Provider::File, r, title, 2004, 7.0)
                })
                .collect();
            load(&mut store, &rows);
            assert_eq!(
                catalog(&store),
                [("Crash".to_owned(), 2004, Some(7.0), None)],
                "order {order:?}"
            );
        }
    }

    #[test]
    fn a_reload_counts_unchanged_and_updated_records_and_writes_only_changes() {
        let (_dir, mut store) = store();
        let first = [
            movie(Provider::File, 1, "Alien", 1979, 8.5),
            movie(Provider::File, 2, "Aliens", 1986, 8.4),
        ];
        let summary = load(&mut store, &first);
        assert_eq!(
            summary.counts,
            LoadCounts {
                inserted: 2,
                updated: 0,
                unchanged: 0
            }
        );
        let second = [
            movie(Provider::File, 1, "Alien", 1979, 8.5),
            movie(Provider::File, 2, "Aliens", 1986, 8.3),
            movie(Provider::File, 3, "Alien 3", 1992, 6.4),
        ];
        let summary = load(&mut store, &second);
        assert_eq!(
            summary.counts,
            LoadCounts {
                inserted: 1,
                updated: 1,
                unchanged: 1
            }
        );
        let alien = store.movie(MovieId(1)).expect("query").expect("movie");
        assert_eq!(alien.rating, Some(8.5));
        let updated_by: i64 = store
            .db()
            .one("SELECT UpdatedRunId FROM Movies WHERE MovieID = 1", &[])
            .expect("row");
        assert_eq!(updated_by, 1, "an unchanged movie keeps its lineage");
    }

    #[test]
    fn two_tmdb_films_with_one_title_and_year_stay_two_movies() {
        let (_dir, mut store) = store();
        let summary = load(
            &mut store,
            &[
                tmdb(1, 10, "Crash", 2004, 7.0, 100),
                tmdb(2, 20, "Crash", 2004, 5.0, 10),
            ],
        );
        assert_eq!(summary.counts.inserted, 2);
        assert_eq!(summary.duplicates, 0);
        assert_eq!(catalog(&store).len(), 2);
        // And each keeps its identity on a reload, whatever the order.
        let summary = load(
            &mut store,
            &[
                tmdb(1, 20, "Crash", 2004, 5.0, 10),
                tmdb(2, 10, "Crash", 2004, 7.0, 100),
            ],
        );
        assert_eq!(summary.counts.unchanged, 2);
        assert_eq!(summary.identity.providers[&Provider::Tmdb].matched_by_id, 2);
    }

    #[test]
    fn a_second_provider_adds_its_facts_without_changing_the_first() {
        let (_dir, mut store) = store();
        let mut vega = movie(Provider::Vega, 1, "Titanic", 1997, 7.4);
        vega.votes = Some(240_732);
        vega.genres = vec![Genre::Thriller];
        vega.directors = vec!["James Cameron".into()];
        load(&mut store, &[vega.clone()]);
        let mut t = tmdb(1, 597, "Titanic", 1997, 7.5, 7562);
        t.genres = vec![Genre::Drama, Genre::Romance];
        t.overview = Some("A ship.".into());
        let summary = load(&mut store, &[t.clone()]);
        assert_eq!(
            summary.identity.providers[&Provider::Tmdb].matched_by_title,
            1
        );
        assert_eq!(summary.counts.updated, 1);
        let vega_fact: (f64, i64) = store
            .db()
            .query_row(
                "SELECT rating, votes FROM movie_sources WHERE provider = 'vega'",
                &[],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("query")
            .expect("vega fact");
        assert_eq!(vega_fact, (7.4, 240_732), "vega's fact is untouched");
        let m = store.movie(MovieId(1)).expect("query").expect("movie");
        let weighted = (7.4 * 240_732.0 + 7.5 * 7562.0) / (240_732.0 + 7562.0);
        assert_eq!(m.rating, Some((weighted * 100.0_f64).round() / 100.0));
        assert_eq!(m.votes, Some(240_732 + 7562));
        assert_eq!(
            m.genre.as_deref(),
            Some("Drama|Romance"),
            "TMDB's genres overrule vega's"
        );
        assert_eq!(m.director.as_deref(), Some("James Cameron"));
        assert_eq!(summary.supplied_by["rating"]["several"], 1);
        assert_eq!(summary.supplied_by["director"]["vega"], 1);
        // Under a priority policy vega's rating is the catalog's.
        let vega_first = RatingPolicy::Priority(vec![Provider::Vega, Provider::Tmdb]);
        load_with(&mut store, &vega_first, &[t]);
        let m = store.movie(MovieId(1)).expect("query").expect("movie");
        assert_eq!((m.rating, m.votes), (Some(7.4), Some(240_732)));
    }

    #[test]
    fn title_matches_one_year_apart_only_when_unique_and_lists_the_ambiguous() {
        let (_dir, mut store) = store();
        load(
            &mut store,
            &[
                movie(Provider::Vega, 1, "Heat", 1995, 8.2),
                movie(Provider::Vega, 2, "Twins", 1988, 6.0),
                movie(Provider::Vega, 3, "Twins", 1990, 5.0),
            ],
        );
        let summary = load(
            &mut store,
            &[
                tmdb(1, 949, "Heat", 1996, 7.9, 3000),
                tmdb(2, 9493, "Twins", 1989, 6.1, 900),
            ],
        );
        let counts = &summary.identity.providers[&Provider::Tmdb];
        assert_eq!((counts.matched_by_near_year, counts.ambiguous), (1, 1));
        let listed = &summary.identity.ambiguous;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].title, "Twins");
        assert_eq!(listed[0].candidates, [MovieId(2), MovieId(3)]);
        assert_eq!(listed[0].loaded_as, MovieId(4));
        assert_eq!(
            catalog(&store).len(),
            4,
            "the ambiguous record is not merged"
        );
    }

    #[test]
    fn the_genres_table_is_the_vocabulary() {
        let (_dir, store) = store();
        let rows: Vec<(i64, String)> = store
            .db()
            .query(
                "SELECT genre_id, name FROM genres ORDER BY genre_id",
                &[],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("rows");
        let vocabulary: Vec<(i64, String)> = Genre::ALL
            .iter()
            .map(|g| (g.id(), g.name().to_owned()))
            .collect();
        assert_eq!(rows, vocabulary);
    }

    /// The load writes without foreign-key checks (KeyChecks::Off): every reference it
    /// writes still holds, and the connection checks again afterwards, committed or not.
    #[test]
    fn a_load_leaves_every_reference_whole_and_the_key_checks_back_on() {
        let (_dir, mut store) = store();
        let mut heat = tmdb(1, 949, "Heat", 1995, 8.0, 100);
        heat.genres = vec![Genre::Crime, Genre::Thriller];
        heat.directors = vec!["Michael Mann".into()];
        heat.cast = vec!["Al Pacino".into(), "Robert De Niro".into()];
        heat.keywords = vec!["heist".into()];
        let mut vega = movie(Provider::Vega, 2, "Heat", 1995, 7.9);
        vega.directors = vec!["Michael Mann".into()];
        vega.genres = vec![Genre::Crime];
        load(&mut store, &[heat, vega]);
        {
            let mut dropped = store
                .begin_load(&start(), &RatingPolicy::VoteWeighted)
                .expect("begin");
            let ronin = movie(Provider::File, 1, "Ronin", 1998, 7.0);
            dropped.put_movies(&Batch::new(vec![ronin])).expect("put");
        }
        let db = store.db();
        assert!(crate::store::testing::key_checks_on(&db).expect("checks"));
        let broken = crate::store::testing::broken_keys(&db).expect("check");
        assert_eq!(broken, Vec::<String>::new());
        let titles: Vec<String> = catalog(&store).into_iter().map(|m| m.0).collect();
        assert_eq!(titles, vec!["Heat".to_owned()]);
    }

    #[test]
    fn zero_vote_ratings_never_reach_the_catalog() {
        let (_dir, mut store) = store();
        let mut unrated = tmdb(1, 5, "Quiet", 2020, 0.0, 0);
        unrated.rating = None;
        load(&mut store, &[unrated]);
        assert_eq!(catalog(&store)[0].2, None);
    }

    #[test]
    fn a_repaired_title_still_finds_the_movie_its_garbled_spelling_made() {
        let (_dir, mut store) = store();
        // What a load before text repair stored: the garbled title, keyed by it.
        load(&mut store, &[movie(Provider::Vega, 1, "LÈon", 1994, 8.5)]);
        let mut repaired = movie(Provider::Vega, 1, "Léon", 1994, 8.5);
        repaired.unrepaired_title = Title::parse("LÈon");
        let summary = load(&mut store, &[repaired]);
        assert_eq!(summary.identity.providers[&Provider::Vega].matched_by_id, 1);
        assert_eq!(
            catalog(&store),
            [("Léon".to_owned(), 1994, Some(8.5), None)]
        );
    }

    #[test]
    fn spellings_of_one_film_from_two_sources_become_one_movie_and_remakes_do_not() {
        let (_dir, mut store) = store();
        load(
            &mut store,
            &[
                movie(Provider::Vega, 1, "Star Wars Ep. IV: A New Hope", 1977, 8.8),
                movie(Provider::Vega, 2, "Beetle Juice", 1988, 7.3),
                movie(Provider::Vega, 3, "Psycho", 1960, 8.6),
            ],
        );
        let summary = load(
            &mut store,
            &[
                tmdb(1, 11, "Star Wars", 1977, 8.1, 6778),
                tmdb(2, 4011, "Beetlejuice", 1988, 7.0, 1999),
                tmdb(3, 11252, "Psycho", 1998, 4.9, 300),
            ],
        );
        let counts = &summary.identity.providers[&Provider::Tmdb];
        assert_eq!((counts.matched_by_title, counts.new), (2, 1), "{counts:?}");
        let titles: Vec<(String, i32)> = catalog(&store).into_iter().map(|m| (m.0, m.1)).collect();
        assert_eq!(
            titles,
            [
                ("Star Wars".to_owned(), 1977),
                ("Beetlejuice".to_owned(), 1988),
                ("Psycho".to_owned(), 1960),
                ("Psycho".to_owned(), 1998)
            ]
        );
    }

    #[test]
    fn search_forgives_accents_spacing_and_punctuation() {
        let (_dir, mut store) = store();
        load(
            &mut store,
            &[
                movie(
                    Provider::Vega,
                    1,
                    "Le Fabuleux destin d'Amélie Poulain",
                    2001,
                    8.5,
                ),
                movie(Provider::Vega, 2, "WarGames", 1983, 7.1),
                movie(Provider::Vega, 3, "E.T. the Extra-Terrestrial", 1982, 7.9),
                movie(Provider::Vega, 4, "Heat", 1995, 8.2),
            ],
        );
        let found = |q: &str| -> Vec<String> {
            let (rows, _) = store
                .movies_page(&CatalogQuery::search(q, 10))
                .expect("search");
            rows.into_iter().map(|m| m.title).collect()
        };
        assert_eq!(found("amelie"), ["Le Fabuleux destin d'Amélie Poulain"]);
        assert_eq!(found("war games"), ["WarGames"]);
        assert_eq!(found("wargames"), ["WarGames"]);
        assert_eq!(found("et the extra"), ["E.T. the Extra-Terrestrial"]);
        assert_eq!(found("HEAT"), ["Heat"]);
        assert!(found("zzz").is_empty());
        assert_eq!(
            found("the").len(),
            1,
            "a bare article matches the title text only"
        );
    }

    /// Spellings of a few films as vega (no ids) and TMDB (ids) might write them.
    const FILMS: [(&[&str], i32, u32); 5] = [
        (
            &[
                "Star Wars: Episode IV - A New Hope",
                "Star Wars Ep. IV: A New Hope",
            ],
            1977,
            11,
        ),
        (&["Beetlejuice", "Beetle Juice", "BEETLEJUICE"], 1988, 4011),
        (
            &["E.T. the Extra-Terrestrial", "ET: The Extra-Terrestrial"],
            1982,
            601,
        ),
        (&["WarGames", "War Games"], 1983, 860),
        (&["Amélie", "Amelie"], 2001, 194),
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// The store's set-based load, in batches of any size, makes the same movies of the
        /// same records as identity's record-by-record oracle.
        #[test]
        fn the_batched_load_groups_records_as_the_record_by_record_oracle(
            picks in proptest::collection::vec((0usize..5, 0usize..3, proptest::bool::ANY, -1i32..=1), 1..12),
            chunk in 1usize..6,
        ) {
            use crate::domain::identity::{Catalog, Profile};
            // At most one record per film and provider: the oracle has no duplicate rule.
            let mut seen = std::collections::HashSet::new();
            let mut records = Vec::new();
            for (film, spelling, is_tmdb, shift) in picks {
                if !seen.insert((film, is_tmdb)) {
                    continue;
                }
                let (titles, year, id) = FILMS[film];
                let title = titles[spelling % titles.len()];
                let row = records.len() as u64 + 1;
                records.push(if is_tmdb {
                    tmdb(row, id, title, year, 7.0, 10)
                } else {
                    movie(Provider::Vega, row, title, year + shift, 7.0)
                });
            }
            let mut oracle = Catalog::default();
            let expected: Vec<MovieId> = records.iter().map(|m| oracle.resolve(&Profile::of(m)).0).collect();
            let (_dir, mut store) = store();
            let mut load = store.begin_load(&start(), &RatingPolicy::VoteWeighted).expect("begin");
            for batch in records.chunks(chunk) {
                load.put_movies(&Batch::new(batch.to_vec())).expect("put");
            }
            load.settle(|_, _| {}).expect("settle");
            load.commit(&start(), &AuditReport::default(), chrono::Utc::now()).expect("commit");
            let actual: Vec<MovieId> = records
                .iter()
                .map(|m| {
                    let id: i64 = store
                        .db()
                        .one(
                            "SELECT MovieID FROM movie_sources WHERE provider = ?1 AND source_row = ?2",
                            &[&m.provider.as_str(), &m.source_row],
                        )
                        .expect("record loaded");
                    MovieId(id)
                })
                .collect();
            // The same partition of the records (movie numbers may differ).
            let pairs = |ids: &[MovieId]| -> Vec<(usize, usize)> {
                (0..ids.len())
                    .flat_map(|i| (0..ids.len()).map(move |j| (i, j)))
                    .filter(|(i, j)| ids[*i] == ids[*j])
                    .collect()
            };
            proptest::prop_assert_eq!(pairs(&actual), pairs(&expected));
        }
    }
}
