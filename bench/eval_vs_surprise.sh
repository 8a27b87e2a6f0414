#!/usr/bin/env bash
# Rating protocol side by side, one run each: scikit-surprise (the reference's
# surprise_ml100k.py: BaselineOnly, KNNBaseline, SVD with defaults) and `movierec eval --protocol
# rating` on the same five fixed folds of ml-100k. Prints both, then the fit+predict ratios.
# Needs the reference venv (../shared/reference/README.md) at $VENV (default /tmp/refvenv).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-/tmp/refvenv}
DATA=${DATA:-../shared/data/ml-100k}
cargo build --release --quiet
out=$(mktemp -d)
"$VENV/bin/python" ../shared/reference/surprise_ml100k.py "$DATA" | tee "$out/surprise.txt"
target/release/movierec eval --protocol rating --dataset "$DATA" | tee "$out/movierec.txt"
target/release/movierec eval --protocol rating --dataset "$DATA" --json >"$out/movierec.json"
"$VENV/bin/python" - "$out" <<'PY'
import json, re, sys
out = sys.argv[1]
peer = {m.group(1): (float(m.group(2)), float(m.group(3))) for m in
        re.finditer(r"(\w+): RMSE=([\d.]+) MAE=[\d.]+ seconds=([\d.]+)", open(f"{out}/surprise.txt").read())}
ours = {r["algorithm"]: r for r in json.load(open(f"{out}/movierec.json"))["rows"]}
for theirs, mine in [("BaselineOnly", "baseline"), ("KNNBaseline", "item-knn"), ("SVD", "svd")]:
    rmse, secs = peer[theirs]
    r = ours[mine]
    t = r["fit_seconds"] + r["predict_seconds"]
    print(f"{mine:9} RMSE {r['rmse']:.4f} vs {theirs} {rmse:.4f}; fit+predict {t:.2f} s vs {secs:.1f} s: {secs / t:.1f}x faster")
best = min(ours.values(), key=lambda r: r["rmse"])
print(f"best: {best['algorithm']} RMSE {best['rmse']:.4f}")
PY
