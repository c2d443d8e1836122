#!/usr/bin/env bash
# Type-check the application with mypy, then run the whole test suite against
# SQLite and a throwaway PostgreSQL server, stop that server again (also on
# failure or interrupt), and exit with pytest's exit code, or 1 when only mypy
# failed. Extra arguments go to pytest.
#
# TEST_DATABASES defaults to "sqlite,postgresql". If TEST_POSTGRES_URL is
# already set, that server is used instead of starting one.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$GONGJIAN_ROOT"

[[ -x "$VENV_DIR/bin/python" ]] || die ".venv is not set up: run 'make test'"
[[ -x "$VENV_DIR/bin/mypy" ]] || die "mypy is not in .venv (requirements-dev.txt): run 'make test'"

# The type checker first (seconds; its settings are [tool.mypy] in pyproject.toml). Its
# failure fails the run, after the tests have run too.
log "mypy (app.py, campaign, notifications, reports)"
if "$VENV_DIR/bin/mypy"; then
    typed=0
else
    typed=$?
    printf 'error: mypy found type errors (exit code %s); the tests run anyway\n' "$typed" >&2
fi

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
if [[ $typed -ne 0 ]]; then
    printf 'error: mypy found type errors (see its report above the tests)\n' >&2
    [[ $status -ne 0 ]] || status=1
fi
exit "$status"
