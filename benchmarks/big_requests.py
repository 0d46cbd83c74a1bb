"""Requests of the largest allowed size: their answer time, and ``/healthz`` latency meanwhile.

Issue 15 found that 600,000 empty objects (1.8 MB, under the 2 MB byte limit) sent to
``POST /v1/scans`` took 25–30 s to be refused, and ``/healthz`` waited as long. This script
starts a real ``buuta serve`` (SQLite file, or a throw-away PostgreSQL server), plans a small
day, and for each kind of big request sends it ``--runs`` times while another thread asks
``/healthz`` every 20 ms:

- ``empties-1.8MB``: ``[{}, {}, …]`` with 600,000 items to ``/v1/scans`` (answered 413);
- ``invalid-500``: 500 events each with 100 unknown fields, just under 2 MB (422);
- ``valid-500``: 500 valid scan events, the largest batch accepted (200);
- ``positions-500``: 500 positions of one courier (201);
- ``baseline`` first: ``/healthz`` alone for 0.4 s, to tell the machine's own delays (other
  work on the shared cores) from those a big request causes.

It prints, per kind, the median answer time over the runs and the median and worst ``/healthz``
latency seen while the big requests were in flight. The goal of issue 15: the answer within
1 s, ``/healthz`` under 100 ms. Run from the repository root::

    .venv/bin/python benchmarks/big_requests.py [--runs 5] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from harness.api_day import USERS, small_request
from harness.postgres import fresh_database, run_postgres_server
from harness.server import RunningServer, create_tokens, sqlite_url

VN = timezone(timedelta(hours=7))


def _ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).astimezone(VN).isoformat()


def _empties() -> bytes:
    return b"[" + b",".join([b"{}"] * 600_000) + b"]"


def _invalid() -> bytes:
    filler = {f"unknown_{i:03d}": "x" * 20 for i in range(100)}
    return json.dumps([{"event_id": "", **filler} for _ in range(500)]).encode()


def _valid() -> bytes:
    events = [
        {"event_id": str(uuid.uuid4()), "dossier": "H12.22-261123-0002", "type": "at_hub",
         "at": _ago(1), "site": "po-tvt"}
        for _ in range(500)
    ]  # fmt: skip
    return json.dumps(events).encode()


def _positions() -> bytes:
    rows = [{"at": _ago(500 - i / 10), "lat": 9.18, "lon": 105.14} for i in range(500)]
    return json.dumps(rows).encode()


def _poll_health(url: str, stop: threading.Event, seen: list[float]) -> None:
    with httpx.Client(timeout=120) as client:
        while not stop.is_set():
            t0 = time.perf_counter()
            client.get(f"{url}/healthz")
            seen.append(time.perf_counter() - t0)
            time.sleep(0.02)


def measure(
    server: RunningServer, path: str, token: str, body: Callable[[], bytes], runs: int
) -> tuple[list[float], list[float], set[int]]:
    """Send ``body()`` to ``path`` ``runs`` times while polling /healthz.

    Returns the answer times, the /healthz latencies (seconds) and the statuses seen.
    """
    times: list[float] = []
    health: list[float] = []
    statuses: set[int] = set()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(timeout=300) as client:
        for _ in range(runs):
            content = body()
            stop = threading.Event()
            seen: list[float] = []
            poller = threading.Thread(target=_poll_health, args=(server.base_url, stop, seen))
            poller.start()
            time.sleep(0.1)  # the poller is running before the big request starts
            t0 = time.perf_counter()
            if content:
                answer = client.post(f"{server.base_url}{path}", content=content, headers=headers)
                statuses.add(answer.status_code)
            else:  # the baseline: /healthz with no big request in flight
                time.sleep(0.4)
            times.append(time.perf_counter() - t0)
            stop.set()
            poller.join()
            health += seen
    return times, health, statuses


@contextlib.contextmanager
def running(database: str) -> Iterator[RunningServer]:
    """A server on a fresh database with the small day of the HTTP tests planned."""
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="buuta-big-")))
        if database == "sqlite":
            url = sqlite_url(tmp)
        else:
            url = fresh_database(stack.enter_context(run_postgres_server()), "big_requests")
        server = RunningServer(url, log_path=tmp / "server.log")
        server.start()
        stack.callback(server.stop)
        yield server


def main(argv: list[str] | None = None) -> int:
    """Print the answer time and /healthz latency of each kind of big request."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args(argv)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"# {args.database}; {os.cpu_count()} cores; load average before the run {load}")
    with running(args.database) as server:
        tokens = create_tokens(server.database_url, USERS)
        day = small_request(datetime.now(VN).date().isoformat())
        planned = httpx.post(
            f"{server.base_url}/v1/plans",
            json=day,
            headers={"Authorization": f"Bearer {tokens['disp1']}"},
            timeout=120,
        )
        planned.raise_for_status()
        kinds = [
            ("baseline", "/healthz", "staff1", lambda: b""),
            ("empties-1.8MB", "/v1/scans", "staff1", _empties),
            ("invalid-500", "/v1/scans", "staff1", _invalid),
            ("valid-500", "/v1/scans", "staff1", _valid),
            ("positions-500", "/v1/couriers/c1/positions", "c1", _positions),
        ]
        for name, path, user, body in kinds:
            size = len(body())
            times, health, statuses = measure(server, path, tokens[user], body, args.runs)
            print(
                f"{name:<14} {size / 1e6:4.2f} MB  status {sorted(statuses)}  "
                f"answer median {1000 * statistics.median(times):7.1f} ms "
                f"(max {1000 * max(times):7.1f})  /healthz meanwhile: median "
                f"{1000 * statistics.median(health):5.1f} ms, worst {1000 * max(health):6.1f} ms "
                f"({len(health)} probes, {args.runs} runs)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
