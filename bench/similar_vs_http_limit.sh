#!/usr/bin/env bash
# /api/movies/{id}/similar?n=10 (id: the most voted movie) throughput as a fraction of the HTTP stack's limit, in one run:
# movierec (release, every production layer on, request logs at `warn`) against
# examples/fixed_body.rs (same axum, same allocator, release) returning the very same bytes.
#   usage: bench/similar_vs_http_limit.sh [BASE_BIN]   (BASE_BIN: an older movierec to compare too)
# Needs wrk (apt-get install wrk). One wrk thread, 32 connections: the servers get the other core.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}       # servers are measured in turns, ROUNDS times; each one's best run counts
CONNECTIONS=${CONNECTIONS:-32}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
wait_http() { for _ in $(seq 1 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
rps() { wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
best() { awk -v a="$1" -v b="$2" 'BEGIN{print (a > b ? a : b)}'; }

cargo build --release --quiet --bin movierec --example fixed_body
bin=target/release/movierec
"$bin" --db "$work/m.db" etl >/dev/null
RUST_LOG=warn "$bin" --db "$work/m.db" serve --addr 127.0.0.1:18001 2>"$work/m.log" &
pids+=("$!")
wait_http "http://127.0.0.1:18001/health/ready"
# The most voted movie: a rated one, so the bench measures an answer, not a 404.
top=$(curl -fs "http://127.0.0.1:18001/api/movies/popular?n=1" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
PATH_Q="/api/movies/$top/similar?n=10"
wait_http "http://127.0.0.1:18001$PATH_Q"
curl -fs "http://127.0.0.1:18001$PATH_Q" >"$work/body.json"
target/release/examples/fixed_body "$work/body.json" 127.0.0.1:18002 2>"$work/f.log" &
pids+=("$!")
wait_http "http://127.0.0.1:18002$PATH_Q"
cmp <(curl -fs "http://127.0.0.1:18002$PATH_Q") "$work/body.json"

targets=("fixed body (HTTP limit)|http://127.0.0.1:18002$PATH_Q" "movierec /similar|http://127.0.0.1:18001$PATH_Q")
if [ -n "${1:-}" ]; then
  "$1" --db "$work/b.db" etl >/dev/null
  RUST_LOG=warn "$1" --db "$work/b.db" serve --addr 127.0.0.1:18003 2>"$work/b.log" &
  pids+=("$!")
  wait_http "http://127.0.0.1:18003$PATH_Q"
  targets+=("base movierec /similar|http://127.0.0.1:18003$PATH_Q")
fi
declare -A top
for _ in $(seq 1 "$ROUNDS"); do
  for t in "${targets[@]}"; do
    r=$(rps "${t#*|}")
    top[$t]=$(best "${top[$t]:-0}" "$r")
  done
done
limit=${top[${targets[0]}]}
printf '%-28s %12s %10s\n' server req/s "of limit"
for t in "${targets[@]}"; do
  printf '%-28s %12s %10s\n' "${t%%|*}" "${top[$t]}" "$(awk -v a="${top[$t]}" -v b="$limit" 'BEGIN{printf "%.2f", a/b}')"
done
echo "body: $(wc -c <"$work/body.json") bytes; best of $ROUNDS runs of ${DURATION}s each, taken in turns; wrk -t1 -c$CONNECTIONS"
