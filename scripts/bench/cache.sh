#!/usr/bin/env bash
# Benchmark of the edge cache (docs/BENCHMARKS.md): one album's photo listing (50
# photos, anonymous) served
#   - from moka (the default, with Redis configured),
#   - from Redis (PUJO_CACHE_LOCAL_BYTES=0: no in-process tier),
#   - from PostgreSQL (no Redis and no in-process tier: every request reads the database),
#   - from moka with Redis stopped (the circuit breaker open),
# and, as the ceiling of the stack on this machine, a minimal hyper server answering
# the same bytes with the same headers. All in one run, on loopback, 64 connections.
#
# Servers (Pujo, PostgreSQL, Redis, the ceiling) are pinned to CPU 0 and wrk to CPU 1;
# each case runs three rounds and the median is reported.
#
#   scripts/bench/cache.sh [SECONDS_PER_RUN]
#
# Needs wrk, redis-server and PostgreSQL 15 (apt-get install wrk redis-server
# postgresql-15). Everything listens on 127.0.0.1; every load run stops after
# SECONDS_PER_RUN (default 10).
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
. scripts/bench/lib.sh
bench_needs wrk redis-server curl python3
build_release bench_ceiling
redis_pid=
wait_listening() { # the cache bus is up once /health says so
  for _ in $(seq 1 500); do
    curl -fs "http://127.0.0.1:$1/health" | grep -q '"cache_bus":{"status":"ok"' && return 0; sleep 0.02
  done
  echo "$2 on 127.0.0.1:$1 did not report its cache bus ok on /health within 10 s" >&2
  return 1
}

start_postgres 256MB taskset -c 0
step "migrating and seeding PostgreSQL" migrate
"$bin/pujo" migrate --database-url "$url" >>"$logs/migrate.log" 2>&1
# One person, one public album of 50 photos, a like on each and a comment on every fifth.
"$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U pujo -d postgres -v ON_ERROR_STOP=1 -q >>"$logs/migrate.log" 2>&1 <<'SQL'
INSERT INTO users (username, email, display_name, password_hash) VALUES ('ananya', 'ananya@pujo.example', 'Ananya', 'x');
INSERT INTO albums (owner_id, title, description, visibility, created_at, updated_at, search_text)
VALUES (1, 'Ashtami at Bagbazar', '', 'public', now(), now(), 'ashtami at bagbazar');
INSERT INTO photos (owner_id, album_id, caption, width, height, exif, sha256, content_type, byte_size, gps_privacy,
                    created_at, updated_at, search_text)
SELECT 1, 1, 'Sandhi puja ' || g, 4000, 3000, '{"camera":"Pixel 9"}', sha256(int8send(g)), 'image/jpeg', 3000000,
       'hidden', now(), now(), 'sandhi puja ' || g
FROM generate_series(1::bigint, 50) g;
INSERT INTO likes (photo_id, user_id, created_at) SELECT id, 1, now() FROM photos;
INSERT INTO comments (photo_id, author_id, body, created_at) SELECT id, 1, 'Sundor!', now() FROM photos WHERE id % 5 = 0;
VACUUM ANALYZE;
SQL

redis_port=$(port)
start_redis() {
  step "starting redis-server" redis
  taskset -c 0 redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >>"$logs/redis.log" 2>&1 &
  redis_pid=$!
  pids+=("$redis_pid")
  wait_port "$redis_port" redis-server "$redis_pid"
}
start_redis

path="/api/v1/albums/1/photos?limit=50"
start_pujo() { # NAME PORT ARGS... (run from CPU 0)
  local name=$1 p=$2
  shift 2
  step "starting pujo ($name)" "pujo-$name"
  PUJO_LOG=warn PUJO_ACCESS_LOG=false taskset -c 0 "$bin/pujo" serve --listen "127.0.0.1:$p" --admin-listen off \
    --data-dir "$work/data-$p" --database-url "$url" "$@" >"$logs/pujo-$name.log" 2>&1 &
  pids+=("$!")
  wait_ready "$p" "pujo ($name)" "$!"
  wait_listening "$p" "pujo ($name)"
}
moka_port=$(port); start_pujo moka "$moka_port" --redis-url "redis://127.0.0.1:$redis_port"
redis_only_port=$(port); start_pujo redis "$redis_only_port" --redis-url "redis://127.0.0.1:$redis_port" --cache-local-bytes 0
db_port=$(port); start_pujo postgres "$db_port" --cache-local-bytes 0

# The ceiling answers Pujo's own bytes and headers for this listing.
curl -fs -o "$work/body" -D "$work/head" "http://127.0.0.1:$moka_port$path"
tr -d '\r' < "$work/head" | grep -viE '^(HTTP/|date:|content-length:|connection:|keep-alive:|$)' > "$work/headers"
step "starting the ceiling server" ceiling
ceiling_port=$(port)
taskset -c 0 "$bin/examples/bench_ceiling" "127.0.0.1:$ceiling_port" "$work/body" "$work/headers" >"$logs/ceiling.log" 2>&1 &
pids+=("$!")
wait_port "$ceiling_port" "the ceiling server" "$!"
for p in "$moka_port" "$redis_only_port" "$db_port"; do
  cmp -s "$work/body" <(curl -fs "http://127.0.0.1:$p$path") || { echo "replicas disagree on the listing" >&2; exit 1; }
done

run_wrk() { # URL -> "rps p50 p99"
  taskset -c 1 wrk -t1 -c64 -d"${duration}s" --latency "$1" > "$logs/wrk.log"
  wrk_summary "$logs/wrk.log"
}

echo "machine: $(nproc) cores; servers (pujo, postgres, redis, ceiling) on CPU 0, wrk -t1 -c64 -d${duration}s on CPU 1; loopback; median of 3 rounds"
echo "request: GET $path (anonymous), $(wc -c < "$work/body") bytes of JSON"
printf '%-40s %10s %9s %9s\n' "case" "req/s" "p50 ms" "p99 ms"
step "measuring the listing from each tier" wrk
declare -A runs=() result=()
for _ in 1 2 3; do
  for case in ceiling moka redis postgres; do
    case $case in
      ceiling) p=$ceiling_port ;; moka) p=$moka_port ;; redis) p=$redis_only_port ;; postgres) p=$db_port ;;
    esac
    runs[$case]+="$(run_wrk "http://127.0.0.1:$p$path");"
  done
done
# Redis stopped: the moka replica keeps answering (misses go to PostgreSQL, Redis is skipped).
step "measuring with Redis stopped" wrk
kill "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=
for _ in 1 2 3; do
  runs[redis-down]+="$(run_wrk "http://127.0.0.1:$moka_port$path");"
done
for case in ceiling moka redis postgres redis-down; do
  result[$case]=$(median_rows "${runs[$case]}")
  read -r r p50 p99 <<< "${result[$case]}"
  case $case in
    ceiling) label="hyper hello-world, same bytes (ceiling)" ;;
    moka) label="pujo, moka tier" ;;
    redis) label="pujo, Redis tier (no moka)" ;;
    postgres) label="pujo, no cache (PostgreSQL)" ;;
    redis-down) label="pujo, moka tier, Redis stopped" ;;
  esac
  printf '%-40s %10s %9s %9s\n' "$label" "$r" "$p50" "$p99"
done
python3 - "${result[ceiling]}" "${result[moka]}" "${result[redis]}" "${result[postgres]}" "${result[redis-down]}" <<'PY'
import sys
c, m, r, p, d = (list(map(float, a.split())) for a in sys.argv[1:])
print(f"  moka / ceiling req/s = {m[0]/c[0]:.2f}x (target >= 0.7x); moka p99 {m[2]:.2f} ms (target < 5 ms)")
print(f"  redis / ceiling = {r[0]/c[0]:.2f}x; postgres / ceiling = {p[0]/c[0]:.2f}x; moka / postgres = {m[0]/p[0]:.1f}x")
print(f"  Redis stopped: p99 {d[2]:.2f} ms (target < 20 ms), {d[0]/c[0]:.2f}x of the ceiling")
PY
