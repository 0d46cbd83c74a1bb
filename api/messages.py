"""``buuta messages``: send the citizens' messages of the outbox through an HTTP gateway.

Every ``interval_s`` seconds it queues the messages of new scans
(:func:`tracking.outbox.collect_messages`) and sends those due
(:func:`tracking.outbox.send_due`), retrying temporary failures with back-off. Run one per
database (several are safe on PostgreSQL, which leases rows with ``SKIP LOCKED``).
"""

from __future__ import annotations

import logging
import threading

from sqlmodel import Session

from api.settings import Settings
from tracking.db import make_engine, upgrade
from tracking.models import utcnow
from tracking.outbox import HttpGateway, collect_messages, send_due

__all__ = ["run_messages"]

log = logging.getLogger("buuta.messages")


def run_messages(
    settings: Settings,
    *,
    gateway: HttpGateway,
    interval_s: float = 10.0,
    workers: int = 8,
    once: bool = False,
    stop: threading.Event | None = None,
) -> dict[str, int]:
    """Queue and send messages until ``stop`` is set (or one round with ``once``).

    Returns
    -------
    dict
        Totals: ``queued``, ``sent``, ``retry``, ``failed``.
    """
    stop = stop or threading.Event()
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    totals = {"queued": 0, "sent": 0, "retry": 0, "failed": 0}
    try:
        while True:
            with Session(engine) as session:
                totals["queued"] += collect_messages(session=session, now=utcnow())
                done = send_due(session=session, sender=gateway, now=utcnow(), workers=workers)
            for key, value in done.items():
                totals[key] += value
            if any(done.values()):
                log.info("messages: %s", done)
            if once or stop.wait(interval_s):
                return totals
    finally:
        engine.dispose()
