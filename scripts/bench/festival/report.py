"""The festival benchmark's results: steps.csv, steps.json, festival.png and a summary.

    report.py RESULTS_DIR       (reads RESULTS_DIR/r<replicas>-v<visitors>.json)

A step holds the seed's targets when every request type's p95 is under 300 ms and
errors are under 0.1 % of all requests. The last chunk of an upload is the photo's
processing (decoding a 12 MP JPEG and making six derivatives, about 0.6 s of CPU by
itself, docs/BENCHMARKS.md), so its p95 is reported but not held to 300 ms.

Cost per 1,000 requests on the seed's budget: $290 a month for five t3.medium nodes
(2 vCPU each, as this machine), against the seed's own $0.24. This machine stands for
one node: a node's share of the budget ($58) over what one node sustains in a month.
"""
import csv
import glob
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out = sys.argv[1]
P95_TARGET_MS, ERROR_TARGET = 300.0, 0.001
EXEMPT = "PATCH /api/v1/uploads/{id} (last chunk: the photo processed)"
BUDGET, NODES, SEED_PER_1000 = 290.0, 5, 0.24
MONTH_S = 30 * 24 * 3600

steps = [json.load(open(p)) for p in glob.glob(os.path.join(out, "r*-v*.json"))]
steps.sort(key=lambda s: (s["replicas"], s["visitors"]))
if not steps:
    sys.exit(f"no step results in {out}")

rows = []
for s in steps:
    for kind, t in sorted(s["types"].items()) + [("ALL (the mix)", s["all"])]:
        n = t["ok"] + t["failed"]
        rows.append({
            "replicas": s["replicas"], "visitors": s["visitors"], "request": kind, "requests": n,
            "rps": round(t["rps"], 1), "p50_ms": round(t["p50_ms"], 2), "p95_ms": round(t["p95_ms"], 2),
            "p99_ms": round(t["p99_ms"], 2), "errors": t["failed"],
            "error_percent": round(100 * t["failed"] / n, 3) if n else 0.0,
            "error_kinds": " ".join(f"{k}x{v}" for k, v in t.get("errors", {}).items()),
            **{f"cpu_{k}": v for k, v in s["cpu_percent_of_a_core"].items()},
        })
with open(os.path.join(out, "steps.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)


def verdict(s):
    """(holds, why not)"""
    why = []
    total = s["all"]["ok"] + s["all"]["failed"]
    if total and s["all"]["failed"] / total >= ERROR_TARGET:
        why.append(f"errors {100 * s['all']['failed'] / total:.2f} %")
    for kind, t in s["types"].items():
        if kind != EXEMPT and t["ok"] and t["p95_ms"] >= P95_TARGET_MS:
            why.append(f"p95 {t['p95_ms']:.0f} ms for {kind}")
    return not why, why


summary = {"steps": [], "sustainable": {}}
print("| replicas | visitors | req/s | p50 ms | p95 ms | p99 ms | errors | loadgen CPU | pujo | haproxy | postgres | redis | s3s-fs | targets |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for s in steps:
    a, cpu = s["all"], s["cpu_percent_of_a_core"]
    total = a["ok"] + a["failed"]
    holds, why = verdict(s)
    print(f"| {s['replicas']} | {s['visitors']:,} | {a['rps']:,.0f} | {a['p50_ms']:.1f} | {a['p95_ms']:.1f} | "
          f"{a['p99_ms']:.1f} | {100 * a['failed'] / max(total, 1):.2f} % | {cpu['loadgen']:.0f} % | {cpu['pujo']:.0f} % | "
          f"{cpu['haproxy']:.0f} % | {cpu['postgres']:.0f} % | {cpu['redis']:.0f} % | {cpu['s3s-fs']:.0f} % | "
          f"{'held' if holds else 'not held: ' + '; '.join(why)} |")
    summary["steps"].append({"replicas": s["replicas"], "visitors": s["visitors"], "rps": a["rps"],
                             "holds": holds, "why_not": why, "cpu": cpu})
print("(CPU: percent of one core over the steady window; this machine has", os.cpu_count(), "cores)")

print("\nPer request type (p50 / p95 / p99 ms, errors):")
for s in steps:
    print(f"  {s['replicas']} replica(s), {s['visitors']:,} visitors:")
    for kind, t in sorted(s["types"].items()):
        errs = ", ".join(f"{v} x {k}" for k, v in t.get("errors", {}).items()) or "none"
        print(f"    {kind:64} {t['rps']:8.1f}/s  {t['p50_ms']:7.1f} {t['p95_ms']:7.1f} {t['p99_ms']:7.1f}  errors: {errs}")
    # Older runs' steps have no PostgreSQL evidence.
    if "postgres_wal" in s:
        wal = s["postgres_wal"]
        waits = ", ".join(f"{k} {v}" for k, v in s["postgres_waits"].items()) or "none"
        flush = f"{wal['flush_ms_mean']} ms" if wal["flush_ms_mean"] is not None else "no time"
        print(f"    PostgreSQL: {wal['records_per_s']:,} WAL records/s, {wal['flushes_per_s']} flushes/s of "
              f"{flush}; busy backends at a look, by wait: {waits}")

for replicas in sorted({s["replicas"] for s in steps}):
    held = [s for s in steps if s["replicas"] == replicas and verdict(s)[0]]
    if not held:
        print(f"\n{replicas} replica(s): no step held the targets")
        continue
    best = max(held, key=lambda s: s["all"]["rps"])
    rps = best["all"]["rps"]
    per_node = BUDGET / NODES / (rps * MONTH_S) * 1000
    whole = BUDGET / (rps * MONTH_S) * 1000
    summary["sustainable"][str(replicas)] = {"visitors": best["visitors"], "rps": rps,
                                             "usd_per_1000_per_node": per_node, "usd_per_1000_whole_budget": whole}
    print(f"\n{replicas} replica(s): largest step within the targets: {best['visitors']:,} visitors, {rps:,.0f} req/s")
    print(f"  cost per 1,000 requests: ${per_node:.6f} (a node's ${BUDGET / NODES:.0f}/month at this rate), "
          f"1/{SEED_PER_1000 / per_node:,.0f} of the seed's ${SEED_PER_1000}; "
          f"the whole ${BUDGET:.0f} at this one machine's rate: ${whole:.6f} (1/{SEED_PER_1000 / whole:,.0f})")
json.dump(summary, open(os.path.join(out, "steps.json"), "w"), indent=1)

fig, (lat, thr) = plt.subplots(1, 2, figsize=(12, 4.8))
for replicas, colour in ((1, "tab:blue"), (2, "tab:orange")):
    mine = [s for s in steps if s["replicas"] == replicas]
    if not mine:
        continue
    x = [s["visitors"] for s in mine]
    for key, style in (("p50_ms", ":"), ("p95_ms", "-"), ("p99_ms", "--")):
        lat.plot(x, [s["all"][key] for s in mine], style, marker="o", color=colour,
                 label=f"{replicas} replica{'s' if replicas > 1 else ''}, {key[:3]}")
    thr.plot(x, [s["all"]["rps"] for s in mine], "-", marker="o", color=colour, label=f"{replicas} replica(s)")
lat.axhline(P95_TARGET_MS, color="red", linewidth=0.8, label="p95 target (300 ms)")
lat.set(xlabel="visitors", ylabel="latency of the mix, ms (log)", yscale="log", title="Latency percentiles against load")
lat.legend(fontsize=7)
thr.set(xlabel="visitors", ylabel="requests/s", title="Throughput")
thr.legend(fontsize=8)
for ax in (lat, thr):
    ax.grid(alpha=0.3)
fig.suptitle("Pujo, a festival night: the visitor mix through HAProxy", fontsize=10)
fig.tight_layout()
fig.savefig(os.path.join(out, "festival.png"), dpi=110)
print(f"\nplot: {os.path.join(out, 'festival.png')}")
