#!/usr/bin/env bash
# Pujo's resumable uploads (tus 1.0) driven by a client nobody here wrote: tuspy from
# PyPI (tests/tus/tuspy_check.py says what it checks). Installs tuspy and Pillow,
# pinned, into ${PUJO_CACHE:-~/.cache/pujo}/tus-venv.
#
#   scripts/tus-clients.sh PATH/TO/pujo
set -euo pipefail
TUSPY_VERSION=1.1.0
PILLOW_VERSION=13.0.0
if [[ $# -ne 1 || ! -x $1 ]]; then
  echo "usage: $0 PATH/TO/pujo" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${PUJO_CACHE:-$HOME/.cache/pujo}
venv=$cache/tus-venv
want="tuspy==$TUSPY_VERSION pillow==$PILLOW_VERSION"
if [[ "$(cat "$venv/.installed" 2>/dev/null)" != "$want" ]]; then
  echo "==> installing $want into $venv"
  mkdir -p "$cache"
  rm -rf "$venv"
  python3 -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --disable-pip-version-check $want
  echo "$want" >"$venv/.installed"
fi
# A run takes seconds; past two minutes something hangs.
timeout 120 "$venv/bin/python" "$root/tests/tus/tuspy_check.py" "$1"
