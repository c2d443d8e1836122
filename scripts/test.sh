#!/usr/bin/env bash
# Run the whole test suite against SQLite and a throwaway PostgreSQL server,
# stop that server again (also on failure or interrupt), and exit with
# pytest's exit code. Extra arguments go to pytest.
#
# TEST_DATABASES defaults to "sqlite,postgresql". If TEST_POSTGRES_URL is
# already set, that server is used instead of starting one.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$GONGJIAN_ROOT"

[[ -x "$VENV_DIR/bin/python" ]] || die ".venv is not set up: run 'make test'"

export TEST_DATABASES=${TEST_DATABASES:-sqlite,postgresql}
pg_server="$GONGJIAN_ROOT/scripts/pg-test-server.sh"
started_pg=

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [[ -n "$started_pg" ]]; then
        bash "$pg_server" stop || warn "could not stop the test PostgreSQL server"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ",$TEST_DATABASES," == *,postgresql,* && -z "${TEST_POSTGRES_URL:-}" ]]; then
    log "Starting a throwaway PostgreSQL server"
    started_pg=1
    TEST_POSTGRES_URL=$(bash "$pg_server" start)
    export TEST_POSTGRES_URL
    log "PostgreSQL for tests: $TEST_POSTGRES_URL"
fi

log "pytest (TEST_DATABASES=$TEST_DATABASES)"
set +e
# One worker per core (pytest-xdist); every worker has its own PostgreSQL database.
"$VENV_DIR/bin/python" -m pytest -p no:cacheprovider -n "${PYTEST_WORKERS:-auto}" tests "$@"
status=$?
set -e

case $status in
    0) log "All tests passed" ;;
    5) printf 'error: pytest collected no tests (exit code 5); treating that as a failure\n' >&2 ;;
    *) printf 'error: tests failed (pytest exit code %s)\n' "$status" >&2 ;;
esac
exit "$status"
