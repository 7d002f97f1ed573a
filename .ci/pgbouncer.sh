#!/usr/bin/env bash
# pgbouncer in transaction mode in front of the local PostgreSQL, as operators commonly pool
# it: Debian's package (1.18: no prepared statements across transactions), listening on
# 127.0.0.1:6432, every database of the server on 127.0.0.1:5432 (so test databases work).
# Usage: .ci/pgbouncer.sh [SCRATCH_DIR]   (default /tmp/samverkan-pgbouncer)
# Idempotent: a pgbouncer this script started before is stopped and started again with a fresh
# configuration. Exits non-zero when pgbouncer does not answer: the CI pass must not skip.
set -euo pipefail

DIR=${1:-/tmp/samverkan-pgbouncer}
PORT=${PGBOUNCER_PORT:-6432}
PG_PORT=${PG_PORT:-5432}

if ! command -v pgbouncer >/dev/null && [[ ! -x /usr/sbin/pgbouncer ]]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pgbouncer
fi
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
"$PGBOUNCER" --version | head -1

# pgbouncer refuses to run as root.
as_postgres() {
    if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$DIR"
if [[ -s $DIR/pgbouncer.pid ]]; then
    pid=$(cat "$DIR/pgbouncer.pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "$DIR/pgbouncer.pid"
fi

cat >"$DIR/userlist.txt" <<'EOF'
"postgres" ""
EOF
cat >"$DIR/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 400
default_pool_size = 40
server_idle_timeout = 30
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
EOF
chown -R postgres:postgres "$DIR" 2>/dev/null || true

as_postgres "$PGBOUNCER" -d "$DIR/pgbouncer.ini"
for _ in $(seq 1 50); do
    psql -X -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atc 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.2
done
if ! psql -X -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atc 'SELECT 1' >/dev/null; then
    echo "pgbouncer did not answer on 127.0.0.1:$PORT" >&2
    tail -20 "$DIR/pgbouncer.log" >&2 || true
    exit 1
fi
mode=$(psql -X -h 127.0.0.1 -p "$PORT" -U postgres -d pgbouncer -Atc 'SHOW CONFIG' |
    awk -F'|' '$1 == "pool_mode" {print $2}')
if [[ $mode != transaction ]]; then
    echo "pgbouncer runs with pool_mode=$mode, not transaction" >&2
    exit 1
fi
echo "pgbouncer on 127.0.0.1:$PORT, pool_mode=$mode"
