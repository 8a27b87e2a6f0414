#!/usr/bin/env bash
# Whole-process loads of the shared MovieLens datasets into an empty database (movies, links,
# ratings, tags), and their idempotent reruns, with hyperfine; then the identity report of vega +
# the TMDB 5000 export + ml-latest-small loaded together.
#   bench/movielens_load.sh            # needs hyperfine and ../shared/data
#   BASE_BIN=path/to/older/movierec bench/movielens_load.sh   # an older build in the same runs too
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATA:-../shared/data}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
bin=$PWD/target/release/movierec
# One command per build: `BIN --db DB etl` of vega, the TMDB 5000 export and ml-latest-small in turn.
cat >"$work/three.sh" <<EOF
#!/usr/bin/env bash
set -e
\$1 --db \$2 etl >/dev/null
\$1 --db \$2 etl --source $data/tmdb-5000/tmdb_5000_movies.csv >/dev/null
\$1 --db \$2 etl --source movielens:$data/ml-latest-small >/dev/null
EOF
chmod +x "$work/three.sh"
for ds in ml-latest-small ml-100k; do
  base=()
  [ -n "${BASE_BIN:-}" ] && base=(-n "base etl movielens:$ds (empty db)" "$BASE_BIN --db $work/$ds.db etl --source movielens:$data/$ds --json")
  hyperfine --warmup 1 --runs 10 \
    --prepare "rm -rf $work/$ds.db $work/$ds.db-wal $work/$ds.db-shm $work/$ds-data" \
    -n "movierec etl movielens:$ds (empty db)" "$bin --db $work/$ds.db etl --source movielens:$data/$ds --json" \
    "${base[@]}"
  "$bin" --db "$work/$ds.db" etl --source "movielens:$data/$ds" --json >/dev/null
  hyperfine --warmup 1 --runs 10 -n "movierec etl movielens:$ds (rerun, no-op)" \
    "$bin --db $work/$ds.db etl --source movielens:$data/$ds --json"
done
echo "== vega + the TMDB 5000 export + ml-latest-small into one empty database, whole processes"
base=()
[ -n "${BASE_BIN:-}" ] && base=(-n "base: three sources" "$work/three.sh $BASE_BIN $work/three.db")
hyperfine --warmup 1 --runs 10 \
  --prepare "rm -rf $work/three.db $work/three.db-wal $work/three.db-shm $work/three-data" \
  -n "movierec: three sources" "$work/three.sh $bin $work/three.db" "${base[@]}"
echo "== identity: vega, then the TMDB 5000 export, then ml-latest-small, into one catalog"
db=$work/all.db
for source in embedded "$data/tmdb-5000/tmdb_5000_movies.csv" "movielens:$data/ml-latest-small"; do
  "$bin" --db "$db" etl --source "$source" --json >"$work/report.json"
  python3 - "$work/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["counts"]
print("{}: extracted {}, loaded {}, inserted {}, updated {}, rejected {}".format(
    r["source"], c["extracted"], c["loaded"], c["inserted"], c["updated"], c["rejected"]))
for p, i in r["identity"]["providers"].items():
    print("  {}: matched by id {}, by title {}, one year apart {}, new {}, ambiguous {}".format(
        p, i["matched_by_id"], i["matched_by_title"], i["matched_by_near_year"], i["new"], i["ambiguous"]))
for a in r["identity"]["ambiguous"]:
    print("    ambiguous: row {} {} ({}): candidates {}, loaded as {}".format(
        a["source_row"], a["title"], a["year"], a["candidates"], a["loaded_as"]))
PY
done
python3 - "$db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
q = lambda sql: db.execute(sql).fetchone()[0]
print(f"catalog: {q('SELECT COUNT(*) FROM Movies')} movies, {q('SELECT COUNT(*) FROM ratings')} ratings, {q('SELECT COUNT(*) FROM tags')} tags")
print(f"movies described by 3 providers: {q('SELECT COUNT(*) FROM (SELECT MovieID FROM movie_sources GROUP BY MovieID HAVING COUNT(*) = 3)')}, by 2: {q('SELECT COUNT(*) FROM (SELECT MovieID FROM movie_sources GROUP BY MovieID HAVING COUNT(*) = 2)')}")
shared = "SELECT COUNT(*) FROM (SELECT external_id FROM movie_ids WHERE namespace = 'tmdb' GROUP BY external_id HAVING COUNT(DISTINCT MovieID) > 1)"
print(f"TMDB ids on more than one movie: {q(shared)}")
PY
