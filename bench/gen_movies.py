#!/usr/bin/env python3
"""Writes a synthetic movie CSV (vega column names) of N rows to stdout, for ETL load benchmarks.

usage: bench/gen_movies.py N [SEED] > movies.csv

Titles are unique per (title, year) except for a deterministic 0.1% of duplicates, and 1% of rows
carry a problem the transform rejects (missing rating, year out of range), so every stage works.
"""
import random
import sys

n = int(sys.argv[1])
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 20261127)
genres = ["Drama", "Comedy", "Action", "Thriller/Suspense", "Horror", "Adventure", "Musical"]
out = sys.stdout
out.write("Title,Release Date,IMDB Rating,IMDB Votes,Major Genre,Director\n")
for i in range(n):
    j = i - 1 if i and i % 1000 == 0 else i  # a duplicate of the previous title and year
    year = 1900 + (j * 7919) % 125
    rating = "" if i % 100 == 37 else f"{rng.uniform(1, 10):.1f}"
    if i % 100 == 73:
        year = 2099
    out.write(f"Movie {j},{year}-{1 + j % 12:02d}-{1 + j % 28:02d},{rating},{rng.randint(0, 500000)},"
              f"{genres[j % len(genres)]},Director {j % 5000}\n")
