"""How the optimizer scales on generated Cà Mau days: first plan, cost over time, peak memory.

Usage::

    .venv/bin/python benchmarks/scale.py [--jobs 300,1000,2000] [--time-limit 60] [--seed 0]

Each size runs in its own process (so peak memory is that size's own), through
:func:`routing.plan_request`, the service's entry point, single thread. Printed per size: couriers,
seconds to the first plan (every plan the search reports is feasible: jobs it cannot fit are
unassigned, never in a broken route), the best cost and jobs served after 10, 30 and 60 s, the
final plan's checker violations, and peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

from routing import Progress, plan_request
from routing.checker import check_plan
from routing.sample_day import camau_day


def _one(jobs: int, time_limit: float, seed: int) -> dict[str, Any]:
    req = camau_day(jobs=jobs, seed=seed)
    seen: list[Progress] = []
    t0 = time.monotonic()
    plan = plan_request(req, time_limit_s=time_limit, on_progress=seen.append)
    total = time.monotonic() - t0
    marks = {}
    for mark in (10, 30, 60):
        if mark <= time_limit + 1e-9:
            best = [p.best_cost for p in seen if p.elapsed_s <= mark]
            marks[f"cost@{mark}s"] = min(best) if best else None
    violations = check_plan(req, plan)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "jobs": jobs,
        "couriers": len(req["couriers"]),
        "first_plan_s": round(seen[0].elapsed_s, 2) if seen else None,
        **marks,
        "served": plan["kpis"]["served"],
        "unassigned": plan["kpis"]["unassigned_by_reason"],
        "runs_missed": plan["kpis"]["runs_missed"],
        "distance_km": plan["kpis"]["distance_km"],
        "violations": len(violations),
        "seconds": round(total, 1),
        "peak_mib": round(peak_kib / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run each size in a child process and print one JSON line per size."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", default="300,1000,2000")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_one(args.child, args.time_limit, args.seed), ensure_ascii=False))
        return 0
    for n in [int(x) for x in args.jobs.split(",") if x.strip()]:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            str(n),
            "--time-limit",
            str(args.time_limit),
            "--seed",
            str(args.seed),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        print(line or f'{{"jobs": {n}, "error": {json.dumps(done.stderr[-500:])}}}', flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
