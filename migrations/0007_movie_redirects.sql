-- Version 7: a catalog built before identity resolved its records holds each source's spelling
-- of a film as a movie of its own. Its next load merges those duplicates into the earliest
-- MovieID (src/store/repair.rs); the merged-away ids are kept here, so `/api/movies/{old}`
-- answers with a redirect to the movie they are now, and no new movie ever takes them.
CREATE TABLE movie_redirects (
    old_id  INTEGER PRIMARY KEY,                   -- a MovieID merged away
    MovieID INTEGER NOT NULL REFERENCES Movies (MovieID),
    run_id  INTEGER NOT NULL REFERENCES etl_runs (run_id)  -- the load that merged it
);
