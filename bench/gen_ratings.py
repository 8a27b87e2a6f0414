#!/usr/bin/env python3
"""Writes a synthetic MovieLens dataset in the ml-25m layout (movies.csv, links.csv, ratings.csv)
for load benchmarks: `gen_ratings.py OUT_DIR [RATINGS] [MOVIES]` (defaults 25,000,000 and 62,423,
ml-25m's sizes). Ratings are sorted by user then movie, like MovieLens's; users rate 20–1,000
movies; ratings are 0.5–5 in half stars. Deterministic (seeded). The data is not committed."""
import os
import random
import sys

out = sys.argv[1]
n_ratings = int(sys.argv[2]) if len(sys.argv) > 2 else 25_000_000
n_movies = int(sys.argv[3]) if len(sys.argv) > 3 else 62_423
rng = random.Random(25)
os.makedirs(out, exist_ok=True)
genres = ["Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Drama", "Sci-Fi"]
with open(os.path.join(out, "movies.csv"), "w") as f:
    f.write("movieId,title,genres\n")
    for m in range(1, n_movies + 1):
        f.write(f'{m},"Film {m}, The ({1900 + m % 120})",{rng.choice(genres)}|{rng.choice(genres)}\n')
with open(os.path.join(out, "links.csv"), "w") as f:
    f.write("movieId,imdbId,tmdbId\n")
    for m in range(1, n_movies + 1):
        f.write(f"{m},{9_000_000 + m:07d},{900_000 + m}\n")
stars = ["0.5", "1.0", "1.5", "2.0", "2.5", "3.0", "3.5", "4.0", "4.5", "5.0"]
with open(os.path.join(out, "ratings.csv"), "w", buffering=1 << 20) as f:
    f.write("userId,movieId,rating,timestamp\n")
    written, user = 0, 0
    while written < n_ratings:
        user += 1
        k = min(rng.randint(20, 1000), n_ratings - written, n_movies)
        movies = sorted(rng.sample(range(1, n_movies + 1), k))
        ts = 1_000_000_000 + user * 1000
        f.write("".join(f"{user},{m},{rng.choice(stars)},{ts + i}\n" for i, m in enumerate(movies)))
        written += k
print(f"{out}: {n_movies} movies, {written} ratings by {user} users")
