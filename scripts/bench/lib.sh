# Shared by the benchmark scripts (sourced, not run): a work folder cleaned up on
# exit with every process the script started, free loopback ports, waiting for a
# server, a throwaway PostgreSQL 15, and wrk's numbers read the same way everywhere.
#
# After sourcing: $work (a temp folder), pids (append background pids to it).

work=$(mktemp -d)
chmod 755 "$work"
pids=()
pg_bin=/usr/lib/postgresql/15/bin
pg_data=
as_pg=()

cap_group=
cap_version=

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -z "$pg_data" ] || "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true
  if [ -n "$cap_group" ]; then
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rmdir "$cap_group" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap bench_cleanup EXIT

# bench_needs TOOL...: stops with the list of what is missing.
bench_needs() {
  local missing=() tool
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ ${#missing[@]} -eq 0 ] || { echo "bench needs: ${missing[*]}" >&2; exit 1; }
}

# build_release [EXAMPLE...]: the static release binary (and examples) as the test
# command builds it; sets $bin to their folder.
build_release() {
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pujo/target}
  local examples=() e
  for e in "$@"; do examples+=(--example "$e"); done
  RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --quiet \
    --target x86_64-unknown-linux-gnu --bin pujo "${examples[@]}"
  bin=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release
}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 500); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.02; done; return 1; }
wait_ready() { for _ in $(seq 1 500); do curl -fs "http://127.0.0.1:$1/ready" >/dev/null && return 0; sleep 0.02; done; return 1; }

# A CPU cap for servers, so that the server and not the load generator is what runs
# out: cap_setup makes a cgroup (v1 `cpu` controller, or v2 `cpu.max`) with a 10 ms
# period and returns 1 when neither can be used; `in_cap CMD...` (in a subshell, in the
# background) execs CMD inside it; `set_cap PERCENT` lets its processes use PERCENT of
# one core together (100 or more: no cap).
cap_setup() {
  if [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ] && mkdir "/sys/fs/cgroup/cpu/pujo-bench-$$" 2>/dev/null; then
    cap_group=/sys/fs/cgroup/cpu/pujo-bench-$$ cap_version=1
    echo 10000 > "$cap_group/cpu.cfs_period_us"
  elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null && mkdir "/sys/fs/cgroup/pujo-bench-$$" 2>/dev/null; then
    cap_group=/sys/fs/cgroup/pujo-bench-$$ cap_version=2
    echo +cpu > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    [ -f "$cap_group/cpu.max" ] || { rmdir "$cap_group"; cap_group=; return 1; }
  else
    return 1
  fi
}
in_cap() {
  echo "$BASHPID" > "$cap_group/cgroup.procs"
  exec "$@"
}
set_cap() {
  local quota=$((100 * $1))
  if [ "$cap_version" = 1 ]; then
    [ "$1" -ge 100 ] && quota=-1
    echo "$quota" > "$cap_group/cpu.cfs_quota_us"
  else
    [ "$1" -ge 100 ] && quota=max
    echo "$quota 10000" > "$cap_group/cpu.max"
  fi
}

# start_postgres SHARED_BUFFERS [CMD_PREFIX...]: initdb and start PostgreSQL 15 on a
# free port under $work/pg (as the postgres user when root), durable settings left
# alone; sets pg_port and url (user pujo, database postgres). CMD_PREFIX, e.g.
# `taskset -c 0`, runs pg_ctl under it.
start_postgres() {
  local shared_buffers=$1
  shift
  [ -x "$pg_bin/initdb" ] || { echo "bench needs PostgreSQL 15 in $pg_bin" >&2; exit 1; }
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    as_pg=(runuser -u postgres --)
  fi
  mkdir -p "$work/pg"
  [ ${#as_pg[@]} -eq 0 ] || chown postgres "$work/pg"
  pg_port=$(port)
  pg_data=$work/pg/data
  "${as_pg[@]}" "$pg_bin/initdb" -D "$pg_data" -U pujo --auth=trust -E UTF8 >/dev/null
  "${as_pg[@]}" "$@" "$pg_bin/pg_ctl" -D "$pg_data" -l "$work/pg/log" -w -o \
    "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c shared_buffers=$shared_buffers -c max_connections=100" \
    start >/dev/null
  url="postgres://pujo@127.0.0.1:$pg_port/postgres"
}

# wrk_summary WRK_OUTPUT_FILE [CPU_TICKS]: "req/s p50_ms p99_ms", plus the server's CPU
# microseconds per request when given its CPU time in clock ticks. Fails on any non-2xx
# or 3xx answer or socket error.
wrk_summary() {
  python3 - "$1" "${2:-}" "$(getconf CLK_TCK)" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def pct(p):
    m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", text)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
if re.search(r"Non-2xx or 3xx responses: (\d+)", text) or re.search(r"Socket errors: .*", text):
    sys.exit(f"wrk saw errors:\n{text}")
line = f"{rps:.0f} {pct(50):.2f} {pct(99):.2f}"
if sys.argv[2]:
    total = int(re.search(r"(\d+) requests in", text).group(1))
    line += f" {int(sys.argv[2]) / int(sys.argv[3]) * 1e6 / total:.2f}"
print(line)
PY
}

# median_rows "ROW;ROW;...": the median of each column, the first (req/s) as a whole number.
median_rows() {
  python3 -c '
import statistics, sys
rows = [list(map(float, x.split())) for x in sys.argv[1].split(";") if x]
print(*(f"{statistics.median(col):.0f}" if i == 0 else f"{statistics.median(col):.2f}" for i, col in enumerate(zip(*rows))))
' "$1"
}
