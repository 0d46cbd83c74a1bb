"""How quickly does the hotline learn which windows are still bookable? (target: < 300 ms).

Starts a real ``buuta serve`` on a fresh SQLite file, plans a sample Cà Mau day of ``--jobs``
jobs (300 by default) for tomorrow with ``POST /v1/plans`` (the day's published plan), then asks
``GET /v1/slots`` over loopback HTTP ``--runs`` times, for pickups and returns at homes spread
over the province (each a different place, so nothing is answered from a cache). Every answer
checks each bookable window against every gap of every route.

Run from the repository root::

    .venv/bin/python benchmarks/slots.py                       # 300 jobs, 20 answers
    .venv/bin/python benchmarks/slots.py --jobs 600 --runs 50 --time-limit 20

It prints the conditions (cores, load average, Python), the plan's size, then the median, the
90th percentile and the slowest answer, and how many windows were bookable.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from harness.api_day import auth, today_vn  # noqa: E402
from harness.server import create_tokens, serve, sqlite_url  # noqa: E402
from routing.sample_day import camau_day  # noqa: E402


def plan_day(client: httpx.Client, url: str, token: str, request: dict[str, Any]) -> Any:
    """Plan and store the day (it becomes the day's published plan)."""
    started = time.perf_counter()
    answer = client.post(f"{url}/v1/plans", json=request, headers=auth(token))
    answer.raise_for_status()
    plan = answer.json()
    stops = sum(len(r["stops"]) for r in plan["routes"])
    print(
        f"planned {len(request['jobs'])} jobs in {time.perf_counter() - started:.1f} s: "
        f"{len(plan['routes'])} routes, {stops} stops, {len(plan['unassigned'])} unassigned"
    )
    return plan


def queries(request: dict[str, Any], runs: int, seed: int) -> list[dict[str, Any]]:
    """Slots questions at homes near the day's jobs (a little away from each), half returns."""
    rng = random.Random(seed)
    jobs = request["jobs"]
    asked = []
    for k in range(runs):
        job = rng.choice(jobs)
        home = {"lat": job["lat"] + rng.uniform(-0.01, 0.01),
                "lon": job["lon"] + rng.uniform(-0.01, 0.01)}  # fmt: skip
        if k % 2 == 0:
            site = job.get("handoff_site") or job.get("origin_site")
            asked.append({"kind": "pickup", "handoff_site": site, **home})
        else:
            site = job.get("origin_site") or job.get("handoff_site")
            asked.append({"kind": "return", "origin_site": site, **home})
    return asked


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--time-limit", type=float, default=10.0, help="Solver seconds.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    day = (date.fromisoformat(today_vn()) + timedelta(days=1)).isoformat()
    request = camau_day(jobs=args.jobs, seed=args.seed, date=day)
    request["options"] = {"time_limit_s": args.time_limit}
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{os.cpu_count()} cores, load average {load} before the run, "
        f"Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = sqlite_url(Path(tmp))
        with serve(url) as server, httpx.Client(timeout=120) as client:
            tokens = create_tokens(url, {"disp": "dispatcher", "hotline": "staff"})
            plan_day(client, server.base_url, tokens["disp"], request)
            times, bookable, windows = [], 0, 0
            for params in queries(request, args.runs + 1, args.seed):
                started = time.perf_counter()
                answer = client.get(
                    f"{server.base_url}/v1/slots",
                    params={"date": day, **params},
                    headers=auth(tokens["hotline"]),
                )
                elapsed = time.perf_counter() - started
                answer.raise_for_status()
                times.append(elapsed)
                found = answer.json()["windows"]
                windows += len(found)
                bookable += sum(1 for w in found if w["available"])
    times = times[1:]  # the first answer warms the server's imports up
    times.sort()
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    print(
        f"GET /v1/slots over {args.runs} answers: median {statistics.median(times) * 1000:.0f} ms, "
        f"90th percentile {p90 * 1000:.0f} ms, slowest {times[-1] * 1000:.0f} ms "
        f"(target: under 300 ms)"
    )
    print(f"{bookable} of {windows} windows bookable; load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
