#!/usr/bin/env bash
# One replica on PostgreSQL against one on SQLite, same catalog, in one run: /similar is served
# from memory, so the two should answer alike (target: PostgreSQL within 5 %); /api/movies/{id}
# reads the database on every request, shown for what the engine costs there.
#   usage: bench/similar_postgres.sh        (release build; a throwaway cluster from scripts/pg)
# Needs wrk and Debian's postgresql (scripts/pg installs it). One wrk thread, 32 connections.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  scripts/pg stop "$work/pg" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
wait_http() { for _ in $(seq 1 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
rps() { wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
best() { awk -v a="$1" -v b="$2" 'BEGIN{print (a > b ? a : b)}'; }

cargo build --release --quiet --bin movierec
bin=target/release/movierec
url=$(scripts/pg start "$work/pg")
"$bin" --db "$work/m.db" etl >/dev/null
"$bin" --db "$work/m.db" migrate --to "$url" >/dev/null
RUST_LOG=warn "$bin" --db "$work/m.db" --data-dir "$work/d" serve --addr 127.0.0.1:18011 2>"$work/s.log" &
pids+=("$!")
RUST_LOG=warn "$bin" --db "$url" --data-dir "$work/d" serve --addr 127.0.0.1:18012 2>"$work/p.log" &
pids+=("$!")
for port in 18011 18012; do wait_http "http://127.0.0.1:$port/api/movies/1/similar?n=10"; done
cmp <(curl -fs "http://127.0.0.1:18011/api/movies/1/similar?n=10") <(curl -fs "http://127.0.0.1:18012/api/movies/1/similar?n=10")

printf '%-22s %14s %14s %10s\n' path "SQLite req/s" "PostgreSQL" ratio
for path in "/api/movies/1/similar?n=10" "/api/movies/1"; do
  s=0; p=0
  for _ in $(seq 1 "$ROUNDS"); do
    s=$(best "$s" "$(rps "http://127.0.0.1:18011$path")")
    p=$(best "$p" "$(rps "http://127.0.0.1:18012$path")")
  done
  printf '%-22s %14s %14s %10s\n' "$path" "$s" "$p" "$(awk -v a="$p" -v b="$s" 'BEGIN{printf "%.3f", a/b}')"
done
echo "best of $ROUNDS runs of ${DURATION}s each, taken in turns; wrk -t1 -c$CONNECTIONS; $(psql "$url" -Atc 'SHOW server_version')"
