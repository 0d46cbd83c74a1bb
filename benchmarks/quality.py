"""Solution quality on the standard benchmarks, through the same solver entry point as plans.

Usage::

    .venv/bin/python benchmarks/quality.py --set ../shared/benchmarks/solomon_100 \
        --bks ../shared/benchmarks/solomon_100/bks.csv --time-limit 10 [--instances C101,R101] \
        [--solutions OUT] [--first-solution NAME] [--metaheuristic NAME] [--convention C]

Each instance is read by :mod:`routing.benchmarks` into the routing core and solved by
:func:`routing.engines.solve` (the function :func:`routing.plan_request` calls), one at a time,
single thread. The objective is total distance. Two conventions (``--convention``):

- ``dimacs``: distances and times truncated to one decimal (the distance-only convention of the
  Solomon ``dist_only_distance`` best-known);
- ``exact``: thousandths with travel times rounded up, so every solution found is feasible with
  exact double-precision times (the convention of the hierarchical best-known, the only one
  published for Li & Lim);
- ``auto`` (default): ``dimacs`` when the CSV gives a distance-only best-known for the
  instance, else ``exact``.

Per instance it prints vehicles, distance under both conventions, the gap to each best-known
solution given in the CSV, seconds, and two feasibility flags from an independent check (every
customer once, capacity, windows, pickup before delivery): with truncated times (``ok-1dec``)
and with exact times (``ok-exact``). A gap is only honest in its own convention, so the mean
distance-only gap counts solutions feasible with truncated times, and the mean hierarchical gap
counts only solutions feasible with exact times (the count is printed). The hierarchical
best-known minimises vehicles first, so a solution with more vehicles can be shorter: the last
column of the family lines gives the mean hierarchical gap over the solutions using no more
vehicles than the best-known (``same veh``), the only ones it can honestly be compared with.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from pathlib import Path

from routing.benchmarks import (
    check_solution,
    read_instance,
    route_length,
    routes_as_nodes,
    write_vrplib_solution,
)
from routing.engines import solve
from routing.model import SolveParams


def _family(name: str) -> str:
    m = re.match(r"([A-Za-z]+\d)", name)
    return m.group(1).upper() if m else name


def _gap(value: float, best: float | None) -> float | None:
    return None if not best else 100.0 * (value - best) / best


def _fmt(g: float | None) -> str:
    return "    -" if g is None else f"{g:+6.2f}%"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; return 0, or 1 when a solution fails its check."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", required=True, type=Path, help="folder of instance .txt files")
    ap.add_argument("--bks", required=True, type=Path, help="best-known solutions CSV")
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    ap.add_argument("--instances", default="", help="comma-separated names (default: all)")
    ap.add_argument("--solutions", type=Path, help="write OUT/<instance>.sol (VRPLIB)")
    ap.add_argument("--first-solution", default=SolveParams().first_solution)
    ap.add_argument("--metaheuristic", default=SolveParams().metaheuristic)
    ap.add_argument(
        "--engine",
        default="auto",
        choices=["auto", "ortools", "pyvrp"],
        help="auto: PyVRP for the problems it expresses exactly, else OR-Tools",
    )
    ap.add_argument(
        "--convention",
        default="auto",
        choices=["auto", "dimacs", "exact"],
        help="integer convention to solve in (auto: dimacs where a distance-only BKS exists)",
    )
    args = ap.parse_args(argv)

    bks: dict[str, dict[str, str]] = {}
    with args.bks.open() as f:
        for row in csv.DictReader(f):
            bks[row["instance"].lower()] = row
    wanted = [s.strip().lower() for s in args.instances.split(",") if s.strip()]
    files = sorted(p for p in args.set.glob("*.txt") if p.stem.lower() in bks)
    if wanted:
        files = [p for p in files if p.stem.lower() in wanted]
        missing = set(wanted) - {p.stem.lower() for p in files}
        if missing:
            print(f"unknown instances: {', '.join(sorted(missing))}", file=sys.stderr)
            return 2
    if args.solutions:
        args.solutions.mkdir(parents=True, exist_ok=True)
    params = SolveParams(
        time_limit_s=args.time_limit,
        first_solution=args.first_solution,
        metaheuristic=args.metaheuristic,
        engine=args.engine,
    )
    print(
        f"{'instance':10} {'conv':6} {'veh':>4} {'dist(1dec)':>10} {'gap-dist':>8} "
        f"{'dist(exact)':>11} {'bks veh':>7} {'gap-hier':>8} {'seconds':>7} "
        f"{'ok-1dec':>7} {'ok-exact':>8}"
    )
    # per family: (distance-only gap, hierarchical gap, hierarchical gap at <= bks vehicles)
    fams: dict[str, list[tuple[float | None, float | None, float | None]]] = {}
    failed = 0
    not_exact = 0
    for path in files:
        row = bks[path.stem.lower()]
        dist_only = row.get("dist_only_distance") or None
        conv = args.convention
        if conv == "auto":
            conv = "dimacs" if dist_only else "exact"
        inst = read_instance(path, convention=conv)
        t0 = time.monotonic()
        sol = solve(inst.problem, params)
        secs = time.monotonic() - t0
        routes = routes_as_nodes(inst, sol)
        d_trunc = route_length(inst, routes, truncated=True)
        d_exact = route_length(inst, routes, truncated=False)
        problems_1dec = check_solution(inst, routes, truncated=True)
        problems_exact = check_solution(inst, routes, truncated=False)
        # The solve's own convention decides whether the solution is a failure.
        own = problems_exact if conv == "exact" else problems_1dec
        g_dist = _gap(d_trunc, float(dist_only) if dist_only else None)
        g_hier = _gap(d_exact, float(row["distance"]) if row.get("distance") else None)
        not_exact += bool(problems_exact)
        bks_veh = int(row["vehicles"]) if row.get("vehicles") else None
        same_veh = bks_veh is not None and len(routes) <= bks_veh
        fams.setdefault(_family(path.stem), []).append(
            (
                g_dist if not problems_1dec else None,
                g_hier if not problems_exact else None,
                g_hier if not problems_exact and same_veh else None,
            )
        )
        failed += bool(own)
        print(
            f"{path.stem:10} {conv:6} {len(routes):4d} {d_trunc:10.1f} {_fmt(g_dist):>8} "
            f"{d_exact:11.2f} {row.get('vehicles', '-'):>7} {_fmt(g_hier):>8} {secs:7.1f} "
            f"{'yes' if not problems_1dec else 'NO':>7} {'yes' if not problems_exact else 'NO':>8}",
            flush=True,
        )
        if own:
            print(f"    {conv} check: " + "; ".join(own[:3]), flush=True)
        if args.solutions:
            cost = d_exact if conv == "exact" else d_trunc
            write_vrplib_solution(args.solutions / f"{path.stem}.sol", routes, round(cost, 2))
    print(
        "\nmean gap per family (distance-only: solutions feasible with truncated times | "
        "hierarchical, exact distances: solutions feasible with exact times):"
    )
    all_d: list[float] = []
    all_h: list[float] = []
    all_v: list[float] = []
    for fam, gaps in sorted(fams.items()):
        ds = [g for g, _, _ in gaps if g is not None]
        hs = [h for _, h, _ in gaps if h is not None]
        vs = [v for _, _, v in gaps if v is not None]
        all_d += ds
        all_h += hs
        all_v += vs
        print(f"  {fam:5} n={len(gaps):2d}  {_mean_line(ds, hs, vs)}")
    print(f"  all   n={len(files):2d}  {_mean_line(all_d, all_h, all_v)}")
    print(f"  {not_exact} of {len(files)} solutions infeasible with exact times")
    return 1 if failed else 0


def _mean_line(ds: list[float], hs: list[float], vs: list[float]) -> str:
    def mean(xs: list[float]) -> str:
        return f"{sum(xs) / len(xs):+.2f}%" if xs else "-"

    return (
        f"distance-only {mean(ds):>8} (n={len(ds):2d})   hierarchical {mean(hs):>8} "
        f"(n={len(hs):2d})   same veh {mean(vs):>8} (n={len(vs):2d})"
    )


if __name__ == "__main__":
    sys.exit(main())
