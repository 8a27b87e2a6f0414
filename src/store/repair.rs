//! Merges movies that are one film. Two kinds of catalog hold such copies: one built before
//! identity resolved records, where each source's spelling of a film became a movie of its own
//! ("Star Wars Ep. IV: A New Hope" from vega beside "Star Wars" from TMDB), and one where a load
//! changed a movie's facts so that it now meets another (a TMDB reload adds the original title
//! its vega copy is named by). Which movies are one film is identity's pure decision
//! ([`identity::duplicates`]); this reads the profiles and candidates, then moves, set-based,
//! everything of a duplicate to its survivor: ids, every provider's facts and lists, blocking
//! keys, ratings and tags. The duplicate's id becomes a redirect. All of it is part of the
//! run's transaction.

use super::bulk::{Rows, Ty};
use super::load::{blocked, in_id_list, profiles, Load};
use super::sql::args;
use super::touched::{INSERTED, MERGED, UPDATED};
use super::StoreError;
use crate::domain::audit::MergedMovie;
use crate::domain::identity::{self, Thresholds};
use crate::domain::MovieId;
use std::collections::HashMap;

/// The tables whose rows are one provider's word on a movie, keyed by (MovieID, provider, …).
const PROVIDER_TABLES: [&str; 4] = [
    "movie_sources",
    "movie_genres",
    "movie_keywords",
    "movie_people",
];

impl Load<'_> {
    /// Merges the catalog's copies of one film into the earliest MovieID, before the run's
    /// movies are settled: every movie when the catalog was built before identity (once: its
    /// blocking keys were backfilled at the start of this run), otherwise the movies whose
    /// facts this run changed. Each merge is listed in the run's identity report.
    pub(super) fn merge_duplicates(&mut self) -> Result<(), StoreError> {
        let scope_sql = if std::mem::take(&mut self.before_identity) {
            "SELECT MovieID FROM Movies ORDER BY MovieID".to_owned()
        } else {
            // Changed facts, or a provider's first word on a movie an earlier run made.
            format!(
                "SELECT DISTINCT t.MovieID FROM etl_touched AS t JOIN Movies AS m USING (MovieID)
                 WHERE t.outcome = {UPDATED}
                    OR (t.outcome = {INSERTED} AND m.CreatedRunId <> {run})
                 ORDER BY t.MovieID",
                run = self.run_id.0
            )
        };
        let db = self.tx.db();
        let scope: Vec<MovieId> = db.query(&scope_sql, args![], |r| r.get(0))?;
        if scope.is_empty() {
            return Ok(());
        }
        let json = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
        let list = |ids: &mut dyn Iterator<Item = MovieId>| {
            serde_json::to_string(&ids.map(|m| m.0).collect::<Vec<_>>()).map_err(json)
        };
        let in_list = in_id_list(&db);
        let mut known = profiles(&db, in_list, args![list(&mut scope.iter().copied())?])?;
        let keys: Vec<(MovieId, String)> = scope
            .iter()
            .filter_map(|m| known.get(m).map(|p| (*m, p.block_keys())))
            .flat_map(|(m, keys)| keys.into_iter().map(move |k| (m, k)))
            .collect();
        // A movie is among its own hits; `identity::duplicates` leaves it out.
        let keys: Vec<(i64, &str)> = keys.iter().map(|(m, k)| (m.0, k.as_str())).collect();
        let candidates: HashMap<MovieId, Vec<MovieId>> = blocked(&db, &keys)?
            .into_iter()
            .map(|(m, hits)| (MovieId(m), hits))
            .collect();
        let unread: Vec<MovieId> = candidates
            .values()
            .flatten()
            .filter(|m| !known.contains_key(m))
            .copied()
            .collect();
        if !unread.is_empty() {
            known.extend(profiles(
                &db,
                in_list,
                args![list(&mut unread.into_iter())?],
            )?);
        }
        let overrides = &self.overrides;
        let pairs =
            identity::duplicates(&scope, &candidates, &known, Thresholds::DEFAULT, |a, b| {
                overrides.forbids(&a.ids, &b.ids)
            });
        if pairs.is_empty() {
            return Ok(());
        }
        db.batch("CREATE TEMP TABLE merged (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)")?;
        let mut rows = Rows::new(&[Ty::Int, Ty::Int]);
        for p in &pairs {
            rows.push([p.movie.0.into(), p.survivor.0.into()]);
        }
        rows.execute(&db, "INSERT INTO merged (old, new)", "")?;
        let merged = db.query(
            "SELECT m.old, m.new, o.Title, o.ReleaseYear
             FROM merged AS m JOIN Movies AS o ON o.MovieID = m.old ORDER BY m.old",
            args![],
            |r| {
                Ok(MergedMovie {
                    movie: r.get(0)?,
                    into: r.get(1)?,
                    title: r.get(2)?,
                    year: r.get(3)?,
                })
            },
        )?;
        self.identity.merged.extend(merged);
        // A provider's word on the film is one row set per movie. Identity never merges two
        // movies with facts of one provider (each provider's records carry an id in its
        // namespace, and two ids of one namespace are a conflict, held for review), so this
        // only guards the primary keys: the survivor's word stands.
        for table in PROVIDER_TABLES {
            db.batch(&format!(
                "DELETE FROM {table} AS d WHERE EXISTS (
                         SELECT 1 FROM merged AS m JOIN movie_sources AS s
                           ON s.MovieID = m.new
                         WHERE m.old = d.MovieID AND s.provider = d.provider)"
            ))?;
        }
        for table in PROVIDER_TABLES.iter().chain(&["movie_ids"]) {
            db.batch(&format!(
                "UPDATE {table} SET MovieID = m.new FROM merged AS m
                 WHERE {table}.MovieID = m.old"
            ))?;
        }
        db.batch(
            "INSERT INTO movie_keys (key, MovieID)
             SELECT k.key, m.new FROM movie_keys AS k JOIN merged AS m ON m.old = k.MovieID
             WHERE true ON CONFLICT DO NOTHING;
             DELETE FROM movie_keys WHERE MovieID IN (SELECT old FROM merged);
             -- One rating per user and film: the latest one given, as the ratings load keeps.
             INSERT INTO ratings (user_id, MovieID, rating, rated_at, run_id)
             SELECT r.user_id, m.new, r.rating, r.rated_at, r.run_id
             FROM ratings AS r JOIN merged AS m ON m.old = r.MovieID
             WHERE true
             ON CONFLICT (user_id, MovieID) DO UPDATE
                SET rating = excluded.rating, rated_at = excluded.rated_at, run_id = excluded.run_id
                WHERE excluded.rated_at > ratings.rated_at;
             DELETE FROM ratings WHERE MovieID IN (SELECT old FROM merged);
             INSERT INTO tags (user_id, MovieID, tag, tagged_at, run_id)
             SELECT t.user_id, m.new, t.tag, t.tagged_at, t.run_id
             FROM tags AS t JOIN merged AS m ON m.old = t.MovieID
             WHERE true ON CONFLICT DO NOTHING;
             DELETE FROM tags WHERE MovieID IN (SELECT old FROM merged);
             DELETE FROM catalog_genres WHERE MovieID IN (SELECT old FROM merged);
             UPDATE movie_redirects SET MovieID = m.new FROM merged AS m
             WHERE movie_redirects.MovieID = m.old;",
        )?;
        db.batch(&format!(
            "INSERT INTO movie_redirects (old_id, MovieID, run_id)
             SELECT old, new, {run} FROM merged",
            run = self.run_id.0
        ))?;
        // What the run touched of a duplicate is its survivor's now, and the survivor is settled
        // with the run's movies: its row is derived from all its facts.
        db.batch(
            "DELETE FROM etl_touched AS d WHERE EXISTS (
                 SELECT 1 FROM merged AS m JOIN etl_touched AS t ON t.MovieID = m.new
                 WHERE m.old = d.MovieID AND t.provider = d.provider);
             UPDATE etl_touched SET MovieID = m.new, settled = 0 FROM merged AS m
             WHERE etl_touched.MovieID = m.old;",
        )?;
        db.batch(&format!(
            "INSERT INTO etl_touched (MovieID, provider, source_row, votes, rating, outcome)
             SELECT DISTINCT new, '', 0, 0, CAST(NULL AS DOUBLE PRECISION), {MERGED} FROM merged
             WHERE true
             ON CONFLICT DO NOTHING"
        ))?;
        db.batch(
            "DELETE FROM Movies WHERE MovieID IN (SELECT old FROM merged);
             DROP TABLE merged;",
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::audit::AuditReport;
    use crate::domain::identity::Batch;
    use crate::domain::movie::{Movie, Title};
    use crate::domain::source::{ExternalId, Namespace, Provider, RatingPolicy};
    use crate::domain::MovieId;
    use crate::store::load::tests::{load_with, start};
    use crate::store::{Store, MIGRATIONS};
    use rusqlite::Connection;
    use rusqlite_migration::{Migrations, M};

    /// A version 4 catalog (before identity): vega's and TMDB's spellings of two films are
    /// four movies, a remake a fifth and its original a sixth; MovieLens ratings and a tag sit
    /// on the TMDB copies, one user rated both copies of Star Wars.
    const BEFORE_IDENTITY: &str = "
        INSERT INTO etl_runs (run_id, source, source_format, started_at, finished_at, status) VALUES
            (1, 'embedded', 'json', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'succeeded'),
            (2, 'tmdb.csv', 'csv', '2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z', 'succeeded');
        INSERT INTO Movies (MovieID, Title, ReleaseYear, Rating, TitleKey, Votes, CreatedRunId, UpdatedRunId) VALUES
            (1, 'Star Wars Ep. IV: A New Hope', 1977, 8.8, 'star wars ep. iv: a new hope', 100, 1, 1),
            (2, 'Star Wars', 1977, 8.1, 'star wars', 6778, 2, 2),
            (3, 'Psycho', 1960, 8.5, 'psycho', 200, 1, 1),
            (4, 'Psycho', 1998, 4.6, 'psycho', 400, 2, 2),
            (5, 'Beetle Juice', 1988, 7.5, 'beetle juice', 50, 1, 1),
            (6, 'Beetlejuice', 1988, 7.0, 'beetlejuice', 1800, 2, 2);
        INSERT INTO movie_sources (MovieID, provider, title, title_key, match_key, release_year,
                                   rating, scale, votes, source_row, run_id) VALUES
            (1, 'vega', 'Star Wars Ep. IV: A New Hope', 'star wars ep. iv: a new hope', 'x', 1977, 8.8, 10, 100, 1, 1),
            (2, 'tmdb', 'Star Wars', 'star wars', 'x', 1977, 8.1, 10, 6778, 1, 2),
            (3, 'vega', 'Psycho', 'psycho', 'x', 1960, 8.5, 10, 200, 2, 1),
            (4, 'tmdb', 'Psycho', 'psycho', 'x', 1998, 4.6, 10, 400, 2, 2),
            (5, 'vega', 'Beetle Juice', 'beetle juice', 'x', 1988, 7.5, 10, 50, 3, 1),
            (6, 'tmdb', 'Beetlejuice', 'beetlejuice', 'x', 1988, 7.0, 10, 1800, 3, 2);
        INSERT INTO movie_ids (namespace, external_id, MovieID, run_id) VALUES
            ('vega', 'star wars ep. iv: a new hope (1977)', 1, 1), ('tmdb', '11', 2, 2),
            ('vega', 'psycho (1960)', 3, 1), ('tmdb', '11479', 4, 2),
            ('vega', 'beetle juice (1988)', 5, 1), ('tmdb', '4011', 6, 2);
        INSERT INTO movie_genres (MovieID, provider, genre_id) VALUES (6, 'tmdb', 4), (6, 'tmdb', 9);
        INSERT INTO users (user_id, dataset, external_id, run_id) VALUES (1, 'ml', 1, 2), (2, 'ml', 2, 2);
        INSERT INTO ratings (user_id, MovieID, rating, rated_at, run_id) VALUES
            (1, 1, 4.0, 200, 2), (1, 2, 5.0, 100, 2), (2, 6, 3.5, 100, 2), (2, 4, 2.0, 100, 2);
        INSERT INTO tags (user_id, MovieID, tag, tagged_at, run_id) VALUES (2, 6, 'tim burton', 100, 2);
    ";

    fn query<T: rusqlite::types::FromSql>(store: &Store, sql: &str) -> Vec<Vec<T>> {
        let mut stmt = store
            .sqlite("test")
            .expect("sqlite")
            .prepare(sql)
            .expect("prepare");
        let width = stmt.column_count();
        stmt.query_map([], |r| (0..width).map(|i| r.get(i)).collect())
            .and_then(|rows| rows.collect())
            .expect("query")
    }

    #[test]
    fn the_next_load_merges_an_older_catalogs_duplicates_and_keeps_everything() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.db");
        {
            let mut conn = Connection::open(&path).expect("open");
            Migrations::new(MIGRATIONS[..4].iter().map(|sql| M::up(sql)).collect())
                .to_latest(&mut conn)
                .expect("version 4");
            conn.execute_batch(BEFORE_IDENTITY).expect("version 4 rows");
        }
        let mut store = Store::open(&path).expect("migrate");
        let mut load = store
            .begin_load(&start(), &RatingPolicy::VoteWeighted)
            .expect("begin");
        let summary = load.settle(|_, _| {}).expect("settle");
        load.commit(&start(), &AuditReport::default(), chrono::Utc::now())
            .expect("commit");
        let merged: Vec<(i64, i64, &str)> = summary
            .identity
            .merged
            .iter()
            .map(|m| (m.movie.0, m.into.0, m.title.as_str()))
            .collect();
        assert_eq!(merged, [(2, 1, "Star Wars"), (6, 5, "Beetlejuice")]);
        assert_eq!(
            query::<i64>(&store, "SELECT MovieID FROM Movies ORDER BY 1").concat(),
            [1, 3, 4, 5],
            "the remake stays apart"
        );
        // Ids, facts, lists, ratings (the latest of one user's two) and tags moved.
        assert_eq!(
            query::<String>(
                &store,
                "SELECT namespace || ':' || external_id || '=' || MovieID FROM movie_ids
                 WHERE namespace = 'tmdb' ORDER BY 1"
            )
            .concat(),
            ["tmdb:11479=4", "tmdb:11=1", "tmdb:4011=5"]
        );
        assert_eq!(
            query::<i64>(
                &store,
                "SELECT user_id, MovieID, CAST(rating * 10 AS INTEGER), rated_at FROM ratings ORDER BY 1, 2"
            ),
            [
                vec![1, 1, 40, 200],
                vec![2, 4, 20, 100],
                vec![2, 5, 35, 100]
            ]
        );
        assert_eq!(
            query::<String>(&store, "SELECT MovieID || ':' || tag FROM tags").concat(),
            ["5:tim burton"]
        );
        let star_wars = store.movie_detail(MovieId(1)).expect("q").expect("kept");
        assert_eq!(star_wars.movie.title, "Star Wars", "TMDB's title wins");
        assert_eq!(star_wars.movie.votes, Some(6878));
        let beetlejuice = store.movie_detail(MovieId(5)).expect("q").expect("kept");
        assert_eq!(beetlejuice.movie.genre.as_deref(), Some("Comedy|Fantasy"));
        // The merged-away ids answer with their film, and no new movie takes them.
        assert_eq!(store.redirect(MovieId(6)).expect("q"), Some(MovieId(5)));
        assert_eq!(store.redirect(MovieId(4)).expect("q"), None);
        let mut heat = Movie::new(Provider::Tmdb, Title::parse("Heat").expect("t"), 1995, 1);
        heat.ids = vec![ExternalId::new(Namespace::Tmdb, "949")];
        let mut load = store
            .begin_load(&start(), &RatingPolicy::VoteWeighted)
            .expect("begin");
        load.put_movies(&Batch::new(vec![heat])).expect("put");
        let again = load.settle(|_, _| {}).expect("settle");
        load.commit(&start(), &AuditReport::default(), chrono::Utc::now())
            .expect("commit");
        assert!(again.identity.merged.is_empty(), "the repair runs once");
        assert_eq!(
            query::<i64>(&store, "SELECT MovieID FROM Movies ORDER BY 1").concat(),
            [1, 3, 4, 5, 7]
        );
    }

    fn load(store: &mut Store, movies: &[Movie]) -> crate::store::LoadSummary {
        load_with(store, &RatingPolicy::VoteWeighted, movies)
    }

    fn record(provider: Provider, title: &str, ids: &[(Namespace, &str)]) -> Movie {
        let mut m = Movie::new(provider, Title::parse(title).expect("title"), 2001, 1);
        m.ids = ids.iter().map(|(n, v)| ExternalId::new(*n, *v)).collect();
        m
    }

    #[test]
    fn a_title_a_later_load_adds_merges_the_copy_it_names() {
        let (_scratch, mut store) = crate::store::testing::fresh();
        let stone = "Harry Potter and the Sorcerer's Stone";
        load(&mut store, &[record(Provider::Vega, stone, &[])]);
        let philosopher = "Harry Potter and the Philosopher's Stone";
        let tmdb = [(Namespace::Tmdb, "671")];
        load(&mut store, &[record(Provider::Tmdb, philosopher, &tmdb)]);
        assert_eq!(
            store.movie_count().expect("count"),
            2,
            "two titles, two movies"
        );
        // MovieLens names the film as vega does and links it to TMDB's: one film after all.
        let ml = [(Namespace::Movielens, "4896"), (Namespace::Tmdb, "671")];
        let summary = load(&mut store, &[record(Provider::Movielens, stone, &ml)]);
        let merged: Vec<(i64, i64)> = summary
            .identity
            .merged
            .iter()
            .map(|m| (m.movie.0, m.into.0))
            .collect();
        assert_eq!(merged, [(2, 1)]);
        assert_eq!(store.movie_count().expect("count"), 1);
        assert_eq!(store.redirect(MovieId(2)).expect("q"), Some(MovieId(1)));
        let movie = store.movie_detail(MovieId(1)).expect("q").expect("kept");
        assert_eq!(
            movie.movie.title, philosopher,
            "TMDB's title, by the trust policy"
        );
    }
}
