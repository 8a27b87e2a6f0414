#!/usr/bin/env bash
# Peak RSS and rows/s of `movierec etl` on generated movie CSVs (bench/gen_movies.py), for a base
# revision and the working tree, side by side in one run.
#   usage: bench/etl_memory.sh [BASE_REV] [ROWS...]     (default: HEAD, 1000000 5000000)
# The base is built in a git worktree under target/bench-base. Data goes to a temp dir, never the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-HEAD}; shift || true
sizes=("${@:-1000000 5000000}")
read -r -a sizes <<<"${sizes[*]}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet
rm -rf target/bench-base
git worktree prune
git worktree add --detach target/bench-base "$base" >/dev/null 2>&1
(cd target/bench-base && CARGO_TARGET_DIR=../bench-base-target cargo build --release --quiet)
git worktree remove --force target/bench-base

printf '%-10s %-12s %10s %12s %12s\n' rows binary seconds rows/s "peak RSS MiB"
for n in "${sizes[@]}"; do
  python3 bench/gen_movies.py "$n" >"$work/movies-$n.csv"
  for which in base head; do
    bin=target/release/movierec
    [ "$which" = base ] && bin=target/bench-base-target/release/movierec
    rm -rf "$work/db-$which"* 
    /usr/bin/time -v "$bin" --db "$work/db-$which.db" etl --source "$work/movies-$n.csv" \
      >/dev/null 2>"$work/time.txt"
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$work/time.txt")
    printf '%-10s %-12s %10.2f %12.0f %12s\n' "$n" "$which" "$secs" "$(awk -v n="$n" -v s="$secs" 'BEGIN{print n/s}')" "$rss"
  done
  rm -f "$work/movies-$n.csv"
done
