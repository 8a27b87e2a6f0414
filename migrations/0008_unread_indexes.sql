-- Version 8: two indexes no query reads. Genre filters read catalog_genres (by its own
-- genre index), and a movie's people are read by MovieID; every load paid a random-order
-- index write per genre and per person of each record for them.
DROP INDEX movie_genres_by_genre;
DROP INDEX movie_people_by_person;
