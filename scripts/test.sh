#!/usr/bin/env bash
# Runs every test suite Pujo has, on a Debian/Ubuntu machine with Rust and Node.js.
# It installs what the suites need when it is missing (as root, through apt-get, pip,
# npm and cargo) and uses what is already on PATH. Any failure fails the whole run;
# nothing is skipped silently.
#
#   scripts/test.sh            # everything
#   scripts/test.sh rust [ARGS...]
#                              # only the Rust tests, with their servers; ARGS go to
#                              # nextest, e.g. -E 'test(/^media::/)' for one suite
#                              # (the integration tests are one binary, tests/it, with
#                              # a module per suite)
#
# Caches: Cargo's target dir and npm's cache live under ${XDG_CACHE_HOME:-~/.cache}/pujo
# unless CARGO_TARGET_DIR / npm_config_cache say otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=${XDG_CACHE_HOME:-$HOME/.cache}/pujo
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$cache/target}
export npm_config_cache=${npm_config_cache:-$cache/npm}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
mkdir -p "$cache"

passed=0
failed=0
failures=()
step() { printf '\n==> %s\n' "$*"; }
run_suite() {
  local name=$1; shift
  step "$name"
  local started=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "--- $name: ok ($((SECONDS - started)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "--- $name: FAILED ($((SECONDS - started)) s)"
  fi
}

# ---------------------------------------------------------------- tools
apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing: $* (install them, or run this script as root on Debian/Ubuntu)" >&2
    return 1
  fi
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
need_cmd() { # need_cmd COMMAND DEBIAN_PACKAGE
  command -v "$1" >/dev/null || apt_install "$2"
}

step "tools"
need_cmd node nodejs
need_cmd npm npm
need_cmd python3 python3
need_cmd kill procps
need_cmd ldd libc-bin
need_cmd cc gcc
# libjpeg-turbo's SIMD (the JPEG decoder) is assembled with NASM; without it the
# build still works, with a slower decoder.
need_cmd nasm nasm
need_cmd chromium chromium
need_cmd curl curl
need_cmd redis-server redis-server
if ! command -v s3s-fs >/dev/null; then
  echo "installing s3s-fs, the S3-compatible test server (once; kept in ~/.cargo/bin)"
  cargo install s3s-fs --version 0.14.1 --features binary --locked --quiet
fi
if ! command -v cargo-deny >/dev/null; then
  echo "installing cargo-deny (once; kept in ~/.cargo/bin)"
  cargo install cargo-deny --locked --quiet
fi
db_home=$(../shared/tools/advisory-db 2>/dev/null || true)
if [ -z "$db_home" ]; then
  echo "the RustSec snapshot in ../shared/advisory-db is missing; cargo-deny cannot check advisories offline" >&2
  exit 1
fi
if command -v cargo-nextest >/dev/null; then
  rust_tests=(cargo nextest run --no-fail-fast)
else
  rust_tests=(cargo test --no-fail-fast)
fi
echo "cargo target dir: $CARGO_TARGET_DIR"

# ---------------------------------------------------------------- servers
# A throwaway PostgreSQL 15 on a random loopback port; tests create a database each.
services=$(mktemp -d)
chmod 755 "$services"
pg_bin=""
for dir in "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")" /usr/lib/postgresql/15/bin; do
  if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && "$dir/initdb" --version | grep -q ' 15\.'; then pg_bin=$dir; break; fi
done
if [ -z "$pg_bin" ]; then
  apt_install postgresql-15 || apt_install postgresql
  pg_bin=/usr/lib/postgresql/15/bin
fi
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$services"
  as_pg=(runuser -u postgres --)
fi
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$pg_bin/initdb" -D "$services/pg" -U pujo --auth=trust -E UTF8 --no-sync >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$services/pg" -l "$services/pg.log" -w -o \
  "-p $pg_port -k $services -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
stop_services() {
  [ -z "${s3_pid:-}" ] || kill "$s3_pid" 2>/dev/null || true
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$services/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$services"
}
trap stop_services EXIT
export TEST_POSTGRES_URL="postgres://pujo@127.0.0.1:$pg_port/postgres"

# An S3-compatible server that checks SigV4 signatures (s3s-fs); tests make a bucket
# each as a folder under its root, and tests that stop S3 start their own.
s3_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$services/s3"
s3s-fs --host 127.0.0.1 --port "$s3_port" --access-key pujo-test --secret-key pujo-test-secret "$services/s3" \
  >"$services/s3.log" 2>&1 &
s3_pid=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null && break; sleep 0.05; done
export TEST_S3_ENDPOINT="http://127.0.0.1:$s3_port" TEST_S3_ROOT="$services/s3" TEST_S3S_BIN="$(command -v s3s-fs)"
export TEST_S3_ACCESS_KEY=pujo-test TEST_S3_SECRET_KEY=pujo-test-secret
echo "s3: s3s-fs 0.14.1 on 127.0.0.1:$s3_port"
# Redis: every cache test starts its own redis-server on a free loopback port (they
# stop and restart it), from this binary. 7 or later: rate-limit counters use
# PEXPIRE ... NX.
redis_major=$(redis-server --version | sed -n 's/.* v=\([0-9]*\)\..*/\1/p')
if [ "${redis_major:-0}" -lt 7 ]; then
  echo "redis-server 7 or later is needed; found: $(redis-server --version)" >&2
  exit 1
fi
export TEST_REDIS_BIN="$(command -v redis-server)"
echo "redis: $(redis-server --version | cut -d' ' -f3) (each cache test starts its own)"
# Tests that stop, restart or reconfigure a server start their own from these.
export TEST_PG_BIN="$pg_bin"
export TEST_PG_USER="${as_pg[2]:-}"
echo "postgres: $("$pg_bin/postgres" --version) on 127.0.0.1:$pg_port"

# ---------------------------------------------------------------- suites
web_suite() {
  cd "$root/web"
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  npm run --silent typecheck && npm test --silent && npm run --silent build
}

rust_style() {
  cargo fmt --all -- --check && cargo clippy --all-targets --locked -- -D warnings
}

rust_tests() {
  "${rust_tests[@]}" --locked "$@"
}

static_binary() {
  # Statically linked release build (gnu target with crt-static; musl comes via Nix).
  RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked --target x86_64-unknown-linux-gnu
  # The second build of an unchanged tree is a no-op (fat LTO takes minutes): the build
  # script must not watch what it writes itself.
  local again
  again=$(RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked --target x86_64-unknown-linux-gnu 2>&1)
  if grep -q "Compiling pujo" <<<"$again"; then
    echo "a second build of the same tree compiled pujo again:"; echo "$again"; return 1
  fi
  local bin=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/pujo
  if ! ldd "$bin" 2>&1 | grep -qE "not a dynamic executable|statically linked"; then
    echo "pujo is dynamically linked:"; ldd "$bin"; return 1
  fi
  echo "static: $(ls -l "$bin" | awk '{print $5}') bytes, $(ldd "$bin" 2>&1)"
  # Smoke test the shipped artefact itself: serve, answer the probe, stop cleanly.
  local data port pid
  data=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  PUJO_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --admin-listen off --data-dir "$data" &
  pid=$!
  local ok=1
  for _ in $(seq 1 100); do
    if "$bin" healthcheck --url "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then ok=0; break; fi
    sleep 0.05
  done
  kill -TERM "$pid"
  wait "$pid" || ok=1
  rm -rf "$data"
  return $ok
}

e2e_suite() {
  # The shipped binary in Chromium: issue 6's flow (register, album, three uploads with
  # their progress bars, lightbox, like, comment, private album 404, Bengali), axe-core
  # on every page, Lighthouse on the home and a photo page, the README's screenshots.
  bash "$root/scripts/e2e.sh" "$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/pujo"
}

api_contract() {
  # schemathesis drives the shipped binary from its own OpenAPI document: no 5xx and no
  # answer that the document does not describe.
  bash "$root/scripts/schemathesis.sh" "$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/pujo"
}

tus_clients() {
  # tuspy, a tus client from PyPI, against the shipped binary: chunks, a restart, a cut
  # connection, checksums, termination, another person's upload, expiry.
  bash "$root/scripts/tus-clients.sh" "$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/pujo"
}

infra_checks() {
  bash "$root/scripts/check-infra.sh" "$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/pujo"
}

supply_chain() {
  # The advisory database is the local snapshot; crates must be in the cache first.
  cargo fetch --locked --quiet && cargo deny --offline --log-level error check advisories licenses bans sources
}

if [ "${1:-}" = rust ]; then
  shift
  run_suite "rust: unit and integration tests" rust_tests "$@"
  [ $failed = 0 ]
  exit
fi

run_suite "web: typecheck, vitest, build" web_suite
cd "$root"
run_suite "rust: fmt and clippy" rust_style
run_suite "rust: unit and integration tests" rust_tests
run_suite "release: static binary" static_binary
run_suite "api: schemathesis against the OpenAPI document" api_contract
run_suite "api: resumable uploads with tuspy" tus_clients
run_suite "browser: end to end, axe-core and Lighthouse in Chromium" e2e_suite
run_suite "infra: nix, terraform, kubernetes, yaml" infra_checks
run_suite "supply chain: cargo deny" supply_chain

echo
if [ $failed -gt 0 ]; then
  printf 'failed suites:\n'; printf '  - %s\n' "${failures[@]}"
fi
echo "suites: $passed passed, $failed failed"
[ $failed = 0 ]
