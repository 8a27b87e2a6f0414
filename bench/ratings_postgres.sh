#!/usr/bin/env bash
# Ratings bulk load into PostgreSQL against PostgreSQL's own limit, in one run on one throwaway
# cluster (scripts/pg): `movierec etl --source movielens:DIR` of a generated ml-25m-layout
# dataset (bench/gen_ratings.py, 25,000,000 ratings by default) into an empty database under
# /usr/bin/time -v (wall time, peak RSS); the same load with a one-rating ratings.csv (its movies
# and links alone), so the ratings' own share is the difference; then `psql \copy` of the same
# ratings.csv into a table with the same columns, key and check, and of the same rows in
# PostgreSQL's binary format (what movierec sends), exported first. Prints rows/s and the ratios.
#   usage: bench/ratings_postgres.sh [RATINGS]    (WORK=dir keeps the generated dataset)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-25000000}
work=${WORK:-$(mktemp -d)}
chmod 755 "$work"
cleanup() { scripts/pg stop "$work/pg" 2>/dev/null || true; [ -n "${WORK:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
cargo build --release --quiet --bin movierec
bin=$PWD/target/release/movierec
[ -f "$work/full/ratings.csv" ] || python3 bench/gen_ratings.py "$work/full" "$ROWS" >/dev/null
mkdir -p "$work/movies-only"
cp "$work/full/movies.csv" "$work/full/links.csv" "$work/movies-only/"
head -n 2 "$work/full/ratings.csv" >"$work/movies-only/ratings.csv"
url=$(scripts/pg start "$work/pg")
base=${url%/postgres}
psql "$url" -qc "CREATE DATABASE full_load" -c "CREATE DATABASE movies_only" -c "CREATE DATABASE psql_copy" \
  -c "CREATE DATABASE psql_binary"

seconds() { awk -F': ' '/Elapsed/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$1"; }
/usr/bin/time -v "$bin" --db "$base/movies_only" --data-dir "$work/d1" etl \
  --source "movielens:$work/movies-only" >/dev/null 2>"$work/movies.txt"
/usr/bin/time -v "$bin" --db "$base/full_load" --data-dir "$work/d2" etl \
  --source "movielens:$work/full" >/dev/null 2>"$work/full.txt"
psql "$base/psql_copy" -qc "CREATE TABLE ratings (user_id BIGINT NOT NULL, MovieID BIGINT NOT NULL,
  rating DOUBLE PRECISION NOT NULL CHECK (rating BETWEEN 0 AND 5), rated_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, MovieID))"
/usr/bin/time -v psql "$base/psql_copy" -qc \
  "\\copy ratings FROM '$work/full/ratings.csv' WITH (FORMAT csv, HEADER true)" 2>"$work/psql.txt"
psql "$base/psql_copy" -qc "\\copy ratings TO '$work/ratings.bin' WITH (FORMAT binary)"
psql "$base/psql_binary" -qc "CREATE TABLE ratings (user_id BIGINT NOT NULL, MovieID BIGINT NOT NULL,
  rating DOUBLE PRECISION NOT NULL CHECK (rating BETWEEN 0 AND 5), rated_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, MovieID))"
/usr/bin/time -v psql "$base/psql_binary" -qc \
  "\\copy ratings FROM '$work/ratings.bin' WITH (FORMAT binary)" 2>"$work/binary.txt"
rm -f "$work/ratings.bin"
loaded=$(psql "$base/full_load" -Atc "SELECT COUNT(*) FROM ratings")
[ "$loaded" -eq "$ROWS" ] || { echo "movierec loaded $loaded ratings of $ROWS" >&2; exit 1; }

full=$(seconds "$work/full.txt"); movies=$(seconds "$work/movies.txt"); copy=$(seconds "$work/psql.txt")
binary=$(seconds "$work/binary.txt")
rss=$(awk -F': ' '/Maximum resident/ {print int($2 / 1024)}' "$work/full.txt")
awk -v n="$ROWS" -v full="$full" -v movies="$movies" -v copy="$copy" -v binary="$binary" -v rss="$rss" 'BEGIN {
  ratings = full - movies
  printf "%-44s %9s %12s %8s\n", "", "seconds", "ratings/s", "vs psql"
  printf "%-44s %9.1f %12.0f %8s\n", "psql \\copy ratings.csv (the engine'"'"'s limit)", copy, n / copy, "1.00"
  printf "%-44s %9.1f %12.0f %8.2f\n", "psql \\copy of the same rows, binary format", binary, n / binary, copy / binary
  printf "%-44s %9.1f %12.0f %8.2f\n", "movierec etl, whole (movies, links, ratings)", full, n / full, copy / full
  printf "%-44s %9.1f %12s %8s\n", "movierec etl, movies and links alone", movies, "", ""
  printf "%-44s %9.1f %12.0f %8.2f\n", "movierec etl, the ratings (the difference)", ratings, n / ratings, copy / ratings
  printf "peak RSS of the whole load: %d MiB\n", rss
}'
