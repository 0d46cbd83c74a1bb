"""Scan ingestion over loopback HTTP: scans per second and latency, on SQLite and PostgreSQL.

Starts its own buuta servers (``buuta serve`` in a subprocess, as in production) on a fresh
SQLite file and on a throw-away PostgreSQL server, plans a generated Cà Mau day so the dossiers
exist (1,000 by default), then sends scans as an administrator (who may scan every event type)
from several client threads:

- ``single``: one event per request (a phone syncing each scan as it happens);
- ``batch``: 50 events per request (a phone that was offline).

Every request waits for the server's answer, which comes only after the events are durably
committed. The events follow each dossier's life cycle (collected, at hub, on the shuttle,
received; result ready, on the shuttle, at hub, out for delivery); once a dossier's cycle is
done, further events are stored and flagged, which costs the same write.

Run from the repository root::

    .venv/bin/python benchmarks/ingest.py                 # both databases
    .venv/bin/python benchmarks/ingest.py --backends sqlite --singles 2000 --clients 8

Each kind of request is measured in ``--runs`` runs (3 by default), each on a new database
with its own server, and the median of the runs is printed last, after a line stating the
conditions (cores, the load average before the run, Python). Each line also gives the server
process's CPU time per scan, a figure that depends less on what else the machine is running
than the rates do (the clients share the same cores).

Note: the test PostgreSQL server runs with ``fsync=off`` (harness/postgres.py), so its
figures do not include disk flushes; SQLite runs with ``synchronous=FULL``.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from harness.postgres import fresh_database, run_postgres_server  # noqa: E402
from harness.server import RunningServer, create_tokens  # noqa: E402
from routing.sample_day import camau_day  # noqa: E402

PICKUP_STEPS = ("collected", "at_hub", "on_shuttle", "received")
RETURN_STEPS = ("result_ready", "on_shuttle", "at_hub", "out_for_delivery")


def _events(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield scan events forever, round-robin over the day's dossiers, each in life-cycle order."""
    counter = itertools.count()
    jobs = request["jobs"]
    for step in itertools.count():
        for job in jobs:
            n = next(counter)
            if job["kind"] == "pickup":
                kind = PICKUP_STEPS[min(step, 3)]
                site = {
                    "collected": None,
                    "at_hub": job["handoff_site"],
                    "on_shuttle": job["handoff_site"],
                    "received": job["destination_site"],
                }[kind]
            else:
                kind = RETURN_STEPS[min(step, 3)]
                site = "centre" if kind in ("result_ready", "on_shuttle") else job["origin_site"]
            minute = min(step, 600)
            event: dict[str, Any] = {
                "event_id": f"bench-{n:08d}",
                "dossier": job["dossier"],
                "type": kind,
                "at": f"2026-11-20T{7 + minute // 60:02d}:{minute % 60:02d}:00+07:00",
                "site": site,
            }
            if site is None:
                event["lat"], event["lon"] = job["lat"], job["lon"]
            yield event


def _run(
    url: str, token: str, events: Iterator[dict[str, Any]], *, requests: int, size: int,
    clients: int,
) -> tuple[float, list[float], int]:  # fmt: skip
    """Send ``requests`` requests of ``size`` events from ``clients`` threads.

    Returns (elapsed seconds, per-request latencies in seconds, events acknowledged).
    """
    lock = threading.Lock()
    latencies: list[float] = []
    acked = [0]
    remaining = [requests]

    def take() -> list[dict[str, Any]] | None:
        with lock:
            if remaining[0] <= 0:
                return None
            remaining[0] -= 1
            return [next(events) for _ in range(size)]

    parsed = urlsplit(url)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def worker() -> None:
        # http.client, not httpx: the load generator shares the machine's two cores with the
        # server, so it must cost as little CPU per request as it can (keep-alive, no pooling).
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        try:
            while (batch := take()) is not None:
                body = json.dumps(batch).encode()
                t0 = time.perf_counter()
                conn.request("POST", "/v1/scans", body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                dt = time.perf_counter() - t0
                if answer.status != 200:
                    msg = f"scan request failed: {answer.status} {data[:300]!r}"
                    raise RuntimeError(msg)
                results = json.loads(data)["results"]
                n = sum(r["status"] in ("stored", "flagged") for r in results)
                with lock:
                    latencies.append(dt)
                    acked[0] += n
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies, acked[0]


def _cpu_s(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid``, in seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _line(row: tuple[float, float, float, float]) -> str:
    rate, p50, p99, cpu_ms = row
    return (
        f"{rate:8.0f} scans/s  p50={p50:6.1f} ms  p99={p99:6.1f} ms  "
        f"server CPU {cpu_ms:5.2f} ms/scan"
    )


def conditions() -> str:
    """Describe the conditions of a run: cores, load before it, Python, the time (UTC)."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return (
        f"# {started}; {os.cpu_count()} cores; load average before the run {load} "
        f"(1, 5, 15 min; above 0 means other work shares the machine); Python "
        f"{sys.version.split()[0]}; client threads on the same machine"
    )


Row = tuple[float, float, float, float]
"""scans/s, p50 ms, p99 ms, server CPU ms per scan."""


def bench_once(database_url: str, name: str, args: argparse.Namespace, log: Path) -> dict[str, Row]:
    """One run on a new empty database: start a server, plan a day, send singles then batches.

    Each run starts afresh, so that its figures do not depend on the events earlier runs left
    (a dossier's longer history costs more to fold).
    """
    server = RunningServer(database_url, log_path=log)
    server.start()
    figures: dict[str, Row] = {}
    try:
        tokens = create_tokens(database_url, {"bench-disp": "dispatcher", "bench-admin": "admin"})
        request = camau_day(jobs=args.jobs, seed=1)
        request["options"] = {"time_limit_s": 2}
        planned = httpx.post(
            f"{server.base_url}/v1/plans",
            json=request,
            headers={"Authorization": f"Bearer {tokens['bench-disp']}"},
            timeout=300,
        )
        if planned.status_code != 201:
            msg = f"planning the benchmark day failed: {planned.status_code} {planned.text[:300]}"
            raise RuntimeError(msg)
        events = _events(request)
        token = tokens["bench-admin"]
        for label, requests, size in (("single", args.singles, 1), ("batch50", args.batches, 50)):
            _run(server.base_url, token, events, requests=args.clients * 2, size=size,
                 clients=args.clients)  # warm-up  # fmt: skip
            assert server.process is not None
            cpu_before = _cpu_s(server.process.pid)
            elapsed, lat, acked = _run(
                server.base_url, token, events, requests=requests, size=size,
                clients=args.clients,
            )  # fmt: skip
            cpu_ms = 1000 * (_cpu_s(server.process.pid) - cpu_before) / max(acked, 1)
            figures[label] = (acked / elapsed, 1000 * statistics.median(lat),
                              1000 * _pct(lat, 0.99), cpu_ms)  # fmt: skip
    finally:
        server.stop()
    return figures


def bench(new_url: Callable[[int], str], name: str, args: argparse.Namespace, tmp: Path) -> None:
    """Run ``args.runs`` runs, each on the database ``new_url(run)``; print each and the median."""
    runs: list[dict[str, Row]] = []
    for run in range(1, args.runs + 1):
        figures = bench_once(new_url(run), name, args, tmp / f"{name}-{run}.log")
        runs.append(figures)
        for label, row in figures.items():
            print(f"{name:<10} {label:<8} run {run}/{args.runs}  " + _line(row), flush=True)
    for label in runs[0]:
        rows = [figures[label] for figures in runs]
        median = tuple(statistics.median(col) for col in zip(*rows, strict=True))
        requests = args.singles if label == "single" else args.batches
        print(
            f"{name:<10} {label:<8} MEDIAN of {len(rows)} runs (clients={args.clients}, "
            f"{requests} requests a run)  " + _line(median),  # type: ignore[arg-type]
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per database and request size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--singles", type=int, default=1500, help="single-event requests")
    parser.add_argument("--batches", type=int, default=300, help="50-event requests")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--jobs", type=int, default=1000, help="dossiers in the planned day")
    parser.add_argument("--runs", type=int, default=3, help="runs; the median is printed")
    args = parser.parse_args(argv)
    print(conditions(), flush=True)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="buuta-ingest-")))
        for backend in backends:
            if backend == "sqlite":
                bench(lambda run: f"sqlite:///{tmp / f'ingest-{run}.sqlite'}", "sqlite", args, tmp)
            elif backend == "postgres":
                pg = stack.enter_context(run_postgres_server())
                bench(
                    lambda run, pg=pg: fresh_database(pg, f"ingest_{run}"), "postgresql", args, tmp
                )
            else:
                parser.error(f"unknown backend {backend!r} (sqlite, postgres)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
