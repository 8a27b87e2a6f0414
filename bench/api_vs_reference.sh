#!/usr/bin/env bash
# REST API load test, movierec vs the Python reference (FastAPI/uvicorn), side by side in one run:
#   1. max throughput and latency with wrk on /api/movies/1/similar?n=10&model=content-seed and /api/movies?q=the&limit=20
#   2. p50/p99 at half of movierec's max rate (oha, fixed rate)
#   3. movierec's memory (RSS) sampled over a 60 s wrk run
#   4. /similar on a synthetic 1,000,000-movie catalog
# Needs: wrk (apt-get install wrk), oha (cargo install oha), the reference venv with fastapi+uvicorn
# (../shared/reference/README.md). Servers listen on loopback only and every load is time-bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
REF_DIR=$(cd "${REF_DIR:-../shared/reference}" && pwd)
REF_PY=${REF_PY:-/tmp/refvenv/bin/python}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}     # one wrk thread saturates both servers and leaves them the other core
LOG=${MOVIEREC_BENCH_LOG:-warn}   # RUST_LOG of the server under load
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# oha 1.5+ spells JSON output `--output-format json`, 1.4 `--json`.
oha_json=(--output-format json); oha --help | grep -q -- --output-format || oha_json=(--json)
wait_http() { for _ in $(seq 1 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
# wrk → "req/s p50 p99"
wrk_run() {
  local out; out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${2:-$DURATION}s" --latency "$1")
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")"
}
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

cargo build --release --quiet
bin=target/release/movierec
"$bin" --db "$work/m.db" etl >/dev/null
"$REF_PY" "$REF_DIR/etl.py" data/vega-movies/movies.json "$work/ref.db" >/dev/null

RUST_LOG=$LOG "$bin" --db "$work/m.db" serve --addr 127.0.0.1:18000 2>"$work/m.log" &
mpid=$!; pids+=("$mpid")
(cd "$REF_DIR" && REF_DB="$work/ref.db" exec "$REF_PY" -m uvicorn movie_platform_api:app --port 18765 --log-level warning) &
pids+=("$!")
wait_http http://127.0.0.1:18000/health
wait_http http://127.0.0.1:18765/api/movies/1

echo "== 1. wrk, $CONNECTIONS connections, ${DURATION}s each (server log level: $LOG)"
printf '%-32s %-10s %12s %10s %10s %10s\n' path server req/s p50 p99 ratio
declare -A best
for path in "/api/movies/1/similar?n=10&model=content-seed" "/api/movies?q=the&limit=20"; do
  read -r m_rps m_p50 m_p99 <<<"$(wrk_run "http://127.0.0.1:18000$path")"
  read -r r_rps r_p50 r_p99 <<<"$(wrk_run "http://127.0.0.1:18765$path")"
  best[$path]=$m_rps
  printf '%-32s %-10s %12s %10s %10s\n' "$path" movierec "$m_rps" "$m_p50" "$m_p99"
  printf '%-32s %-10s %12s %10s %10s %10s\n' "$path" reference "$r_rps" "$r_p50" "$r_p99" \
    "$(awk -v m="$m_rps" -v r="$r_rps" 'BEGIN{printf "%.0fx", m/r}')"
done

echo "== 2. oha at half of movierec's max rate, 20s"
for path in "/api/movies/1/similar?n=10&model=content-seed" "/api/movies?q=the&limit=20"; do
  rate=$(awk -v r="${best[$path]}" 'BEGIN{printf "%d", r/2}')
  oha --no-tui "${oha_json[@]}" -z 20s -q "$rate" -c 32 "http://127.0.0.1:18000$path" >"$work/oha.json"
  "$REF_PY" - "$work/oha.json" "$path" "$rate" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["latencyPercentiles"]; s = d["summary"]
codes = d.get("statusCodeDistribution", {})
print(f"{sys.argv[2]:32} rate={sys.argv[3]}/s achieved={s['requestsPerSec']:.0f}/s "
      f"p50={p['p50']*1e3:.3f}ms p99={p['p99']*1e3:.3f}ms p99.9={p['p99.9']*1e3:.3f}ms statuses={codes}")
PY
done

echo "== 3. movierec RSS over a 60 s wrk run on /similar"
samples="$(rss_mib "$mpid")"
wrk -t"$THREADS" -c"$CONNECTIONS" -d60s "http://127.0.0.1:18000/api/movies/1/similar?n=10&model=content-seed" >/dev/null &
wpid=$!
for _ in 1 2 3 4 5 6; do sleep 10; samples="$samples $(rss_mib "$mpid")"; done
wait "$wpid"
echo "RSS MiB at 0,10,...,60 s: $samples"

echo "== 4. synthetic catalog of 1,000,000 movies"
awk 'BEGIN { srand(42); print "title,release_date,rating,votes";
             for (i = 1; i <= 1000000; i++) printf "Synthetic movie %d,%d-06-01,%.1f,%d\n", i, 1920 + int(rand() * 105), 1 + rand() * 9, int(rand() * 100000) }' \
  >"$work/million.csv"
/usr/bin/time -f "etl of 1M rows: %e s, peak RSS %M KiB" "$bin" --db "$work/big.db" etl --source "$work/million.csv" >/dev/null
RUST_LOG=$LOG "$bin" --db "$work/big.db" serve --addr 127.0.0.1:18001 2>"$work/big.log" &
bpid=$!; pids+=("$bpid")
wait_http http://127.0.0.1:18001/health
echo "server RSS with 1M movies loaded: $(rss_mib "$bpid") MiB"
read -r b_rps b_p50 b_p99 <<<"$(wrk_run "http://127.0.0.1:18001/api/movies/1/similar?n=10&model=content-seed")"
echo "wrk /similar on 1M: req/s=$b_rps p50=$b_p50 p99=$b_p99"
oha --no-tui "${oha_json[@]}" -z 20s -q "$(awk -v r="$b_rps" 'BEGIN{printf "%d", r/2}')" -c 32 \
  "http://127.0.0.1:18001/api/movies/1/similar?n=10&model=content-seed" >"$work/oha.json"
"$REF_PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); p=d["latencyPercentiles"]; print("oha at half rate on 1M: p50=%.3fms p99=%.3fms achieved=%.0f/s" % (p["p50"]*1e3, p["p99"]*1e3, d["summary"]["requestsPerSec"]))' "$work/oha.json"
