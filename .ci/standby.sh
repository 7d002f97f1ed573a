#!/usr/bin/env bash
# A real streaming standby of the local PostgreSQL cluster, for the read-replica tests
# (tests/stats/test_replica.py): a second Debian cluster "replica" on port 5433, made with
# pg_basebackup from the primary on 5432 and kept in recovery, streaming its WAL.
# Idempotent: a standby already running and in recovery is left as it is; anything else under
# that cluster name is dropped and made again. Runs as root (CI) or as postgres.
set -euo pipefail

VERSION=${PG_VERSION:-15}
PRIMARY_PORT=${PG_PORT:-5432}
PORT=${STANDBY_PORT:-5433}
CLUSTER=replica
HBA=/etc/postgresql/$VERSION/main/pg_hba.conf
DATA=/var/lib/postgresql/$VERSION/$CLUSTER

as_postgres() {
    if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
in_recovery() {
    psql -X -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atc 'SELECT pg_is_in_recovery()' \
        2>/dev/null
}

if pg_isready -q -h 127.0.0.1 -p "$PORT" && [[ $(in_recovery) == t ]]; then
    echo "standby already streaming on port $PORT"
    exit 0
fi

# The primary must accept replication connections from 127.0.0.1 (wal_level=replica is
# PostgreSQL's default; "all" in pg_hba.conf does not cover replication).
wal_level=$(psql -X -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -Atc 'SHOW wal_level')
if [[ $wal_level == minimal ]]; then
    echo "the primary runs with wal_level=minimal: no standby possible" >&2
    exit 1
fi
if ! grep -Eq '^\s*host\s+replication\s+(all|postgres)\s+127\.0\.0\.1/32\s+trust' "$HBA"; then
    echo "host replication all 127.0.0.1/32 trust" >>"$HBA"
    psql -X -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -Atc 'SELECT pg_reload_conf()' >/dev/null
    echo "pg_hba.conf: replication from 127.0.0.1 allowed"
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
    [[ $(in_recovery) == t ]] && break
    sleep 1
done
if [[ $(in_recovery) != t ]]; then
    echo "the standby on port $PORT did not come up in recovery" >&2
    exit 1
fi
echo "standby streaming on port $PORT"
