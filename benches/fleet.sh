#!/usr/bin/env bash
# A fleet on one key: N `juhe batch` processes started at once on one ledger (SQLite file or
# PostgreSQL database), 3,000 distinct rows split between them, against a sandbox that behaves
# like Juhe over a network (answers after 50–150 ms, 100 requests a second per key, 10012
# beyond). Reports billed checks per second over the whole run, the share of requests answered
# 10012, and whether every row was billed exactly once (the sandbox's own ledger).
# Usage: bash benches/fleet.sh [rows] [sqlite|postgres|both] [N...]   (default: 3000 both 1 4 8 16)
# EXTRA="--rate 100" adds options to every process; NO_LEDGER=1 runs without a ledger (each
# process paces itself: the collapse this replaces); WHERE_REFUSED=1 lists which requests (in
# order) were answered 10012.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-3000}
backends=${2:-both}
shift $(( $# > 2 ? 2 : $# ))
fleets=("$@"); [ ${#fleets[@]} -gt 0 ] || fleets=(1 4 8 16)
[ -n "${JUHE:-}" ] || cargo build --release -q -p juhe-cli
juhe=${JUHE:-$PWD/target/release/juhe}
tmp=$(mktemp -d)
chmod 755 "$tmp"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
as_pg=""; [ "$(id -u)" = 0 ] && as_pg="runuser -u postgres --"
cleanup() {
  [ -d "$tmp/pg" ] && $as_pg "$pgbin/pg_ctl" -D "$tmp/pg" -m immediate stop >/dev/null 2>&1 || true
  kill $(jobs -p) 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
$juhe sandbox identities > "$tmp/people.csv"
python3 benches/people.py "$rows" "$tmp/in.csv" "$tmp/people.csv"

if [ "$backends" != sqlite ]; then
  mkdir "$tmp/pg"; [ -n "$as_pg" ] && chown postgres "$tmp/pg"
  port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  $as_pg "$pgbin/initdb" -D "$tmp/pg" -U postgres --auth=trust -E UTF8 >/dev/null
  $as_pg "$pgbin/pg_ctl" -D "$tmp/pg" -l "$tmp/pg/log" -w -o "-p $port -k $tmp/pg -c listen_addresses=127.0.0.1 -c max_connections=400" start >/dev/null
fi

serve() {
  rm -f "$tmp/creds.json"
  $juhe sandbox serve --quiet --addr 127.0.0.1:0 --latency 50ms..150ms --qps 100 --seed 1 \
    --credentials-out "$tmp/creds.json" 2>/dev/null &
  server=$!
  for _ in $(seq 100); do [ -s "$tmp/creds.json" ] && break; sleep 0.1; done
  read -r base key < <(python3 -c "import json; c=json.load(open('$tmp/creds.json')); print(c['base_url'], c['key'])")
}

run() { # backend n
  local backend=$1 n=$2 ledger
  case $backend in
    sqlite) ledger="--ledger $tmp/fleet-$RANDOM.sqlite" ;;
    postgres)
      local db="fleet_$RANDOM"
      $as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
      ledger="--ledger postgres://postgres@127.0.0.1:$port/$db" ;;
  esac
  [ -n "${NO_LEDGER:-}" ] && ledger="--no-ledger"
  python3 - "$tmp/in.csv" "$tmp/part" "$n" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
head, body, n = lines[0], lines[1:], int(sys.argv[3])
for i in range(n):
    with open(f"{sys.argv[2]}-{i}.csv", "w", encoding="utf-8") as f:
        f.write("\n".join([head] + body[i::n]) + "\n")
PY
  serve
  local start end pids=()
  start=$(date +%s.%N)
  for i in $(seq 0 $((n - 1))); do
    $juhe --key "$key" --base-url "$base" $ledger batch telecom3 --input "$tmp/part-$i.csv" \
      --output "$tmp/out-$i-$RANDOM.csv" ${EXTRA:-} 2>/dev/null &
    pids+=($!)
  done
  local failed=0
  for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
  end=$(date +%s.%N)
  python3 - "$backend" "$n" "$(python3 -c "print($end - $start)")" "$base" "$rows" "$failed" <<'PY'
import json, sys, urllib.request
backend, n, seconds, base, rows, failed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
ledger = json.load(urllib.request.urlopen(base + "/__sandbox/ledger"))
limited = ledger["codes"].get("10012", 0)
once = "yes" if ledger["billed"] == rows else f"NO ({ledger['billed']})"
print(f"| {backend} | {n} | {ledger['billed'] / seconds:.1f} | {100 * limited / max(1, ledger['requests']):.2f}% | {seconds:.1f} s | {once} | {failed} |")
PY
  if [ -n "${WHERE_REFUSED:-}" ]; then
    python3 - "$base" <<'PY'
import json, sys, urllib.request
log = json.load(urllib.request.urlopen(sys.argv[1] + "/__sandbox/requests"))
print("  refused at request numbers:", [i for i, r in enumerate(log) if r.get("error_code") == 10012])
PY
  fi
  kill "$server"; wait "$server" 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(date -u +%Y-%m-%d); $rows rows split across N processes; sandbox --latency 50ms..150ms --qps 100; ${EXTRA:-defaults}${NO_LEDGER:+, no ledger}"
echo "| ledger | processes | billed/s | answered 10012 | time | every row billed once | processes failed |"
echo "|---|---|---|---|---|---|---|"
for backend in sqlite postgres; do
  [ "$backends" = both ] || [ "$backends" = "$backend" ] || continue
  for n in "${fleets[@]}"; do run "$backend" "$n"; done
done
