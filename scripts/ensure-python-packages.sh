#!/usr/bin/env bash
# Makes sure python3 can import the given pinned packages, installing the missing ones with
# pip (into the user site when the system Python is externally managed, as Debian 12's is).
#
# Usage: scripts/ensure-python-packages.sh MODULE=REQUIREMENT ...
#   e.g. scripts/ensure-python-packages.sh numpy=numpy onnxruntime=onnxruntime==1.32.0
set -euo pipefail
PYTHON="${PYTHON:-python3}"
missing=()
for pair in "$@"; do
    module="${pair%%=*}"
    requirement="${pair#*=}"
    "$PYTHON" -c "import $module" 2>/dev/null || missing+=("$requirement")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing with pip: ${missing[*]}" >&2
"$PYTHON" -m pip install --quiet "${missing[@]}" 2>/dev/null \
    || "$PYTHON" -m pip install --quiet --user --break-system-packages "${missing[@]}"
