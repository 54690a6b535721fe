#!/bin/sh
# The README's first command: ./bootstrap.sh demo
#
# On a fresh Debian or Ubuntu machine, installs what `make` needs to start - make itself, and
# python3-venv for the project's virtual environment - then runs `make TARGET` (default:
# demo), which installs the rest the same way (Makefile: sysdeps) and runs the target.
# Packages come from apt-get, through sudo unless run as root (a fresh container or VM has
# no sudo; a user's machine does). Set PY to choose the Python (>= 3.11), e.g. PY=python3.12.
set -eu
cd "$(dirname "$0")"
PY="${PY:-python3}"

missing=""
command -v make >/dev/null 2>&1 || missing="$missing make"
if ! command -v "$PY" >/dev/null 2>&1; then
    missing="$missing python3 python3-venv"
elif ! "$PY" -c "import ensurepip, venv" >/dev/null 2>&1; then
    missing="$missing python3-venv"  # Debian's python3 comes without ensurepip
fi

if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "bootstrap.sh: needs the Debian packages$missing; run it as root, or install them (apt-get install$missing)" >&2
        exit 1
    fi
    echo "bootstrap.sh: installing$missing (apt-get${SUDO:+ through sudo})"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi

if ! "$PY" -c "import sys; sys.exit(sys.version_info < (3, 11))"; then
    echo "bootstrap.sh: firescribe needs Python 3.11 or newer; $PY is $("$PY" -V 2>&1). Install one (e.g. apt-get install python3.11 python3.11-venv) and run: PY=python3.11 ./bootstrap.sh ${1:-demo}" >&2
    exit 1
fi

[ $# -gt 0 ] || set -- demo
exec make PY="$PY" "$@"
