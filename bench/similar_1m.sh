#!/usr/bin/env bash
# /api/movies/{id}/similar with content model v2 on a synthetic catalog of N movies (default
# 1,000,000) with genres and keywords (bench/gen_catalog.py): the server's start-up (catalog read
# + fit), its memory, and wrk's latency percentiles at 1 and at 8 connections over random ids.
#   usage: [N=1000000] [WORK=dir] [BIN=movierec] bench/similar_1m.sh   (WORK keeps the database for
#   reruns; BIN: another build, e.g. the commit before a change, with a WORK of its own)
# Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
DURATION=${DURATION:-20}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT
cargo build --release --quiet
bin=${BIN:-target/release/movierec}
if [ ! -f "$work/m.db" ]; then
  python3 bench/gen_catalog.py "$N" >"$work/catalog.csv"
  /usr/bin/time -f "etl: %e s, peak RSS %M KB" "$bin" --db "$work/m.db" etl --source "$work/catalog.csv" >/dev/null
fi
started=$(date +%s.%N)
RUST_LOG=warn "$bin" --db "$work/m.db" serve --addr 127.0.0.1:18010 2>"$work/serve.log" &
pid=$!
until curl -fs "http://127.0.0.1:18010/health" >/dev/null 2>&1; do sleep 0.2; done
echo "serving after $(echo "$(date +%s.%N) - $started" | bc) s (catalog read + content models fitted); RSS $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
# Random movie ids per request (wrk's Lua), n=10, content v2.
cat >"$work/random.lua" <<LUA
math.randomseed(20261128)
request = function()
  return wrk.format("GET", "/api/movies/" .. math.random(1, $N) .. "/similar?n=10&model=content")
end
LUA
curl -fs "http://127.0.0.1:18010/api/movies/1/similar?n=3&model=content" | head -c 600; echo
for c in 1 2 8; do
  echo "--- $c connection(s), ${DURATION}s"
  wrk -t1 -c"$c" -d"${DURATION}s" --latency -s "$work/random.lua" http://127.0.0.1:18010 |
    grep -E "Requests/sec|^ +(50|90|99)%"
done
