"""Journeys through the timetable on generated Cà Mau days: dossiers reaching their destination.

Usage::

    .venv/bin/python benchmarks/journeys.py [--jobs 300] [--departments 0.3]
        [--time-limits 10,30] [--seed 1]

A share of the day's pickups (``--departments``) is bound for a provincial department: the
trunk run to the centre, then an inter-agency run (DESIGN §4). Each time limit is planned
through :func:`routing.plan_request` and checked by the independent checker. Printed per run,
one JSON line: jobs served, dossiers handed over for a run, those whose journey reaches the
destination today (``reaching_today``), those with a two-run journey, runs missed, km, checker
violations and ``later_journey`` warnings. Before journeys, every department-bound dossier
counted as "no run today" (no run goes straight from a district post office to a department).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from routing import plan_request
from routing.checker import Violation, check_plan
from routing.sample_day import camau_day


def _journeys(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        journey
        for route in plan["routes"]
        for stop in route["stops"]
        if stop["type"] == "handoff"
        for journey in (stop.get("journeys") or {}).values()
    ]


def _one(req: dict[str, Any], time_limit: float) -> dict[str, Any]:
    began = time.monotonic()
    plan = plan_request(req, time_limit_s=time_limit)
    seconds = time.monotonic() - began
    warnings: list[Violation] = []
    violations = check_plan(req, plan, warnings=warnings)
    journeys = _journeys(plan)
    kpis = plan["kpis"]
    return {
        "jobs": len(req["jobs"]),
        "time_limit_s": time_limit,
        "seconds": round(seconds, 1),
        "served": kpis["served"],
        "handed_for_a_run": len(journeys),
        "reaching_today": kpis["reaching_today"],
        "two_runs": sum(1 for j in journeys if len(j["runs"]) >= 2),
        "runs_missed": kpis["runs_missed"],
        "distance_km": kpis["distance_km"],
        "violations": len(violations),
        "later_journey_warnings": len(warnings),
    }


def main(argv: list[str] | None = None) -> int:
    """Plan one generated day at each time limit; print one JSON line per run."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--departments", type=float, default=0.3)
    ap.add_argument("--time-limits", default="10,30")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    req = camau_day(jobs=args.jobs, seed=args.seed, department_share=args.departments)
    bound = sum(1 for j in req["jobs"] if str(j.get("destination_site", "")).startswith("dept-"))
    print(json.dumps({"jobs": args.jobs, "department_bound": bound, "seed": args.seed}))
    for limit in (float(x) for x in args.time_limits.split(",")):
        print(json.dumps(_one(req, limit)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
