"""Time a draft's review: what it changes against the published plan, and the checker on it.

The dispatch page and ``GET /v1/plans/{id}/changes`` build the review each time a draft is
shown: :func:`routing.diff.compare_plans` and the independent checker. This script plans a
generated Cà Mau day twice (two seeds of the search, so the plans differ), then times both parts
on the second plan against the first.

Run: ``.venv/bin/python benchmarks/draft_review.py [--jobs 300] [--runs 5]`` (prints the day,
how many jobs change, and the median of each part; the solves take ``--time-limit`` seconds
each, 3 by default).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import routing
from routing.checker import check_plan
from routing.diff import compare_plans
from routing.plan import plan_from_json
from routing.sample_day import camau_day


def _median_ms(part: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        part()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    """Plan the day twice and print the median time of each part of the review."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=3.0)
    args = parser.parse_args()
    request = camau_day(jobs=args.jobs, seed=1)
    plans = []
    for seed in (1, 2):
        request["options"] = {"time_limit_s": args.time_limit, "seed": seed}
        plans.append(routing.plan_request(request, time_limit_s=args.time_limit))
    published, draft = (plan_from_json(p) for p in plans)
    diff = compare_plans(published, draft)
    violations = check_plan(request, plans[1])
    counts = ", ".join(f"{k} {diff.count(k)}" for k in ("dropped", "moved", "retimed", "added"))
    print(f"{args.jobs} jobs, {len(request['couriers'])} couriers: {counts}; "
          f"{len(violations)} violation(s)")  # fmt: skip
    print(f"compare_plans: {_median_ms(lambda: compare_plans(published, draft), args.runs):.1f} ms")
    print(f"check_plan:    {_median_ms(lambda: check_plan(request, plans[1]), args.runs):.1f} ms")
    print(f"(median of {args.runs} runs)")


if __name__ == "__main__":
    main()
