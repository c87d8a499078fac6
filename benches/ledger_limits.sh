#!/usr/bin/env bash
# The ledger beside its database's own speed, in one run: `juhe batch` (20,000 distinct
# telecom3 rows at --concurrency 32, sandbox in its own process, no reuse window, no cap) with
# a SQLite and with a PostgreSQL ledger, against the statements it runs per check, on the
# ledger's own tables:
#   - SQLite: a tight Python loop, one transaction after another (WAL, synchronous NORMAL, as
#     the ledger runs): BEGIN IMMEDIATE; the day's and the month's counters; INSERT the pending
#     entry; COMMIT; the key's pace row read; BEGIN IMMEDIATE; UPDATE the entry to its outcome;
#     COMMIT;
#   - PostgreSQL: `pgbench -c 32` and `-c 8 -j 2 -M prepared`, the better: the counters and the pending entry in one
#     statement (its own transaction, durable); the key's pace row read; the outcome's UPDATE
#     (its own transaction, committed without waiting for the disk).
# Also counts what each check costs in round trips to PostgreSQL: the server's reads of its
# sessions' requests (`strace -f -c -e recvfrom` on the postmaster) over a batch, per row.
# Usage: bash benches/ledger_limits.sh [rows]    (JUHE=/path/to/juhe measures that binary)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-20000}
command -v strace >/dev/null || apt-get install -y -q strace >/dev/null
source benches/sandbox_and_postgres.sh
python3 benches/people.py "$rows" "$tmp/in.csv" "$tmp/people.csv"

# rows/s of a batch with the given ledger.
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
spend = ("INSERT INTO juhe_ledger_spend (account, period, spent) VALUES (?1, ?2, 1) ON CONFLICT (account, period) "
         "DO UPDATE SET spent = juhe_ledger_spend.spent + 1 WHERE juhe_ledger_spend.spent < ?3")
insert = ("INSERT INTO juhe_ledger_entries (account, subject, product, mode, target, masked, started_at, deadline_at, "
          "state, owner, team, purpose, consent_ref, by_user, by_host, by_pid, secret_version) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)")
pace = "SELECT * FROM juhe_ledger_pace WHERE account = ?1 AND target = ?2"
update = ("UPDATE juhe_ledger_entries SET state = ?2, finished_at = ?3, error_code = ?4, verdict = ?5, order_id = ?6, "
          "attempts = ?7, reason = ?8, result = ?9 WHERE id = ?1 AND state = 'pending' RETURNING account, started_at, team")
start = time.perf_counter()
for i in range(n):
    now = int(time.time() * 1000)
    subject = os.urandom(32)
    db.execute("BEGIN IMMEDIATE")
    for period in ("d2026-12-06", "m2026-12"):
        db.execute(spend, ("loop", period, 2**63 - 1))
    cur = db.execute(insert, ("loop", subject, "telecom3", "plain", "loop", "张*, 110105********0012, 139****5678", now,
                              now + 30_000, 1, None, None, None, "user", "host", os.getpid(), "0a1b2c3d"))
    entry = cur.lastrowid
    db.execute("COMMIT")
    db.execute(pace, ("loop", "loop")).fetchall()
    db.execute("BEGIN IMMEDIATE")
    db.execute(update, (entry, "billed", now + 1, 0, "mismatch", f"J339{i:016d}", 1, "成功", '{"res":"2","rescode":"2"}')).fetchall()
    db.execute("COMMIT")
print(round(n / (time.perf_counter() - start)))
PY
}

cat > "$tmp/check.sql" <<'SQL'
\set k random(1, 9000000000000000000)
WITH counted AS (INSERT INTO juhe_ledger_spend (account, period, spent) SELECT holder, period, 1 FROM unnest(ARRAY['bench', 'bench'], ARRAY['d2026-12-06', 'm2026-12']) AS c (holder, period) ON CONFLICT (account, period) DO UPDATE SET spent = juhe_ledger_spend.spent + 1) INSERT INTO juhe_ledger_entries (account, subject, product, mode, target, masked, started_at, deadline_at, state, owner, team, purpose, consent_ref, by_user, by_host, by_pid, secret_version) VALUES ('bench', decode(lpad(to_hex(:k::bigint), 64, '0'), 'hex'), 'telecom3', 'plain', 'bench', '张*, 110105********0012, 139****5678', (extract(epoch from now()) * 1000)::bigint, (extract(epoch from now()) * 1000)::bigint + 30000, 'pending', 1, NULL, NULL, NULL, 'user', 'host', 1, '0a1b2c3d') RETURNING id \gset
SELECT * FROM juhe_ledger_pace WHERE account = 'bench' AND target = 'bench';
UPDATE juhe_ledger_entries SET state = 'billed', finished_at = (extract(epoch from now()) * 1000)::bigint, error_code = 0, verdict = 'mismatch', order_id = 'J3390000000000000001', attempts = 1, reason = '成功', result = '{"res":"2","rescode":"2"}' WHERE id = :id AND state = 'pending' AND set_config('synchronous_commit', 'off', true) = 'off';
SQL

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d); $rows distinct telecom3 rows; sandbox and PostgreSQL in their own processes"
sqlite_batch=$(batch "$tmp/ledger.sqlite")
loop=$(sqlite_loop "$tmp/ledger.sqlite")
pg_batch=$(batch "$postgres_url")
# pgbench on the ledger's tables: 32 clients (the batch's concurrency) and 8 (the ledger's
# connections), 10 s each.
pgbench_at() {
  local tps
  tps=$($as_pg "$pgbin/pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -c "$1" -j 2 -T 10 -M prepared -f "$tmp/check.sql" postgres 2>"$tmp/pgbench.err" \
    | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1) || true
  [ -n "$tps" ] || { echo "pgbench failed:" >&2; cat "$tmp/pgbench.err" >&2; exit 1; }
  echo "$tps"
}
pgbench_32=$(pgbench_at 32)
pgbench_8=$(pgbench_at 8)
pgbench_tps=$(python3 -c "print(max($pgbench_32, $pgbench_8))")
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
printf '| PostgreSQL | %s | %.0f (pgbench, the better of -c 32: %.0f and -c 8: %.0f) | %.2f× |\n' "$pg_batch" "$pgbench_tps" \
  "$pgbench_32" "$pgbench_8" "$(python3 -c "print($pg_batch / $pgbench_tps)")"
printf 'PostgreSQL round trips per check: %.1f (the server read %s requests from its sessions for %s rows, connecting and preparing included)\n' \
  "$(python3 -c "print($reads / $trip_rows)")" "$reads" "$trip_rows"
