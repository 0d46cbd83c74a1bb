"""Promised dates: when a citizen's result is due by the procedure's processing time.

A job of a plan request may carry ``processing_days`` (the procedure's processing time in
working days, e.g. 7 online, 12 at the counter) and ``received_on`` (the day the agency took the
dossier in; the plan's day when absent). The promised date is that many working days later,
weekends and Vietnamese public holidays skipped (:func:`tracking.expected.add_working_days`).
The board flags dossiers that will miss it; the citizen's page shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from tracking.errors import InvalidInput
from tracking.expected import add_working_days
from tracking.models import Dossier, Promise

__all__ = ["promise_of_job", "promised_dates", "record_promises"]


def promise_of_job(job: Mapping[str, Any], *, day: str, where: str) -> tuple[int, str, str] | None:
    """Return ``(processing_days, received_on, promised_date)`` of a job, or ``None``.

    Raises
    ------
    InvalidInput
        If ``processing_days`` is not a whole number of 0 to 365 days or ``received_on`` is not
        a ``YYYY-MM-DD`` date (the message names the field).
    """
    days = job.get("processing_days")
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 365:
        msg = f"{where}.processing_days: expected a whole number of working days (0-365)"
        raise InvalidInput(msg)
    received = job.get("received_on") or day
    try:
        start = date.fromisoformat(str(received)[:10])
    except ValueError:
        msg = f"{where}.received_on: expected a date as YYYY-MM-DD, got {received!r}"
        raise InvalidInput(msg) from None
    return days, start.isoformat(), add_working_days(start, days).isoformat()


def record_promises(*, session: Session, jobs: Sequence[Any], day: str) -> int:
    """Store the promised date of every job that carries a processing time (no commit).

    Parameters
    ----------
    session
        The session of the plan being stored (its dossiers are flushed).
    jobs
        The plan request's jobs.
    day
        The plan's day, the default ``received_on``.

    Returns
    -------
    int
        How many promises were stored or updated.
    """
    wanted: dict[str, tuple[int, str, str]] = {}
    for i, job in enumerate(jobs):
        if isinstance(job, Mapping) and job.get("dossier"):
            promise = promise_of_job(job, day=day, where=f"jobs[{i}]")
            if promise is not None:
                wanted[str(job["dossier"])] = promise
    if not wanted:
        return 0
    ids = dict(
        session.exec(
            select(Dossier.code, Dossier.id).where(col(Dossier.code).in_(list(wanted)))
        ).all()
    )
    for code, (days, received, promised) in wanted.items():
        dossier_id = ids.get(code)
        if dossier_id is None:
            continue
        row = session.get(Promise, dossier_id) or Promise(
            dossier_id=dossier_id, processing_days=days, received_on=received, promised_date=""
        )
        row.processing_days, row.received_on, row.promised_date = days, received, promised
        session.add(row)
    return len(wanted)


def promised_dates(*, session: Session, dossier_ids: Sequence[int]) -> dict[int, str]:
    """Return dossier id → promised date (``YYYY-MM-DD``) for those that have one."""
    out: dict[int, str] = {}
    for i in range(0, len(dossier_ids), 900):
        stmt = select(Promise.dossier_id, Promise.promised_date).where(
            col(Promise.dossier_id).in_(list(dossier_ids[i : i + 900]))
        )
        out.update(session.exec(stmt).all())
    return out
