"""Carry-over (DESIGN §8): requests not done by the end of their day move to the next working day.

When a day's work has ended, each of its requests still ``open`` (never planned, or left
unassigned) or ``planned`` but not done by the scans is **carried**: the record keeps its day
and becomes ``carried`` (naming its continuation in ``carried_to``), and a new ``open`` request
on the next working day (weekends and Vietnamese public holidays skipped, as for promised dates)
continues it, with the same job, citizen, procedure and **due date**, and names the record it
continues in ``carried_from``. The book thus shows what happened on each day, and the new day is
planned from open requests as any other.

Its id is the first request's id with the new day appended (``RQ-0001@2026-11-30``), so carrying
over is idempotent: a request already carried is no longer open or planned, and a continuation
already stored is not made twice. A planned request whose dossier was handled (a pickup
collected, a return delivered) becomes ``done``; a return sent back to the agency becomes
``failed``.

Carried requests whose due date is near (due by the first working day after their new day)
come first in the new day's plan: :func:`mark_priorities` gives their jobs ``"priority":
"high"``, which raises the optimizer's penalty for leaving them out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from routing.clock import LOCAL_TZ
from tracking.db import is_sqlite, session_engine, write_lock
from tracking.errors import InvalidInput
from tracking.expected import WORK_END, next_working_day
from tracking.models import BookedRequest, Dossier, utcnow

__all__ = [
    "CARRY_ACTOR",
    "CarryOver",
    "carry_over",
    "carry_over_before",
    "last_ended_day",
    "mark_priorities",
]

CARRY_ACTOR = "carry-over"
"""The ``created_by`` of a request made by carrying one over."""
WRITE_ATTEMPTS = 2
"""Tries to close the days when a concurrent carry-over stores the same continuation first."""
_ID_LIMIT = 100
"""Longest request id the book stores."""
_LIVE = ("open", "planned")
"""Statuses of a request whose day's work may have left it undone."""
_RETURN_OUTCOMES = {"delivered": "done", "returned": "failed"}
"""A return's dossier status that settles its request: delivered, or sent back to the agency."""


@dataclass
class CarryOver:
    """What one carry-over did: the day closed, where requests went, and how many of each."""

    through: str
    carried: list[tuple[str, str]] = field(default_factory=list)
    """``(old id, new id)`` of every request carried, by old id."""
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many requests were carried, marked done and marked failed."""
        return {"carried": len(self.carried), "done": len(self.done), "failed": len(self.failed)}


def last_ended_day(now: datetime) -> date:
    """The latest day whose work has ended at ``now``: today after 17:30 in Vietnam, else
    yesterday."""
    local = now.astimezone(LOCAL_TZ)
    today = local.date()
    return today if local.time() >= WORK_END else today - timedelta(days=1)


def carried_id(request_id: str, root: str | None, day: str) -> str:
    """The id of the continuation on ``day`` of a request (``root``: the first request's id).

    The first request's id with ``@day`` appended; an id too long for the book keeps its start
    and a short hash of the rest, so that it stays unique and the same on every run.
    """
    base = root or request_id
    text = f"{base}@{day}"
    if len(text) <= _ID_LIMIT:
        return text
    digest = hashlib.sha256(base.encode()).hexdigest()[:16]
    keep = _ID_LIMIT - len(digest) - len(day) - 2
    return f"{base[:keep]}~{digest}@{day}"


def _root(row: BookedRequest) -> str | None:
    """The first request's id of a continuation (its id without the last ``@day``)."""
    if row.carried_from is None or "@" not in row.id:
        return None
    return row.id.rsplit("@", 1)[0]


def _outcome(row: BookedRequest, statuses: Mapping[str, str]) -> str | None:
    """``done`` or ``failed`` when the scans settled a planned request's dossier, else None."""
    if row.status != "planned":
        return None
    status = statuses.get(row.dossier)
    if status is None:
        return None
    if row.kind == "pickup":
        return "done" if status != "requested" else None  # collected from the home, or further
    return _RETURN_OUTCOMES.get(status)


def _dossier_statuses(session: Session, rows: Sequence[BookedRequest]) -> dict[str, str]:
    codes = sorted({row.dossier for row in rows if row.status == "planned"})
    found: dict[str, str] = {}
    for start in range(0, len(codes), 500):
        stmt = select(Dossier.code, Dossier.status).where(
            col(Dossier.code).in_(codes[start : start + 500])
        )
        found.update((code, status) for code, status in session.exec(stmt))
    return found


def _continuation(row: BookedRequest, new_id: str, day: str, now: datetime) -> BookedRequest:
    copied = {
        name: getattr(row, name)
        for name in (
            "kind", "dossier", "procedure", "due", "job_json", "geocoded_json", "address",
            "citizen_name", "citizen_phone", "salt", "id_hash", "id_last4_hash", "content_hash",
        )
    }  # fmt: skip
    return BookedRequest(
        id=new_id,
        date=day,
        status="open",
        carried_from=row.id,
        created_by=CARRY_ACTOR,
        created_at=now,
        updated_at=now,
        **copied,
    )


def carry_over(*, session: Session, through: date, today: date | None = None) -> CarryOver:
    """Close every day up to ``through``: carry its undone requests to the next working day.

    Parameters
    ----------
    session
        The database session; committed here.
    through
        The last day to close; every request dated on or before it that is still ``open``, or
        ``planned`` and not done, moves to the first working day after ``through``.
    today
        Today in Vietnam (for the check below); defaults to the clock.

    Returns
    -------
    CarryOver
        What was carried (old and new ids), and what was found done or failed.

    Raises
    ------
    InvalidInput
        If ``through`` is after today: a day not begun cannot be closed.
    """
    today = today or datetime.now(LOCAL_TZ).date()
    if through > today:
        msg = f"date: {through.isoformat()} has not ended yet; carry over a day up to today"
        raise InvalidInput(msg)
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            return _close_days(session, through)
        except sa.exc.IntegrityError:
            # Another carry-over stored the same continuation first (PostgreSQL): the next
            # attempt finds its requests already carried.
            session.rollback()
            if attempt == WRITE_ATTEMPTS:
                raise
    raise AssertionError  # unreachable: the loop returns or raises


def _close_days(session: Session, through: date) -> CarryOver:
    target = next_working_day(through).isoformat()
    result = CarryOver(through.isoformat())
    session.rollback()  # read what is stored now, in the writing transaction
    engine = session_engine(session)
    with write_lock(engine):
        if is_sqlite(engine):
            # Take SQLite's write lock before reading (a write that changes nothing): a
            # transaction that read first could not write once another process (the server,
            # the command) has written meanwhile, and SQLite would refuse it at once.
            session.execute(sa.update(BookedRequest).where(sa.false()).values(status="open"))
        stmt = select(BookedRequest).where(
            col(BookedRequest.status).in_(_LIVE), col(BookedRequest.date) <= through.isoformat()
        )
        # Locked (PostgreSQL), so that two carry-overs at once close each request once.
        rows = list(session.exec(stmt.order_by(col(BookedRequest.id)).with_for_update()))
        statuses = _dossier_statuses(session, rows)
        now = utcnow()
        for row in rows:
            outcome = _outcome(row, statuses)
            _close(session, row, outcome=outcome, day=target, now=now, result=result)
        session.commit()
    return result


def _close(
    session: Session,
    row: BookedRequest,
    *,
    outcome: str | None,
    day: str,
    now: datetime,
    result: CarryOver,
) -> None:
    """Mark one request done or failed, or carry it to ``day``."""
    row.updated_at = now
    if outcome is not None:
        row.status = outcome
        (result.done if outcome == "done" else result.failed).append(row.id)
        session.add(row)
        return
    new_id = carried_id(row.id, _root(row), day)
    if session.get(BookedRequest, new_id) is None:
        session.add(_continuation(row, new_id, day, now))
    row.status, row.carried_to = "carried", new_id
    session.add(row)
    result.carried.append((row.id, new_id))


def mark_priorities(*, session: Session, request: Mapping[str, Any], day: str) -> list[str]:
    """Give ``"priority": "high"`` to the jobs of carried requests whose due date is near.

    A carried request is near its due date when it is due by the first working day after
    ``day`` (or already overdue). The plan request's jobs are changed in place.

    Returns
    -------
    list of str
        The ids of the jobs raised, in the request's order.
    """
    jobs = [j for j in request.get("jobs") or [] if isinstance(j, dict)]
    ids = [str(j["id"]) for j in jobs]
    carried: dict[str, BookedRequest] = {}
    for start in range(0, len(ids), 500):
        stmt = select(BookedRequest).where(
            col(BookedRequest.id).in_(ids[start : start + 500]),
            col(BookedRequest.carried_from).is_not(None),
        )
        carried.update((row.id, row) for row in session.exec(stmt))
    near = next_working_day(date.fromisoformat(day)).isoformat()
    raised = []
    for job in jobs:
        row = carried.get(str(job["id"]))
        if row is not None and row.due and row.due[:10] <= near:
            job["priority"] = "high"
            raised.append(row.id)
    return raised


def carry_over_before(session: Session, day: str, *, now: datetime | None = None) -> CarryOver:
    """Close the days before ``day`` whose work has ended (before planning ``day``).

    Every request of an earlier, ended day still undone moves to its next working day, so the
    day about to be planned holds the requests carried to it. Idempotent.
    """
    now = now or datetime.now(LOCAL_TZ)
    through = min(date.fromisoformat(day) - timedelta(days=1), last_ended_day(now))
    return carry_over(session=session, through=through, today=now.astimezone(LOCAL_TZ).date())
