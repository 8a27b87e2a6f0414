#!/usr/bin/env bash
# Memory and threads of `movierec serve` under many connections, and how much comes back after:
# wrk with 512 and then 5,000 connections on a database-backed route (/api/movies, one pooled
# connection per request), for this build and optionally an older one, in one run. Reports idle
# RSS, peak RSS and threads during the load, RSS 10 s after it, and the non-2xx answers.
#   usage: bench/connections.sh [BASE_BIN]     (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15}
ulimit -n 20000
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
wait_http() { for _ in $(seq 1 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
rss() { awk '/^VmRSS/ {print int($2/1024)}' "/proc/$1/status"; }
threads() { awk '/^Threads/ {print $2}' "/proc/$1/status"; }

cargo build --release --quiet --bin movierec
bins=("head|target/release/movierec")
[ -n "${1:-}" ] && bins+=("base|$1")
printf '%-6s %6s %9s %9s %9s %12s %10s %10s\n' build conns "idle MiB" "peak MiB" "after MiB" "peak threads" "requests" "non-2xx"
port=18100
for b in "${bins[@]}"; do
  name=${b%%|*}; bin=${b#*|}
  port=$((port + 1))
  "$bin" --db "$work/$name.db" etl >/dev/null
  RUST_LOG=error "$bin" --db "$work/$name.db" serve --addr "127.0.0.1:$port" 2>"$work/$name.log" &
  pid=$!; pids+=("$pid")
  url="http://127.0.0.1:$port/api/movies?limit=50&sort=-votes"
  wait_http "$url"
  for conns in 512 5000; do
    idle=$(rss "$pid")
    wrk -t2 -c"$conns" -d"${DURATION}s" --timeout 10s "$url" >"$work/wrk.txt" 2>&1 &
    wpid=$!
    peak=0; peak_threads=0
    while kill -0 "$wpid" 2>/dev/null; do
      r=$(rss "$pid"); t=$(threads "$pid")
      [ "$r" -gt "$peak" ] && peak=$r
      [ "$t" -gt "$peak_threads" ] && peak_threads=$t
      sleep 0.2
    done
    sleep 10
    after=$(rss "$pid")
    requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
    bad=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt"); bad=${bad:-0}
    errors=$(awk '/Socket errors/ {print $0}' "$work/wrk.txt")
    printf '%-6s %6s %9s %9s %9s %12s %10s %10s  %s\n' "$name" "$conns" "$idle" "$peak" "$after" "$peak_threads" "$requests" "$bad" "$errors"
  done
done
