#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests (CI runs as root on a fresh machine) and
# export DASIP_TEST_POSTGRES_URL. Source it: `. .ci/postgres.sh`. Idempotent: a second call
# reuses the running server.
set -euo pipefail
PGPORT="${DASIP_PGPORT:-54329}"
PGDATA_DIR="${DASIP_PGDATA:-/tmp/dasip-ci-postgres}"
pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ -z "$(pgbin)" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
fi
PGBIN="$(pgbin)"
id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
# from / : the postgres user cannot read the (root-only) working directory
as_postgres() { (cd / && runuser -u postgres -- "$@"); }
if ! as_postgres "$PGBIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
    rm -rf "$PGDATA_DIR"
    mkdir -p "$PGDATA_DIR"
    chown postgres "$PGDATA_DIR"
    as_postgres "$PGBIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres >/dev/null
    as_postgres "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w \
        -o "-p $PGPORT -k $PGDATA_DIR -c listen_addresses=localhost -c max_connections=200" \
        start >/dev/null
fi
export DASIP_TEST_POSTGRES_URL="postgresql+psycopg://postgres@localhost:$PGPORT/postgres"
echo "PostgreSQL for the tests: $DASIP_TEST_POSTGRES_URL"
