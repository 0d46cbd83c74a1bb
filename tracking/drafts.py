"""Drafts and publishing: a plan the dispatcher reviews before anyone else sees it.

A draft (:func:`tracking.plans.store_plan` with ``state="draft"``) is stored with its request
and nothing else: no dossier is assigned, no promise recorded, no courier's list changed, and
its requests in the book stay ``open``. :func:`publish_plan` registers it as a published plan
is registered, marks the day's published plan it was made against ``superseded``, and moves
the book's requests: those on a route become ``planned`` with the new plan's id, those a
planned request lost its route in become ``open`` again. :func:`discard_draft` forgets a draft.

A draft names the published plan it was made against (``base_plan_id``); when another plan
has been published since, publishing the draft is refused: it was reviewed against a day that
no longer exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from routing.diff import served_jobs
from tracking.db import is_sqlite, session_engine, write_lock
from tracking.errors import Conflict, NotFound
from tracking.models import StoredPlan, utcnow
from tracking.plans import NEWEST_FIRST, published_plan, register_plan
from tracking.requests import (
    booked_jobs,
    cancelled_jobs,
    mark_planned_in,
    personal_job,
    reopen_in,
)

__all__ = ["discard_draft", "drafts_of_day", "publish_plan", "supersede"]


def _lock_day(session: Session, date: str) -> None:
    """On PostgreSQL, let one transaction at a time publish a plan of ``date`` (SQLite's
    writers are already serialised by :func:`tracking.db.write_lock`)."""
    if not is_sqlite(session_engine(session)):
        key = sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))")
        session.execute(key, {"key": f"buuta-publish-{date}"})


def _draft_for_update(session: Session, plan_id: str, action: str) -> StoredPlan:
    stored = session.get(StoredPlan, plan_id)
    if stored is None:
        msg = "plan_id: no plan with this id"
        raise NotFound(msg)
    _lock_day(session, stored.date)
    session.refresh(stored, with_for_update=True)
    if stored.state != "draft":
        msg = f"plan_id: this plan is {stored.state}, not a draft: only a draft can be {action}"
        raise Conflict(msg)
    return stored


def publish_plan(
    *, session: Session, plan_id: str, published_by: str, now: datetime | None = None
) -> StoredPlan:
    """Publish a draft: register it, supersede the plan it replaces, move the book's requests.

    Everything happens in one transaction; a second publish of the same draft (a double click)
    finds it published and is refused.

    Parameters
    ----------
    session
        The database session; committed here.
    plan_id
        The draft.
    published_by
        The user publishing it.
    now
        The time of publishing (default: the clock).

    Returns
    -------
    StoredPlan
        The plan, now published.

    Raises
    ------
    NotFound
        When no plan has this id.
    Conflict
        When the plan is not a draft, another plan of its day was published after the draft
        was made, or a request it plans was cancelled since.
    InvalidInput
        When a dossier of the draft was registered in the other direction meanwhile.
    """
    now = utcnow() if now is None else now
    session.commit()
    with write_lock(session_engine(session)):
        try:
            stored = _draft_for_update(session, plan_id, "published")
            current = published_plan(session=session, date=stored.date)
            if (current.id if current is not None else None) != stored.base_plan_id:
                msg = (
                    "plan_id: the day changed since this draft (another plan was published); "
                    "re-plan"
                )
                raise Conflict(msg)
            _register_draft(session, stored, now)
            stored.state, stored.published_by, stored.published_at = "published", published_by, now
            session.add(stored)
            if current is not None:
                current.state = "superseded"
                session.add(current)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    session.refresh(stored)
    return stored


def _register_draft(session: Session, stored: StoredPlan, now: datetime) -> None:
    """Register the draft's dossiers (with the citizens' data the book keeps for its requests)
    and move the book's requests of the day."""
    plan = stored.plan()
    jobs: list[Any] = [dict(j) for j in stored.request_json.get("jobs") or []]
    gone = cancelled_jobs(session, date=stored.date, jobs=jobs)
    if gone:
        msg = (
            f"plan_id: request(s) {', '.join(gone[:5])} were cancelled after this draft was "
            "made; re-plan"
        )
        raise Conflict(msg)
    booked = booked_jobs(session, date=stored.date, jobs=jobs)
    jobs = [personal_job(booked[j["id"]], j) if j.get("id") in booked else j for j in jobs]
    register_plan(session, stored=stored, jobs=jobs, assigned=plan.job_couriers(), now=now)
    served = served_jobs(plan)
    session.flush()
    mark_planned_in(session, ids=[rid for rid in booked if rid in served], plan_id=stored.id)
    reopen_in(session, ids=[rid for rid in booked if rid not in served])


def supersede(*, session: Session, plan_id: str) -> None:
    """Mark a published plan superseded (a re-plan published at once replaced it)."""
    with write_lock(session_engine(session)):
        stored = session.get(StoredPlan, plan_id)
        if stored is not None and stored.state == "published":
            stored.state = "superseded"
            session.add(stored)
            session.commit()


def discard_draft(*, session: Session, plan_id: str) -> None:
    """Forget a draft (it registered nothing, so nothing else changes).

    Raises
    ------
    NotFound
        When no plan has this id.
    Conflict
        When the plan is not a draft: a published plan is replaced, never discarded.
    """
    session.commit()
    with write_lock(session_engine(session)):
        try:
            stored = _draft_for_update(session, plan_id, "discarded")
            session.delete(stored)
            session.commit()
        except BaseException:
            session.rollback()
            raise


def drafts_of_day(*, session: Session, date: str) -> list[StoredPlan]:
    """The drafts of a day, newest first."""
    stmt = (
        select(StoredPlan)
        .where(StoredPlan.date == date, StoredPlan.state == "draft")
        .order_by(*NEWEST_FIRST)
    )
    return list(session.exec(stmt))
