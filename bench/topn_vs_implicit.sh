#!/usr/bin/env bash
# Top-N protocol side by side, one run each: bench/implicit_topn.py writes the split of
# ml-latest-small and fits implicit's ALS on it (factors 64, reg 0.05, 15 iterations, BM25
# K1=100 B=0.8), then `movierec eval --protocol topn --train --test` ranks the same split with
# every model. Prints both and the ratios (NDCG@10 vs implicit ALS, ALS fit time).
# Needs the reference venv (../shared/reference/README.md) at $VENV (default /tmp/refvenv).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-/tmp/refvenv}
DATA=${DATA:-../shared/data/ml-latest-small}
cargo build --release --quiet
out=$(mktemp -d)
OPENBLAS_NUM_THREADS=1 "$VENV/bin/python" bench/implicit_topn.py "$DATA" "$out" | tee "$out/implicit.json"
target/release/movierec eval --protocol topn --dataset "$DATA" --train "$out/train.csv" --test "$out/test.csv"
target/release/movierec eval --protocol topn --dataset "$DATA" --train "$out/train.csv" --test "$out/test.csv" \
  --models als,ease,hybrid --json >"$out/movierec.json"
"$VENV/bin/python" - "$out" <<'PY'
import json, sys
out = sys.argv[1]
peer = json.loads(open(f"{out}/implicit.json").read().strip().splitlines()[-1])
ours = {r["algorithm"]: r for r in json.load(open(f"{out}/movierec.json"))["rows"]}
best = max(ours.values(), key=lambda r: r["ndcg_at_10"])
print(f"implicit ALS NDCG@10 {peer['ndcg_at_10']:.4f}, fit {peer['fit_seconds']:.2f} s")
print(f"movierec als NDCG@10 {ours['als']['ndcg_at_10']:.4f}, fit {ours['als']['fit_seconds']:.2f} s "
      f"({peer['fit_seconds'] / ours['als']['fit_seconds']:.2f}x implicit's speed)")
print(f"best: {best['algorithm']} NDCG@10 {best['ndcg_at_10']:.4f} = {best['ndcg_at_10'] / peer['ndcg_at_10']:.2f}x implicit ALS; "
      f"ease {ours['ease']['ndcg_at_10']:.4f}")
PY
