"""The plan of a day as frozen, typed data, and its JSON (DESIGN §4) written and read in one place.

A :class:`Plan` is what the optimizer answers (:func:`routing.plan_request`) and what
re-planning, tracking, the maps and the pages read: routes of typed :class:`Stop` objects (one
:data:`StopKind` per stop type), the :class:`Unassigned` jobs with their reasons, the
:class:`Kpis`, and, on a re-plan, the stops already ``done``, the :class:`Change` list,
``replanned_at`` and ``previous_plan_id``.

:func:`plan_to_json` is the one writer of the plan JSON and :func:`plan_from_json` the one
reader (plans stored in the database, plans posted back for re-planning). The JSON does not
change by a byte through them: keys are written in the optimizer's order, numbers keep their
JSON type, and keys this model does not know are kept in ``extra`` and written after the known
ones. Times are aware datetimes; plans written by buuta carry them in Vietnam's time zone.

The independent checker (:mod:`routing.checker`) reads the JSON itself, on purpose.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, get_args

from geo.coords import LatLon, parse_latlon
from routing.clock import parse_day_time

StopKind = Literal["start", "pickup", "handoff", "collect", "delivery", "break", "end"]
"""The type of a stop: the courier's start and end, the four hand-overs of a dossier, a break."""

STOP_KINDS: tuple[StopKind, ...] = get_args(StopKind)
JOB_STOPS = frozenset({"pickup", "delivery"})
"""Stops at a citizen's home, for one job."""
SITE_STOPS = frozenset({"handoff", "collect"})
"""Stops at a site, for one or more jobs."""


class PlanError(ValueError):
    """A plan (JSON) that cannot be read; the message starts with the field at fault."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedJourney:
    """The runs a dossier handed over rides to its destination, and when it reaches it.

    Parameters
    ----------
    runs
        Shuttle run ids in the order they are ridden, the hand-off's ``shuttle`` first; empty
        when no journey reaches the destination today.
    reaches
        Arrival at the destination by the last run (``None``: not today).
    """

    runs: tuple[str, ...] = ()
    reaches: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Stop:
    """One stop of a route.

    Parameters
    ----------
    kind
        The stop type (:data:`StopKind`).
    site
        The site of a start, end, hand-off, collect (or a break taken there).
    point
        The place of a pickup or delivery (the home), or of a start or break away from a site.
        A break says where the courier rests (``site`` or ``point``, the place of the stop
        before it or after it) and when it gets there (``arrive``); plans written before
        breaks had a place say neither.
    job, dossier
        The job id and dossier code of a pickup or delivery.
    jobs
        The job ids handed over (``handoff``) or collected (``collect``) at a site stop.
    shuttle
        For a hand-off: the first shuttle run its dossiers catch (``None``: no run today).
    journeys
        For a hand-off of dossiers bound for a shuttle: each job's :class:`PlannedJourney` to its
        destination (``None`` on other stops and on plans written before journeys).
    late
        Re-planning: a delivery in hand whose window can no longer be met, a hand-off of
        dossiers in hand after the site closes, or an end reached after the courier's shift
        (a courier bringing the dossiers in its bag home).
    arrive, start, depart
        Arrival, service start (after any wait) and departure; a break's ``start`` is when it
        begins. Absent times are ``None``.
    load
        Dossiers on board after the stop (``None`` for breaks and the end).
    extra
        JSON keys this model does not know, kept as they were.
    """

    kind: StopKind
    site: str | None = None
    point: LatLon | None = None
    job: str | None = None
    dossier: str | None = None
    jobs: tuple[str, ...] = ()
    shuttle: str | None = None
    journeys: Mapping[str, PlannedJourney] | None = None
    late: bool = False
    arrive: datetime | None = None
    start: datetime | None = None
    depart: datetime | None = None
    load: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def job_ids(self) -> tuple[str, ...]:
        """The jobs this stop serves: its ``job``, or the ``jobs`` of a site stop."""
        return (self.job,) if self.job is not None else self.jobs

    @property
    def begins(self) -> datetime | None:
        """When service begins: ``start``, else ``arrive``."""
        return self.start or self.arrive


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """The day of one courier.

    Parameters
    ----------
    courier
        The courier id of the request.
    stops
        The stops still to make, in order (from ``start`` to ``end``).
    distance_km
        Distance travelled over ``stops``, in kilometres.
    mode
        The courier's travel mode (``motorbike``, ``boat``, ``car``).
    duration_min
        Minutes from the start's departure to the arrival at the end.
    idle_min
        Minutes the courier waits between its stops (for a window to open, a result to be
        ready): the route's time not spent riding, serving or on a break (``None`` on plans
        written before it was reported).
    done
        On a re-plan: the stops of the previous plan already done, exactly as they were
        (``None`` on a plan that is not a re-plan).
    extra
        JSON keys this model does not know, kept as they were.
    """

    courier: str
    stops: tuple[Stop, ...]
    distance_km: float
    mode: str | None = None
    duration_min: float | None = None
    done: tuple[Stop, ...] | None = None
    idle_min: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def job_ids(self) -> Iterator[str]:
        """Every job id served on the route's remaining stops, in stop order (with repeats)."""
        for stop in self.stops:
            yield from stop.job_ids


@dataclass(frozen=True, slots=True, kw_only=True)
class Unassigned:
    """A job left out of every route, with a reason a dispatcher understands.

    Parameters
    ----------
    job
        The job id.
    reason
        A stable code (``window_unreachable``, ``no_time``, ``cancelled``, …).
    detail
        A sentence naming the window, shift, capacity or run at fault.
    """

    job: str
    reason: str
    detail: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SolverFigures:
    """How the search went: its status, best cost, seconds and solutions found.

    ``districts`` is the number of district plans merged into the plan (``None`` for one solve).
    """

    status: str
    cost: int
    seconds: float
    solutions: int
    districts: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class IdleWhileUnserved:
    """A courier with hours free in its shift while jobs of its district went unserved.

    The search failed to use it (or no order of the jobs fits its free time): a sign to plan
    again with more time, or to look at the jobs' windows.

    Parameters
    ----------
    courier
        The courier id.
    free_min
        Minutes of its shift not spent riding, serving or on a break (waits between stops, and
        the shift before it leaves and after it is back).
    unserved
        Jobs of its district left unassigned for ``no_time``.
    """

    courier: str
    free_min: float
    unserved: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Kpis:
    """The plan's figures; a figure absent from a stored plan is ``None``.

    Parameters
    ----------
    jobs, served, unassigned
        Jobs to plan, served, and left unassigned.
    unassigned_by_reason
        Unassigned jobs counted by reason.
    distance_km, duration_min
        Total distance (kilometres) and route time (minutes) of all routes.
    couriers_used
        Routes in the plan.
    runs_caught, runs_missed
        Dossiers handed over in time for a shuttle run today, and those that catch none.
    reaching_today
        Dossiers handed over for a shuttle whose journey reaches their destination today.
    idle_min
        Minutes all couriers wait between their stops (the sum of the routes' ``idle_min``).
    idle_while_unserved
        Couriers free for :data:`routing.idle.IDLE_WARN_MIN` minutes or more of their shift
        while jobs of their district went unassigned for ``no_time`` (a search failure).
    solver
        How the search went.
    """

    jobs: int | None = None
    served: int | None = None
    unassigned: int | None = None
    unassigned_by_reason: Mapping[str, int] | None = None
    distance_km: float | None = None
    duration_min: float | None = None
    couriers_used: int | None = None
    runs_caught: int | None = None
    runs_missed: int | None = None
    reaching_today: int | None = None
    idle_min: float | None = None
    idle_while_unserved: tuple[IdleWhileUnserved, ...] | None = None
    solver: SolverFigures | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """What a re-plan changed for one job.

    ``change`` is ``moved``, ``added``, ``cancelled``, ``dropped``, ``assigned`` or ``late``;
    ``before`` and ``after`` are the courier ids before and after (``None``: unassigned).
    """

    job: str
    before: str | None
    after: str | None
    change: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """A day's plan (DESIGN §4).

    Parameters
    ----------
    plan_id
        A new id for every plan.
    date
        The plan's day (local time).
    status
        ``complete`` (every job served) or ``partial``.
    routes
        One route per courier used.
    unassigned
        Jobs in no route, each with its reason.
    kpis
        The figures (``None`` for a stored plan that had none).
    changes, replanned_at, previous_plan_id
        On a re-plan (``replanned_at`` set, as given: ``"HH:MM"`` or ISO): what changed, when,
        and the plan replaced.
    extra
        JSON keys this model does not know, kept as they were.
    """

    plan_id: str
    date: date
    status: str
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    kpis: Kpis | None = None
    changes: tuple[Change, ...] = ()
    replanned_at: str | None = None
    previous_plan_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def route_of(self, courier: str) -> Route | None:
        """Return the route of a courier, or ``None`` when it has none."""
        return next((r for r in self.routes if r.courier == courier), None)

    def job_couriers(self) -> dict[str, str]:
        """Return job id → courier id for every job on the remaining stops of a route."""
        out: dict[str, str] = {}
        for route in self.routes:
            for job in route.job_ids:
                out.setdefault(job, route.courier)
        return out

    def to_json(self) -> dict[str, Any]:
        """Return the plan JSON of DESIGN §4 (see :func:`plan_to_json`)."""
        return plan_to_json(self)

    @classmethod
    def from_json(cls, data: object, *, where: str = "plan") -> Plan:
        """Read a plan from its JSON (see :func:`plan_from_json`)."""
        return plan_from_json(data, where=where)


# --------------------------------------------------------------------------- writing the JSON

# The order of a stop's keys after ``type``, as the optimizer has always written them.
_STOP_KEYS: dict[str, tuple[str, ...]] = {
    "start": ("arrive", "depart", "load", "site", "point"),
    "pickup": ("job", "dossier", "point", "late", "arrive", "start", "depart", "load"),
    "delivery": ("job", "dossier", "point", "late", "arrive", "start", "depart", "load"),
    "handoff": ("site", "jobs", "shuttle", "journeys", "late", "arrive", "start", "depart", "load"),
    "collect": ("site", "jobs", "arrive", "start", "depart", "load"),
    "break": ("site", "point", "arrive", "start", "depart", "load"),
    "end": ("site", "point", "late", "arrive", "start", "depart", "load"),
}
_STOP_FIELDS = frozenset({"type", "lat", "lon", *(k for ks in _STOP_KEYS.values() for k in ks)})


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def stop_to_json(stop: Stop) -> dict[str, Any]:
    """Return the JSON object of one stop (DESIGN §4)."""
    out: dict[str, Any] = {"type": stop.kind}
    for key in _STOP_KEYS[stop.kind]:
        if key == "point":
            if stop.point is not None:
                out |= {"lat": stop.point.lat, "lon": stop.point.lon}
        elif key == "jobs":
            out["jobs"] = list(stop.jobs)
        elif key == "late":
            if stop.late:
                out["late"] = True
        elif key == "shuttle":
            out["shuttle"] = stop.shuttle  # a hand-off always says its run, null for none
        elif key == "journeys":
            if stop.journeys is not None:
                out["journeys"] = {
                    job: {"runs": list(j.runs), "reaches": _time(j.reaches)}
                    for job, j in stop.journeys.items()
                }
        elif key in ("arrive", "start", "depart"):
            if (moment := _time(getattr(stop, key))) is not None:
                out[key] = moment
        elif (value := getattr(stop, key)) is not None:
            out[key] = value
    return out | dict(stop.extra)


def _route_to_json(route: Route) -> dict[str, Any]:
    out: dict[str, Any] = {"courier": route.courier}
    if route.mode is not None:
        out["mode"] = route.mode
    out["distance_km"] = route.distance_km
    if route.duration_min is not None:
        out["duration_min"] = route.duration_min
    if route.idle_min is not None:
        out["idle_min"] = route.idle_min
    out["stops"] = [stop_to_json(s) for s in route.stops]
    if route.done is not None:
        out["done"] = [stop_to_json(s) for s in route.done]
    return out | dict(route.extra)


def _kpis_to_json(kpis: Kpis) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in (
        "jobs",
        "served",
        "unassigned",
        "unassigned_by_reason",
        "distance_km",
        "duration_min",
        "couriers_used",
        "runs_caught",
        "runs_missed",
        "reaching_today",
        "idle_min",
    ):
        value = getattr(kpis, name)
        if value is not None:
            out[name] = dict(value) if isinstance(value, Mapping) else value
    if kpis.idle_while_unserved is not None:
        out["idle_while_unserved"] = [
            {"courier": w.courier, "free_min": w.free_min, "unserved": w.unserved}
            for w in kpis.idle_while_unserved
        ]
    if kpis.solver is not None:
        figures = kpis.solver
        out["solver"] = {
            "status": figures.status,
            "cost": figures.cost,
            "seconds": figures.seconds,
            "solutions": figures.solutions,
        }
        if figures.districts is not None:
            out["solver"]["districts"] = figures.districts
        out["solver"] |= dict(figures.extra)
    return out | dict(kpis.extra)


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """Write a plan as the JSON of DESIGN §4: the one writer of plans.

    Parameters
    ----------
    plan
        The plan.

    Returns
    -------
    dict
        Plain JSON data (``json.dumps`` writes it as the optimizer always has).
    """
    out: dict[str, Any] = {
        "plan_id": plan.plan_id,
        "date": plan.date.isoformat(),
        "status": plan.status,
        "routes": [_route_to_json(r) for r in plan.routes],
        "unassigned": [
            {"job": u.job, "reason": u.reason, "detail": u.detail} | dict(u.extra)
            for u in plan.unassigned
        ],
    }
    if plan.kpis is not None:
        out["kpis"] = _kpis_to_json(plan.kpis)
    if plan.replanned_at is not None or plan.previous_plan_id is not None:
        # A re-plan, or a plan adjusted by hand (moves, locks, re-optimising: no replanned_at).
        out["changes"] = [
            {"job": c.job, "from": c.before, "to": c.after, "change": c.change}
            for c in plan.changes
        ]
        if plan.replanned_at is not None:
            out["replanned_at"] = plan.replanned_at
        out["previous_plan_id"] = plan.previous_plan_id
    return out | dict(plan.extra)


# --------------------------------------------------------------------------- reading the JSON


def _fail(where: str, message: str) -> PlanError:
    return PlanError(f"{where}: {message}")


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, f"expected an object, got {type(value).__name__}.")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise _fail(where, f"expected a list, got {type(value).__name__}.")
    return list(value)


def _text(value: object, where: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise _fail(where, f"expected a non-empty text, got {value!r}.")
    return value


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(where, f"expected a number, got {value!r}.")
    return value  # ints stay ints, so the JSON is written back as it was


def _whole(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, f"expected a whole number, got {value!r}.")
    return value


def _moment(value: object, day: date, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(where, f"expected a time, got {value!r}.")
    parsed = parse_day_time(day, value.strip())
    if parsed is None:
        naive = "T" in value and not value.rstrip().endswith(("Z", "z"))
        why = "has no UTC offset (write e.g. +07:00)" if naive else "is not an ISO 8601 time"
        raise _fail(where, f"{value!r} {why}.")
    return parsed


def _read_stop(data: object, day: date, where: str) -> Stop:
    obj = _object(data, where)
    kind = obj.get("type")
    if kind not in STOP_KINDS:
        raise _fail(f"{where}.type", f"expected one of {', '.join(STOP_KINDS)}, got {kind!r}.")
    point = None
    if obj.get("lat") is not None or obj.get("lon") is not None:
        try:
            point = parse_latlon(obj.get("lat"), obj.get("lon"), where=where)
        except ValueError as exc:
            raise PlanError(str(exc)) from None
    jobs = tuple(_text(j, f"{where}.jobs[{i}]") or "" for i, j in enumerate(obj.get("jobs") or ()))
    journeys = obj.get("journeys")
    load = obj.get("load")
    late = obj.get("late", False)
    if not isinstance(late, bool):
        raise _fail(f"{where}.late", f"expected true or false, got {late!r}.")
    return Stop(
        kind=kind,
        site=_text(obj.get("site"), f"{where}.site", optional=True),
        point=point,
        job=_text(obj.get("job"), f"{where}.job", optional=True),
        dossier=_text(obj.get("dossier"), f"{where}.dossier", optional=True),
        jobs=jobs,
        shuttle=_text(obj.get("shuttle"), f"{where}.shuttle", optional=True),
        journeys=None if journeys is None else _read_journeys(journeys, day, f"{where}.journeys"),
        late=late,
        arrive=_moment(obj.get("arrive"), day, f"{where}.arrive"),
        start=_moment(obj.get("start"), day, f"{where}.start"),
        depart=_moment(obj.get("depart"), day, f"{where}.depart"),
        load=None if load is None else _whole(load, f"{where}.load"),
        extra={k: v for k, v in obj.items() if k not in _STOP_FIELDS},
    )


def _read_journeys(data: object, day: date, where: str) -> dict[str, PlannedJourney]:
    out: dict[str, PlannedJourney] = {}
    for job, raw in _object(data, where).items():
        obj = _object(raw, f"{where}.{job}")
        runs = _list(obj.get("runs", []), f"{where}.{job}.runs")
        out[str(job)] = PlannedJourney(
            runs=tuple(_text(r, f"{where}.{job}.runs[{i}]") or "" for i, r in enumerate(runs)),
            reaches=_moment(obj.get("reaches"), day, f"{where}.{job}.reaches"),
        )
    return out


def _read_stops(data: object, day: date, where: str) -> tuple[Stop, ...]:
    return tuple(_read_stop(s, day, f"{where}[{i}]") for i, s in enumerate(_list(data, where)))


_ROUTE_FIELDS = frozenset(
    {"courier", "mode", "distance_km", "duration_min", "idle_min", "stops", "done"}
)


def _read_route(data: object, day: date, where: str) -> Route:
    obj = _object(data, where)
    duration = obj.get("duration_min")
    idle = obj.get("idle_min")
    done = obj.get("done")
    return Route(
        courier=_text(obj.get("courier"), f"{where}.courier") or "",
        mode=_text(obj.get("mode"), f"{where}.mode", optional=True),
        distance_km=_number(obj.get("distance_km", 0.0), f"{where}.distance_km"),
        duration_min=None if duration is None else _number(duration, f"{where}.duration_min"),
        stops=_read_stops(obj.get("stops", []), day, f"{where}.stops"),
        done=None if done is None else _read_stops(done, day, f"{where}.done"),
        idle_min=None if idle is None else _number(idle, f"{where}.idle_min"),
        extra={k: v for k, v in obj.items() if k not in _ROUTE_FIELDS},
    )


def _read_unassigned(data: object, where: str) -> Unassigned:
    obj = _object(data, where)
    return Unassigned(
        job=_text(obj.get("job"), f"{where}.job") or "",
        reason=_text(obj.get("reason"), f"{where}.reason") or "",
        detail=str(obj.get("detail") or ""),
        extra={k: v for k, v in obj.items() if k not in ("job", "reason", "detail")},
    )


_KPI_WHOLE = (
    "jobs",
    "served",
    "unassigned",
    "couriers_used",
    "runs_caught",
    "runs_missed",
    "reaching_today",
)
_SOLVER_FIELDS = ("status", "cost", "seconds", "solutions", "districts")


def _read_solver(data: object, where: str) -> SolverFigures:
    obj = _object(data, where)
    districts = obj.get("districts")
    return SolverFigures(
        status=str(obj.get("status", "")),
        cost=_whole(obj.get("cost", 0), f"{where}.cost"),
        seconds=_number(obj.get("seconds", 0.0), f"{where}.seconds"),
        solutions=_whole(obj.get("solutions", 0), f"{where}.solutions"),
        districts=None if districts is None else _whole(districts, f"{where}.districts"),
        extra={k: v for k, v in obj.items() if k not in _SOLVER_FIELDS},
    )


def _read_idle_while_unserved(data: object, where: str) -> tuple[IdleWhileUnserved, ...]:
    out = []
    for i, item in enumerate(_list(data, where)):
        obj = _object(item, f"{where}[{i}]")
        out.append(
            IdleWhileUnserved(
                courier=_text(obj.get("courier"), f"{where}[{i}].courier") or "",
                free_min=_number(obj.get("free_min"), f"{where}[{i}].free_min"),
                unserved=_whole(obj.get("unserved"), f"{where}[{i}].unserved"),
            )
        )
    return tuple(out)


def _read_kpis(data: object, where: str) -> Kpis:
    obj = _object(data, where)

    def whole(key: str) -> int | None:
        value = obj.get(key)
        return None if value is None else _whole(value, f"{where}.{key}")

    def real(key: str) -> float | None:
        value = obj.get(key)
        return None if value is None else _number(value, f"{where}.{key}")

    by_reason = obj.get("unassigned_by_reason")
    if by_reason is not None:
        by_reason = {
            str(k): _whole(v, f"{where}.unassigned_by_reason.{k}")
            for k, v in _object(by_reason, f"{where}.unassigned_by_reason").items()
        }
    solver = obj.get("solver")
    idle_warn = obj.get("idle_while_unserved")
    known = {*_KPI_WHOLE, "distance_km", "duration_min", "unassigned_by_reason", "solver"}
    known |= {"idle_min", "idle_while_unserved"}
    return Kpis(
        jobs=whole("jobs"),
        served=whole("served"),
        unassigned=whole("unassigned"),
        unassigned_by_reason=by_reason,
        distance_km=real("distance_km"),
        duration_min=real("duration_min"),
        couriers_used=whole("couriers_used"),
        runs_caught=whole("runs_caught"),
        runs_missed=whole("runs_missed"),
        reaching_today=whole("reaching_today"),
        idle_min=real("idle_min"),
        idle_while_unserved=(
            None
            if idle_warn is None
            else _read_idle_while_unserved(idle_warn, f"{where}.idle_while_unserved")
        ),
        solver=None if solver is None else _read_solver(solver, f"{where}.solver"),
        extra={k: v for k, v in obj.items() if k not in known},
    )


def _read_change(data: object, where: str) -> Change:
    obj = _object(data, where)
    return Change(
        job=_text(obj.get("job"), f"{where}.job") or "",
        before=_text(obj.get("from"), f"{where}.from", optional=True),
        after=_text(obj.get("to"), f"{where}.to", optional=True),
        change=_text(obj.get("change"), f"{where}.change") or "",
    )


def _read_day(value: object, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _fail(where, f"{value!r} is not a date (YYYY-MM-DD).") from None


_PLAN_FIELDS = frozenset(
    {"plan_id", "date", "status", "routes", "unassigned", "kpis", "changes"}
    | {"replanned_at", "previous_plan_id"}
)


def plan_from_json(data: object, *, where: str = "plan") -> Plan:
    """Read a plan from the JSON of DESIGN §4: the one reader of plans.

    Times may be ISO 8601 with an offset or ``"HH:MM"`` on the plan's date (Vietnam time).

    Parameters
    ----------
    data
        The plan JSON, as :func:`plan_to_json` wrote it (a stored plan, a posted plan).
    where
        How the plan is named in errors.

    Returns
    -------
    Plan
        The typed plan; :func:`plan_to_json` writes it back to the same JSON.

    Raises
    ------
    PlanError
        If the data is not a plan; the message names the field, e.g.
        ``plan.routes[0].stops[2].start: '8h' is not an ISO 8601 time.``
    """
    obj = _object(data, where)
    day = _read_day(obj.get("date"), f"{where}.date")
    routes = _list(obj.get("routes", []), f"{where}.routes")
    unassigned = _list(obj.get("unassigned", []), f"{where}.unassigned")
    kpis = obj.get("kpis")
    replanned_at = obj.get("replanned_at")
    return Plan(
        plan_id=str(obj.get("plan_id", "")),
        date=day,
        status=str(obj.get("status") or "complete"),
        routes=tuple(_read_route(r, day, f"{where}.routes[{i}]") for i, r in enumerate(routes)),
        unassigned=tuple(
            _read_unassigned(u, f"{where}.unassigned[{i}]") for i, u in enumerate(unassigned)
        ),
        kpis=None if kpis is None else _read_kpis(kpis, f"{where}.kpis"),
        changes=tuple(
            _read_change(c, f"{where}.changes[{i}]")
            for i, c in enumerate(_list(obj.get("changes", []), f"{where}.changes"))
        ),
        replanned_at=None if replanned_at is None else str(replanned_at),
        previous_plan_id=_text(
            obj.get("previous_plan_id"), f"{where}.previous_plan_id", optional=True
        ),
        extra={k: v for k, v in obj.items() if k not in _PLAN_FIELDS},
    )


__all__ = [
    "JOB_STOPS",
    "SITE_STOPS",
    "STOP_KINDS",
    "Change",
    "IdleWhileUnserved",
    "Kpis",
    "Plan",
    "PlanError",
    "PlannedJourney",
    "Route",
    "SolverFigures",
    "Stop",
    "StopKind",
    "Unassigned",
    "plan_from_json",
    "plan_to_json",
    "stop_to_json",
]
