#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install requirements-dev.txt and the application into it.
# pip runs only when the requirements files changed since its last success
# (their sha256 is kept in .venv/.requirements.sha256).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$GONGJIAN_ROOT"

if ! venv_ok; then
    python=$(find_python) || die "Python 3.11 or newer not found (tried python3.11, python3); on Debian: apt-get install python3 python3-venv"
    venv_module_ok "$python" || die "$python -m venv is not usable; on Debian: apt-get install python3-venv"
    if [[ -e "$VENV_DIR" ]]; then
        log "Removing unusable $VENV_DIR"
        rm -rf "$VENV_DIR"
    fi
    log "Creating .venv with $python ($("$python" --version 2>&1))"
    "$python" -m venv "$VENV_DIR"
fi

wanted=$(cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ -f "$VENV_STAMP" && "$(cat "$VENV_STAMP")" == "$wanted" ]]; then
    exit 0
fi

log "Installing Python packages (requirements-dev.txt)"
rm -f "$VENV_STAMP"
"$VENV_DIR/bin/python" -m pip install --disable-pip-version-check -q -r requirements-dev.txt
# The application itself, editable: tests, bench/ and the type checker import it as installed.
"$VENV_DIR/bin/python" -m pip install --disable-pip-version-check -q --no-deps -e .
printf '%s\n' "$wanted" >"$VENV_STAMP"
