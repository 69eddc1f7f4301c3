#!/usr/bin/env bash
# Benchmark of the server core (docs/BENCHMARKS.md): Pujo serving the embedded site
# against nginx (gzip_static) and against a minimal hyper server on the same stack,
# all on loopback in one run; then idle memory and time from exec to ready.
#
# Servers are pinned to CPU 0 and wrk to CPU 1, so each server gets one core of its own
# and the load generator never steals from it. Rounds alternate between the servers
# (PUJO_BENCH_ROUNDS, default 5); each column's median is reported, and each ratio is
# the median of that ratio within every round, with its range: a slow spell of the VM
# then slows all three servers of a round alike instead of moving a ratio.
#
# Every case runs twice: with the servers on a whole core, and with the servers capped
# together at PUJO_BENCH_CAP percent of that core (default 33, by a cgroup). On a whole
# core one wrk thread is what runs out first for large files (it reads gigabytes a
# second); capped, the servers run out first, so requests/s compares the servers. The
# last column, wrk's own CPU use, shows which side was the bottleneck.
#
#   scripts/bench/server.sh [SECONDS_PER_RUN]
#
# Needs root, wrk, nginx and python3-venv (apt-get install wrk nginx python3-venv).
# Every server listens on 127.0.0.1 and every load run stops by itself after
# SECONDS_PER_RUN (default 10). Each server logs to the work folder; a failure names
# its step and keeps the logs (scripts/bench/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
cap=${PUJO_BENCH_CAP:-33}
rounds=${PUJO_BENCH_ROUNDS:-5}
. scripts/bench/lib.sh
bench_needs wrk nginx python3 taskset curl
build_release bench_ceiling

step "copying the built site (web/dist) and compressing it for nginx"
# The same files for every server: the built site and its precompressed variants.
[ -f web/dist/index.html ] || { echo "web/dist is missing: build Pujo once (cargo build, which runs npm) or unset PUJO_BIN" >&2; exit 1; }
site=$work/site
cp -r web/dist "$site"
chmod 755 "$work"
# shellcheck disable=SC2012 # the bundles have hashed, plain names
bundle=$(cd "$site" && ls -S assets/*.js | head -1)
gzip -9 -k "$site/index.html" "$site/$bundle"
chmod -R a+rX "$site"
bench_python brotli
"$py" - "$site/index.html" "$site/$bundle" <<'PY'
import sys
import brotli
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    open(path + ".br", "wb").write(brotli.compress(data, quality=11, lgwin=22))
PY

step "making the CPU cgroup for the servers"
cap_setup || { echo "bench needs a cgroup cpu controller it can write to (run as root)" >&2; exit 1; }

step "starting pujo in the CPU cap" pujo
pujo_port=$(port)
(PUJO_LOG=info in_cap taskset -c 0 "$bin/pujo" serve --listen "127.0.0.1:$pujo_port" --admin-listen off \
  --data-dir "$work/data") >"$logs/pujo.log" 2>&1 &
pids+=($!); pujo_pid=$!
wait_port "$pujo_port" pujo "$pujo_pid"

nginx_port=$(port)
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $logs/nginx-error.log;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log $work/nginx/access.log;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 100000;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root $site;
    gzip_static on;
    etag on;
    location /assets/ { add_header Cache-Control "public, max-age=31536000, immutable"; }
    location / { try_files \$uri /index.html; add_header Cache-Control "no-cache"; }
  }
}
NGINX
step "starting nginx in the CPU cap" nginx
(in_cap taskset -c 0 nginx -c "$work/nginx/nginx.conf" -g 'daemon off;') >"$logs/nginx.log" 2>&1 &
pids+=($!); nginx_pid=$!
wait_port "$nginx_port" nginx "$nginx_pid"

# CPU time (user + system, in clock ticks) of a process and its children: the
# server's own cost, whoever the bottleneck is.
cpu_ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$total"
}
run_wrk() { # URL ENCODING SERVER_PID -> "rps p50 p99 cpu_us_per_request wrk_cpu_percent"
  local before after TIMEFORMAT='%U %S' user sys
  before=$(cpu_ticks "$3")
  { time taskset -c 1 wrk -t1 -c64 -d"${duration}s" --latency -H "Accept-Encoding: $2" "$1" > "$logs/wrk.log"; } 2> "$work/wrk.time"
  after=$(cpu_ticks "$3")
  read -r user sys < "$work/wrk.time"
  echo "$(wrk_summary "$logs/wrk.log" "$((after - before))") $(python3 -c "print(f'{($user + $sys) / $duration * 100:.0f}')")"
}

echo "machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print int($2/1024)}') MiB; servers on CPU 0, wrk -t1 -c64 -d${duration}s on CPU 1; loopback; median of $rounds rounds"
printf '%-44s %10s %9s %9s %12s %8s\n' "case" "req/s" "p50 ms" "p99 ms" "CPU us/req" "wrk CPU"
for file in index.html "$bundle"; do
  case $file in
    index.html) label=index.html ;;
    *) label="largest JS bundle" ;;
  esac
  enc="gzip, br"
  step "starting the ceiling server for $label in the CPU cap" ceiling
  ceiling_port=$(port)
  # The ceiling replays Pujo's own headers for this file (less those hyper adds itself).
  curl -s -o /dev/null -D - -H "Accept-Encoding: $enc" "http://127.0.0.1:$pujo_port/$file" | tr -d '\r' \
    | grep -viE '^(HTTP/|date:|content-length:|connection:|keep-alive:|$)' > "$work/headers"
  (in_cap taskset -c 0 "$bin/examples/bench_ceiling" "127.0.0.1:$ceiling_port" "$site/$file.br" "$work/headers") \
    >>"$logs/ceiling.log" 2>&1 &
  ceiling_pid=$!; pids+=("$ceiling_pid")
  wait_port "$ceiling_port" "the ceiling server" "$ceiling_pid"
  for share in 100 "$cap"; do
    step "measuring $label with the servers at $share% of a core" wrk
    set_cap "$share"
    case=$label; [ "$share" -ge 100 ] || case="$label, servers at $share% of a core"
    declare -A runs=()
    order=(pujo nginx ceiling)
    for _ in $(seq 1 "$rounds"); do
      # Each round starts with the next server, so none is always first after a pause.
      for server in "${order[@]}"; do
        case $server in
          pujo) url="http://127.0.0.1:$pujo_port/$file"; pid=$pujo_pid ;;
          nginx) url="http://127.0.0.1:$nginx_port/$file"; pid=$nginx_pid ;;
          ceiling) url="http://127.0.0.1:$ceiling_port/$file"; pid=$ceiling_pid ;;
        esac
        runs[$server]+="$(run_wrk "$url" "$enc" "$pid");"
      done
      order=("${order[@]:1}" "${order[0]}")
    done
    for server in pujo nginx ceiling; do
      read -r r p50 p99 cpu wrk_cpu < <(median_rows "${runs[$server]}")
      printf '%-44s %10s %9s %9s %12s %7s%%\n' "$server: $case" "$r" "$p50" "$p99" "$cpu" "${wrk_cpu%.*}"
    done
    python3 - "$case" "${runs[pujo]}" "${runs[nginx]}" "${runs[ceiling]}" <<'PY'
import statistics, sys
case = sys.argv[1]
# One row per round: req/s p50 p99 cpu_us_per_request wrk_cpu.
pujo, nginx, ceiling = ([list(map(float, r.split())) for r in a.split(";") if r] for a in sys.argv[2:])
def ratio(xs, ys, col):
    values = sorted(x[col] / y[col] for x, y in zip(xs, ys))
    return f"{statistics.median(values):.2f}x ({values[0]:.2f}-{values[-1]:.2f})"
print(f"  {case}: req/s pujo/nginx = {ratio(pujo, nginx, 0)}, pujo/ceiling = {ratio(pujo, ceiling, 0)}; "
      f"CPU per request nginx/pujo = {ratio(nginx, pujo, 3)}, ceiling/pujo = {ratio(ceiling, pujo, 3)}")
PY
  done
  set_cap 100
  kill "$ceiling_pid"; wait "$ceiling_pid" 2>/dev/null || true
done
echo "  (pujo sends brotli; nginx gzip_static sends gzip; the ceiling sends pujo's brotli bytes and headers)"

# Idle memory after start-up and a few requests.
step "measuring idle memory" pujo-idle
for _ in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:$pujo_port/" || true; done
kill "$pujo_pid"; wait "$pujo_pid" 2>/dev/null || true
idle_port=$(port)
PUJO_LOG=info "$bin/pujo" serve --listen "127.0.0.1:$idle_port" --admin-listen off --data-dir "$work/idle" \
  >"$logs/pujo-idle.log" 2>&1 &
idle_pid=$!; pids+=("$idle_pid")
wait_port "$idle_port" "pujo (idle memory)" "$idle_pid"
python3 - "$idle_port" <<'PY'
import http.client, sys
for path in ["/", "/api/v1/health", "/ready"]:
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1])); c.request("GET", path); c.getresponse().read(); c.close()
PY
sleep 1
echo "idle RSS: $(grep VmRSS /proc/$idle_pid/status | awk '{printf "%.1f MiB", $2/1024}') (VmHWM $(grep VmHWM /proc/$idle_pid/status | awk '{printf "%.1f MiB", $2/1024}'))"
kill "$idle_pid"; wait "$idle_pid" 2>/dev/null || true

# From exec to the first 200 from /ready, embedded defaults, 20 runs.
step "measuring the time from exec to ready" pujo-start
python3 - "$bin/pujo" "$work" "$logs/pujo-start.log" <<'PY'
import http.client, os, socket, statistics, subprocess, sys, time
binary, work, log_path = sys.argv[1], sys.argv[2], sys.argv[3]
log = open(log_path, "ab")
times = []
for i in range(20):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    env = {"PATH": os.environ["PATH"], "PUJO_LOG": "info"}
    start = time.perf_counter()
    p = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--admin-listen", "off",
                          "--data-dir", f"{work}/start{i}"], env=env, stdout=log, stderr=log)
    while True:
        if p.poll() is not None:
            sys.exit(f"pujo exited (status {p.returncode}) before /ready answered 200 on 127.0.0.1:{port}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/ready")
            if c.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.0005)
    times.append((time.perf_counter() - start) * 1000)
    p.terminate(); p.wait()
times.sort()
print(f"exec to /ready 200: median {statistics.median(times):.1f} ms, max {times[-1]:.1f} ms over {len(times)} runs")
PY
