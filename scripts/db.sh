#!/usr/bin/env bash
# The project's own PostgreSQL + PostGIS cluster, for development and the tests.
#
#   scripts/db.sh start    initialise (first time) and start it; a no-op when it runs
#   scripts/db.sh stop     stop it (a no-op when it is not running)
#   scripts/db.sh status   say whether it runs; exit 0 if it does, 3 if not
#
# Data lives in .pgdata/ at the project root (git-ignored); the server listens on
# 127.0.0.1:55432 only (TCP, no Unix socket); database, user and password are `xinqu`
# (the cluster's own superuser, so it can create extensions and scratch databases);
# the database has the postgis and pg_trgm extensions. The cluster's locale is C.UTF-8 so
# that pg_trgm counts Chinese characters as word characters.
#
# PostgreSQL refuses to run as root: run by root, the server runs as the `postgres` system
# user, which owns .pgdata. If that user cannot reach the project folder (a clone under
# /root, say), the data goes to /var/lib/postgresql/xinqu/<hash of the folder> and .pgdata
# is a link to it.
#
# XINQU_PGPORT and XINQU_PGDATA override the port and the data folder.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${XINQU_PGPORT:-55432}"
HOST=127.0.0.1
NAME=xinqu
LINK="${XINQU_PGDATA:-$ROOT/.pgdata}"

die() { echo "db: $*" >&2; exit 1; }

BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -n "$BIN" ] && [ -x "$BIN/pg_ctl" ] || \
    die "PostgreSQL server not installed (run scripts/install-system-deps.sh or make setup)"
PSQL="$(command -v psql || echo "$BIN/psql")"
RUNUSER="$(command -v runuser || echo /usr/sbin/runuser)"

# Run a server program as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        "$RUNUSER" -u postgres -- "$@"
    else
        "$@"
    fi
}

# The real data folder (following the .pgdata link when there is one).
data_dir() {
    if [ -L "$LINK" ]; then
        readlink -f "$LINK"
    else
        echo "$LINK"
    fi
}

sql() {  # sql DATABASE STATEMENT: run one statement as xinqu, print bare rows
    PGPASSWORD="$NAME" PGOPTIONS="-c client_min_messages=warning" "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U "$NAME" \
        -d "$1" -tAc "$2"
}

running() { as_owner "$BIN/pg_ctl" -D "$(data_dir)" status >/dev/null 2>&1; }

init_cluster() {
    local data
    data="$(data_dir)"
    if [ "$(id -u)" -eq 0 ] && [ ! -L "$LINK" ] && [ ! -e "$LINK" ] && \
        ! "$RUNUSER" -u postgres -- test -x "$(dirname "$LINK")"; then
        data="/var/lib/postgresql/xinqu/$(echo -n "$LINK" | sha1sum | cut -c1-12)"
        mkdir -p "$data"
        ln -s "$data" "$LINK"
        echo "db: the postgres user cannot reach $(dirname "$LINK"); data in $data"
    fi
    mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data"
    chmod 700 "$data"
    local pwfile
    pwfile="$(mktemp)"
    echo "$NAME" >"$pwfile"
    [ "$(id -u)" -eq 0 ] && chown postgres "$pwfile"
    echo "db: initialising a cluster in $data"
    if ! as_owner "$BIN/initdb" -D "$data" -U "$NAME" --pwfile="$pwfile" \
        --auth-host=scram-sha-256 --auth-local=reject --encoding=UTF8 --locale=C.UTF-8 \
        >"$pwfile.log" 2>&1; then
        cat "$pwfile.log" >&2
        rm -f "$pwfile" "$pwfile.log"
        die "initdb failed"
    fi
    rm -f "$pwfile" "$pwfile.log"
    cat >>"$data/postgresql.conf" <<EOF

# xinqu's local cluster (scripts/db.sh)
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = ''
EOF
}

start() {
    if [ ! -f "$(data_dir)/PG_VERSION" ]; then
        init_cluster
    fi
    local data
    data="$(data_dir)"
    if running; then
        echo "db: already running on $HOST:$PORT (data in $data)"
        return 0
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
        -o "-p $PORT" start >/dev/null; then
        tail -n 5 "$data/server.log" >&2 || true
        die "the server did not start (log: $data/server.log)"
    fi
    if [ -z "$(sql postgres "SELECT 1 FROM pg_database WHERE datname = '$NAME'")" ]; then
        sql postgres "CREATE DATABASE $NAME"
    fi
    sql "$NAME" "CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS pg_trgm"
    echo "db: running on $HOST:$PORT: postgresql://$NAME:$NAME@$HOST:$PORT/$NAME"
}

stop() {
    if [ ! -f "$(data_dir)/PG_VERSION" ] || ! running; then
        echo "db: not running"
        return 0
    fi
    as_owner "$BIN/pg_ctl" -D "$(data_dir)" -m fast -w stop >/dev/null
    echo "db: stopped"
}

status() {
    if [ -f "$(data_dir)/PG_VERSION" ] && running; then
        echo "db: running on $HOST:$PORT (data in $(data_dir))"
    else
        echo "db: not running"
        return 3
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) die "usage: scripts/db.sh start|stop|status" ;;
esac
