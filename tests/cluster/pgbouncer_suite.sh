#!/usr/bin/env bash
# `make test-pgbouncer`: the suite (migrations included) with DATABASE_URL pointing at a PgBouncer
# in transaction pooling mode (Debian's, run as the postgres user, on 127.0.0.1:PGBOUNCER_PORT)
# in front of DATABASE_URL's server, and DATABASE_PGBOUNCER=true. The test database is made
# through PgBouncer and dropped on the server afterwards (PgBouncer keeps server connections
# to it, so Django could not drop it through PgBouncer: pytest runs with --reuse-db).
# PYTEST_ARGS as for `make test`. Needs root (runuser) and Debian's pgbouncer.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?DATABASE_URL must point at PostgreSQL}"
PORT=${PGBOUNCER_PORT:-6439}
read -r HOST DBPORT NAME USER < <(.venv/bin/python -c '
import os, urllib.parse as u
url = u.urlparse(os.environ["DATABASE_URL"])
print(url.hostname or "127.0.0.1", url.port or 5432, url.path.lstrip("/"), url.username or "postgres")')
TEST_DB="test_$NAME"
WORK=$(mktemp -d /tmp/stockroom-pgbouncer.XXXXXX)
chown postgres: "$WORK"
server_sql() { runuser -u postgres -- psql -h "$HOST" -p "$DBPORT" -U "$USER" -d postgres -Atqc "$1"; }
cleanup() {
  set +e
  [ -f "$WORK/pgbouncer.pid" ] && kill "$(cat "$WORK/pgbouncer.pid")" 2>/dev/null
  sleep 1
  server_sql "DROP DATABASE IF EXISTS \"$TEST_DB\" WITH (FORCE)" >/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
server_sql "DROP DATABASE IF EXISTS \"$TEST_DB\" WITH (FORCE)" >/dev/null

echo "\"$USER\" \"\"" >"$WORK/userlist.txt"
cat >"$WORK/pgbouncer.ini" <<INI
[databases]
* = host=$HOST port=$DBPORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = trust
auth_file = $WORK/userlist.txt
pool_mode = transaction
default_pool_size = 40
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
pidfile = $WORK/pgbouncer.pid
logfile = $WORK/pgbouncer.log
INI
chown postgres: "$WORK"/*
runuser -u postgres -- pgbouncer -d "$WORK/pgbouncer.ini"
for _ in $(seq 1 50); do
  pg_isready -h 127.0.0.1 -p "$PORT" -U "$USER" -d postgres -q && break
  sleep 0.2
done
echo "PgBouncer (transaction mode) on 127.0.0.1:$PORT in front of $HOST:$DBPORT"
export DATABASE_URL="postgres://$USER@127.0.0.1:$PORT/$NAME" DATABASE_PGBOUNCER=true
SECRET_KEY="${SECRET_KEY:-insecure-test-only-key-0123456789-abcdefghijklmnopqrstuvwxyz}" \
  SECURE_SSL_REDIRECT=false .venv/bin/pytest --reuse-db ${PYTEST_ARGS:-}
