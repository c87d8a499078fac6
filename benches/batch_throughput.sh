#!/usr/bin/env bash
# Rows/s of `juhe batch` at concurrency 1, 8, 32, 64 in plain and RSA modes against a sandbox
# in another process, beside the same work done by benches/batch_python.py (requests + a thread
# pool; `juhe batch --no-dedupe`, so both check every row); then the peak memory of
# `juhe batch` over 1,000,000 rows with dedupe on: all distinct (every row billed), and
# the population repeated (the map of repeats at its largest use).
# Without a ledger (benches/batch_ledger.sh measures one).
# Usage: bash benches/batch_throughput.sh [plain_rows] [rsa_rows] [memory_rows] (0 skips that part)
set -euo pipefail
cd "$(dirname "$0")/.."
plain_rows=${1:-20000}; rsa_rows=${2:-1500}; memory_rows=${3:-1000000}
python3 -c "import requests, cryptography" 2>/dev/null || pip install -q requests cryptography
cargo build --release -q -p juhe-cli
juhe=target/release/juhe
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

$juhe sandbox serve --quiet --addr 127.0.0.1:0 --credentials-out "$tmp/creds.json" 2>/dev/null &
for _ in $(seq 100); do [ -s "$tmp/creds.json" ] && break; sleep 0.1; done
read -r base key openid < <(python3 -c "import json; c=json.load(open('$tmp/creds.json')); print(c['base_url'], c['key'], c['openid'])")
python3 -c "import json; open('$tmp/public.pem','w').write(json.load(open('$tmp/creds.json'))['rsa_public_key'])"
$juhe sandbox identities > "$tmp/people.csv"

# IN.csv of N rows: the population, repeated.
make_input() {
  python3 - "$1" "$2" "$tmp/people.csv" <<'PY'
import csv, sys
n, out, people = int(sys.argv[1]), sys.argv[2], list(csv.DictReader(open(sys.argv[3], encoding="utf-8")))
with open(out, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f); w.writerow(["name", "idcard", "mobile"])
    for i in range(n):
        p = people[i % len(people)]; w.writerow([p["name"], p["idcard"], p["mobile"]])
PY
}

seconds() { python3 -c "import time; print(time.time())"; }

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d); sandbox: juhe sandbox serve --quiet (2 threads, own process)"
echo "| mode | rows | concurrency | juhe batch rows/s | Python rows/s | ratio |"
echo "|---|---|---|---|---|---|"
for mode in plain rsa; do
  rows=$plain_rows; [ "$mode" = rsa ] && rows=$rsa_rows
  [ "$rows" -eq 0 ] && continue
  make_input "$rows" "$tmp/in.csv"
  for c in 1 8 32 64; do
    rm -f "$tmp/out.csv"
    start=$(seconds)
    $juhe --key "$key" --openid "$openid" --rsa-public-key "$tmp/public.pem" --base-url "$base" --mode "$mode" \
      --no-ledger batch telecom3 --input "$tmp/in.csv" --output "$tmp/out.csv" --concurrency "$c" --no-dedupe 2>/dev/null
    rust=$(python3 -c "print($rows / ($(seconds) - $start))")
    [ "$(wc -l < "$tmp/out.csv")" -eq $((rows + 1)) ] || { echo "juhe batch wrote the wrong number of rows"; exit 1; }
    start=$(seconds)
    python3 benches/batch_python.py "$base" "$key" "$mode" "$c" "$tmp/in.csv" "$tmp/py.csv" "$tmp/public.pem"
    py=$(python3 -c "print($rows / ($(seconds) - $start))")
    printf '| %s | %s | %s | %.0f | %.0f | %.1f× |\n' "$mode" "$rows" "$c" "$rust" "$py" "$(python3 -c "print($rust / $py)")"
  done
done

echo
# N distinct people: valid ID numbers (district 110105, a birth date per 1,000, a sequence
# number), names and mobiles from the population: each is a billed mismatch (the mobile is the
# sandbox's, the ID card number is not), so dedupe has a billed answer per row to remember.
make_distinct() {
  python3 - "$1" "$2" "$tmp/people.csv" <<'PY'
import csv, datetime, sys
n, out, people = int(sys.argv[1]), sys.argv[2], list(csv.DictReader(open(sys.argv[3], encoding="utf-8")))
weights, checks = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], "10X98765432"
with open(out, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f); w.writerow(["name", "idcard", "mobile"])
    for i in range(n):
        born = datetime.date(1960, 1, 1) + datetime.timedelta(days=i // 1000)
        first17 = f"110105{born:%Y%m%d}{i % 1000:03d}"
        idcard = first17 + checks[sum(int(d) * k for d, k in zip(first17, weights)) % 11]
        p = people[i % len(people)]
        w.writerow([p["name"], idcard, p["mobile"]])
PY
}

memory_run() {
  python3 - "$juhe" "$key" "$base" "$1" "$tmp/out.csv" "$memory_rows" "$2" <<'PY'
import resource, subprocess, sys, time
juhe, key, base, big, out, rows, label = sys.argv[1:8]
start = time.time()
subprocess.run([juhe, "--key", key, "--base-url", base, "--no-ledger", "batch", "telecom3", "--input", big, "--output", out, "--concurrency", "64"],
               check=True, stderr=subprocess.DEVNULL)
elapsed = time.time() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
lines = sum(1 for _ in open(out, encoding="utf-8")) - 1
print(f"memory ({label}): juhe batch over {rows} rows (plain, concurrency 64, dedupe on): peak RSS {peak_kb / 1024:.1f} MB, "
      f"{elapsed:.0f} s, {int(rows) / elapsed:.0f} rows/s, {lines} rows written")
PY
}

[ "$memory_rows" -eq 0 ] && exit 0
make_distinct "$memory_rows" "$tmp/big.csv"
rm -f "$tmp/out.csv"
memory_run "$tmp/big.csv" "all rows distinct"
make_input "$memory_rows" "$tmp/big.csv"
rm -f "$tmp/out.csv"
memory_run "$tmp/big.csv" "the 1,200 people repeated"
