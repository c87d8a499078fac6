#!/usr/bin/env bash
# The one request `wrk` and the transport floor send again and again: the first row of an
# input CSV (name, idcard, mobile), plain, as the form every client sends per row. Writes
# DIR/body (the form) and DIR/wrk.lua (wrk's script sending it).
# Usage: bash benches/one_request.sh <input.csv> <key> <dir>
set -euo pipefail
input=$1; key=$2; dir=$3
python3 - "$input" "$key" > "$dir/body" <<'PY'
import csv, sys, urllib.parse
row = next(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
sys.stdout.write(urllib.parse.urlencode({"key": sys.argv[2], "realname": row["name"], "idcard": row["idcard"], "mobile": row["mobile"]}))
PY
cat > "$dir/wrk.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "$(cat "$dir/body")"
LUA
