"""Throughput of the citizens' outbox through a slow gateway.

Usage::

    python benchmarks/outbox.py [--messages 400] [--delay-ms 200] [--workers 1,8,32]

A sample Cà Mau day is stored and its returns are marked ``result_ready`` through the real
ingestion, so :func:`tracking.outbox.collect_messages` queues one message each. A local gateway
(``harness/receiver.py``) answers every message after ``--delay-ms``. For each number of
parallel sends it times :func:`tracking.outbox.send_due` rounds until every message is sent and
prints messages per second, checking that the gateway received each message exactly once.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tracking  # noqa: E402
from harness.receiver import receiving  # noqa: E402
from harness.server import sqlite_url  # noqa: E402
from routing.sample_day import camau_day  # noqa: E402
from tracking.models import OutboxMessage  # noqa: E402
from tracking.outbox import HttpGateway, collect_messages, send_due  # noqa: E402

VN = timezone(timedelta(hours=7))


def _queue(session: Session, messages: int) -> int:
    """Store a day with ``messages`` returns, mark them ready, queue their messages."""
    request = camau_day(jobs=messages * 2 + 10, seed=3)
    returns = [j for j in request["jobs"] if j["kind"] == "return"][:messages]
    request["jobs"] = returns
    plan = {"plan_id": f"bench-{uuid.uuid4().hex[:8]}", "date": request["date"],
            "status": "partial", "routes": [],
            "unassigned": [{"job": j["id"], "reason": "no_time"} for j in returns]}  # fmt: skip
    tracking.store_plan(session=session, request=request, plan=plan, created_by="bench")
    staff, _ = tracking.create_user(session=session, name="bench-staff", role="staff")
    now = datetime.now(VN)
    events = [
        tracking.ScanInput(str(uuid.uuid4()), j["dossier"], "result_ready", now,
                           site=j["origin_site"])
        for j in returns
    ]  # fmt: skip
    for i in range(0, len(events), 500):
        tracking.ingest_scans(session=session, events=events[i : i + 500], actor=staff, now=now)
    return collect_messages(session=session, now=now)


def _reset(session: Session) -> None:
    session.execute(sa.update(OutboxMessage).values(status="pending", attempts=0))
    session.execute(sa.update(OutboxMessage).values(next_attempt_at=datetime.now(VN)))
    session.commit()


def main() -> None:
    """Queue the messages, then time their sending at each level of parallelism."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--delay-ms", type=float, default=200.0)
    parser.add_argument("--workers", default="1,8,32")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = tracking.make_engine(sqlite_url(Path(tmp)))
        tracking.upgrade(engine)
        with Session(engine) as session:
            queued = _queue(session, args.messages)
        print(f"{queued} messages queued; gateway answers after {args.delay_ms:.0f} ms")
        for workers in (int(w) for w in args.workers.split(",")):
            with Session(engine) as session, receiving(delay_s=args.delay_ms / 1000) as gateway:
                _reset(session)
                sender = HttpGateway(gateway.url, timeout_s=30)
                start = time.perf_counter()
                sent = retried = 0
                while sent < queued:
                    done = send_due(session=session, sender=sender, now=datetime.now(VN),
                                    limit=max(200, workers * 4), workers=workers)  # fmt: skip
                    sent += done["sent"]
                    retried += done["retry"]
                    if not any(done.values()):
                        break
                taken = time.perf_counter() - start
                ids = [b["id"] for b in gateway.delivered()]
            twice = len(ids) - len(set(ids))
            print(f"workers {workers:3d}: {sent} sent in {taken:.1f} s = {sent / taken:.1f} "
                  f"messages/s; {retried} to retry later; received twice: {twice}")  # fmt: skip
        engine.dispose()


if __name__ == "__main__":
    main()
