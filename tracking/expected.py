"""Expected times people can hold buuta to, and promised dates in working days.

An expected time read from the plan and the scans (:func:`tracking.progress.next_step`) can be
wrong in two ways a citizen notices at once: it lies in the past for a step not yet done (the
shuttle was due at 09:40 and it is 21:05), or it falls in the night (02:06). :func:`hold_step`
settles a next step before anyone reads it:

* a step expected before ``now`` is **late**: ``expected`` becomes ``None`` and ``late`` true
  (the time it was expected stays in ``was_expected``), so nobody is told a time already gone;
  so is a courier's stop pushed past the day of its route (it needs a new plan);
* a step by shuttle whose run has gone without it waits for the next run of the timetable
  that leaves its site (today's, else the first one of the next working day); on a plan that
  names journeys, it is expected when the earliest journey from its site reaches its
  destination, and the step names that journey's first run;
* a time outside working hours (before :data:`WORK_START`, after :data:`WORK_END`, a weekend
  or a Vietnamese public holiday) moves to the start of the next working period.

Working days come from the ``holidays`` package's Vietnamese calendar (Tết, Hùng Kings,
30/4, 1/5, 2/9 and their substitutes), weekends skipped; :func:`add_working_days` turns a
procedure's processing time into the promised date of its result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

import holidays
from sqlmodel import Session

from routing.clock import (
    LOCAL_TZ,
    at_seconds,
    local_iso,
    local_midnight,
    parse_day_time,
    parse_plan_time,
)
from routing.journeys import earliest_journey, timetable_of
from tracking.models import Dossier, StoredPlan
from tracking.progress import next_step

__all__ = [
    "WORK_END",
    "WORK_START",
    "add_working_days",
    "held_next_step",
    "hold_step",
    "into_working_hours",
    "is_working_day",
    "next_working_day",
]

WORK_START = time(7, 0)
"""Couriers and counters start work (local time): nothing is expected earlier in the day."""
WORK_END = time(17, 30)
"""Couriers and counters stop work (local time): nothing is expected later in the day."""


@cache
def _vietnam_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day in Vietnam (Monday–Friday, not a public holiday)."""
    return day.weekday() < 5 and day not in _vietnam_holidays(day.year)


def next_working_day(day: date) -> date:
    """The first working day after ``day``."""
    following = day + timedelta(days=1)
    while not is_working_day(following):
        following += timedelta(days=1)
    return following


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (the promised date of a result).

    Parameters
    ----------
    start
        The day the dossier was received; counting starts on the next working day.
    days
        The procedure's processing time in working days (0: the same day).

    Raises
    ------
    ValueError
        If ``days`` is negative or absurdly long (over 365).
    """
    if not 0 <= days <= 365:
        msg = f"processing_days: expected 0 to 365 working days, got {days}"
        raise ValueError(msg)
    day = start
    for _ in range(days):
        day = next_working_day(day)
    return day


def into_working_hours(moment: datetime) -> datetime:
    """``moment`` if it lies in working hours, else the start of the next working period."""
    local = moment.astimezone(LOCAL_TZ)
    day = local.date()
    if is_working_day(day) and local.time() < WORK_START:
        return datetime.combine(day, WORK_START, LOCAL_TZ)
    if is_working_day(day) and local.time() <= WORK_END:
        return local
    return datetime.combine(next_working_day(day), WORK_START, LOCAL_TZ)


def _next_run_arrival(
    shuttles: Sequence[Mapping[str, Any]],
    site: str | None,
    after: datetime,
    destination: str | None = None,
) -> tuple[datetime, str | None] | None:
    """When the first run leaving ``site`` that can still be caught after ``after`` arrives, and
    its id; with a ``destination`` beyond the next site, when the earliest journey from ``site``
    through the timetable reaches it (DESIGN §4), and its first run."""
    local = after.astimezone(LOCAL_TZ)
    day = local.date()
    for _ in range(8):  # today, then up to a week of working days (Tết is the longest break)
        if is_working_day(day):
            found = _first_arrival(shuttles, site, after, day, destination)
            if found is not None:
                return found
        day = next_working_day(day)
    return None


def _first_arrival(
    shuttles: Sequence[Mapping[str, Any]],
    site: str | None,
    after: datetime,
    day: date,
    destination: str | None,
) -> tuple[datetime, str | None] | None:
    if site is not None and destination is not None and destination != site:
        from_s = max(0, int((after - local_midnight(day)).total_seconds()))
        journey = earliest_journey(timetable_of(shuttles, day), site, from_s, destination)
        if journey is None or journey.first is None:
            return None
        return at_seconds(day, journey.reaches_s), journey.first.id
    arrivals = []
    for run in shuttles:
        if run.get("from_site") != site:
            continue
        departs = parse_day_time(day, run.get("departs"))
        arrives = parse_day_time(day, run.get("arrives"))
        if departs is not None and arrives is not None and departs >= after:
            arrivals.append((datetime.combine(day, arrives.timetz()), run.get("id")))
    if not arrivals:
        return None
    arrival, run_id = min(arrivals, key=lambda a: a[0])
    return arrival, None if run_id is None else str(run_id)


def _past_the_route_day(by: Any, planned: datetime | None, expected: datetime) -> bool:
    """A courier's route is one day: a stop pushed past its planned day will not happen
    unless the dossier is planned again, so no time can honestly be promised for it."""
    if by != "courier" or planned is None:
        return False
    return expected.astimezone(LOCAL_TZ).date() > planned.astimezone(LOCAL_TZ).date()


def hold_step(
    step: Mapping[str, Any] | None,
    *,
    now: datetime,
    shuttles: Sequence[Mapping[str, Any]] = (),
    site: str | None = None,
    destination: str | None = None,
) -> dict[str, Any] | None:
    """Settle a next step's expected time (see the module docstring).

    Parameters
    ----------
    step
        A next step as :func:`tracking.progress.next_step` returns it (``expected`` an ISO
        time or ``None``, ``by`` ``courier`` or ``shuttle``), or ``None``.
    now
        The current time.
    shuttles
        The day's runs (plan request ``shuttles``), for a shuttle step whose run has gone.
    site
        The office where the dossier waits for a shuttle (status ``at_hub``), else ``None``.
    destination
        Where the dossier is bound: the new time is when the earliest journey from ``site``
        reaches it (not only the next run's arrival).

    Returns
    -------
    dict or None
        The step with ``expected`` never before ``now`` and inside working hours, ``late``
        (true when the step is overdue and no new time can be given) and ``was_expected``.
    """
    if step is None:
        return None
    out = dict(step)
    expected = parse_plan_time(out.get("expected"))
    out["late"] = False
    out["was_expected"] = out.get("expected")
    if expected is None:
        return out
    if expected < now and out.get("by") == "shuttle" and site is not None:
        # Still at the office after its run left: it goes on the next run of the timetable.
        nxt = _next_run_arrival(shuttles, site, now, destination)
        if nxt is not None:
            out["expected"] = local_iso(nxt[0])
            if "run" in out:
                out["run"] = nxt[1]
            return out
    planned = parse_plan_time(out.get("planned"))
    if expected < now or _past_the_route_day(out.get("by"), planned, expected):
        out["expected"] = None
        out["late"] = True
        return out
    out["expected"] = local_iso(into_working_hours(expected))
    return out


def held_next_step(*, session: Session, dossier: Dossier, now: datetime) -> dict[str, Any] | None:
    """A dossier's next step (:func:`tracking.progress.next_step`) settled by :func:`hold_step`.

    The stored plan's timetable is read only when a dossier waiting at an office has missed
    the run it was expected on, so an ordinary look-up costs no more than before.
    """
    step = next_step(session=session, dossier=dossier, now=now)
    if step is None:
        return None
    expected = parse_plan_time(step.get("expected"))
    waiting = dossier.status == "at_hub" and step.get("by") == "shuttle"
    shuttles: list[Mapping[str, Any]] = []
    destination = None
    if waiting and expected is not None and expected < now and dossier.plan_id:
        stored = session.get(StoredPlan, dossier.plan_id)
        found = stored.request_json.get("shuttles") if stored is not None else None
        shuttles = [s for s in found or [] if isinstance(s, Mapping)]
        if stored is not None and "run" in step and dossier.job_id is not None:
            # A plan naming journeys: the new time is the arrival at the destination.
            job = stored.request_items("jobs").get(dossier.job_id, {})
            destination = job.get("destination_site")
    return hold_step(
        step,
        now=now,
        shuttles=shuttles,
        site=dossier.place_site if waiting else None,
        destination=destination,
    )
