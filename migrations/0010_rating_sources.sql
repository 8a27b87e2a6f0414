-- Version 10: whose ratings a movie's rating is made from (`tmdb|movielens`), as the rating
-- policy chose them when it derived the rating: the dashboard names the source beside the
-- number ("8.1/10 on IMDb & TMDB"). Existing rows get what the default (vote-weighted) policy
-- uses — every provider with a rating — and each later load sets it as its policy decides.
ALTER TABLE Movies ADD COLUMN RatingFrom TEXT;
UPDATE Movies SET RatingFrom = (
    SELECT group_concat(provider, '|') FROM (
        SELECT provider FROM movie_sources AS s
         WHERE s.MovieID = Movies.MovieID AND s.rating IS NOT NULL
         ORDER BY CASE provider WHEN 'tmdb' THEN 0 WHEN 'vega' THEN 1 WHEN 'movielens' THEN 2 ELSE 3 END))
 WHERE Rating IS NOT NULL;
