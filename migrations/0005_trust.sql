-- Version 5: a catalog people can trust (entity resolution, the per-field trust policy).

-- The title in the film's own language (TMDB's original_title, a MovieLens alternative title):
-- identity compares it too.
ALTER TABLE movie_sources ADD COLUMN original_title TEXT;

-- The catalog's genres, derived on every load by the genre rule of src/domain/derive.rs (the
-- providers with ids overrule vega's one "major genre"); movie_genres keeps what each provider
-- said. Readers (the genre filter, the content model, a movie's detail) read this table.
-- No foreign-key clauses on this table or movie_keys (as on ratings): they are written only by
-- the load, for movies it resolved in the same transaction, and their checks cost the load.
CREATE TABLE catalog_genres (
    MovieID  INTEGER NOT NULL,                     -- Movies.MovieID
    genre_id INTEGER NOT NULL,                     -- genres.genre_id
    PRIMARY KEY (MovieID, genre_id)
) WITHOUT ROWID;
CREATE INDEX catalog_genres_by_genre ON catalog_genres (genre_id, MovieID);
INSERT INTO catalog_genres (MovieID, genre_id)
SELECT DISTINCT MovieID, genre_id FROM movie_genres AS g
WHERE provider IN ('tmdb', 'movielens')
   OR NOT EXISTS (SELECT 1 FROM movie_genres AS t
                  WHERE t.MovieID = g.MovieID AND t.provider IN ('tmdb', 'movielens'));

-- Identity's blocking keys (src/domain/identity): the compact normal form of every title,
-- original title and title fragment of a movie's providers. A record's candidates are the
-- movies sharing one of its keys. Filled by each load; a database from before this version is
-- filled on its next load.
CREATE TABLE movie_keys (
    key     TEXT NOT NULL,
    MovieID INTEGER NOT NULL,                      -- Movies.MovieID
    PRIMARY KEY (key, MovieID)
) WITHOUT ROWID;

-- The normal forms of every provider's title (src/domain/identity/normalize.rs), '|'-separated:
-- what the catalog search matches a typed query's normal form against, so "amelie" finds
-- Amélie, "wargames" WarGames and "et the extra" E.T. the Extra-Terrestrial. Derived on every
-- load (an older database's on its next load).
ALTER TABLE Movies ADD COLUMN SearchKey TEXT;
