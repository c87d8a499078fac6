#!/usr/bin/env bash
# `juhe batch` against a sandbox that behaves like Juhe over a network (answers after
# 50–150 ms, 100 requests a second per key, 10012 beyond), beside a Python `requests` thread
# pool that retries 10012 after a pause: achieved billed checks per second, the share of
# requests answered 10012, total time. Without --rate the batch must find the cap itself.
# Usage: bash benches/batch_limits.sh [rows] [concurrency]; the juhe rows run with the given
# concurrency (default 64) and with juhe's own default (no --concurrency).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-3000}
concurrency=${2:-64}
cargo build --release -q -p juhe-cli
juhe=$PWD/target/release/juhe
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
$juhe sandbox identities > "$tmp/people.csv"
python3 benches/people.py "$rows" "$tmp/in.csv" "$tmp/people.csv"

# A fresh sandbox per run, so each ledger counts one run.
serve() {
  rm -f "$tmp/creds.json"
  $juhe sandbox serve --quiet --addr 127.0.0.1:0 --latency 50ms..150ms --qps 100 --seed 1 \
    --credentials-out "$tmp/creds.json" 2>/dev/null &
  server=$!
  for _ in $(seq 100); do [ -s "$tmp/creds.json" ] && break; sleep 0.1; done
  read -r base key < <(python3 -c "import json; c=json.load(open('$tmp/creds.json')); print(c['base_url'], c['key'])")
}
report() { # label seconds
  python3 - "$1" "$2" "$base" <<'PY'
import json, sys, urllib.request
label, seconds, base = sys.argv[1], float(sys.argv[2]), sys.argv[3]
ledger = json.load(urllib.request.urlopen(base + "/__sandbox/ledger"))
limited = ledger["codes"].get("10012", 0)
print(f"| {label} | {ledger['billed']} | {ledger['billed'] / seconds:.1f} | {100 * limited / max(1, ledger['requests']):.2f}% | {seconds:.1f} s |")
PY
}
timed() { local start end; start=$(date +%s.%N); "$@"; end=$(date +%s.%N); python3 -c "print($end - $start)"; }

echo "machine: $(nproc) cores, $(date -u +%Y-%m-%d); $rows rows; sandbox: --latency 50ms..150ms --qps 100"
echo "| client | billed | billed/s | answered 10012 | time |"
echo "|---|---|---|---|---|"
for slots in "--concurrency $concurrency" ""; do
  for extra in "" "--rate 100"; do
    serve
    seconds=$(timed $juhe --key "$key" --base-url "$base" --no-ledger batch telecom3 --input "$tmp/in.csv" \
      --output "$tmp/out-$RANDOM.csv" $slots $extra 2>/dev/null)
    report "juhe batch ${slots:-(default concurrency)} ${extra:-(no --rate)}" "$seconds"
    kill "$server"; wait "$server" 2>/dev/null || true
  done
done
serve
seconds=$(timed python3 - "$tmp/in.csv" "$base" "$key" "$concurrency" <<'PY'
import csv, sys, time, requests
from concurrent.futures import ThreadPoolExecutor
rows, base, key, workers = list(csv.DictReader(open(sys.argv[1], encoding="utf-8"))), sys.argv[2], sys.argv[3], int(sys.argv[4])
session = requests.Session()
session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=workers))
def check(row):
    while True:
        answer = session.post(base + "/telecom3/query", data={"key": key, "realname": row["name"], "idcard": row["idcard"], "mobile": row["mobile"]}).json()
        if answer["error_code"] != 10012:
            return answer["error_code"]
        time.sleep(1.0)  # what a hand-written client does: wait, then try again
with ThreadPoolExecutor(workers) as pool:
    list(pool.map(check, rows))
PY
)
report "Python requests, $concurrency threads, 10012 retried after 1 s" "$seconds"
