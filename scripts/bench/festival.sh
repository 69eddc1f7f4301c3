#!/usr/bin/env bash
# A festival night (docs/BENCHMARKS.md, issue 21): the visitor mix of
# scripts/bench/festival/src/main.rs (goose) against Pujo as the cluster runs it, at
# a rising number of visitors, on this machine.
#
#   scripts/bench/festival.sh REPLICAS VISITORS...
#     REPLICAS   1, 2, or 1,2 (one run after the other on the same data)
#     VISITORS   the steps, e.g. 500 1000 2000 4000: concurrent visitors in each
#
# System under test, all on 127.0.0.1 with free ports: REPLICAS Pujo release binaries
# behind HAProxy (Debian's; it stands in for the ALB and adds X-Forwarded-For, which
# Pujo trusts from it), one PostgreSQL 15, one Redis 7 and s3s-fs as the S3 bucket.
# The data is a festival's: 2,000 pandals, 100,000 albums, 1,000,000 photos' rows
# (PUJO_BENCH_SCALE scales them), 20,000 accounts with sessions, and a hot set of 300
# blobs (real WebP/JPEG derivatives) that every photo row points at.
#
# Each step starts PUJO_BENCH_STEP_SECONDS (default 60) of steady load after the
# visitors arrive (over N/250 s, 4 to 30) and settle (5 s); latencies and CPU are
# measured in the steady window only. Per request type: p50/p95/p99 and errors; the CPU
# of every server process and of the load generator itself (from /proc, as a share of
# one core). Results go to PUJO_BENCH_OUT (default target/bench-results/festival-<UTC
# time>/): steps.csv, steps.json, summary.txt and festival.png (latency percentiles
# against load), and per step pg-top-<step>.txt (PostgreSQL's costliest statements)
# and metrics-<step>-replica<N>.txt (each replica's Prometheus counters at the end of
# the window: pool waits, blob store and cache timings); the summary is printed.
#
# Other settings: PUJO_BIN (a release binary: no build), PUJO_BENCH_MIX (e.g.
# browser=76,participant=20,uploader=3,wall=1), PUJO_BENCH_SCALE (default 1).
# Needs root, haproxy, redis-server, postgresql-15, s3s-fs, python3-venv, curl and a
# Rust toolchain (README.md, "Working on Pujo"). Every process it starts is stopped
# when it ends, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 2 ] || { sed -n '6,9p' "$0" >&2; exit 2; }
replica_runs=${1//,/ }
shift
steps=("$@")
seconds=${PUJO_BENCH_STEP_SECONDS:-60}
scale=${PUJO_BENCH_SCALE:-1}
mix=${PUJO_BENCH_MIX:-}
for r in $replica_runs; do [[ $r == 1 || $r == 2 ]] || { echo "REPLICAS: 1, 2 or 1,2 (not $r)" >&2; exit 2; }; done
for n in "${steps[@]}"; do [[ $n =~ ^[0-9]+$ && $n -ge 2 ]] || { echo "VISITORS: whole numbers of 2 or more (not $n)" >&2; exit 2; }; done
. scripts/bench/lib.sh
# A connection per visitor (two at times: the client opens a second while the first
# goes back to its pool) at the load generator and HAProxy: every descriptor allowed.
ulimit -n "$(ulimit -Hn)"
out=${PUJO_BENCH_OUT:-$PWD/target/bench-results/festival-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
bench_needs haproxy redis-server s3s-fs curl cargo python3
build_release
pujo=$bin/pujo

step "building the load generator (goose, scripts/bench/festival)" loadgen-build
loadgen_target=${XDG_CACHE_HOME:-$HOME/.cache}/pujo/festival-target
CARGO_TARGET_DIR=$loadgen_target cargo build --release --locked --quiet \
  --manifest-path scripts/bench/festival/Cargo.toml >"$logs/loadgen-build.log" 2>&1
loadgen=$loadgen_target/release/pujo-festival

bench_python matplotlib PIL=pillow
step "making phone photos and the hot set's images (once, cached)" media
media=${XDG_CACHE_HOME:-$HOME/.cache}/pujo/festival-media
"$py" scripts/bench/festival/media.py "$media" >>"$logs/media.log" 2>&1

users=20000 hot=300 walls=10
read -r pandals albums photos < <(python3 -c "s=float('$scale'); print(max(40, int(2000*s)), max(100, int(100000*s)), max(1000, int(1000000*s)))")

# pg_stat_statements: what the database spent its time on, written per step (pg-top-*.txt).
PG_MAX_CONNECTIONS=200 PG_OPTIONS="-c work_mem=8MB -c effective_cache_size=4GB \
  -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top -c track_wal_io_timing=on" start_postgres 1GB
psql_() { "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U pujo -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_ -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >>"$logs/postgres.log" 2>&1
# pg_top FILE: the statements that took the most database time since the last reset (each one's
# start and end: the WHERE tells them apart), then a reset.
pg_top() {
  "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U pujo -d postgres -q -P pager=off -c "SELECT calls,
      round(total_exec_time::numeric / 1000, 1) AS total_s, round(mean_exec_time::numeric, 2) AS mean_ms,
      round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1) AS pct, shared_blks_hit + shared_blks_read AS blocks,
      left(regexp_replace(query, '\s+', ' ', 'g'), 90) || ' … ' || right(regexp_replace(query, '\s+', ' ', 'g'), 210) AS query
    FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15" >"$1" 2>&1 || true
  psql_ -c 'SELECT pg_stat_statements_reset()' >/dev/null 2>&1 || true
}
# pg_waits FILE: until killed, four times a second, what each busy client backend waits
# for ("CPU" when running), one line a backend; "sample" marks each look. With the WAL
# counters below, this tells a database short of CPU from one queued on a lock or on
# its WAL's flushes.
# Run in the background: psql takes the subshell's place, so killing it stops the sampling.
pg_waits() {
  exec "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U pujo -d postgres -qAt >"$1" 2>/dev/null <<'SQL'
SELECT 'sample' UNION ALL SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU')
  FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid();
\watch 0.25
SQL
}
wal_stats() { psql_ -F ' ' -c 'SELECT wal_records, wal_bytes, wal_write, wal_sync, round(wal_sync_time) FROM pg_stat_wal'; }
step "migrating PostgreSQL" migrate
"$pujo" migrate --database-url "$url" >>"$logs/migrate.log" 2>&1
step "seeding $pandals pandals, $albums albums, $photos photos, $users accounts (SQL)" seed
started=$SECONDS
psql_ -v users="$users" -v pandals="$pandals" -v albums="$albums" -v photos="$photos" -v hot="$hot" \
  -f scripts/bench/festival/seed.sql >>"$logs/seed.log" 2>&1
psql_ -c 'VACUUM ANALYZE' -c 'CHECKPOINT' >>"$logs/seed.log" 2>&1
echo "  seeded in $((SECONDS - started)) s" >&2

step "starting redis-server" redis
redis_port=$(port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$logs/redis.log" 2>&1 &
redis_pid=$!; pids+=("$redis_pid")
wait_port "$redis_port" redis-server "$redis_pid"

step "starting s3s-fs and putting the hot set in its bucket" s3s-fs
mkdir -p "$work/s3/festival"
python3 - "$work/s3/festival" "$media/derived" "$hot" <<'PY'
import hashlib, os, sys
bucket, derived, hot = sys.argv[1], sys.argv[2], int(sys.argv[3])
sets = sorted(os.listdir(derived))
for k in range(hot):
    sha = hashlib.sha256(f"festival-blob-{k}".encode()).hexdigest()
    folder = f"{bucket}/thumbnails/{sha}"
    os.makedirs(folder, exist_ok=True)
    source = f"{derived}/{sets[k % len(sets)]}"
    for name in os.listdir(source):
        os.link(f"{source}/{name}", f"{folder}/{name}")
PY
s3_port=$(port)
s3s-fs --host 127.0.0.1 --port "$s3_port" --access-key festival --secret-key festival-secret "$work/s3" \
  >"$logs/s3s-fs.log" 2>&1 &
s3_pid=$!; pids+=("$s3_pid")
wait_port "$s3_port" s3s-fs "$s3_pid"

# start_replicas COUNT: COUNT Pujo replicas (stopping any before) and HAProxy over them.
replica_pids=() admin_ports=() haproxy_pid=
start_replicas() {
  local count=$1 i p a ports=()
  for p in "${replica_pids[@]}" $haproxy_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  replica_pids=() admin_ports=()
  for i in $(seq 1 "$count"); do
    step "starting pujo replica $i of $count" "pujo-$count-$i"
    p=$(port) a=$(port)
    PUJO_LOG=warn PUJO_ACCESS_LOG=false "$pujo" serve --listen "127.0.0.1:$p" --admin-listen "127.0.0.1:$a" \
      --data-dir "$work/replica-$count-$i" --database-url "$url" --redis-url "redis://127.0.0.1:$redis_port" \
      --s3-bucket festival --s3-endpoint "http://127.0.0.1:$s3_port" --s3-path-style true --s3-region us-east-1 \
      --s3-access-key-id festival --s3-secret-access-key festival-secret --trusted-proxies 127.0.0.1/32 \
      >"$logs/pujo-$count-$i.log" 2>&1 &
    pids+=("$!"); replica_pids+=("$!")
    wait_ready "$p" "pujo replica $i" "$!" 30
    ports+=("$p") admin_ports+=("$a")
  done
  step "starting HAProxy over $count replica(s)" haproxy
  lb_port=$(port)
  # Visitors' connections may take nearly every descriptor: connections to the
  # replicas are reused, so HAProxy holds a few dozen of those, not one a visitor.
  # (Its default keeps half of the descriptors for them; past maxconn, visitors'
  # connections wait unaccepted in the kernel and time out; without strict-limits it
  # does not insist on two descriptors a connection.) The fd ratios keep
  # connections to the replicas pooled however many visitors there are: by default
  # HAProxy stops pooling them once a fifth of its descriptors are in use, and then
  # opens a connection to a replica for every request.
  local haproxy_maxconn=$(( $(ulimit -n) - 1000 ))
  {
    cat <<CFG
global
  maxconn $haproxy_maxconn
  no strict-limits
  nbthread 2
  tune.pool-low-fd-ratio 90
  tune.pool-high-fd-ratio 95
defaults
  mode http
  maxconn $haproxy_maxconn
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 75s
  option forwardfor
  http-reuse always
frontend festival
  bind 127.0.0.1:$lb_port
  default_backend pujo
backend pujo
  balance roundrobin
  option httpchk GET /ready
CFG
    for i in "${!ports[@]}"; do echo "  server pujo$((i + 1)) 127.0.0.1:${ports[$i]} check inter 2s maxconn 2000"; done
  } >"$work/haproxy.cfg"
  haproxy -f "$work/haproxy.cfg" -db >"$logs/haproxy.log" 2>&1 &
  haproxy_pid=$!; pids+=("$haproxy_pid")
  wait_port "$lb_port" haproxy "$haproxy_pid"
  step "checking the mix's requests through HAProxy" "pujo-$count-1"
  local base="http://127.0.0.1:$lb_port" code c
  for c in / /api/v1/photos /api/v1/albums/1 /api/v1/albums/1/photos /api/v1/pandals/1 "/api/v1/search?q=bagbazar" \
    /media/1/thumb /media/1/display; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base$c")
    [ "$code" = 200 ] || { echo "GET $c through HAProxy answered $code, not 200" >&2; return 1; }
  done
  code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "origin: $base" -b "pujo_session=festival$(printf %035d 1)" "$base/api/v1/photos/2/like")
  [ "$code" = 200 ] || { echo "a seeded session's like answered $code, not 200" >&2; return 1; }
  server_pids=("${replica_pids[@]}")
}

# CPU ticks (user + system) of a process and its children (PostgreSQL's backends).
ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    [ -r "/proc/$p/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
pg_pid=$(head -1 "$pg_data/postmaster.pid")
snapshot() { # LOADGEN_PID -> "loadgen pujo haproxy postgres redis s3" in ticks
  local pujo_ticks=0 p
  for p in "${server_pids[@]}"; do pujo_ticks=$((pujo_ticks + $(ticks "$p"))); done
  echo "$(ticks "$1") $pujo_ticks $(ticks "$haproxy_pid") $(ticks "$pg_pid") $(ticks "$redis_pid") $(ticks "$s3_pid")"
}

echo "machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print int($2/1024)}') MiB; steps of ${seconds} s steady load" >&2
for replicas in $replica_runs; do
  start_replicas "$replicas"
  for visitors in "${steps[@]}"; do
    ramp=$(( visitors / 250 )); [ "$ramp" -ge 4 ] || ramp=4; [ "$ramp" -le 30 ] || ramp=30
    from=$((ramp + 5)) until=$((ramp + seconds))
    name="r${replicas}-v${visitors}"
    step "$visitors visitors on $replicas replica(s): $ramp s arriving, then ${seconds} s" "loadgen-$name"
    FESTIVAL_OUT="$out/$name.json" FESTIVAL_SETTLE_FROM=$from FESTIVAL_SETTLE_UNTIL=$until FESTIVAL_USERS=$users \
      FESTIVAL_ALBUMS=$albums FESTIVAL_PANDALS=$pandals FESTIVAL_PHOTOS_DIR="$media/phone" FESTIVAL_WALL_ALBUMS=$walls \
      FESTIVAL_MIX=$mix \
      "$loadgen" --host "http://127.0.0.1:$lb_port" --users "$visitors" --increase-time "${ramp}s" \
      --run-time "${seconds}s" --timeout 30 --no-telnet --no-metrics --quiet \
      >"$logs/loadgen-$name.log" 2>&1 &
    lg=$!; pids+=("$lg")
    sleep "$from"
    kill -0 "$lg" 2>/dev/null || { wait "$lg" || true; echo "the load generator stopped early" >&2; exit 1; }
    pg_top /dev/null
    pg_waits "$out/pg-waits-$name.raw" & waits_pid=$!; pids+=("$waits_pid")
    wal_before=$(wal_stats)
    before=$(snapshot "$lg"); t0=$(date +%s.%N)
    # The CPU window ends a second before the load generator does, while it is still there to read.
    sleep $((until - from - 1))
    after=$(snapshot "$lg"); t1=$(date +%s.%N)
    wal_after=$(wal_stats)
    kill "$waits_pid" 2>/dev/null || true; wait "$waits_pid" 2>/dev/null || true
    kill -0 "$lg" 2>/dev/null || { echo "the load generator ended before the CPU window did" >&2; exit 1; }
    pg_top "$out/pg-top-$name.txt"
    # Each replica's own counters (database pool waits, blob store and cache timings).
    for i in "${!admin_ports[@]}"; do
      curl -s "http://127.0.0.1:${admin_ports[$i]}/metrics" >"$out/metrics-$name-replica$((i + 1)).txt" || true
    done
    # Visitors stop at the end of the window; a load generator still there 60 s later is stuck.
    for _ in $(seq 1 600); do kill -0 "$lg" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$lg" 2>/dev/null && { kill "$lg"; echo "the load generator did not stop within 60 s of the end" >&2; exit 1; }
    wait "$lg"
    python3 - "$out/$name.json" "$replicas" "$visitors" "$before" "$after" "$t0" "$t1" "$(getconf CLK_TCK)" \
      "$wal_before" "$wal_after" "$out/pg-waits-$name.raw" <<'PY'
import collections, json, os, sys
path, replicas, visitors, before, after, t0, t1, hz, wal_before, wal_after, waits = sys.argv[1:]
d = json.load(open(path))
wall = float(t1) - float(t0)
# PostgreSQL's WAL over the window: flushes a second and their mean time.
w0, w1 = ([float(x) for x in v.split()] for v in (wal_before, wal_after))
syncs = w1[3] - w0[3]
d["postgres_wal"] = {"records_per_s": round((w1[0] - w0[0]) / wall), "flushes_per_s": round(syncs / wall, 1),
                     "flush_ms_mean": round((w1[4] - w0[4]) / syncs, 2) if syncs else None}
# What busy backends waited for: the mean number of backends in each state at a look.
lines = open(waits).read().split() if os.path.exists(waits) else []
looks = lines.count("sample") or 1
d["postgres_waits"] = {k: round(n / looks, 2) for k, n in collections.Counter(
    x for x in lines if x != "sample").most_common()}
os.remove(waits) if os.path.exists(waits) else None
names = ["loadgen", "pujo", "haproxy", "postgres", "redis", "s3s-fs"]
d["cpu_percent_of_a_core"] = {n: round((int(a) - int(b)) / int(hz) / wall * 100, 1)
                               for n, b, a in zip(names, before.split(), after.split())}
d.update(replicas=int(replicas), visitors=int(visitors))
json.dump(d, open(path, "w"), indent=1)
PY
  done
done

step "summarising and plotting" report
"$py" scripts/bench/festival/report.py "$out" | tee "$out/summary.txt"
echo "results in $out" >&2
