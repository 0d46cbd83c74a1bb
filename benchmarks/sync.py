"""Offline sync at scale: couriers' phones come back online and send a day of scans at once.

Usage::

    python benchmarks/sync.py [--couriers 200] [--events 60000] [--batch 50] [--resend 0.1]
                              [--database sqlite|postgres] [--clients 8] [--seed 0]

A simulated fleet (``tests/resilience/fleet.py``) of ``--couriers`` couriers plus four centre
counters makes about ``--events`` scans over a day: pickups collected, handed to the post
office, put on the shuttle and received at the centre; results made ready, shuttled back, taken
out and delivered (identity checked), failed and tried again, or returned. Each phone's clock
is off by up to ±5 minutes. Every phone then sends its events in shuffled order, in batches of
``--batch``, with ``--resend`` of them sent a second time, from ``--clients`` threads at once
against a real ``buuta serve`` on loopback (a SQLite file, or a throw-away PostgreSQL server).

Afterwards every dossier's status and stored events are compared with what the simulation did
(through the database, and a sample of 300 dossiers through the staff API). It prints the
events and sends, the answers by status, the time it took and the throughput, the batch
latency p50/p99, and lost / duplicated / wrong statuses, which must be 0 / 0 / 0 (exit 1
otherwise).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.fleet import (
    SendStats,
    Verdict,
    make_fleet,
    make_outboxes,
    percentile,
    register_fleet,
    send_all,
    verify,
    verify_api,
)
from harness.postgres import fresh_database, run_postgres_server
from harness.server import RunningServer, sqlite_url

EVENTS_PER_DOSSIER = 3.6
"""About how many scans the simulation makes per dossier (to size the fleet from --events)."""


@dataclass
class SyncReport:
    """What one sync run measured."""

    couriers: int
    events: int
    sends: int
    seconds: float
    stats: SendStats
    verdict: Verdict

    def lines(self) -> list[str]:
        """The figures, one per line."""
        lat = self.stats.latencies_s
        answers = ", ".join(f"{k} {v}" for k, v in sorted(self.stats.answers.items()))
        return [
            f"couriers {self.couriers}, events {self.events}, sends {self.sends} "
            f"(resent {self.sends - self.events}), answers: {answers}",
            f"took {self.seconds:.1f} s: {self.sends / self.seconds:,.0f} events sent/s; "
            f"batch latency p50 {percentile(lat, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(lat, 0.99) * 1000:.0f} ms; "
            f"failed requests {dict(self.stats.failures)}",
            f"lost {len(self.verdict.lost)} / duplicated {self.verdict.duplicated} / "
            f"wrong statuses {len(self.verdict.wrong_status)} "
            f"(unexpected rows {len(self.verdict.unexpected)}, "
            f"wrong applied/kept {len(self.verdict.wrong_applied)})",
        ]


def run_sync(
    database_url: str,
    *,
    couriers: int,
    events: int,
    batch: int = 50,
    resend: float = 0.1,
    clients: int = 8,
    seed: int = 0,
    api_sample: int = 300,
    log_path: Path | None = None,
) -> SyncReport:
    """Simulate, sync over HTTP and verify (module docstring).

    Parameters
    ----------
    database_url
        An empty database.
    couriers
        Couriers (phones).
    events
        About how many distinct scans to make.
    batch, resend, clients
        Events per request, share sent twice, sending threads.
    seed
        Seed of the simulation and the sending order.
    api_sample
        Dossiers also checked through ``GET /v1/dossiers/{code}``.
    log_path
        Where the server writes its output.
    """
    per_courier = max(1, math.ceil(events / EVENTS_PER_DOSSIER / couriers))
    fleet = make_fleet(couriers=couriers, dossiers_per_courier=per_courier, seed=seed)
    server = RunningServer(database_url, log_path=log_path, env={"PYTHONDONTWRITEBYTECODE": ""})
    server.start()
    try:
        tokens = register_fleet(database_url, fleet)
        boxes, sends = make_outboxes(fleet, tokens, resend_share=resend, seed=seed)
        started = time.monotonic()
        stats = send_all(server.base_url, boxes, batch=batch, clients=clients, deadline_s=3600)
        seconds = time.monotonic() - started
        verdict = verify(database_url, fleet)
        verify_api(server.base_url, tokens[fleet.counters[0]], fleet, verdict, sample=api_sample)
    finally:
        server.stop()
    return SyncReport(couriers, len(fleet.scans()), sends, seconds, stats, verdict)


@contextlib.contextmanager
def database(backend: str) -> Iterator[str]:
    """Yield the URL of a new empty database: a SQLite file, or one on a throw-away server."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="buuta-sync-") as tmp:
            yield sqlite_url(Path(tmp))
        return
    with run_postgres_server() as server:
        yield fresh_database(server, "sync_bench")


def main(argv: list[str] | None = None) -> int:
    """Run the sync benchmark and print its figures; exit 1 unless 0 lost / dup / wrong."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--couriers", type=int, default=200)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--resend", type=float, default=0.1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with database(args.database) as url:
        report = run_sync(
            url,
            couriers=args.couriers,
            events=args.events,
            batch=args.batch,
            resend=args.resend,
            clients=args.clients,
            seed=args.seed,
        )
    print(f"database {args.database}")
    for line in report.lines():
        print(line)
    return 0 if report.verdict.ok and not report.stats.failures else 1


if __name__ == "__main__":
    sys.exit(main())
