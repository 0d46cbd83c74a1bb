"""Shuttle manifests: the hand-over list of each run, its check-off, and the differences.

For a run of a day (a shuttle of the newest stored plan's timetable), the dossiers **expected**
on it are those the plan hands over for it (a hand-off stop naming the run, or a journey
through it) and those left at its office after an earlier run had gone (status ``at_hub`` at
the run's ``from_site``). The dossiers **scanned** on it are those with an ``on_shuttle`` scan
at its office that belongs to it (recorded by this run's check-off, or the run leaving first at
or after the scan, less a slack of :data:`SCAN_SLACK`); **received** those of them with a
``received`` scan at its ``to_site`` (by its check-off, or after it left).

:func:`check_off` records the scans of a whole list at once, as the person at the counter ticks
it: one ``on_shuttle`` (or ``received``) event per dossier, whose ``event_id`` is derived from
the day, the run, the dossier and the type (:func:`manifest_event_id`). Submitting the same
list again records nothing twice: an event already stored is skipped, and a resent one would
be a duplicate of ingestion anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date as date_cls
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from routing.clock import parse_day_time
from tracking.errors import InvalidInput, NotFound
from tracking.lifecycle import EventType, Status
from tracking.models import Dossier, ScanEvent, StoredPlan, User
from tracking.plans import published_plan
from tracking.scans import ScanInput, ScanResult, ingest_scans

__all__ = [
    "SCAN_SLACK",
    "CheckOff",
    "Manifest",
    "ManifestLine",
    "check_off",
    "day_manifests",
    "manifest",
    "manifest_event_id",
]

SCAN_SLACK = timedelta(minutes=30)
"""An ``on_shuttle`` scan up to this long after a run's departure still belongs to that run."""

_NAMESPACE = uuid.UUID("6f1c9b52-3a4e-4d0e-9a51-0c8d2a7e5b13")
_CHECK_TYPES = (EventType.ON_SHUTTLE, EventType.RECEIVED)


def _day(date: str) -> date_cls:
    return date_cls.fromisoformat(date)


@dataclass(frozen=True, slots=True)
class ManifestLine:
    """One dossier of a manifest.

    ``expected`` (planned or left behind), ``scanned`` (on this run), ``received`` (at the
    other end); ``why`` is ``planned`` or ``left_behind`` for an expected dossier.
    """

    code: str
    status: str
    courier: str | None
    procedure: str | None
    expected: bool
    scanned: bool
    received: bool
    why: str | None = None


@dataclass(frozen=True)
class Manifest:
    """The hand-over list of one run of one day."""

    date: str
    run: str
    from_site: str
    to_site: str
    departs: datetime
    arrives: datetime
    plan_id: str
    lines: list[ManifestLine] = field(default_factory=list)

    @property
    def missing(self) -> list[ManifestLine]:
        """Expected on the run but not scanned onto it."""
        return [x for x in self.lines if x.expected and not x.scanned]

    @property
    def unexpected(self) -> list[ManifestLine]:
        """Scanned onto the run though not expected on it."""
        return [x for x in self.lines if x.scanned and not x.expected]

    @property
    def not_received(self) -> list[ManifestLine]:
        """Scanned onto the run, not yet received at the other end."""
        return [x for x in self.lines if x.scanned and not x.received]


def _newest_plan(session: Session, date: str) -> StoredPlan:
    stored = published_plan(session=session, date=date)
    if stored is None:
        msg = f"date: no plan is published for {date}"
        raise NotFound(msg)
    return stored


def _planned_jobs(stored: StoredPlan, run: str) -> list[str]:
    """Jobs the plan hands over for ``run``, directly or through a journey."""
    jobs: list[str] = []
    for route in stored.plan().routes:
        for stop in route.stops:
            if stop.kind != "handoff":
                continue
            journeys = stop.journeys or {}
            for job in stop.jobs:
                journey = journeys.get(job)
                if stop.shuttle == run or (journey is not None and run in journey.runs):
                    jobs.append(job)
    return list(dict.fromkeys(jobs))


def _run_of_scan(
    runs: Mapping[str, dict[str, Any]], date: str, site: str | None, at: datetime
) -> str | None:
    """The run an ``on_shuttle`` scan at ``site`` belongs to: the first leaving at or after it."""
    best: tuple[datetime, str] | None = None
    for run_id, run in runs.items():
        departs = parse_day_time(_day(date), run.get("departs"))
        if run.get("from_site") != site or departs is None or departs < at - SCAN_SLACK:
            continue
        if best is None or departs < best[0]:
            best = (departs, run_id)
    return best[1] if best else None


def _checked_run(
    runs: Mapping[str, dict[str, Any]], date: str, code: str, event_id: str
) -> str | None:
    """The run whose check-off recorded this ``on_shuttle`` scan, if one did."""
    for run_id in runs:
        if event_id == manifest_event_id(date, run_id, code, EventType.ON_SHUTTLE):
            return run_id
    return None


def _scans(
    session: Session, codes: Sequence[str], since: datetime
) -> list[tuple[str, str, str | None, datetime, str]]:
    """(code, type, site, device time, event id) of the on_shuttle/received scans of dossiers
    (void ones left out; a flagged scan still says where the dossier physically went)."""
    out: list[tuple[str, str, str | None, datetime, str]] = []
    for i in range(0, len(codes), 900):
        stmt = (
            sa.select(
                col(Dossier.code),
                col(ScanEvent.type),
                col(ScanEvent.site),
                col(ScanEvent.device_at),
                col(ScanEvent.event_id),
            )
            .select_from(ScanEvent)
            .join(Dossier, col(Dossier.id) == col(ScanEvent.dossier_id))
            .where(
                col(Dossier.code).in_(list(codes[i : i + 900])),
                col(ScanEvent.type).in_([t.value for t in _CHECK_TYPES]),
                col(ScanEvent.void_reason).is_(None),
                col(ScanEvent.device_at) >= since,
            )
        )
        out.extend((c, t, s, a, e) for c, t, s, a, e in session.execute(stmt))
    return out


def _at_office(session: Session, site: str) -> list[str]:
    stmt = sa.select(col(Dossier.code)).where(
        col(Dossier.status) == Status.AT_HUB.value, col(Dossier.place_site) == site
    )
    return [c for (c,) in session.execute(stmt)]


def manifest(*, session: Session, date: str, run: str, now: datetime) -> Manifest:
    """Return the manifest of ``run`` on ``date`` (see the module docstring).

    Raises
    ------
    NotFound
        If no plan is stored for the day or its timetable has no such run.
    InvalidInput
        If the day is malformed or the run's times cannot be read.
    """
    stored = _newest_plan(session, date)
    runs = stored.request_items("shuttles")
    if run not in runs:
        msg = f"run: the timetable of {date} has no run {run!r}"
        raise NotFound(msg)
    info = runs[run]
    departs, arrives = (
        parse_day_time(_day(date), info.get("departs")),
        parse_day_time(_day(date), info.get("arrives")),
    )
    if departs is None or arrives is None:
        msg = f"run: the times of run {run!r} cannot be read"
        raise InvalidInput(msg)
    jobs = {
        str(j.get("id")): j for j in stored.request_json.get("jobs") or [] if isinstance(j, dict)
    }
    planned = {str(jobs[j]["dossier"]): "planned" for j in _planned_jobs(stored, run) if j in jobs}
    from_site, to_site = str(info.get("from_site")), str(info.get("to_site"))
    left = _left_behind(
        session, runs=runs, date=date, site=from_site, run=run, departs=departs, now=now
    )
    expected = {**dict.fromkeys(left, "left_behind"), **planned}
    day_start = departs.replace(hour=0, minute=0, second=0, microsecond=0)
    candidates = set(expected) | set(_scanned_anywhere(session, from_site, day_start))
    scans = _scans(session, sorted(candidates), day_start)
    on_run, arrived = EventType.ON_SHUTTLE, EventType.RECEIVED
    # A check-off scan names its run by its event id; a phone's scan belongs to a run by time.
    scanned = {
        c
        for c, t, s, a, e in scans
        if t == on_run.value
        and s == from_site
        and (e == manifest_event_id(date, run, c, on_run) or _run_of_scan(runs, date, s, a) == run)
    }
    received = {
        c
        for c, t, s, a, e in scans
        if t == arrived.value
        and s == to_site
        and c in scanned
        and (e == manifest_event_id(date, run, c, arrived) or a >= departs - SCAN_SLACK)
    }
    lines = _lines(session, expected, scanned, received)
    return Manifest(date, run, from_site, to_site, departs, arrives, stored.id, lines)


def _scanned_anywhere(session: Session, site: str, since: datetime) -> list[str]:
    """Dossiers with an on_shuttle scan at ``site`` since ``since`` (to find the unexpected)."""
    stmt = (
        sa.select(col(Dossier.code))
        .select_from(Dossier)
        .join(ScanEvent, col(Dossier.id) == col(ScanEvent.dossier_id))
        .where(
            col(ScanEvent.type) == EventType.ON_SHUTTLE.value,
            col(ScanEvent.site) == site,
            col(ScanEvent.device_at) >= since,
        )
    )
    return [c for (c,) in session.execute(stmt)]


def _left_behind(
    session: Session,
    *,
    runs: Mapping[str, dict[str, Any]],
    date: str,
    site: str,
    run: str,
    departs: datetime,
    now: datetime,
) -> list[str]:
    """Dossiers still at the office after an earlier run had gone: they roll onto this run if
    it is the next one from that office (and has not left yet)."""
    earlier = [
        parse_day_time(_day(date), r.get("departs"))
        for r in runs.values()
        if r.get("from_site") == site and r.get("id") != run
    ]
    gone = [d for d in earlier if d is not None and d < departs and d <= now]
    if not gone or departs < now - SCAN_SLACK:
        return []
    return _at_office(session, site)


def _lines(
    session: Session, expected: Mapping[str, str], scanned: set[str], received: set[str]
) -> list[ManifestLine]:
    codes = sorted(set(expected) | scanned)
    rows: dict[str, tuple[str, str | None, str | None]] = {}
    for i in range(0, len(codes), 900):
        stmt = sa.select(
            col(Dossier.code), col(Dossier.status), col(Dossier.courier_id), col(Dossier.procedure)
        ).where(col(Dossier.code).in_(codes[i : i + 900]))
        rows.update((c, (s, k, p)) for c, s, k, p in session.execute(stmt))
    return [
        ManifestLine(
            code=code,
            status=rows.get(code, ("?", None, None))[0],
            courier=rows.get(code, ("?", None, None))[1],
            procedure=rows.get(code, ("?", None, None))[2],
            expected=code in expected,
            scanned=code in scanned,
            received=code in received,
            why=expected.get(code),
        )
        for code in codes
    ]


def day_manifests(*, session: Session, date: str, now: datetime) -> list[Manifest]:
    """Return the manifest of every run of the day's timetable, in departure order.

    Raises
    ------
    NotFound
        If no plan is stored for the day.
    """
    stored = _newest_plan(session, date)
    found = [
        manifest(session=session, date=date, run=r, now=now)
        for r in stored.request_items("shuttles")
    ]
    return sorted(found, key=lambda m: (m.departs, m.run))


def manifest_event_id(date: str, run: str, code: str, event_type: EventType) -> str:
    """The ``event_id`` of a check-off scan: the same for the same day, run, dossier and type."""
    return str(uuid.uuid5(_NAMESPACE, f"{date}|{run}|{code}|{event_type.value}"))


@dataclass(frozen=True)
class CheckOff:
    """What one check-off did: new scans' answers, and the dossiers already checked off."""

    results: list[ScanResult]
    already: list[str]

    @property
    def recorded(self) -> int:
        """How many scans were stored (applied or flagged)."""
        return sum(1 for r in self.results if r.status in ("stored", "flagged"))


def check_off(
    *,
    session: Session,
    date: str,
    run: str,
    codes: Sequence[str],
    event_type: EventType,
    actor: User,
    now: datetime,
) -> CheckOff:
    """Record the ``on_shuttle`` (or ``received``) scans of the ticked dossiers in one batch.

    Parameters
    ----------
    session
        The database session.
    date, run
        The manifest.
    codes
        The dossiers ticked (codes as listed).
    event_type
        ``on_shuttle`` at the run's office, or ``received`` at its destination.
    actor
        The member of staff who ticks the list.
    now
        The time of the check-off (the scans' device time).

    Raises
    ------
    InvalidInput
        If ``event_type`` is neither ``on_shuttle`` nor ``received``, or a code is not on the
        manifest (nothing is recorded then).
    """
    if event_type not in _CHECK_TYPES:
        msg = "event: a manifest records only 'on_shuttle' or 'received'"
        raise InvalidInput(msg)
    sheet = manifest(session=session, date=date, run=run, now=now)
    listed = {x.code for x in sheet.lines}
    unknown = [c for c in codes if c not in listed]
    if unknown:
        msg = f"dossier: {', '.join(unknown[:5])} is not on the manifest of run {run}"
        raise InvalidInput(msg)
    site = sheet.from_site if event_type is EventType.ON_SHUTTLE else sheet.to_site
    ids = {c: manifest_event_id(date, run, c, event_type) for c in dict.fromkeys(codes)}
    stored = set(
        session.execute(
            sa.select(col(ScanEvent.event_id)).where(
                col(ScanEvent.event_id).in_(list(ids.values()))
            )
        ).scalars()
    )
    new = [
        ScanInput(event_id=i, dossier=c, type=event_type, at=now, site=site)
        for c, i in ids.items()
        if i not in stored
    ]
    results = ingest_scans(session=session, events=new, actor=actor, now=now) if new else []
    return CheckOff(results=results, already=[c for c, i in ids.items() if i in stored])
