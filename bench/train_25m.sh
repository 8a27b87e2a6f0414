#!/usr/bin/env bash
# Models at ml-25m size, side by side with implicit 0.7.3 in one run:
#   WORK=DIR bench/train_25m.sh [KIND…]
# writes (once) bench/gen_ratings.py's 25,000,000 ratings over 62,423 movies into $WORK/data,
# loads them into $WORK/m.db, then trains each KIND (default: als item-knn sparse-ease ease svd
# svd++) with `movierec train`, printing its peak memory, wall time (the held-out fit, the fit on
# everything, the artifact), and the fit's own seconds; then fits implicit's ALS and
# CosineRecommender on the same ratings (bench/implicit_fit.py) and prints the ratios of fit
# times. `ease` is expected to be refused (its dense form needs 58 GiB). Last, serving memory:
# one `serve` on this database, its resident memory with the catalog alone and after each
# trained kind is first asked for. Needs the reference venv at $VENV (default /tmp/refvenv)
# with implicit==0.7.3.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:?set WORK to a directory with room for 2 GB}
VENV=${VENV:-/tmp/refvenv}
BIN=${BIN:-target/release/movierec}
[ "$BIN" != target/release/movierec ] || cargo build --release --quiet
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(als item-knn sparse-ease ease svd svd++)
mkdir -p "$WORK"
[ -f "$WORK/data/ratings.csv" ] || python3 bench/gen_ratings.py "$WORK/data"
if [ ! -f "$WORK/m.db" ]; then
  "$BIN" --db "$WORK/m.db" --data-dir "$WORK/dir" etl --source "movielens:$WORK/data" >/dev/null
fi
for kind in "${kinds[@]}"; do
  if /usr/bin/time -f "%M %e" -o "$WORK/time-$kind" "$BIN" --db "$WORK/m.db" --data-dir "$WORK/dir" \
      train --model "$kind" --keep 1 --json >"$WORK/train-$kind.json" 2>"$WORK/train-$kind.err"; then
    python3 - "$WORK" "$kind" <<'PY'
import json, sys
work, kind = sys.argv[1:]
r = json.load(open(f"{work}/train-{kind}.json"))
kb, wall = open(f"{work}/time-{kind}").read().split()[-2:]
print(f"movierec {kind}: fit {r['fit_seconds']:.1f} s, train {float(wall):.1f} s wall, peak {int(kb) / 1048576:.2f} GiB, "
      f"artifact {r['bytes'] / 1048576:.0f} MiB, held-out {json.dumps({k: round(v, 4) for k, v in r['metrics'].items()})}")
PY
  else
    echo "movierec $kind: refused or failed: $(grep -v '^Command' "$WORK/train-$kind.err" | tail -1)"
  fi
done
OPENBLAS_NUM_THREADS=1 "$VENV/bin/python" bench/implicit_fit.py "$WORK/data" | tee "$WORK/implicit.json"
python3 - "$WORK" <<'PY'
import json, os, sys
work = sys.argv[1]
peer = {r["model"]: r for r in map(json.loads, open(f"{work}/implicit.json"))}
for ours, theirs in (("als", "implicit ALS"), ("item-knn", "implicit CosineRecommender")):
    path = f"{work}/train-{ours}.json"
    if os.path.exists(path) and os.path.getsize(path) and theirs in peer:
        r = json.load(open(path))
        p = peer[theirs]
        print(f"{ours}: fit {r['fit_seconds']:.1f} s vs {theirs} {p['fit_seconds']:.1f} s "
              f"({p['fit_seconds'] / r['fit_seconds']:.2f}x implicit's speed; implicit's peak {p['peak_bytes'] / 2**30:.2f} GiB)")
PY

# Serving memory at this size: models are read when first asked for.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUST_LOG=warn "$BIN" --db "$WORK/m.db" --data-dir "$WORK/dir" serve --addr "127.0.0.1:$port" 2>"$WORK/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 600); do curl -sf "127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
rss() { awk '/VmRSS/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$pid/status"; }
echo "serve, catalog only: $(rss)"
for kind in "${kinds[@]}"; do
  [ -s "$WORK/train-$kind.json" ] || continue
  curl -sf "127.0.0.1:$port/api/movies/1/similar?model=$kind&n=10" >/dev/null
  echo "serve, after the first /similar?model=$kind: $(rss)"
done
