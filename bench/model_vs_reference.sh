#!/usr/bin/env bash
# Content model, movierec vs the Python reference, side by side in one run: fit + one top-10 query
# on synthetic catalogs, with each process's peak memory. The reference builds the N×N matrix, so it
# only runs up to REF_MAX (default 20000; it needs ~20 GB at 50,000).
#   bench/model_vs_reference.sh            # needs the reference venv: see ../shared/reference/README.md
set -euo pipefail
cd "$(dirname "$0")/.."
REF_DIR=${REF_DIR:-../shared/reference}
REF_PY=${REF_PY:-/tmp/refvenv/bin/python}
REF_MAX=${REF_MAX:-20000}
cargo build --release --quiet --example bench_model
ours=target/release/examples/bench_model

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
printf '%-9s %-10s %10s %12s %14s %14s\n' n impl fit_s query_s peak_rss_MiB fit+query_ratio
for n in 10000 20000 100000 1000000; do
  o=$(/usr/bin/time -f 'TIME_MAXRSS=%M' "$ours" "$n" 2>&1)
  o_total=$(awk -v a="$(field fit_seconds "$o")" -v b="$(field query_seconds "$o")" 'BEGIN{print a+b}')
  printf '%-9s %-10s %10s %12s %14d\n' "$n" movierec "$(field fit_seconds "$o")" "$(field query_seconds "$o")" \
    $(( $(field TIME_MAXRSS "$o") / 1024 ))
  if [ "$n" -le "$REF_MAX" ]; then
    r=$(cd "$REF_DIR" && /usr/bin/time -f 'TIME_MAXRSS=%M' "$REF_PY" bench_model.py "$n" 2>&1)
    r_total=$(awk -v a="$(field fit_seconds "$r")" -v b="$(field query_seconds "$r")" 'BEGIN{print a+b}')
    ratio=$(awk -v r="$r_total" -v o="$o_total" 'BEGIN{ if (o > 0) printf "%.0fx", r/o; else print "inf" }')
    printf '%-9s %-10s %10s %12s %14d %14s\n' "$n" reference "$(field fit_seconds "$r")" "$(field query_seconds "$r")" \
      $(( $(field TIME_MAXRSS "$r") / 1024 )) "$ratio"
  fi
done
