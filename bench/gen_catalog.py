#!/usr/bin/env python3
"""Writes a synthetic TMDB-export-style movie CSV (id, title, release_date, vote_average,
vote_count, popularity, genres, keywords as TMDB's JSON lists) of N rows to stdout: the catalog
for content-model-v2 serving benchmarks.

usage: bench/gen_catalog.py N [SEED] > catalog.csv

Each movie has 1–3 of TMDB's 19 genres and 3–8 keywords drawn (Zipf-like) from a vocabulary of
20,000, so genre posting lists are long and keyword lists short, as in real catalogs.
"""
import itertools
import json
import random
import sys

n = int(sys.argv[1])
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 20261128)
genres = [(28, "Action"), (12, "Adventure"), (16, "Animation"), (35, "Comedy"), (80, "Crime"),
          (99, "Documentary"), (18, "Drama"), (10751, "Family"), (14, "Fantasy"), (36, "History"),
          (27, "Horror"), (10402, "Music"), (9648, "Mystery"), (10749, "Romance"),
          (878, "Science Fiction"), (53, "Thriller"), (10752, "War"), (37, "Western"), (10770, "TV Movie")]
vocabulary = 20000
cumulative = list(itertools.accumulate(1 / (k + 1) for k in range(vocabulary)))
out = sys.stdout
out.write("id,title,release_date,vote_average,vote_count,popularity,genres,keywords\n")
for i in range(1, n + 1):
    g = rng.sample(genres, rng.randint(1, 3))
    kws = sorted(set(rng.choices(range(vocabulary), cum_weights=cumulative, k=rng.randint(3, 8))))
    year = 1920 + (i * 7919) % 105
    gj = json.dumps([{"id": a, "name": b} for a, b in g]).replace('"', '""')
    kj = json.dumps([{"id": k, "name": f"keyword {k}"} for k in kws]).replace('"', '""')
    out.write(f'{i},Movie {i},{year}-{1 + i % 12:02d}-{1 + i % 28:02d},{rng.uniform(1, 10):.1f},'
              f'{rng.randint(1, 20000)},{rng.uniform(0, 100):.3f},"{gj}","{kj}"\n')
