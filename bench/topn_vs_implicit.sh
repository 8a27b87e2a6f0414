#!/usr/bin/env bash
# Top-N protocol side by side, one run each: bench/implicit_topn.py --grid writes the split of
# ml-latest-small and fits implicit 0.7.3's ALS on it over a grid of its own (BM25 over user or
# item rows, factors, regularization, alpha; its best is taken on the test set itself), then
# `movierec eval --protocol topn --train --test` ranks the same split with every model, each
# tuned on a validation holdout carved from training. Prints both and the ratios (NDCG@10 vs
# implicit's best ALS, and ALS fit time against implicit's at that configuration).
# Needs the reference venv (../shared/reference/README.md) at $VENV (default /tmp/refvenv).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-/tmp/refvenv}
DATA=${DATA:-../shared/data/ml-latest-small}
cargo build --release --quiet
out=$(mktemp -d)
OPENBLAS_NUM_THREADS=1 "$VENV/bin/python" bench/implicit_topn.py "$DATA" "$out" 42 --grid >"$out/implicit.json"
target/release/movierec eval --protocol topn --dataset "$DATA" --train "$out/train.csv" --test "$out/test.csv"
target/release/movierec eval --protocol topn --dataset "$DATA" --train "$out/train.csv" --test "$out/test.csv" \
  --models als,ease,hybrid --json >"$out/movierec.json"
"$VENV/bin/python" - "$out" <<'PY'
import json, sys
out = sys.argv[1]
grid = [json.loads(line) for line in open(f"{out}/implicit.json").read().strip().splitlines()]
default, peer = grid[-1], max(grid, key=lambda r: r["ndcg_at_10"])
ours = {r["algorithm"]: r for r in json.load(open(f"{out}/movierec.json"))["rows"]}
best = max(ours.values(), key=lambda r: r["ndcg_at_10"])
print(f"implicit ALS, its example's configuration: NDCG@10 {default['ndcg_at_10']:.4f}, fit {default['fit_seconds']:.2f} s")
print(f"implicit ALS, best of its {len(grid) - 1} on the test set: NDCG@10 {peer['ndcg_at_10']:.4f}, fit {peer['fit_seconds']:.2f} s "
      f"({peer['weighting']}, factors={peer['factors']} reg={peer['regularization']} alpha={peer['alpha']})")
print(f"movierec als, chosen on validation: NDCG@10 {ours['als']['ndcg_at_10']:.4f} "
      f"= {ours['als']['ndcg_at_10'] / peer['ndcg_at_10']:.3f}x implicit's best, fit {ours['als']['fit_seconds']:.2f} s "
      f"({peer['fit_seconds'] / ours['als']['fit_seconds']:.2f}x the speed of implicit's best; {ours['als']['params']})")
print(f"best: {best['algorithm']} NDCG@10 {best['ndcg_at_10']:.4f} = {best['ndcg_at_10'] / peer['ndcg_at_10']:.2f}x implicit ALS; "
      f"ease {ours['ease']['ndcg_at_10']:.4f}")
PY
