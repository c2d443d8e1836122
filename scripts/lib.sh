# Shared helpers for the scripts in this directory. Source it; do not run it.
# shellcheck shell=bash

# Repository root (the directory above scripts/).
GONGJIAN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV_DIR="$GONGJIAN_ROOT/.venv"
# Holds the sha256 of the requirements files pip last installed successfully.
# shellcheck disable=SC2034 # used by venv.sh
VENV_STAMP="$VENV_DIR/.requirements.sha256"

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Print the path of a Python >= 3.11 interpreter: python3.11, else python3.
find_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# True when .venv holds a working Python >= 3.11.
venv_ok() {
    [[ -x "$VENV_DIR/bin/python" ]] &&
        "$VENV_DIR/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

# True when "$1 -m venv" can create an environment with pip in it
# (Debian ships ensurepip separately, in python3.11-venv / python3-venv).
venv_module_ok() {
    "$1" -c 'import venv, ensurepip; ensurepip.version()' >/dev/null 2>&1
}
