#!/usr/bin/env bash
# The ledger beside its database's own speed, in one run: `juhe batch` (20,000 distinct
# telecom3 rows at --concurrency 32, sandbox in its own process) with a SQLite and with a
# PostgreSQL ledger, against
#   - SQLite: the same transactions per check committed one after another in a tight Python
#     loop on a ledger file of the same schema (WAL, synchronous NORMAL, as the ledger runs):
#     BEGIN IMMEDIATE; the decision's SELECT; INSERT the pending entry; COMMIT; then
#     BEGIN IMMEDIATE; UPDATE it to its outcome; COMMIT;
#   - PostgreSQL: `pgbench -c 32 -j 2 -M prepared` running the ledger's statements per check
#     on the ledger's own tables: BEGIN; the subject's advisory lock; the decision's SELECT;
#     INSERT … RETURNING id; COMMIT; then the outcome's UPDATE (its own transaction,
#     committed without waiting for the disk, as the ledger does).
# Also counts what each check costs in round trips to PostgreSQL: the server's reads of its
# sessions' requests (`strace -f -c -e recvfrom` on the postmaster) over a batch, per row.
# Usage: bash benches/ledger_limits.sh [rows]    (JUHE=/path/to/juhe measures that binary)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-20000}
command -v strace >/dev/null || apt-get install -y -q strace >/dev/null
if [ -z "${JUHE:-}" ]; then cargo build --release -q -p juhe-cli; fi
juhe=${JUHE:-$PWD/target/release/juhe}
tmp=$(mktemp -d)
chmod 755 "$tmp"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=""; [ "$(id -u)" = 0 ] && as_pg="runuser -u postgres --"
cleanup() {
  $as_pg "$pgbin/pg_ctl" -D "$tmp/pg" -m immediate stop >/dev/null 2>&1 || true
  kill $(jobs -p) 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

$juhe sandbox serve --quiet --addr 127.0.0.1:0 --credentials-out "$tmp/creds.json" 2>/dev/null &
for _ in $(seq 100); do [ -s "$tmp/creds.json" ] && break; sleep 0.1; done
read -r base key < <(python3 -c "import json; c=json.load(open('$tmp/creds.json')); print(c['base_url'], c['key'])")
$juhe sandbox identities > "$tmp/people.csv"
python3 benches/people.py "$rows" "$tmp/in.csv" "$tmp/people.csv"

mkdir "$tmp/pg" && [ -n "$as_pg" ] && chown postgres "$tmp/pg"
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
$as_pg "$pgbin/initdb" -D "$tmp/pg" -U postgres --auth=trust -E UTF8 >/dev/null
$as_pg "$pgbin/pg_ctl" -D "$tmp/pg" -l "$tmp/pg/log" -w -o "-p $port -k $tmp/pg -c listen_addresses=127.0.0.1" start >/dev/null
postgres_url="postgres://postgres@127.0.0.1:$port/postgres"

# rows/s of a batch with the given ledger; with STRACE=1, the sendto calls per row instead.
batch() {
  rm -f "$tmp/out.csv"
  local start end
  start=$(date +%s.%N)
  $juhe --key "$key" --base-url "$base" --ledger "$1" batch telecom3 --input "$tmp/in.csv" --output "$tmp/out.csv" \
    --concurrency 32 2>/dev/null
  end=$(date +%s.%N)
  [ "$(wc -l < "$tmp/out.csv")" -eq $((rows + 1)) ] || { echo "wrong number of rows"; exit 1; }
  python3 -c "print(round($rows / ($end - $start)))"
}

sqlite_loop() {
  python3 - "$1" "$rows" <<'PY'
import os, sqlite3, sys, time
path, n = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA synchronous=NORMAL")
assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
earlier = ("SELECT id, state, started_at, deadline_at, verdict, order_id, reason, result, owner FROM juhe_ledger_entries "
           "WHERE (subject = ?1 OR subject = ?10) AND product = ?2 AND target = ?3 AND started_at >= ?4 AND account = ?5 "
           "AND state <> 'not_billed' AND (NOT ?6 OR team IS ?7) AND (?8 OR purpose IS ?9) "
           "ORDER BY started_at DESC, id DESC LIMIT 16")
insert = ("INSERT INTO juhe_ledger_entries (account, subject, product, mode, target, masked, started_at, deadline_at, "
          "state, owner, team, purpose, consent_ref, by_user, by_host, by_pid, secret_version) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)")
update = ("UPDATE juhe_ledger_entries SET state = ?2, finished_at = ?3, error_code = ?4, verdict = ?5, order_id = ?6, "
          "attempts = ?7, reason = ?8, result = ?9 WHERE id = ?1 AND state = 'pending' RETURNING account, started_at, team")
start = time.perf_counter()
for i in range(n):
    now = int(time.time() * 1000)
    subject = os.urandom(32)
    db.execute("BEGIN IMMEDIATE")
    db.execute(earlier, (subject, "telecom3", "loop", now - 86_400_000, "loop", False, None, True, None, subject)).fetchall()
    cur = db.execute(insert, ("loop", subject, "telecom3", "plain", "loop", "张*, 110105********0012, 139****5678", now,
                              now + 30_000, 1, None, None, None, "user", "host", os.getpid(), "0a1b2c3d"))
    entry = cur.lastrowid
    db.execute("COMMIT")
    db.execute("BEGIN IMMEDIATE")
    db.execute(update, (entry, "billed", now + 1, 0, "mismatch", f"J339{i:016d}", 1, "成功", '{"res":"2","rescode":"2"}')).fetchall()
    db.execute("COMMIT")
print(round(n / (time.perf_counter() - start)))
PY
}

cat > "$tmp/check.sql" <<'SQL'
\set k random(1, 9000000000000000000)
BEGIN;
SELECT pg_advisory_xact_lock(:k);
SELECT id, state, started_at, deadline_at, verdict, order_id, reason, result, owner FROM juhe_ledger_entries WHERE (subject = decode(lpad(to_hex(:k::bigint), 64, '0'), 'hex') OR subject = decode(lpad(to_hex(:k::bigint), 64, '0'), 'hex')) AND product = 'telecom3' AND target = 'bench' AND started_at >= (extract(epoch from now()) * 1000)::bigint - 86400000 AND account = 'bench' AND state <> 'not_billed' AND (NOT false OR team IS NOT DISTINCT FROM NULL) AND (true OR purpose IS NOT DISTINCT FROM NULL) ORDER BY started_at DESC, id DESC LIMIT 16;
INSERT INTO juhe_ledger_entries (account, subject, product, mode, target, masked, started_at, deadline_at, state, owner, team, purpose, consent_ref, by_user, by_host, by_pid, secret_version) VALUES ('bench', decode(lpad(to_hex(:k::bigint), 64, '0'), 'hex'), 'telecom3', 'plain', 'bench', '张*, 110105********0012, 139****5678', (extract(epoch from now()) * 1000)::bigint, (extract(epoch from now()) * 1000)::bigint + 30000, 'pending', 1, NULL, NULL, NULL, 'user', 'host', 1, '0a1b2c3d') RETURNING id \gset
COMMIT;
UPDATE juhe_ledger_entries SET state = 'billed', finished_at = (extract(epoch from now()) * 1000)::bigint, error_code = 0, verdict = 'mismatch', order_id = 'J3390000000000000001', attempts = 1, reason = '成功', result = '{"res":"2","rescode":"2"}' WHERE id = :id AND state = 'pending' AND set_config('synchronous_commit', 'off', true) = 'off';
SQL

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d); $rows distinct telecom3 rows; sandbox and PostgreSQL in their own processes"
sqlite_batch=$(batch "$tmp/ledger.sqlite")
loop=$(sqlite_loop "$tmp/ledger.sqlite")
pg_batch=$(batch "$postgres_url")
# pgbench on the ledger's tables, for as long as the batch took at least.
pgbench_tps=$($as_pg "$pgbin/pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -c 32 -j 2 -T 10 -M prepared -f "$tmp/check.sql" postgres 2>"$tmp/pgbench.err" \
  | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1) || true
[ -n "$pgbench_tps" ] || { echo "pgbench failed:"; cat "$tmp/pgbench.err"; exit 1; }
# Round trips: the server's reads of its sessions' requests (one `recvfrom` per round trip)
# while a batch of 2,000 rows runs on a fresh database; the sandbox is not traced.
$as_pg "$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE trips" postgres
trip_rows=2000
head -n $((trip_rows + 1)) "$tmp/in.csv" > "$tmp/trips.csv"
strace -f -c -e trace=recvfrom -o "$tmp/strace.txt" -p "$(head -1 "$tmp/pg/postmaster.pid")" 2>/dev/null &
tracer=$!
sleep 1
rm -f "$tmp/out.csv"
$juhe --key "$key" --base-url "$base" --ledger "postgres://postgres@127.0.0.1:$port/trips" batch telecom3 \
  --input "$tmp/trips.csv" --output "$tmp/out.csv" --concurrency 32 2>/dev/null
sleep 1
kill -INT $tracer; wait $tracer 2>/dev/null || true
reads=$(awk '$NF == "recvfrom" {print $4}' "$tmp/strace.txt")
echo "| ledger | juhe batch rows/s | the database's own speed (same transactions) | ratio |"
echo "|---|---|---|---|"
printf '| SQLite | %s | %s (tight loop, one process) | %.2f× |\n' "$sqlite_batch" "$loop" "$(python3 -c "print($sqlite_batch / $loop)")"
printf '| PostgreSQL | %s | %.0f (pgbench -c 32) | %.2f× |\n' "$pg_batch" "$pgbench_tps" "$(python3 -c "print($pg_batch / $pgbench_tps)")"
printf 'PostgreSQL round trips per check: %.1f (the server read %s requests from its sessions for %s rows, connecting and preparing included)\n' \
  "$(python3 -c "print($reads / $trip_rows)")" "$reads" "$trip_rows"
