#!/usr/bin/env bash
# Peak RSS and rows/s of `movierec etl` on generated movie CSVs (bench/gen_movies.py), for a base
# revision and the working tree, side by side in one run.
#   usage: bench/etl_memory.sh [BASE_REV] [ROWS...]     (default: HEAD~1, 1000000 5000000)
#   BASE_BIN=path skips building the base revision.
# The base is built from a git worktree under target/ (sharing the target directory's
# dependencies). Data goes to a temp dir, never the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-HEAD~1}; shift || true
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(1000000 5000000)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet
head_bin="$work/movierec-head"; cp target/release/movierec "$head_bin"
base_bin=${BASE_BIN:-}
if [ -z "$base_bin" ]; then
  rm -rf target/bench-base; git worktree prune
  git worktree add --detach target/bench-base "$base" >/dev/null
  (cd target/bench-base && CARGO_TARGET_DIR=.. cargo build --release --quiet --bin movierec)
  base_bin="$work/movierec-base"; cp target/release/movierec "$base_bin"
  git worktree remove --force target/bench-base
  cargo build --release --quiet
fi

printf '%-10s %-6s %10s %12s %14s\n' rows binary seconds rows/s "peak RSS MiB"
for n in "${sizes[@]}"; do
  python3 bench/gen_movies.py "$n" >"$work/movies-$n.csv"
  for which in base head; do
    bin=$head_bin; [ "$which" = base ] && bin=$base_bin
    rm -rf "$work/db-$which"*
    /usr/bin/time -v "$bin" --db "$work/db-$which.db" etl --source "$work/movies-$n.csv" \
      >/dev/null 2>"$work/time.txt" || { cat "$work/time.txt"; exit 1; }
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$work/time.txt")
    printf '%-10s %-6s %10.2f %12.0f %14s\n' "$n" "$which" "$secs" "$(awk -v n="$n" -v s="$secs" 'BEGIN{print n/s}')" "$rss"
  done
  rm -f "$work/movies-$n.csv"
done
