"""Peer figures for the top-N protocol: writes the split, then fits implicit's ALS on it.

Usage: implicit_topn.py DATASET_DIR OUT_DIR [SEED] [--grid]

Writes OUT_DIR/train.csv and OUT_DIR/test.csv (ratings.csv layout) by the protocol of
`movierec eval --protocol topn`: per user with >= 5 positives (rating >= 4), a seeded random 20%
of the positives (at least one) is the test set; training is every other rating. Then fits
implicit's AlternatingLeastSquares (factors 64, regularization 0.05, 15 iterations, CPU) on BM25
weights (K1=100, B=0.8) of the item x user matrix of all training interactions (as implicit's own
MovieLens example weights it), ranks every training movie a test user did not rate, and prints
NDCG@10, Recall@20 and the fit seconds as JSON on stdout.

With --grid, also fits implicit's ALS over a grid of its own that holds movierec's rows and sizes, on
1s as in its example (BM25 over the item rows as above or over the user rows; factors 16/32/64/128; regularization
0.05/1/10/30/100; alpha 1/2/4; 15 iterations) and prints one JSON line per configuration, each
scored on the test set itself: the peer's best is its best in hindsight, where movierec's ALS
is chosen on a validation holdout and never sees the test set.
"""
import csv
import json
import math
import os
import random
import sys
import time

import numpy as np
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from implicit.nearest_neighbours import bm25_weight

args = [a for a in sys.argv[1:] if a != "--grid"]
with_grid = "--grid" in sys.argv[1:]
dataset, out = args[0], args[1]
seed = int(args[2]) if len(args) > 2 else 42
os.makedirs(out, exist_ok=True)

with open(os.path.join(dataset, "ratings.csv"), newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = [r for r in reader]

rng = random.Random(seed)
positives = {}
for k, r in enumerate(rows):
    if float(r[2]) >= 4.0:
        positives.setdefault(int(r[0]), []).append(k)
held = set()
for user in sorted(positives):
    ks = positives[user]
    if len(ks) < 5:
        continue
    rng.shuffle(ks)
    held.update(ks[: max(1, int(len(ks) * 0.2))])
with open(os.path.join(out, "train.csv"), "w", newline="") as tr, open(
    os.path.join(out, "test.csv"), "w", newline=""
) as te:
    wt, we = csv.writer(tr), csv.writer(te)
    wt.writerow(header)
    we.writerow(header)
    for k, r in enumerate(rows):
        (we if k in held else wt).writerow(r)

train = [rows[k] for k in range(len(rows)) if k not in held]
test = [rows[k] for k in held]
users = {u: i for i, u in enumerate(sorted({int(r[0]) for r in train}))}
items = {m: i for i, m in enumerate(sorted({int(r[1]) for r in train}))}
ui = sp.csr_matrix(
    (np.ones(len(train), dtype=np.float32), ([users[int(r[0])] for r in train], [items[int(r[1])] for r in train])),
    shape=(len(users), len(items)),
)
item_rows = bm25_weight(ui.T.tocoo(), K1=100, B=0.8).T.tocsr().astype(np.float32)
user_rows = bm25_weight(ui.tocoo(), K1=100, B=0.8).tocsr().astype(np.float32)

relevant = {}
for r in test:
    relevant.setdefault(int(r[0]), set()).add(int(r[1]))
test_users = [u for u in sorted(relevant) if u in users]
item_ids = np.array(sorted(items, key=items.get))
rows_of_test = np.array([users[u] for u in test_users])


def run(weighting, factors, regularization, alpha):
    weighted = item_rows if weighting == "item rows" else user_rows
    model = AlternatingLeastSquares(factors=factors, regularization=regularization, alpha=alpha,
                                    iterations=15, random_state=seed)
    started = time.perf_counter()
    model.fit(weighted, show_progress=False)
    fit_seconds = time.perf_counter() - started
    ids, _ = model.recommend(rows_of_test, ui[rows_of_test], N=20, filter_already_liked_items=True)
    ndcg, recall = [], []
    for u, row in zip(test_users, ids):
        ranked = item_ids[row]
        rel = relevant[u]
        dcg = sum(1 / math.log2(i + 2) for i, m in enumerate(ranked[:10]) if m in rel)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(rel))))
        ndcg.append(dcg / ideal)
        recall.append(sum(1 for m in ranked[:20] if m in rel) / len(rel))
    print(json.dumps({"model": "implicit ALS", "weighting": f"bm25 over {weighting}", "factors": factors,
                      "regularization": regularization, "alpha": alpha, "iterations": 15,
                      "ndcg_at_10": sum(ndcg) / len(ndcg), "recall_at_20": sum(recall) / len(recall),
                      "fit_seconds": fit_seconds, "test_users": len(test_users)}), flush=True)


if with_grid:
    for weighting in ("item rows", "user rows"):
        for factors in (16, 32, 64, 128):
            for regularization in (0.05, 1.0, 10.0, 30.0, 100.0):
                for alpha in (1.0, 2.0, 4.0):
                    run(weighting, factors, regularization, alpha)
# The default configuration last: the line the bench script reads.
run("item rows", 64, 0.05, 1.0)
