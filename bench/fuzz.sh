#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (cargo fuzz, libFuzzer + AddressSanitizer) for SECONDS each
# (default 600), two at a time, from the committed seeds (fuzz/seeds/<target>, a few hand-written
# inputs) and the corpus grown by earlier runs (fuzz/corpus/<target>, local, minimised after each
# run). Prints each target's executions and whether it found a crash (saved under
# fuzz/artifacts/<target>/). Not part of CI.
#   usage: bench/fuzz.sh [SECONDS] [TARGET...]
# cargo-fuzz passes nightly-only flags (-Zsanitizer); the machine's stable toolchain accepts them
# with RUSTC_BOOTSTRAP=1, the documented escape hatch, used here and nowhere else.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
each=${1:-600}; shift || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.12.0 --locked
export RUSTC_BOOTSTRAP=1
targets=("$@"); [ ${#targets[@]} -eq 0 ] && mapfile -t targets < <(cargo fuzz list)
cargo fuzz build -O --strip-dead-code
mkdir -p logs
run() {
  mkdir -p "corpus/$1"
  cargo fuzz run -O --strip-dead-code "$1" "corpus/$1" "seeds/$1" -- -max_total_time="$each" -rss_limit_mb=2048 \
    -max_len=65536 -timeout=10 -print_final_stats=1 >"logs/$1.log" 2>&1 || true
}
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" &
  [ -n "${targets[i + 1]:-}" ] && run "${targets[i + 1]}" &
  wait
done
printf '%-10s %14s %8s %s\n' target executions seconds result
for t in "${targets[@]}"; do
  execs=$(awk '/stat::number_of_executed_units/ {print $NF}' "logs/$t.log" | tail -1)
  result=$(grep -qE 'ERROR: |panicked|deadly signal|Test unit written to' "logs/$t.log" && echo "CRASH (see fuzz/logs/$t.log)" || echo "no crash")
  printf '%-10s %14s %8s %s\n' "$t" "${execs:-?}" "$each" "$result"
  cargo fuzz cmin -O --strip-dead-code "$t" "corpus/$t" >/dev/null 2>&1 || true
done
