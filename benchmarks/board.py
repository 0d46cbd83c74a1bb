"""The staff board's answer time for a province day of 2,000 dossiers (target: under 300 ms).

Usage::

    python benchmarks/board.py [--jobs 2000] [--runs 7] [--database sqlite|postgres]

A sample Cà Mau day (``routing.sample_day.camau_day``) is stored with a plan built by hand
(each office's jobs shared round-robin among its couriers, every pickup handed over for the
first run of its office, so the solver's time is not part of this measure), then a simulated
morning is recorded through the real ingestion: a third of the pickups collected and handed
over at their office, a tenth of the returns out for delivery. It prints the median and the
slowest of ``--runs`` calls of :func:`tracking.board.day_board`, and of ``GET /board`` on a real
``buuta serve`` (the page rendered, over loopback), each after one warm-up.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tracking  # noqa: E402
from harness.server import serve, sqlite_url  # noqa: E402
from routing.sample_day import camau_day  # noqa: E402
from tracking.board import day_board  # noqa: E402
from tracking.scans import ScanInput  # noqa: E402

VN = timezone(timedelta(hours=7))
DATE = "2026-11-23"


def _at(minutes: int) -> str:
    return (datetime(2026, 11, 23, tzinfo=VN) + timedelta(minutes=minutes)).isoformat()


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _catchable(runs: list[tuple[int, str]], at_min: int) -> str | None:
    """The first run whose cut-off is at or after ``at_min`` (minutes since midnight)."""
    return min((r for r in runs if r[0] >= at_min), default=(0, None))[1]


def _plan(request: dict[str, Any]) -> dict[str, Any]:
    """A plan of the day: each office's jobs round-robin over its couriers, 6 min a stop."""
    by_office: dict[str, list[str]] = defaultdict(list)
    for courier in request["couriers"]:
        by_office[courier["start_site"]].append(courier["id"])
    runs_from: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for run in request["shuttles"]:
        cutoff = _minutes(run["departs"]) - int(run.get("handoff_min") or 0)
        runs_from[run["from_site"]].append((cutoff, run["id"]))
    stops: dict[str, list[dict[str, Any]]] = defaultdict(list)
    clock: dict[str, int] = defaultdict(lambda: 7 * 60 + 30)
    for i, job in enumerate(request["jobs"]):
        office = job.get("handoff_site") or job.get("origin_site")
        crew = by_office.get(office) or next(iter(by_office.values()))
        courier = crew[i % len(crew)]
        clock[courier] += 6
        at = clock[courier]
        kind = "pickup" if job["kind"] == "pickup" else "delivery"
        stops[courier].append(
            {"type": kind, "job": job["id"], "lat": job["lat"], "lon": job["lon"],
             "arrive": _at(at), "start": _at(at), "depart": _at(at + 5)}
        )  # fmt: skip
        if kind == "pickup":
            clock[courier] = at = at + 6
            run = _catchable(runs_from[office], at)
            stops[courier].append(
                {"type": "handoff", "site": office, "jobs": [job["id"]], "shuttle": run,
                 "arrive": _at(at), "depart": _at(at + 2)}
            )  # fmt: skip
    routes = [{"courier": c, "distance_km": 0, "duration_min": 0, "stops": s}
              for c, s in stops.items()]  # fmt: skip
    return {"plan_id": f"bench-{uuid.uuid4().hex[:8]}", "date": DATE, "status": "complete",
            "routes": routes, "unassigned": [], "kpis": {}}  # fmt: skip


def _morning(session: Session, request: dict[str, Any], plan: dict[str, Any]) -> int:
    """Record a simulated morning through ingestion; return the number of scans."""
    courier_of = {s["job"]: r["courier"] for r in plan["routes"] for s in r["stops"] if "job" in s}
    by_courier: dict[str, list[ScanInput]] = defaultdict(list)
    staff: list[ScanInput] = []
    at = datetime(2026, 11, 23, 8, 30, tzinfo=VN)
    for i, job in enumerate(request["jobs"]):
        code, courier = job["dossier"], courier_of[job["id"]]
        if job["kind"] == "pickup" and i % 3 == 0:
            by_courier[courier] += [
                ScanInput(str(uuid.uuid4()), code, "collected", at, lat=job["lat"], lon=job["lon"]),
                ScanInput(str(uuid.uuid4()), code, "at_hub", at + timedelta(minutes=20),
                          site=job["handoff_site"]),
            ]  # fmt: skip
        elif job["kind"] == "return" and i % 10 == 1:
            site = job["origin_site"]
            staff.append(ScanInput(str(uuid.uuid4()), code, "result_ready", at, site=site))
            out = at + timedelta(minutes=5)
            by_courier[courier].append(
                ScanInput(str(uuid.uuid4()), code, "out_for_delivery", out, site=site)
            )
    now = at + timedelta(hours=1)
    users = {"staff": tracking.create_user(session=session, name="bench-staff", role="staff")[0]}
    tracking.ingest_scans(session=session, events=staff, actor=users["staff"], now=now)
    for courier, events in by_courier.items():
        user = tracking.create_user(session=session, name=courier, role="courier")[0]
        tracking.ingest_scans(session=session, events=events, actor=user, now=now)
    return len(staff) + sum(len(e) for e in by_courier.values())


def _times(call: Any, runs: int) -> tuple[float, float]:
    call()  # warm-up (plan parsing, caches, connections)
    taken = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        taken.append((time.perf_counter() - start) * 1000)
    return statistics.median(taken), max(taken)


def main() -> None:
    """Build the day, then print the board's answer times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        if args.database == "postgres":
            from harness.postgres import fresh_database, run_postgres_server  # noqa: PLC0415

            url = fresh_database(stack.enter_context(run_postgres_server()), "board_bench")
        else:
            url = sqlite_url(Path(tmp))
        engine = tracking.make_engine(url)
        tracking.upgrade(engine)
        request = camau_day(jobs=args.jobs, seed=1, date=DATE)
        plan = _plan(request)
        with Session(engine) as session:
            tracking.store_plan(session=session, request=request, plan=plan, created_by="bench")
            scans = _morning(session, request, plan)
            _user, token = tracking.create_user(session=session, name="board", role="staff")
        now = datetime(2026, 11, 23, 9, 45, tzinfo=VN)
        with Session(engine) as session:
            board = day_board(session=session, date=DATE, now=now)
            median, worst = _times(
                lambda: day_board(session=session, date=DATE, now=now), args.runs
            )
        engine.dispose()
        print(f"{args.database}: {board.total} dossiers, {scans} scans, {board.at_risk} at risk")
        print(f"day_board: median {median:.0f} ms, slowest {worst:.0f} ms ({args.runs} runs)")
        with serve(url) as running, httpx.Client(timeout=60) as client:
            page = f"{running.base_url}/board?date={DATE}"
            headers = {"Authorization": f"Bearer {token}"}
            assert client.get(page, headers=headers).status_code == 200
            median, worst = _times(lambda: client.get(page, headers=headers), args.runs)
        verdict = "under" if median < 300 else "OVER"
        print(f"GET /board: median {median:.0f} ms, slowest {worst:.0f} ms, {verdict} 300 ms")


if __name__ == "__main__":
    main()
