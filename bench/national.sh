#!/usr/bin/env bash
# The national-scale synthetic data set on PostgreSQL, timed (docs/performance.md).
#
#   bench/national.sh                 # 290 municipalities x 207 youths into samverkan_bench
#   MUNICIPALITIES=10 YOUTHS=50 bench/national.sh
#
# DATABASE_URL names the database to (re)create; it is dropped first, so never point it at a
# database you want to keep. The keys live in SAMVERKAN_DATA_DIR (default var/bench), which
# bench/dashboard.py must use too, or the encrypted columns and the audit chain will not verify.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/samverkan_bench}
export SAMVERKAN_DATA_DIR=${SAMVERKAN_DATA_DIR:-$PWD/var/bench}
export SAMVERKAN_ENV=development
MUNICIPALITIES=${MUNICIPALITIES:-290}
YOUTHS=${YOUTHS:-207}
SEED=${SEED:-1}
SAMVERKAN=${SAMVERKAN:-.venv/bin/samverkan}

case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "bench/national.sh: DATABASE_URL must be a PostgreSQL URL" >&2; exit 2 ;;
esac
name=${DATABASE_URL##*/}
server=${DATABASE_URL%/*}
mkdir -p "$SAMVERKAN_DATA_DIR"

echo "== $(date -u +%FT%TZ) machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $(psql "$server/postgres" -Atc 'select version()')"
echo "== recreating database $name"
psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\""

TIMEFORMAT="== migrate: real %R s"
time "$SAMVERKAN" migrate -v0

echo "== samverkan synth --municipalities $MUNICIPALITIES --youths-per-municipality $YOUTHS --seed $SEED"
# user + sys is the CPU time of the synth process itself; real - (user + sys) is time spent
# waiting for PostgreSQL, or for a CPU when the machine is busy (see the load figures).
TIMEFORMAT="== synth: real %R s, user %U s, sys %S s"
time "$SAMVERKAN" synth --municipalities "$MUNICIPALITIES" --youths-per-municipality "$YOUTHS" --seed "$SEED"
echo "== $(date -u +%FT%TZ) load after synth: $(cut -d' ' -f1-3 /proc/loadavg)"

TIMEFORMAT="== vacuum analyze: real %R s"
time psql -q "$DATABASE_URL" -c "VACUUM ANALYZE"
echo "== database size: $(psql -Atc "select pg_size_pretty(pg_database_size(current_database()))" "$DATABASE_URL")"

TIMEFORMAT="== audit verify: real %R s, user %U s, sys %S s"
time "$SAMVERKAN" audit verify
