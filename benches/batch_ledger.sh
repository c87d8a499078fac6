#!/usr/bin/env bash
# Rows/s of `juhe batch` at --concurrency 32 against a sandbox in another process: without a
# ledger, with a SQLite ledger, and with a PostgreSQL ledger (a server this script starts in a
# temporary directory, as the postgres user when run as root); then the same input again with
# --reuse-within (every row reused from the ledger, nothing sent).
# Usage: bash benches/batch_ledger.sh [rows] [all|sqlite|postgres] [reruns|no-reruns]
# JUHE=/path/to/juhe runs that binary instead of building this checkout's (to compare two
# builds side by side, one run after the other against the same servers' kind).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-20000}
only=${2:-all}
reruns=${3:-reruns}
source benches/sandbox_and_postgres.sh

python3 benches/people.py "$rows" "$tmp/in.csv" "$tmp/people.csv"

run() {
  local label=$1; shift
  rm -f "$tmp/out.csv"
  local start end
  start=$(date +%s.%N)
  $juhe --key "$key" --base-url "$base" "$@" batch telecom3 --input "$tmp/in.csv" --output "$tmp/out.csv" \
    --concurrency 32 2>/dev/null
  end=$(date +%s.%N)
  [ "$(wc -l < "$tmp/out.csv")" -eq $((rows + 1)) ] || { echo "$label: wrong number of rows"; exit 1; }
  printf '| %s | %s | %.0f |\n' "$label" "$rows" "$(python3 -c "print($rows / ($end - $start))")"
}

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d); sandbox and PostgreSQL in their own processes"
echo "| ledger | rows | rows/s at --concurrency 32 |"
echo "|---|---|---|"
[ "$only" = all ] && run "none (--no-ledger)" --no-ledger
if [ "$only" != postgres ]; then
  run "SQLite" --ledger "$tmp/ledger.sqlite"
  [ "$reruns" = reruns ] && run "SQLite, rerun with --reuse-within 1d (all reused)" --ledger "$tmp/ledger.sqlite" --reuse-within 1d
fi
if [ "$only" != sqlite ]; then
  run "PostgreSQL" --ledger "$postgres_url"
  [ "$reruns" = reruns ] && run "PostgreSQL, rerun with --reuse-within 1d (all reused)" --ledger "$postgres_url" --reuse-within 1d
  $juhe ledger report --ledger "$postgres_url" --format json
fi
