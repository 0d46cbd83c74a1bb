"""The independent plan checker: every promise a plan makes, checked against its request.

A dispatcher, a benchmark or a test hands :func:`check_plan` a plan request and a plan, both as
the JSON of DESIGN §4 (with the agreed extensions), and gets back the list of broken promises:
booked windows, shifts, lunch breaks, bag capacity and load bookkeeping, pickup before hand-off
on the same route, hand-off before the cut-off of the shuttle run it names, collect after the
result is ready, site opening hours, skills, every job exactly once, travel times and distances
consistent with the travel matrix, times in order, and the plan's KPIs.

The checker reads the JSON itself and shares no code with the optimizer (it imports only
``geo``), so a mistake in the optimizer's reading of a request is not repeated here.

Re-planned days are judged too: a route's ``done`` stops (kept from the morning) count for
"every job once", pickup-before-hand-off, the dossiers the courier starts with and the breaks
already taken; a route may then start at a position (``lat``/``lon``) instead of a site, and the
leg from such a position is not judged against a request matrix (which knows only site and job
ids). KPIs then count the jobs not yet finished, as the optimizer does.

Units: times are handled as seconds since midnight (+07:00) of the plan's date, distances in
kilometres as the plan states them. Tolerances, stated once:

- travel: ``next.arrive >= prev.depart + travel (+ breaks) - 1 s`` (times are to the second).
  A break that says where it is taken (``site`` or ``lat``/``lon`` with ``arrive``) is a place
  like any stop when it is at a site or at the place of the stop before or after it: the legs
  into and out of it are judged. A break at another point is taken by the way, and one with no
  place (plans written before breaks had one) is time only: the leg around it holds both;
- service: ``depart - start`` equals the service time within 1 s;
- distance: a route's ``distance_km`` equals the sum of its legs within 0.1 % plus 1 m a leg;
- duration: a route's ``duration_min`` (end's arrive − start's depart) within 0.1 min.

Run it on files with ``python -m routing.checker REQUEST.json PLAN.json``: it prints the
violations and exits 1 if there are any, 0 if there are none, 2 if a file cannot be read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from geo.coords import LatLon, parse_latlon
from geo.travel import GreatCircleTravel, TravelModel

__all__ = ["CODES", "REASONS", "WARNINGS", "Violation", "check_plan", "main"]

VIETNAM_TZ = timezone(timedelta(hours=7))
"""Vietnam's offset, UTC+07:00 all year (no daylight saving time)."""

DAY_S = 86_400
TRAVEL_TOLERANCE_S = 1.0
SERVICE_TOLERANCE_S = 1.0
DISTANCE_REL_TOLERANCE = 0.001
DISTANCE_LEG_TOLERANCE_KM = 0.001
DURATION_TOLERANCE_MIN = 0.1
DEFAULT_SITE_SERVICE_MIN = 2.0
DEFAULT_MODE = "motorbike"

REASONS = frozenset(
    {
        "unknown_site",
        "window_outside_shifts",
        "window_unreachable",
        "ready_after_window",
        "over_capacity",
        "missing_skill",
        "no_courier",
        "site_closed",
        "no_time",
        "cancelled",
    }
)
"""The machine-readable reasons an unassigned job may carry."""

CODES: Mapping[str, str] = {
    "window": "a job's service starts outside the citizen's booked window",
    "late_declared": 'a stop the plan itself marks late (``"late": true``) breaks a promise it '
    "declares: a result in the courier's bag delivered after its window, a dossier in the bag "
    "handed over after its site closes, or a courier carrying dossiers home after its shift "
    "(a re-plan late in the day); reported apart from undeclared ones",
    "shift": "a route starts before or ends after the courier's shift",
    "break": "a break is outside its window, too short, or missing from a route that spans it",
    "break_place": "a break names a site unknown to the request, or a place without its arrival",
    "capacity": "the load after a stop is above the courier's capacity",
    "load": "a stop's stated load differs from the bookkeeping, or is negative",
    "precedence": "a job's two stops are missing, out of order or on different routes",
    "cutoff": "a hand-off starts after the cut-off of the shuttle run it names",
    "wrong_run": "a hand-off names an unknown run, a run from another site or to another "
    "destination, or a run for dossiers that need none",
    "journey": "a hand-off's named journey is not real: runs that do not connect at a site "
    "with the next run's margin, a first run other than the stop's shuttle, a last run not "
    "reaching the dossier's destination, a ``reaches`` other than the last run's arrival, or "
    "no journey named for a dossier bound for a shuttle",
    "ready": "a result is collected before it is ready at its site (or before the runs bring "
    "it there from its ready_site)",
    "opening": "a hand-off or collect starts outside the site's opening hours",
    "skill": "a courier serves a job needing a skill it lacks",
    "job_missing": "a job of the request is neither routed nor unassigned",
    "job_duplicated": "a job appears more than once",
    "unknown_job": "the plan names a job the request does not have",
    "wrong_site": "a stop is at another site than the request says",
    "location": "a home stop's coordinates differ from the job's",
    "travel": "a leg is shorter than the travel time (plus breaks), or has no travel time",
    "distance": "a route's distance differs from the sum of its legs",
    "service": "a stop's depart differs from its start plus the service time",
    "time_order": "times go backwards within a stop or between stops",
    "malformed": "the plan's JSON is not in the agreed shape",
    "unassigned_reason": "an unassigned job lacks a known reason or a detail",
    "status": "the plan's status disagrees with its unassigned list",
    "kpi": "a KPI (or a route's duration) disagrees with the routes",
    "personal_data": "a citizen's name, phone or ID number was copied into the plan",
    "lock": "a job the request locks to a courier (its ``courier``) is on another courier's route",
}
"""Every violation code the checker emits, with what it means. The codes are stable."""

WARNINGS: Mapping[str, str] = {
    "later_journey": "a hand-off's journey reaches the destination later than the earliest "
    "journey the timetable offers from the hand-off's start (or names none when one exists): "
    "the plan may value a later run on purpose, so it is not a broken promise",
}
"""Codes of what :func:`check_plan` reports in ``warnings``: doubtful, not broken promises."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken promise of a plan.

    Parameters
    ----------
    code
        A stable machine-readable code, one of :data:`CODES`.
    detail
        A sentence for a dispatcher naming the courier, stop index and times involved.
    courier
        The courier whose route breaks the promise, if any.
    job
        The job concerned, if any.
    """

    code: str
    detail: str
    courier: str | None = None
    job: str | None = None

    def __str__(self) -> str:
        """Return ``code: detail``, the line the command-line checker prints."""
        return f"{self.code}: {self.detail}"


# --------------------------------------------------------------------------------------------
# The request, read independently of the optimizer.


@dataclass(frozen=True, slots=True)
class _Site:
    id: str
    point: LatLon
    opening: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class _Run:
    id: str
    from_site: str
    to_site: str
    departs_s: float
    handoff_s: float
    arrives_s: float

    @property
    def cutoff_s(self) -> float:
        """Latest moment a dossier may be at ``from_site`` to ride this run."""
        return self.departs_s - self.handoff_s


@dataclass(frozen=True, slots=True)
class _Break:
    earliest_s: float
    latest_s: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class _Courier:
    id: str
    start_site: str
    end_site: str
    mode: str
    capacity: float
    shift: tuple[float, float] | None
    breaks: tuple[_Break, ...]
    skills: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Job:
    id: str
    kind: str
    point: LatLon
    window: tuple[float, float] | None
    service_s: float
    size: int
    skills: frozenset[str]
    handoff_site: str | None
    destination_site: str | None
    origin_site: str | None
    ready_s: float | None
    ready_site: str | None = None

    @property
    def needs_run(self) -> bool:
        """Whether the dossier must ride a shuttle run from its hand-off site."""
        return (
            self.kind == "pickup"
            and self.destination_site is not None
            and self.destination_site != self.handoff_site
        )


@dataclass(frozen=True, slots=True)
class _Matrix:
    index: Mapping[str, int]
    minutes: Sequence[Sequence[float]]
    km: Sequence[Sequence[float]] | None


@dataclass(frozen=True, slots=True)
class _Request:
    day: date
    midnight: datetime
    sites: Mapping[str, _Site]
    runs: Mapping[str, _Run]
    couriers: Mapping[str, _Courier]
    jobs: Mapping[str, _Job]
    matrix: _Matrix | None
    site_service_s: float
    personal: Mapping[str, str]  # a citizen's name, phone or ID number → the job it belongs to


_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _fail(where: str, what: str, value: Any) -> ValueError:
    return ValueError(f"request.{where}: {what}, got {value!r}.")


def _clock_s(value: Any, where: str, midnight: datetime) -> float:
    """Read a request time as seconds since the plan's midnight (+07:00)."""
    if not isinstance(value, str):
        raise _fail(where, "expected a time 'HH:MM' or an ISO 8601 datetime", value)
    match = _CLOCK.match(value.strip())
    if match:
        hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
        if hours > 24 or minutes > 59 or seconds > 59 or (hours == 24 and minutes + seconds):
            raise _fail(where, "expected a time of day between 00:00 and 24:00", value)
        return float(hours * 3600 + minutes * 60 + seconds)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _fail(where, "expected a time 'HH:MM' or an ISO 8601 datetime", value) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM_TZ)
    return (moment - midnight).total_seconds()


def _interval(value: Any, where: str, midnight: datetime) -> tuple[float, float]:
    """Read ``[open, close]``.

    ``"HH:MM"`` is a time on the plan's date, so an interval across midnight is written with
    ISO datetimes; one whose close comes before its open is an error.
    """
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise _fail(where, "expected a pair [open, close]", value)
    open_s = _clock_s(value[0], f"{where}[0]", midnight)
    close_s = _clock_s(value[1], f"{where}[1]", midnight)
    if close_s < open_s:
        raise _fail(where, "closes before it opens", value)
    return open_s, close_s


def _str(obj: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise _fail(f"{where}.{key}", "expected a non-empty string", value)
    return value


def _number(obj: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(f"{where}.{key}", "expected a finite number", value)
    if value < 0:
        raise _fail(f"{where}.{key}", "expected a number >= 0", value)
    return float(value)


def _skills(obj: Mapping[str, Any], where: str) -> frozenset[str]:
    value = obj.get("skills", [])
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise _fail(f"{where}.skills", "expected a list of strings", value)
    return frozenset(value)


def _records(request: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = request.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(key, "expected a list", value)
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise _fail(f"{key}[{i}]", "expected an object", item)
    return value


def _unique_ids(records: list[Mapping[str, Any]], key: str) -> list[str]:
    ids: list[str] = []
    for i, record in enumerate(records):
        ident = _str(record, "id", f"{key}[{i}]")
        assert ident is not None
        if ident in ids:
            raise _fail(f"{key}[{i}].id", "duplicate id", ident)
        ids.append(ident)
    return ids


def _read_request(request: Mapping[str, Any]) -> _Request:
    """Read a plan request into the checker's own data, raising ValueError naming the field."""
    if not isinstance(request, Mapping):
        raise _fail("", "expected a JSON object", type(request).__name__)
    raw_date = request.get("date")
    try:
        day = date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
    except ValueError:
        day = None
    if day is None:
        raise _fail("date", "expected a date 'YYYY-MM-DD'", raw_date)
    midnight = datetime(day.year, day.month, day.day, tzinfo=VIETNAM_TZ)

    sites: dict[str, _Site] = {}
    records = _records(request, "sites")
    for i, (ident, rec) in enumerate(zip(_unique_ids(records, "sites"), records, strict=True)):
        where = f"sites[{i}]"
        point = _point(rec, where)
        opening = rec.get("opening")
        sites[ident] = _Site(
            ident, point, None if opening is None else _interval(opening, where, midnight)
        )

    runs: dict[str, _Run] = {}
    records = _records(request, "shuttles")
    for i, (ident, rec) in enumerate(zip(_unique_ids(records, "shuttles"), records, strict=True)):
        where = f"shuttles[{i}]"
        from_site = _str(rec, "from_site", where)
        to_site = _str(rec, "to_site", where)
        departs_s = _clock_s(rec.get("departs"), f"{where}.departs", midnight)
        arrives_s = _clock_s(rec.get("arrives", rec.get("departs")), f"{where}.arrives", midnight)
        handoff_min = _number(rec, "handoff_min", where, default=0)
        assert from_site is not None and to_site is not None
        runs[ident] = _Run(ident, from_site, to_site, departs_s, handoff_min * 60, arrives_s)

    couriers: dict[str, _Courier] = {}
    records = _records(request, "couriers")
    for i, (ident, rec) in enumerate(zip(_unique_ids(records, "couriers"), records, strict=True)):
        couriers[ident] = _read_courier(ident, rec, f"couriers[{i}]", midnight)

    jobs: dict[str, _Job] = {}
    records = _records(request, "jobs")
    for i, (ident, rec) in enumerate(zip(_unique_ids(records, "jobs"), records, strict=True)):
        jobs[ident] = _read_job(ident, rec, f"jobs[{i}]", midnight)

    options = request.get("options") or {}
    if not isinstance(options, Mapping):
        raise _fail("options", "expected an object", options)
    site_service_min = _number(
        options, "site_service_min", "options", default=DEFAULT_SITE_SERVICE_MIN
    )
    return _Request(
        day=day,
        midnight=midnight,
        sites=sites,
        runs=runs,
        couriers=couriers,
        jobs=jobs,
        matrix=_read_matrix(request.get("travel")),
        site_service_s=site_service_min * 60,
        personal=_personal_data(_records(request, "jobs")),
    )


PERSONAL_FIELDS = ("name", "phone", "id_number")
"""The fields of a job's ``citizen`` that a plan must never carry."""


def _personal_data(jobs: list[Mapping[str, Any]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for rec in jobs:
        citizen = rec.get("citizen")
        if not isinstance(citizen, Mapping):
            continue
        for key in PERSONAL_FIELDS:
            value = citizen.get(key)
            if isinstance(value, str) and len(value.strip()) >= 3:
                found[value.strip()] = str(rec.get("id"))
    return found


def _point(rec: Mapping[str, Any], where: str) -> LatLon:
    try:
        return parse_latlon(rec.get("lat"), rec.get("lon"), where=f"request.{where}")
    except ValueError as exc:
        raise ValueError(str(exc)) from None


def _read_courier(ident: str, rec: Mapping[str, Any], where: str, midnight: datetime) -> _Courier:
    start_site = _str(rec, "start_site", where)
    end_site = _str(rec, "end_site", where, required=False) or start_site
    mode = _str(rec, "mode", where, required=False) or DEFAULT_MODE
    shift = rec.get("shift")
    raw_breaks = rec.get("breaks") or []
    if not isinstance(raw_breaks, list):
        raise _fail(f"{where}.breaks", "expected a list", raw_breaks)
    breaks = []
    for b, raw in enumerate(raw_breaks):
        bwhere = f"{where}.breaks[{b}]"
        if not isinstance(raw, Mapping):
            raise _fail(bwhere, "expected an object", raw)
        earliest, latest = _interval(
            [raw.get("earliest"), raw.get("latest")], bwhere + ".earliest/latest", midnight
        )
        breaks.append(_Break(earliest, latest, _number(raw, "duration_min", bwhere) * 60))
    assert start_site is not None and end_site is not None
    return _Courier(
        id=ident,
        start_site=start_site,
        end_site=end_site,
        mode=mode,
        capacity=_number(rec, "capacity", where, default=math.inf),
        shift=None if shift is None else _interval(shift, f"{where}.shift", midnight),
        breaks=tuple(sorted(breaks, key=lambda b: (b.earliest_s, b.latest_s))),
        skills=_skills(rec, where),
    )


def _read_job(ident: str, rec: Mapping[str, Any], where: str, midnight: datetime) -> _Job:
    kind = rec.get("kind")
    if kind not in ("pickup", "return"):
        raise _fail(f"{where}.kind", "expected 'pickup' or 'return'", kind)
    size = rec.get("size", 1)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise _fail(f"{where}.size", "expected an integer >= 1", size)
    window = rec.get("window")
    ready_s = None
    if kind == "return" and rec.get("ready_at") is not None:
        ready_s = _clock_s(rec.get("ready_at"), f"{where}.ready_at", midnight)
    return _Job(
        id=ident,
        kind=kind,
        point=_point(rec, where),
        window=None if window is None else _interval(window, f"{where}.window", midnight),
        service_s=_number(rec, "service_min", where, default=0) * 60,
        size=size,
        skills=_skills(rec, where),
        handoff_site=_str(rec, "handoff_site", where, required=kind == "pickup"),
        destination_site=_str(rec, "destination_site", where, required=False),
        origin_site=_str(rec, "origin_site", where, required=kind == "return"),
        ready_s=ready_s,
        ready_site=_str(rec, "ready_site", where, required=False) if kind == "return" else None,
    )


def _read_matrix(raw: Any) -> _Matrix | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise _fail("travel", "expected an object with ids, minutes and km", raw)
    ids = raw.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise _fail("travel.ids", "expected a list of site and job ids", ids)
    size = len(ids)

    def square(key: str) -> list[list[float]]:
        rows = raw.get(key)
        if (
            not isinstance(rows, list)
            or len(rows) != size
            or not all(isinstance(r, list) and len(r) == size for r in rows)
        ):
            raise _fail(f"travel.{key}", f"expected a {size}x{size} list of lists", rows)
        out = []
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int | float)
                    or not math.isfinite(value)
                    or value < 0
                ):
                    raise _fail(f"travel.{key}[{r}][{c}]", "expected a number >= 0", value)
            out.append([float(v) for v in row])
        return out

    return _Matrix(
        index={ident: i for i, ident in enumerate(ids)},
        minutes=square("minutes"),
        km=square("km") if raw.get("km") is not None else None,
    )


# --------------------------------------------------------------------------------------------
# The plan.

_PLAN_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")
_STOP_TYPES = ("start", "pickup", "handoff", "collect", "delivery", "break", "end")
_TIMES_OF: Mapping[str, tuple[str, ...]] = {
    "start": ("arrive", "depart"),
    "end": ("arrive",),
    "break": ("start", "depart"),
    "pickup": ("arrive", "start", "depart"),
    "delivery": ("arrive", "start", "depart"),
    "handoff": ("arrive", "start", "depart"),
    "collect": ("arrive", "start", "depart"),
}


def _break_is_placed(raw: Mapping[str, Any]) -> bool:
    """A break stop that says where it is taken (``site`` or ``lat``/``lon``)."""
    return raw.get("site") is not None or "lat" in raw or "lon" in raw


def _is_place(stop: _Stop) -> bool:
    """A stop a courier rides to: every stop but a break that says no place or is by the way."""
    return stop.type != "break" or (stop.point is not None and not stop.on_way)


def _hms(seconds: float) -> str:
    """Format seconds since the plan's midnight as HH:MM:SS (with a day offset if any)."""
    whole = round(seconds)
    days, rest = divmod(whole, DAY_S)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return text if days == 0 else f"{text} ({days:+d} d)"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


@dataclass(slots=True)
class _Stop:
    index: int
    type: str
    site: str | None = None
    job: str | None = None
    jobs: tuple[str, ...] = ()
    shuttle: str | None = None
    # A hand-off's journeys: job → (run ids, ``reaches`` in seconds or None); None when unnamed.
    journeys: dict[str, tuple[tuple[str, ...], float | None]] | None = None
    times: dict[str, float] = field(default_factory=dict)
    load: float | None = None
    point: LatLon | None = None
    loc_id: str | None = None
    ok: bool = True
    done: bool = False  # a stop already done before a re-plan (``route["done"]``)
    late: bool = False  # the plan declares the delivery late (``"late": true``)
    on_way: bool = False  # a break taken by the way, neither at the stop before nor after it

    @property
    def order(self) -> int:
        """Position in the courier's whole day: done stops come before the current ones."""
        return self.index - 1_000_000 if self.done else self.index

    @property
    def name(self) -> str:
        """How details refer to the stop: ``stop 3``, or ``done stop 1``."""
        return f"done stop {self.index}" if self.done else f"stop {self.index}"

    def at(self, key: str) -> float | None:
        return self.times.get(key)


def _earliest_arrival(
    runs: Sequence[_Run], origin: str, at_s: float, destination: str
) -> float | None:
    """When the timetable can bring a dossier at ``origin`` at ``at_s`` to ``destination``
    today (``None``: it cannot): the checker's own connection scan over ``runs`` sorted by
    departure, a run caught when the dossier is at its site by the run's cut-off."""
    if origin == destination:
        return at_s
    best: dict[str, float] = {origin: at_s}
    for _ in range(len(runs) + 1):  # again while a pass improves (runs taking no time)
        improved = False
        for run in runs:
            here = best.get(run.from_site)
            if (
                here is not None
                and here <= run.cutoff_s
                and run.arrives_s < best.get(run.to_site, math.inf)
            ):
                best[run.to_site] = run.arrives_s
                improved = True
        if not improved:
            break
    return best.get(destination)


@dataclass(slots=True)
class _Seen:
    """Where a job was met in the plan: (route index, courier, stop, stop type)."""

    stops: list[tuple[int, str, _Stop, str]] = field(default_factory=list)
    unassigned: int = 0


class _Checker:
    def __init__(
        self,
        request: _Request,
        plan: Mapping[str, Any],
        travel: TravelModel | None,
        warnings: list[Violation] | None = None,
    ):
        self.req = request
        self.plan = plan
        self.travel = travel
        self.out: list[Violation] = []
        self.warnings: list[Violation] = [] if warnings is None else warnings
        self.timetable = sorted(request.runs.values(), key=lambda r: (r.departs_s, r.arrives_s))
        self.reaching_today = 0
        self.seen: dict[str, _Seen] = {ident: _Seen() for ident in request.jobs}
        self.route_km: list[float] = []
        self.route_min: list[float] = []
        self.runs_missed = 0
        self.runs_caught = 0
        self.routes_working = 0  # routes with stops still to ride (not all done)

    def add(
        self, code: str, detail: str, courier: str | None = None, job: str | None = None
    ) -> None:
        self.out.append(Violation(code, detail, courier, job))

    # ---- the plan as a whole ---------------------------------------------------------------

    def run(self) -> list[Violation]:
        plan = self.plan
        if not isinstance(plan, Mapping):
            self.add("malformed", f"The plan is not a JSON object but {type(plan).__name__}.")
            return self.out
        if plan.get("date") != self.req.day.isoformat():
            self.add(
                "malformed",
                f"The plan's date {plan.get('date')!r} is not the request's "
                f"{self.req.day.isoformat()!r}.",
            )
        if not isinstance(plan.get("plan_id"), str) or not plan.get("plan_id"):
            self.add("malformed", f"The plan_id {plan.get('plan_id')!r} is not a non-empty string.")
        routes = plan.get("routes")
        if not isinstance(routes, list):
            self.add("malformed", f"The plan's routes {routes!r} are not a list.")
            routes = []
        couriers_seen: set[str] = set()
        for r, route in enumerate(routes):
            self.check_route(r, route, couriers_seen)
        self.check_unassigned(plan.get("unassigned"))
        self.check_jobs()
        self.check_status_and_kpis(plan)
        self.check_personal_data(plan)
        return self.out

    def check_personal_data(self, plan: Mapping[str, Any]) -> None:
        """No citizen's name, phone or ID number may be copied anywhere into the plan."""
        personal = self.req.personal
        if not personal:
            return
        texts: list[str] = []
        pending: list[Any] = [plan]
        while pending:
            item = pending.pop()
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, Mapping):
                texts.extend(k for k in item if isinstance(k, str))
                pending.extend(item.values())
            elif isinstance(item, list | tuple):
                pending.extend(item)
        leaked: set[str] = set()
        for text in texts:
            if text in personal:
                leaked.add(text)
            elif len(text) > 12 and not _PLAN_TIME.match(text):  # free text: search inside
                leaked.update(value for value in personal if value in text)
        for value in sorted(leaked):
            job = personal[value]
            self.add(
                "personal_data",
                f"The plan carries personal data of job {job}'s citizen "
                f"({len(value)} characters); plans must not copy names, phones or ID numbers.",
                job=job,
            )

    def check_unassigned(self, unassigned: Any) -> None:
        if not isinstance(unassigned, list):
            self.add("malformed", f"The plan's unassigned {unassigned!r} is not a list.")
            return
        for u, entry in enumerate(unassigned):
            if not isinstance(entry, Mapping):
                self.add("malformed", f"unassigned[{u}] is not an object: {entry!r}.")
                continue
            ident = entry.get("job")
            if not isinstance(ident, str) or ident not in self.req.jobs:
                self.add(
                    "unknown_job",
                    f"unassigned[{u}] names job {ident!r}, which the request does not have.",
                    job=ident if isinstance(ident, str) else None,
                )
                continue
            self.seen[ident].unassigned += 1
            reason, detail = entry.get("reason"), entry.get("detail")
            if not isinstance(reason, str) or reason not in REASONS:
                self.add(
                    "unassigned_reason",
                    f"unassigned[{u}] (job {ident}) has reason {reason!r}, not one of "
                    f"{', '.join(sorted(REASONS))}.",
                    job=ident,
                )
            if not isinstance(detail, str) or not detail.strip():
                self.add(
                    "unassigned_reason",
                    f"unassigned[{u}] (job {ident}) has no detail sentence for the dispatcher.",
                    job=ident,
                )

    def check_jobs(self) -> None:
        first = {"pickup": ("pickup", "handoff"), "return": ("collect", "delivery")}
        for ident, seen in self.seen.items():
            job = self.req.jobs[ident]
            a_type, b_type = first[job.kind]
            a = [s for s in seen.stops if s[3] == a_type]
            b = [s for s in seen.stops if s[3] == b_type]
            if not seen.stops and seen.unassigned == 0:
                self.add(
                    "job_missing",
                    f"Job {ident} ({job.kind}) is in no route and not unassigned.",
                    job=ident,
                )
                continue
            if seen.unassigned > 1 or (seen.stops and seen.unassigned):
                where = "in a route and " if seen.stops else ""
                self.add(
                    "job_duplicated",
                    f"Job {ident} is {where}unassigned {seen.unassigned} time(s).",
                    job=ident,
                )
            for kind, found in ((a_type, a), (b_type, b)):
                if len(found) > 1:
                    places = "; ".join(f"{c} {s.name}" for _, c, s, _ in found)
                    self.add(
                        "job_duplicated",
                        f"Job {ident} has {len(found)} {kind} stops ({places}).",
                        job=ident,
                    )
            if not seen.stops:
                continue
            if not a or not b:
                have, lack = (a_type, b_type) if a else (b_type, a_type)
                _, courier, stop, _ = (a or b)[0]
                self.add(
                    "precedence",
                    f"Job {ident} has a {have} stop (courier {courier}, {stop.name}) but no "
                    f"{lack} stop.",
                    courier=courier,
                    job=ident,
                )
                continue
            (ra, ca, sa, _), (rb, cb, sb, _) = a[0], b[0]
            if ra != rb:
                self.add(
                    "precedence",
                    f"Job {ident}: {a_type} on courier {ca}'s route ({sa.name}) but {b_type} on "
                    f"courier {cb}'s ({sb.name}); both must be on one route.",
                    courier=ca,
                    job=ident,
                )
            elif sb.order <= sa.order:
                self.add(
                    "precedence",
                    f"Job {ident}: courier {ca}'s {b_type} at {sb.name} comes before its "
                    f"{a_type} at {sa.name}.",
                    courier=ca,
                    job=ident,
                )

    def check_status_and_kpis(self, plan: Mapping[str, Any]) -> None:
        unassigned = plan.get("unassigned")
        n_unassigned = len(unassigned) if isinstance(unassigned, list) else 0
        expected_status = "complete" if n_unassigned == 0 else "partial"
        if plan.get("status") != expected_status:
            self.add(
                "status",
                f"The plan's status is {plan.get('status')!r} but it has {n_unassigned} "
                f"unassigned job(s), so it should be {expected_status!r}.",
            )
        kpis = plan.get("kpis")
        if not isinstance(kpis, Mapping):
            self.add("kpi", f"The plan's kpis {kpis!r} are not an object.")
            return
        served = sum(1 for seen in self.seen.values() if any(not s[2].done for s in seen.stops))
        finished = sum(
            1
            for seen in self.seen.values()
            if len(seen.stops) >= 2 and all(s[2].done for s in seen.stops)
        )
        total_km = sum(self.route_km)
        expected: dict[str, float] = {
            "jobs": len(self.req.jobs) - finished,
            "served": served,
            "runs_missed": self.runs_missed,
        }
        for key, value in expected.items():
            stated = kpis.get(key)
            if isinstance(stated, bool) or not isinstance(stated, int | float) or stated != value:
                self.add("kpi", f"kpis.{key} is {stated!r} but the plan gives {value:g}.")
        by_reason: dict[str, int] = {}
        for entry in unassigned if isinstance(unassigned, list) else []:
            if isinstance(entry, Mapping) and isinstance(entry.get("reason"), str):
                by_reason[entry["reason"]] = by_reason.get(entry["reason"], 0) + 1
        optional: dict[str, Any] = {
            "unassigned": n_unassigned,
            "couriers_used": self.routes_working,
            "runs_caught": self.runs_caught,
            "reaching_today": self.reaching_today,
            "unassigned_by_reason": by_reason,
        }
        for key, value in optional.items():
            if key in kpis and kpis[key] != value:
                self.add("kpi", f"kpis.{key} is {kpis[key]!r} but the plan gives {value!r}.")
        if "duration_min" in kpis:
            total_min = sum(self.route_min)
            stated_min = kpis["duration_min"]
            if (
                isinstance(stated_min, bool)
                or not isinstance(stated_min, int | float)
                or abs(stated_min - total_min) > DURATION_TOLERANCE_MIN * (len(self.route_min) + 1)
            ):
                self.add(
                    "kpi",
                    f"kpis.duration_min is {stated_min!r} but the routes' duration_min add up "
                    f"to {total_min:.1f} min.",
                )
        stated_km = kpis.get("distance_km")
        tolerance = DISTANCE_REL_TOLERANCE * total_km + DISTANCE_LEG_TOLERANCE_KM * (
            len(self.route_km) + 1
        )
        if (
            isinstance(stated_km, bool)
            or not isinstance(stated_km, int | float)
            or abs(stated_km - total_km) > tolerance
        ):
            self.add(
                "kpi",
                f"kpis.distance_km is {stated_km!r} but the routes' distance_km add up to "
                f"{total_km:.3f} km.",
            )

    # ---- one route -------------------------------------------------------------------------

    def check_route(self, r: int, route: Any, couriers_seen: set[str]) -> None:
        if not isinstance(route, Mapping):
            self.add("malformed", f"routes[{r}] is not an object: {route!r}.")
            return
        name = route.get("courier")
        courier = self.req.couriers.get(name) if isinstance(name, str) else None
        if courier is None:
            self.add("malformed", f"routes[{r}] is for courier {name!r}, unknown to the request.")
        label = name if isinstance(name, str) else f"routes[{r}]"
        if isinstance(name, str):
            if name in couriers_seen:
                self.add("malformed", f"Courier {name} has more than one route.", courier=name)
            couriers_seen.add(name)
        done = self.read_done(r, label, route.get("done"))
        raw_stops = route.get("stops")
        if isinstance(raw_stops, list) and not raw_stops and done:
            return  # a re-planned courier whose day is all done
        if not isinstance(raw_stops, list) or not raw_stops:
            self.add(
                "malformed", f"Courier {label}'s stops {raw_stops!r} are not a non-empty list."
            )
            return
        self.routes_working += 1
        self.read_distance(label, route)
        stops = [self.read_stop(label, s, raw) for s, raw in enumerate(raw_stops)]
        parsed = [stop for stop in stops if stop is not None]
        for stop in parsed:
            self.record_jobs(r, label, stop)
            if stop.type == "handoff" and stop.shuttle is None:
                self.runs_missed += sum(1 for job in self.jobs_of(stop) if job.needs_run)
            elif stop.type == "handoff":
                self.runs_caught += len(stop.jobs)
            if stop.type == "handoff" and stop.journeys:
                self.reaching_today += sum(
                    1
                    for job in self.jobs_of(stop)
                    if job.needs_run and (stop.journeys.get(job.id) or ((), None))[1] is not None
                )
        if len(parsed) != len(stops) or not all(stop.ok for stop in parsed):
            return  # unreadable stops: the checks below would only repeat the damage
        shaped = self.check_shape(label, parsed)
        if courier is None or not shaped:
            return
        self.check_sites_and_places(courier, parsed, resumed=bool(done))
        self.check_load(courier, parsed, done)
        self.check_resume(label, done, parsed)
        self.check_times(courier, parsed)
        self.check_runs(courier, parsed)
        self.check_breaks(courier, parsed, done)
        self.check_legs(courier, route, parsed)
        self.check_duration(courier.id, route, parsed)

    def read_distance(self, label: str, route: Mapping[str, Any]) -> None:
        """Note a route's stated ``distance_km`` for the plan's KPI."""
        stated_km = route.get("distance_km")
        if isinstance(stated_km, bool) or not isinstance(stated_km, int | float):
            self.add(
                "malformed",
                f"Courier {label}'s distance_km {stated_km!r} is not a number.",
                courier=label,
            )
        else:
            self.route_km.append(float(stated_km))

    def check_resume(self, label: str, done: list[_Stop], parsed: list[_Stop]) -> None:
        """A re-planned route cannot leave before the courier's last done stop."""
        if done and done[-1].ok:
            last = done[-1].at("depart") or done[-1].at("arrive")
            resume = parsed[0].at("depart")
            if last is not None and resume is not None and resume < last:
                self.add(
                    "time_order",
                    f"Courier {label}'s re-planned route leaves at {_hms(resume)}, before its "
                    f"last done stop ({done[-1].name}) at {_hms(last)}.",
                    courier=label,
                )

    def read_done(self, r: int, label: str, raw: Any) -> list[_Stop]:
        """Read a re-planned route's ``done`` stops: jobs count as seen, times stay as they were.

        Done stops were checked when their plan was made; here they only settle which jobs are
        in the courier's hands (the load it starts with) and which breaks are already taken.
        """
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.add("malformed", f"Courier {label}'s done stops {raw!r} are not a list.")
            return []
        done = []
        for s, item in enumerate(raw):
            stop = self.read_stop(label, s, item, done=True)
            if stop is not None:
                self.record_jobs(r, label, stop)
                done.append(stop)
        return done

    def check_duration(self, c: str, route: Mapping[str, Any], stops: list[_Stop]) -> None:
        """A route's ``duration_min``, when given, runs from leaving the start to the end."""
        if "duration_min" not in route:
            return
        stated = route["duration_min"]
        leave, back = stops[0].at("depart"), stops[-1].at("arrive")
        if isinstance(stated, bool) or not isinstance(stated, int | float):
            self.add("malformed", f"Courier {c}'s duration_min {stated!r} is not a number.")
            return
        self.route_min.append(float(stated))
        if leave is None or back is None:
            return
        actual = (back - leave) / 60
        if abs(stated - actual) > DURATION_TOLERANCE_MIN:
            self.add(
                "kpi",
                f"Courier {c}'s route states {stated:g} min, but it leaves its start at "
                f"{_hms(leave)} and reaches its end at {_hms(back)}: {actual:.1f} min.",
                courier=c,
            )

    def read_stop(self, courier: str, s: int, raw: Any, *, done: bool = False) -> _Stop | None:
        """Read one stop; report what is malformed and return None if it is unusable."""
        where = f"Courier {courier}'s {'done stop' if done else 'stop'} {s}"
        if not isinstance(raw, Mapping):
            self.add("malformed", f"{where} is not an object: {raw!r}.", courier=courier)
            return None
        kind = raw.get("type")
        if kind not in _STOP_TYPES:
            self.add(
                "malformed",
                f"{where} has type {kind!r}, not one of {', '.join(_STOP_TYPES)}.",
                courier=courier,
            )
            return None
        stop = _Stop(index=s, type=kind, done=done, late=raw.get("late") is True)
        readers = (self.read_times, self.read_place, self.read_contents, self.read_load)
        stop.ok = all([read(where, courier, raw, stop) for read in readers])
        return stop

    def read_times(self, where: str, courier: str, raw: Mapping[str, Any], stop: _Stop) -> bool:
        ok = True
        keys = _TIMES_OF[stop.type]
        if stop.type == "break" and _break_is_placed(raw):
            keys = ("arrive", *keys)  # a break taken at a place is reached like any stop
        for key in keys:
            value = raw.get(key)
            moment = None
            if isinstance(value, str) and _PLAN_TIME.match(value):
                try:
                    moment = datetime.fromisoformat(value)
                except ValueError:
                    moment = None
            if moment is None:
                self.add(
                    "malformed",
                    f"{where} ({stop.type}) has {key}={value!r}, not a valid ISO time to the "
                    "second with +07:00 (YYYY-MM-DDTHH:MM:SS+07:00).",
                    courier=courier,
                )
                ok = False
                continue
            stop.times[key] = (moment - self.req.midnight).total_seconds()
        return ok

    def read_place(self, where: str, courier: str, raw: Mapping[str, Any], stop: _Stop) -> bool:
        kind = stop.type
        if kind in ("start", "end", "handoff", "collect"):
            site = raw.get("site")
            if isinstance(site, str) and site in self.req.sites:
                stop.site = site
                stop.point = self.req.sites[site].point
                stop.loc_id = site
                return True
            if kind in ("start", "end") and site is None and "lat" in raw:
                try:  # a re-planned route may start from where the courier is
                    stop.point = parse_latlon(raw.get("lat"), raw.get("lon"), where=where)
                except ValueError as exc:
                    self.add("malformed", f"{exc}", courier=courier)
                    return False
                return True
            self.add(
                "malformed",
                f"{where} ({kind}) is at site {site!r}, unknown to the request.",
                courier=courier,
            )
            return False
        if kind in ("pickup", "delivery"):
            return self.read_home(where, courier, raw, stop)
        return kind != "break" or self.read_break_place(where, courier, raw, stop)

    def read_break_place(
        self, where: str, courier: str, raw: Mapping[str, Any], stop: _Stop
    ) -> bool:
        """A break taken at a place: a site of the request, or ``lat``/``lon``.

        A break without a place (plans written before breaks had one) is judged as time only.
        """
        site = raw.get("site")
        if site is not None:
            if not isinstance(site, str) or site not in self.req.sites:
                self.add(
                    "break_place",
                    f"{where} (break) is at site {site!r}, unknown to the request.",
                    courier=courier,
                )
                return False
            stop.site, stop.point, stop.loc_id = site, self.req.sites[site].point, site
        elif "lat" in raw or "lon" in raw:
            try:
                stop.point = parse_latlon(raw.get("lat"), raw.get("lon"), where=where)
            except ValueError as exc:
                self.add("break_place", f"{exc}", courier=courier)
                return False
        return True

    def read_home(self, where: str, courier: str, raw: Mapping[str, Any], stop: _Stop) -> bool:
        kind = stop.type
        job = raw.get("job")
        if not isinstance(job, str):
            self.add("malformed", f"{where} ({kind}) names no job: {job!r}.", courier=courier)
            return False
        stop.job = job
        stop.loc_id = job
        stop.late = raw.get("late") is True
        try:
            stop.point = parse_latlon(raw.get("lat"), raw.get("lon"), where=where)
        except ValueError as exc:
            self.add("malformed", f"{exc}", courier=courier, job=job)
            return False
        return True

    def read_contents(self, where: str, courier: str, raw: Mapping[str, Any], stop: _Stop) -> bool:
        if stop.type not in ("handoff", "collect"):
            return True
        jobs = raw.get("jobs")
        if not isinstance(jobs, list) or not jobs or not all(isinstance(j, str) for j in jobs):
            self.add(
                "malformed",
                f"{where} ({stop.type}) has jobs {jobs!r}, not a non-empty list of job ids.",
                courier=courier,
            )
            return False
        stop.jobs = tuple(jobs)
        if stop.type == "handoff":
            shuttle = raw.get("shuttle")
            if shuttle is not None and not isinstance(shuttle, str):
                self.add(
                    "malformed",
                    f"{where} has shuttle {shuttle!r}, not a run id or null.",
                    courier=courier,
                )
                return False
            stop.shuttle = shuttle
            if raw.get("journeys") is not None:
                stop.journeys = self.read_journeys(where, courier, raw["journeys"])
                return stop.journeys is not None
        return True

    def read_journeys(
        self, where: str, courier: str, raw: Any
    ) -> dict[str, tuple[tuple[str, ...], float | None]] | None:
        """A hand-off's ``journeys``: ``{job: {"runs": [run ids], "reaches": time or null}}``."""
        out: dict[str, tuple[tuple[str, ...], float | None]] = {}
        shape = 'an object {job: {"runs": [run ids], "reaches": time or null}}'
        if not isinstance(raw, Mapping):
            self.add("malformed", f"{where} has journeys {raw!r}, not {shape}.", courier=courier)
            return None
        for job, named in raw.items():
            runs = named.get("runs") if isinstance(named, Mapping) else None
            reaches = named.get("reaches") if isinstance(named, Mapping) else None
            moment = None
            if isinstance(reaches, str) and _PLAN_TIME.match(reaches):
                moment = (datetime.fromisoformat(reaches) - self.req.midnight).total_seconds()
            if (
                not isinstance(runs, list)
                or not all(isinstance(r, str) for r in runs)
                or (reaches is not None and moment is None)
            ):
                self.add(
                    "malformed",
                    f"{where} has the journey {named!r} for job {job!r}, not {shape}.",
                    courier=courier,
                )
                return None
            out[str(job)] = (tuple(runs), moment)
        return out

    def read_load(self, where: str, courier: str, raw: Mapping[str, Any], stop: _Stop) -> bool:
        if stop.type == "break" or (stop.type == "end" and "load" not in raw):
            return True
        load = raw.get("load")
        if isinstance(load, bool) or not isinstance(load, int | float):
            self.add(
                "malformed",
                f"{where} ({stop.type}) has load {load!r}, not a number.",
                courier=courier,
            )
            return False
        stop.load = float(load)
        return True

    def record_jobs(self, r: int, courier: str, stop: _Stop) -> None:
        ids = (stop.job,) if stop.job is not None else stop.jobs
        wanted = {
            "pickup": "pickup",
            "handoff": "pickup",
            "collect": "return",
            "delivery": "return",
        }
        for ident in ids:
            job = self.req.jobs.get(ident)
            if job is None:
                self.add(
                    "unknown_job",
                    f"Courier {courier}'s stop {stop.index} ({stop.type}) names job {ident!r}, "
                    "which the request does not have.",
                    courier=courier,
                    job=ident,
                )
                continue
            if job.kind != wanted[stop.type]:
                self.add(
                    "malformed",
                    f"Courier {courier}'s stop {stop.index} is a {stop.type} of job {ident}, "
                    f"which is a {job.kind} job.",
                    courier=courier,
                    job=ident,
                )
                continue
            self.seen[ident].stops.append((r, courier, stop, stop.type))

    def check_shape(self, courier: str, stops: list[_Stop]) -> bool:
        kinds = [stop.type for stop in stops]
        if (
            kinds[0] != "start"
            or kinds[-1] != "end"
            or kinds.count("start") != 1
            or kinds.count("end") != 1
        ):
            self.add(
                "malformed",
                f"Courier {courier}'s route must open with one start stop and close with one "
                f"end stop; its stops are {', '.join(kinds)}.",
                courier=courier,
            )
            return False
        return True

    def check_sites_and_places(
        self, courier: _Courier, stops: list[_Stop], *, resumed: bool = False
    ) -> None:
        c = courier.id
        ends = ((stops[0], courier.start_site), (stops[-1], courier.end_site))
        for stop, own in ends[1:] if resumed else ends:  # a resumed day starts where it is
            if stop.site is not None and stop.site != own:
                self.add(
                    "wrong_site",
                    f"Courier {c}'s {stop.type} stop {stop.index} is at {stop.site}, but the "
                    f"courier's {stop.type} site is {own}.",
                    courier=c,
                )
        for stop in stops:
            for job in self.jobs_of(stop):
                if stop.type in ("pickup", "delivery") and job.skills - courier.skills:
                    self.add(
                        "skill",
                        f"Courier {c} serves job {job.id} at stop {stop.index} without the "
                        f"skill(s) {', '.join(sorted(job.skills - courier.skills))} it needs.",
                        courier=c,
                        job=job.id,
                    )
                want = job.handoff_site if stop.type == "handoff" else job.origin_site
                assert want is not None or stop.type not in ("handoff", "collect")
                if stop.type in ("handoff", "collect") and stop.site != want:
                    self.add(
                        "wrong_site",
                        f"Courier {c}'s {stop.type} stop {stop.index} takes job {job.id} at "
                        f"{stop.site}, but the request says {want}.",
                        courier=c,
                        job=job.id,
                    )
                if stop.type in ("pickup", "delivery") and stop.point is not None:
                    off = max(
                        abs(stop.point.lat - job.point.lat), abs(stop.point.lon - job.point.lon)
                    )
                    if off > 1e-6:
                        self.add(
                            "location",
                            f"Courier {c}'s {stop.type} stop {stop.index} for job {job.id} is "
                            f"at ({stop.point.lat}, {stop.point.lon}), but the job is at "
                            f"({job.point.lat}, {job.point.lon}).",
                            courier=c,
                            job=job.id,
                        )

    def jobs_of(self, stop: _Stop) -> list[_Job]:
        ids = (stop.job,) if stop.job is not None else stop.jobs
        return [self.req.jobs[i] for i in ids if i in self.req.jobs]

    def load_change(self, stop: _Stop) -> float:
        """Dossiers a stop adds to the courier's load (negative when it hands them over)."""
        sizes = sum(job.size for job in self.jobs_of(stop))
        unknown = sum(1 for i in stop.jobs if i not in self.req.jobs)
        if stop.job is not None and stop.job not in self.req.jobs:
            unknown += 1
        if stop.type in ("pickup", "collect"):
            return float(sizes + unknown)
        if stop.type in ("delivery", "handoff"):
            return -float(sizes + unknown)
        return 0.0

    def check_load(self, courier: _Courier, stops: list[_Stop], done: list[_Stop]) -> None:
        c = courier.id
        load = sum(self.load_change(stop) for stop in done)  # dossiers already in hand
        for stop in stops:
            load += self.load_change(stop)
            if stop.load is not None and (stop.load != load or stop.load < 0):
                self.add(
                    "load",
                    f"Courier {c}'s stop {stop.index} ({stop.type}) states load {stop.load:g}, "
                    f"but the dossiers picked up and handed over make it {load:g}.",
                    courier=c,
                )
            if load > courier.capacity and stop.type in ("pickup", "collect"):
                self.add(
                    "capacity",
                    f"Courier {c} carries {load:g} dossier(s) after stop {stop.index} "
                    f"({stop.type}), above its capacity of {courier.capacity:g}.",
                    courier=c,
                )

    def check_times(self, courier: _Courier, stops: list[_Stop]) -> None:
        c = courier.id
        req = self.req
        for stop in stops:
            start, depart = stop.at("start"), stop.at("depart")
            sequence = [(k, stop.at(k)) for k in ("arrive", "start", "depart")]
            present = [(k, v) for k, v in sequence if v is not None]
            for (k1, v1), (k2, v2) in itertools.pairwise(present):
                assert v1 is not None and v2 is not None
                if v2 < v1:
                    self.add(
                        "time_order",
                        f"Courier {c}'s stop {stop.index} ({stop.type}) has {k2} {_hms(v2)} "
                        f"before {k1} {_hms(v1)}.",
                        courier=c,
                    )
            if start is not None and depart is not None and stop.type not in ("break",):
                if stop.type in ("pickup", "delivery"):
                    service_s = sum(job.service_s for job in self.jobs_of(stop))
                else:
                    service_s = req.site_service_s
                if abs(depart - start - service_s) > SERVICE_TOLERANCE_S:
                    self.add(
                        "service",
                        f"Courier {c}'s stop {stop.index} ({stop.type}) starts {_hms(start)} and "
                        f"departs {_hms(depart)}: {_minutes(depart - start)}, but its service "
                        f"takes {_minutes(service_s)}.",
                        courier=c,
                    )
            if start is not None:
                self.check_promised_times(c, stop, start)
        self.check_shift(courier, stops)

    def check_promised_times(self, c: str, stop: _Stop, start: float) -> None:
        req = self.req
        for job in self.jobs_of(stop):
            if stop.type in ("pickup", "delivery") and job.window is not None:
                open_s, close_s = job.window
                if stop.late and stop.type == "delivery" and start > close_s:
                    self.add(
                        "late_declared",
                        f"Courier {c}'s delivery of job {job.id} at stop {stop.index} starts "
                        f"{_hms(start)}, after its window {_hms(open_s)}–{_hms(close_s)} "
                        "(declared late by the plan).",
                        courier=c,
                        job=job.id,
                    )
                elif not open_s <= start <= close_s:
                    self.add(
                        "window",
                        f"Courier {c}'s {stop.type} of job {job.id} at stop {stop.index} "
                        f"starts {_hms(start)}, outside its window "
                        f"{_hms(open_s)}–{_hms(close_s)}.",
                        courier=c,
                        job=job.id,
                    )
            ready = self.ready_at_origin(job) if stop.type == "collect" else None
            upstream = f" (brought from {job.ready_site} by the runs)" if job.ready_site else ""
            if stop.type == "collect" and job.ready_s is not None and ready is None:
                self.add(
                    "ready",
                    f"Courier {c} collects job {job.id} at stop {stop.index}, but no run brings "
                    f"its result from {job.ready_site} to {job.origin_site} today.",
                    courier=c,
                    job=job.id,
                )
            elif ready is not None and start < ready:
                self.add(
                    "ready",
                    f"Courier {c} collects job {job.id} at stop {stop.index} at "
                    f"{_hms(start)}, before it is ready at {_hms(ready)}{upstream}.",
                    courier=c,
                    job=job.id,
                )
        if stop.type in ("handoff", "collect") and stop.site is not None:
            opening = req.sites[stop.site].opening
            if opening is not None and not opening[0] <= start <= opening[1]:
                declared = stop.late and stop.type == "handoff" and start > opening[1]
                self.add(
                    "late_declared" if declared else "opening",
                    f"Courier {c}'s {stop.type} at {stop.site} (stop {stop.index}) starts "
                    f"{_hms(start)}, outside its opening hours "
                    f"{_hms(opening[0])}–{_hms(opening[1])}.",
                    courier=c,
                )

    def check_shift(self, courier: _Courier, stops: list[_Stop]) -> None:
        c = courier.id
        if courier.shift is not None:
            open_s, close_s = courier.shift
            leave = stops[0].at("depart")
            back = stops[-1].at("arrive")
            if leave is not None and leave < open_s:
                self.add(
                    "shift",
                    f"Courier {c} leaves its start (stop 0) at {_hms(leave)}, before its shift "
                    f"opens at {_hms(open_s)}.",
                    courier=c,
                )
            if back is not None and back > close_s:
                self.add(
                    "late_declared" if stops[-1].late else "shift",
                    f"Courier {c} reaches its end (stop {stops[-1].index}) at {_hms(back)}, "
                    f"after its shift closes at {_hms(close_s)}.",
                    courier=c,
                )

    def check_runs(self, courier: _Courier, stops: list[_Stop]) -> None:
        c = courier.id
        for stop in stops:
            if stop.type != "handoff":
                continue
            run = self.check_first_run(c, stop) if stop.shuttle is not None else None
            for job in self.jobs_of(stop):
                if stop.shuttle is not None and not job.needs_run:
                    self.add(
                        "wrong_run",
                        f"Courier {c}'s handoff at stop {stop.index} puts job {job.id} on run "
                        f"{stop.shuttle}, but the dossier has no destination beyond {stop.site}.",
                        courier=c,
                        job=job.id,
                    )
                elif stop.journeys is not None and job.needs_run:
                    self.check_journey(c, stop, job)
                elif run is not None and job.needs_run and run.to_site != job.destination_site:
                    # A plan written before journeys names only a direct run.
                    self.add(
                        "wrong_run",
                        f"Courier {c}'s handoff at stop {stop.index} puts job {job.id} on run "
                        f"{run.id} to {run.to_site}, but the dossier goes to "
                        f"{job.destination_site}.",
                        courier=c,
                        job=job.id,
                    )
                elif job.needs_run and (run is not None or stop.shuttle is None):
                    self.warn_if_earlier(c, stop, job, None if run is None else run.arrives_s)

    def check_first_run(self, c: str, stop: _Stop) -> _Run | None:
        """The run a hand-off names exists, leaves from its site, and is caught by its start."""
        run = self.req.runs.get(stop.shuttle or "")
        if run is None:
            self.add(
                "wrong_run",
                f"Courier {c}'s handoff at stop {stop.index} names run {stop.shuttle!r}, "
                "unknown to the request.",
                courier=c,
            )
            return None
        if run.from_site != stop.site:
            self.add(
                "wrong_run",
                f"Courier {c}'s handoff at {stop.site} (stop {stop.index}) names run "
                f"{run.id}, which leaves from {run.from_site}.",
                courier=c,
            )
        start = stop.at("start")
        if start is not None and start > run.cutoff_s:
            self.add(
                "cutoff",
                f"Courier {c}'s handoff at {stop.site} (stop {stop.index}) starts "
                f"{_hms(start)}, after the cut-off {_hms(run.cutoff_s)} of run {run.id} "
                f"(departs {_hms(run.departs_s)}).",
                courier=c,
            )
        return run

    def check_journey(self, c: str, stop: _Stop, job: _Job) -> None:
        """A named journey is real: it begins with the stop's run, each run leaves from where
        the one before arrives by its cut-off, the last reaches the destination at ``reaches``."""
        assert stop.journeys is not None
        where = f"Courier {c}'s handoff at stop {stop.index}"
        if job.id not in stop.journeys:
            self.add("journey", f"{where} names no journey for job {job.id}.", c, job.id)
            return
        ids, reaches = stop.journeys[job.id]
        if (ids[0] if ids else None) != stop.shuttle:
            self.add(
                "journey",
                f"{where}: job {job.id}'s journey begins with {ids[0] if ids else None!r}, not "
                f"the stop's shuttle {stop.shuttle!r}.",
                c,
                job.id,
            )
        runs = [self.req.runs.get(r) for r in ids]
        if not ids or None in runs:
            if ids:
                self.add(
                    "journey",
                    f"{where}: job {job.id}'s journey {list(ids)} names a run "
                    "unknown to the request.",
                    c,
                    job.id,
                )
            elif reaches is not None:
                self.add(
                    "journey",
                    f"{where}: job {job.id}'s journey takes no run but says it "
                    f"reaches {job.destination_site} at {_hms(reaches)}.",
                    c,
                    job.id,
                )
            else:
                self.warn_if_earlier(c, stop, job, None)
            return
        legs = [r for r in runs if r is not None]
        for a, b in itertools.pairwise(legs):
            if a.to_site != b.from_site or a.arrives_s > b.cutoff_s:
                self.add(
                    "journey",
                    f"{where}: job {job.id} cannot change from run {a.id} (arrives {a.to_site} "
                    f"{_hms(a.arrives_s)}) to run {b.id} (leaves {b.from_site}, cut-off "
                    f"{_hms(b.cutoff_s)}).",
                    c,
                    job.id,
                )
        last = legs[-1]
        if last.to_site != job.destination_site:
            self.add(
                "journey",
                f"{where}: job {job.id}'s journey ends at {last.to_site}, but the "
                f"dossier goes to {job.destination_site}.",
                c,
                job.id,
            )
        if reaches is None or abs(reaches - last.arrives_s) > TRAVEL_TOLERANCE_S:
            said = "null" if reaches is None else _hms(reaches)
            self.add(
                "journey",
                f"{where}: job {job.id}'s journey says it reaches {said}, but "
                f"its last run {last.id} arrives {_hms(last.arrives_s)}.",
                c,
                job.id,
            )
        self.warn_if_earlier(c, stop, job, last.arrives_s)

    def warn_if_earlier(self, c: str, stop: _Stop, job: _Job, named: float | None) -> None:
        """Warn when the timetable offered an earlier journey from the hand-off's start."""
        start = stop.at("start")
        if start is None or stop.site is None or job.destination_site is None:
            return
        best = _earliest_arrival(self.timetable, stop.site, start, job.destination_site)
        if best is not None and (named is None or best < named - TRAVEL_TOLERANCE_S):
            said = "no journey today" if named is None else f"a journey reaching {_hms(named)}"
            self.warnings.append(
                Violation(
                    "later_journey",
                    f"Courier {c}'s handoff at stop {stop.index} names {said} for job {job.id}, "
                    f"but from its start {_hms(start)} the runs could bring it to "
                    f"{job.destination_site} by {_hms(best)}.",
                    c,
                    job.id,
                )
            )

    def ready_at_origin(self, job: _Job) -> float | None:
        """When a result is ready at its origin site: its ``ready_at``, or when the runs bring
        it there from its ``ready_site`` (``None``: not today)."""
        if job.ready_s is None or job.ready_site is None or job.ready_site == job.origin_site:
            return job.ready_s
        assert job.origin_site is not None
        return _earliest_arrival(self.timetable, job.ready_site, job.ready_s, job.origin_site)

    def check_breaks(self, courier: _Courier, stops: list[_Stop], done: list[_Stop]) -> None:
        c = courier.id
        placed = [stop for stop in (*done, *stops) if stop.type == "break"]
        used: set[int] = set()
        for wanted in courier.breaks:
            for stop in placed:
                start, depart = stop.at("start"), stop.at("depart")
                if (
                    stop.order not in used
                    and start is not None
                    and depart is not None
                    and start >= wanted.earliest_s
                    and depart <= wanted.latest_s
                    and depart - start >= wanted.duration_s - SERVICE_TOLERANCE_S
                ):
                    used.add(stop.order)
                    break
            else:
                # A break need not be taken if the route leaves room for it before its start
                # or after its end (the courier is off duty then).
                leave, back = (done or stops)[0].at("depart"), stops[-1].at("arrive")
                if leave is None or back is None:
                    continue
                before = wanted.earliest_s + wanted.duration_s <= leave
                after = max(back, wanted.earliest_s) + wanted.duration_s <= wanted.latest_s
                if not (before or after):
                    self.add(
                        "break",
                        f"Courier {c}'s route ({_hms(leave)}–{_hms(back)}) spans its "
                        f"{_minutes(wanted.duration_s)} break due within "
                        f"{_hms(wanted.earliest_s)}–{_hms(wanted.latest_s)}, but takes none.",
                        courier=c,
                    )
        windows = (
            ", ".join(
                f"{_minutes(b.duration_s)} within {_hms(b.earliest_s)}–{_hms(b.latest_s)}"
                for b in courier.breaks
            )
            or "none"
        )
        for stop in placed:
            if stop.order in used or stop.done:
                continue
            start, depart = stop.at("start"), stop.at("depart")
            assert start is not None and depart is not None
            self.add(
                "break",
                f"Courier {c}'s break at {stop.name} ({_hms(start)}–{_hms(depart)}, "
                f"{_minutes(depart - start)}) matches none of its breaks ({windows}).",
                courier=c,
            )

    def check_legs(self, courier: _Courier, route: Mapping[str, Any], stops: list[_Stop]) -> None:
        """Each leg, from one place to the next (a break at a place is one), fits its travel."""
        c = courier.id
        _name_break_places(stops)
        places = [stop for stop in stops if _is_place(stop)]
        legs = self.leg_costs(courier, places)
        total_km: float | None = 0.0
        prev = places[0]
        between: list[_Stop] = []
        leg = 0
        for stop in stops[1:]:
            if not _is_place(stop):
                between.append(stop)
                continue
            cost = legs[leg]
            leg += 1
            chain = [prev, *between, stop]
            leave = prev.at("depart")
            reach = stop.at("arrive")
            order_ok = self.check_chain(c, chain)
            if cost is None:
                self.add(
                    "travel",
                    f"Courier {c} has no travel time from stop {prev.index} ({prev.loc_id}) to "
                    f"stop {stop.index} ({stop.loc_id}) in the request's travel matrix.",
                    courier=c,
                )
                total_km = None
            elif order_ok and leave is not None and reach is not None:
                rest = sum((b.at("depart") or 0.0) - (b.at("start") or 0.0) for b in between)
                need = cost[0] + rest
                if reach - leave < need - TRAVEL_TOLERANCE_S:
                    with_breaks = f" plus {_minutes(rest)} of break" if between else ""
                    self.add(
                        "travel",
                        f"Courier {c} leaves stop {prev.index} ({prev.type}) at {_hms(leave)} "
                        f"and reaches stop {stop.index} ({stop.type}) at {_hms(reach)}: "
                        f"{_minutes(reach - leave)}, but the leg takes {_minutes(cost[0])}"
                        f"{with_breaks}.",
                        courier=c,
                    )
            if total_km is not None and cost is not None:
                if cost[1] is None:
                    total_km = None
                else:
                    total_km += cost[1]
            prev, between = stop, []
        stated = route.get("distance_km")
        if isinstance(stated, bool) or not isinstance(stated, int | float):
            return
        if total_km is not None:
            tolerance = DISTANCE_REL_TOLERANCE * total_km + DISTANCE_LEG_TOLERANCE_KM * len(legs)
            if abs(stated - total_km) > tolerance:
                self.add(
                    "distance",
                    f"Courier {c}'s route states {stated:g} km, but its {len(legs)} legs add "
                    f"up to {total_km:.3f} km.",
                    courier=c,
                )

    def check_chain(self, c: str, chain: list[_Stop]) -> bool:
        """Check that each stop of a leg (and its breaks) begins after the one before departs."""
        order_ok = True
        for p, n in itertools.pairwise(chain):
            out = p.at("depart")
            into = n.at("arrive")
            if into is None and n.type == "break":
                into = n.at("start")
            if out is not None and into is not None and into < out:
                order_ok = False
                self.add(
                    "time_order",
                    f"Courier {c}'s stop {n.index} ({n.type}) begins {_hms(into)}, before "
                    f"stop {p.index} ({p.type}) departs {_hms(out)}.",
                    courier=c,
                )
        return order_ok

    def leg_costs(
        self, courier: _Courier, places: list[_Stop]
    ) -> list[tuple[float, float | None] | None]:
        """Travel (seconds, km) of each leg between consecutive places, None if unknown."""
        pairs = list(itertools.pairwise(places))
        matrix = self.req.matrix
        if matrix is not None:
            out: list[tuple[float, float | None] | None] = []
            for a, b in pairs:
                if a.loc_id is None or b.loc_id is None:
                    # A re-planned route starts where the courier is: a place the matrix (over
                    # sites and jobs) cannot know, so that leg is not judged.
                    out.append((0.0, None))
                    continue
                i = matrix.index.get(a.loc_id)
                j = matrix.index.get(b.loc_id)
                if i is None or j is None:
                    out.append(None)
                    continue
                km = None if matrix.km is None else matrix.km[i][j]
                out.append((matrix.minutes[i][j] * 60, km))
            return out
        # One matrix over the route's distinct places: two stops at one place are 0 apart.
        points: list[LatLon] = []
        slot: dict[tuple[float, float], int] = {}
        for stop in places:
            assert stop.point is not None
            key = stop.point.as_latlon()
            if key not in slot:
                slot[key] = len(points)
                points.append(stop.point)
        if len(points) < 2:
            return [(0.0, 0.0) for _ in pairs]
        model = self.travel
        if model is None:
            model = GreatCircleTravel()
        try:
            found = model.matrix(points, courier.mode)
        except ValueError as exc:
            msg = f"request.couriers[{courier.id}].mode: {exc}"
            raise ValueError(msg) from None
        result: list[tuple[float, float | None] | None] = []
        for a, b in pairs:
            assert a.point is not None and b.point is not None
            i, j = slot[a.point.as_latlon()], slot[b.point.as_latlon()]
            result.append((float(found.seconds[i, j]), float(found.metres[i, j]) / 1000))
        return result


def _name_break_places(stops: list[_Stop]) -> None:
    """Name each break taken at a home after the stop before or after it at the same point.

    A travel matrix knows homes by job id, and a break says only ``lat``/``lon``: it is taken
    where the courier is, at the place of the stop before it or of the one after it. A break at
    another point is taken by the way (the courier rests part-way along the leg): the leg is
    then judged from the stop before to the stop after, the break's time included.
    """
    for i, stop in enumerate(stops):
        if stop.type != "break" or stop.site is not None or stop.point is None:
            continue
        before = next((o for o in reversed(stops[:i]) if o.type != "break"), None)
        after = next((o for o in stops[i + 1 :] if o.type != "break"), None)
        stop.on_way = True
        for other in (before, after):
            if other is not None and other.point is not None and other.point == stop.point:
                stop.loc_id, stop.on_way = other.loc_id, False
                break


def check_plan(
    request: Mapping[str, Any],
    plan: Mapping[str, Any],
    *,
    travel: TravelModel | None = None,
    warnings: list[Violation] | None = None,
) -> list[Violation]:
    """List every promise a plan breaks, checked against its request.

    Parameters
    ----------
    request
        The plan request as JSON (DESIGN §4 with the agreed extensions).
    plan
        The plan as JSON (DESIGN §4): ``routes`` with typed stops, ``unassigned``, ``kpis``.
    travel
        The travel model for legs when the request carries no ``travel`` matrix; by default
        ``geo.travel.GreatCircleTravel`` for each courier's mode. A request's own matrix
        (minutes and km over site and job ids) always wins.
    warnings
        If given, doubtful points that break no promise are appended to it (codes in
        :data:`WARNINGS`, e.g. a hand-off whose journey is later than the earliest one).

    Returns
    -------
    list of Violation
        Every broken promise, in the order found; empty when the plan keeps them all. Codes
        are listed in :data:`CODES`.

    Raises
    ------
    ValueError
        If the request itself cannot be read (the message names the field), since a plan
        cannot be checked against it.
    """
    req = _read_request(request)
    return [*_Checker(req, plan, travel, warnings).run(), *_broken_locks(request, plan)]


def _broken_locks(request: Mapping[str, Any], plan: Mapping[str, Any]) -> list[Violation]:
    """Each job locked to a courier in the request but served on another courier's stops.

    A locked job may still be unassigned (its courier cannot make it); done stops of a re-plan
    are history and are not judged.
    """
    jobs = request.get("jobs")
    locks = {
        str(job["id"]): job["courier"]
        for job in (jobs if isinstance(jobs, list) else [])
        if isinstance(job, Mapping) and job.get("courier") is not None and "id" in job
    }
    routes = plan.get("routes") if isinstance(plan, Mapping) else None
    out: list[Violation] = []
    for route in routes if isinstance(routes, list) else []:
        if not isinstance(route, Mapping) or not isinstance(route.get("stops"), list):
            continue
        courier = route.get("courier")
        served: list[str] = []
        for stop in route["stops"]:
            if isinstance(stop, Mapping):
                served.extend(str(j) for j in [stop.get("job"), *(stop.get("jobs") or [])] if j)
        for job in dict.fromkeys(served):
            if job in locks and locks[job] != courier:
                out.append(
                    Violation(
                        "lock",
                        f"Job {job} is locked to courier {locks[job]} but courier {courier}'s "
                        "route serves it.",
                        courier=str(courier),
                        job=job,
                    )
                )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Check a plan file against its request file and print the violations.

    Parameters
    ----------
    argv
        Command-line arguments: ``REQUEST.json PLAN.json``.

    Returns
    -------
    int
        0 when the plan keeps every promise, 1 when it breaks any, 2 when a file is unreadable.
    """
    parser = argparse.ArgumentParser(
        prog="python -m routing.checker",
        description="Check a buuta plan against its request and list every broken promise.",
    )
    parser.add_argument("request", type=Path, help="the plan request (JSON)")
    parser.add_argument("plan", type=Path, help="the plan (JSON)")
    args = parser.parse_args(argv)
    documents = []
    for path in (args.request, args.plan):
        try:
            documents.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            print(f"cannot read {path}: {exc}", file=sys.stderr)
            return 2
    warnings: list[Violation] = []
    try:
        violations = check_plan(documents[0], documents[1], warnings=warnings)
    except ValueError as exc:
        print(f"cannot check against {args.request}: {exc}", file=sys.stderr)
        return 2
    for violation in violations:
        print(violation)
    for warning in warnings:
        print(f"warning: {warning}")
    print(f"{len(violations)} violation(s)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
