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

# WeasyPrint (PDF reports): Pango and HarfBuzz. CJK fonts, so that Chinese text
# renders and embeds in PDFs (the Fandol faces are added below). poppler-utils
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

# The bulletin's 仿宋 (body) and bold 宋 (title) faces: FandolFang and FandolSong-Bold
# (GPL with the font exception). Debian ships them only inside texlive-lang-chinese
# (100 MB with its TeX dependencies), so only these two files are taken from its .deb
# into /usr/local/share/fonts/fandol; see reports/fonts.py.
FANDOL_DIR=/usr/local/share/fonts/fandol
FANDOL_FILES=(FandolFang-Regular.otf FandolSong-Bold.otf)
fandol_missing() {
    local file
    for file in "${FANDOL_FILES[@]}"; do
        [[ -f "$FANDOL_DIR/$file" ]] || return 0
    done
    return 1
}

install_fandol() {
    fandol_missing || return 0
    log "Installing the Fandol faces (from texlive-lang-chinese's .deb) into $FANDOL_DIR"
    local tmp deb file
    tmp=$(mktemp -d)
    chmod 777 "$tmp" # apt downloads as the _apt user
    if ! (cd "$tmp" && "${as_root[@]}" apt-get download -q texlive-lang-chinese); then
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
        (cd "$tmp" && "${as_root[@]}" apt-get download -q texlive-lang-chinese) ||
            die "could not download texlive-lang-chinese"
    fi
    deb=("$tmp"/texlive-lang-chinese_*.deb)
    "${as_root[@]}" mkdir -p "$FANDOL_DIR"
    for file in "${FANDOL_FILES[@]}"; do
        dpkg-deb --fsys-tarfile "${deb[0]}" |
            tar -xO "./usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/$file" |
            "${as_root[@]}" tee "$FANDOL_DIR/$file.part" >/dev/null
        "${as_root[@]}" mv "$FANDOL_DIR/$file.part" "$FANDOL_DIR/$file"
    done
    "${as_root[@]}" chmod 644 "${FANDOL_FILES[@]/#/$FANDOL_DIR/}"
    "${as_root[@]}" fc-cache "$FANDOL_DIR"
    "${as_root[@]}" rm -rf "$tmp"
}

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$package")
done
((${#missing[@]} == 0)) && ! fandol_missing && exit 0

if [[ $(id -u) -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    die "cannot install ${missing[*]:-the Fandol faces} (not root, and no password-less sudo).
Run this script as root, then run make again."
fi

if ((${#missing[@]} == 0)); then
    install_fandol
    exit 0
fi
log "Missing system packages: ${missing[*]}"

apt_env=(env DEBIAN_FRONTEND=noninteractive)
log "apt-get update"
"${as_root[@]}" "${apt_env[@]}" apt-get update -q
log "apt-get install ${missing[*]}"
"${as_root[@]}" "${apt_env[@]}" apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" </dev/null
install_fandol
