"""Mixed load on loopback: scan ingest, public lookups, staff reads and a solve, all at once.

Usage::

    python benchmarks/load.py [--duration 60] [--database sqlite|postgres] [--lookup-rate 20]
                              [--ingest-rate 200] [--ingest-clients 2] [--batch 50]
                              [--solve-jobs 60] [--solve-time-limit 20]

A real ``buuta serve`` (127.0.0.1 only) holds a simulated fleet's dossiers
(``tests/resilience/fleet.py``). For ``--duration`` seconds, in bounded loops that stop at the
deadline:

- ``ingest``: ``--ingest-clients`` threads send phones' scans in batches of ``--batch`` (the
  batch is one request), at up to ``--ingest-rate`` scans a second in total;
- ``lookup``: citizens look up their dossiers (``GET /v1/track/{code}`` with the right phone
  digits) at about ``--lookup-rate`` a second in total, from four threads;
- ``staff``: a centre's screen reads a dossier's full history (``GET /v1/dossiers/{code}``)
  about twice a second;
- ``solve``: a dispatcher plans a sample Cà Mau day of ``--solve-jobs`` jobs
  (``POST /v1/plans``, solver time limit ``--solve-time-limit``), again and again.

With ``--public-server`` (PostgreSQL), a second API process on the same database serves the
lookups and staff reads while the first takes ingest and solves, as a reverse proxy can route
them. The public lookup limit per client address is raised for the run (every simulated
citizen comes from 127.0.0.1). It prints, per kind of request: count, errors, throughput per
second, and p50/p99 latency in milliseconds; and whether lookups kept p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from harness.fleet import (
    Fleet,
    Outbox,
    make_fleet,
    make_outboxes,
    percentile,
    register_fleet,
)
from harness.postgres import fresh_database, run_postgres_server
from harness.server import RunningServer, sqlite_url
from routing.sample_day import camau_day

LOOKUP_P99_TARGET_MS = 100.0


@dataclass
class Kind:
    """Latencies (seconds), errors and units of work of one kind of request."""

    latencies_s: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    units: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, *, units: int = 1, error: str | None = None) -> None:
        """Record one request."""
        with self.lock:
            if error is None:
                self.latencies_s.append(seconds)
                self.units += units
            else:
                self.errors[error] += 1


@dataclass
class LoadReport:
    """What one load run measured, per kind of request."""

    duration_s: float
    kinds: dict[str, Kind]

    def lines(self) -> list[str]:
        """One line per kind: requests, errors, throughput, p50/p99 in ms."""
        out = []
        for name, kind in self.kinds.items():
            lat = kind.latencies_s
            unit = " (scans)" if name == "ingest" else ""
            out.append(
                f"{name:7s} requests {len(lat):6d}, errors {sum(kind.errors.values()):3d}, "
                f"{len(lat) / self.duration_s:7.1f} req/s, {kind.units / self.duration_s:7.1f} "
                f"units/s{unit}, p50 {percentile(lat, 0.5) * 1000:7.1f} ms, "
                f"p99 {percentile(lat, 0.99) * 1000:7.1f} ms"
                + (f" {dict(kind.errors)}" if kind.errors else "")
            )
        lookups = self.kinds["lookup"].latencies_s
        p99 = percentile(lookups, 0.99) * 1000
        verdict = "met" if lookups and p99 < LOOKUP_P99_TARGET_MS else "NOT met"
        out.append(f"lookup p99 {p99:.1f} ms: target < {LOOKUP_P99_TARGET_MS:g} ms {verdict}")
        return out

    @property
    def lookup_p99_ms(self) -> float:
        """The lookups' p99 latency in milliseconds."""
        return percentile(self.kinds["lookup"].latencies_s, 0.99) * 1000


def _ingest(
    url: str, boxes: list[Outbox], batch: int, deadline: float, kind: Kind, *, period_s: float
) -> None:
    """Send the boxes' events in batches, one batch every ``period_s`` at most."""
    next_at = time.monotonic()
    with httpx.Client(timeout=60) as client:
        for box in boxes:
            while box.pending and time.monotonic() < deadline:
                pause = min(next_at, deadline) - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                if time.monotonic() >= deadline:
                    return
                next_at = max(next_at + period_s, time.monotonic() - period_s)
                events = box.pending[:batch]
                started = time.perf_counter()
                try:
                    answer = client.post(
                        f"{url}/v1/scans",
                        json=events,
                        headers={"Authorization": f"Bearer {box.token}"},
                    )
                except httpx.HTTPError as exc:
                    kind.add(0, error=type(exc).__name__)
                    continue
                elapsed = time.perf_counter() - started
                if answer.status_code == 200:
                    box.pending = box.pending[len(events) :]
                    kind.add(elapsed, units=len(events))
                else:
                    kind.add(elapsed, error=f"HTTP {answer.status_code}")
            if time.monotonic() >= deadline:
                return


def _paced(deadline: float, rate_s: float, kind: Kind, request: object, seed: int) -> None:
    """Send ``request(client, rng)`` about ``rate_s`` times a second until ``deadline``."""
    rng = random.Random(seed)
    period = 1.0 / rate_s
    next_at = time.monotonic()
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                answer = request(client, rng)  # type: ignore[operator]
            except httpx.HTTPError as exc:
                kind.add(0, error=type(exc).__name__)
            else:
                elapsed = time.perf_counter() - started
                ok = answer.status_code == 200
                kind.add(elapsed, error=None if ok else f"HTTP {answer.status_code}")
            next_at += rng.expovariate(1.0 / period)
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(min(pause, max(0.0, deadline - time.monotonic())))


def _solves(
    url: str, token: str, *, jobs: int, time_limit_s: float, deadline: float, kind: Kind
) -> None:
    seed = 0
    with httpx.Client(timeout=time_limit_s + 120) as client:
        while time.monotonic() + time_limit_s < deadline:
            seed += 1
            day = camau_day(jobs=jobs, seed=100 + seed)
            day["options"] = {"time_limit_s": time_limit_s}
            started = time.perf_counter()
            try:
                answer = client.post(
                    f"{url}/v1/plans", json=day, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.HTTPError as exc:
                kind.add(0, error=type(exc).__name__)
                continue
            elapsed = time.perf_counter() - started
            ok = answer.status_code == 201
            kind.add(elapsed, error=None if ok else f"HTTP {answer.status_code}")


def run_load(
    server: RunningServer,
    *,
    fleet: Fleet,
    tokens: dict[str, str],
    duration_s: float = 60.0,
    lookup_rate_s: float = 20.0,
    ingest_clients: int = 2,
    ingest_rate_s: float = 200.0,
    batch: int = 50,
    solve_jobs: int = 60,
    solve_time_limit_s: float = 20.0,
    public: RunningServer | None = None,
) -> LoadReport:
    """Drive the mixed load against ``server`` for ``duration_s`` seconds (module docstring).

    With ``public`` (a second server on the same PostgreSQL database), citizens' lookups and
    staff reads go to it, and ingest and solves to ``server``.
    """
    url = server.base_url
    read_url = public.base_url if public is not None else url
    boxes, _sends = make_outboxes(fleet, tokens, resend_share=0.1)
    codes = sorted(fleet.journeys)
    phones = {str(j["dossier"]): str(j["citizen"]["phone"]) for j in fleet.request["jobs"]}
    staff = tokens[fleet.counters[0]]
    kinds = {name: Kind() for name in ("ingest", "lookup", "staff", "solve")}
    deadline = time.monotonic() + duration_s

    def lookup(client: httpx.Client, rng: random.Random) -> httpx.Response:
        code = rng.choice(codes)
        return client.get(f"{read_url}/v1/track/{code}", params={"phone_last4": phones[code][-4:]})

    def staff_read(client: httpx.Client, rng: random.Random) -> httpx.Response:
        code = rng.choice(codes)
        return client.get(
            f"{read_url}/v1/dossiers/{code}", headers={"Authorization": f"Bearer {staff}"}
        )

    threads = [
        threading.Thread(
            target=_ingest,
            args=(url, boxes[i::ingest_clients], batch, deadline, kinds["ingest"]),
            kwargs={"period_s": batch * ingest_clients / ingest_rate_s},
        )
        for i in range(ingest_clients)
    ]
    threads += [
        threading.Thread(
            target=_paced, args=(deadline, lookup_rate_s / 4, kinds["lookup"], lookup, n)
        )
        for n in range(4)
    ]
    threads.append(
        threading.Thread(target=_paced, args=(deadline, 2.0, kinds["staff"], staff_read, 99))
    )
    threads.append(
        threading.Thread(
            target=_solves,
            args=(url, tokens["dispatch-0"]),
            kwargs={
                "jobs": solve_jobs,
                "time_limit_s": solve_time_limit_s,
                "deadline": deadline,
                "kind": kinds["solve"],
            },
        )
    )
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadReport(time.monotonic() - started, kinds)


def main(argv: list[str] | None = None) -> int:
    """Run the mixed load and print its figures; exit 1 if lookups' p99 missed 100 ms."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--lookup-rate", type=float, default=20.0)
    parser.add_argument("--ingest-clients", type=int, default=2)
    parser.add_argument("--ingest-rate", type=float, default=200.0)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--solve-jobs", type=int, default=60)
    parser.add_argument("--solve-time-limit", type=float, default=20.0)
    parser.add_argument(
        "--public-server",
        action="store_true",
        help="PostgreSQL only: serve lookups and staff reads from a second API process",
    )
    args = parser.parse_args(argv)
    if args.public_server and args.database != "postgres":
        parser.error("--public-server needs --database postgres (two processes, one database)")
    env = {"PYTHONDONTWRITEBYTECODE": "", "BUUTA_TRACK_LOOKUPS_PER_MINUTE": "1000000"}
    # Enough scans for the ingest rate over the whole run (about 3.6 scans a dossier).
    per_courier = max(10, round(args.ingest_rate * args.duration * 1.2 / 3.6 / 40))
    fleet = make_fleet(couriers=40, dossiers_per_courier=per_courier, seed=2)
    with tempfile.TemporaryDirectory(prefix="buuta-load-") as tmp:
        if args.database == "sqlite":
            report = _run(sqlite_url(Path(tmp)), env, fleet, args, Path(tmp))
        else:
            with run_postgres_server() as pg:
                report = _run(fresh_database(pg, "load"), env, fleet, args, Path(tmp))
    layout = "two API processes (reads | writes)" if args.public_server else "one API process"
    print(f"database {args.database}, {layout}, {args.duration:g} s on 127.0.0.1")
    for line in report.lines():
        print(line)
    return 0 if report.lookup_p99_ms < LOOKUP_P99_TARGET_MS else 1


def _run(
    url: str, env: dict[str, str], fleet: Fleet, args: argparse.Namespace, tmp: Path
) -> LoadReport:
    server = RunningServer(url, env=env, log_path=tmp / "server.log")
    server.start()
    public = None
    if args.public_server:
        public = RunningServer(url, env=env, log_path=tmp / "public.log")
        public.start()
    try:
        tokens = register_fleet(url, fleet)
        return run_load(
            server,
            fleet=fleet,
            tokens=tokens,
            duration_s=args.duration,
            lookup_rate_s=args.lookup_rate,
            ingest_clients=args.ingest_clients,
            ingest_rate_s=args.ingest_rate,
            batch=args.batch,
            solve_jobs=args.solve_jobs,
            solve_time_limit_s=args.solve_time_limit,
            public=public,
        )
    finally:
        server.stop()
        if public is not None:
            public.stop()


if __name__ == "__main__":
    sys.exit(main())
