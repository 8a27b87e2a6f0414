-- Version 3: one identity per film across sources, per-source facts, normalised attributes,
-- MovieLens users, ratings and tags.
--
-- `Movies` keeps the seed's (MovieID, Title, ReleaseYear, Rating) for its readers, but its values
-- are now *derived* from `movie_sources` on every load: descriptive fields from the first provider
-- with a value (tmdb, vega, movielens, file), Rating by the load's rating policy. Rating and
-- ReleaseDate may be NULL (a film nobody rated; a MovieLens title gives only the year), and the
-- natural key is no longer unique: two films may share a title and a year.

CREATE TABLE Movies_v3 (
    MovieID          INTEGER PRIMARY KEY,
    Title            TEXT NOT NULL,
    ReleaseYear      INTEGER NOT NULL,
    Rating           REAL CHECK (Rating BETWEEN 0 AND 10),
    TitleKey         TEXT NOT NULL,                -- lower-cased NFC title
    ReleaseDate      TEXT,                         -- ISO 8601
    Votes            INTEGER CHECK (Votes >= 0),   -- the votes behind Rating
    Genre            TEXT,                         -- genres of the vocabulary, '|'-separated
    Director         TEXT,
    Overview         TEXT,
    Runtime          INTEGER,                      -- minutes
    OriginalLanguage TEXT,                         -- ISO 639-1
    Popularity       REAL,                         -- TMDB's popularity
    CreatedRunId     INTEGER NOT NULL REFERENCES etl_runs (run_id),
    UpdatedRunId     INTEGER NOT NULL REFERENCES etl_runs (run_id)
);
INSERT INTO Movies_v3 (MovieID, Title, ReleaseYear, Rating, TitleKey, ReleaseDate, Votes, Genre,
                       Director, CreatedRunId, UpdatedRunId)
SELECT MovieID, Title, ReleaseYear, Rating, TitleKey, ReleaseDate, Votes, Genre, Director,
       CreatedRunId, UpdatedRunId
FROM Movies;
DROP TABLE Movies;
ALTER TABLE Movies_v3 RENAME TO Movies;
CREATE INDEX movies_by_title ON Movies (TitleKey, ReleaseYear);

-- Every external id of a movie. A record is matched to a movie by any of its ids first.
CREATE TABLE movie_ids (
    namespace   TEXT NOT NULL CHECK (namespace IN ('tmdb', 'imdb', 'movielens', 'ml100k', 'vega', 'file')),
    external_id TEXT NOT NULL,
    MovieID     INTEGER NOT NULL REFERENCES Movies (MovieID),
    run_id      INTEGER NOT NULL REFERENCES etl_runs (run_id),
    PRIMARY KEY (namespace, external_id)
) WITHOUT ROWID;
CREATE INDEX movie_ids_by_movie ON movie_ids (MovieID, namespace);

-- What each provider says of each movie; a load changes only its own provider's rows.
CREATE TABLE movie_sources (
    MovieID       INTEGER NOT NULL REFERENCES Movies (MovieID),
    provider      TEXT NOT NULL CHECK (provider IN ('tmdb', 'vega', 'movielens', 'file')),
    title         TEXT NOT NULL,
    title_key     TEXT NOT NULL,
    match_key     TEXT NOT NULL,                   -- the title as matching compares it (see load.rs)
    release_year  INTEGER NOT NULL,
    release_date  TEXT,
    rating        REAL,                            -- on the provider's scale; NULL: none (or 0 votes)
    scale         REAL NOT NULL,                   -- top of that scale: 10, or 5 for MovieLens
    votes         INTEGER,
    director      TEXT,
    overview      TEXT,
    runtime       INTEGER,
    language      TEXT,
    popularity    REAL,
    certification TEXT,                            -- MPAA rating (vega)
    creative_type TEXT,                            -- vega's Creative Type
    attributes    INTEGER NOT NULL DEFAULT 0,      -- fingerprint of the provider's lists below
    source_row    INTEGER NOT NULL,                -- the record it came from in run_id's input
    run_id        INTEGER NOT NULL REFERENCES etl_runs (run_id),  -- the run that last changed it
    PRIMARY KEY (MovieID, provider)
);                                                 -- a rowid table: its rows hold long overviews
CREATE INDEX movie_sources_by_title ON movie_sources (match_key, release_year);

-- The genre vocabulary (src/domain/genre.rs documents how each source's labels map onto it).
CREATE TABLE genres (
    genre_id INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE
);
INSERT INTO genres (genre_id, name) VALUES
    (1, 'Action'),
    (2, 'Adventure'),
    (3, 'Animation'),
    (4, 'Comedy'),
    (5, 'Crime'),
    (6, 'Documentary'),
    (7, 'Drama'),
    (8, 'Family'),
    (9, 'Fantasy'),
    (10, 'Film Noir'),
    (11, 'History'),
    (12, 'Horror'),
    (13, 'Music'),
    (14, 'Mystery'),
    (15, 'Romance'),
    (16, 'Science Fiction'),
    (17, 'Thriller'),
    (18, 'TV Movie'),
    (19, 'War'),
    (20, 'Western');

CREATE TABLE movie_genres (
    MovieID  INTEGER NOT NULL REFERENCES Movies (MovieID),
    provider TEXT NOT NULL,
    genre_id INTEGER NOT NULL REFERENCES genres (genre_id),
    PRIMARY KEY (MovieID, provider, genre_id)
) WITHOUT ROWID;
CREATE INDEX movie_genres_by_genre ON movie_genres (genre_id, MovieID);

CREATE TABLE keywords (
    keyword_id INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE
);
CREATE TABLE movie_keywords (
    MovieID    INTEGER NOT NULL REFERENCES Movies (MovieID),
    provider   TEXT NOT NULL,
    keyword_id INTEGER NOT NULL REFERENCES keywords (keyword_id),
    PRIMARY KEY (MovieID, provider, keyword_id)
) WITHOUT ROWID;

CREATE TABLE people (
    person_id INTEGER PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE
);
-- Cast in billing order (position 0 is top billing), directors and writers.
CREATE TABLE movie_people (
    MovieID   INTEGER NOT NULL REFERENCES Movies (MovieID),
    provider  TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('cast', 'director', 'writer')),
    position  INTEGER NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people (person_id),
    PRIMARY KEY (MovieID, provider, role, position)
) WITHOUT ROWID;
CREATE INDEX movie_people_by_person ON movie_people (person_id);

-- Users of a ratings dataset; their ids are only unique within it (`ml-latest-small` user 1 is
-- not `ml-100k` user 1).
CREATE TABLE users (
    user_id     INTEGER PRIMARY KEY,
    dataset     TEXT NOT NULL,
    external_id INTEGER NOT NULL,
    run_id      INTEGER NOT NULL REFERENCES etl_runs (run_id),
    UNIQUE (dataset, external_id)
);

-- One rating per user and movie: the latest one given (MovieLens scale 0.5–5). No foreign-key
-- clauses on this table or tags: at tens of millions of rows their checks cost a third of the
-- load, and the loader only writes ids it resolved in the same transaction.
CREATE TABLE ratings (
    user_id  INTEGER NOT NULL,                     -- users.user_id
    MovieID  INTEGER NOT NULL,                     -- Movies.MovieID
    rating   REAL NOT NULL CHECK (rating BETWEEN 0 AND 5),
    rated_at INTEGER NOT NULL,                     -- Unix seconds
    run_id   INTEGER NOT NULL REFERENCES etl_runs (run_id),
    PRIMARY KEY (user_id, MovieID)
) WITHOUT ROWID;

CREATE TABLE tags (
    user_id   INTEGER NOT NULL,                    -- users.user_id
    MovieID   INTEGER NOT NULL,                    -- Movies.MovieID
    tag       TEXT NOT NULL,
    tagged_at INTEGER NOT NULL,
    run_id    INTEGER NOT NULL REFERENCES etl_runs (run_id),
    PRIMARY KEY (user_id, MovieID, tag)
) WITHOUT ROWID;

-- Rejects of a multi-file source name their file.
CREATE TABLE etl_rejects_v3 (
    run_id     INTEGER NOT NULL REFERENCES etl_runs (run_id),
    file       TEXT NOT NULL DEFAULT '',
    source_row INTEGER NOT NULL,
    field      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    raw_value  TEXT,
    detail     TEXT,
    PRIMARY KEY (run_id, file, source_row, field)
) WITHOUT ROWID;
INSERT INTO etl_rejects_v3 (run_id, source_row, field, reason, raw_value, detail)
SELECT run_id, source_row, field, reason, raw_value, detail FROM etl_rejects;
DROP TABLE etl_rejects;
ALTER TABLE etl_rejects_v3 RENAME TO etl_rejects;
CREATE INDEX etl_rejects_by_reason ON etl_rejects (run_id, reason);

-- The movies of earlier versions become facts of the provider that loaded them: the embedded
-- dataset is vega, anything else a plain file; their key is the natural one.
INSERT INTO movie_sources (MovieID, provider, title, title_key, match_key, release_year,
                           release_date, rating, scale, votes, director, source_row, run_id)
SELECT m.MovieID,
       CASE WHEN r.source = 'embedded' THEN 'vega' ELSE 'file' END,
       m.Title, m.TitleKey, m.TitleKey, m.ReleaseYear, m.ReleaseDate, m.Rating, 10, m.Votes, m.Director,
       0, m.UpdatedRunId
FROM Movies AS m JOIN etl_runs AS r ON r.run_id = m.CreatedRunId;
INSERT INTO movie_ids (namespace, external_id, MovieID, run_id)
SELECT provider, title_key || ' (' || release_year || ')', MovieID, run_id FROM movie_sources;
