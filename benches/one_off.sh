#!/usr/bin/env bash
# One check in a fresh `juhe` process, as a shell script or a cron job makes it: wall time of
# `juhe --no-ledger --mode M idcard …` against a `juhe sandbox serve` in its own process, plain,
# AES and RSA interleaved, N runs each; medians and the RSA cost over plain. What RSA adds is
# the first random bytes of the process (AWS-LC's generator seeding itself) and one key parse.
# Usage: bash benches/one_off.sh [runs]
# JUHE=/path/to/juhe measures that binary; JUHE_OTHER=/path/to/juhe measures a second one in
# the same rounds (a build with AWS_LC_SYS_NO_JITTER_ENTROPY=0, say).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
if [ -z "${JUHE:-}" ]; then cargo build --release -q -p juhe-cli; fi
juhe=${JUHE:-$PWD/target/release/juhe}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
$juhe sandbox serve --quiet --addr 127.0.0.1:0 --credentials-out "$tmp/creds.json" 2>/dev/null &
for _ in $(seq 100); do [ -s "$tmp/creds.json" ] && break; sleep 0.1; done
python3 - "$tmp" "$runs" "$juhe" ${JUHE_OTHER:+"$JUHE_OTHER"} <<'PY'
import json, os, statistics, subprocess, sys, time
tmp, runs, binaries = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
creds = json.load(open(f"{tmp}/creds.json"))
open(f"{tmp}/public.pem", "w").write(creds["rsa_public_key"])
env = dict(os.environ, JUHE_BASE_URL=creds["base_url"], JUHE_KEY=creds["key"], JUHE_OPENID=creds["openid"],
           JUHE_RSA_PUBLIC_KEY=f"{tmp}/public.pem")
times = {}
for _ in range(runs):
    for binary in binaries:
        for mode in ("plain", "aes", "rsa"):
            start = time.perf_counter()
            subprocess.run([binary, "--no-ledger", "--mode", mode, "idcard", "--name", "肖俊帆", "--idcard", "500101197907020002"],
                           env=env, check=True, stdout=subprocess.DEVNULL)
            times.setdefault((binary, mode), []).append((time.perf_counter() - start) * 1000)
print(f"machine: {os.cpu_count()} cores; {runs} runs each, interleaved; median ms (p90)")
print("| binary | plain | aes | rsa | rsa − plain |")
print("|---|---|---|---|---|")
for binary in binaries:
    med = {m: statistics.median(times[(binary, m)]) for m in ("plain", "aes", "rsa")}
    p90 = {m: statistics.quantiles(times[(binary, m)], n=10)[-1] for m in ("plain", "aes", "rsa")}
    cells = " | ".join(f"{med[m]:.1f} ({p90[m]:.1f})" for m in ("plain", "aes", "rsa"))
    print(f"| {binary} | {cells} | {med['rsa'] - med['plain']:+.1f} |")
PY
