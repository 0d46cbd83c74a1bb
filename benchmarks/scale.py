"""How the optimizer scales on generated Cà Mau days: plan quality against time, peak memory.

Usage::

    .venv/bin/python benchmarks/scale.py [--jobs 300,1000,2000] [--time-limits 10,30,60] [--seed 0]

Each (size, time limit) runs in its own process, so peak memory is that run's own, through
:func:`routing.plan_request` (the service's entry point), single thread. Every plan the optimizer
returns is complete and feasible (jobs it cannot fit come back unassigned with a reason, never in
a broken route), so "seconds to a feasible plan" is the smallest time limit that returns one;
the independent checker confirms it (``violations``). Printed per run: couriers, jobs served,
unassigned by reason, objective cost, distance, seconds, checker violations, peak resident
memory, and when the search first reported a solution (of the first district, on large days).
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
    violations = check_plan(req, plan)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "jobs": jobs,
        "couriers": len(req["couriers"]),
        "time_limit_s": time_limit,
        "seconds": round(total, 1),
        "first_report_s": round(seen[0].elapsed_s, 2) if seen else None,
        "served": plan["kpis"]["served"],
        "unassigned": plan["kpis"]["unassigned_by_reason"],
        "runs_missed": plan["kpis"]["runs_missed"],
        "cost": plan["kpis"]["solver"]["cost"],
        "distance_km": plan["kpis"]["distance_km"],
        "violations": len(violations),
        "peak_mib": round(peak_kib / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run each size and time limit in a child process; print one JSON line per run."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", default="300,1000,2000")
    ap.add_argument("--time-limits", default="10,30,60")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_one(args.child, args.limit, args.seed), ensure_ascii=False))
        return 0
    for n in [int(x) for x in args.jobs.split(",") if x.strip()]:
        for limit in [float(x) for x in args.time_limits.split(",") if x.strip()]:
            cmd = [sys.executable, __file__, "--child", str(n), "--limit", str(limit)]
            cmd += ["--seed", str(args.seed)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            out = done.stdout.strip().splitlines()
            err = json.dumps(done.stderr[-500:])
            print(out[-1] if out else f'{{"jobs": {n}, "error": {err}}}', flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
