"""A tiny made-up MovieLens directory (20 films, 12 users, their ratings), for tests that need
users and ratings without the real datasets: scripts/test and scripts/cluster-test.
usage: python3 scripts/ml_tiny.py DIR"""
import os, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
genres = ["Comedy", "Drama", "Action|Thriller", "Romance|Comedy", "Sci-Fi"]
with open(f"{d}/movies.csv", "w") as f:
    f.write("movieId,title,genres\n")
    for m in range(1, 21):
        f.write(f"{m},Made-up Film {m} ({1990 + m}),{genres[m % 5]}\n")
with open(f"{d}/ratings.csv", "w") as f:
    f.write("userId,movieId,rating,timestamp\n")
    for u in range(1, 13):
        for m in range(1, 21):
            if (u * 3 + m * 7) % 5:
                f.write(f"{u},{m},{[1.0, 2.5, 3.0, 4.0, 4.5, 5.0][(u + m) % 6]},{1500000000 + u * 1000 + m}\n")
