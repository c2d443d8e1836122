# Gongjian: `make run` serves the app locally, `make test` runs the test suite.
# Both first install missing Debian packages (apt-get, only when something is
# missing) and set up .venv (pip, only when the requirements files changed).
# The work is done by the scripts in scripts/.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Extra arguments for pytest, e.g. make test PYTEST_ARGS="-x -k ledger"
PYTEST_ARGS ?=

.PHONY: help run test venv system-deps pg-start pg-stop

help:
	@echo "make run    set up, migrate, load the demo campaign, serve on 127.0.0.1:\$$PORT (default 5000)"
	@echo "make test   set up, run the test suite on SQLite and a throwaway PostgreSQL server"
	@echo "make venv   only install system packages and set up .venv"

run:
	@bash scripts/system-deps.sh
	@bash scripts/venv.sh
	@bash scripts/run.sh

test:
	@bash scripts/system-deps.sh --test
	@bash scripts/venv.sh
	@bash scripts/test.sh $(PYTEST_ARGS)

venv:
	@bash scripts/system-deps.sh
	@bash scripts/venv.sh

# The throwaway PostgreSQL server used by make test, for running tests by hand.
pg-start:
	@bash scripts/pg-test-server.sh start

pg-stop:
	@bash scripts/pg-test-server.sh stop
