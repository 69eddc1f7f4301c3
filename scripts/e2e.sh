#!/usr/bin/env bash
# End-to-end, accessibility and Lighthouse tests of a pujo binary in Debian's Chromium
# (tests/e2e/run.mjs says what they do).
#
#   scripts/e2e.sh PATH-TO-PUJO
#
# Starts the binary on its embedded defaults (SQLite in a temp data folder) on a free
# loopback port, runs the tests against it and stops it. Installs what is missing:
# tests/e2e's npm packages (npm ci) and, as root on Debian, chromium and fonts-noto-core.
# Writes docs/screenshots/{home,photo,upload}.png and lighthouse.json (E2E_SCREENSHOTS=DIR
# puts them elsewhere; they are written only when the steps behind them passed). On failure it
# keeps the artifacts folder (screenshots, axe and Lighthouse reports, the server log)
# and prints where it is. Exit status: 0 only when every step passed.
set -euo pipefail
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 PATH-TO-PUJO-BINARY" >&2
  exit 2
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/.."
root=$PWD
started=$SECONDS
export npm_config_cache=${npm_config_cache:-${XDG_CACHE_HOME:-$HOME/.cache}/pujo/npm}

# ---------------------------------------------------------------- tools
apt_updated=0
need_pkg() { # need_pkg TEST-COMMAND... -- DEBIAN-PACKAGE...
  local test=() ; while [ "$1" != -- ]; do test+=("$1"); shift; done; shift
  "${test[@]}" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing: $* (install it, or run this as root on Debian)" >&2
    return 1
  fi
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
need_pkg command -v node -- nodejs
need_pkg command -v npm -- npm
need_pkg test -x /usr/bin/chromium -- chromium
need_pkg test -e /usr/share/fonts/truetype/noto/NotoSansBengali-Regular.ttf -- fonts-noto-core
need_pkg command -v curl -- curl

e2e=$root/tests/e2e
if [ ! -f "$e2e/node_modules/.package-lock.json" ] || [ "$e2e/package-lock.json" -nt "$e2e/node_modules/.package-lock.json" ]; then
  (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error)
fi

# ---------------------------------------------------------------- the server
work=$(mktemp -d "${TMPDIR:-/tmp}/pujo-e2e.XXXXXX")
artifacts=$work/artifacts
mkdir -p "$work/data" "$artifacts"
# The binary refuses PUJO_* variables it does not know, and the tests want its defaults.
unset_pujo=()
while IFS= read -r name; do unset_pujo+=(-u "$name"); done < <(compgen -e | grep '^PUJO_' || true)
pujo() { env "${unset_pujo[@]}" "$bin" "$@"; }

free_port() { node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'; }
# wait_ready PID URL LOG: polls URL's /ready for 10 s; fails if PID exits meanwhile.
wait_ready() {
  local pid=$1 url=$2 log=$3
  for _ in $(seq 1 200); do
    if curl -fsSk --max-time 1 "$url/ready" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "pujo exited at start:" >&2; cat "$log" >&2; return 1; fi
    sleep 0.05
  done
  echo "pujo is not ready on $url after 10 s" >&2
  return 1
}
port=$(free_port)
pandal="Bagbazar Sarbojanin"
pujo admin --data-dir "$work/data" --log warn create-pandal --name "$pandal" --para Bagbazar --city Kolkata --year 2026 >/dev/null

pid=""
tls_pid=""
ok=0
stop_pid() {
  local pid=$1
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
cleanup() {
  stop_pid "$pid"
  stop_pid "$tls_pid"
  rm -rf "$work/data" "$work/tls-data"
  if [ $ok = 1 ]; then
    rm -rf "$work"
  else
    if [ -s "$artifacts/pujo.log" ]; then echo "last lines of the server log:" >&2; tail -n 20 "$artifacts/pujo.log" >&2; fi
    echo "artifacts (screenshots, axe and Lighthouse reports, server log): $artifacts" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Started directly (not through the function above) so that $! is pujo itself: env execs it.
env "${unset_pujo[@]}" "$bin" serve --listen "127.0.0.1:$port" --admin-listen off --data-dir "$work/data" --log warn \
  >"$artifacts/pujo.log" 2>&1 &
pid=$!
base=http://127.0.0.1:$port
wait_ready "$pid" "$base" "$artifacts/pujo.log" || exit 1
echo "pujo $(pujo version 2>/dev/null | head -1) on $base (data in $work/data)"

# A second pujo terminating TLS itself (a self-signed certificate for localhost), as
# on a VM: Chromium speaks HTTP/2 to it.
tls_port=$(free_port)
mkdir -p "$work/tls-data"
env "${unset_pujo[@]}" "$bin" serve --listen "127.0.0.1:$tls_port" --admin-listen off --data-dir "$work/tls-data" --log warn \
  --tls self-signed >"$artifacts/pujo-tls.log" 2>&1 &
tls_pid=$!
tls_base=https://localhost:$tls_port
wait_ready "$tls_pid" "$tls_base" "$artifacts/pujo-tls.log" || exit 1
echo "pujo with TLS on $tls_base"

# ---------------------------------------------------------------- the tests
status=0
E2E_BASE_URL=$base E2E_ARTIFACTS=$artifacts E2E_SCREENSHOTS=${E2E_SCREENSHOTS:-$root/docs/screenshots} \
  E2E_PANDAL=$pandal E2E_BINARY="$bin ($(pujo version 2>/dev/null | head -1))" \
  timeout --kill-after=10 900 node "$e2e/run.mjs" || status=$?
if [ $status = 124 ] || [ $status = 137 ]; then echo "e2e: timed out after 900 s" >&2; fi
offline_status=0
E2E_BASE_URL=$base E2E_ARTIFACTS=$artifacts timeout --kill-after=10 300 node "$e2e/offline.mjs" || offline_status=$?
if [ $offline_status = 124 ] || [ $offline_status = 137 ]; then echo "e2e offline: timed out after 300 s" >&2; fi
if [ $status = 0 ]; then status=$offline_status; fi
tls_status=0
E2E_TLS_URL=$tls_base E2E_ARTIFACTS=$artifacts timeout --kill-after=10 300 node "$e2e/tls.mjs" || tls_status=$?
if [ $tls_status = 124 ] || [ $tls_status = 137 ]; then echo "e2e over TLS: timed out after 300 s" >&2; fi
if [ $status = 0 ]; then status=$tls_status; fi
if [ $status = 0 ]; then ok=1; fi
echo "e2e run: $((SECONDS - started)) s"
exit $status
