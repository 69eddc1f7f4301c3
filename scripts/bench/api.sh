#!/usr/bin/env bash
# Benchmark of the data layer (docs/BENCHMARKS.md, issue "Data on Postgres and embedded
# SQLite"): one million photos in ten thousand albums; an album's photo list, 50 per
# page, page 1 and page 1,000, 32 concurrent clients, no cache (no in-process tier, no Redis); on PostgreSQL and on
# SQLite. The reference measured in the same run is PostgreSQL answering the very
# statement Pujo sends, driven by pgbench with 32 clients: Pujo's p99 is quoted as a
# ratio to it.
#
#   scripts/bench/api.sh [SECONDS_PER_RUN]
#
# Needs wrk, sqlite3 and PostgreSQL 15 (apt-get install wrk sqlite3 postgresql-15).
# Everything listens on 127.0.0.1; every load run stops after SECONDS_PER_RUN (default 10).
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
. scripts/bench/lib.sh
bench_needs wrk sqlite3 python3
build_release
pujo=$bin/pujo

# PostgreSQL as production would run it for this load: durable settings left alone,
# shared_buffers big enough for the working set.
start_postgres 1GB
psql_() { "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U pujo -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

step "migrating and seeding PostgreSQL (1,000,000 photos)" migrate
"$pujo" migrate --database-url "$url" >>"$logs/migrate.log" 2>&1
started=$SECONDS
# Bulk load with triggers off (a per-row count update of album 1, 100,000 times in one
# transaction, would take longer than the benchmark), then count once, as V3 does.
psql_ -v now='now()' -v hash='sha256(int8send(CAST(g AS BIGINT)))' \
  -c 'SET session_replication_role = replica' -f scripts/bench/seed.sql -c 'SET session_replication_role = DEFAULT' \
  -c 'UPDATE albums a SET photo_count = (SELECT count(*) FROM photos p WHERE p.album_id = a.id)' \
  -c 'UPDATE photos p SET like_count = (SELECT count(*) FROM likes l WHERE l.photo_id = p.id),
        comment_count = (SELECT count(*) FROM comments c WHERE c.photo_id = p.id)' 
psql_ -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
echo "  seeded in $((SECONDS - started)) s" >&2

step "migrating and seeding SQLite (the same rows)" migrate
"$pujo" migrate --data-dir "$work/lite" >>"$logs/migrate.log" 2>&1
started=$SECONDS
sed -e "s/:now/(CAST(strftime('%s','now') AS INTEGER) * 1000)/g" -e 's/:hash/randomblob(32)/g' scripts/bench/seed.sql \
  | sqlite3 -bail "$work/lite/pujo.db"
sqlite3 "$work/lite/pujo.db" 'PRAGMA journal_mode=WAL; ANALYZE;' >/dev/null
echo "  seeded in $((SECONDS - started)) s" >&2

# Page k starts after the last photo of page k-1: its id at offset (k-1)*50-1.
cursor_for_page() {
  local id
  id=$(psql_ -c "SELECT id FROM photos WHERE album_id = 1 ORDER BY id DESC OFFSET $(( ($1 - 1) * 50 - 1 )) LIMIT 1")
  python3 -c "import base64,sys; print(base64.urlsafe_b64encode(int(sys.argv[1]).to_bytes(8,'big')).decode().rstrip('='))" "$id"
}
c1000=$(cursor_for_page 1000)
before1000=$(psql_ -c "SELECT id FROM photos WHERE album_id = 1 ORDER BY id DESC OFFSET 49949 LIMIT 1")
# SQLite got its own ids in the same order, so the same offset gives its cursor.
lite_before=$(sqlite3 "$work/lite/pujo.db" "SELECT id FROM photos WHERE album_id = 1 ORDER BY id DESC LIMIT 1 OFFSET 49949")
lite_c1000=$(python3 -c "import base64,sys; print(base64.urlsafe_b64encode(int(sys.argv[1]).to_bytes(8,'big')).decode().rstrip('='))" "$lite_before")

# wrk: 32 connections on 2 threads; prints "p50 p99 rps" (ms, ms, requests/s).
load() {
  python3 - "$(wrk -t2 -c32 -d"${duration}s" --latency "$1")" <<'PY'
import re, sys
out = sys.argv[1]
def ms(label):
    m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % re.escape(label), out, re.M)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
if non2xx:
    sys.exit("wrk saw %s error responses:\n%s" % (non2xx.group(1), out))
print("%.2f %.2f %.0f" % (ms("50%"), ms("99%"), rps))
PY
}

# Median of three rounds (page 1 and page 1,000 alternating) after a warm-up, so one
# noisy second on a shared VM does not decide a p99.
median3() { python3 -c 'import sys; rows=[list(map(float,l.split())) for l in sys.stdin.read().strip().splitlines()]; print(" ".join("%.2f" % sorted(c)[len(c)//2] for c in zip(*rows)))'; }

run_pujo() {  # backend args...
  local p; p=$(port)
  # No in-process tier and no Redis: every request reads the database, which is
  # what this benchmark measures (scripts/bench/cache.sh measures the cache).
  "$pujo" serve --listen "127.0.0.1:$p" --admin-listen off --log warn --access-log false --cache-local-bytes 0 \
    "$@" >"$logs/pujo-$p.log" 2>&1 &
  pids+=("$!")
  wait_ready "$p" "pujo ($*)" "$!" 30
  local base="http://127.0.0.1:$p/api/v1/albums/1/photos?limit=50"
  curl -fs "$base" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["items"])==50, d' >&2
  curl -fs "$base&cursor=$CURSOR" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["items"])==50, d' >&2
  wrk -t2 -c32 -d2s "$base" >>"$logs/wrk-warmup.log"; wrk -t2 -c32 -d2s "$base&cursor=$CURSOR" >>"$logs/wrk-warmup.log"
  local first="" last=""
  for _ in 1 2 3; do
    first+="$(load "$base")"$'\n'
    last+="$(load "$base&cursor=$CURSOR")"$'\n'
  done
  echo "page1 $(echo "$first" | median3)"
  echo "page1000 $(echo "$last" | median3)"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
}

step "measuring pujo on PostgreSQL"
pg_results=$(CURSOR=$c1000 run_pujo --database-url "$url"); echo "$pg_results" >&2
step "measuring pujo on SQLite"
lite_results=$(CURSOR=$lite_c1000 run_pujo --data-dir "$work/lite"); echo "$lite_results" >&2

# The reference: PostgreSQL alone answering Pujo's statement for page 1,000 (the text
# Pujo prepares, from src/db/content.rs), 32 pgbench clients, prepared statements.
sql=$(python3 - <<'PY'
import re
src = open("src/db/content.rs").read()
def strings(text):
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', text, re.S))
select = re.search(r"macro_rules! photo_select \{\s*\(\$liked:expr\) => \{\s*concat!\((.*?)\)\s*\};", src, re.S).group(1)
before, after = select.split("$liked", 1)
nobody = strings(re.search(r"\(nobody\) => \{(.*?)\};", src, re.S).group(1))
tail = strings(re.search(r"const ALBUM_PHOTOS: PhotoSql = photo_sql!\((.*?)\);", src, re.S).group(1))
text = re.sub(r"\\\n\s*", "", strings(before) + nobody + strings(after) + tail)
text = re.sub(r"\s+", " ", text)
print(text.replace("$1", "0").replace("$2", "1").replace("$3", ":before").replace("$4", "51") + ";")
PY
)
echo "$sql" > "$work/page.sql"
step "measuring PostgreSQL alone (pgbench)" pgbench
refs=""
for _ in 1 2 3; do
  rm -f "$work"/txlog*
  (cd "$work" && "$pg_bin/pgbench" -h 127.0.0.1 -p "$pg_port" -U pujo -n -M prepared -c 32 -j 2 -T "$duration" \
    -D before="$before1000" -f page.sql -l --log-prefix=txlog postgres >"$work/pgbench.out" 2>>"$logs/pgbench.log")
  refs+="$(python3 - "$work" <<'PY'
import glob, re, sys
lat = []
for f in glob.glob(sys.argv[1] + "/txlog*"):
    for line in open(f):
        lat.append(int(line.split()[2]) / 1000.0)
lat.sort()
tps = float(re.search(r"tps = ([\d.]+)", open(sys.argv[1] + "/pgbench.out").read()).group(1))
print("%.2f %.2f %.0f" % (lat[len(lat) // 2], lat[int(len(lat) * 0.99)], tps))
PY
)"$'\n'
done
ref=$(echo "$refs" | median3)
ref_rps=$(echo "$ref" | cut -d' ' -f3)

python3 - "$pg_results" "$lite_results" "$ref" "$ref_rps" "$duration" <<'PY'
import sys
pg = {l.split()[0]: list(map(float, l.split()[1:])) for l in sys.argv[1].splitlines()}
lite = {l.split()[0]: list(map(float, l.split()[1:])) for l in sys.argv[2].splitlines()}
ref = list(map(float, sys.argv[3].split()))
ref_rps = float(sys.argv[4])
print("| Backend | Page | p50 ms | p99 ms | requests/s |")
print("|---|---|---|---|---|")
for name, r in (("PostgreSQL", pg), ("SQLite", lite)):
    for page in ("page1", "page1000"):
        p50, p99, rps = r[page]
        print("| %s | %s | %.2f | %.2f | %.0f |" % (name, page.replace("page", ""), p50, p99, rps))
print("| PostgreSQL alone (pgbench, reference) | 1000 | %.2f | %.2f | %.0f |" % (ref[0], ref[1], ref_rps))
print()
print("Medians of three %s-second rounds." % sys.argv[5])
print()
print("page 1,000 / page 1 p99: PostgreSQL %.2fx, SQLite %.2fx" % (pg["page1000"][1] / pg["page1"][1], lite["page1000"][1] / lite["page1"][1]))
print("Pujo on PostgreSQL, page 1,000 p99 / PostgreSQL alone p99: %.2fx" % (pg["page1000"][1] / ref[1]))
print("Pujo on PostgreSQL, page 1,000 requests/s / PostgreSQL alone: %.2fx" % (pg["page1000"][2] / ref_rps))
PY
