#!/usr/bin/env bash
# Ratings bulk load: a generated MovieLens dataset in the ml-25m layout (bench/gen_ratings.py;
# 25,000,000 ratings by default, not committed), loaded by `movierec etl --source movielens:DIR`
# into an empty database under /usr/bin/time -v (wall time, peak RSS), then reloaded (a no-op).
# Side by side on a 1,000,000-row slice: movierec vs pandas `read_csv` + `to_sql` (the
# reference design's tools) into SQLite, in one hyperfine run.
#   bench/ratings_load.sh [RATINGS]        # needs hyperfine and the reference venv (REF_PY)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-25000000}
REF_PY=${REF_PY:-/tmp/refvenv/bin/python}
work=${WORK:-$(mktemp -d)}
cargo build --release --quiet
bin=$PWD/target/release/movierec
[ -f "$work/full/ratings.csv" ] || python3 bench/gen_ratings.py "$work/full" "$ROWS"
rm -f "$work"/full.db*
echo "== movierec, $ROWS ratings, empty database"
/usr/bin/time -v "$bin" --db "$work/full.db" etl --source "movielens:$work/full" --json \
  2>"$work/time.txt" | python3 -c 'import json,sys; r=json.load(sys.stdin)["ratings"]; print(r)'
grep -E "Elapsed|Maximum resident" "$work/time.txt"
echo "== movierec, the same dataset again (no-op)"
/usr/bin/time -v "$bin" --db "$work/full.db" etl --source "movielens:$work/full" --json \
  2>"$work/time.txt" | python3 -c 'import json,sys; r=json.load(sys.stdin)["ratings"]; print(r)'
grep -E "Elapsed|Maximum resident" "$work/time.txt"

mkdir -p "$work/slice"
cp "$work/full/movies.csv" "$work/full/links.csv" "$work/slice/"
head -n 1000001 "$work/full/ratings.csv" >"$work/slice/ratings.csv"
# pandas as the reference design would: read_csv + to_sql of the same files (movies, links,
# ratings), and of the ratings alone.
cat >"$work/pandas_load.py" <<'PY'
import sqlite3, sys
import pandas as pd
d, db, files = sys.argv[1], sys.argv[2], sys.argv[3:]
with sqlite3.connect(db) as conn:
    for name in files:
        pd.read_csv(f"{d}/{name}.csv").to_sql(name, conn, if_exists="replace", index=False)
PY
echo "== 1,000,000-row slice (62,423 movies with links): movierec vs pandas read_csv + to_sql"
hyperfine --warmup 1 --runs 5 \
  --prepare "rm -f $work/slice.db $work/slice.db-wal $work/slice.db-shm $work/pandas.db" \
  -n 'movierec etl movielens (movies, links, 1M ratings)' "$bin --db $work/slice.db etl --source movielens:$work/slice --json" \
  -n 'pandas read_csv + to_sql (movies, links, 1M ratings)' "$REF_PY $work/pandas_load.py $work/slice $work/pandas.db movies links ratings" \
  -n 'pandas read_csv + to_sql (1M ratings only)' "$REF_PY $work/pandas_load.py $work/slice $work/pandas.db ratings"
