#!/usr/bin/env bash
# Ingest against the TMDB stub (release builds, one run each, same machine):
#   1. the 3,000 movies of ../shared/data/tmdb-5000 with details, no faults: sustained request
#      rate as a fraction of the configured limit (the stub enforces the same limit and counts the
#      429s it had to give), and the time a full ingest takes;
#   2. the same with the test suite's faults injected (slow replies: 900 ms against a 500 ms client
#      timeout): records lost (catalogs compared row by row)
#      and the time overhead.
# Usage: bench/ingest_vs_limit.sh [RATE]   (default 40 requests/s, TMDB's documented soft cap)
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-40}
csv=../shared/data/tmdb-5000/tmdb_5000_movies.csv
[ -f "$csv" ] || { echo "missing $csv (the shared TMDB 5000 data)"; exit 1; }
cargo build --release --quiet --bin movierec --example tmdb_stub
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

run() { # name, extra stub flags...
  local name=$1; shift
  target/release/examples/tmdb_stub --csv "$csv" --key bench-key --rate-limit "$rate" "$@" \
    >"$work/$name.url" 2>"$work/$name.stub.json" &
  local stub=$!
  for _ in $(seq 1 100); do [ -s "$work/$name.url" ] && break; sleep 0.05; done
  TMDB_API_KEY=bench-key target/release/movierec --db "$work/$name.db" ingest tmdb --details \
    --rate "$rate" --timeout-ms 500 --base-url "$(cat "$work/$name.url")" --json >"$work/$name.json"
  kill -TERM "$stub"; wait "$stub" || true
  python3 - "$work/$name.json" "$work/$name.stub.json" "$rate" "$name" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["ingest"]; stub = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
rate = float(sys.argv[3])
print(f"{sys.argv[4]}: {s['status']}, {s['requests']} requests in {s['elapsed_seconds']:.1f} s = "
      f"{s['requests_per_second']:.2f}/s = {100 * s['requests_per_second'] / rate:.1f}% of {rate:g}/s; "
      f"stub: max {stub['max_in_one_second']} in any 1 s, {stub['over_limit_429']} 429s for exceeding the limit; "
      f"client: {s['retries']} retries, {s['rate_limited']} 429, {s['server_errors']} 5xx, "
      f"{s['timeouts']} timeouts, {s['malformed']} malformed, {s['skipped']} skipped; "
      f"details {s['totals']['details_done']}")
PY
}
run clean
run faults --faults
python3 - "$work/clean.db" "$work/faults.db" <<'PY'
import sqlite3, sys
q = "SELECT Title, ReleaseYear, Rating, Votes, Genre, Director FROM Movies ORDER BY Title, ReleaseYear"
a = sqlite3.connect(sys.argv[1]).execute(q).fetchall()
b = sqlite3.connect(sys.argv[2]).execute(q).fetchall()
lost = len(set(a) - set(b))
print(f"catalog: clean {len(a)} movies, with faults {len(b)}; records lost with faults: {lost}; "
      f"identical: {a == b}")
PY
