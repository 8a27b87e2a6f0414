#!/usr/bin/env bash
# Personal recommendations on ml-latest-small with the best model (EASE^R), release build:
#   1. POST /api/recommendations with a 20-rating profile: max rate (wrk), then p50/p99 at half
#      of it (oha, fixed rate)
#   2. GET /api/users/{id}/recommendations over random users: the same
#   3. the For-you page in headless Chromium: first render and rating → list updated
#      (Performance API; tests/browser.rs `bench_for_you_timings`)
# Needs wrk (apt-get install wrk), oha (cargo install oha), chromium + chromium-driver and
# ../shared/data/ml-latest-small. WORK=dir keeps the database and model between runs; BIN=path runs
# another build (e.g. the commit before a change) with a WORK of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/ml-latest-small}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-8}
LOG=${MOVIEREC_BENCH_LOG:-warn}
work=${WORK:-$(mktemp -d)}
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; [ -z "${WORK:-}" ] && rm -rf "$work"; true; }
trap cleanup EXIT
# oha 1.5+ spells JSON output `--output-format json`, 1.4 `--json`.
oha_json=(--output-format json); oha --help | grep -q -- --output-format || oha_json=(--json)
wait_http() { for _ in $(seq 1 600); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

cargo build --release --quiet
bin=${BIN:-target/release/movierec}
db="$work/m.db"
if [ ! -f "$db" ]; then
  "$bin" --db "$db" etl >/dev/null
  "$bin" --db "$db" etl --source "movielens:$DATA" >/dev/null
  "$bin" --db "$db" train --model ease | tail -3
fi
RUST_LOG=$LOG "$bin" --db "$db" serve --addr 127.0.0.1:18100 2>"$work/serve.log" &
pid=$!
base=http://127.0.0.1:18100
wait_http "$base/health"

# A 20-rating profile: the 20 most popular movies, rated 5 down to 0.5 in turns.
python3 - "$base" "$work/body.json" <<'PY'
import json, sys, urllib.request
base, out = sys.argv[1], sys.argv[2]
popular = json.load(urllib.request.urlopen(f"{base}/api/movies/popular?n=20"))["items"]
stars = [5, 4.5, 4, 3.5, 3, 2.5, 2, 1.5, 1, 0.5]
body = {"ratings": [{"movie_id": m["id"], "rating": stars[i % len(stars)]} for i, m in enumerate(popular)], "n": 10}
json.dump(body, open(out, "w"))
answer = json.loads(urllib.request.urlopen(urllib.request.Request(f"{base}/api/recommendations",
    data=json.dumps(body).encode(), headers={"content-type": "application/json"})).read())
print(f"profile of {len(body['ratings'])} ratings -> model {answer['model']}; first pick: "
      f"{answer['recommendations'][0]['title']}: {answer['recommendations'][0]['reason']}")
PY
users=$(curl -fs "$base/api/users?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = io.open("$work/body.json"):read("*a")
LUA
cat >"$work/users.lua" <<LUA
math.randomseed(7)
request = function() return wrk.format("GET", "/api/users/" .. math.random(1, $users) .. "/recommendations?n=10") end
LUA

wrk_run() { # url script -> "req/s p50 p99"
  local out; out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$2" "$1")
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")"
}
oha_run() { # rate, then oha's arguments -> "p50 p99 success"
  oha --no-tui "${oha_json[@]}" -z 20s -q "$1" -c "$CONNECTIONS" "${@:2}" >"$work/oha.json"
  python3 - "$work/oha.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["latencyPercentiles"]
print(f"{p['p50'] * 1000:.2f}ms {p['p99'] * 1000:.2f}ms {d['summary']['successRate']:.4f}")
PY
}

echo "== wrk, $CONNECTIONS connections, ${DURATION}s (max rate); then oha at half of it, 20 s"
printf '%-44s %10s %10s %10s | %8s %10s %10s %8s\n' endpoint "max req/s" p50 p99 "rate" p50 p99 ok
read -r rps p50 p99 <<<"$(wrk_run "$base/api/recommendations" "$work/post.lua")"
rate=$(awk -v r="$rps" 'BEGIN{printf "%d", r/2}')
read -r h50 h99 ok <<<"$(oha_run "$rate" -m POST -H 'content-type: application/json' -D "$work/body.json" "$base/api/recommendations")"
printf '%-44s %10s %10s %10s | %8s %10s %10s %8s\n' "POST /api/recommendations (20 ratings)" "$rps" "$p50" "$p99" "$rate" "$h50" "$h99" "$ok"
read -r rps p50 p99 <<<"$(wrk_run "$base/" "$work/users.lua")"
rate=$(awk -v r="$rps" 'BEGIN{printf "%d", r/2}')
read -r h50 h99 ok <<<"$(oha_run "$rate" --rand-regex-url "$base/api/users/([1-9]|[1-9][0-9]|[1-5][0-9][0-9])/recommendations\\?n=10")"
printf '%-44s %10s %10s %10s | %8s %10s %10s %8s\n' "GET /api/users/{id}/recommendations" "$rps" "$p50" "$p99" "$rate" "$h50" "$h99" "$ok"

echo "== For-you page in headless Chromium (Performance API)"
MOVIEREC_BENCH_BASE=$base cargo test --release --quiet --test browser bench_for_you_timings -- --ignored --nocapture 2>&1 |
  grep -E '^for-you|test result' | tee "$work/timings.txt"
python3 - "$work/timings.txt" <<'PY'
import json, statistics, sys
lines = open(sys.argv[1]).read().splitlines()
first = json.loads(next(l for l in lines if l.startswith("for-you first render")).split(": ", 1)[1])
updates = [v for r in json.loads(next(l for l in lines if l.startswith("for-you rating")).split(": ", 1)[1]) for v in r]
q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]
print(f"first render: median {statistics.median(first):.0f} ms, max {max(first):.0f} ms (n={len(first)}); "
      f"rating -> list: median {statistics.median(updates):.1f} ms, p95 {q(updates, 0.95):.1f} ms, max {max(updates):.1f} ms (n={len(updates)})")
PY
