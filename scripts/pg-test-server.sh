#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the test suite.
#
#   scripts/pg-test-server.sh start   (re)start a fresh server and print its URL
#   scripts/pg-test-server.sh url     print the URL of the running server
#   scripts/pg-test-server.sh stop    stop it and delete its data (no-op if none)
#
# Uses Debian's server binaries (/usr/lib/postgresql/<version>/bin, newest
# version; override with PG_BIN). The cluster lives in a temp dir of its own
# (/tmp/gongjian-pgtest-<uid>-<checkout hash>); `start` first stops and
# deletes any server left there by an earlier run, so every start is fresh.
# It listens on 127.0.0.1 only, on port 55432 or the next free one (override
# the first port tried with PG_TEST_PORT), with trust authentication and no
# durability (fsync off: the data is thrown away). PostgreSQL refuses to run
# as root, so as root the server runs as the `postgres` system user.
# Only the URL goes to stdout; progress and errors go to stderr.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB_NAME=gongjian_test
DB_USER=postgres
checkout=$(printf '%s' "$GONGJIAN_ROOT" | sha256sum | cut -c1-12)
STATE_DIR="${PG_TEST_TMPDIR:-/tmp}/gongjian-pgtest-$(id -u)-$checkout"
DATA_DIR="$STATE_DIR/data"
LOG_FILE="$STATE_DIR/postgres.log"
PORT_FILE="$STATE_DIR/port"

is_root() { [[ $(id -u) -eq 0 ]]; }

# Run a server binary as the postgres user when we are root.
as_pg() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

find_pg_bin() {
    if [[ -n "${PG_BIN:-}" ]]; then
        [[ -x "$PG_BIN/initdb" ]] || die "PG_BIN=$PG_BIN has no initdb"
        printf '%s\n' "$PG_BIN"
        return
    fi
    local dir best=
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/initdb" ]] || continue
        if [[ -z "$best" ]] || [[ $(printf '%s\n%s\n' "$best" "$dir" | sort -V | tail -n1) == "$dir" ]]; then
            best=$dir
        fi
    done
    if [[ -z "$best" ]] && command -v initdb >/dev/null 2>&1; then
        best=$(dirname "$(command -v initdb)")
    fi
    [[ -n "$best" ]] || die "PostgreSQL server binaries not found; on Debian: apt-get install postgresql"
    printf '%s\n' "$best"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

url_for() { printf 'postgresql+psycopg://%s@127.0.0.1:%s/%s\n' "$DB_USER" "$1" "$DB_NAME"; }

is_running() {
    [[ -f "$DATA_DIR/postmaster.pid" ]] && as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1
}

stop_server() {
    [[ -e "$STATE_DIR" ]] || return 0
    if [[ -f "$DATA_DIR/postmaster.pid" ]]; then
        if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -m fast -w -t 30 stop >/dev/null 2>&1; then
            # Not running, or not stopping: make sure no postmaster is left.
            local pid
            pid=$(head -n1 "$DATA_DIR/postmaster.pid" 2>/dev/null || true)
            if [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == postgres* ]]; then
                kill -KILL "$pid" 2>/dev/null || true
                sleep 0.5
            fi
        fi
    fi
    rm -rf "$STATE_DIR"
}

start_server() {
    if [[ -e "$STATE_DIR" ]]; then
        log "Stopping the test PostgreSQL server left by an earlier run"
        stop_server
    fi
    if is_root; then
        id -u postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user (created by Debian's postgresql package)"
        command -v runuser >/dev/null 2>&1 || die "running as root needs runuser (util-linux)"
    fi

    mkdir -p "$(dirname "$STATE_DIR")"
    mkdir -m 700 "$STATE_DIR"
    is_root && chown postgres: "$STATE_DIR"

    if ! as_pg "$PG_BIN/initdb" -D "$DATA_DIR" -U "$DB_USER" -A trust -E UTF8 --locale=C \
        --no-sync >"$STATE_DIR/initdb.log" 2>&1; then
        cat "$STATE_DIR/initdb.log" >&2
        rm -rf "$STATE_DIR"
        die "initdb failed"
    fi
    cat >>"$DATA_DIR/postgresql.conf" <<CONF

# gongjian test server: loopback only, throwaway data
listen_addresses = '127.0.0.1'
unix_socket_directories = '$STATE_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF

    local port=${PG_TEST_PORT:-55432}
    for _ in {1..20}; do
        if port_in_use "$port"; then
            port=$((port + 1))
            continue
        fi
        if as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -o "-p $port" -w -t 60 start >/dev/null 2>&1; then
            printf '%s\n' "$port" >"$PORT_FILE"
            if ! "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME"; then
                stop_server
                die "createdb $DB_NAME failed"
            fi
            url_for "$port"
            return 0
        fi
        # Lost a race for the port (or another failure): show why, try the next port.
        tail -n 5 "$LOG_FILE" >&2 2>/dev/null || true
        port=$((port + 1))
    done
    [[ -f "$LOG_FILE" ]] && cat "$LOG_FILE" >&2
    stop_server
    die "could not start PostgreSQL"
}

case "${1:-}" in
    start)
        PG_BIN=$(find_pg_bin)
        start_server
        ;;
    stop)
        if [[ -e "$STATE_DIR" ]]; then
            PG_BIN=$(find_pg_bin)
            stop_server
        fi
        ;;
    url)
        PG_BIN=$(find_pg_bin)
        if [[ -f "$PORT_FILE" ]] && is_running; then
            url_for "$(cat "$PORT_FILE")"
        else
            die "no test PostgreSQL server is running (start one with: $0 start)"
        fi
        ;;
    *)
        printf 'usage: %s start|stop|url\n' "$0" >&2
        exit 2
        ;;
esac
