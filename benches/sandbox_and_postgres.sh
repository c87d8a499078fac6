# Sourced by the ledger benchmarks: builds `juhe` (unless JUHE names one), and starts in a
# temporary directory a `juhe sandbox serve` and a PostgreSQL server (as the postgres user when
# run as root), both stopped on exit. Sets: juhe, tmp, pgbin, as_pg, port, postgres_url, base,
# key, and "$tmp/people.csv" (the sandbox's population).
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

mkdir "$tmp/pg" && [ -n "$as_pg" ] && chown postgres "$tmp/pg"
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
$as_pg "$pgbin/initdb" -D "$tmp/pg" -U postgres --auth=trust -E UTF8 >/dev/null
$as_pg "$pgbin/pg_ctl" -D "$tmp/pg" -l "$tmp/pg/log" -w -o "-p $port -k $tmp/pg -c listen_addresses=127.0.0.1" start >/dev/null
postgres_url="postgres://postgres@127.0.0.1:$port/postgres"
