#!/usr/bin/env bash
# Opens the notebooks in Jupyter's browser UI with the project kernel (after scripts/setup.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export JUPYTER_PATH="$PWD/.jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)
exec jupyter notebook "${extra[@]}" --notebook-dir="$PWD/notebooks" "$@"
