#!/usr/bin/env bash
# Checks that src/api/openapi.json tells the truth about the API. schemathesis
# generates requests from the document and fails on any 5xx; any status, content type,
# header or body the document does not describe; valid data refused; invalid data
# accepted; authentication not enforced.
#
#   scripts/schemathesis.sh PATH/TO/pujo
#
# It starts the given binary on embedded defaults (SQLite in a temporary data dir) on
# a free loopback port, seeds it (tests/schemathesis/seed.py: a person made admin,
# pandals, albums, photos, a comment, a like), and runs schemathesis with that
# person's session cookie. schemathesis is installed from PyPI, pinned, into
# ${PUJO_CACHE:-~/.cache/pujo}/schemathesis-venv.
#
# The document tested is the one the binary serves (compiled in). While editing
# src/api/openapi.json before the binary is rebuilt, PUJO_ST_SCHEMA=src/api/openapi.json
# tests that file against the running binary instead.
#
# Environment: PUJO_ST_MAX_EXAMPLES (default 150) cases per operation and phase,
# PUJO_ST_SEED (default 1), PUJO_ST_REPORT_DIR to keep schemathesis' JUnit report and
# the server's log.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
# The whole run stays well under three minutes on two busy cores; past this it fails.
TIME_LIMIT=170

if [[ $# -ne 1 ]]; then
  echo "usage: $0 PATH/TO/pujo" >&2
  exit 2
fi
binary=$(realpath "$1")
[[ -x $binary ]] || { echo "$0: $1 is not an executable" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
here=$root/tests/schemathesis

cache=${PUJO_CACHE:-$HOME/.cache/pujo}
venv=$cache/schemathesis-venv
if [[ "$("$venv/bin/st" --version 2>/dev/null)" != *" $SCHEMATHESIS_VERSION" ]]; then
  echo "==> installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  mkdir -p "$cache"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
python=$venv/bin/python

work=$(mktemp -d)
server=
stop() {
  local status=$?
  if [[ -n $server ]] && kill -0 "$server" 2>/dev/null; then
    kill "$server"
    wait "$server" 2>/dev/null || true
  fi
  if [[ -n ${PUJO_ST_REPORT_DIR:-} ]]; then
    mkdir -p "$PUJO_ST_REPORT_DIR"
    cp -r "$work/server.log" "$work/report" "$PUJO_ST_REPORT_DIR/" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -s $work/server.log ]]; then
    echo "--- last lines of the server's log:" >&2
    tail -n 40 "$work/server.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT TERM

# Embedded defaults: no PUJO_* setting of the caller's reaches the server (which also
# refuses names it does not know, such as PUJO_CACHE).
clean_env=()
for name in $(compgen -e); do
  if [[ $name == PUJO_* ]]; then clean_env+=(-u "$name"); fi
done

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
mkdir -p "$work/data"
# Registration's proof of work is off here, so that the bodies schemathesis makes for
# `register` reach its validation (tests/it/accounts.rs holds the proof itself).
env "${clean_env[@]}" "$binary" serve --listen "127.0.0.1:$port" --admin-listen off --data-dir "$work/data" \
  --log warn --access-log false --register-proof-bits 0 >"$work/server.log" 2>&1 &
server=$!

echo "==> seeding $base"
seed=$(env "${clean_env[@]}" "$python" "$here/seed.py" "$base" "$binary" "$work/data" "$server")
session=$(sed -n 's/^SESSION=//p' <<<"$seed")
export PUJO_ST_LOGOUT_SESSION
PUJO_ST_LOGOUT_SESSION=$(sed -n 's/^LOGOUT_SESSION=//p' <<<"$seed")

schema=$base/api/openapi.json
location=()
if [[ -n ${PUJO_ST_SCHEMA:-} ]]; then
  schema=$(realpath "$PUJO_ST_SCHEMA")
  location=(--url "$base")
fi
echo "==> schemathesis $SCHEMATHESIS_VERSION: $schema against $base"
started=$SECONDS
# One worker and a fixed seed keep the run repeatable. The Origin header is the
# server's own, so unsafe requests are not refused as cross-site.
SCHEMATHESIS_HOOKS=$here/hooks.py timeout "$TIME_LIMIT" \
  "$venv/bin/st" --config-file "$here/schemathesis.toml" run "$schema" "${location[@]}" \
  --checks all \
  --seed "${PUJO_ST_SEED:-1}" \
  --max-examples "${PUJO_ST_MAX_EXAMPLES:-150}" \
  --workers 1 \
  --header "Cookie: pujo_session=$session" \
  --header "Origin: $base" \
  --report junit --report-dir "$work/report" \
  --no-color || {
  status=$?
  if [[ $status -eq 124 ]]; then echo "schemathesis did not finish within $TIME_LIMIT s" >&2; fi
  exit "$status"
}

# Had the session ended during the run, every authenticated operation would have been
# tested only as "401 without a session".
if ! "$python" - "$base" "$session" <<'PY'
import sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/api/v1/me", headers={"Cookie": f"pujo_session={sys.argv[2]}"})
urllib.request.urlopen(req, timeout=10)
PY
then
  echo "the harness' session ended during the run: authenticated operations went untested" >&2
  exit 1
fi
echo "==> schemathesis passed in $((SECONDS - started)) s"
