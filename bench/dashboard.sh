#!/usr/bin/env bash
# The dashboard's pages as a browser loads them, this build against an older one side by side:
# Lighthouse (its default mobile run, Debian chromium) on each page of each server, one page at a
# time, taking turns. Prints per page and build: the performance score, LCP, CLS, total blocking
# time, the bytes transferred, and when the page marked itself ready (`movierec:ready`: its lists
# drawn). Each build loads the same inputs into a database of its own.
#   BASE_BIN=path/to/older/movierec bench/dashboard.sh            # embedded vega + ml-latest-small
#   CATALOG=big.csv BASE_BIN=… bench/dashboard.sh                  # a synthetic catalog instead
#                                                                  # (bench/gen_catalog.py 1000000)
#   PAGES="/ /quality" RUNS=3 BASE_BIN=… bench/dashboard.sh         # some pages, each 3 times
# Needs the pinned lighthouse that scripts/test installs under target/test-tools/npm, chromium,
# and ../shared/data/ml-latest-small without CATALOG.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BASE_BIN:?set BASE_BIN to the movierec to compare with}"
lighthouse=target/test-tools/npm/node_modules/.bin/lighthouse
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cargo build --release --quiet
declare -A bins=([head]=target/release/movierec [base]=$BASE_BIN)
declare -A ports=([head]=18201 [base]=18202)
for which in head base; do
  bin=${bins[$which]} db="$work/$which.db"
  if [ -n "${CATALOG:-}" ]; then
    "$bin" --db "$db" etl --source "$CATALOG" >/dev/null
  else
    "$bin" --db "$db" etl >/dev/null
    "$bin" --db "$db" etl --source movielens:../shared/data/ml-latest-small >/dev/null
  fi
  RUST_LOG=warn "$bin" --db "$db" serve --addr "127.0.0.1:${ports[$which]}" 2>"$work/$which.log" &
  pids+=($!)
done
for which in head base; do
  until curl -fs "http://127.0.0.1:${ports[$which]}/health" >/dev/null; do sleep 0.2; done
done
movie=$(curl -fs "http://127.0.0.1:18201/api/movies/popular?n=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
printf '%-26s %-5s %6s %9s %7s %8s %9s %9s\n' page build score "LCP ms" CLS "TBT ms" "KB" "ready ms"
read -r -a pages <<<"${PAGES:-/ /?id=MOVIE&n=50 /for-you /users /models /catalog?movie=MOVIE /quality}"
for page in "${pages[@]}"; do
  page=${page//MOVIE/$movie}
  for run in $(seq 1 "${RUNS:-1}"); do for which in head base; do
    out="$work/report.json"
    CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium} "$lighthouse" "http://127.0.0.1:${ports[$which]}$page" --quiet \
      --only-categories=performance --chrome-flags="--headless --no-sandbox --disable-dev-shm-usage" \
      --output=json --output-path="$out" >/dev/null 2>&1 || { echo "$page $which: lighthouse did not run"; continue; }
    python3 - "$out" "$page" "$which" <<'PY'
import json, sys
r, page, which = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
a = r["audits"]
marks = {m["name"]: m["startTime"] for m in a["user-timings"].get("details", {}).get("items", []) if m.get("timingType") == "Mark"}
ready = marks.get("movierec:ready")
print(f"{page[:26]:<26} {which:<5} {round(r['categories']['performance']['score'] * 100):>6} "
      f"{a['largest-contentful-paint']['numericValue']:>9.0f} {a['cumulative-layout-shift']['numericValue']:>7.3f} "
      f"{a['total-blocking-time']['numericValue']:>8.0f} {a['total-byte-weight']['numericValue'] / 1024:>9.1f} "
      f"{'' if ready is None else f'{ready:.0f}':>9}")
PY
  done; done
done
echo "(Lighthouse simulates a mid-range phone: 4x CPU slowdown, slow 4G; ready is unthrottled wall time.)"
