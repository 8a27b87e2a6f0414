#!/usr/bin/env bash
# Whole-process ETL of the embedded vega dataset, movierec vs the Python reference (`etl.py`),
# side by side in one hyperfine run. Each timed run starts from an empty database; a second run
# times movierec's idempotent rerun (nothing to write).
#   bench/etl_vs_reference.sh              # needs hyperfine (apt-get install hyperfine) and the reference venv
#   BASE_BIN=path/to/older/movierec bench/etl_vs_reference.sh   # an older build in the same run too
set -euo pipefail
cd "$(dirname "$0")/.."
REF_DIR=${REF_DIR:-../shared/reference}
REF_PY=${REF_PY:-/tmp/refvenv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
base=()
[ -n "${BASE_BIN:-}" ] && base=(-n 'base movierec etl (empty db)' "$BASE_BIN --db $work/m.db etl")
hyperfine --warmup 3 --runs 30 --export-markdown "$work/fresh.md" \
  --prepare "rm -rf $work/m.db $work/m.db-wal $work/m.db-shm $work/m-data $work/ref.db" \
  -n 'movierec etl (empty db)' "target/release/movierec --db $work/m.db etl" \
  "${base[@]}" \
  -n 'python etl.py' "$REF_PY $REF_DIR/etl.py data/vega-movies/movies.json $work/ref.db"
target/release/movierec --db "$work/m.db" etl >/dev/null
hyperfine --warmup 3 --runs 30 -n 'movierec etl (rerun, no-op)' "target/release/movierec --db $work/m.db etl"
echo
echo "Counts, one run each:"
rm -f "$work/m.db" "$work/ref.db"
target/release/movierec --db "$work/m.db" etl | tail -n 3
"$REF_PY" "$REF_DIR/etl.py" data/vega-movies/movies.json "$work/ref.db"
