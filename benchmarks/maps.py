"""How big and how quick are the maps of a large day? (target: < 10 MB, < 3 s in the browser).

Plans a sample Cà Mau day of ``--jobs`` jobs (2,000 by default) with the real optimizer (or
reads a saved ``{"request", "plan"}`` file), draws its plan map and a progress map (a third of
the stops scanned, a position trace per courier), writes them beside their assets, and loads
each one ``--loads`` times in headless Chromium (Debian's ``/usr/bin/chromium``) with the
network fenced to the local files. Prints the HTML sizes, the build times in Python and the
median browser load time: from navigation until Leaflet has drawn every marker.

    .venv/bin/python benchmarks/maps.py --jobs 2000 --time-limit 30
    .venv/bin/python benchmarks/maps.py --day saved-day.json --loads 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

import routing  # noqa: E402
import tracking  # noqa: E402
from api.maps import plan_map, progress_map, save_map  # noqa: E402
from harness.browser import CHROMIUM_ARGS  # noqa: E402
from harness.server import serve, sqlite_url  # noqa: E402
from routing.clock import local_now  # noqa: E402
from routing.sample_day import camau_day  # noqa: E402


def make_day(jobs: int, seed: int, time_limit_s: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Plan a sample day with the real optimizer."""
    request = camau_day(jobs=jobs, seed=seed)
    started = time.perf_counter()
    plan = routing.plan_request(request, time_limit_s=time_limit_s)
    print(
        f"planned {jobs} jobs in {time.perf_counter() - started:.1f} s: "
        f"{plan['kpis']['served']} served, {len(plan['unassigned'])} unassigned, "
        f"{len(plan['routes'])} routes"
    )
    return request, plan


def lived_third(plan: dict[str, Any], request: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Scans for the first third of each route's job stops, and a position at each of them."""
    dossier = {j["id"]: j.get("dossier", j["id"]) for j in request["jobs"]}
    scans: list[dict[str, Any]] = []
    positions: list[dict[str, Any]] = []
    for route in plan["routes"]:
        stops = [s for s in route["stops"] if s["type"] in {"pickup", "delivery"}]
        for stop in stops[: len(stops) // 3]:
            kind = "collected" if stop["type"] == "pickup" else "delivered"
            scans.append({"dossier": dossier[stop["job"]], "type": kind, "at": stop["start"]})
            positions.append(
                {"courier": route["courier"], "at": stop["start"], "lat": stop["lat"],
                 "lon": stop["lon"]}
            )  # fmt: skip
    return scans, positions


def load_times(paths: list[Path], loads: int, expect: dict[Path, int]) -> dict[Path, list[float]]:
    """Median-able load times: navigation until all expected markers are in the page."""
    times: dict[Path, list[float]] = {p: [] for p in paths}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        for path in paths:
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                leaked: list[str] = []

                def fence(route: Any, leaked: list[str] = leaked) -> None:
                    if route.request.url.startswith("file://"):
                        route.continue_()
                    else:
                        leaked.append(route.request.url)
                        route.abort()

                context.route("**/*", fence)
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                started = time.perf_counter()
                page.goto(path.as_uri(), wait_until="load")
                page.wait_for_function(
                    f"document.querySelectorAll('.leaflet-marker-icon').length >= {expect[path]}",
                    timeout=60_000,
                )
                times[path].append(time.perf_counter() - started)
                if leaked or errors:
                    msg = f"{path.name}: requests {leaked[:3]}, errors {errors[:3]}"
                    raise SystemExit(msg)
                context.close()
        browser.close()
    return times


def served_load_times(
    request: dict[str, Any], plan: dict[str, Any], loads: int, markers: int
) -> list[float]:
    """Load times of ``/plans/{id}/map`` from a real buuta server (server render included)."""
    from sqlmodel import Session  # noqa: PLC0415 (only this part needs the database)

    directory = Path(tempfile.mkdtemp(prefix="buuta-bench-served-"))
    url = sqlite_url(directory)
    with serve(url) as server:
        engine = tracking.make_engine(url)
        with Session(engine) as session:
            _, token = tracking.create_user(session=session, name="bench", role="dispatcher")
            tracking.store_plan(session=session, request=request, plan=plan, created_by="bench")
            session.commit()
        engine.dispose()
        page_url = f"{server.base_url}/plans/{plan['plan_id']}/map"
        times = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
            )
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                context.add_cookies([{"name": "buuta_token", "value": token, "url": page_url}])
                page = context.new_page()
                started = time.perf_counter()
                page.goto(page_url, wait_until="load")
                page.wait_for_function(
                    f"document.querySelectorAll('.leaflet-marker-icon').length >= {markers}",
                    timeout=60_000,
                )
                times.append(time.perf_counter() - started)
                context.close()
            browser.close()
    return times


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=30.0, help="solver seconds")
    parser.add_argument("--day", type=Path, help='saved {"request", "plan"} JSON to reuse')
    parser.add_argument("--save-day", type=Path, help="write the planned day here")
    parser.add_argument("--loads", type=int, default=5, help="browser loads per map")
    parser.add_argument("--out", type=Path, default=None, help="directory for the maps")
    parser.add_argument(
        "--served", action="store_true", help="also time the plan map page from a real server"
    )
    args = parser.parse_args()

    if args.day:
        saved = json.loads(args.day.read_text(encoding="utf-8"))
        request, plan = saved["request"], saved["plan"]
    else:
        request, plan = make_day(args.jobs, args.seed, args.time_limit)
        if args.save_day:
            args.save_day.write_text(json.dumps({"request": request, "plan": plan}))
    out = args.out or Path(tempfile.mkdtemp(prefix="buuta-bench-maps-"))
    stops = sum(
        1
        for r in plan["routes"]
        for s in r["stops"]
        if s["type"] in {"pickup", "delivery", "handoff", "collect"}
    )
    markers = stops + len(request["sites"]) + len(plan["unassigned"])
    print(f"day: {len(request['jobs'])} jobs, {stops} stops, {len(plan['routes'])} routes")

    started = time.perf_counter()
    plan_path = save_map(plan_map(plan, request), out / "plan.html")
    plan_build = time.perf_counter() - started
    scans, positions = lived_third(plan, request)
    end_of_day = max(datetime.fromisoformat(p["at"]) for p in positions) if positions else None
    now = (end_of_day or local_now()) + timedelta(minutes=5)
    started = time.perf_counter()
    progress_path = save_map(
        progress_map(plan, request, positions=positions, scans=scans, now=now),
        out / "progress.html",
    )
    progress_build = time.perf_counter() - started
    used_sites = {
        s["site"] for r in plan["routes"] for s in r["stops"] if s.get("site") is not None
    }
    couriers_seen = len({p["courier"] for p in positions})
    expect = {
        plan_path: markers,
        progress_path: stops + len(used_sites) + couriers_seen,
    }
    times = load_times([plan_path, progress_path], args.loads, expect)
    for path, build in ((plan_path, plan_build), (progress_path, progress_build)):
        size_mb = path.stat().st_size / 1e6
        median = statistics.median(times[path])
        print(
            f"{path.name}: {size_mb:.2f} MB HTML, built in {build:.2f} s, browser load median "
            f"{median:.2f} s over {len(times[path])} loads (min {min(times[path]):.2f}, "
            f"max {max(times[path]):.2f}); {expect[path]} markers; targets < 10 MB, < 3 s"
        )
    print(f"maps written to {out}")
    if args.served:
        served = served_load_times(request, plan, args.loads, markers)
        print(
            f"/plans/{{id}}/map from buuta serve: median {statistics.median(served):.2f} s over "
            f"{len(served)} loads (min {min(served):.2f}, max {max(served):.2f}), "
            "server render included; target < 3 s"
        )


if __name__ == "__main__":
    main()
