"""The centre staff's board of a day: dossiers by stage, and those at risk with what to do.

The day's dossiers are those of its newest stored plan (routes and unassigned jobs). Each is
counted at the stage of its status, read from the status the dossier row caches (ingestion keeps
it equal to the fold of its scans), so the board of a province day of 2,000 dossiers is a few
queries and one pass over the plan. Expected times of the couriers' stops come from
:func:`tracking.eta.route_etas`, with the stops done read from the same statuses.

A dossier is **at risk** (one :class:`Risk` per reason, most urgent first) when:

``unassigned``
    the plan could not put it on any route (the optimizer's reason is kept in ``detail``);
``run_missed``
    a pickup is not at its office (or still there) after the cut-off of the run it was planned
    on: it waits for the next run of the timetable, or for tomorrow;
``run_at_risk``
    a pickup is expected at its office after that cut-off (the courier is running late);
``due_passed`` / ``due_at_risk``
    a result is not returned and its legal due date has passed, or is today and the return is
    expected after working hours, has failed, or is on no route;
``promised_at_risk``
    the result's promised date (processing time in working days) has passed, or is today
    while the dossier has not come back;
``delivery_failed``
    an attempt to return the result failed (the courier's reason in ``detail``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from routing.clock import LOCAL_TZ, parse_day_time
from routing.plan import Stop
from tracking.db import session_engine
from tracking.eta import StopEta, route_etas
from tracking.expected import WORK_END
from tracking.lifecycle import Status
from tracking.models import Dossier, ScanEvent, StoredPlan
from tracking.plans import NEWEST_FIRST, check_date
from tracking.progress import cached_stop_state
from tracking.promises import promised_dates

__all__ = ["RISK_ORDER", "STAGES", "Board", "BoardDossier", "Risk", "day_board"]

STAGES: tuple[str, ...] = tuple(s.value for s in Status)
"""The stages of the board, in the life cycle's order."""

RISK_ORDER: tuple[str, ...] = (
    "due_passed",
    "promised_at_risk",
    "due_at_risk",
    "delivery_failed",
    "run_missed",
    "run_at_risk",
    "unassigned",
)
"""Reasons a dossier is at risk, most urgent first."""

_FINAL = frozenset({Status.DELIVERED.value, Status.RETURNED.value})
_NOT_AT_OFFICE = frozenset({Status.REQUESTED.value, Status.COLLECTED.value})
_LEFT_BEHIND_AFTER = timedelta(minutes=15)
"""A dossier still scanned at its office this long after its run departed was left behind."""


@dataclass(frozen=True, slots=True)
class BoardDossier:
    """One dossier of the day as the board lists it."""

    code: str
    direction: str
    status: str
    status_at: datetime | None
    courier: str | None
    site: str | None
    due_date: str | None
    promised_date: str | None


@dataclass(frozen=True, slots=True)
class Risk:
    """Why one dossier is at risk, and the facts staff need to act.

    Attributes
    ----------
    dossier
        The dossier.
    reason
        One of :data:`RISK_ORDER`.
    run
        The run concerned (planned run, or the next one to put it on), if any.
    deadline
        The cut-off, due date or promised date that is missed or at risk (local time).
    expected
        When the courier is now expected at the stop concerned, if known.
    next_run, next_run_departs
        For a missed run: the next run from the same office today, and when it leaves.
    detail
        The optimizer's reason code (``unassigned``) or the courier's reason (a failure).
    """

    dossier: BoardDossier
    reason: str
    run: str | None = None
    deadline: datetime | None = None
    expected: datetime | None = None
    next_run: str | None = None
    next_run_departs: datetime | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Board:
    """A day's board: the plan it reads, dossiers by stage, and the risks."""

    date: str
    now: datetime
    plan_id: str | None
    stages: dict[str, list[BoardDossier]] = field(default_factory=dict)
    risks: list[Risk] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many dossiers the day carries."""
        return sum(len(v) for v in self.stages.values())

    @property
    def at_risk(self) -> int:
        """How many dossiers have at least one risk."""
        return len({r.dossier.code for r in self.risks})


_COLUMNS = (
    Dossier.id,
    Dossier.code,
    Dossier.direction,
    Dossier.status,
    Dossier.status_at,
    Dossier.courier_id,
    Dossier.place_site,
    Dossier.due_date,
)


def _load_dossiers(session: Session, codes: Sequence[str]) -> dict[str, tuple[int, BoardDossier]]:
    found: list[tuple[Any, ...]] = []
    for i in range(0, len(codes), 900):
        stmt = sa.select(*(col(c) for c in _COLUMNS)).where(
            col(Dossier.code).in_(list(codes[i : i + 900]))
        )
        found.extend(tuple(r) for r in session.execute(stmt))
    promised = promised_dates(session=session, dossier_ids=[r[0] for r in found])
    return {
        code: (id_, BoardDossier(code, way, status, at, courier, site, due, promised.get(id_)))
        for id_, code, way, status, at, courier, site, due in found
    }


def _stop_jobs(stop: Stop) -> list[str]:
    ids = [] if stop.job is None else [stop.job]
    ids.extend(stop.jobs)
    return ids


def _stop_finished(stop: Stop, rows: Sequence[BoardDossier]) -> tuple[str, datetime] | None:
    """Whether a stop is done or failed, from its dossiers' cached statuses (and when)."""
    times = [r.status_at for r in rows if r.status_at is not None]
    state = cached_stop_state(stop.kind, [Status(r.status) for r in rows])
    return None if state is None or not times else (state, max(times))


def _route_expected(
    stops: Sequence[Stop],
    jobs_code: Mapping[str, str],
    rows: Mapping[str, tuple[int, BoardDossier]],
    now: datetime,
) -> dict[tuple[str, str], StopEta]:
    """(job, stop type) → the stop's expected times, for one courier's route."""
    done: dict[int, datetime] = {}
    failed: dict[int, datetime] = {}
    for i, stop in enumerate(stops):
        found = [rows[jobs_code[j]][1] for j in _stop_jobs(stop) if jobs_code.get(j) in rows]
        state = _stop_finished(stop, found)
        if state is not None:
            (done if state[0] == "done" else failed)[i] = state[1]
    etas = route_etas(stops, done=done, failed=failed, now=now)
    out: dict[tuple[str, str], StopEta] = {}
    for eta, stop in zip(etas, stops, strict=True):
        for job in _stop_jobs(stop):
            out.setdefault((job, stop.kind), eta)
    return out


@dataclass
class _Day:
    """What the risk rules read of a plan (built once per board)."""

    date: str
    now: datetime
    jobs: dict[str, dict[str, Any]]
    run_clock: dict[str, tuple[datetime, datetime, str | None]]
    """Each run's departure, cut-off (departure less its hand-off margin) and office."""
    handoff_run: dict[str, str]
    expected: dict[tuple[str, str], StopEta]
    unassigned: dict[str, str]

    def run_times(self, run_id: str | None) -> tuple[datetime, datetime] | None:
        """Departure and cut-off of a run today."""
        found = self.run_clock.get(run_id or "")
        return None if found is None else (found[0], found[1])

    def next_run(self, site: str | None, after: datetime) -> tuple[str, datetime] | None:
        """The next run from ``site`` whose cut-off is after ``after`` today."""
        found = [
            (departs, run_id)
            for run_id, (departs, cutoff, office) in self.run_clock.items()
            if office == site and cutoff >= after
        ]
        if not found:
            return None
        departs, run_id = min(found)
        return run_id, departs


def _run_clock(
    date: str, runs: Mapping[str, Mapping[str, Any]]
) -> dict[str, tuple[datetime, datetime, str | None]]:
    clock: dict[str, tuple[datetime, datetime, str | None]] = {}
    day = datetime.strptime(date, "%Y-%m-%d").date()
    for run_id, run in runs.items():
        departs = parse_day_time(day, run.get("departs"))
        if departs is not None:
            margin = timedelta(minutes=float(run.get("handoff_min") or 0))
            clock[run_id] = (departs, departs - margin, run.get("from_site"))
    return clock


def _run_risks(day: _Day, job_id: str, row: BoardDossier) -> list[Risk]:
    run = day.handoff_run.get(job_id)
    times = day.run_times(run)
    if row.direction != "pickup" or times is None:
        return []
    departs, cutoff = times
    site = day.jobs.get(job_id, {}).get("handoff_site")
    eta = day.expected.get((job_id, "handoff"))
    expected = eta.expected_arrive if eta is not None else None
    # At a site past the office (changing runs on its journey, DESIGN §4) it was not left behind.
    at_office = row.site is None or row.site == site
    left_behind = (
        row.status == Status.AT_HUB.value and at_office and day.now > departs + _LEFT_BEHIND_AFTER
    )
    if (row.status in _NOT_AT_OFFICE and day.now > cutoff) or left_behind:
        nxt = day.next_run(site, max(day.now, expected or day.now))
        return [
            Risk(
                row,
                "run_missed",
                run=run,
                deadline=cutoff,
                expected=expected,
                next_run=nxt[0] if nxt else None,
                next_run_departs=nxt[1] if nxt else None,
            )
        ]
    if row.status in _NOT_AT_OFFICE and expected is not None and expected > cutoff:
        nxt = day.next_run(site, expected)
        return [
            Risk(
                row,
                "run_at_risk",
                run=run,
                deadline=cutoff,
                expected=expected,
                next_run=nxt[0] if nxt else None,
                next_run_departs=nxt[1] if nxt else None,
            )
        ]
    return []


def _end_of(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), WORK_END, LOCAL_TZ)


def _due_risks(day: _Day, job_id: str | None, row: BoardDossier) -> list[Risk]:
    if row.status in _FINAL:
        return []
    risks = []
    today = day.now.astimezone(LOCAL_TZ).date().isoformat()
    eta = day.expected.get((job_id or "", "delivery"))
    expected = eta.expected_start if eta is not None else None
    for reason, deadline_day in (("due", row.due_date), ("promised", row.promised_date)):
        if not deadline_day:
            continue
        deadline = _end_of(deadline_day[:10])
        if deadline_day[:10] < today:
            code = "due_passed" if reason == "due" else "promised_at_risk"
            risks.append(Risk(row, code, deadline=deadline, expected=expected))
        elif deadline_day[:10] == today and (
            expected is None
            or expected > deadline
            or row.status == Status.DELIVERY_FAILED.value
            or row.direction == "pickup"
        ):
            code = "due_at_risk" if reason == "due" else "promised_at_risk"
            risks.append(Risk(row, code, deadline=deadline, expected=expected))
    return risks


def _failure_reasons(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """The courier's reason of each dossier's latest failed attempt."""
    out: dict[int, str] = {}
    for i in range(0, len(ids), 900):
        stmt = (
            sa.select(col(ScanEvent.dossier_id), col(ScanEvent.proof_json))
            .where(
                col(ScanEvent.dossier_id).in_(list(ids[i : i + 900])),
                col(ScanEvent.type) == Status.DELIVERY_FAILED.value,
            )
            .order_by(col(ScanEvent.device_at))
        )
        for dossier_id, proof in session.execute(stmt):
            if isinstance(proof, dict) and proof.get("reason"):
                out[dossier_id] = str(proof["reason"])
    return out


@dataclass(frozen=True)
class _PlanFacts:
    """What the board reads of a stored plan, parsed once (stored plans never change)."""

    date: str
    jobs: dict[str, dict[str, Any]]
    codes: dict[str, str]
    job_of: dict[str, str]
    routes: list[list[Stop]]
    run_clock: dict[str, tuple[datetime, datetime, str | None]]
    handoff_run: dict[str, str]
    unassigned: dict[str, str]

    @classmethod
    def of(cls, stored: StoredPlan) -> _PlanFacts:
        """Parse a stored plan's request and routes."""
        plan = stored.plan()
        jobs, runs = stored.request_items("jobs"), stored.request_items("shuttles")
        codes = {j: str(v["dossier"]) for j, v in jobs.items() if v.get("dossier")}
        routes = [list(route.stops) for route in plan.routes]
        handoff_run = {
            job: stop.shuttle
            for stops in routes
            for stop in stops
            if stop.kind == "handoff" and stop.shuttle
            for job in _stop_jobs(stop)
        }
        unassigned = {u.job: u.reason or "unknown" for u in plan.unassigned}
        job_of = {code: job for job, code in codes.items()}
        clock = _run_clock(stored.date, runs)
        return cls(stored.date, jobs, codes, job_of, routes, clock, handoff_run, unassigned)


_FACTS_CACHE = 8
_facts: OrderedDict[tuple[str, str, str], _PlanFacts] = OrderedDict()
_facts_lock = threading.Lock()


def _plan_facts(session: Session, date: str) -> tuple[str, _PlanFacts] | None:
    """The day's newest published plan (id and facts); its JSON is read only the first time."""
    newest = session.execute(
        sa.select(col(StoredPlan.id), col(StoredPlan.created_at))
        .where(col(StoredPlan.date) == date, col(StoredPlan.state) == "published")
        .order_by(*NEWEST_FIRST)
        .limit(1)
    ).first()
    if newest is None:
        return None
    plan_id, created = newest
    key = (str(session_engine(session).url), str(plan_id), str(created))
    with _facts_lock:
        found = _facts.get(key)
        if found is not None:
            _facts.move_to_end(key)
            return plan_id, found
    stored = session.get(StoredPlan, plan_id)
    if stored is None:  # deleted between the two reads
        return None
    facts = _PlanFacts.of(stored)
    with _facts_lock:
        _facts[key] = facts
        while len(_facts) > _FACTS_CACHE:
            _facts.popitem(last=False)
    return plan_id, facts


def _plan_day(
    facts: _PlanFacts, rows: Mapping[str, tuple[int, BoardDossier]], now: datetime
) -> _Day:
    expected: dict[tuple[str, str], StopEta] = {}
    for stops in facts.routes:
        expected.update(_route_expected(stops, facts.codes, rows, now))
    return _Day(
        facts.date,
        now,
        facts.jobs,
        facts.run_clock,
        facts.handoff_run,
        expected,
        facts.unassigned,
    )


def day_board(*, session: Session, date: str, now: datetime) -> Board:
    """Return the board of a day (see the module docstring).

    Parameters
    ----------
    session
        The database session.
    date
        The day, ``YYYY-MM-DD``.
    now
        The current time: what is late is late by it.

    Raises
    ------
    InvalidInput
        If ``date`` is malformed.
    """
    check_date(date)
    found = _plan_facts(session, date)
    if found is None:
        return Board(date=date, now=now, plan_id=None, stages={s: [] for s in STAGES})
    plan_id, facts = found
    job_of = facts.job_of
    rows = _load_dossiers(session, sorted(job_of))
    day = _plan_day(facts, rows, now)
    stages: dict[str, list[BoardDossier]] = {s: [] for s in STAGES}
    risks: list[Risk] = []
    failed_ids = [i for i, r in rows.values() if r.status == Status.DELIVERY_FAILED.value]
    reasons = _failure_reasons(session, failed_ids)
    for code in sorted(rows):
        id_, row = rows[code]
        stages.setdefault(row.status, []).append(row)
        job_id = job_of.get(code)
        if job_id in day.unassigned and row.status not in _FINAL:
            risks.append(Risk(row, "unassigned", detail=day.unassigned[job_id]))
        if job_id is not None:
            risks.extend(_run_risks(day, job_id, row))
        risks.extend(_due_risks(day, job_id, row))
        if row.status == Status.DELIVERY_FAILED.value:
            risks.append(Risk(row, "delivery_failed", detail=reasons.get(id_)))
    risks.sort(key=lambda r: (RISK_ORDER.index(r.reason), r.deadline or now, r.dossier.code))
    return Board(date=date, now=now, plan_id=plan_id, stages=stages, risks=risks)
