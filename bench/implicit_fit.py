"""The peer's fit times on a whole ratings file, for bench/train_25m.sh.

Usage: implicit_fit.py DATASET_DIR

Reads DATASET_DIR/ratings.csv (ml-25m layout) into a binary user × item matrix, then fits, as
`movierec train` does on the same ratings:
- implicit 0.7.3's ALS with movierec's defaults (BM25 over user rows K1=100 B=0.8, 64 factors,
  regularization 30, alpha 1, 15 iterations, CG solver);
- implicit's CosineRecommender keeping 100 neighbours per item (item-kNN's cosine and list).
Prints one JSON line per model: fit seconds and the process's peak resident memory so far.
"""
import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from implicit.nearest_neighbours import CosineRecommender, bm25_weight

ratings = pd.read_csv(os.path.join(sys.argv[1], "ratings.csv"), usecols=["userId", "movieId"])
users = ratings["userId"].astype("category").cat.codes.to_numpy()
items = ratings["movieId"].astype("category").cat.codes.to_numpy()
ui = sp.csr_matrix((np.ones(len(ratings), dtype=np.float32), (users, items)))
del ratings


def report(model, seconds):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"model": model, "ratings": int(ui.nnz), "users": ui.shape[0], "movies": ui.shape[1],
                      "fit_seconds": seconds, "peak_bytes": peak}), flush=True)


weighted = bm25_weight(ui.tocoo(), K1=100, B=0.8).tocsr().astype(np.float32)
als = AlternatingLeastSquares(factors=64, regularization=30.0, alpha=1.0, iterations=15, random_state=42)
started = time.perf_counter()
als.fit(weighted, show_progress=False)
report("implicit ALS", time.perf_counter() - started)
del weighted, als

knn = CosineRecommender(K=100)
started = time.perf_counter()
knn.fit(ui, show_progress=False)
report("implicit CosineRecommender", time.perf_counter() - started)
