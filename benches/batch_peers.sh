#!/usr/bin/env bash
# `juhe batch` beside its peers and the limit, in one run, on loopback: distinct telecom3 rows
# against one `juhe sandbox serve` in its own process, at concurrency 8, 32 and 64, plain and
# AES modes. Peers: a Go goroutine pool on net/http (benches/batch_go) and Python `requests` +
# a thread pool (benches/batch_python.py, plain only, the first 4,000 rows); the limit: `wrk` sending one
# pre-built plain request over the same number of connections. For each: rows/s and the client
# process's CPU (user + system) per row. Rounds interleave the clients; the table shows medians.
# Usage: bash benches/batch_peers.sh [rows] [rounds]
# JUHE=/path/to/juhe runs that binary instead of building this checkout's.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-20000}; rounds=${2:-3}
command -v go >/dev/null || apt-get install -y -q golang-go >/dev/null
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
python3 -c "import requests" 2>/dev/null || pip install -q requests
if [ -z "${JUHE:-}" ]; then cargo build --release -q -p juhe-cli; fi
juhe=${JUHE:-$PWD/target/release/juhe}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
(cd benches/batch_go && go build -o "$tmp/batch_go" .)

$juhe sandbox serve --quiet --addr 127.0.0.1:0 --credentials-out "$tmp/creds.json" 2>/dev/null &
for _ in $(seq 100); do [ -s "$tmp/creds.json" ] && break; sleep 0.1; done
read -r base key openid < <(python3 -c "import json; c=json.load(open('$tmp/creds.json')); print(c['base_url'], c['key'], c['openid'])")
$juhe sandbox identities > "$tmp/people.csv"
python3 benches/people.py "$rows" "$tmp/in.csv" "$tmp/people.csv"
# Python's rate is the same over fewer rows, at a twentieth of the others' speed.
py_rows=$(( rows < 4000 ? rows : 4000 ))
head -n $((py_rows + 1)) "$tmp/in.csv" > "$tmp/py_in.csv"
# wrk's one request: the first row, plain, as a form (what every other client sends per row).
bash benches/one_request.sh "$tmp/in.csv" "$key" "$tmp"

# Runs a client, checks what it wrote, prints "rows/s cpu_µs_per_row".
measure() {
  local n=$rows; [ "$1" = python ] && n=$py_rows
  python3 - "$n" "$@" <<'PY'
import re, resource, subprocess, sys, time
rows, kind, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
before = resource.getrusage(resource.RUSAGE_CHILDREN)
start = time.perf_counter()
run = subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
elapsed = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
if kind == "wrk":
    done = int(re.search(r"(\d+) requests in", run.stdout).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", run.stdout)
    assert errors is None, run.stdout
    elapsed = float(re.search(r"requests in ([\d.]+)s", run.stdout).group(1))
else:
    # What it wrote: the argument after its input.
    out = argv[[i for i, a in enumerate(argv) if a.endswith("in.csv")][0] + 1]
    if out == "--output":
        out = argv[argv.index("--output") + 1]
    written = sum(1 for _ in open(out, encoding="utf-8")) - 1
    assert written == rows, f"{kind} wrote {written} rows of {rows}"
    done = rows
print(f"{done / elapsed:.0f} {cpu / done * 1e6:.1f}")
PY
}

results="$tmp/results"
record() { local r; r=$(measure "$3" "${@:4}"); echo "$1 $2 $3 $r" >> "$results"; }
for round in $(seq "$rounds"); do
  for c in 8 32 64; do
    for mode in plain aes; do
      rm -f "$tmp/out.csv"
      record "$mode" "$c" juhe "$juhe" --key "$key" --openid "$openid" --base-url "$base" --mode "$mode" \
        --no-ledger batch telecom3 --input "$tmp/in.csv" --output "$tmp/out.csv" --concurrency "$c"
      record "$mode" "$c" go "$tmp/batch_go" "$base" "$key" "$mode" "$c" "$tmp/in.csv" "$tmp/go.csv" "$openid"
    done
    record plain "$c" python python3 benches/batch_python.py "$base" "$key" plain "$c" "$tmp/py_in.csv" "$tmp/py.csv"
    record plain "$c" wrk wrk -t 2 -c "$c" -d 2s -s "$tmp/wrk.lua" "$base/telecom3/query"
  done
done

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d); $rows distinct telecom3 rows, $rounds rounds, medians; sandbox: juhe sandbox serve --quiet (own process)"
python3 - "$results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    mode, c, client, rate, cpu = line.split()
    runs.setdefault((mode, int(c), client), []).append((float(rate), float(cpu)))
med = {k: (statistics.median(r for r, _ in v), statistics.median(u for _, u in v)) for k, v in runs.items()}
print("| mode | c | juhe batch rows/s | Go rows/s | juhe / Go | wrk (limit) rows/s | juhe / wrk | Python rows/s | CPU µs/row: juhe · Go · wrk · Python |")
print("|---|---|---|---|---|---|---|---|---|")
for mode in ("plain", "aes"):
    for c in (8, 32, 64):
        j, g = med[(mode, c, "juhe")], med[(mode, c, "go")]
        w, p = med.get(("plain", c, "wrk")), med.get(("plain", c, "python"))
        wrk = f"{w[0]:,.0f} | {j[0] / w[0]:.2f}×" if mode == "plain" else "— | —"
        py = f"{p[0]:,.0f}" if mode == "plain" else "—"
        cpu = f"{j[1]:.1f} · {g[1]:.1f}" + (f" · {w[1]:.1f} · {p[1]:.1f}" if mode == "plain" else "")
        print(f"| {mode} | {c} | {j[0]:,.0f} | {g[0]:,.0f} | {j[0] / g[0]:.2f}× | {wrk} | {py} | {cpu} |")
PY
