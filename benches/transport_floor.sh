#!/usr/bin/env bash
# How near `juhe batch` comes to the clients it is built on, on loopback at one concurrency:
# `juhe batch` (distinct telecom3 rows, plain, no ledger) beside the same single pre-built
# request sent by hyper's pooled client alone, by a bare reqwest client and by juhe-transport's
# `ReqwestTransport` (crates/juhe-transport/examples/transport_floor.rs: one current-thread
# runtime and mimalloc, as `juhe` runs), and by `wrk`. All against one `juhe sandbox serve`
# in its own process, rounds interleaved; the table shows medians of rows/s and of each
# client's rate over wrk's in the same round, and client CPU µs per request.
# Usage: bash benches/transport_floor.sh [rows] [rounds] [concurrency]
# JUHE=/path/to/juhe runs that binary instead of building this checkout's; BASE=/path/to/juhe
# adds an earlier build's batch to the same rounds, for a before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-40000}; rounds=${2:-7}; c=${3:-32}
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
cargo build --release -q -p juhe-transport --example transport_floor
if [ -z "${JUHE:-}" ]; then cargo build --release -q -p juhe-cli; fi
juhe=${JUHE:-$PWD/target/release/juhe}
floor=$PWD/target/release/examples/transport_floor
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

$juhe sandbox serve --quiet --addr 127.0.0.1:0 --credentials-out "$tmp/creds.json" 2>/dev/null &
for _ in $(seq 100); do [ -s "$tmp/creds.json" ] && break; sleep 0.1; done
read -r base key openid < <(python3 -c "import json; c=json.load(open('$tmp/creds.json')); print(c['base_url'], c['key'], c['openid'])")
$juhe sandbox identities > "$tmp/people.csv"
python3 benches/people.py "$rows" "$tmp/in.csv" "$tmp/people.csv"
# The one request of wrk and the floors: the first row, plain, as a form.
bash benches/one_request.sh "$tmp/in.csv" "$key" "$tmp"
url="$base/telecom3/query"

# Runs a client; prints "rate cpu_µs_per_request".
measure() {
  python3 - "$rows" "$@" <<'PY'
import re, resource, subprocess, sys
rows, kind, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
before = resource.getrusage(resource.RUSAGE_CHILDREN)
out = subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
if kind == "wrk":
    assert "Non-2xx" not in out.stdout, out.stdout
    done = int(re.search(r"(\d+) requests in", out.stdout).group(1))
    rate = done / float(re.search(r"requests in ([\d.]+)s", out.stdout).group(1))
elif kind == "juhe":
    done = rows
    rate = float(re.search(r"([\d.]+) rows/s", out.stderr).group(1))
else:
    done, rate = rows, float(out.stdout.split()[1])
print(f"{rate:.0f} {cpu / done * 1e6:.1f}")
PY
}

results="$tmp/results"
for round in $(seq "$rounds"); do
  echo "wrk $round $(measure wrk wrk -t 2 -c "$c" -d 2s -s "$tmp/wrk.lua" "$url")" >> "$results"
  for client in hyper reqwest transport; do
    echo "$client $round $(measure "$client" "$floor" "$client" "$url" "$tmp/body" "$rows" "$c")" >> "$results"
  done
  for build in ${BASE:+base} juhe; do
    binary=$juhe; [ "$build" = base ] && binary=$BASE
    rm -f "$tmp/out.csv"
    echo "$build $round $(measure juhe "$binary" --key "$key" --openid "$openid" --base-url "$base" --no-ledger \
      batch telecom3 --input "$tmp/in.csv" --output "$tmp/out.csv" --concurrency "$c")" >> "$results"
  done
done

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d); c = $c; $rows requests or distinct telecom3 rows a run, $rounds rounds, medians"
python3 - "$results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    client, round_, rate, cpu = line.split()
    runs.setdefault(client, {})[round_] = (float(rate), float(cpu))
wrk = runs["wrk"]
names = {"wrk": "`wrk` (the limit)", "hyper": "hyper-util's client alone", "reqwest": "bare reqwest",
         "transport": "`ReqwestTransport`", "base": "`juhe batch`, the earlier build (rows)",
         "juhe": "`juhe batch` (rows)"}
print("| client, one pre-built request unless said | rows/s | / wrk (same round) | CPU µs a request |")
print("|---|---|---|---|")
for client in ("wrk", "hyper", "reqwest", "transport", "base", "juhe"):
    if client not in runs:
        continue
    r = runs[client]
    rate = statistics.median(v[0] for v in r.values())
    ratio = statistics.median(v[0] / wrk[k][0] for k, v in r.items())
    cpu = statistics.median(v[1] for v in r.values())
    print(f"| {names[client]} | {rate:,.0f} | {ratio:.2f}× | {cpu:.1f} |")
PY
