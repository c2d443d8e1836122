#!/usr/bin/env bash
# Install the Debian packages Gongjian needs, but only those that are missing:
# when everything is installed this makes no apt-get call at all.
#
# Usage: scripts/system-deps.sh          packages for `make run`
#        scripts/system-deps.sh --test   plus the ones the test suite needs
#
# apt-get runs directly as root, or through `sudo -n` when that works without
# a password; otherwise the script prints the command to run and fails.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$GONGJIAN_ROOT"

# WeasyPrint (PDF reports): Pango and HarfBuzz. CJK fonts with TrueType
# outlines, so that Chinese text renders and embeds in PDFs. poppler-utils
# (pdftotext, pdftoppm) to inspect the PDFs.
packages=(
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
    fonts-arphic-uming fonts-arphic-ukai fonts-wqy-microhei
    poppler-utils
)
case "${1:-}" in
    # browser tests; throwaway DB server; ledger files written by LibreOffice
    --test) packages+=(chromium postgresql libreoffice-calc-nogui) ;;
    "") ;;
    *) die "usage: $0 [--test]" ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    warn "not a Debian system (no dpkg-query): install the equivalents of these yourself: ${packages[*]}"
    exit 0
fi

# Python: only needed when .venv has to be (re)created.
if ! venv_ok; then
    if python=$(find_python); then
        venv_module_ok "$python" || packages+=(python3-venv)
    else
        packages+=(python3 python3-venv) # Debian bookworm's python3 is 3.11
    fi
fi

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$package")
done
((${#missing[@]} == 0)) && exit 0

log "Missing system packages: ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    die "cannot install them (not root, and no password-less sudo). Run:
    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}
then run make again."
fi

apt_env=(env DEBIAN_FRONTEND=noninteractive)
log "apt-get update"
"${as_root[@]}" "${apt_env[@]}" apt-get update -q
log "apt-get install ${missing[*]}"
"${as_root[@]}" "${apt_env[@]}" apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" </dev/null
