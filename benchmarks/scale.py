"""How the optimizer scales on generated Cà Mau days: plan quality against time, peak memory.

Usage::

    .venv/bin/python benchmarks/scale.py [--jobs 300,1000,2000] [--time-limits 10,30,60] [--seed 0]
        [--couriers 60]

Each (size, time limit) runs in its own process, so peak memory is that run's own, through
:func:`routing.plan_request` (the service's entry point), single thread. Every plan the optimizer
returns is complete and feasible (jobs it cannot fit come back unassigned with a reason, never in
a broken route), so "seconds to a feasible plan" is the smallest time limit that returns one;
the independent checker confirms it (``violations``). Printed per run: couriers, jobs served,
unassigned by reason, objective cost, distance, seconds, how far the answer came after its time
limit (``overrun_s``: set-up, districting and read-back; the tests used to assert it and now
leave it to this benchmark, since it depends on how busy the machine is), checker violations,
peak resident memory, and when the search first reported a solution (of the first district, on
large days).

Large days are planned district by district (in parallel worker processes, see
:mod:`routing.parallel`), each with its share of the time limit; a district whose share ends
before its first solution leaves its jobs unassigned (``no_time``, "ran out of time before it
found any plan"): ``no_plan_jobs`` counts them. The seconds to a first complete
plan is the smallest time limit with ``no_plan_jobs == 0``, printed at the end of each size.
``--couriers N`` fixes the province's fleet (shared out among the offices by jobs) instead of
enough couriers for the jobs, e.g. the issue's 2,000 jobs for 60 couriers.
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

NO_PLAN = "before it found any plan"  # in the detail of jobs of a district with no plan yet


def _one(jobs: int, time_limit: float, seed: int, couriers: int | None) -> dict[str, Any]:
    req = camau_day(jobs=jobs, seed=seed, couriers=couriers)
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
        "overrun_s": round(total - time_limit, 2),
        "first_report_s": round(seen[0].elapsed_s, 2) if seen else None,
        "served": plan["kpis"]["served"],
        "unassigned": plan["kpis"]["unassigned_by_reason"],
        "no_plan_jobs": sum(NO_PLAN in u["detail"] for u in plan["unassigned"]),
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
    ap.add_argument("--couriers", type=int, default=None, help="fleet size (default: by jobs)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        result = _one(args.child, args.limit, args.seed, args.couriers)
        print(json.dumps(result, ensure_ascii=False))
        return 0
    for n in [int(x) for x in args.jobs.split(",") if x.strip()]:
        first: float | None = None
        for limit in [float(x) for x in args.time_limits.split(",") if x.strip()]:
            cmd = [sys.executable, __file__, "--child", str(n), "--limit", str(limit)]
            cmd += ["--seed", str(args.seed)]
            if args.couriers is not None:
                cmd += ["--couriers", str(args.couriers)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            out = done.stdout.strip().splitlines()
            err = json.dumps(done.stderr[-500:])
            print(out[-1] if out else f'{{"jobs": {n}, "error": {err}}}', flush=True)
            if out and first is None and json.loads(out[-1]).get("no_plan_jobs") == 0:
                first = limit
        shown = f"{first:g} s" if first is not None else "none of the limits"
        print(f"# {n} jobs: first complete plan within a time limit of {shown}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
