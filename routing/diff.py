"""What a draft plan changes against the published plan of its day, job by job.

A dispatcher publishes a draft only after reading what it would change for couriers and
citizens: which jobs move to another courier, which home visits move by more than
:data:`RETIME_MIN` minutes, which jobs are added and which are dropped (served in the published
plan, unassigned or absent in the draft, with the draft's reason), and how the day's figures
move. Jobs already done (a re-plan keeps them in each route's ``done`` stops) count as served.

:class:`routing.plan.Change` (a re-plan's own record) carries no times and no reason, so a
comparison is written as :class:`JobChange`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from routing.plan import Plan, Route, Stop

__all__ = ["RETIME_MIN", "JobChange", "KpiDelta", "PlanDiff", "compare_plans", "served_jobs"]

RETIME_MIN = 10
"""A home visit that moves by more than this many minutes is reported as ``retimed``."""

HOME_STOPS = ("pickup", "delivery")
"""The stops at a citizen's home: their time is the one promised to the citizen."""


@dataclass(frozen=True, slots=True, kw_only=True)
class JobChange:
    """What the draft changes for one job.

    Parameters
    ----------
    job
        The job id.
    change
        ``moved`` (another courier), ``retimed`` (the home visit starts more than
        :data:`RETIME_MIN` minutes earlier or later), ``added`` (on a route in the draft, on
        none in the published plan) or ``dropped`` (on a route in the published plan, on none
        in the draft).
    before, after
        The courier in the published plan and in the draft (``None``: on no route).
    before_start, after_start
        When the home visit begins in each plan (``None``: no home visit there).
    minutes
        For ``retimed``: how many minutes later (negative: earlier) the visit begins.
    reason, detail
        For ``dropped``: the draft's reason code and sentence (``not_in_draft`` when the draft
        does not plan the job at all).
    """

    job: str
    change: str
    before: str | None = None
    after: str | None = None
    before_start: datetime | None = None
    after_start: datetime | None = None
    minutes: int | None = None
    reason: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class KpiDelta:
    """One figure of the day in the published plan (``None``: no published plan) and the draft."""

    published: float | None
    draft: float

    @property
    def delta(self) -> float | None:
        """The draft's figure minus the published one (``None`` without a published plan)."""
        return None if self.published is None else round(self.draft - self.published, 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanDiff:
    """A draft against the published plan: the jobs it changes and the figures it moves.

    ``kpis`` holds ``served``, ``unassigned``, ``distance_km`` and ``runs_caught`` (dossiers
    handed over in time for a shuttle run today).
    """

    changes: tuple[JobChange, ...]
    kpis: dict[str, KpiDelta]

    def count(self, change: str) -> int:
        """How many jobs have this change."""
        return sum(1 for c in self.changes if c.change == change)


@dataclass(frozen=True, slots=True)
class _Visit:
    courier: str
    start: datetime | None
    done: bool


def _route_stops(route: Route) -> Iterator[tuple[Stop, bool]]:
    for stop in route.done or ():
        yield stop, True
    for stop in route.stops:
        yield stop, False


def _visits(plan: Plan) -> dict[str, _Visit]:
    """Every served job (done or still to do): its courier and when its home visit begins."""
    visits: dict[str, _Visit] = {}
    for route in plan.routes:
        for stop, done in _route_stops(route):
            for job in stop.job_ids:
                known = visits.get(job)
                home = stop.begins if stop.kind in HOME_STOPS else None
                if known is None:
                    visits[job] = _Visit(route.courier, home, done)
                elif home is not None and known.start is None:
                    visits[job] = _Visit(known.courier, home, known.done or done)
    return visits


def served_jobs(plan: Plan) -> set[str]:
    """The ids of the jobs a plan serves: on a route's stops still to do, or already done."""
    return set(_visits(plan))


def _runs_caught(plan: Plan) -> int:
    caught: set[str] = set()
    for route in plan.routes:
        for stop, _done in _route_stops(route):
            if stop.kind == "handoff" and stop.shuttle:
                caught.update(stop.jobs)
    return len(caught)


def _figures(plan: Plan) -> dict[str, float]:
    return {
        "served": len(_visits(plan)),
        "unassigned": len(plan.unassigned),
        "distance_km": round(sum(r.distance_km for r in plan.routes), 1),
        "runs_caught": _runs_caught(plan),
    }


def _minutes(before: datetime | None, after: datetime | None) -> int | None:
    if before is None or after is None:
        return None
    return round((after - before).total_seconds() / 60)


def _change(job: str, old: _Visit | None, new: _Visit | None, draft: Plan) -> JobChange | None:
    if old is None and new is None:
        return None
    if old is None:
        assert new is not None
        return JobChange(job=job, change="added", after=new.courier, after_start=new.start)
    if new is None:
        why = next((u for u in draft.unassigned if u.job == job), None)
        reason = why.reason if why is not None else "not_in_draft"
        return JobChange(
            job=job,
            change="dropped",
            before=old.courier,
            before_start=old.start,
            reason=reason,
            detail=why.detail if why is not None else None,
        )
    minutes = _minutes(old.start, new.start)
    if new.done:  # what is done stays as it was
        return None
    if new.courier != old.courier:
        change = "moved"
    elif minutes is not None and abs(minutes) > RETIME_MIN:
        change = "retimed"
    else:
        return None
    return JobChange(
        job=job,
        change=change,
        before=old.courier,
        after=new.courier,
        before_start=old.start,
        after_start=new.start,
        minutes=minutes if change == "retimed" else None,
    )


def compare_plans(published: Plan | None, draft: Plan) -> PlanDiff:
    """Compare a draft with the published plan of its day.

    Parameters
    ----------
    published
        The day's published plan, or ``None`` when nothing is published yet (then every job the
        draft serves is ``added``).
    draft
        The draft.

    Returns
    -------
    PlanDiff
        One :class:`JobChange` per job that changes (dropped first, then moved, retimed and
        added, each by job id), and the figures of both plans.
    """
    before = _visits(published) if published is not None else {}
    after = _visits(draft)
    changes = [
        change
        for job in sorted(set(before) | set(after))
        if (change := _change(job, before.get(job), after.get(job), draft)) is not None
    ]
    order = {"dropped": 0, "moved": 1, "retimed": 2, "added": 3}
    changes.sort(key=lambda c: (order[c.change], c.job))
    old = _figures(published) if published is not None else {}
    kpis = {
        name: KpiDelta(published=old.get(name), draft=value)
        for name, value in _figures(draft).items()
    }
    return PlanDiff(changes=tuple(changes), kpis=kpis)
