#!/usr/bin/env bash
# Plain-mode requests per second the sandbox serves, measured by wrk from a second process.
# Usage: bash benches/sandbox_load.sh [seconds] [connections]
# Installs wrk (Debian package) when missing. Prints the numbers for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-32}

if ! command -v wrk >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
cargo build --release -q -p juhe-cli
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

run() {
  local label=$1; shift
  rm -f "$tmp/credentials.json"
  target/release/juhe sandbox serve --addr 127.0.0.1:0 --credentials-out "$tmp/credentials.json" "$@" 2>/dev/null &
  local pid=$!
  for _ in $(seq 100); do [ -s "$tmp/credentials.json" ] && break; sleep 0.1; done
  local base
  base=$(sed -n 's/.*"base_url": "\(.*\)".*/\1/p' "$tmp/credentials.json")
  echo "== $label: wrk -t1 -c$connections -d${seconds}s (server: 2 worker threads)"
  wrk -t1 -c"$connections" -d"${seconds}s" -s benches/sandbox_load.lua "$base/idcard/query" | grep -E "Requests/sec|Latency|non-billed|requests in"
  curl -s "$base/__sandbox/ledger" | head -c 200; echo
  kill -INT "$pid"; wait "$pid" || true
}

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d)"
run "sandbox serve --quiet" --quiet
run "sandbox serve (one log line per request to stderr)"
