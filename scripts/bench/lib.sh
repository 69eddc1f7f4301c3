# shellcheck shell=bash
# Shared by the benchmark scripts (sourced, not run, from the repository's root): a work
# folder cleaned up on exit with every process the script started, named steps that
# say what failed, free loopback ports, waiting for a server, a throwaway PostgreSQL 15,
# and wrk's numbers read the same way everywhere.
#
# After sourcing: $work (a temp folder), $logs (the servers' logs, in $work), pids
# (append background pids to it).
#
# Every server writes its stdout and stderr to $logs/NAME.log, never to /dev/null. The
# script names each stage with `step "what it does" [LOG_NAME]`; when the script fails
# (a command fails under set -e, a wait gives up, or it is interrupted), it prints the
# step that failed, the command, the last lines of that step's log, and keeps every log
# in ${PUJO_BENCH_LOGS:-target/bench-logs}/<script>-<UTC time>/ before the work folder
# goes (PUJO_BENCH_KEEP_LOGS=1 keeps them after a run that succeeded too).

# Pujo refuses to start with a PUJO_* setting it does not know, and the benchmarks'
# own settings (PUJO_BENCH_ROUNDS, PUJO_BENCH_CAP, PUJO_BIN, ...) share the prefix: they
# stay shell variables of the script and are not handed to the servers it starts.
# shellcheck disable=SC2163 # export -n of the variable named
for bench_var in $(compgen -v PUJO_BENCH_) PUJO_BIN; do export -n "$bench_var"; done
# The benchmarks make their accounts with curl and measure other paths: the proof of
# work a browser does before it makes an account is off for the servers they start.
export PUJO_REGISTER_PROOF_BITS=0

bench_name=$(basename "$0" .sh)
work=$(mktemp -d -t "pujo-$bench_name.XXXXXX")
chmod 755 "$work"
logs=$work/logs
mkdir -p "$logs"
chmod 777 "$logs"
bench_kept_logs=${PUJO_BENCH_LOGS:-$PWD/target/bench-logs}/$bench_name-$(date -u +%Y%m%dT%H%M%SZ)
pids=()
pg_bin=/usr/lib/postgresql/15/bin
pg_data=
as_pg=()

cap_group=
cap_version=

bench_step="getting ready"
bench_step_log=
bench_failed_command=

# step WHAT [LOG_NAME]: names the stage that follows (printed to stderr); LOG_NAME (a
# file in $logs without .log, or a path) is the log to show if this stage fails.
step() {
  bench_step=$1
  bench_step_log=${2:-}
  echo "[$bench_name] $1" >&2
}

bench_on_error() {
  local status=$? command=$BASH_COMMAND n=${#FUNCNAME[@]}
  # Only the script's own shell. Under set -e the script stops inside the function that
  # failed: name the line of the script that called it (the outermost frame), and the
  # command that failed when it is not a function's `return`.
  [ "$BASHPID" = "$$" ] || return 0
  local file=${BASH_SOURCE[n - 1]} line=${BASH_LINENO[n - 2]} text
  text=$(sed -n "${line}{s/^ *//;p}" "$file" 2>/dev/null)
  bench_failed_command="${file#./}:$line: $text"
  [[ $command == return* || $text == *"$command"* ]] || bench_failed_command+=" (failed: $command, exit $status)"
}
set -E
trap bench_on_error ERR

bench_report_failure() {
  local status=$1 log
  mkdir -p "$bench_kept_logs"
  cp -a "$logs/." "$bench_kept_logs/" 2>/dev/null || true
  {
    echo
    echo "[$bench_name] FAILED (exit $status) at step: $bench_step"
    [ -z "$bench_failed_command" ] || echo "[$bench_name]   command: $bench_failed_command"
    log=$bench_step_log
    [ -z "$log" ] || [[ $log == */* ]] || log=$logs/$log.log
    # Without a log named for the step, the newest log the run wrote.
    # shellcheck disable=SC2012 # our own file names
    [ -n "$log" ] || log=$(ls -t "$logs"/*.log 2>/dev/null | head -1)
    if [ -n "$log" ] && [ -s "$log" ]; then
      echo "[$bench_name]   last lines of $(basename "$log"):"
      tail -n 25 "$log" | sed 's/^/    /'
    fi
    echo "[$bench_name]   logs kept in $bench_kept_logs"
  } >&2
}

bench_cleanup() {
  local status=$?
  trap - ERR
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -z "$pg_data" ] || "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >>"$logs/pg_ctl.log" 2>&1
  # Up to 5 s to finish their logs, then they are stopped for good.
  local left=50
  for p in "${pids[@]}"; do
    while [ "$left" -gt 0 ] && kill -0 "$p" 2>/dev/null; do sleep 0.1; left=$((left - 1)); done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  [ -z "$cap_group" ] || rmdir "$cap_group" 2>/dev/null
  if [ "$status" != 0 ]; then
    bench_report_failure "$status"
  elif [ "${PUJO_BENCH_KEEP_LOGS:-0}" = 1 ]; then
    mkdir -p "$bench_kept_logs" && cp -a "$logs/." "$bench_kept_logs/" && echo "[$bench_name] logs kept in $bench_kept_logs" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bench_needs TOOL...: stops with the list of what is missing.
bench_needs() {
  step "checking the tools this benchmark needs"
  local missing=() tool
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ ${#missing[@]} -eq 0 ] || { echo "bench needs: ${missing[*]} (see README.md, Working on Pujo)" >&2; exit 1; }
}

# bench_python MODULE[=PACKAGE]...: a virtualenv under ~/.cache/pujo with these PyPI
# packages (PACKAGE when its name is not the module's); sets $py to its python.
bench_python() {
  local venv=${XDG_CACHE_HOME:-$HOME/.cache}/pujo/bench-venv spec missing=()
  step "preparing Python with ${*%%=*} (in $venv)" venv
  if ! [ -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >>"$logs/venv.log" 2>&1 || {
      echo "python3 -m venv failed: apt-get install python3-venv" >&2
      rm -rf "$venv"
      return 1
    }
  fi
  py=$venv/bin/python
  for spec in "$@"; do "$py" -c "import ${spec%%=*}" 2>/dev/null || missing+=("${spec#*=}"); done
  [ ${#missing[@]} -eq 0 ] || "$venv/bin/pip" install --quiet --disable-pip-version-check "${missing[@]}" >>"$logs/venv.log" 2>&1 \
    || { echo "pip could not install ${missing[*]} into $venv" >&2; return 1; }
}

# build_release [EXAMPLE...]: the static release binary (and examples) as the test
# command builds it; sets $bin to their folder. PUJO_BIN=path/to/pujo uses a binary
# built before (its folder's examples/ must then hold the examples).
build_release() {
  local examples=() e
  if [ -n "${PUJO_BIN:-}" ]; then
    step "using PUJO_BIN=$PUJO_BIN"
    [ -x "$PUJO_BIN" ] || { echo "PUJO_BIN=$PUJO_BIN is not an executable file" >&2; return 1; }
    bin=$(cd "$(dirname "$PUJO_BIN")" && pwd)
    if [ "$(basename "$PUJO_BIN")" != pujo ]; then
      # The scripts run $bin/pujo: give them that name.
      mkdir -p "$work/bin" && ln -s "$(cd "$(dirname "$PUJO_BIN")" && pwd)/$(basename "$PUJO_BIN")" "$work/bin/pujo"
      [ $# -eq 0 ] || { echo "PUJO_BIN must be named pujo, beside examples/ holding: $*" >&2; return 1; }
      bin=$work/bin
    fi
    for e in "$@"; do
      [ -x "$bin/examples/$e" ] || { echo "PUJO_BIN is set but $bin/examples/$e is missing: unset PUJO_BIN to build it" >&2; return 1; }
    done
    return 0
  fi
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pujo/target}
  step "building the static release binary${*:+ and $*} (cargo; the first build takes many minutes)"
  for e in "$@"; do examples+=(--example "$e"); done
  RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --quiet \
    --target x86_64-unknown-linux-gnu --bin pujo "${examples[@]}"
  bin=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release
}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_port PORT NAME [PID] [SECONDS]: until something listens on 127.0.0.1:PORT; fails
# saying which server and port, at once when PID (the server) has exited. wait_ready:
# the same, until PORT answers /ready with 200.
wait_port() { bench_wait "$1" "$2" "${3:-}" "${4:-10}" port; }
wait_ready() { bench_wait "$1" "$2" "${3:-}" "${4:-10}" ready; }
bench_wait() {
  local port=$1 name=$2 pid=$3 seconds=$4 what=$5 deadline
  deadline=$((SECONDS + seconds))
  while [ "$SECONDS" -le "$deadline" ]; do
    if [ "$what" = port ]; then
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    else
      curl -fs -o /dev/null "http://127.0.0.1:$port/ready" && return 0
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      local status=0
      wait "$pid" 2>/dev/null || status=$?
      echo "$name exited (status $status) before it $([ "$what" = port ] && echo listened || echo was ready) on 127.0.0.1:$port" >&2
      return 1
    fi
    sleep 0.02
  done
  if [ "$what" = port ]; then
    echo "$name did not listen on 127.0.0.1:$port within $seconds s" >&2
  else
    echo "$name on 127.0.0.1:$port did not answer /ready with 200 within $seconds s" >&2
  fi
  return 1
}

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
  step "starting a throwaway PostgreSQL 15" postgres
  [ -x "$pg_bin/initdb" ] || { echo "bench needs PostgreSQL 15 in $pg_bin (apt-get install postgresql-15)" >&2; exit 1; }
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    as_pg=(runuser -u postgres --)
  fi
  mkdir -p "$work/pg"
  touch "$logs/postgres.log"
  [ ${#as_pg[@]} -eq 0 ] || chown postgres "$work/pg" "$logs/postgres.log"
  pg_port=$(port)
  pg_data=$work/pg/data
  "${as_pg[@]}" "$pg_bin/initdb" -D "$pg_data" -U pujo --auth=trust -E UTF8 >"$logs/initdb.log" 2>&1 || {
    bench_step_log=initdb
    echo "initdb failed" >&2
    return 1
  }
  "${as_pg[@]}" "$@" "$pg_bin/pg_ctl" -D "$pg_data" -l "$logs/postgres.log" -w -o \
    "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c shared_buffers=$shared_buffers -c max_connections=${PG_MAX_CONNECTIONS:-100} ${PG_OPTIONS:-}" \
    start >>"$logs/pg_ctl.log" 2>&1 || { echo "PostgreSQL did not start on 127.0.0.1:$pg_port" >&2; return 1; }
  # shellcheck disable=SC2034 # for the scripts that source this file
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
