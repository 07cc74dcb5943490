#!/usr/bin/env bash
# The real thing, on this machine, 127.0.0.1 only (issue 29; docs/scaling.md):
#   a PostgreSQL primary and a streaming replica of it (pg_createcluster, pg_basebackup -R),
#   PgBouncer in transaction mode in front of the primary (run as the postgres user),
#   two web nodes (gunicorn) behind haproxy,
# then tests/cluster/traffic.py: 8 clients of mixed traffic for 30 s through the balancer, the
# replica stopped and started again mid-run; no 5xx, read-your-writes, the dashboard fresh
# across nodes, failed logins counted across nodes, health degraded then ok; then
# `check_stock_ledger`. Everything is stopped and removed at the end, whatever happened.
#
# Needs root (it runs PostgreSQL and PgBouncer as `postgres`), Debian's postgresql, pgbouncer,
# haproxy and redis-server, and the project's .venv. Bounded: each wait has a timeout and the
# whole run is killed after CLUSTER_TIMEOUT seconds (default 300).
#   CLUSTER_PORT_BASE (5460): primary, replica, PgBouncer, balancer, node 1, node 2, Redis
#   = base+0..6 (a Redis of its own: the machine's is left alone)
#   CLUSTER_DURATION (30)
#   CLUSTER_BENCH=1: also measure requests per second, one node against two (docs/scaling.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python

VERSION=$(ls /usr/lib/postgresql | sort -n | tail -n1)
BASE=${CLUSTER_PORT_BASE:-5460}
PRIMARY_PORT=$BASE
REPLICA_PORT=$((BASE + 1))
BOUNCER_PORT=$((BASE + 2))
LB_PORT=$((BASE + 3))
NODE1_PORT=$((BASE + 4))
NODE2_PORT=$((BASE + 5))
DURATION=${CLUSTER_DURATION:-30}
TIMEOUT=${CLUSTER_TIMEOUT:-300}
REDIS_PORT=$((BASE + 6))
REDIS=redis://127.0.0.1:$REDIS_PORT/0
NAME=stockroom$$
PRIMARY=${NAME}p
REPLICA=${NAME}r
WORK=$(mktemp -d /tmp/stockroom-cluster.XXXXXX)
chown postgres: "$WORK"
chmod 755 "$WORK"
PIDS=()

say() { echo "[cluster $(date -u +%H:%M:%S)] $*"; }

cleanup() {
  set +e
  say "stopping everything"
  pkill -P "$WATCHDOG" 2>/dev/null
  kill "$WATCHDOG" 2>/dev/null
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  [ -f "$WORK/pgbouncer.pid" ] && kill "$(cat "$WORK/pgbouncer.pid")" 2>/dev/null
  sleep 1
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  for cluster in "$REPLICA" "$PRIMARY"; do
    if pg_lsclusters -h | awk '{print $2}' | grep -qx "$cluster"; then
      pg_dropcluster --stop "$VERSION" "$cluster" >/dev/null 2>&1
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
# The whole run is bounded: a watchdog ends it (and the trap cleans up).
( sleep "$TIMEOUT" && say "timed out after ${TIMEOUT}s" && pkill -TERM -P $$ ) 2>/dev/null &
WATCHDOG=$!

wait_for() {  # wait_for SECONDS COMMAND...: until the command succeeds
  local seconds=$1
  shift
  for _ in $(seq 1 $((seconds * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  say "gave up waiting for: $*"
  return 1
}

as_postgres() { runuser -u postgres -- "$@"; }
psql_at() { as_postgres psql -h 127.0.0.1 -p "$1" -d "${3:-postgres}" -Atqc "$2"; }

# --- A Redis of its own: the shared cache and the broker of both nodes -----------------------------
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
  >"$WORK/redis.log" 2>&1 &
PIDS+=("$!")
wait_for 10 redis-cli -p "$REDIS_PORT" ping

# --- The primary and its streaming replica --------------------------------------------------------
say "primary on $PRIMARY_PORT"
pg_createcluster "$VERSION" "$PRIMARY" -d "$WORK/primary" -p "$PRIMARY_PORT" \
  -- --auth-local=trust --auth-host=trust >/dev/null
cat >>"/etc/postgresql/$VERSION/$PRIMARY/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
max_connections = 100
timezone = 'UTC'
jit = off
fsync = off
full_page_writes = off
synchronous_commit = off
wal_level = replica
max_wal_senders = 4
hot_standby = on
shared_buffers = 64MB
EOF
echo "host replication all 127.0.0.1/32 trust" >>"/etc/postgresql/$VERSION/$PRIMARY/pg_hba.conf"
pg_ctlcluster "$VERSION" "$PRIMARY" start
wait_for 30 pg_isready -h 127.0.0.1 -p "$PRIMARY_PORT"
psql_at "$PRIMARY_PORT" "CREATE DATABASE stockroom"

say "replica on $REPLICA_PORT (pg_basebackup -R)"
as_postgres pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -D "$WORK/replica" -R -X stream -c fast
# Adopted as a Debian cluster of its own (its configuration moves to /etc/postgresql).
cp "/etc/postgresql/$VERSION/$PRIMARY/postgresql.conf" "$WORK/replica/postgresql.conf"
cp "/etc/postgresql/$VERSION/$PRIMARY/pg_hba.conf" "/etc/postgresql/$VERSION/$PRIMARY/pg_ident.conf" \
  "$WORK/replica/"
sed -i "/^data_directory\|^hba_file\|^ident_file\|^external_pid_file\|^cluster_name\|^port\|^unix_socket_directories/d" \
  "$WORK/replica/postgresql.conf"
chown -R postgres: "$WORK/replica"
pg_createcluster "$VERSION" "$REPLICA" -d "$WORK/replica" -p "$REPLICA_PORT" >/dev/null
pg_ctlcluster "$VERSION" "$REPLICA" start
wait_for 30 pg_isready -h 127.0.0.1 -p "$REPLICA_PORT"
[ "$(psql_at "$REPLICA_PORT" "SELECT pg_is_in_recovery()")" = t ]

# --- PgBouncer in transaction mode, as postgres ---------------------------------------------------
say "PgBouncer on $BOUNCER_PORT"
echo '"postgres" ""' >"$WORK/userlist.txt"
cat >"$WORK/pgbouncer.ini" <<EOF
[databases]
stockroom = host=127.0.0.1 port=$PRIMARY_PORT dbname=stockroom
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $WORK/userlist.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 400
ignore_startup_parameters = extra_float_digits
server_reset_query =
pidfile = $WORK/pgbouncer.pid
logfile = $WORK/pgbouncer.log
EOF
chown postgres: "$WORK"/pgbouncer.ini "$WORK"/userlist.txt
as_postgres pgbouncer -d "$WORK/pgbouncer.ini"
wait_for 15 pg_isready -h 127.0.0.1 -p "$BOUNCER_PORT" -d stockroom -U postgres

# --- The application: migrated through PgBouncer, two nodes, the balancer ----------------------------
export SECRET_KEY="cluster-$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
export DEBUG=false SECURE_SSL_REDIRECT=false ALLOWED_HOSTS=127.0.0.1,localhost
export DATABASE_URL="postgres://postgres@127.0.0.1:$BOUNCER_PORT/stockroom" DATABASE_PGBOUNCER=true
export DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:$REPLICA_PORT/stockroom"
export REDIS_URL="$REDIS" NUM_PROXIES=1 REPLICA_STICKY_SECONDS=5 LOG_LEVEL=WARNING
export THROTTLE_ANON=100000/minute THROTTLE_USER=100000/minute
say "migrate through PgBouncer"
timeout 120 $PY manage.py migrate --noinput >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log"; exit 1; }

for port in "$NODE1_PORT" "$NODE2_PORT"; do
  "$ROOT/.venv/bin/gunicorn" config.wsgi:application --bind "127.0.0.1:$port" --workers 2 \
    --worker-class gthread --threads 4 --timeout 30 --graceful-timeout 5 --log-level warning >"$WORK/node$port.log" 2>&1 &
  PIDS+=("$!")
done
for port in "$NODE1_PORT" "$NODE2_PORT"; do
  wait_for 60 curl -sf "http://127.0.0.1:$port/api/health/"
done

cat >"$WORK/haproxy.cfg" <<EOF
global
  maxconn 1000
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  option forwardfor
  option http-server-close
frontend web
  bind 127.0.0.1:$LB_PORT
  default_backend nodes
backend nodes
  balance roundrobin
  timeout check 5s
  option httpchk
  http-check send meth GET uri /api/health/ ver HTTP/1.1 hdr Host 127.0.0.1
  http-check expect status 200
  default-server check inter 2s fall 3 rise 2 maxconn 16
  server node1 127.0.0.1:$NODE1_PORT
  server node2 127.0.0.1:$NODE2_PORT
EOF
haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
PIDS+=("$!")
wait_for 15 curl -sf "http://127.0.0.1:$LB_PORT/api/health/"
say "health: $(curl -s "http://127.0.0.1:$LB_PORT/api/health/")"

# --- Traffic --------------------------------------------------------------------------------------------
xacts='SELECT xact_commit FROM pg_stat_database WHERE datname = '"'stockroom'"
say "8 clients for ${DURATION}s through the balancer; the replica stopped and started mid-run"
status=0
timeout $((DURATION + 150)) $PY tests/cluster/traffic.py --lb "http://127.0.0.1:$LB_PORT" \
  --nodes "http://127.0.0.1:$NODE1_PORT,http://127.0.0.1:$NODE2_PORT" \
  --duration "$DURATION" --sticky 5 \
  --stop-replica "pg_ctlcluster $VERSION $REPLICA stop -m fast" \
  --start-replica "pg_ctlcluster $VERSION $REPLICA start" \
  --replica-stats "runuser -u postgres -- psql -h 127.0.0.1 -p $REPLICA_PORT -d stockroom -Atqc \"$xacts\"" \
  --primary-stats "runuser -u postgres -- psql -h 127.0.0.1 -p $PRIMARY_PORT -d stockroom -Atqc \"$xacts\"" \
  | tee "$WORK/summary.json" || status=1

if [ -n "${CLUSTER_HOLD:-}" ]; then  # debugging: keep it up a while (ports above)
  say "holding ${CLUSTER_HOLD}s"
  sleep "$CLUSTER_HOLD"
fi
say "check_stock_ledger"
timeout 60 $PY manage.py check_stock_ledger || status=1

if [ "${CLUSTER_BENCH:-0}" = 1 ]; then
  say "bench: one node, then two behind the balancer"
  $PY -m bench.cluster --one "http://127.0.0.1:$NODE1_PORT" --two "http://127.0.0.1:$LB_PORT" \
    --replica-stats "runuser -u postgres -- psql -h 127.0.0.1 -p $REPLICA_PORT -d stockroom -Atqc \"$xacts\"" \
    --primary-stats "runuser -u postgres -- psql -h 127.0.0.1 -p $PRIMARY_PORT -d stockroom -Atqc \"$xacts\"" \
    || status=1
fi

if [ $status -ne 0 ]; then
  say "FAILED; the nodes' logs:"
  tail -n 40 "$WORK"/node*.log "$WORK/pgbouncer.log" || true
else
  say "passed"
fi
exit $status
