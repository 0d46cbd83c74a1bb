"""CPU time of one citizen's public lookup, in-process, on a day prepared like the load run's.

Usage::

    python -m tests.tracking.lookup_bench [--lookups 300] [--profile]

A SQLite file holds the load benchmark's simulated fleet (``benchmarks/load.py``: 40 couriers,
100 dossiers each, district plans of 10 couriers) with about half of each phone's scans
ingested, as in the middle of the day. It times ``tracking.views.public_track`` on random
dossiers with the right phone digits (process CPU time and wall time per lookup) and prints
the median and p99; with ``--profile`` it also prints the top functions by cumulative time.
Bounded: a fixed number of lookups.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlmodel import Session, select

from tests.resilience.fleet import make_fleet, make_outboxes, percentile, register_fleet
from tests.support.server import sqlite_url
from tracking.db import make_engine, upgrade
from tracking.models import User
from tracking.scans import ScanInput, ingest_scans
from tracking.views import public_track


def main(argv: list[str] | None = None) -> int:
    """Prepare the day, time the lookups and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    fleet = make_fleet(couriers=40, dossiers_per_courier=100, seed=2)
    with tempfile.TemporaryDirectory(prefix="buuta-lookup-") as tmp:
        url = sqlite_url(Path(tmp))
        engine = make_engine(url)
        upgrade(engine)
        tokens = register_fleet(url, fleet)
        boxes, _ = make_outboxes(fleet, tokens, resend_share=0.0)
        with Session(engine) as session:
            users = {u.name: u for u in session.exec(select(User))}
            for box in boxes:
                half = box.pending[: len(box.pending) // 2]
                for start in range(0, len(half), 50):
                    events = [ScanInput.from_json(e) for e in half[start : start + 50]]
                    ingest_scans(session=session, events=events, actor=users[box.sender])
        codes = sorted(fleet.journeys)
        phones = {str(j["dossier"]): str(j["citizen"]["phone"]) for j in fleet.request["jobs"]}
        rng = random.Random(7)
        picks = [rng.choice(codes) for _ in range(args.lookups)]
        cpu_s: list[float] = []
        wall_s: list[float] = []
        profiler = cProfile.Profile() if args.profile else None
        with Session(engine) as session:
            for code in picks[:20]:  # warm up imports and caches
                public_track(session=session, code=code, phone_last4=phones[code][-4:])
            for code in picks:
                session.expire_all()
                c0, w0 = time.process_time(), time.perf_counter()
                if profiler is not None:
                    profiler.enable()
                view = public_track(session=session, code=code, phone_last4=phones[code][-4:])
                if profiler is not None:
                    profiler.disable()
                cpu_s.append(time.process_time() - c0)
                wall_s.append(time.perf_counter() - w0)
                if view is None:
                    print(f"lookup of {code} found nothing", file=sys.stderr)
                    return 1
        engine.dispose()
    print(
        f"public_track x{len(picks)}: CPU median {percentile(cpu_s, 0.5) * 1000:.2f} ms, "
        f"p99 {percentile(cpu_s, 0.99) * 1000:.2f} ms; wall median "
        f"{percentile(wall_s, 0.5) * 1000:.2f} ms, p99 {percentile(wall_s, 0.99) * 1000:.2f} ms"
    )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
