#!/usr/bin/env bash
# The gateway's cost per check: throughput and added latency, beside the limit (the same load
# sent straight to the sandbox). AES in (a team's key and openid) and out (the account's), an
# upstream sandbox with no latency, a SQLite ledger, no reuse (every request a new person).
# Usage: bash benches/gateway.sh [seconds] [connections]   (default: 20 32)
# Needs wrk and Python's cryptography.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
connections=${2:-32}
[ -n "${JUHE:-}" ] || cargo build --release -q -p juhe-cli
juhe=${JUHE:-$PWD/target/release/juhe}
tmp=$(mktemp -d ${TMPDIR_BASE:+-p "$TMPDIR_BASE"})
cleanup() { kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

env -u JUHE_KEY -u JUHE_BASE_URL "$juhe" sandbox serve --quiet --addr 127.0.0.1:0 --credentials-out "$tmp/sandbox.json" 2>/dev/null &
openssl rand -base64 32 > "$tmp/master.key" && chmod 600 "$tmp/master.key"
"$juhe" gateway keys add bench --master-key-file "$tmp/master.key" --ledger "$tmp/gateway.sqlite" \
  --credentials-out "$tmp/team.json" 2>/dev/null
until [ -s "$tmp/sandbox.json" ]; do sleep 0.1; done
sandbox=$(field "$tmp/sandbox.json" base_url)
"$juhe" gateway serve --addr 127.0.0.1:0 --mode aes --master-key-file "$tmp/master.key" --ledger "$tmp/gateway.sqlite" \
  --key "$(field "$tmp/sandbox.json" key)" --openid "$(field "$tmp/sandbox.json" openid)" --base-url "$sandbox" \
  --address-out "$tmp/gateway.json" 2>/dev/null &
until [ -s "$tmp/gateway.json" ]; do sleep 0.1; done
gateway=$(field "$tmp/gateway.json" base_url)

# Enough distinct people that no body repeats within a run (a repeat would be a new check of
# the same person: billed again, reuse being off).
rows=$(( seconds * 6000 ))
"$juhe" sandbox identities > "$tmp/identities.csv"
python3 benches/people.py "$rows" "$tmp/people.csv" "$tmp/identities.csv"
python3 benches/gateway_bodies.py "$tmp/people.csv" "$(field "$tmp/team.json" key)" "$(field "$tmp/team.json" openid)" "$tmp/team.bodies"
python3 benches/gateway_bodies.py "$tmp/people.csv" "$(field "$tmp/sandbox.json" key)" "$(field "$tmp/sandbox.json" openid)" "$tmp/direct.bodies"

load() { # name url bodies
  echo "== $1: wrk -t2 -c$connections -d${seconds}s"
  BODIES=$3 API_PATH=/telecom3/queryEncry wrk -t2 -c"$connections" -d"${seconds}s" --latency \
    -s benches/gateway_load.lua "$2" | grep -E "Requests/sec|non-billed|50%|99%"
}
load "the limit: the sandbox directly" "$sandbox" "$tmp/direct.bodies"
load "through the gateway" "$gateway" "$tmp/team.bodies"
echo "== latency at 100 checks a second (${seconds}s)"
echo -n "the sandbox directly:   "; python3 benches/gateway_latency.py "$sandbox/telecom3/queryEncry" "$tmp/direct.bodies" 100 "$seconds"
tail -n +$(( rows / 2 )) "$tmp/team.bodies" > "$tmp/team.late.bodies"
echo -n "through the gateway:    "; python3 benches/gateway_latency.py "$gateway/telecom3/queryEncry" "$tmp/team.late.bodies" 100 "$seconds"
