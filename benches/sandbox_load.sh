#!/usr/bin/env bash
# Requests per second the sandbox serves, measured by wrk from a second process.
# Usage: bash benches/sandbox_load.sh [seconds] [connections] [plain|rsa]
#   plain: ID card checks in plain mode (idcard/query), with and without the request log.
#   rsa:   telecom3 checks in RSA mode (telecom3/queryRV2, three OAEP fields to decrypt a
#          request), on the default build (aws-lc) and on a pure-Rust build (rust-rsa, ring).
# Installs wrk (Debian package) when missing; rsa needs Python's `cryptography`. Prints the
# numbers for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-32}
mode=${3:-plain}

if ! command -v wrk >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

# Starts `juhe sandbox serve`; sets $pid and $base.
serve() {
  local juhe=$1; shift
  rm -f "$tmp/credentials.json"
  "$juhe" sandbox serve --addr 127.0.0.1:0 --credentials-out "$tmp/credentials.json" "$@" 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do [ -s "$tmp/credentials.json" ] && break; sleep 0.1; done
  base=$(sed -n 's/.*"base_url": "\(.*\)".*/\1/p' "$tmp/credentials.json")
}

load() { # label script path
  echo "== $1: wrk -t1 -c$connections -d${seconds}s (server: 2 worker threads)"
  wrk -t1 -c"$connections" -d"${seconds}s" -s "$2" "$base/$3" | grep -E "Requests/sec|Latency|non-billed|requests in"
  curl -s "$base/__sandbox/ledger" | head -c 200; echo
  kill -INT "$pid"; wait "$pid" || true
}

# A wrk script POSTing one telecom3 RSA-mode body, sealed for the running sandbox's key.
rsa_script() {
  local juhe=$1
  "$juhe" sandbox identities --format json > "$tmp/people.json"
  python3 - "$tmp/credentials.json" "$tmp/people.json" > "$tmp/rsa.lua" <<'PY'
import base64, json, sys, urllib.parse
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
credentials, people = (json.load(open(p)) for p in sys.argv[1:3])
key = serialization.load_pem_public_key(credentials["rsa_public_key"].encode())
oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
person = people[0]
seal = lambda text: base64.b64encode(key.encrypt(text.encode(), oaep)).decode()
body = urllib.parse.urlencode({"key": credentials["key"], "realname": seal(person["name"]),
    "idcard": seal(person["idcard"]), "mobile": seal(person["mobile"])})
print('wrk.method = "POST"')
print('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=UTF-8"')
print(f'wrk.body = "{body}"')
print('''local errors = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, '"error_code":0', 1, true) then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non-billed or failed answers: %d\\n", errors))
end''')
PY
}

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d)"
case $mode in
  plain)
    cargo build --release -q -p juhe-cli
    serve target/release/juhe --quiet
    load "sandbox serve --quiet" benches/sandbox_load.lua idcard/query
    serve target/release/juhe
    load "sandbox serve (one log line per request to stderr)" benches/sandbox_load.lua idcard/query
    ;;
  rsa)
    cargo build --release -q -p juhe-cli
    cargo build --release -q -p juhe-cli --no-default-features --features rust-rsa,ring \
      --target-dir target/rust-rsa
    for build in "aws-lc:target/release/juhe" "rust-rsa:target/rust-rsa/release/juhe"; do
      juhe=${build#*:}
      serve "$juhe" --quiet
      rsa_script "$juhe"
      load "telecom3/queryRV2, ${build%%:*} build, --quiet" "$tmp/rsa.lua" telecom3/queryRV2
    done
    ;;
  *) echo "mode: plain or rsa" >&2; exit 2 ;;
esac
