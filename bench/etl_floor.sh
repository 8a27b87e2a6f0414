#!/usr/bin/env bash
# The load against SQLite's own limit for the same rows: `movierec etl` of a generated movies CSV
# (bench/gen_movies.py), then the time SQLite itself takes to write exactly the rows that load
# left (every catalog table, with the same schema and indexes, one transaction, inserted row by
# row in each table's key order — its best case), side by side in one run. The ratio says how
# much of the load's time is identity, transform and bookkeeping, and how much is the rows the
# catalog keeps.
#   usage: bench/etl_floor.sh [ROWS]      (default 1000000; needs python3 and the sqlite3 CLI)
#   BIN=path/to/movierec                  (default: a release build of the working tree)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "${BIN:-}" ]; then cargo build --release --quiet; BIN=target/release/movierec; fi
python3 bench/gen_movies.py "$rows" >"$work/movies.csv"

start=$(date +%s.%N)
"$BIN" --db "$work/loaded.db" etl --source "$work/movies.csv" >/dev/null
load=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')

# A database with the same schema (movierec's migrations: a one-record load, emptied below).
head -n 2 "$work/movies.csv" >"$work/one.csv"
"$BIN" --db "$work/empty.db" etl --source "$work/one.csv" --data-dir "$work/empty-data" >/dev/null
tables=$(sqlite3 "$work/loaded.db" "SELECT name FROM sqlite_schema WHERE type = 'table'
  AND name NOT LIKE 'sqlite_%' AND name NOT IN ('genres', '_rusqlite_migration', 'api_quota')
  ORDER BY name")
{
  echo "PRAGMA journal_mode = WAL;"
  echo "ATTACH '$work/loaded.db' AS src;"
  for t in $tables; do echo "DELETE FROM main.\"$t\";"; done
  echo "BEGIN IMMEDIATE;"
  # `WHERE true`: row by row, as any writer's rows; a bare `SELECT *` from an identical table
  # would take SQLite's transfer optimisation, which copies encoded records without inserting.
  for t in $tables; do echo "INSERT INTO main.\"$t\" SELECT * FROM src.\"$t\" WHERE true;"; done
  echo "COMMIT;"
} >"$work/copy.sql"
# Emptying it is not timed.
grep -v '^INSERT\|^BEGIN\|^COMMIT' "$work/copy.sql" | sqlite3 "$work/empty.db" >/dev/null
grep -v '^DELETE' "$work/copy.sql" >"$work/insert.sql"
start=$(date +%s.%N)
sqlite3 "$work/empty.db" <"$work/insert.sql" >/dev/null
floor=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')

rows_written=$(for t in $tables; do sqlite3 "$work/loaded.db" "SELECT COUNT(*) FROM \"$t\""; done | awk '{ n += $1 } END { print n }')
printf 'records %s, catalog rows written %s (%s tables)\n' "$rows" "$rows_written" "$(echo $tables | wc -w)"
printf '%-44s %8.2f s\n' "movierec etl (whole process)" "$load" "sqlite3: the same rows, key order, one transaction" "$floor"
printf 'ratio load / SQLite floor: %.2f\n' "$(awk -v l="$load" -v f="$floor" 'BEGIN { print l / f }')"
