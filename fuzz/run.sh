#!/usr/bin/env bash
# Runs every fuzz target (or the TARGETs named) from its seed corpus for SECONDS each
# (default 60), or until RUNS executions if RUNS is given, and prints a markdown table of
# executions and findings. FUZZ_FLAGS adds cargo-fuzz build flags, e.g.
# FUZZ_FLAGS="--no-trace-compares --target-dir /tmp/fuzz-ntc" (a second build, kept apart).
# Usage: bash fuzz/run.sh [SECONDS] [RUNS] [TARGET...]. Needs cargo-fuzz: bash fuzz/install.sh.
# New inputs go to a scratch folder, so the committed corpora stay the seeds.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
runs=${2:-}
shift $(( $# < 2 ? $# : 2 ))
export RUSTC_BOOTSTRAP=1   # cargo fuzz needs nightly flags; the stable toolchain takes them so.
read -r -a flags <<<"-O -a -s none ${FUZZ_FLAGS:-}"
cargo fuzz build "${flags[@]}" >/dev/null 2>&1 || cargo fuzz build "${flags[@]}"
mapfile -t known < <(cargo fuzz list)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${known[@]}")
for target in "${targets[@]}"; do   # a typo is a usage error, not a "finding"
  [[ " ${known[*]} " == *" $target "* ]] || { echo "no fuzz target $target; there are: ${known[*]}" >&2; exit 2; }
done
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
echo "| target | seconds | executions | executions/s | crashes, hangs, out-of-memory |"
echo "|---|---|---|---|---|"
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "$scratch/$target"
  log="$scratch/$target.log"
  limit=(-max_total_time="$seconds")
  [ -n "$runs" ] && limit=(-runs="$runs")
  started=$(date +%s)
  if cargo fuzz run "${flags[@]}" "$target" "$scratch/$target" "corpus/$target" -- "${limit[@]}" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 >"$log" 2>&1; then
    findings=none
  else
    findings="FOUND (artifacts in fuzz/artifacts/$target)"
    status=1
    tail -30 "$log" >&2
  fi
  took=$(( $(date +%s) - started ))
  executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(( ${executions:-0} / (took > 0 ? took : 1) ))
  echo "| $target | $took | ${executions:-?} | $rate | $findings |"
done
exit $status
