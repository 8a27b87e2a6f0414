-- Version 6: identity finds a record's candidates by its blocking keys (movie_keys), so the old
-- exact key on a normalised title and its index are no longer read; dropping them spares the load
-- a random-order index write per record.
DROP INDEX movie_sources_by_title;
ALTER TABLE movie_sources DROP COLUMN match_key;
