#!/usr/bin/env bash
# Start (or reuse) a throwaway PostgreSQL cluster for the store tests and print the URL for them:
#   eval "$(bash .ci/postgres.sh)"        # sets DEBRIEF_TEST_POSTGRES_URL
#   bash .ci/postgres.sh stop             # stops it and removes its files
# Idempotent: a second run finds the running cluster and prints the same URL. Everything but the
# `export` line goes to stderr. The cluster listens on 127.0.0.1 only, with trust auth and fsync off:
# it is for tests, never for data.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

ROOT="${DEBRIEF_PG_DIR:-${TMPDIR:-/tmp}/debrief-pg-$(id -u)}"
DATA="$ROOT/data"
DB=debrief_test

install_postgres() {
    if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
        return
    fi
    log "installing PostgreSQL with apt"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

# Run a PostgreSQL binary as the cluster owner: `postgres` when we are root (initdb refuses root), else us.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    local port
    for port in $(seq 54320 54420); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    log "no free port in 54320-54420"
    exit 1
}

print_url() {
    echo "export DEBRIEF_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$(cat "$ROOT/port")/$DB"
}

install_postgres
BIN="$(dirname "$(compgen -G "/usr/lib/postgresql/*/bin/initdb" | sort -V | tail -n 1)")"

if [ "${1:-start}" = "stop" ]; then
    if [ -d "$DATA" ]; then
        as_owner "$BIN/pg_ctl" -D "$DATA" -m fast stop >&2 || true
    fi
    rm -rf "$ROOT"
    log "stopped"
    exit 0
fi

if [ -f "$ROOT/port" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    log "reusing the cluster in $ROOT"
    print_url
    exit 0
fi

rm -rf "$ROOT"
mkdir -p "$ROOT"
[ "$(id -u)" -ne 0 ] || chown postgres: "$ROOT"
as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --no-locale >&2
PORT="$(free_port)"
as_owner "$BIN/pg_ctl" -D "$DATA" -l "$ROOT/server.log" -w start \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $ROOT -c fsync=off -c full_page_writes=off" >&2
as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB" >&2
echo "$PORT" >"$ROOT/port"
log "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT, data in $ROOT"
print_url
