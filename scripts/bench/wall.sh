#!/usr/bin/env bash
# Benchmark of the live wall's fan-out (docs/BENCHMARKS.md): CONNECTIONS screens on
# one album's wall, all on one Pujo process, and the time from an approval to the
# photo's event on every screen (p50, p99, and the last screen), plus the server's
# memory per idle open stream.
#
#   scripts/bench/wall.sh [CONNECTIONS] [APPROVALS]
#
# Pujo runs on the embedded defaults (SQLite, blobs in a folder). The screens are
# opened by examples/bench_wall.rs from as many loopback addresses as Pujo's bound of
# 64 streams per address needs (127.0.1.2, 127.0.1.3, ...). Each approval follows a
# guest's upload through an upload link, as at the pandal. Everything listens on
# loopback and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
connections=${1:-2000}
approvals=${2:-20}
. scripts/bench/lib.sh
bench_needs python3
build_release bench_wall
# Enough open files for the screens on both ends.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

step "starting pujo" pujo
port=$(port)
PUJO_LOG=warn "$bin/pujo" serve --listen "127.0.0.1:$port" --admin-listen off \
  --data-dir "$work/data" >"$logs/pujo.log" 2>&1 &
server=$!
pids+=("$server")
wait_ready "$port" pujo "$server"
idle_kib=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")

step "opening $connections screens and approving $approvals photos" pujo
"$bin/examples/bench_wall" "http://127.0.0.1:$port" "$server" "$connections" "$approvals" >"$work/wall.json"
python3 - "$work/wall.json" "$idle_kib" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
idle = int(sys.argv[2])
print(f"screens: {r['connections']}, approvals: {r['approvals']}, events received: {r['events']}")
print(f"pujo RSS: {idle / 1024:.1f} MiB at start, {r['rss_before_kib'] / 1024:.1f} MiB before the screens, "
      f"{r['rss_after_kib'] / 1024:.1f} MiB with them open: {r['kib_per_connection']:.1f} KiB per screen")
print(f"approval to event, every screen: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms")
print(f"approval to event on the last screen: median {r['last_connection_p50_ms']:.1f} ms, worst {r['last_connection_max_ms']:.1f} ms")
missing = [x for x in r['rounds'] if x['received'] != r['connections']]
if missing:
    print(f"ROUNDS WITH SCREENS MISSING THE PHOTO: {missing}")
    sys.exit(1)
PY
