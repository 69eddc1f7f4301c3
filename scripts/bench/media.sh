#!/usr/bin/env bash
# Benchmark of the media path (docs/BENCHMARKS.md): each number against a reference
# measured in the same run.
#   1. Derivatives of a 12 MP JPEG (400, 800 and 1600 px, each in WebP and JPEG):
#      Pujo's upload path against vipsthumbnail making the same six files. Both on
#      one core (taskset -c 0, VIPS_CONCURRENCY=1): uploads are processed one per core.
#   2. A hot thumbnail: Pujo's /media/{id}/thumb against nginx serving the same WebP
#      file, servers on CPU 0 and wrk on CPU 1, median of three rounds.
#   3. A ~20 MB original streamed through Pujo from an S3-compatible server (s3s-fs)
#      against reading it from that server directly (SigV4-signed curl).
#   4. Peak RSS of Pujo while 8 uploads of 12 MP photos are processed at once.
#   5. The quality of step 1's derivatives: SSIM of each against a reference made
#      without shortcuts (full decode, Lanczos3 to the size, not encoded), and its
#      size (`bench_media compare`; the figures of earlier builds are in the docs).
#
#   scripts/bench/media.sh [SECONDS_PER_RUN]
#
# Needs vipsthumbnail (libvips-tools), nginx, wrk, hyperfine, curl and s3s-fs (the test
# command installs it). Everything listens on 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-8}
. scripts/bench/lib.sh
bench_needs vipsthumbnail nginx wrk hyperfine curl s3s-fs python3
build_release bench_media
pujo=$bin/pujo
tool=$bin/examples/bench_media
median3() { python3 -c 'import sys; v=sorted(float(x) for x in sys.stdin.read().split()); print(v[len(v)//2])'; }

# A logged-in session and an album on a running Pujo; prints the album id.
session() {  # port cookiejar
  curl -fs -c "$2" -H 'content-type: application/json' \
    -d '{"username":"bench","email":"bench@pujo.example","password":"shiuli-phool-2026"}' \
    "http://127.0.0.1:$1/api/v1/auth/register" >/dev/null
  curl -fs -b "$2" -H 'content-type: application/json' -d '{"title":"Bench"}' \
    "http://127.0.0.1:$1/api/v1/albums" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
upload() {  # port cookiejar album file -> photo id
  curl -fs -b "$2" -F "file=@$4;type=image/jpeg" "http://127.0.0.1:$1/api/v1/albums/$3/photos" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])'
}

step "making test photos" bench_media
"$tool" gen "$work/12mp.jpg" 4000 3000 90 1 >>"$logs/bench_media.log" 2>&1
for i in 1 2 3 4 5 6 7 8; do "$tool" gen "$work/12mp-$i.jpg" 4000 3000 90 "$((i + 10))" >>"$logs/bench_media.log" 2>&1; done
"$tool" gen "$work/original.jpg" 5600 3700 98 99 >>"$logs/bench_media.log" 2>&1

# ---------------------------------------------------------------- 1. derivatives
step "1. derivatives of a 12 MP JPEG" bench_media
pujo_ms=$(taskset -c 0 "$tool" process "$work/12mp.jpg" 7 2>>"$logs/bench_media.log")
mkdir -p "$work/vips"
cat > "$work/vips.sh" <<EOF
vipsthumbnail $work/12mp.jpg -s 400 -o $work/vips/thumb.webp[Q=80,strip]
vipsthumbnail $work/12mp.jpg -s 400 -o $work/vips/thumb.jpg[Q=82,strip]
vipsthumbnail $work/12mp.jpg -s 800 -o $work/vips/medium.webp[Q=80,strip]
vipsthumbnail $work/12mp.jpg -s 800 -o $work/vips/medium.jpg[Q=82,strip]
vipsthumbnail $work/12mp.jpg -s 1600 -o $work/vips/display.webp[Q=80,strip]
vipsthumbnail $work/12mp.jpg -s 1600 -o $work/vips/display.jpg[Q=82,strip]
EOF
VIPS_CONCURRENCY=1 taskset -c 0 hyperfine -N -w 1 -r 7 --export-json "$work/vips.json" "sh $work/vips.sh" >>"$logs/hyperfine.log" 2>&1 \
  || VIPS_CONCURRENCY=1 taskset -c 0 hyperfine -w 1 -r 7 --export-json "$work/vips.json" "sh $work/vips.sh" >>"$logs/hyperfine.log" 2>&1
vips_ms=$(python3 -c "import json; print(round(json.load(open('$work/vips.json'))['results'][0]['median']*1000,1))")
step "5. the quality of those derivatives" bench_media
"$tool" compare "$work/12mp.jpg" >"$work/quality.md" 2>>"$logs/bench_media.log"

# ---------------------------------------------------------------- 2. hot thumbnail
step "2. a hot thumbnail against nginx: starting pujo" pujo
p=$(port)
taskset -c 0 "$pujo" serve --listen "127.0.0.1:$p" --admin-listen off --data-dir "$work/data" \
  --log warn --access-log false >"$logs/pujo.log" 2>&1 &
pids+=("$!")
wait_ready "$p" pujo "$!"
album=$(session "$p" "$work/jar")
id=$(upload "$p" "$work/jar" "$album" "$work/12mp.jpg")
thumb_url="http://127.0.0.1:$p/media/$id/thumb"
thumb_file=$(find "$work/data/blobs/thumbnails" -name thumb.webp | head -1)
np=$(port)
mkdir -p "$work/nginx/www"
cp "$thumb_file" "$work/nginx/www/thumb.webp"
chmod -R a+rX "$work/nginx"
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $logs/nginx-error.log;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 100000;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$np;
    root $work/nginx/www;
    etag on;
    location / { add_header Cache-Control "public, max-age=31536000, immutable"; }
  }
}
NGINX
step "2. a hot thumbnail against nginx: starting nginx" nginx-error
taskset -c 0 nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' >"$logs/nginx.log" 2>&1 &
pids+=("$!")
wait_port "$np" nginx "$!"
step "2. a hot thumbnail against nginx: measuring"
rps() { taskset -c 1 wrk -t1 -c64 -d"${duration}s" -H 'Accept: image/webp,*/*' "$1" | awk '/Requests\/sec/ {print $2}'; }
pujo_rps=""; nginx_rps=""
for _ in 1 2 3; do pujo_rps+="$(rps "$thumb_url") "; nginx_rps+="$(rps "http://127.0.0.1:$np/thumb.webp") "; done
pujo_rps=$(echo "$pujo_rps" | median3); nginx_rps=$(echo "$nginx_rps" | median3)
thumb_bytes=$(stat -c %s "$thumb_file")

# ---------------------------------------------------------------- 4. peak RSS
# Its own Pujo on both cores (the one above is pinned to one): eight uploads sent at
# once; it takes as many as its upload slots and queue allow and refuses the rest with
# 503 (back-pressure). The count of each is reported with the peak.
step "4. peak RSS while 8 uploads of 12 MP photos arrive at once" pujo-rss
rp=$(port)
"$pujo" serve --listen "127.0.0.1:$rp" --admin-listen off --data-dir "$work/rss" \
  --log warn --access-log false >"$logs/pujo-rss.log" 2>&1 &
rss_pid=$!; pids+=("$rss_pid")
wait_ready "$rp" "pujo (peak RSS)" "$rss_pid"
rss_album=$(session "$rp" "$work/jar-rss")
rss_before=$(awk '/VmHWM/ {print $2}' "/proc/$rss_pid/status")
sent=()
for i in 1 2 3 4 5 6 7 8; do
  curl -s -o /dev/null -w '%{http_code}\n' -b "$work/jar-rss" -F "file=@$work/12mp-$i.jpg;type=image/jpeg" \
    "http://127.0.0.1:$rp/api/v1/albums/$rss_album/photos" > "$work/rss-status-$i" &
  sent+=($!)
done
wait "${sent[@]}"
accepted=$(cat "$work"/rss-status-* | grep -c '^201$' || true)
refused=$(cat "$work"/rss-status-* | grep -c '^503$' || true)
rss_peak=$(awk '/VmHWM/ {print $2}' "/proc/$rss_pid/status")
kill "$rss_pid"; wait "$rss_pid" 2>/dev/null || true

# ---------------------------------------------------------------- 3. streaming from S3
step "3. a large original streamed from S3: starting s3s-fs" s3s-fs
s3p=$(port)
mkdir -p "$work/s3/bench"
s3s-fs --host 127.0.0.1 --port "$s3p" --access-key bench --secret-key bench-secret "$work/s3" >"$logs/s3s-fs.log" 2>&1 &
pids+=("$!")
wait_port "$s3p" s3s-fs "$!"
step "3. a large original streamed from S3: starting pujo on S3" pujo-s3
sp=$(port)
"$pujo" serve --listen "127.0.0.1:$sp" --admin-listen off --data-dir "$work/data-s3" --log warn --access-log false \
  --s3-bucket bench --s3-endpoint "http://127.0.0.1:$s3p" --s3-path-style true \
  --s3-access-key-id bench --s3-secret-access-key bench-secret >"$logs/pujo-s3.log" 2>&1 &
pids+=("$!")
wait_ready "$sp" "pujo (on S3)" "$!"
step "3. a large original streamed from S3: measuring" pujo-s3
s3album=$(session "$sp" "$work/jar-s3")
big=$(upload "$sp" "$work/jar-s3" "$s3album" "$work/original.jpg")
sha=$(sha256sum "$work/original.jpg" | cut -d' ' -f1)
size=$(stat -c %s "$work/original.jpg")
through() { curl -fs -o /dev/null -w '%{speed_download}\n' -b "$work/jar-s3" "http://127.0.0.1:$sp/media/$big/original"; }
direct() {
  curl -fs -o /dev/null -w '%{speed_download}\n' --aws-sigv4 "aws:amz:us-east-1:s3" --user bench:bench-secret \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "http://127.0.0.1:$s3p/bench/uploads/$sha"
}
curl -fs -b "$work/jar-s3" "http://127.0.0.1:$sp/media/$big/original" | sha256sum | grep -q "$sha"
through_bps=""; direct_bps=""
for _ in 1 2 3 4 5; do through_bps+="$(through) "; direct_bps+="$(direct) "; done
through_bps=$(echo "$through_bps" | median3); direct_bps=$(echo "$direct_bps" | median3)

python3 - "$pujo_ms" "$vips_ms" "$pujo_rps" "$nginx_rps" "$thumb_bytes" "$through_bps" "$direct_bps" "$size" "$rss_before" "$rss_peak" "$accepted" "$refused" <<'PY'
import sys
pujo_ms, vips_ms, pujo_rps, nginx_rps, thumb, through, direct, size, rss0, rss, took, refused = map(float, sys.argv[1:])
print("| Measure | Pujo | Reference | Ratio | Target |")
print("|---|---:|---:|---:|---|")
print("| 12 MP JPEG -> 6 derivatives, one core (ms) | %.0f | %.0f (vipsthumbnail x6) | %.2fx | at most 0.15x |" % (pujo_ms, vips_ms, pujo_ms / vips_ms))
print("| hot %d-byte WebP thumbnail (requests/s) | %.0f | %.0f (nginx) | %.2fx | at least 1.0x |" % (thumb, pujo_rps, nginx_rps, pujo_rps / nginx_rps))
print("| %.1f MB original from S3 (MB/s) | %.0f | %.0f (s3s-fs direct) | %.2fx | at least 0.9x |" % (size / 1e6, through / 1e6, direct / 1e6, through / direct))
print("| peak RSS, 8 x 12 MP uploads at once, %d taken and %d refused with 503 (MB) | %.0f | (%.0f before) | | under 300 MB |" % (took, refused, rss / 1024, rss0 / 1024))
PY
echo
cat "$work/quality.md"
