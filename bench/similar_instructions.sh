#!/usr/bin/env bash
# User-space instructions per /api/movies/{id}/similar?n=10 request (callgrind), for movierec and for
# examples/fixed_body.rs returning the same bytes: a measure that, unlike req/s, does not move with
# the machine's load. Instrumentation is switched on only while wrk runs.
#   usage: bench/similar_instructions.sh [BASE_BIN]    (needs valgrind and wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
PATH_Q="/api/movies/1/similar?n=10&model=content-seed"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet --bin movierec --example fixed_body

# measure LABEL PORT CMD… → "LABEL: N instructions/request"
measure() {
  local label=$1 port=$2; shift 2
  RUST_LOG=warn valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$work/cg.$label" "$@" 2>/dev/null &
  local pid=$!
  for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$port$PATH_Q" >/dev/null 2>&1 && break; sleep 0.25; done
  callgrind_control -i on "$pid" >/dev/null 2>&1
  local out; out=$(wrk -t1 -c8 -d8s "http://127.0.0.1:$port$PATH_Q")
  callgrind_control -d "$pid" >/dev/null 2>&1
  sleep 1
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local reqs ir
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  ir=$(callgrind_annotate "$(ls -S "$work"/cg."$label"* | head -1)" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  awk -v l="$label" -v i="$ir" -v n="$reqs" 'BEGIN {printf "%-24s %8.0f instructions/request (%d requests)\n", l, i / n, n}'
}

target/release/movierec --db "$work/m.db" etl >/dev/null
RUST_LOG=warn target/release/movierec --db "$work/m.db" serve --addr 127.0.0.1:18201 2>/dev/null &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:18201$PATH_Q" -o "$work/body.json" 2>/dev/null && break; sleep 0.1; done
kill "$pid"; wait "$pid" 2>/dev/null || true

measure "fixed body" 18202 target/release/examples/fixed_body "$work/body.json" 127.0.0.1:18202
measure "movierec" 18203 target/release/movierec --db "$work/m.db" serve --addr 127.0.0.1:18203
if [ -n "${1:-}" ]; then
  "$1" --db "$work/b.db" etl >/dev/null
  measure "base movierec" 18204 "$1" --db "$work/b.db" serve --addr 127.0.0.1:18204
fi
