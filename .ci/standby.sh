#!/usr/bin/env bash
# A real streaming standby of the local PostgreSQL cluster, for the read-replica tests
# (tests/stats/test_replica.py): a second Debian cluster "replica" on port 5433, made with
# pg_basebackup from the primary on 5432 and kept in recovery, streaming its WAL.
# Idempotent: a standby already streaming is left as it is; anything else under
# that cluster name is dropped and made again. Runs as root (CI) or as postgres.
set -euo pipefail

VERSION=${PG_VERSION:-15}
PRIMARY_PORT=${PG_PORT:-5432}
PORT=${STANDBY_PORT:-5433}
CLUSTER=replica
HBA=/etc/postgresql/$VERSION/main/pg_hba.conf
REPLICATION_LINE="host replication all 127.0.0.1/32 trust"
DATA=/var/lib/postgresql/$VERSION/$CLUSTER

as_postgres() {
    if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
in_recovery() {
    psql -X -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atc 'SELECT pg_is_in_recovery()' \
        2>/dev/null
}
# "t" once the standby's WAL receiver streams from the primary.
streaming() {
    psql -X -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atc \
        "SELECT status = 'streaming' FROM pg_stat_wal_receiver" 2>/dev/null
}
# The replication line first in pg_hba.conf (the first matching line decides: a stock Debian
# file has its own "host replication all 127.0.0.1/32 scram-sha-256"). Exactly one copy;
# the file is rewritten in place (owner and mode kept) only when that line is not first.
allow_replication() {
    local first
    first=$(grep -Ev '^[[:space:]]*(#|$)' "$1" | head -n 1 | tr -s ' \t' ' ' || true)
    [[ $first == "$REPLICATION_LINE" ]] && return 1
    local rest
    rest=$(grep -vxF "$REPLICATION_LINE" "$1" || true)
    printf '%s\n%s\n' "$REPLICATION_LINE" "$rest" >"$1"
}
if [[ ${1:-} == --allow-replication ]]; then
    # Only the pg_hba.conf step, on the file given (tests/test_ci_standby.py).
    allow_replication "$2" || true
    exit 0
fi

# The primary must accept replication connections from 127.0.0.1 (wal_level=replica is
# PostgreSQL's default; "all" in pg_hba.conf does not cover replication).
wal_level=$(psql -X -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -Atc 'SHOW wal_level')
if [[ $wal_level == minimal ]]; then
    echo "the primary runs with wal_level=minimal: no standby possible" >&2
    exit 1
fi
if allow_replication "$HBA"; then
    psql -X -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -Atc 'SELECT pg_reload_conf()' >/dev/null
    echo "pg_hba.conf: replication from 127.0.0.1 allowed (first line)"
fi

if pg_isready -q -h 127.0.0.1 -p "$PORT" && [[ $(in_recovery) == t ]]; then
    # A standby whose receiver has stopped (a replica test cut short, say) is made again.
    for _ in $(seq 1 10); do
        if [[ $(streaming) == t ]]; then
            echo "standby already streaming on port $PORT"
            exit 0
        fi
        sleep 1
    done
    echo "the standby on port $PORT is not streaming: making it again"
fi

if pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "$VERSION/$CLUSTER"; then
    pg_dropcluster --stop "$VERSION" "$CLUSTER"
fi
pg_createcluster "$VERSION" "$CLUSTER" --port "$PORT" >/dev/null
# The new cluster's own files are replaced by a copy of the primary; -R writes
# standby.signal and primary_conninfo, so it starts as a standby streaming from the primary.
find "$DATA" -mindepth 1 -delete
as_postgres pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DATA" \
    -R -X stream --checkpoint=fast
# The standby admits the same logins as the primary.
install -o postgres -g postgres -m 640 "$HBA" "/etc/postgresql/$VERSION/$CLUSTER/pg_hba.conf"
pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$CLUSTER" start

for _ in $(seq 1 60); do
    [[ $(in_recovery) == t && $(streaming) == t ]] && break
    sleep 1
done
if [[ $(in_recovery) != t || $(streaming) != t ]]; then
    echo "the standby on port $PORT did not come up in recovery, streaming" >&2
    exit 1
fi
echo "standby streaming on port $PORT"
