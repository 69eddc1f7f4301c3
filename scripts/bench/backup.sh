#!/usr/bin/env bash
# Backups, restores and moving to PostgreSQL (docs/BENCHMARKS.md, "Nothing lost"):
# `pujo backup`, `backup verify` and `restore` of an install of PHOTOS photos (about
# 0.5 MB of blobs each: 2,000 make about 1 GB), against `cp -a` and `rsync -a` of the
# same data folder in the same run, each followed by `sync` (a copy is not a backup
# until it is on disk; Pujo fsyncs every file); then an incremental backup after 100
# new photos, against rsync's; then `pujo db migrate --from sqlite --to postgres` of
# the million-photo database of scripts/bench/api.sh, against PostgreSQL's own
# pg_dump | psql moving the same rows between two databases.
#
#   scripts/bench/backup.sh [PHOTOS]        (PUJO_BENCH_MIGRATE=0 skips the last part)
#
# Needs sqlite3, rsync, python3 and PostgreSQL 15 (apt-get install sqlite3 rsync
# postgresql-15). Everything is local; nothing listens but PostgreSQL on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
photos=${1:-2000}
. scripts/bench/lib.sh
bench_needs sqlite3 rsync python3
build_release
pujo=$bin/pujo

# seconds CMD...: runs CMD (quietly) and prints its wall time in seconds.
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >>"$logs/commands.log" 2>&1
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.2f}')"
}
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
mb() { du -sm --apparent-size "$1" | cut -f1; }
copy_synced() { cp -a "$1" "$2" && sync; }
rsync_synced() { rsync -a "$1/" "$2/" && sync; }

data=$work/data
step "seeding $photos photos" migrate
"$pujo" migrate --data-dir "$data" >>"$logs/migrate.log" 2>&1
python3 scripts/bench/backup_seed.py "$data" 1 "$photos" | sqlite3 -bail "$data/pujo.db"
sync
size=$(mb "$data")
echo "data folder: $size MB" >&2

step "backing up, verifying, copying and restoring" commands
full=$(seconds "$pujo" backup --data-dir "$data" --to "$work/backups")
verify=$(seconds "$pujo" backup verify "$work/backups")
cp_full=$(seconds copy_synced "$data" "$work/cp")
rsync_full=$(seconds rsync_synced "$data" "$work/rsync")
restore=$(seconds "$pujo" restore --data-dir "$work/restored" --from "$work/backups")
cp_back=$(seconds copy_synced "$work/cp" "$work/cp-back")
restored_photos=$(sqlite3 "$work/restored/pujo.db" 'SELECT count(*) FROM photos')
[ "$restored_photos" = "$photos" ] || { echo "restored $restored_photos photos, expected $photos" >&2; exit 1; }

step "adding 100 photos and backing up again" commands
python3 scripts/bench/backup_seed.py "$data" $((photos + 1)) 100 | sqlite3 -bail "$data/pujo.db"
sync
incremental=$(seconds "$pujo" backup --data-dir "$data" --to "$work/backups")
rsync_incremental=$(seconds rsync_synced "$data" "$work/rsync")

printf '\n| What | Pujo s | reference s | ratio | Pujo MB/s |\n|---|---:|---:|---:|---:|\n'
printf '| Full backup of %s MB (%s photos) vs `cp -a` + sync | %s | %s | %sx | %s |\n' \
  "$size" "$photos" "$full" "$cp_full" "$(ratio "$full" "$cp_full")" "$(ratio "$size" "$full")"
printf '| Full backup vs `rsync -a` + sync | %s | %s | %sx | |\n' "$full" "$rsync_full" "$(ratio "$full" "$rsync_full")"
printf '| `backup verify` (every hash read again) vs `cp -a` + sync | %s | %s | %sx | %s |\n' \
  "$verify" "$cp_full" "$(ratio "$verify" "$cp_full")" "$(ratio "$size" "$verify")"
printf '| Restore into an empty folder vs `cp -a` back + sync | %s | %s | %sx | %s |\n' \
  "$restore" "$cp_back" "$(ratio "$restore" "$cp_back")" "$(ratio "$size" "$restore")"
printf '| Incremental backup after 100 new photos vs `rsync -a` + sync | %s | %s | %sx | |\n' \
  "$incremental" "$rsync_incremental" "$(ratio "$incremental" "$rsync_incremental")"

[ "${PUJO_BENCH_MIGRATE:-1}" = 1 ] || exit 0
step "seeding SQLite with 1,000,000 photos (scripts/bench/seed.sql)" migrate
"$pujo" migrate --data-dir "$work/lite" >>"$logs/migrate.log" 2>&1
sed -e "s/:now/(CAST(strftime('%s','now') AS INTEGER) * 1000)/g" -e 's/:hash/randomblob(32)/g' scripts/bench/seed.sql \
  | sqlite3 -bail "$work/lite/pujo.db"
rows=$(sqlite3 "$work/lite/pujo.db" 'SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM albums)
  + (SELECT count(*) FROM photos) + (SELECT count(*) FROM likes) + (SELECT count(*) FROM comments)')
start_postgres 1GB
psql_() { "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U pujo -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_ -d postgres -c 'CREATE DATABASE moved' -c 'CREATE DATABASE copied'
step "moving the rows to PostgreSQL: pujo db migrate, then pg_dump | psql" commands
base=${url%/*}
move=$(seconds "$pujo" db --data-dir "$work/lite" --database-url "$base/moved" migrate --from sqlite --to postgres)
pg_copy() { "$pg_bin/pg_dump" -h 127.0.0.1 -p "$pg_port" -U pujo moved | psql_ -d copied; }
dump=$(seconds pg_copy)
printf '| `db migrate` of %s rows (1,000,000 photos) vs `pg_dump | psql` of the same rows | %s | %s | %sx | %s rows/s |\n' \
  "$rows" "$move" "$dump" "$(ratio "$move" "$dump")" "$(python3 -c "print(f'{$rows / $move:,.0f}')")"

# The same questions to Pujo on each database (no cache): every answer the same.
serve_on() {
  local p=$1
  shift
  step "starting pujo to compare the databases ($*)" "serve-$p"
  "$pujo" serve --listen "127.0.0.1:$p" --admin-listen off --log warn --access-log false --cache-local-bytes 0 \
    --data-dir "$work/lite" "$@" >"$logs/serve-$p.log" 2>&1 &
  pids+=("$!")
  wait_ready "$p" "pujo (${*:-SQLite})" "$!"
}
lite_at=$(port)
moved_at=$(port)
serve_on "$lite_at"
serve_on "$moved_at" --database-url "$base/moved"
step "asking both databases the same questions"
python3 - "$lite_at" "$moved_at" <<'PY'
import json, sys, urllib.request
lite, moved = sys.argv[1], sys.argv[2]
def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as r:
        return json.load(r)
paths = ["/api/v1/albums?limit=50", "/api/v1/photos?limit=50", "/api/v1/pandals", "/api/v1/users/user1",
         "/api/v1/albums/1", "/api/v1/albums/2", "/api/v1/photos/10", "/api/v1/photos/10/comments",
         "/api/v1/photos/999990"]
for album in (1, 2, 9999):
    path = f"/api/v1/albums/{album}/photos?limit=50"
    for _ in range(5):  # five pages deep, by the cursors each answer gives
        paths.append(path)
        cursor = get(lite, path).get("next_cursor")
        if not cursor:
            break
        path = f"/api/v1/albums/{album}/photos?limit=50&cursor={cursor}"
same = 0
for path in paths:
    a, b = get(lite, path), get(moved, path)
    if a != b:
        sys.exit(f"{path}: SQLite and PostgreSQL answer differently:\n{json.dumps(a)[:400]}\n{json.dumps(b)[:400]}")
    same += 1
print(f"| The API on both databases after the move: {same} answers (albums, photos, comments, pages by cursor) | identical | | | |")
PY
