#!/usr/bin/env bash
# Migrate the database, load the demo campaign into an empty database, print
# the demo logins, then serve the app on 127.0.0.1:$PORT (default 5000) with
# the in-process scheduler. Expects .venv to be set up (make run does that).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$GONGJIAN_ROOT"

flask=("$VENV_DIR/bin/flask" --app app)
[[ -x "${flask[0]}" ]] || die ".venv is not set up: run 'make run'"

mkdir -p instance
log "Applying database migrations"
"${flask[@]}" db upgrade
log "Loading the demo campaign (only into an empty database)"
"${flask[@]}" demo load --if-empty
log "Demo accounts"
"${flask[@]}" demo logins

# PORT: from the environment, else from .env, else 5000.
port=${PORT:-}
if [[ -z "$port" && -f .env ]]; then
    port=$("$VENV_DIR/bin/python" -c \
        'from dotenv import dotenv_values; print(dotenv_values(".env").get("PORT") or "")')
fi
port=${port:-5000}
if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
    die "PORT must be a TCP port number, got '$port'"
fi

# The scheduler (bulletins on the 10th and 25th, made up at start if missed) runs as its
# own process beside the web server, as in a deployment with several web workers.
if [[ -z "${SMTP_HOST:-}" ]] && ! grep -qs '^SMTP_HOST=.' .env; then
    log "No SMTP_HOST set: mails are written as .eml files to ${MAIL_FOLDER:-instance/mail/}"
fi
log "Starting the scheduler (flask scheduler run)"
"${flask[@]}" scheduler run &
scheduler_pid=$!
trap 'kill "$scheduler_pid" 2>/dev/null || true' EXIT INT TERM

log "Serving on http://127.0.0.1:$port/ (Ctrl-C to stop)"
"${flask[@]}" run --host 127.0.0.1 --port "$port" --no-debug --no-reload --no-debugger
